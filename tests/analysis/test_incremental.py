"""Incremental analyses (issue 20, target 2): the persisted facets of the standard scope are
brought up to date from the logged changes, and every model, the descriptive report and every
network then equal a full recompute from the records, after appends in several steps, a
duplicate marking, re-collections (new terms, changed counts), an erasure and a retention drop.

The reference is the models' own SQL over the records (``run_models`` with an explicit model
set never reads or writes the stored facets): the path filtered scopes take.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from observatory_pipelines.analysis import facets
from observatory_pipelines.analysis.descriptive import assemble_report
from observatory_pipelines.analysis.network import NETWORK_MODELS, build_network
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import load_models, run_models
from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm
from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.erasure.database import erase_rows
from observatory_pipelines.erasure.person import ErasureRequest

MODEL_NAMES = list(load_models())


def _outputs(results: dict, params: dict) -> dict:
    """Every model's rows, the report and the networks (with metrics) of one run."""
    return {
        "models": results,
        "report": assemble_report(results, params),
        "networks": {
            network: build_network(network, results[model])
            for network, model in NETWORK_MODELS.items()
        },
    }


def run_every_model(conn, params: dict, **options) -> dict:
    """Every model's rows; those of ``returns: stream`` models as they are streamed (parsed
    from the JSON lines run_models hands to ``publish``), so they are compared too."""
    streamed: dict[str, list] = {}

    def publish(name: str, lines) -> None:
        streamed[name] = json.loads(b"[" + b"".join(lines) + b"]")

    results = run_models(conn, params, MODEL_NAMES, publish=publish, **options)
    assert set(streamed) == {n for n, m in load_models().items() if m.returns == "stream"}
    return {**results, **streamed}


def _stored_facets(conn, design: str) -> list[tuple]:
    return conn.execute(
        "SELECT facet, platform, arena, collection_run_id, hour, author_key, "
        "pseudonymized_author_id, author_display_name, author_id, author_platform_id, terms, "
        "likes_count, shares_count, comments_count, views_count, records, engagement, "
        "scope_records FROM analysis_facets WHERE query_design_id = %s ORDER BY facet_key",
        [design],
    ).fetchall()


def _folded_facets(conn, params: dict) -> list[tuple]:
    """stg_content folded from the records by the model's SQL, as the stored rows."""
    model = load_models()["stg_content"]
    rows = conn.execute(
        "SELECT f.* FROM (" + model.psycopg_sql() + ") AS f",
        {p: params[p] for p in model.params},
    ).fetchall()
    conn.rollback()
    return rows


def refresh_and_compare(conn, design: str, **scope) -> facets.FacetRefresh:
    """One incremental refresh; asserts its outputs equal the full recompute's. Returns what
    the refresh did."""
    params = check_scope(conn, AnalysisScope(design, **scope))
    refreshes: list[facets.FacetRefresh] = []
    incremental = run_every_model(conn, params, facet_refreshes=refreshes)
    conn.commit()
    full = run_every_model(conn, params, models=load_models())
    conn.commit()
    assert _outputs(incremental, params) == _outputs(full, params)
    assert sorted(_stored_facets(conn, design), key=repr) == sorted(
        _folded_facets(conn, params), key=repr
    )
    assert len(refreshes) == 1
    return refreshes[0]


def _state(conn, design: str) -> dict | None:
    row = conn.execute(
        "SELECT last_mode, last_reason, last_changes_folded FROM analysis_facet_state "
        "WHERE query_design_id = %s",
        [design],
    ).fetchone()
    return dict(zip(("mode", "reason", "changes_folded"), row, strict=True)) if row else None


def _add_record(conn, design: str, run: str, n: int, published: datetime, **fields) -> str:
    """A new record and its link to ``design``, in the order the ingest writes them."""
    values = {
        "platform": "bluesky",
        "arena": "social_media",
        "pseudonym": f"p_new_{n}",
        "name": f"Ny {n}",
        "terms": ["klima"],
        "likes": n,
        "shares": 1,
        "comments": None,
        "views": None,
        **fields,
    }
    record = conn.execute(
        "INSERT INTO content_records (published_at, platform, arena, platform_id, content_type, "
        "text_content, author_display_name, pseudonymized_author_id, likes_count, shares_count, "
        "comments_count, views_count, collection_run_id, query_design_id, search_terms_matched, "
        "collection_tier) VALUES (%s, %s, %s, %s, 'post', 'tekst', %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, 'free') RETURNING id",
        [
            published,
            values["platform"],
            values["arena"],
            f"new{n}",
            values["name"],
            values["pseudonym"],
            values["likes"],
            values["shares"],
            values["comments"],
            values["views"],
            run,
            design,
            values["terms"],
        ],
    ).fetchone()[0]
    _link(conn, design, run, record, published, values["terms"])
    return str(record)


