"""Engagement figures of a known corpus: each definition, NULL where nothing is counted."""

from __future__ import annotations

from observatory_pipelines.enrichments.catalog import ENGAGEMENT
from observatory_pipelines.enrichments.service import enrich

from .conftest import insert_record


def test_a_known_corpus_gives_exactly_the_known_figures(conn, database_url):
    insert_record(conn, 1, platform_id="bsky", platform="bluesky",
                  likes_count=10, shares_count=5, comments_count=3)  # fmt: skip
    # Reddit's net score is negative: it counts in the raw sum, not in the composite
    insert_record(conn, 2, platform_id="reddit", platform="reddit",
                  likes_count=-4, comments_count=6)  # fmt: skip
    insert_record(conn, 3, platform_id="yt", platform="youtube",
                  views_count=100_000, likes_count=2_000, comments_count=300)  # fmt: skip
    insert_record(conn, 4, platform_id="rss", platform="rss_feeds")
    insert_record(conn, 5, platform_id="masto", platform="mastodon",
                  likes_count=0, shares_count=0, comments_count=0)  # fmt: skip
    insert_record(conn, 6, platform_id="x", platform="x_twitter", likes_count=1_000_000_000)

    result = enrich(database_url, ENGAGEMENT)

    assert result["rows_written"] == {"enrichment_engagement": 6}
    rows = conn.execute(
        "SELECT r.platform_id, e.eng_likes_shares_comments, e.eng_composite, e.eng_weighted, "
        "e.eng_score FROM enrichment_engagement e JOIN content_records r "
        "ON r.id = e.record_id AND r.published_at = e.published_at ORDER BY r.platform_id"
    ).fetchall()
    assert rows == [
        ("bsky", 18, 18, 23.0, 25.42),  # 10 + 2*5 + 3; ln(24) * 8
        ("masto", 0, 0, 0.0, 0.0),  # counted, and zero: 0, not NULL
        ("reddit", 2, 6, 12.0, 20.52),  # 2*6; ln(13) * 8
        ("rss", None, None, None, None),  # no counts at all: NULL, not 0
        ("x", 1_000_000_000, 1_000_000_000, 500_000_000.0, 100.0),  # capped at 100
        ("yt", 2_300, 102_300, 600.0, 38.39),  # 0.001*100000 + 0.1*2000 + 300; ln(601) * 6
    ]


def test_the_percentile_view_ranks_within_platform_and_month(conn, database_url):
    for n, likes in enumerate([1, 5, 9, 20]):
        insert_record(conn, n, platform_id=f"b{n}", platform="bluesky", likes_count=likes)
    insert_record(conn, 10, platform_id="r", platform="reddit", likes_count=3)
    insert_record(conn, 11, platform_id="n", platform="rss_feeds")
    enrich(database_url, ENGAGEMENT)
    rows = conn.execute(
        "SELECT r.platform_id, p.eng_pct_platform::float FROM enrichment_engagement_pct p "
        "JOIN content_records r ON r.id = p.record_id AND r.published_at = p.published_at "
        "ORDER BY r.platform_id"
    ).fetchall()
    assert rows == [("b0", 0.0), ("b1", 0.3333), ("b2", 0.6667), ("b3", 1.0), ("r", 0.0)]
