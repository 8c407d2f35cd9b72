"""The import contracts (``.importlinter``) hold, and they notice a violation.

``make test`` runs ``lint-imports`` on the tree; these tests prove the contracts are not
vacuous: a copy of the package with one forbidden import breaks the contract named.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(PROJECT / ".importlinter"), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=package_parent,
    )


def test_the_tree_keeps_every_contract():
    result = _lint(PROJECT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("collection/bad_probe.py", "import dagster\n", "Domain logic never imports Dagster"),
        (
            "backups/bad_probe.py",
            "from observatory_pipelines.resources import postgres\n",
            "Domain logic never imports Dagster",
        ),
        (
            "arenas/bad_probe.py",
            "from observatory_pipelines.collection import ingest\n",
            "Layers flow downward",
        ),
        (
            "analysis/bad_probe.py",
            "from observatory_pipelines.collection.assets import collected_content\n",
            "Only definitions.py imports a domain's Dagster edge",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, source, contract):
    copy = tmp_path / "observatory_pipelines"
    shutil.copytree(
        PROJECT / "observatory_pipelines",
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "dbt_like_sql"),
    )
    (copy / module).write_text(source)
    result = _lint(tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), result.stdout[-3000:]
    assert "bad_probe" in broken  # the copy was linted, and the probe is what broke it
