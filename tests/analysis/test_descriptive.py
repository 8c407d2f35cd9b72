"""Descriptive statistics on the hand-countable corpus (see conftest for the table)."""

from __future__ import annotations

import pytest

from observatory_pipelines.analysis.descriptive import descriptive_report
from observatory_pipelines.analysis.scope import AnalysisScope


def _report(conn, corpus, **kwargs):
    return descriptive_report(conn, AnalysisScope(corpus.design, **kwargs))


def test_volume_by_month_with_arenas_and_platforms(conn, corpus):
    report = _report(conn, corpus, granularity="month")
    assert report["total_records"] == 9  # duplicate and other design excluded
    assert report["volume"] == [
        {
            "period": "2026-02-01T00:00:00+00:00",
            "count": 4,
            "arenas": {"social_media": 4},
            "platforms": {"bluesky": 3, "reddit": 1},
        },
        {
            "period": "2026-03-01T00:00:00+00:00",
            "count": 5,
            "arenas": {"social_media": 2, "news_media": 3},
            "platforms": {"reddit": 2, "rss_feeds": 3},
        },
    ]


def test_volume_by_day_hour_and_week(conn, corpus):
    by_day = _report(conn, corpus, granularity="day")["volume"]
    assert [(row["period"][:10], row["count"]) for row in by_day] == [
        ("2026-02-03", 1),
        ("2026-02-10", 2),
        ("2026-02-20", 1),
        ("2026-03-01", 1),
        ("2026-03-05", 2),
        ("2026-03-15", 1),
        ("2026-03-20", 1),
    ]
    by_hour = _report(conn, corpus, granularity="hour")["volume"]
    assert len(by_hour) == 9 and by_hour[1]["period"] == "2026-02-10T12:00:00+00:00"
    by_week = _report(conn, corpus, granularity="week")["volume"]
    # ISO weeks start on Monday: 2026-02-02, 02-09, 02-16, 02-23 (03-01 is a Sunday), 03-02, ...
    assert [(row["period"][:10], row["count"]) for row in by_week] == [
        ("2026-02-02", 1),
        ("2026-02-09", 2),
        ("2026-02-16", 1),
        ("2026-02-23", 1),
        ("2026-03-02", 2),
        ("2026-03-09", 1),
        ("2026-03-16", 1),
    ]


def test_top_actors_by_posts_and_by_engagement(conn, corpus):
    A, B, C, D, E = corpus.A, corpus.B, corpus.C, corpus.D, corpus.E
    rows = _report(conn, corpus)["top_actors"]
    assert [
        (r["author_key"], r["platform"], r["post_count"], r["total_engagement"]) for r in rows
    ] == [
        (C, "reddit", 2, 30),
        (A, "bluesky", 2, 17),
        (E, "rss_feeds", 2, 0),
        (B, "bluesky", 1, 7),
        (D, "reddit", 1, 0),
    ]
    anna = rows[1]
    assert anna["resolved_name"] == "Klimarådet" and anna["actor_id"] == corpus.actor_x
    assert anna["display_name"] == "Anna" and anna["pseudonymized_author_id"] == A
    assert rows[2]["pseudonymized_author_id"] is None and rows[2]["display_name"] == "Jens Ærø"
    by_engagement = _report(conn, corpus, sort="engagement", options={"top_limit": 3})
    assert [r["author_key"] for r in by_engagement["top_actors"]] == [C, A, B]


def test_top_terms_count_records(conn, corpus):
    assert _report(conn, corpus)["top_terms"] == [
        {"term": "klima", "count": 6},
        {"term": "energi", "count": 5},
        {"term": "grøn", "count": 3},
        {"term": "skat", "count": 2},
    ]


