"""Keys the ingest's probe cannot see stored: a concurrent task's uncommitted copy, and two
staged rows with one key but different content.

The batch insert has no ON CONFLICT (staging_insert.sql probes for stored keys instead); such a
batch raises unique_violation, is rolled back whole and written again skipping those rows, so
the outcome is the one ON CONFLICT gave: one stored copy, linked to every design that collected
it, nothing of the batch lost or stored twice.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from observatory_pipelines.collection.enrich import STAGING_COLUMNS, Enricher
from observatory_pipelines.collection.ingest import BulkIngester

from .conftest import rows
from .test_ingest import NOW, rec
from .test_link_references import (
    connect,
    in_thread,
    user_design_and_run,
    wait_until_blocked,
)

STORE_COPY = (
    "INSERT INTO content_records (published_at, platform, arena, platform_id, content_type,"
    " collection_tier, query_design_id) VALUES (%s, 'rss_feeds', 'news_media', %s, 'article',"
    " 'free', %s) RETURNING id"
)


def links(engine, design: str) -> dict[str, str]:
    """platform_id → stored record id of the design's links."""
    sql = (
        "SELECT c.platform_id, c.id FROM content_record_collections AS l"
        " JOIN content_records AS c ON c.id = l.content_record_id"
        " AND c.published_at = l.published_at WHERE l.query_design_id = :d"
    )
    return {r["platform_id"]: str(r["id"]) for r in rows(engine, sql, d=design)}


def stored(engine) -> dict[str, int]:
    sql = "SELECT platform_id, count(*) AS n FROM content_records GROUP BY platform_id"
    return {r["platform_id"]: r["n"] for r in rows(engine, sql)}


def ingest_while_a_copy_is_uncommitted(engine, *, commit_copy: bool):
    """Design B's batch (guid-1, guid-2) written while another transaction holds an uncommitted
    copy of guid-1 for design A; that transaction commits (or rolls back) once B waits on it."""
    _, design_a, _ = user_design_and_run(engine, "A")
    _, design_b, run_b = user_design_and_run(engine, "B")
    batch = Enricher(engine).rows([rec(1), rec(2)], NOW)
    with (
        connect(engine) as other,
        BulkIngester(engine, run_id=run_b, query_design_id=design_b) as ingester,
    ):
        copy_id = str(
            other.execute(STORE_COPY, (rec(1).published_at, "guid-1", design_a)).fetchone()[0]
        )
        thread, outcome = in_thread(lambda: ingester.write(batch))
        wait_until_blocked(engine, ingester.conn.info.backend_pid)
        (other.commit if commit_copy else other.rollback)()
        thread.join()
    (counts,) = outcome
    assert not isinstance(counts, Exception), counts
    return design_b, copy_id, counts


@pytest.mark.parametrize("commit_copy", [True, False], ids=["copy_committed", "rolled_back"])
def test_a_copy_the_batch_waits_for_is_stored_once_and_linked(db, commit_copy):
    design_b, copy_id, counts = ingest_while_a_copy_is_uncommitted(db, commit_copy=commit_copy)
    # Committed: the other task's copy is skipped and linked; rolled back: the batch stores it.
    inserted = 1 if commit_copy else 2
    assert (counts.staged, counts.inserted, counts.attributed) == (2, inserted, 2)
    assert stored(db) == {"guid-1": 1, "guid-2": 1}
    linked = links(db, design_b)
    assert sorted(linked) == ["guid-1", "guid-2"]
    assert (linked["guid-1"] == copy_id) is commit_copy


def test_two_rows_with_one_key_and_different_content_store_one(db):
    _, design, run = user_design_and_run(db, "A")
    first, edited = rec(1), rec(1, title="Titel 1, rettet", hash_source="Titel 1, rettet")
    batch = Enricher(db).rows([first, edited, rec(2)], NOW)
    with BulkIngester(db, run_id=run, query_design_id=design) as ingester:
        counts = ingester.write(batch)
    assert (counts.staged, counts.inserted, counts.attributed) == (3, 2, 2)
    assert stored(db) == {"guid-1": 1, "guid-2": 1}
    assert sorted(links(db, design)) == ["guid-1", "guid-2"]
    # The batch was written once in the end: one link per record, the run listed once.
    with db.connect() as conn:
        runs = conn.execute(
            text("SELECT collection_run_ids FROM content_record_collections")
        ).scalars()
        assert [[str(r) for r in ids] for ids in runs] == [[run], [run]]


@pytest.mark.parametrize("edited_first", [False, True], ids=["original_first", "edited_first"])
def test_of_two_rows_with_one_key_the_copy_kept_does_not_depend_on_arrival(db, edited_first):
    """The retry inserts in DISTINCT ON's order (content hash), as the statement always did;
    the plain try's id order (arrival) must not decide which copy is kept."""
    _, design, run = user_design_and_run(db, "A")
    first, edited = rec(1), rec(1, title="Titel 1, rettet", hash_source="Titel 1, rettet")
    batch = Enricher(db).rows([edited, first] if edited_first else [first, edited], NOW)
    by_hash = sorted(batch, key=lambda row: row[STAGING_COLUMNS.index("content_hash")])
    expected_title = by_hash[0][STAGING_COLUMNS.index("title")]
    with BulkIngester(db, run_id=run, query_design_id=design) as ingester:
        counts = ingester.write(batch)
    assert (counts.staged, counts.inserted) == (2, 1)
    (kept,) = rows(db, "SELECT title FROM content_records")
    assert kept["title"] == expected_title
