"""The Dagster edge, run in process: nightly job, freshness check, restore drill, schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from observatory_pipelines.backups import assets, catalog
from observatory_pipelines.backups.backup import run_backup
from observatory_pipelines.db import urls

from .conftest import pending_uploads


@pytest.fixture()
def definitions(postgres, object_store_resource):
    return dg.Definitions.merge(
        assets.defs,
        dg.Definitions(resources={"postgres": postgres, "object_store": object_store_resource}),
    )


def _run(definitions, job_name: str) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return definitions.resolve_job_def(job_name).execute_in_process(
            instance=instance, raise_on_error=False
        )


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_nightly_backup_job_stores_a_backup_and_reports_it(seeded, definitions, store):
    result = _run(definitions, "nightly_backup")

    assert result.success
    [materialization] = result.get_asset_materialization_events()
    meta = materialization.materialization.metadata
    newest = catalog.latest(store)
    assert meta["key"].value == newest.key
    assert meta["size_bytes"].value == newest.size
    assert meta["sha256"].value == catalog.read_manifest(store, newest.key).sha256
    assert meta["rows"].value == sum(json.loads(json.dumps(meta["row_counts"].value)).values())
    assert meta["row_counts"].value["content_records"] == 120
    assert meta["pruned"].value == []
    assert set(_checks(result)) == {"backup_fresh"}  # the drill is not part of the nightly run
    assert _checks(result)["backup_fresh"].passed


def test_failed_backup_fails_the_run_with_the_reason(db, object_store_resource, server_url):
    broken = dg.Definitions.merge(
        assets.defs,
        dg.Definitions(
            resources={
                "postgres": assets.PostgresResource(
                    database_url=urls.with_database(server_url, "no_such_db_for_backup")
                ),
                "object_store": object_store_resource,
            }
        ),
    )
    result = _run(broken, "nightly_backup")
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "backup failed" in failure.step_failure_data.error.message
    assert "no_such_db_for_backup" in failure.step_failure_data.error.message
    assert list(object_store_resource.backups().list("")) == []


def test_freshness_check_fails_when_the_newest_backup_is_older_than_26_hours(
    seeded, definitions, store, database_url
):
    # The check blocks: a missing or stale backup fails the run (red in the UI and alerts).
    result = _run(definitions, "backup_freshness")
    empty = _checks(result)["backup_fresh"]
    assert not empty.passed and "no backups" in empty.description
    assert not result.success

    run_backup(store, database_url, now=datetime.now(UTC) - timedelta(hours=27))
    result = _run(definitions, "backup_freshness")
    stale = _checks(result)["backup_fresh"]
    assert not stale.passed and not result.success
    assert stale.metadata["age_hours"].value > 26 and "older than 26 h" in stale.description

    run_backup(store, database_url, now=datetime.now(UTC) - timedelta(hours=25))
    result = _run(definitions, "backup_freshness")
    fresh = _checks(result)["backup_fresh"]
    assert fresh.passed and fresh.metadata["age_hours"].value < 26
    assert result.success


def _drill_databases(server_url) -> list[str]:
    with psycopg.connect(urls.libpq_url(server_url)) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'restore_drill_%'"
        ).fetchall()
    return [r[0] for r in rows]


def test_restore_drill_passes_and_drops_its_scratch_database(
    seeded, definitions, store, database_url, server_url
):
    before = _drill_databases(server_url)
    backup = run_backup(store, database_url)

    result = _run(definitions, "restore_drill")

    drill = _checks(result)["restore_drill"]
    assert result.success and drill.passed, drill.description
    assert drill.metadata["key"].value == backup.key
    assert drill.metadata["rows"].value == sum(backup.manifest.row_counts.values())
    assert drill.metadata["tables"].value == len(backup.manifest.row_counts)
    assert _drill_databases(server_url) == before


def test_restore_drill_fails_when_counts_differ_from_the_manifest(
    seeded, definitions, store, database_url, server_url
):
    before = _drill_databases(server_url)
    backup = run_backup(store, database_url)
    manifest = catalog.read_manifest(store, backup.key)
    manifest.row_counts["content_records"] += 1
    store.put(backup.manifest_key, manifest.to_json())

    result = _run(definitions, "restore_drill")
    drill = _checks(result)["restore_drill"]

    assert not result.success  # the drill blocks: a failed one fails the run
    assert not drill.passed and "1 table(s) differ" in drill.description
    assert drill.metadata["mismatches"].value == {
        "content_records": {"manifest": 121, "restored": 120}
    }
    assert _drill_databases(server_url) == before


def test_restore_drill_fails_on_a_corrupt_backup(seeded, definitions, store, database_url):
    backup = run_backup(store, database_url)
    store.put(backup.key, store.get_bytes(backup.key)[:-50])
    result = _run(definitions, "restore_drill")
    drill = _checks(result)["restore_drill"]
    assert not drill.passed and "truncated" in drill.description
    assert not result.success


def test_restore_drill_without_any_backup_fails_the_run(db, definitions):
    result = _run(definitions, "restore_drill")
    drill = _checks(result)["restore_drill"]
    assert not drill.passed and "no backups" in drill.description, drill.description
    assert not result.success


def test_every_check_that_guards_backups_is_scheduled_and_blocking(definitions):
    defs = definitions
    checks = {"backup_fresh": assets.backup_fresh, "restore_drill": assets.restore_drill_check}
    graph = defs.resolve_asset_graph()
    scheduled = set().union(*(s.job.selection.resolve_checks(graph) for s in defs.schedules))
    for name, check in checks.items():
        [spec] = check.check_specs
        assert spec.blocking, name
        assert dg.AssetCheckKey(dg.AssetKey("latest_backup"), name) in scheduled, (
            f"{name} is on no schedule"
        )


def _crons() -> dict[str, tuple[str, str]]:
    return {s.name: (s.cron_schedule, s.execution_timezone) for s in assets.build_defs().schedules}


def test_schedules_follow_the_environment(monkeypatch):
    assert _crons() == {
        "nightly_backup_schedule": ("0 2 * * *", "UTC"),
        "restore_drill_weekly": ("0 4 * * 0", "UTC"),
        "backup_freshness_hourly": ("17 * * * *", "UTC"),
    }
    monkeypatch.setenv("BACKUP_SCHEDULE", "30 1 * * *")
    monkeypatch.setenv("BACKUP_DRILL_SCHEDULE", "0 5 * * 6")
    crons = _crons()
    assert crons["nightly_backup_schedule"][0] == "30 1 * * *"
    assert crons["restore_drill_weekly"][0] == "0 5 * * 6"

    monkeypatch.setenv("BACKUP_SCHEDULE", "every night")
    with pytest.raises(ValueError, match="BACKUP_SCHEDULE='every night'"):
        assets.build_defs()


def test_full_backup_bucket_fails_the_nightly_run_and_the_freshness_check_goes_red(
    seeded, database_url, full_disk, postgres
):
    """MinIO's drive is full: the nightly run fails naming it, nothing lands, the check is red."""
    proxy, through_proxy, on_moto = full_disk
    yesterday = run_backup(
        on_moto.backups(), database_url, now=datetime.now(UTC) - timedelta(hours=30)
    )
    full = dg.Definitions.merge(
        assets.defs,
        dg.Definitions(resources={"postgres": postgres, "object_store": through_proxy}),
    )

    nightly = _run(full, "nightly_backup")

    assert not nightly.success
    [failure] = [e for e in nightly.all_events if e.is_step_failure]
    assert "backup failed: upload of postgres/" in failure.step_failure_data.error.message
    assert "XMinioStorageFull" in failure.step_failure_data.error.message
    assert proxy.refused()  # the full disk was reached through the S3 protocol
    assert nightly.get_asset_materialization_events() == []
    assert [b.key for b in catalog.list_backups(on_moto.backups())] == [yesterday.key]
    assert pending_uploads(on_moto) == []

    hourly = _run(full, "backup_freshness")  # reads still work on a full drive

    fresh = _checks(hourly)["backup_fresh"]
    assert not hourly.success and not fresh.passed
    assert fresh.metadata["key"].value == yesterday.key
    assert "older than 26 h" in fresh.description
