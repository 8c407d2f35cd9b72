"""The definitions as a reviewable snapshot: a renamed, regrouped or lost definition is a diff.

The snapshot (``definitions.snapshot.json`` beside this file) lists every asset with its
group, dependencies and automation, every check (and whether it blocks), job, schedule
(cron, default status) and sensor (default status). After an intended change, regenerate
it with ``UPDATE_DEFINITIONS_SNAPSHOT=1 .venv/bin/python -m pytest tests/structure`` and
review the diff. ``dg list defs`` must list the same definitions (the UI and the CLI see
what the code defines), and ``dg check defs`` must pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

SNAPSHOT = Path(__file__).with_name("definitions.snapshot.json")
PROJECT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).with_name("dg")


def _status(definition) -> str:
    status = getattr(definition, "default_status", None)
    return status.value if status is not None else "STOPPED"


def _snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        condition = node.automation_condition
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "automation": condition.get_label() if condition is not None else None,
            "partitions": type(partitions).__name__ if partitions is not None else None,
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        spec = graph.get_check_spec(check_key)
        checks[check_key.to_user_string()] = {"blocking": spec.blocking}
    jobs = sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__"))
    schedules = {
        schedule.name: {
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
            "default_status": _status(schedule),
            "job": schedule.job_name,
        }
        for schedule in sorted(defs.get_repository_def().schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        sensor.name: {"type": type(sensor).__name__, "default_status": _status(sensor)}
        for sensor in sorted(defs.get_repository_def().sensor_defs, key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
    }


@pytest.fixture(scope="module")
def snapshot() -> dict:
    from observatory_pipelines.definitions import defs

    return _snapshot(defs)


def test_definitions_match_the_reviewed_snapshot(snapshot):
    rendered = json.dumps(snapshot, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_DEFINITIONS_SNAPSHOT") == "1":
        SNAPSHOT.write_text(rendered)
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_DEFINITIONS_SNAPSHOT=1"
    assert json.loads(SNAPSHOT.read_text()) == snapshot, (
        "the definitions changed: review, then regenerate with UPDATE_DEFINITIONS_SNAPSHOT=1"
    )


def _dg(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # a temporary instance
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parents[1])
    env["PATH"] = f"{DG.parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(DG), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=PROJECT,
    )


def test_dg_list_defs_shows_every_definition(snapshot):
    result = _dg("list", "defs", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    listed = json.loads(result.stdout)
    assert {a["asset_key"] for a in listed["assets"]} == set(snapshot["assets"])
    assert {c["key"] for c in listed["asset_checks"]} == set(snapshot["checks"])
    assert {j["name"] for j in listed["jobs"]} >= set(snapshot["jobs"])
    assert {s["name"] for s in listed["schedules"]} == set(snapshot["schedules"])
    assert {s["name"] for s in listed["sensors"]} == set(snapshot["sensors"])


def test_dg_check_defs_passes():
    result = _dg("check", "defs")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
