"""Runs follow the records inserted and deleted since the last run, not the table's size."""

from __future__ import annotations

import psycopg
import pytest

from observatory_pipelines.enrichments.catalog import ENRICHMENTS, NEAR_DUPLICATES, URLS
from observatory_pipelines.enrichments.service import check_coverage, enrich

from .conftest import fill, insert_record

PARTITION_SCANS = """
SELECT coalesce(sum(s.seq_scan + coalesce(s.idx_scan, 0)), 0)
FROM pg_stat_user_tables AS s
JOIN pg_inherits AS i ON i.inhrelid = s.relid
WHERE i.inhparent = 'content_records'::regclass
"""


def _content_scans(conn: psycopg.Connection) -> int:
    """Scans of content_records' partitions so far, by every session (flushed stats)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute(PARTITION_SCANS).fetchone()[0]


def _flushed(database_url: str, enrichment) -> dict:
    """``enrich`` on a session whose statistics are flushed before it ends."""
    from observatory_pipelines.db.engine import connect
    from observatory_pipelines.enrichments.framework import coverage, run_enrichment

    with connect(database_url, autocommit=True) as session:
        summary = run_enrichment(session, enrichment)
        counts = coverage(session, enrichment)
        session.execute("SELECT pg_stat_force_next_flush()")
        session.execute("SELECT 1")  # idle in between: the flush happened
    return {"summary": summary, **counts}


def _content_scans_after_full_pass(database_url: str, enrichment, conn) -> int:
    """The same counter after a forced full pass: it does count the scans of a run."""
    conn.execute(
        "UPDATE enrichment_versions SET swept_partitions = NULL WHERE enrichment = %s",
        [enrichment.name],
    )
    assert _flushed(database_url, enrichment)["summary"].mode == "full"
    return _content_scans(conn)


def _exact_equals_kept(database_url: str, enrichment) -> dict:
    kept = check_coverage(database_url, enrichment)
    exact = check_coverage(database_url, enrichment, exact=True)
    assert kept == exact
    return kept


@pytest.mark.parametrize("enrichment", ENRICHMENTS, ids=lambda e: e.name)
def test_a_run_with_nothing_new_reads_no_record(conn, database_url, enrichment):
    fill(conn, 12)
    # flushed too: a closed session's backend can report its scans after ``before`` is read
    first = _flushed(database_url, enrichment)["summary"]
    assert (first.mode, first.records) == ("full", 12)

    before = _content_scans(conn)
    quiet = _flushed(database_url, enrichment)
    after = _content_scans(conn)

    summary = quiet["summary"]
    assert summary.mode == "incremental"
    assert (summary.records_examined, summary.changes_taken, summary.records) == (0, 0, 0)
    assert after == before  # not one scan of any partition of content_records
    assert _content_scans_after_full_pass(database_url, enrichment, conn) > after
    assert (quiet["records"], quiet["enriched"], quiet["missing"]) == (12, 12, 0)


def test_new_records_are_read_by_key_and_counted_without_a_full_count(conn, database_url):
    fill(conn, 20)
    enrich(database_url, URLS)
    fill(conn, 3, start=100)
    pending = _exact_equals_kept(database_url, URLS)
    assert (pending["records"], pending["enriched"], pending["missing"]) == (23, 20, 3)

    result = enrich(database_url, URLS)

    assert result["mode"] == "incremental"
    assert (result["records_examined"], result["changes_taken"]) == (3, 3)
    assert result["records_enriched_now"] == 3
    assert result["rows_written"] == {"enrichment_urls": 3, "enrichment_url_records": 3}
    assert (result["records"], result["enriched"], result["missing"]) == (23, 23, 0)
    assert conn.execute("SELECT count(*) FROM enrichment_changes").fetchone() == (0,)


def test_deleted_records_are_pruned_from_the_log_and_the_counts_follow(conn, database_url):
    ids = fill(conn, 6)
    enrich(database_url, URLS)
    conn.execute("DELETE FROM content_records WHERE id = ANY(%s)", [ids[:2]])
    waiting = _exact_equals_kept(database_url, URLS)
    assert (waiting["records"], waiting["enriched"], waiting["missing"]) == (4, 4, 0)

    result = enrich(database_url, URLS)

    assert result["mode"] == "incremental"
    assert result["rows_pruned"] == 4  # two links, two marker rows
    assert result["changes_taken"] == 2 and result["records_examined"] == 0
    left = conn.execute("SELECT record_id FROM enrichment_url_records").fetchall()
    assert sorted(r[0] for r in left) == sorted(ids[2:])
    assert _exact_equals_kept(database_url, URLS)["records"] == 4


def test_a_record_deleted_and_inserted_again_is_enriched_from_what_it_holds_now(conn, database_url):
    [record] = fill(conn, 1)
    enrich(database_url, URLS)
    conn.execute("DELETE FROM content_records WHERE id = %s", [record])
    insert_record(conn, 0, id=record, text_content="Nu om https://tv2.dk/a og https://dr.dk/b")

    result = enrich(database_url, URLS)

    assert result["records_enriched_now"] == 1
    hosts = conn.execute("SELECT host FROM enrichment_urls ORDER BY ordinal").fetchall()
    assert [h[0] for h in hosts] == ["tv2.dk", "dr.dk"]
    assert _exact_equals_kept(database_url, URLS)["enriched"] == 1


def test_an_erased_near_duplicate_repairs_only_its_group(conn, database_url):
    text = "Regeringen vil hæve afgiften på benzin og diesel fra næste år, siger ministeren"
    twins = [insert_record(conn, n, text_content=text) for n in range(2)]
    other = "Kommunen åbner en ny svømmehal i byens nordlige del til sommer efter lang ventetid"
    kept = [insert_record(conn, n, text_content=other) for n in range(10, 13)]
    enrich(database_url, NEAR_DUPLICATES)
    groups = dict(conn.execute("SELECT origin_record_id, size FROM enrichment_near_dup_groups"))
    assert groups == {twins[0]: 2, kept[0]: 3}
    conn.execute("DELETE FROM content_records WHERE id = %s", [twins[0]])

    result = enrich(database_url, NEAR_DUPLICATES)

    assert result["mode"] == "incremental" and result["changes_taken"] == 1
    groups = dict(conn.execute("SELECT origin_record_id, size FROM enrichment_near_dup_groups"))
    assert groups == {kept[0]: 3}  # the pair dissolved, the other group untouched
    alone = conn.execute(
        "SELECT group_id, jaccard FROM enrichment_near_dup WHERE record_id = %s", [twins[1]]
    ).fetchone()
    assert alone == (None, None)
    buckets = conn.execute(
        "SELECT count(*) FROM enrichment_near_dup_buckets WHERE record_id = %s", [twins[0]]
    ).fetchone()
    assert buckets == (0,)  # nothing derived from the erased text is left


def test_a_changed_partition_set_or_a_truncate_makes_the_next_run_a_full_pass(conn, database_url):
    fill(conn, 4)
    enrich(database_url, URLS)
    conn.execute(
        "CREATE TABLE content_records_2031_01 PARTITION OF content_records "
        "FOR VALUES FROM ('2031-01-01 00:00:00+00') TO ('2031-02-01 00:00:00+00')"
    )
    try:
        after_attach = enrich(database_url, URLS)
        assert after_attach["mode"] == "full" and after_attach["records_enriched_now"] == 0
        assert enrich(database_url, URLS)["mode"] == "incremental"
        # a month detached by retention takes its records without a DELETE: the full pass
        # that follows prunes their results
        insert_record(conn, 0, published_at="2031-01-05T00:00:00+00:00", text_content="x.dk")
        assert enrich(database_url, URLS)["records_enriched_now"] == 1
        conn.execute("ALTER TABLE content_records DETACH PARTITION content_records_2031_01")
        detached = enrich(database_url, URLS)
        assert detached["mode"] == "full" and detached["rows_pruned"] == 1
    finally:
        conn.execute("DROP TABLE IF EXISTS content_records_2031_01")
    assert _exact_equals_kept(database_url, URLS)["records"] == 4

    conn.execute("TRUNCATE content_records")
    truncated = enrich(database_url, URLS)
    assert truncated["mode"] == "full" and truncated["rows_pruned"] == 8  # 4 links, 4 markers
    assert _exact_equals_kept(database_url, URLS) == {
        "records": 0, "enriched": 0, "missing": 0,
        "stored_version": URLS.method_version, "current_version": URLS.method_version,
    }  # fmt: skip
