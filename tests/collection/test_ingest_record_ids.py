"""Time-ordered record ids (UUIDv7, RFC 9562): layout, ordering, uniqueness, and what the
ingest stores with them."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.collection.record_ids import RecordIds, new_record_id, timestamp_ms

from .conftest import make_design, make_user
from .test_ingest import rec


class FixedClock:
    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_layout_is_rfc_9562_version_7():
    before = time.time_ns() // 1_000_000
    value = new_record_id()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122  # the variant bits 0b10
    assert (value.int >> 76) & 0xF == 7
    assert (value.int >> 62) & 0b11 == 0b10
    assert before <= timestamp_ms(value) <= after + 1  # +1: a borrowed millisecond


def test_timestamp_is_the_leading_48_bits_big_endian():
    ids = RecordIds(FixedClock(0x0123_4567_89AB))
    value = ids.next()
    assert value.bytes[:6] == bytes.fromhex("0123456789ab")
    assert value.hex[12] == "7"
    assert value.hex[16] in "89ab"


def test_ids_in_one_millisecond_strictly_increase():
    clock = FixedClock(1_764_633_600_000)
    ids = RecordIds(clock)
    values = [ids.next() for _ in range(2000)]
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    # all 2000 fit in the millisecond: the counter starts below 2048 and 2048 more fit
    assert {timestamp_ms(v) for v in values} == {clock.ms}


def test_a_used_up_counter_borrows_the_next_millisecond():
    clock = FixedClock(1_000)
    ids = RecordIds(clock)
    values = [ids.next() for _ in range(5000)]  # more than 4096 can fit in one millisecond
    assert values == sorted(values)
    assert len(set(values)) == 5000
    stamps = [timestamp_ms(v) for v in values]
    assert stamps[0] == 1_000 and stamps[-1] > 1_000
    clock.ms = stamps[-1]  # the real clock catching up continues from the borrowed one
    assert ids.next() > values[-1]


def test_a_clock_stepping_back_never_reverses_ids():
    clock = FixedClock(10_000)
    ids = RecordIds(clock)
    first = ids.next()
    clock.ms = 9_000
    later = [ids.next() for _ in range(3)]
    assert [first, *later] == sorted([first, *later])
    assert {timestamp_ms(v) for v in later} == {10_000}
    clock.ms = 10_001
    assert timestamp_ms(ids.next()) == 10_001


def test_ids_of_a_new_millisecond_sort_after_the_last_one():
    clock = FixedClock(5_000)
    ids = RecordIds(clock)
    last_of_first = [ids.next() for _ in range(100)][-1]
    clock.ms = 5_001
    assert ids.next() > last_of_first


def test_threads_sharing_one_source_get_unique_increasing_ids():
    ids = RecordIds(FixedClock(7_000))
    per_thread: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def make(out: list[uuid.UUID]) -> None:
        for _ in range(3000):
            out.append(ids.next())

    threads = [threading.Thread(target=make, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [v for out in per_thread for v in out]
    assert len(set(every)) == 12_000
    for out in per_thread:
        assert out == sorted(out)


def test_random_bits_differ_between_sources_in_one_millisecond():
    # two processes (two sources) in the same millisecond: unique by their 62 random bits
    a = [RecordIds(FixedClock(42)).next() for _ in range(200)]
    assert len(set(a)) == 200


def test_ingested_records_get_time_ordered_ids_in_arrival_order(db):
    user = make_user(db)
    design_id = make_design(db, user, {})
    with db.begin() as conn:
        run_id = str(
            conn.execute(
                text(
                    "INSERT INTO collection_runs (initiated_by, query_design_id) "
                    "VALUES (:u, :d) RETURNING id"
                ),
                {"u": user, "d": design_id},
            ).scalar_one()
        )
    published = datetime(2026, 3, 10, tzinfo=UTC)
    # published out of order: the ids follow arrival, not publication
    records = [rec(n, published_at=published - timedelta(hours=n % 7)) for n in range(30)]
    started = time.time_ns() // 1_000_000
    enricher = Enricher(db, [])
    with BulkIngester(db, run_id=run_id, query_design_id=design_id) as ingester:
        ingester.write(enricher.rows(records[:15], datetime.now(UTC)))
        ingester.write(enricher.rows(records[15:], datetime.now(UTC)))
    with db.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT c.id, c.platform_id, l.content_record_id FROM content_records c "
                "JOIN content_record_collections l ON l.content_record_id = c.id "
                "AND l.published_at = c.published_at "
                "WHERE c.collection_run_id = :run"
            ),
            {"run": run_id},
        ).all()
    assert len(stored) == 30
    by_number = {
        int(platform_id.removeprefix("guid-")): record_id for record_id, platform_id, _ in stored
    }
    in_arrival = [by_number[n] for n in range(30)]
    assert in_arrival == sorted(in_arrival)
    assert all(record_id.version == 7 for record_id in in_arrival)
    assert all(timestamp_ms(record_id) >= started for record_id in in_arrival)
    assert all(link == record_id for record_id, _, link in stored)
