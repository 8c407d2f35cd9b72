"""The project is MIT: nothing it needs at run time may be GPL/AGPL (issue 12.5).

Walks the runtime dependency closure from pyproject.toml's ``[project] dependencies``
through the installed distributions' own requirements (extras not asked for, and markers
that do not apply here, are skipped) and reads each one's licence metadata. LGPL is allowed
(used as an ordinary dynamically imported library); GPL and AGPL are not.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# GPL or AGPL, not preceded by L (LGPL); "GNU General Public" not followed by Lesser/Library.
COPYLEFT = re.compile(r"(?<!L)\bA?GPL|GNU (Affero )?General Public", re.IGNORECASE)


def _closure() -> dict[str, metadata.Distribution]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [(Requirement(r), ()) for r in project["dependencies"]]
    found: dict[str, metadata.Distribution] = {}
    while todo:
        requirement, extras = todo.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": e}) for e in (extras or ("",))
        ):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in found:
            continue
        dist = metadata.distribution(requirement.name)
        found[name] = dist
        for child in dist.requires or []:
            todo.append((Requirement(child), tuple(requirement.extras)))
    return found


def _licence(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    parts = [meta.get("License-Expression") or "", (meta.get("License") or "").split("\n")[0]]
    parts += [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return " ; ".join(p for p in parts if p)


def _copyleft(text: str) -> bool:
    return any(
        COPYLEFT.search(part) and not re.search(r"Lesser|Library|LGPL", part)
        for part in text.split(" ; ")
    )


def test_no_runtime_dependency_is_gpl():
    closure = _closure()
    assert "dagster" in closure and "pyarrow" in closure  # the walk found the tree
    offending = {name: _licence(d) for name, d in closure.items() if _copyleft(_licence(d))}
    assert offending == {}


def test_the_rule_catches_gpl_and_lets_lgpl_through():
    assert _copyleft("GPL-3.0-or-later")
    assert _copyleft("License :: OSI Approved :: GNU General Public License v3 (GPLv3)")
    assert _copyleft("AGPL-3.0")
    assert not _copyleft("LGPL-2.1-or-later")
    assert not _copyleft(
        "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)"
    )
    assert not _copyleft("MIT ; License :: OSI Approved :: Apache Software License")