def _link(conn, design, run, record, published, terms) -> None:
    conn.execute(
        "INSERT INTO content_record_collections (query_design_id, content_record_id, "
        "published_at, first_collection_run_id, collection_run_ids, search_terms_matched) "
        "VALUES (%s, %s, %s, %s, ARRAY[CAST(%s AS uuid)], %s)",
        [design, record, published, run, run, terms],
    )


def _t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_first_build_is_full_then_appends_in_steps_are_folded_incrementally(conn, corpus):
    first = refresh_and_compare(conn, corpus.design)
    assert (first.mode, first.reason, first.changes_folded) == ("full", "first build", 0)

    # Step 1: a new author in a new hour, an existing author with a new term set.
    _add_record(conn, corpus.design, corpus.run2, 1, _t(3, 21, 7))
    _add_record(
        conn, corpus.design, corpus.run2, 2, _t(3, 21, 7, 30), pseudonym=corpus.B, name="Bo",
        terms=["grøn", "skat"],
    )  # fmt: skip
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.changes_folded) == ("incremental", 2)

    # Step 2: a record another design stored earlier, now collected by this one too (only a
    # link is written), and a reddit record with views.
    other = conn.execute(
        "SELECT id, published_at FROM content_records WHERE query_design_id = %s",
        [corpus.other_design],
    ).fetchone()
    _link(conn, corpus.design, corpus.run2, other[0], other[1], ["klima", "skat"])
    _add_record(
        conn, corpus.design, corpus.run2, 3, _t(3, 22, 9), platform="reddit", views=7,
        pseudonym=corpus.C, name="Carl", terms=["energi", "skat"],
    )  # fmt: skip
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.changes_folded) == ("incremental", 2)

    # Step 3: a record that is already a duplicate when it arrives adds nothing.
    _add_record(conn, corpus.design, corpus.run2, 4, _t(3, 22, 10))
    conn.execute(
        'UPDATE content_records SET raw_metadata = \'{"duplicate_of": "x"}\' '
        "WHERE platform_id = 'new4'"
    )
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert step.mode == "incremental"
    assert _state(conn, corpus.design)["changes_folded"] == step.changes_folded == 2  # +1, -1


def test_nothing_new_folds_nothing(conn, corpus):
    refresh_and_compare(conn, corpus.design)
    again = refresh_and_compare(conn, corpus.design)
    assert (again.mode, again.changes_folded, again.facets_changed) == ("incremental", 0, 0)
    # Another design's new record is not this design's change.
    _add_record(conn, corpus.other_design, corpus.other_run, 5, _t(3, 2, 2))
    conn.commit()
    again = refresh_and_compare(conn, corpus.design)
    assert (again.mode, again.changes_folded, again.facets_changed) == ("incremental", 0, 0)
    # A design without stored facets logs nothing (its first refresh reads its records).
    assert conn.execute("SELECT count(*) FROM analysis_facet_changes").fetchone()[0] == 0


def test_duplicate_marking_is_subtracted_exactly(conn, corpus):
    refresh_and_compare(conn, corpus.design)
    conn.execute(
        "UPDATE content_records SET raw_metadata = raw_metadata || "
        '\'{"duplicate_of": "00000000-0000-0000-0000-000000000002"}\' '
        "WHERE platform_id IN ('p3', 'p7')"
    )
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.changes_folded) == ("incremental", 2)
    assert step.facets_removed > 0  # Bo's only record went: his author facet row too


