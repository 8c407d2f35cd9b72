"""Attribution (issue 13.1): a record stored once reaches every design that collected it.

Two designs collect overlapping entries of the same source through real runs (fake collector
over HTTP on 127.0.0.1, real ledger, real ingest); each design's analysis and exports then see
all of its matching records, whichever design stored them first.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from observatory_pipelines.analysis.exports import export_content
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import run_models
from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm
from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.db import urls
from tests.collection.conftest import rows

from .conftest import item, make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)


def design_config(feed: str) -> dict:
    return {
        "mode": "batch",
        "arenas": {"fake_news": {"tier": "premium", "feed": feed, "estimated_units": 900}},
    }


@pytest.fixture()
def two_designs(db, json_server):
    """Design A collects entries 1-6 of the source, then design B collects entries 1-7."""
    entries = [
        item(n, published=datetime(2026, 3, 2, n, tzinfo=UTC).isoformat()) for n in range(1, 8)
    ]
    json_server.feed("shared-a", [entries[:3], entries[3:6]])
    json_server.feed("shared-b", [entries[:4], entries[4:]])
    user = make_user(db, credits=100)
    a = make_design(db, user, design_config("shared-a"), [("grønland", "keyword")], name="A")
    b = make_design(db, user, design_config("shared-b"), [("klima", "hashtag")], name="B")
    run_a = start_run(db, a, FROM, TO)
    run_b = start_run(db, b, FROM, TO)
    assert run_a.status == run_b.status == "completed"
    return a, b, run_a.run_id, run_b.run_id


def test_second_design_is_attributed_the_records_the_first_stored(db, two_designs):
    a, b, run_a, run_b = two_designs
    # One stored copy per record (dedup stays global) ...
    stored = rows(db, "SELECT platform_id, query_design_id FROM content_records")
    assert sorted(r["platform_id"] for r in stored) == [f"p{n}" for n in range(1, 8)]
    # ... "first collected by": A stored six, B only the one A did not have.
    first = {r["platform_id"]: str(r["query_design_id"]) for r in stored}
    assert first == {**{f"p{n}": a for n in range(1, 7)}, "p7": b}
    (task_b,) = rows(
        db,
        "SELECT records_collected, duplicates_skipped FROM collection_tasks "
        "WHERE collection_run_id = :r",
        r=run_b,
    )
    assert (task_b["records_collected"], task_b["duplicates_skipped"]) == (1, 6)

    links = rows(
        db,
        "SELECT l.query_design_id, c.platform_id, l.first_collection_run_id, "
        "l.collection_run_ids, l.search_terms_matched FROM content_record_collections AS l "
        "JOIN content_records AS c ON c.id = l.content_record_id "
        "AND c.published_at = l.published_at ORDER BY 1, 2",
    )
    by_design: dict[str, list] = {}
    for link in links:
        by_design.setdefault(str(link["query_design_id"]), []).append(link)
    assert [r["platform_id"] for r in by_design[a]] == [f"p{n}" for n in range(1, 7)]
    assert [r["platform_id"] for r in by_design[b]] == [f"p{n}" for n in range(1, 8)]
    assert {str(r["first_collection_run_id"]) for r in by_design[b]} == {run_b}
    assert all([str(x) for x in r["collection_run_ids"]] == [run_b] for r in by_design[b])
    # Each design keeps the terms *it* matched, not the first collector's.
    assert {tuple(r["search_terms_matched"]) for r in by_design[a]} == {("grønland",)}
    assert {tuple(r["search_terms_matched"]) for r in by_design[b]} == {("klima",)}


def test_each_design_analyses_and_exports_all_its_records(
    db, database_url, two_designs, object_store_resource
):
    a, b, _, run_b = two_designs
    store = object_store_resource.outputs()
    with psycopg.connect(urls.libpq_url(database_url)) as conn:
        for design, name, expected, term in ((a, "A", 6, "grønland"), (b, "B", 7, "klima")):
            params = check_scope(conn, AnalysisScope(design))
            out = run_models(conn, params, ["stg_content", "volume_over_time", "top_terms"])
            assert out["stg_content"] == [{"rows": expected}]
            assert sum(p["count"] for p in out["volume_over_time"]) == expected
            assert out["top_terms"] == [{"term": term, "count": expected}]

            key = f"exports/u/{name}.csv"
            result = export_content(conn, AnalysisScope(design), "csv", store, key)
            table = list(csv.reader(io.StringIO(store.get_bytes(key).decode("utf-8-sig"))))
            assert result.rows == expected and len(table) == expected + 1
            header = table[0]
            assert {r[header.index("Query design")] for r in table[1:]} == {name}
            assert {r[header.index("Search terms matched")] for r in table[1:]} == {term}

            key = f"exports/u/{name}.ndjson"
            export_content(conn, AnalysisScope(design), "ndjson", store, key)
            lines = store.get_bytes(key).decode().splitlines()
            assert len(lines) == expected
            assert {json.loads(line)["query_design"] for line in lines} == {name}

        # The run filter: every record run B collected, including the six A stored first.
        params = check_scope(conn, AnalysisScope(b, collection_run_id=run_b))
        out = run_models(conn, params, ["stg_content", "run_summary"])
        assert out["stg_content"] == [{"rows": 7}]
        assert [(str(r["run_id"]), r["records_in_scope"]) for r in out["run_summary"]] == [
            (run_b, 7)
        ]


def test_rerun_adds_no_record_and_no_duplicate_link(db, two_designs):
    a, b, run_a, run_b = two_designs

    def state():
        return (
            rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"],
            rows(
                db,
                "SELECT query_design_id, count(*) AS n FROM content_record_collections "
                "GROUP BY 1 ORDER BY 1",
            ),
        )

    before = state()
    again = start_run(db, b, FROM, TO)
    assert again.status == "completed"
    assert state() == before  # 7 records; 6 links for A, 7 for B
    (task,) = rows(
        db,
        "SELECT records_collected, duplicates_skipped FROM collection_tasks "
        "WHERE collection_run_id = :r",
        r=again.run_id,
    )
    assert (task["records_collected"], task["duplicates_skipped"]) == (0, 7)
    # The rerun is listed on B's links (still first collected by B's first run); A's untouched.
    runs = rows(
        db,
        "SELECT query_design_id, first_collection_run_id, collection_run_ids "
        "FROM content_record_collections",
    )
    for link in runs:
        if str(link["query_design_id"]) == b:
            assert str(link["first_collection_run_id"]) == run_b
            assert [str(r) for r in link["collection_run_ids"]] == [run_b, again.run_id]
        else:
            assert [str(r) for r in link["collection_run_ids"]] == [run_a]


# -- the ingest itself (real COPY/INSERT path), for the cases a fake feed does not reach -------

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def rec(n: int, **over) -> NormalizedRecord:
    fields = dict(
        platform="rss_feeds",
        arena="news_media",
        content_type="article",
        platform_id=f"guid-{n}",
        published_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=n),
        url=f"https://www.dr.dk/nyheder/{n}",
        title=f"Titel {n} om klima",
        text_content=f"Brødtekst {n} om grønland",
        hash_source=f"Titel {n}",
    )
    fields.update(over)
    return NormalizedRecord(**fields)


def design_and_run(engine, name: str) -> tuple[str, str]:
    user = make_user(engine)
    design = make_design(engine, user, {}, name=name)
    with engine.begin() as conn:
        run = conn.execute(
            text(
                "INSERT INTO collection_runs (initiated_by, query_design_id) VALUES (:u, :d) "
                "RETURNING id"
            ),
            {"u": user, "d": design},
        ).scalar_one()
    return design, str(run)


def ingest(engine, design, run, batches, terms, collected_at=NOW):
    enricher = Enricher(engine, [SearchTerm(t) for t in terms])
    with BulkIngester(engine, run_id=run, query_design_id=design) as ingester:
        return [ingester.write(enricher.rows(batch, collected_at)) for batch in batches]


def links(engine, design):
    return rows(
        engine,
        "SELECT c.platform_id, l.collection_run_ids, l.search_terms_matched "
        "FROM content_record_collections AS l JOIN content_records AS c "
        "ON c.id = l.content_record_id AND c.published_at = l.published_at "
        "WHERE l.query_design_id = :d ORDER BY 1",
        d=design,
    )


def test_undated_and_repeated_records_are_attributed_once_per_design(db):
    a, run_a = design_and_run(db, "A")
    b, run_b = design_and_run(db, "B")
    undated = [rec(1, published_at=None), rec(2, published_at=None)]
    (counts,) = ingest(db, a, run_a, [undated], ["grønland"])
    assert (counts.inserted, counts.attributed) == (2, 2)

    # B, days later: the undated copies get a new collection time but are the same records;
    # guid-3 comes twice in one batch (same key) and again in the next batch.
    later = NOW + timedelta(days=3)
    batches = [undated + [rec(3), rec(3)], [rec(3)]]
    first, second = ingest(db, b, run_b, batches, ["klima"], collected_at=later)
    assert (first.inserted, first.attributed) == (1, 3)
    assert (second.inserted, second.attributed) == (0, 0)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 3
    assert [(r["platform_id"], r["search_terms_matched"]) for r in links(db, b)] == [
        ("guid-1", ["klima"]),
        ("guid-2", ["klima"]),
        ("guid-3", ["klima"]),
    ]
    assert all([str(x) for x in r["collection_run_ids"]] == [run_b] for r in links(db, b))
    assert [r["platform_id"] for r in links(db, a)] == ["guid-1", "guid-2"]

    # The same run writing the same batch again (a retry) adds no link and no run entry.
    (retry,) = ingest(db, b, run_b, [batches[0]], ["klima"], collected_at=later)
    assert (retry.inserted, retry.attributed) == (0, 0)
    assert all([str(x) for x in r["collection_run_ids"]] == [run_b] for r in links(db, b))
    assert rows(db, "SELECT count(*) AS n FROM content_record_collections")[0]["n"] == 5


def test_terms_filter_uses_the_terms_of_the_analysed_design(db, database_url):
    a, run_a = design_and_run(db, "A")
    b, run_b = design_and_run(db, "B")
    ingest(db, a, run_a, [[rec(1), rec(2)]], ["grønland"])
    ingest(db, b, run_b, [[rec(1), rec(2), rec(3)]], ["klima"])
    with psycopg.connect(urls.libpq_url(database_url)) as conn:

        def count(design, terms):
            params = check_scope(conn, AnalysisScope(design, terms=terms))
            return run_models(conn, params, ["stg_content"])["stg_content"][0]["rows"]

        assert (count(b, ["klima"]), count(b, ["grønland"])) == (3, 0)
        assert (count(a, ["grønland"]), count(a, ["klima"])) == (2, 0)
