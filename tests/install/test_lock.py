"""requirements.lock pins every package the project installs, agrees with pyproject.toml,
and is what this venv runs (issue 12.17): a fresh machine gets the versions the tests saw.

After changing dependencies in pyproject.toml: ``make lock`` (then ``make`` reinstalls).
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sysconfig
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parents[2]
LOCK = PROJECT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if match := _PIN.match(line):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(text) for text in project["dependencies"] + extras.get("dev", [])]


def _applies(requirement: Requirement, extra: str = "") -> bool:
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({**default_environment(), "extra": extra})


def test_every_pyproject_requirement_is_pinned_to_a_version_it_allows():
    pins = _pins()
    problems = []
    for requirement in _project_requirements():
        if not _applies(requirement):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement} is not in requirements.lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement} does not allow the locked {pinned}")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_the_lock_pins_every_transitive_dependency():
    """Walk the installed metadata from pyproject's requirements: every package reached is
    pinned, so nothing is left for the resolver to pick on a fresh machine."""
    pins = _pins()
    missing: set[str] = set()
    seen: set[tuple[str, str]] = set()
    todo = [(r, "") for r in _project_requirements()]
    while todo:
        requirement, via_extra = todo.pop()
        if not _applies(requirement, via_extra):
            continue
        name = canonicalize_name(requirement.name)
        for extra in [""] + sorted(requirement.extras):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            if name not in pins:
                missing.add(name)
                continue
            for text in metadata.requires(name) or []:
                todo.append((Requirement(text), extra))
    assert missing == set()


def test_this_venv_runs_exactly_the_locked_versions():
    # Only what pip installed into this venv's site-packages: a test that imported setuptools
    # puts its vendored copies (setuptools/_vendor/packaging-*.dist-info …) on sys.path too.
    site = {Path(p).resolve() for p in sysconfig.get_paths().values() if "site-packages" in p}
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if Path(str(dist.locate_file(""))).resolve() in site
    }
    differing = {
        name: (pinned, installed.get(name))
        for name, pinned in _pins().items()
        if installed.get(name) != pinned
    }
    assert differing == {}, "(locked, installed): run `make` to install the lock"