def test_recollection_with_new_counts_and_new_terms(conn, corpus):
    """The ingest never changes a stored record's counts (staging_insert: ON CONFLICT DO
    NOTHING) but re-sets a link's terms on re-collection; any UPDATE of either is folded."""
    refresh_and_compare(conn, corpus.design)
    conn.execute(
        "UPDATE content_records SET likes_count = 500, views_count = 9 WHERE platform_id = 'p4'"
    )
    # The re-collection by run 2: the run appended (no facet input changed) and new terms.
    conn.execute(
        "UPDATE content_record_collections AS l SET collection_run_ids = "
        "l.collection_run_ids || CAST(%s AS uuid) FROM content_records AS c "
        "WHERE c.id = l.content_record_id AND c.platform_id IN ('p1', 'p2')",
        [corpus.run2],
    )
    conn.execute(
        "UPDATE content_record_collections AS l SET search_terms_matched = ARRAY['skat'] "
        "FROM content_records AS c WHERE c.id = l.content_record_id AND c.platform_id = 'p2'"
    )
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.changes_folded) == ("incremental", 4)  # two -1/+1 pairs
    # An update that changes no facet input logs nothing.
    conn.execute("UPDATE content_records SET title = 'ny titel' WHERE platform_id = 'p5'")
    conn.commit()
    assert refresh_and_compare(conn, corpus.design).changes_folded == 0


def test_erasure_deletes_the_stored_facets_and_the_next_refresh_rebuilds(conn, corpus, db):
    refresh_and_compare(conn, corpus.design)
    _add_record(conn, corpus.design, corpus.run2, 8, _t(3, 23, 2))  # a pending change
    conn.commit()
    request = ErasureRequest(
        requested_by="dpo@example.org", reference="case-20", actor_id=corpus.actor_x
    )
    erased = erase_rows(db, request, dry_run=False)
    assert erased.rows_deleted["content_records"] == 4
    # The person's pseudonym is gone from the stored facets with the erasure, not later, and
    # the erasure only deleted rows (the state row too: the next refresh is a first build).
    for table in ("analysis_facet_state", "analysis_facets", "analysis_facet_changes"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.reason) == ("full", "first build")
    assert refresh_and_compare(conn, corpus.design).mode == "incremental"


@pytest.fixture()
def extra_partition(conn):
    """A month partition of this test's own, so dropping it leaves the others alone."""
    conn.execute(
        "CREATE TABLE content_records_2026_09 PARTITION OF content_records "
        "FOR VALUES FROM ('2026-09-01 00:00+00') TO ('2026-10-01 00:00+00')"
    )
    conn.commit()
    yield "content_records_2026_09"
    conn.rollback()
    conn.execute("DROP TABLE IF EXISTS content_records_2026_09")
    conn.commit()


def test_retention_dropping_a_partition_rebuilds(conn, corpus, extra_partition):
    _add_record(conn, corpus.design, corpus.run2, 6, datetime(2026, 9, 3, 8, tzinfo=UTC))
    conn.commit()
    assert refresh_and_compare(conn, corpus.design).mode == "full"
    # Retention detaches and drops a month: no row trigger sees its records go.
    conn.execute(f"ALTER TABLE content_records DETACH PARTITION {extra_partition}")
    conn.execute(f"DROP TABLE {extra_partition}")
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.reason) == ("full", "content_records partitions changed")


def test_code_version_change_and_asked_for_recompute_are_full(conn, corpus):
    refresh_and_compare(conn, corpus.design)
    conn.execute(
        "UPDATE analysis_facet_state SET code_version = 'before' WHERE query_design_id = %s",
        [corpus.design],
    )
    conn.commit()
    step = refresh_and_compare(conn, corpus.design)
    assert step.mode == "full"
    assert step.reason == f"code_version changed (before -> {facets.code_version()})"
    # Asked for: the same full path, from the records.
    params = check_scope(conn, AnalysisScope(corpus.design))
    refreshes: list[facets.FacetRefresh] = []
    run_models(conn, params, ["top_actors"], full_recompute=True, facet_refreshes=refreshes)
    conn.commit()
    assert [(r.mode, r.reason) for r in refreshes] == [("full", "full recompute asked for")]


def test_other_granularity_and_limits_share_the_stored_facets(conn, corpus):
    refresh_and_compare(conn, corpus.design)
    step = refresh_and_compare(conn, corpus.design, granularity="hour", sort="engagement")
    assert (step.mode, step.changes_folded) == ("incremental", 0)


def test_filtered_scopes_keep_the_full_path(conn, corpus):
    params = check_scope(conn, AnalysisScope(corpus.design, platforms=["reddit"]))
    refreshes: list[facets.FacetRefresh] = []
    filtered = run_models(conn, params, MODEL_NAMES, facet_refreshes=refreshes)
    conn.commit()
    assert refreshes == []
    assert conn.execute("SELECT count(*) FROM analysis_facet_state").fetchone()[0] == 0
    assert filtered["stg_content"] == [{"rows": 3}]


