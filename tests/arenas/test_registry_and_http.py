from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from observatory_pipelines.arenas import rss_feeds
from observatory_pipelines.arenas.base import ArenaError, CollectionRequest, Collector, SearchTerm
from observatory_pipelines.arenas.http import ArenaHttpClient, parse_retry_after
from observatory_pipelines.arenas.registry import (
    available_platforms,
    build_collector,
    get_collector_class,
)
from tests.arenas.conftest import Reply, file_reply, json_reply

PLATFORMS = [
    "ai_chat_search",
    "bluesky",
    "common_crawl",
    "discord",
    "domain_crawler",
    "event_registry",
    "facebook",
    "file_import",
    "folketinget",
    "gdelt",
    "google_autocomplete",
    "google_search",
    "instagram",
    "majestic",
    "mastodon",
    "reddit",
    "ritzau_via",
    "rss_feeds",
    "telegram",
    "threads",
    "tiktok",
    "twitch",
    "url_scraper",
    "wayback",
    "wikipedia",
    "x_twitter",
    "youtube",
]


PAID_ONLY = {
    "ai_chat_search",
    "event_registry",
    "facebook",
    "google_search",
    "instagram",
    "majestic",
    "x_twitter",
}


def test_registry_lists_builds_and_refuses_unknown_platforms(monkeypatch):
    monkeypatch.setenv("BLUESKY_API_URL", "http://127.0.0.1:9/")
    assert available_platforms() == PLATFORMS
    for platform in PLATFORMS:
        cls = get_collector_class(platform)
        assert issubclass(cls, Collector) and cls.platform == platform
        # Paid-only arenas (no free tier) estimate 0 on it and refuse to collect.
        assert cls.supported_tiers and ("free" in cls.supported_tiers or platform in PAID_ONLY)
    with pytest.raises(KeyError, match="myspace"):
        get_collector_class("myspace")
    collector = build_collector(
        "bluesky",
        credentials={"handle": "h"},
        rate_limit_state={"requests": 3},
    )
    assert collector.base_url == "http://127.0.0.1:9" and collector.rate_limit_state == {
        "requests": 3
    }
    assert (
        get_collector_class("youtube").needs_credentials
        and not get_collector_class("gdelt").needs_credentials
    )


def test_free_arenas_estimate_zero_credits():
    window = dict(
        date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 2, tzinfo=UTC)
    )
    request = CollectionRequest(**window, terms=[SearchTerm("a"), SearchTerm("b")])
    for platform in PLATFORMS:
        assert build_collector(platform).estimate_credits(request) == 0
    assert build_collector("gdelt").estimate_units(request) == 2


def test_health_checks_against_local_server(replay, monkeypatch):
    monkeypatch.setattr(rss_feeds, "HEALTH_FEED", f"{replay.url}/feed")
    replay.add("/xrpc/_health", json_reply({"version": "0.4"}))
    replay.add("/api/v2/doc/doc", json_reply({"articles": []}))
    replay.add("/feed", file_reply("rss_atom_updated.xml"))
    replay.add("/videoCategories", json_reply({"items": []}))
    assert build_collector("bluesky").health_check().ok
    assert build_collector("gdelt").health_check().ok
    assert build_collector("rss_feeds").health_check().ok
    assert build_collector("youtube", credentials={"api_key": "k"}).health_check().ok
    assert not build_collector("youtube").health_check().ok  # no key
    assert build_collector("file_import").health_check().ok


def test_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(later) <= 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_network_errors_and_oversized_bodies_become_arena_errors(replay, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens
    state: dict = {}
    with pytest.raises(ArenaError, match="network error"):
        ArenaHttpClient(state).get(f"http://127.0.0.1:{port}/x?key=SECRET")
    assert state["retries"] == 3
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    replay.add("/big", Reply(200, b"x" * (2 * 1024 * 1024)))
    with pytest.raises(ArenaError, match="larger than 1 MB") as err:
        ArenaHttpClient({}).get(f"{replay.url}/big?key=SECRET")
    assert "SECRET" not in str(err.value)