def test_engagement_distribution_exact(conn, corpus):
    engagement = _report(conn, corpus)["engagement"]
    assert engagement["bluesky"] == {
        "records": 3,
        "likes": {"n": 3, "mean": 6.67, "median": 6, "p95": 9.6, "max": 10},
        "shares": {"n": 3, "mean": 1, "median": 1, "p95": 1.9, "max": 2},
        "comments": {"n": 2, "mean": 0.5, "median": 0.5, "p95": 0.95, "max": 1},
        "views": {"n": 0, "mean": None, "median": None, "p95": None, "max": None},
        "engagement": {"n": 3, "mean": 8, "median": 7, "p95": 12.4, "max": 13},
    }
    assert engagement["reddit"]["likes"] == {
        "n": 2,
        "mean": 11,
        "median": 11,
        "p95": 19.1,
        "max": 20,
    }
    assert engagement["reddit"]["views"] == {
        "n": 2,
        "mean": 75,
        "median": 75,
        "p95": 97.5,
        "max": 100,
    }
    assert engagement["reddit"]["engagement"] == {
        "n": 3,
        "mean": 10,
        "median": 5,
        "p95": 23,
        "max": 25,
    }
    assert engagement["rss_feeds"]["engagement"] == {
        "n": 3,
        "mean": 0,
        "median": 0,
        "p95": 0,
        "max": 0,
    }
    assert engagement["_all"]["records"] == 9
    assert engagement["_all"]["likes"] == {"n": 5, "mean": 8.4, "median": 6, "p95": 18, "max": 20}
    # engagement over all nine: 13, 4, 7, 25, 5, 0, 0, 0, 0 (views never counted)
    assert engagement["_all"]["engagement"] == {
        "n": 9,
        "mean": 6,
        "median": 4,
        "p95": 20.2,
        "max": 25,
    }


def test_run_summary(conn, corpus):
    runs = _report(conn, corpus)["runs"]
    assert [r["run_id"] for r in runs] == [corpus.run1, corpus.run2]
    first, second = runs
    assert first["duration_seconds"] == 300 and first["credits_spent"] == 3
    assert first["failed_tasks"] == 1
    assert first["records_in_scope"] == 4 and first["records_by_arena"] == {"social_media": 4}
    tasks = {t["platform"]: t for t in first["tasks"]}
    assert tasks["bluesky"]["credits_settled"] == 3 and tasks["bluesky"]["duplicates_skipped"] == 1
    assert tasks["reddit"]["error"] == "HTTP 403 from reddit"
    assert tasks["reddit"]["records_rejected"] == 2 and tasks["reddit"]["duration_seconds"] == 30
    assert second["duration_seconds"] is None and second["tasks"] == []
    assert second["records_by_arena"] == {"social_media": 2, "news_media": 3}
    only_first = _report(conn, corpus, collection_run_id=corpus.run1)
    assert [r["run_id"] for r in only_first["runs"]] == [corpus.run1]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"platforms": ["bluesky", "reddit"]}, 6),  # every value of the list, not just the first
        ({"arenas": ["news_media"]}, 3),
        ({"arenas": ["news_media", "social_media"]}, 9),
        ({"date_from": "2026-03-01", "date_to": "2026-03-05"}, 3),  # inclusive whole days
        ({"date_to": "2026-03-05T10:00:00+00:00"}, 6),  # datetimes are inclusive instants
        ({"languages": ["en"]}, 1),  # base code of en-GB
        ({"terms": ["skat"]}, 2),
        ({"terms": ["skat", "grøn"]}, 5),
    ],
)
def test_filters(conn, corpus, filters, expected):
    assert _report(conn, corpus, **filters)["total_records"] == expected


def test_run_filter(conn, corpus):
    assert _report(conn, corpus, collection_run_id=corpus.run1)["total_records"] == 4
    assert _report(conn, corpus, collection_run_id=corpus.run2)["total_records"] == 5


def test_empty_design_gives_empty_valid_report(conn, corpus):
    report = descriptive_report(conn, AnalysisScope(corpus.empty_design))
    assert report["total_records"] == 0
    assert report["volume"] == [] and report["top_actors"] == [] and report["top_terms"] == []
    assert report["runs"] == []
    assert report["engagement"]["_all"]["records"] == 0
    assert report["engagement"]["_all"]["likes"]["mean"] is None
