"""Partition maintenance against a real, freshly migrated PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from observatory_pipelines.partitions.manager import PartitionManager, Policy
from observatory_pipelines.partitions.months import add_months, month_start, utc_today
from tests.partitions.conftest import (
    CONTENT_INDEXES,
    attached_parent_indexes,
    insert_records,
    partition_bounds,
    total_rows,
    where_rows_live,
)

TODAY = date(2026, 5, 15)


def run(engine, today=TODAY, **policy):
    report = PartitionManager(engine, today=today, policy=Policy(**policy)).run()
    assert report.ok, report.failed
    return report


def expected_bound(year: int, month: int) -> str:
    lo = date(year, month, 1)
    hi = add_months(lo, 1)
    return f"FOR VALUES FROM ('{lo} 00:00:00+00') TO ('{hi} 00:00:00+00')"


def test_creates_months_ahead_from_the_migrated_schema(pg):
    report = run(pg)

    assert report.created == [
        "content_records_2026_05",
        "content_records_2026_06",
        "content_records_2026_07",
        "content_records_2026_08",
    ]
    bounds = partition_bounds(pg)
    for name in report.created:
        year, month = int(name[-7:-3]), int(name[-2:])
        assert bounds[name] == expected_bound(year, month)
    assert bounds["content_records_default"] == "DEFAULT"
    assert report.status.months_ahead == 3
    assert report.status.default_rows == 0


def test_real_today_is_covered_with_premake_months_ahead(pg):
    report = PartitionManager(pg, policy=Policy(premake_months=2)).run()

    assert report.ok
    current = month_start(utc_today())
    bounds = partition_bounds(pg)
    for offset in range(3):
        month = add_months(current, offset)
        assert bounds[f"content_records_{month:%Y_%m}"] == expected_bound(month.year, month.month)
    assert report.status.months_ahead >= 2


def test_second_run_creates_nothing_and_changes_nothing(pg):
    run(pg)
    before = partition_bounds(pg)

    again = run(pg)

    assert again.created == [] and again.detached == {} and again.dropped == []
    assert partition_bounds(pg) == before


def test_rows_waiting_in_default_move_to_their_new_month_with_nothing_lost(pg):
    future = insert_records(pg, ["2026-07-04 12:00+00", "2026-07-31 23:59:59+00"])
    past = insert_records(pg, ["2025-11-01 00:00+00", "2025-11-20 08:00+01"])
    kept = insert_records(pg, ["2026-03-03 10:00+00"])  # already has a partition
    absurd = insert_records(pg, ["1970-01-01 00:00+00", "2100-06-01 00:00+00"])
    assert set(where_rows_live(pg)[i] for i in future + past) == {"content_records_default"}
    before = total_rows(pg)

    report = run(pg)

    assert total_rows(pg) == before
    home = where_rows_live(pg)
    assert {home[i] for i in future} == {"content_records_2026_07"}
    assert {home[i] for i in past} == {"content_records_2025_11"}
    assert home[kept[0]] == "content_records_2026_03"
    assert {home[i] for i in absurd} == {"content_records_default"}
    assert report.moved_rows["content_records_2026_07"] == 2
    assert report.moved_rows["content_records_2025_11"] == 2
    # Continuous from the oldest data: the months between it and the first partition too.
    assert "content_records_2025_12" in report.created
    assert report.moved_rows["content_records_2025_12"] == 0
    status = report.status
    assert (status.default_rows, status.default_rows_misplaced) == (2, 0)
    assert (status.default_rows_before_floor, status.default_rows_beyond_horizon) == (1, 1)
    with pg.connect() as conn:
        dup = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT id FROM content_records GROUP BY id HAVING count(*) > 1) d"
            )
        ).scalar_one()
    assert dup == 0


def test_new_partitions_carry_all_parent_indexes_and_constraints(pg):
    insert_records(pg, ["2026-06-10 10:00+00", "2025-10-10 10:00+00"])

    report = run(pg)

    expected = CONTENT_INDEXES | {"content_records_pkey", "uq_content_platform_id_published"}
    for name in ["content_records_2026_06", "content_records_2025_10", "content_records_2026_08"]:
        assert name in report.created
        assert attached_parent_indexes(pg, name) == expected
    with pg.connect() as conn:
        leftover = conn.execute(
            text("SELECT count(*) FROM pg_constraint WHERE conname LIKE '%\\_bound'")
        ).scalar_one()
    assert leftover == 0


def test_unique_key_still_enforced_on_moved_rows(pg):
    [pid] = insert_records(pg, ["2026-06-10 10:00+00"])
    run(pg)
    with pytest.raises(IntegrityError), pg.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, collection_tier) VALUES ('2026-06-10 10:00+00', 'rss', "
                "'news_media', :pid, 'article', 'free')"
            ),
            {"pid": pid},
        )


def test_month_boundary_in_another_time_zone_belongs_to_utc_june(pg, pg_url):
    # A session far from UTC must not shift bounds nor a row across the month boundary.
    skewed = create_engine(pg_url, connect_args={"options": "-c TimeZone=Pacific/Kiritimati"})
    try:
        [early] = insert_records(skewed, ["2026-05-31 23:30:00-02:00"])
        report = PartitionManager(skewed, today=TODAY, policy=Policy()).run()
        [late] = insert_records(skewed, ["2026-05-31 23:30:00-02:00"])
    finally:
        skewed.dispose()

    assert report.ok and report.moved_rows["content_records_2026_06"] == 1
    home = where_rows_live(pg)
    assert home[early] == home[late] == "content_records_2026_06"
    assert partition_bounds(pg)["content_records_2026_06"] == expected_bound(2026, 6)


def test_ingest_never_fails_for_a_missing_month_and_next_run_moves_it(pg):
    run(pg)  # covers up to 2026-08
    [beyond] = insert_records(pg, ["2026-12-24 18:00+01"])
    assert where_rows_live(pg)[beyond] == "content_records_default"
    waiting = PartitionManager(pg, today=TODAY, policy=Policy()).status()
    assert waiting.default_rows_beyond_horizon == 1 and waiting.default_rows_misplaced == 0
    later = PartitionManager(pg, today=date(2026, 10, 1), policy=Policy()).status()
    assert later.default_rows_misplaced == 1  # now inside the window: the check would fail

    report = run(pg, today=date(2026, 10, 1))

    assert report.moved_rows["content_records_2026_12"] == 1
    assert where_rows_live(pg)[beyond] == "content_records_2026_12"


def test_retention_detaches_old_months_and_keeps_their_rows(pg):
    old = insert_records(pg, ["2026-02-14 12:00+00", "2026-03-01 00:00+00"])
    recent = insert_records(pg, ["2026-04-30 23:00+00"])

    report = run(pg, retention_months=2)  # cutoff 2026-03-01: only February is wholly older

    assert report.detached == {"content_records_2026_02": "content_records_2026_02_detached"}
    assert report.dropped == []
    home = where_rows_live(pg)
    assert old[0] not in home  # no longer visible through the parent
    assert (
        home[old[1]] == "content_records_2026_03" and home[recent[0]] == "content_records_2026_04"
    )
    with pg.connect() as conn:
        kept = conn.execute(
            text("SELECT platform_id FROM content_records_2026_02_detached")
        ).scalars()
        assert list(kept) == [old[0]]
        standalone = conn.execute(
            text(
                "SELECT relispartition FROM pg_class WHERE relname = 'content_records_2026_02_detached'"
            )
        ).scalar_one()
        assert standalone is False
    assert "content_records_2026_02" not in partition_bounds(pg)
    assert run(pg, retention_months=2).detached == {}  # idempotent


def test_retention_drop_mode_drops_old_months(pg):
    insert_records(pg, ["2026-02-14 12:00+00", "2026-03-14 12:00+00", "2026-04-14 12:00+00"])

    report = run(pg, retention_months=1, retention_drop=True)  # cutoff 2026-04-01

    assert sorted(report.dropped) == ["content_records_2026_02", "content_records_2026_03"]
    assert total_rows(pg) == 1
    with pg.connect() as conn:
        gone = conn.execute(
            text(
                "SELECT to_regclass('content_records_2026_02'), to_regclass('content_records_2026_03')"
            )
        ).one()
    assert gone == (None, None)
    assert "content_records_default" in partition_bounds(pg)


def test_rows_older_than_retention_or_floor_stay_in_default_and_are_reported(pg):
    ids = insert_records(pg, ["2025-01-15 00:00+00", "1999-12-31 23:00+00"])

    report = run(pg, retention_months=6, oldest_month=date(2000, 1, 1))

    home = where_rows_live(pg)
    assert {home[i] for i in ids} == {"content_records_default"}
    assert report.status.default_rows_before_floor == 2
    assert report.status.default_rows_misplaced == 0


def test_bounds_come_from_the_catalog_not_names(pg):
    # A hand-made, oddly named partition covering June is respected: June is not created again.
    with pg.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE june_by_hand PARTITION OF content_records "
                "FOR VALUES FROM ('2026-06-01 00:00+00') TO ('2026-07-01 00:00+00')"
            )
        )
    report = run(pg)
    assert "content_records_2026_06" not in report.created
    assert report.status.months_ahead == 3
    assert report.status.layout.month_covered(date(2026, 6, 1))


def test_status_reads_bounds_as_utc_datetimes(pg):
    status = PartitionManager(pg, today=TODAY, policy=Policy()).status(count_rows=True)
    feb = next(p for p in status.layout.partitions if p.name == "content_records_2026_02")
    assert feb.range_from == datetime(2026, 2, 1, tzinfo=UTC)
    assert feb.range_to == datetime(2026, 3, 1, tzinfo=UTC)
    assert feb.rows == 0 and feb.size_bytes > 0
    assert status.months_ahead == 0


def test_policy_refuses_bad_settings_by_name(monkeypatch):
    monkeypatch.setenv("PARTITION_OLDEST_MONTH", "2000/01")
    with pytest.raises(ValueError, match="PARTITION_OLDEST_MONTH"):
        Policy.from_settings()
    monkeypatch.setenv("PARTITION_OLDEST_MONTH", "2010-06")
    monkeypatch.setenv("PARTITION_RETENTION_MONTHS", "0")
    with pytest.raises(ValueError, match="PARTITION_RETENTION_MONTHS"):
        Policy.from_settings()
    monkeypatch.setenv("PARTITION_RETENTION_MONTHS", "24")
    monkeypatch.setenv("PARTITION_RETENTION_DROP", "true")
    policy = Policy.from_settings()
    assert (policy.oldest_month, policy.retention_months, policy.retention_drop) == (
        date(2010, 6, 1),
        24,
        True,
    )


def test_newest_partition_is_never_retired():
    from observatory_pipelines.partitions.catalog import Layout, Partition
    from observatory_pipelines.partitions.manager import plan

    def month(y, m):
        lo = datetime(y, m, 1, tzinfo=UTC)
        return Partition(f"p_{y}_{m}", False, lo, datetime(y + m // 12, m % 12 + 1, 1, tzinfo=UTC))

    layout = Layout("content_records", [month(2020, 1), month(2020, 2)])
    todo = plan(layout, date(2030, 1, 1), Policy(retention_months=1))
    assert [p.name for p in todo.retire] == ["p_2020_1"]


def test_month_arithmetic_is_utc_and_crosses_years():
    from datetime import timedelta, timezone

    assert month_start(datetime(2026, 5, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))) == date(
        2026, 6, 1
    )
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert Policy(premake_months=3).horizon(date(2026, 11, 25)) == date(2027, 3, 1)
