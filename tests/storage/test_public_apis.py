"""The project uses only public APIs of its dependencies (issue 12.17): a private name of a
library (``client._upload_part``, ``from dagster._core ...``) can change in any patch release."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "observatory_pipelines"
# Underscore names that the libraries document as public (named so to avoid field clashes).
DOCUMENTED_PUBLIC = {
    "_mapping",  # sqlalchemy Row._mapping
    "_replace",  # namedtuple._replace (urllib.parse results)
    "_asdict",  # namedtuple._asdict
    "_fields",  # namedtuple._fields
}


# Dagster has no public API for writing a run launcher: dagster-docker and dagster-k8s (the
# launchers of compose and Helm) subclass the same dagster._core names. Dagster is pinned to
# one exact version in pyproject (and the launcher is exercised by the end-to-end test), so
# a change there fails tests/deploy, not production. Nothing else may do this.
PLUGIN_MODULES = {"observatory_pipelines/resources/process_run_launcher.py"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_private_names_of_dependencies():
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}
    own: set[str] = set()  # every name the project itself defines may be private
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
    found = []
    for path, tree in trees.items():
        where = path.relative_to(PACKAGE.parent)
        if str(where) in PLUGIN_MODULES:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                if _private(node.attr) and node.attr not in own | DOCUMENTED_PUBLIC:
                    found.append(f"{where}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if not node.module.startswith("observatory_pipelines"):
                    parts = node.module.split(".") + [alias.name for alias in node.names]
                    if any(_private(part) for part in parts):
                        found.append(f"{where}:{node.lineno} from {node.module} import ...")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"{where}:{node.lineno} import {alias.name}")
    assert found == []
