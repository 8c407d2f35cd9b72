"""Collections respect the platforms' rate limits across runs, backups run one at a time: the
sensor tags each run with its platforms, deploy/dagster.yaml's run coordinator limits each
rate-limited platform (and the database dumps) to one run, judged by Dagster's own counter."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml
from dagster._utils.tags import TagConcurrencyLimitsCounter

from observatory_pipelines.arenas import registry
from observatory_pipelines.backups import assets as backups
from observatory_pipelines.collection.assets import PLATFORM_TAG_PREFIX, new_query_designs_sensor

from .conftest import make_design, make_user

DAGSTER_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
UNLIMITED = {"file_import"}  # reads the object store, calls no platform


def _limits() -> list[dict]:
    config = yaml.safe_load(DAGSTER_YAML.read_text())
    return config["run_coordinator"]["config"]["tag_concurrency_limits"]


def _sensor_runs(postgres, designs: list[str]) -> dict[str, dg.DagsterRun]:
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(
            instance=instance, resources={"postgres": postgres}
        ) as context:
            result = new_query_designs_sensor(context)
    return {
        r.partition_key: dg.DagsterRun(job_name="collect_query_design", tags=r.tags)
        for r in result.run_requests
        if r.partition_key in designs
    }


def test_the_sensor_tags_each_run_with_its_enabled_platforms(db, postgres):
    user = make_user(db)
    window = {"mode": "batch", "date_from": "2026-03-01", "date_to": "2026-03-07"}
    design = make_design(
        db,
        user,
        {**window, "arenas": {"youtube": {}, "bluesky": {}, "reddit": {"enabled": False}}},
    )
    (run,) = _sensor_runs(postgres, [design]).values()
    platforms = {k for k in run.tags if k.startswith(PLATFORM_TAG_PREFIX)}
    assert platforms == {f"{PLATFORM_TAG_PREFIX}youtube", f"{PLATFORM_TAG_PREFIX}bluesky"}


def test_a_second_run_on_a_busy_platform_waits_and_others_go(db, postgres):
    user = make_user(db)
    window = {"mode": "batch", "date_from": "2026-03-01", "date_to": "2026-03-07"}
    first = make_design(db, user, {**window, "arenas": {"youtube": {}, "gdelt": {}}})
    second = make_design(db, user, {**window, "arenas": {"youtube": {}}})
    other = make_design(db, user, {**window, "arenas": {"bluesky": {}}})
    runs = _sensor_runs(postgres, [first, second, other])

    counter = TagConcurrencyLimitsCounter(_limits(), [runs[first]])  # first is running
    assert counter.is_blocked(runs[second])  # youtube is busy
    assert not counter.is_blocked(runs[other])


def test_every_rate_limited_platform_has_a_limit_of_one():
    limited = {
        limit["key"].removeprefix(PLATFORM_TAG_PREFIX): limit["limit"]
        for limit in _limits()
        if limit["key"].startswith(PLATFORM_TAG_PREFIX)
    }
    built_in = {
        p
        for p in registry.available_platforms()
        if registry.get_collector_class(p).__module__.startswith("observatory_pipelines.arenas.")
    }
    missing = built_in - UNLIMITED - set(limited)
    assert not missing, f"no run limit in deploy/dagster.yaml for {sorted(missing)}"
    assert set(limited.values()) == {1}
    keys = [limit["key"] for limit in _limits()]
    assert len(keys) == len(set(keys)), "a tag listed twice in deploy/dagster.yaml"


def test_a_backup_and_a_restore_drill_never_run_together():
    backup, drill = (
        dg.DagsterRun(job_name=job.name, tags=job.tags)
        for job in (backups.nightly_backup, backups.restore_drill)
    )
    counter = TagConcurrencyLimitsCounter(_limits(), [backup])
    assert counter.is_blocked(drill)
    assert TagConcurrencyLimitsCounter(_limits(), [drill]).is_blocked(backup)
    assert not TagConcurrencyLimitsCounter(_limits(), []).is_blocked(drill)
