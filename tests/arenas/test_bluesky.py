from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply, json_reply

CREDS = {"handle": "observatory.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}
WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def _collector(replay, creds=CREDS):
    return build_collector("bluesky", credentials=creds)


def _login(replay):
    replay.add(
        "/xrpc/com.atproto.server.createSession", file_reply("bsky_session.json"), method="POST"
    )


def test_search_pages_through_cursor_and_normalizes(replay):
    _login(replay)
    replay.add(SEARCH, file_reply("bsky_search_page2.json"), q="grønland", cursor="25")
    replay.add(SEARCH, file_reply("bsky_search_page1.json"), q="grønland")
    collector = _collector(replay)
    pages = list(collector.collect(CollectionRequest(**WINDOW, terms=[SearchTerm("grønland")])))
    assert [len(p.records) for p in pages] == [2, 1]
    assert pages[0].rejected == 1  # the post without a uri
    first = pages[0].records[0]
    assert first.platform_id == "at://did:plc:abc123/app.bsky.feed.post/3kq2xyzabc"
    assert first.url == "https://bsky.app/profile/mette.bsky.social/post/3kq2xyzabc"
    assert first.published_at == datetime(2026, 11, 18, 9, 12, 33, 123000, tzinfo=UTC)
    assert (first.likes_count, first.shares_count, first.comments_count) == (31, 7, 4)
    assert first.author_platform_id == "did:plc:abc123"
    assert first.author_display_name == "Mette F."
    assert first.language == "da" and first.content_type == "post"
    assert first.media_urls == [
        "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:abc123/img1@jpeg"
    ]
    assert first.raw_metadata["facets"][0]["features"][0]["tag"] == "dkpol"
    assert first.hash_source == first.text_content
    reply = pages[0].records[1]
    assert reply.published_at == datetime(2026, 11, 17, 19, 0, tzinfo=UTC)
    assert reply.raw_metadata["reply"]["root"]["cid"] == "bafyroot"
    assert reply.media_urls == [
        "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:def456/img2@jpeg"
    ]
    assert reply.author_display_name == "jens.dk"
    epoch = pages[1].records[0]
    assert epoch.published_at is None and "published_at_invalid" in epoch.raw_metadata
    sent = replay.requests(SEARCH)
    assert len(sent) == 2
    assert sent[0].headers["Authorization"].startswith("Bearer eyJ0eXAi")
    assert sent[0].query["lang"] == "da"
    assert sent[0].query["since"] == "2026-11-01T00:00:00.000Z"
    assert sent[0].query["until"] == "2026-11-26T00:00:00.000Z"
    login = json.loads(replay.requests("/xrpc/com.atproto.server.createSession")[0].body)
    assert login == {"identifier": CREDS["handle"], "password": CREDS["app_password"]}
    assert CREDS["app_password"] not in json.dumps(collector.rate_limit_state)
    assert collector.units_spent == 3  # createSession + two search pages


def test_and_group_is_one_query_and_429_is_retried(replay):
    _login(replay)
    replay.add(
        SEARCH,
        json_reply(
            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            429,
            **{"Retry-After": "1"},
        ),
        file_reply("bsky_search_page2.json", **{"RateLimit-Remaining": "2999"}),
    )
    terms = [SearchTerm("grønland", group=1), SearchTerm("nye aftale", "phrase", group=1)]
    collector = _collector(replay)
    pages = list(collector.collect(CollectionRequest(**WINDOW, terms=terms)))
    assert sum(len(p.records) for p in pages) == 1
    queries = [s.query["q"] for s in replay.requests(SEARCH)]
    assert queries == ['grønland "nye aftale"'] * 2
    state = collector.rate_limit_state
    assert state["retries"] == 1
    assert state["last_retry_after"] == 0.2  # Retry-After 1 s, capped by ARENA_HTTP_MAX_WAIT
    host = replay.url.split("//")[1]
    assert state["hosts"][host]["ratelimit-remaining"] == "2999"


def test_refused_or_missing_credentials_raise_auth_error_without_the_secret(replay):
    replay.add(
        "/xrpc/com.atproto.server.createSession",
        json_reply(
            {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401
        ),
        method="POST",
    )
    request = CollectionRequest(**WINDOW, terms=[SearchTerm("grønland")])
    with pytest.raises(ArenaAuthError) as err:
        list(_collector(replay).collect(request))
    assert "Invalid identifier or password" in str(err.value)
    assert CREDS["app_password"] not in str(err.value)
    with pytest.raises(ArenaAuthError, match="app_password"):
        list(_collector(replay, {"handle": "x"}).collect(request))


def test_malformed_json_skips_that_query_only_and_all_failing_fails_the_task(replay):
    _login(replay)
    replay.add(
        SEARCH, Reply(200, b'{"posts": [ {"uri": ', {"Content-Type": "application/json"}), q="a"
    )
    replay.add(SEARCH, file_reply("bsky_search_page2.json"), q="grønland")
    request = CollectionRequest(**WINDOW, terms=[SearchTerm("a"), SearchTerm("grønland")])
    pages = list(_collector(replay).collect(request))
    assert sum(len(p.records) for p in pages) == 1
    [error] = [e for p in pages for e in p.errors]
    assert "query 'a'" in error and "not valid JSON" in error
    with pytest.raises(ArenaError, match="every source failed"):
        list(_collector(replay).collect(CollectionRequest(**WINDOW, terms=[SearchTerm("a")])))


def test_persistent_500_and_empty_page(replay):
    _login(replay)
    replay.add(SEARCH, Reply(500, b"Internal Server Error"), q="down")
    replay.add(SEARCH, json_reply({"posts": [], "cursor": "x"}), q="empty")
    request = CollectionRequest(**WINDOW, terms=[SearchTerm("down"), SearchTerm("empty")])
    pages = list(_collector(replay).collect(request))
    assert [len(p.records) for p in pages] == [0, 0]
    assert "HTTP 500 after 4 attempts" in pages[0].errors[0]
    assert len(replay.requests(SEARCH)) == 5  # 4 tries for "down", one empty page (no follow)


def test_actor_feed_stops_past_the_window(replay):
    _login(replay)
    replay.add("/xrpc/app.bsky.feed.getAuthorFeed", file_reply("bsky_author_feed.json"))
    request = CollectionRequest(**WINDOW, actors=[ActorRef("did:plc:abc123")])
    pages = list(_collector(replay).collect(request))
    assert [r.platform_id for p in pages for r in p.records] == [
        "at://did:plc:abc123/app.bsky.feed.post/3kauthor1"
    ]
    assert len(replay.requests("/xrpc/app.bsky.feed.getAuthorFeed")) == 1


def test_ten_megabyte_post_is_truncated_not_fatal(replay):
    _login(replay)
    huge = "Grønland " * (10 * 1024 * 1024 // 9)
    post = {
        "uri": "at://did:plc:big/app.bsky.feed.post/3kbig",
        "cid": "bafybig",
        "author": {"did": "did:plc:big", "handle": "big.bsky.social", "displayName": "N" * 3000},
        "record": {"text": huge, "createdAt": "2026-11-18T09:00:00Z", "langs": ["da"]},
        "likeCount": "12",
    }
    replay.add(SEARCH, json_reply({"posts": [post]}))
    pages = list(
        _collector(replay).collect(CollectionRequest(**WINDOW, terms=[SearchTerm("grønland")]))
    )
    [record] = pages[0].records
    assert len(record.text_content) == 100_000 and len(record.hash_source) == 100_000
    assert len(record.author_display_name) == 500 and record.likes_count == 12
