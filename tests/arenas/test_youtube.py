from __future__ import annotations

from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply, json_reply

KEY = "AIzaSyTESTKEY-0123456789abcdef"
WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
TERMS = [
    SearchTerm("grønland", group=1),
    SearchTerm("aftale", group=1),
    SearchTerm("rigsfællesskab"),
]


def _collector(replay):
    return build_collector("youtube", credentials={"api_key": KEY})


def test_search_pages_then_video_statistics(replay):
    replay.add("/search", file_reply("yt_search_page2.json"), pageToken="CDIQAA")
    replay.add("/search", file_reply("yt_search_page1.json"))
    replay.add("/videos", file_reply("yt_videos_1.json"), id="dQw4w9WgXcA,tv2Grnld001")
    replay.add(
        "/videos", json_reply({"kind": "youtube#videoListResponse", "items": []}), id="gone0000001"
    )
    collector = _collector(replay)
    pages = list(collector.collect(CollectionRequest(**WINDOW, terms=TERMS)))
    assert [len(p.records) for p in pages] == [2, 0]
    assert pages[0].rejected == 1  # the channel search result has no videoId
    assert pages[1].rejected == 1  # deleted video not returned by /videos
    video = pages[0].records[0]
    assert video.platform_id == "dQw4w9WgXcA" and video.content_type == "video"
    assert video.url == "https://www.youtube.com/watch?v=dQw4w9WgXcA"
    assert (video.views_count, video.likes_count, video.comments_count) == (48213, 1022, 311)
    assert video.language == "da"
    assert video.author_platform_id == "UCdrnyheder000000000000"
    assert video.media_urls == ["https://i.ytimg.com/vi/dQw4w9WgXcA/hqdefault.jpg"]
    assert video.raw_metadata["category_name"] == "News & Politics"
    assert video.raw_metadata["item"]["contentDetails"]["duration"] == "PT4M13S"
    assert (
        video.hash_source
        == "Grønland og Danmark: hvad nu?\nDR Nyheder forklarer aftalen.\n\nLæs mere på dr.dk"
    )
    no_likes = pages[0].records[1]
    assert no_likes.likes_count is None and no_likes.views_count == 1200
    assert no_likes.media_urls == ["https://i.ytimg.com/vi/tv2Grnld001/default.jpg"]
    search = replay.requests("/search")
    assert len(search) == 2
    assert search[0].query["q"] == "grønland aftale|rigsfællesskab"
    assert search[0].query["publishedAfter"] == "2026-11-01T00:00:00Z"
    assert search[0].query["regionCode"] == "DK" and search[0].query["key"] == KEY
    # the duplicate id on page 2 is not fetched again
    assert [r.query["id"] for r in replay.requests("/videos")] == [
        "dQw4w9WgXcA,tv2Grnld001",
        "gone0000001",
    ]
    assert collector.rate_limit_state["quota_units_used"] == 2 * 100 + 2
    assert collector.units_spent == 2 * 100 + 2


def test_quota_and_key_errors(replay):
    replay.add("/search", file_reply("yt_quota_exceeded.json", status=403))
    request = CollectionRequest(**WINDOW, terms=TERMS)
    with pytest.raises(ArenaQuotaExceeded) as quota:
        list(_collector(replay).collect(request))
    assert "exceeded your" in str(quota.value) and KEY not in str(quota.value)
    replay.routes.clear()
    replay.add("/search", file_reply("yt_key_invalid.json", status=400))
    with pytest.raises(ArenaAuthError, match="API key not valid") as auth:
        list(_collector(replay).collect(request))
    assert KEY not in str(auth.value)
    replay.routes.clear()
    replay.add(
        "/search",
        json_reply(
            {"error": {"code": 403, "message": "Forbidden", "errors": [{"reason": "forbidden"}]}},
            403,
        ),
    )
    with pytest.raises(ArenaAuthError):
        list(_collector(replay).collect(request))


def test_500_then_success_and_persistent_500_on_videos(replay):
    replay.add("/search", Reply(500, b"backend error"), file_reply("yt_search_page2.json"))
    replay.add("/videos", Reply(503, b"unavailable"))
    pages = []
    with pytest.raises(ArenaError, match="every source failed") as err:
        for page in _collector(replay).collect(CollectionRequest(**WINDOW, terms=TERMS)):
            pages.append(page)
    assert len(replay.requests("/search")) == 2  # the 500 was retried
    [page] = pages
    assert page.records == [] and "/videos: HTTP 503 after 4 attempts" in page.errors[0]
    assert KEY not in str(err.value)


def test_channel_feed_for_actors(replay):
    replay.add(
        "/feeds/videos.xml", file_reply("yt_channel_feed.xml", content_type="application/atom+xml")
    )
    replay.add("/videos", file_reply("yt_videos_1.json"))
    request = CollectionRequest(**WINDOW, actors=[ActorRef("UCdrnyheder000000000000")])
    pages = list(_collector(replay).collect(request))
    assert {r.platform_id for p in pages for r in p.records} == {"dQw4w9WgXcA", "tv2Grnld001"}
    assert replay.requests("/feeds/videos.xml")[0].query["channel_id"] == "UCdrnyheder000000000000"
    assert "/search" not in {s.path for s in replay.seen}


def test_estimate_units_follows_quota_costs():
    collector = build_collector("youtube")
    request = CollectionRequest(**WINDOW, terms=TERMS, max_records=120, tier="medium")
    assert collector.estimate_units(request) == 3 * 3 * 100 + 3
    assert collector.estimate_credits(request) == 10  # 903 units at 100 units a credit
    assert collector.estimate_credits(CollectionRequest(**WINDOW, terms=TERMS)) == 0  # free tier
