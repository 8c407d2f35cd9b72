"""The Dagster edge in process: asset, check, job and schedules against a real database."""

from __future__ import annotations

import dagster as dg
from sqlalchemy import text

from observatory_pipelines.partitions import assets as partition_assets
from observatory_pipelines.partitions.assets import content_partitions, partitions_ahead
from observatory_pipelines.partitions.months import add_months, month_start, utc_today
from observatory_pipelines.resources.postgres import PostgresResource
from tests.partitions.conftest import insert_records, partition_bounds, total_rows, where_rows_live

RUN_CONFIG = {"ops": {"content_partitions": {"config": {"today": "2026-05-15"}}}}


def check_results(result) -> list[dg.AssetCheckEvaluation]:
    return result.get_asset_check_evaluations()


def run_check(postgres_resource) -> dg.AssetCheckEvaluation:
    result = dg.materialize(
        [content_partitions, partitions_ahead],
        selection=dg.AssetSelection.checks(partitions_ahead),
        resources={"postgres": postgres_resource},
        raise_on_error=False,  # the check blocks: a failing one fails the run
    )
    [evaluation] = check_results(result)
    assert result.success == evaluation.passed
    return evaluation


def test_asset_runs_maintenance_and_shows_the_layout(pg, postgres_resource):
    [moved] = insert_records(pg, ["2026-06-30 23:59+00"])
    [stray] = insert_records(pg, ["1970-01-01 00:00+00"])
    before = total_rows(pg)

    result = dg.materialize(
        [content_partitions], resources={"postgres": postgres_resource}, run_config=RUN_CONFIG
    )

    assert result.success
    assert where_rows_live(pg)[moved] == "content_records_2026_06"
    assert where_rows_live(pg)[stray] == "content_records_default"
    assert total_rows(pg) == before
    [materialization] = result.asset_materializations_for_node("content_partitions")
    meta = materialization.metadata
    table = meta["partitions"]
    assert isinstance(table, dg.TableMetadataValue)
    rows = {r.data["name"]: r.data for r in table.records}
    assert rows["content_records_2026_06"] == {
        "name": "content_records_2026_06",
        "range_from": "2026-06-01T00:00:00+00:00",
        "range_to": "2026-07-01T00:00:00+00:00",
        "rows": 1,
        "size_bytes": rows["content_records_2026_06"]["size_bytes"],
    }
    assert rows["content_records_2026_06"]["size_bytes"] > 0
    assert rows["content_records_default"]["rows"] == 1
    assert meta["default_rows"].value == 1
    assert meta["default_rows_before_floor"].value == 1
    assert meta["moved_rows"].value == 1
    assert meta["months_ahead"].value == 3
    assert meta["created"].value == [
        "content_records_2026_05",
        "content_records_2026_06",
        "content_records_2026_07",
        "content_records_2026_08",
    ]


def test_check_fails_without_a_month_ahead_and_passes_after_the_job(pg, postgres_resource):
    failing = run_check(postgres_resource)  # the 001 layout ends in April 2026
    assert not failing.passed
    assert failing.metadata["months_ahead"].value == 0

    defs = dg.Definitions(
        assets=[content_partitions],
        asset_checks=[partitions_ahead],
        jobs=[partition_assets.partition_maintenance],
        resources={"postgres": postgres_resource},
    )
    result = defs.resolve_job_def("partition_maintenance").execute_in_process()

    assert result.success
    [evaluation] = check_results(result)  # the job runs the check after the asset
    assert evaluation.passed
    current = month_start(utc_today())
    names = set(where_rows_live(pg).values()) | {
        r.data["name"]
        for r in result.asset_materializations_for_node("content_partitions")[0]
        .metadata["partitions"]
        .records
    }
    assert f"content_records_{add_months(current, 1):%Y_%m}" in names


def test_check_fails_when_default_holds_rows_with_a_month_of_their_own(pg, postgres_resource):
    dg.materialize([content_partitions], resources={"postgres": postgres_resource})
    assert run_check(postgres_resource).passed
    # A row for a month inside the window but without a partition (older than the first one).
    insert_records(pg, ["2024-03-03 03:03+00"])

    evaluation = run_check(postgres_resource)

    assert not evaluation.passed
    assert evaluation.metadata["default_rows_misplaced"].value == 1
    dg.materialize([content_partitions], resources={"postgres": postgres_resource})
    assert run_check(postgres_resource).passed


def test_a_month_that_fails_fails_the_run_by_name_and_the_others_are_made(pg, postgres_resource):
    with pg.begin() as conn:  # a stray table squatting on June's name
        conn.execute(text("CREATE TABLE content_records_2026_06 (x int)"))

    result = dg.materialize(
        [content_partitions],
        resources={"postgres": postgres_resource},
        run_config=RUN_CONFIG,
        raise_on_error=False,
    )

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "content_records_2026_06" in message
    bounds = partition_bounds(pg)
    assert {"content_records_2026_05", "content_records_2026_07", "content_records_2026_08"} <= set(
        bounds
    )
    assert "content_records_2026_06" not in bounds


def test_schedules_run_the_job_monthly_and_weekly_in_utc():
    monthly, weekly = partition_assets.monthly_schedule, partition_assets.weekly_schedule
    assert monthly.cron_schedule == "0 3 1 * *"
    assert weekly.cron_schedule == "30 3 * * 1"
    for schedule in (monthly, weekly):
        assert schedule.execution_timezone == "UTC"
        assert schedule.job_name == "partition_maintenance"
        with (
            dg.instance_for_test() as instance,
            dg.build_schedule_context(instance=instance) as context,
        ):
            data = schedule.evaluate_tick(context)
        assert len(data.run_requests) == 1
    with_resources = dg.Definitions.merge(
        partition_assets.defs, dg.Definitions(resources={"postgres": PostgresResource()})
    )
    job = with_resources.resolve_job_def("partition_maintenance")
    assert job.asset_layer.asset_graph.get_all_asset_keys() >= {dg.AssetKey("content_partitions")}


def test_check_names_a_missing_month_inside_the_premake_window(pg, postgres_resource):
    dg.materialize([content_partitions], resources={"postgres": postgres_resource})
    assert run_check(postgres_resource).passed
    current = month_start(utc_today())
    hole, last = add_months(current, 2), add_months(current, 3)  # premake 3: current..current+3
    with pg.begin() as conn:
        conn.execute(text(f"DROP TABLE content_records_{hole:%Y_%m}"))
    assert f"content_records_{last:%Y_%m}" in partition_bounds(pg)  # next month exists too

    evaluation = run_check(postgres_resource)

    assert not evaluation.passed
    assert f"{hole:%Y-%m}" in evaluation.description
    assert f"content_records_{hole:%Y_%m}" in evaluation.description
    assert evaluation.metadata["missing_months"].value == [f"{hole:%Y-%m}"]


def test_the_daily_check_job_fails_red_when_a_month_is_missing(pg, postgres_resource):
    defs = dg.Definitions.merge(
        partition_assets.defs, dg.Definitions(resources={"postgres": postgres_resource})
    )
    dg.materialize([content_partitions], resources={"postgres": postgres_resource})
    job = defs.resolve_job_def("partitions_ahead_check")
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(instance=instance).success
        current = month_start(utc_today())
        with pg.begin() as conn:
            conn.execute(text(f"DROP TABLE content_records_{add_months(current, 1):%Y_%m}"))

        result = job.execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    [evaluation] = check_results(result)
    assert not evaluation.passed
    [schedule] = [s for s in defs.schedules if s.job_name == "partitions_ahead_check"]
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
