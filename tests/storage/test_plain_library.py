"""The object-store library is plain Python: importing it (or the plain code that stores
objects) never loads Dagster, and the Dagster resource is a thin wrapper over it."""

from __future__ import annotations

import subprocess
import sys

import pytest

PLAIN_IMPORTERS = [
    "observatory_pipelines.storage.object_store",
    "observatory_pipelines.storage.folder_store",
    "observatory_pipelines.storage.minio_store",
    "observatory_pipelines.storage.config",
    "observatory_pipelines.storage.cli",
    "observatory_pipelines.backups.backup",
    "observatory_pipelines.backups.catalog",
    "observatory_pipelines.backups.drill",
    "observatory_pipelines.collection.sources",
]


@pytest.mark.parametrize("module", PLAIN_IMPORTERS)
def test_importing_plain_object_store_code_never_loads_dagster(module):
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "loaded = sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')); "
        "print(len(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "0", f"{module} loads dagster"


def test_plain_config_and_resource_reach_the_same_objects(tmp_path):
    from observatory_pipelines.resources.object_store import ObjectStoreResource
    from observatory_pipelines.storage.config import ObjectStoreConfig

    config = ObjectStoreConfig(local_dir=str(tmp_path), outputs_bucket="plain-outputs")
    config.outputs().put("a/b.txt", b"written by plain code")
    resource = ObjectStoreResource(local_dir=str(tmp_path), outputs_bucket="plain-outputs")
    assert resource.outputs().get_bytes("a/b.txt") == b"written by plain code"
    assert resource.describe() == config.describe() == tmp_path.as_uri()


def test_operator_cli_runs_as_a_module(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "OBJECT_STORE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "observatory_pipelines.storage.cli", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
