"""Maintenance runs at once with each other and with the ingest: nothing lost, nothing twice."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import text

from observatory_pipelines.partitions.manager import (
    MaintenanceBusy,
    PartitionManager,
    Policy,
    advisory_key,
)
from tests.partitions.conftest import insert_records, partition_bounds, total_rows, where_rows_live

TODAY = date(2026, 5, 15)
AHEAD = {f"content_records_2026_0{m}" for m in (5, 6, 7, 8)}


def in_thread(fn):
    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def wait_until_blocked(engine, locktype: str, deadline_s: float = 30.0) -> None:
    """Until some backend waits for a lock of this type in this database (a condition, not a timing)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE d.datname = current_database() AND NOT l.granted AND l.locktype = :t"
                ),
                {"t": locktype},
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError(f"nobody waited for a {locktype} lock")


def test_two_runs_at_once_both_succeed_and_create_each_month_once(pg):
    insert_records(pg, ["2026-07-04 12:00+00", "2025-11-20 08:00+00", "2026-06-01 00:00+00"])
    before = total_rows(pg)
    barrier = threading.Barrier(2)

    def one_run():
        barrier.wait()
        return PartitionManager(pg, today=TODAY, policy=Policy()).run()

    runs = [in_thread(one_run) for _ in range(2)]
    for thread, _ in runs:
        thread.join(120)
    reports = [box.get("result") for _, box in runs]
    assert [box.get("error") for _, box in runs] == [None, None]
    assert all(r.ok for r in reports)

    created = reports[0].created + reports[1].created
    assert len(created) == len(set(created))
    assert AHEAD | {"content_records_2025_11"} <= set(created)
    assert sum(sum(r.moved_rows.values()) for r in reports) == 3
    assert total_rows(pg) == before
    assert "content_records_default" not in set(where_rows_live(pg).values())


def test_a_run_waits_for_the_run_in_progress_then_finds_its_work(pg):
    with pg.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key("content_records")})
        holder.commit()
        thread, box = in_thread(lambda: PartitionManager(pg, today=TODAY, policy=Policy()).run())
        wait_until_blocked(pg, "advisory")
        assert not AHEAD & set(partition_bounds(pg))  # nothing done while waiting
        holder.execute(
            text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key("content_records")}
        )
        holder.commit()
    thread.join(120)
    assert "error" not in box
    assert set(box["result"].created) == AHEAD


def test_a_run_that_cannot_get_the_lock_says_so(pg):
    with pg.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key("content_records")})
        holder.commit()
        with pytest.raises(MaintenanceBusy, match="content_records"):
            PartitionManager(pg, today=TODAY, policy=Policy(), lock_wait="200ms").run()
        holder.rollback()


def test_an_ingest_in_flight_is_waited_for_and_its_row_moved(pg):
    with pg.connect() as ingest:
        ingest.execute(
            text(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, collection_tier) VALUES ('2026-07-09 09:00+00', 'rss', "
                "'news_media', 'in-flight', 'article', 'free')"
            )
        )  # uncommitted: holds the default partition
        thread, box = in_thread(lambda: PartitionManager(pg, today=TODAY, policy=Policy()).run())
        wait_until_blocked(pg, "relation")
        ingest.commit()
    thread.join(120)
    assert "error" not in box and box["result"].ok
    assert box["result"].moved_rows["content_records_2026_07"] == 1
    assert where_rows_live(pg)["in-flight"] == "content_records_2026_07"


def test_a_month_that_cannot_get_its_locks_fails_alone_and_the_next_run_repairs(pg):
    with pg.connect() as reader:
        reader.execute(text("LOCK TABLE content_records_default IN ACCESS SHARE MODE"))
        report = PartitionManager(pg, today=TODAY, policy=Policy(), lock_timeout="200ms").run()
        reader.rollback()
    assert set(report.failed) == AHEAD
    assert all("lock timeout" in message for message in report.failed.values())
    assert not AHEAD & set(partition_bounds(pg))

    repaired = PartitionManager(pg, today=TODAY, policy=Policy()).run()
    assert repaired.ok and set(repaired.created) == AHEAD