def test_a_deleted_design_takes_its_facets_along(conn, corpus):
    refresh_and_compare(conn, corpus.design)
    _add_record(conn, corpus.design, corpus.run2, 7, _t(3, 23, 1))  # a pending change
    conn.execute("DELETE FROM collection_runs WHERE query_design_id = %s", [corpus.design])
    conn.execute("DELETE FROM query_designs WHERE id = %s", [corpus.design])
    conn.commit()
    for table in ("analysis_facet_state", "analysis_facets", "analysis_facet_changes"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_a_new_design_starts_with_a_full_build(conn, corpus):
    """A design created after others have stored facets starts with a full build."""
    refresh_and_compare(conn, corpus.design)
    design = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, 'Ny')",
        [design, corpus.owner],
    )
    conn.commit()
    step = refresh_and_compare(conn, design)
    assert (step.mode, step.reason) == ("full", "first build")


def _news(n: int, text: str) -> NormalizedRecord:
    return NormalizedRecord(
        platform="rss_feeds",
        arena="news_media",
        content_type="article",
        platform_id=f"guid-{n}",
        published_at=_t(3, 10, n),
        url=f"https://www.dr.dk/nyheder/{n}",
        title=f"Titel {n}",
        text_content=text,
        hash_source=f"Titel {n}",
    )


def _ingest(db, design, run, records, terms) -> None:
    enricher = Enricher(db, [SearchTerm(term) for term in terms])
    with BulkIngester(db, run_id=run, query_design_id=design) as ingester:
        ingester.write(enricher.rows(records, _t(3, 20, 12)))


def test_the_ingest_path_is_folded_incrementally(conn, corpus, db):
    """Through the real ingest (COPY, the deduplicating insert that links new records in the
    same statement, the attribution of records stored before): new records, a record another
    design stored first, and a re-collection by another run that matches more terms."""
    refresh_and_compare(conn, corpus.design)
    conn.commit()
    first = [_news(1, "klima og energi"), _news(2, "klima i Grønland, grøn omstilling")]
    _ingest(db, corpus.design, corpus.run2, first, ["klima"])
    step = refresh_and_compare(conn, corpus.design)
    assert (step.mode, step.changes_folded) == ("incremental", 2)

    _ingest(db, corpus.other_design, corpus.other_run, [_news(3, "klima")], ["klima"])
    _ingest(db, corpus.design, corpus.run1, [_news(3, "klima"), *first], ["klima", "grøn"])
    step = refresh_and_compare(conn, corpus.design)
    # guid-3 newly linked (+1); guid-2 now also matches "grøn" (-1, +1); guid-1 unchanged.
    assert (step.mode, step.changes_folded) == ("incremental", 3)


def _temp_column_types(conn, params: dict, **options) -> set[tuple]:
    """Every temp table's columns and types after running every model (in an outer
    transaction, so the tables outlive run_models' savepoint until the rollback)."""
    conn.execute("SELECT 1")
    run_models(conn, params, MODEL_NAMES, **options)
    types = conn.execute(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r' AND a.attnum > 0"
    ).fetchall()
    conn.rollback()
    return set(types)


def test_stored_facets_give_every_model_the_same_column_types(conn, corpus):
    """A connection that reuses prepared statements (psycopg prepares a query run 5 times)
    fails on 'cached plan must not change result type' if a path changed a column's type."""
    params = check_scope(conn, AnalysisScope(corpus.design))
    refresh_and_compare(conn, corpus.design)
    from_records = _temp_column_types(conn, params, models=load_models())
    from_facets = _temp_column_types(conn, params)
    assert len(from_records) > 50
    assert from_facets == from_records


def test_stored_facets_leave_half_a_page_free_for_in_place_updates(conn, corpus):
    """Migration 019: a refresh's updates of the facet sums stay on their page (HOT), which
    needs free space there; a full rebuild's fresh rows keep it too."""
    refresh_and_compare(conn, corpus.design)
    options = conn.execute(
        "SELECT reloptions FROM pg_class WHERE oid = 'analysis_facets'::regclass"
    ).fetchone()[0]
    assert options == ["fillfactor=50"]
