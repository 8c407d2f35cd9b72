"""Temporal comparison on a hand-made corpus; "now" is Friday 2026-03-20 (ISO week 12).

Week 10 (previous): bluesky a1 ×3 [klima], a2 ×1 [klima, energi]; reddit r1 ×2 [energi].
Week 11 (current): bluesky a1 ×2 [klima], a3 ×4 [klima]; youtube y1 ×1 (a link, no term).
Week 12 (still running, so not compared): bluesky a1 ×1.
Run 1 collected weeks 10 and 11 (13 records), run 2 weeks 11 and 12 (8): 7 shared.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research import temporal
from observatory_pipelines.research.framework import ResearchInputError
from tests.research.conftest import enrich, materialize_research, metadata

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
WEEK = 7 * 24 * 60


def _plant(corpus, conn) -> tuple[str, str]:
    def add(week, n, **fields):
        return [corpus.add(week * WEEK + i * 60 + 30, **fields) for i in range(n)]

    first = [
        *add(0, 3, author="a1", terms=["klima"], language="da"),
        *add(0, 1, author="a2", terms=["klima", "energi"], language="da"),
        *add(0, 1, platform="reddit", author="r1", terms=["energi"], language="en", likes_count=1),
        *add(0, 1, platform="reddit", author="r1", terms=["energi"], language="en", likes_count=3),
    ]
    both = [
        *add(1, 2, author="a1", terms=["klima"], language="da"),
        *add(1, 4, author="a3", terms=["klima"], language="da"),
        *add(1, 1, platform="youtube", arena="video", author="y1", text="https://youtu.be/x",
             raw_metadata={"detected_language": "da"}),
    ]  # fmt: skip
    second = add(2, 1, author="a1", language="da")
    run_2 = str(uuid.uuid4())
    conn.execute(
        "UPDATE collection_runs SET completed_at = '2026-03-10' WHERE id = %s", [corpus.run]
    )
    conn.execute(
        "INSERT INTO collection_runs (id, query_design_id, initiated_by, status, completed_at) "
        "VALUES (%s, %s, %s, 'completed', '2026-03-17')",
        [run_2, corpus.design, corpus.owner],
    )
    conn.execute(
        "UPDATE content_record_collections SET collection_run_ids = collection_run_ids || "
        "%s::uuid WHERE content_record_id = ANY(%s)",
        [run_2, both],
    )
    conn.execute(
        "UPDATE content_record_collections SET collection_run_ids = ARRAY[%s::uuid] "
        "WHERE content_record_id = ANY(%s)",
        [run_2, second],
    )
    assert len(first) + len(both) == 13
    return corpus.run, run_2


def _run(conn, corpus, now=NOW, **scope):
    return temporal.temporal_comparison(
        conn, check_scope(conn, AnalysisScope(corpus.design, **scope)), now=now
    )


def test_the_last_complete_week_against_the_one_before(corpus, conn, database_url):
    run_1, run_2 = _plant(corpus, conn)
    enrich(database_url, "record_urls", "record_engagement")
    record = conn.execute(
        "SELECT id, published_at FROM content_records WHERE pseudonymized_author_id = 'a3' LIMIT 1"
    ).fetchone()
    conn.execute(
        "INSERT INTO enrichment_sentiment (record_id, published_at, platform, language, scored, "
        "sentiment_score, sentiment_label, afinn_raw, method, method_version, computed_at) "
        "VALUES (%s, %s, 'bluesky', 'da', true, 0.5, 'positive', 2, 'test', 'test', now())",
        list(record),
    )
    output = _run(conn, corpus)
    assert output.tables["periods"].rows == [
        {"period": "previous", "label": "2026-W10", "starts": "2026-03-02",
         "ends_before": "2026-03-09"},
        {"period": "current", "label": "2026-W11", "starts": "2026-03-09",
         "ends_before": "2026-03-16"},
    ]  # fmt: skip
    volume = {(r["scope"], r["value"]): r for r in output.tables["period_volume"].rows}
    assert [(k, v["previous"], v["current"], v["delta"], v["pct_change"], v["note"])
            for k, v in volume.items()] == [
        (("total", "all"), 6, 7, 1, 16.67, None),
        (("platform", "bluesky"), 4, 6, 2, 50.0, None),
        (("platform", "reddit"), 2, 0, -2, -100.0, "vanished"),
        (("platform", "youtube"), 0, 1, 1, None, "new"),
        (("arena", "social_media"), 6, 6, 0, 0.0, None),
        (("arena", "video"), 0, 1, 1, None, "new"),
        (("term", "energi"), 3, 0, -3, -100.0, "vanished"),
        (("term", "klima"), 4, 6, 2, 50.0, None),
    ]  # fmt: skip
    assert output.tables["period_top_terms"].rows == [
        {"period": "previous", "rank": 1, "term": "klima", "records": 4},
        {"period": "previous", "rank": 2, "term": "energi", "records": 3},
        {"period": "current", "rank": 1, "term": "klima", "records": 6},
    ]
    actors = [(r["list"], r["rank"], r["author_key"], r["previous"], r["current"])
              for r in output.tables["period_actors"].rows]  # fmt: skip
    assert actors == [
        ("current", 1, "a3", 0, 4), ("current", 2, "a1", 3, 2), ("current", 3, "y1", 0, 1),
        ("new", 1, "a3", 0, 4), ("new", 2, "y1", 0, 1),
        ("previous", 1, "a1", 3, 2), ("previous", 2, "r1", 2, 0), ("previous", 3, "a2", 1, 0),
        ("vanished", 1, "r1", 2, 0), ("vanished", 2, "a2", 1, 0),
    ]  # fmt: skip
    assert output.summary["new_actors"] == 2 and output.summary["vanished_actors"] == 2
    assert output.tables["run_comparison"].rows == [
        {"arena": "all", "run_1_records": 13, "run_2_records": 8, "delta": -5,
         "pct_change": -38.46, "note": None},
        {"arena": "social_media", "run_1_records": 12, "run_2_records": 7, "delta": -5,
         "pct_change": -41.67, "note": None},
        {"arena": "video", "run_1_records": 1, "run_2_records": 1, "delta": 0,
         "pct_change": 0.0, "note": None},
    ]  # fmt: skip
    [overlap] = output.tables["run_overlap"].rows
    assert (overlap["run_1"], overlap["run_2"]) == (run_1, run_2)
    assert {k: overlap[k] for k in temporal.OVERLAP_COLUMNS[4:]} == {
        "run_1_contents": 13, "run_2_contents": 8, "shared_contents": 7,
        "overlap_pct_of_run_1": 53.85, "overlap_pct_of_run_2": 87.5, "jaccard": 0.5,
    }  # fmt: skip
    platforms = {r["platform"]: r for r in output.tables["platform_comparison"].rows}
    assert {p: (r["records"], r["actors"], r["terms"], r["share_with_urls"], r["languages"])
            for p, r in platforms.items()} == {
        "bluesky": (11, 3, 2, 0.0, {"da": 11}),
        "reddit": (2, 1, 1, 0.0, {"en": 2}),
        "youtube": (1, 1, 0, 1.0, {"da": 1}),
    }  # fmt: skip
    assert platforms["reddit"]["median_engagement_pct"] == 0.5  # percentile ranks 0 and 1
    assert platforms["bluesky"]["median_engagement_pct"] is None  # no counts reported
    assert (platforms["bluesky"]["sentiment_mean"], platforms["bluesky"]["sentiment_scored"]) == (
        0.5, 1,
    )  # fmt: skip
    assert platforms["reddit"]["sentiment_scored"] == 0


def test_a_chosen_run_months_and_a_filtered_scope(corpus, conn, monkeypatch):
    run_1, run_2 = _plant(corpus, conn)
    # the scope's run is compared with the completed run before it; the first has none
    assert _run(conn, corpus, collection_run_id=run_1).tables["run_overlap"].rows == []
    [overlap] = _run(conn, corpus, collection_run_id=run_2).tables["run_overlap"].rows
    assert overlap["shared_contents"] == 7
    monkeypatch.setenv("RESEARCH_PERIOD", "month")
    months = _run(conn, corpus, now=datetime(2026, 4, 5, tzinfo=UTC))
    assert [r["label"] for r in months.tables["periods"].rows] == ["2026-02", "2026-03"]
    total = months.tables["period_volume"].rows[0]
    assert (total["previous"], total["current"], total["pct_change"], total["note"]) == (
        0, 14, None, "new",
    )  # fmt: skip
    monkeypatch.setenv("RESEARCH_PERIOD", "week")
    reddit = _run(conn, corpus, platforms=["reddit"])
    # reddit's latest record is in week 10: that is the current week, week 9 the previous
    assert [r["label"] for r in reddit.tables["periods"].rows] == ["2026-W09", "2026-W10"]
    assert reddit.tables["period_volume"].rows[0]["current"] == 2
    # a scope ending on Thursday of week 11: week 11 is not complete, week 10 is the current
    ended = _run(conn, corpus, date_to="2026-03-12")
    assert [r["label"] for r in ended.tables["periods"].rows] == ["2026-W09", "2026-W10"]


def test_an_empty_design_and_bad_parameters(corpus, conn):
    output = _run(conn, corpus)
    assert all(table.rows == [] for table in output.tables.values())
    assert output.tables["period_volume"].columns == temporal.VOLUME_COLUMNS
    with pytest.raises(ResearchInputError, match="top_limit"):
        temporal.temporal_comparison(
            conn, check_scope(conn, AnalysisScope(corpus.design)), {"top_limit": 0}
        )


def test_the_asset_shows_the_period_chart(corpus, conn, postgres, s3_object_store_resource):
    _plant(corpus, conn)
    result = materialize_research(
        ["temporal_comparison"], corpus.design, postgres, s3_object_store_resource
    )
    assert result.success
    meta = metadata(result, "temporal_comparison")
    # now is long after: week 12 (bluesky 1) against week 11 (bluesky 6, youtube 1)
    assert meta["period_volume_rows"] == 6 and meta["runs_compared"] is True
    assert (meta["previous_period"], meta["current_period"]) == ("2026-W11", "2026-W12")
    assert meta["period_comparison_chart"].startswith("![period comparison chart](data:image/png")
