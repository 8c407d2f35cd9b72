from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.reddit import DANISH_SUBREDDITS
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply, json_reply

CREDS = {
    "client_id": "cid-123",
    "client_secret": "s3cr3t-value",
    "user_agent": "observatory-test/0.1 by u/observatory",
}
WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
COMBINED = "/r/" + "+".join(DANISH_SUBREDDITS) + "/search"


def _collector(replay, creds=CREDS):
    replay.add("/api/v1/access_token", file_reply("reddit_token.json"), method="POST")
    return build_collector("reddit", credentials=creds)


def test_search_follows_after_until_past_window_and_normalizes(replay):
    limits = {"X-Ratelimit-Used": "2", "X-Ratelimit-Remaining": "98.0", "X-Ratelimit-Reset": "412"}
    replay.add(COMBINED, file_reply("reddit_search_page2.json"), after="t3_1h2b3c4")
    replay.add(COMBINED, file_reply("reddit_search_page1.json", **limits))
    collector = _collector(replay)
    request = CollectionRequest(**WINDOW, terms=[SearchTerm("grønland")])
    pages = list(collector.collect(request))
    assert [len(p.records) for p in pages] == [4, 1]  # the 2024 post ends the paging
    records = {r.platform_id: r for p in pages for r in p.records}
    post = records["1h2a1b2"]
    assert (
        post.url
        == "https://www.reddit.com/r/Denmark/comments/1h2a1b2/hvad_mener_i_om_den_nye_grønlandsaftale/"
    )
    assert post.title == "Hvad mener I om den nye Grønlandsaftale?"
    # selftext is the markdown the author wrote (raw_json=1: no entity escaping), stored as
    # written: nothing in it is HTML to strip (issue 13.6)
    assert (
        post.text_content == "Jeg synes <b>debatten</b> mangler nuancer. &amp; hvad med Færøerne?"
    )
    assert post.published_at == datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
    assert (post.likes_count, post.shares_count, post.comments_count) == (152, 2, 87)
    assert (post.author_platform_id, post.author_display_name) == ("t2_abc123", "dansk_debattør")
    assert post.raw_metadata["subreddit"] == "Denmark" and post.raw_metadata["flair"] == "Politik"
    image = records["1h2a9z9"]
    assert image.media_urls == ["https://i.redd.it/x8k2m1grnland.png"] and image.likes_count == 41
    assert image.text_content is None
    removed = records["1h2a7r7"]
    assert removed.text_content is None and removed.author_display_name is None
    assert records["1h2a5p5"].title == "Indlæg uden id"  # id parsed back from the permalink
    sent = replay.requests(COMBINED)
    assert len(sent) == 2
    assert sent[0].query["q"] == "grønland" and sent[0].query["sort"] == "new"
    assert sent[0].headers["User-Agent"] == CREDS["user_agent"]
    assert sent[0].headers["Authorization"].startswith("bearer eyJ")
    token_call = replay.requests("/api/v1/access_token")[0]
    assert (
        token_call.headers["Authorization"]
        == "Basic " + base64.b64encode(b"cid-123:s3cr3t-value").decode()
    )
    assert token_call.body == b"grant_type=client_credentials"
    host = replay.url.split("//")[1]
    assert collector.rate_limit_state["hosts"][host]["x-ratelimit-remaining"] == "98.0"
    assert "s3cr3t" not in str(collector.rate_limit_state)


def test_private_subreddit_403_retries_per_subreddit(replay):
    replay.add(
        "/r/Denmark+privatesub/search", json_reply({"message": "Forbidden", "error": 403}, 403)
    )
    replay.add("/r/privatesub/search", json_reply({"message": "Forbidden", "error": 403}, 403))
    replay.add("/r/Denmark/search", file_reply("reddit_search_page2.json"))
    request = CollectionRequest(
        **WINDOW,
        language="en",
        terms=[SearchTerm("greenland", group=1), SearchTerm("rally", group=1)],
        options={"subreddits": ["Denmark", "r/privatesub"]},
    )
    pages = list(_collector(replay).collect(request))
    assert [r.platform_id for p in pages for r in p.records] == ["1h1z0z0"]
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 1 and "r/privatesub" in errors[0] and "403" in errors[0]
    assert replay.requests("/r/Denmark/search")[0].query["q"] == "greenland rally"


def test_actor_listings_and_unknown_user_skipped(replay):
    replay.add("/user/kortnørd/submitted", file_reply("reddit_search_page2.json"))
    replay.add(
        "/user/kortnørd/comments",
        json_reply(
            {
                "kind": "Listing",
                "data": {
                    "after": None,
                    "children": [
                        {
                            "kind": "t1",
                            "data": {
                                "id": "k9c1",
                                "body": "Enig, <i>godt</i> kort",
                                "author": "kortnørd",
                                "author_fullname": "t2_def456",
                                "created_utc": 1794911500,
                                "score": 4,
                                "permalink": "/r/dkpolitik/comments/1h2a9z9/x/k9c1/",
                                "link_id": "t3_1h2a9z9",
                                "parent_id": "t1_k9b0",
                            },
                        },
                    ],
                },
            }
        ),
    )
    replay.add("/user/ghost/submitted", json_reply({"message": "Not Found", "error": 404}, 404))
    replay.add("/user/ghost/comments", json_reply({"message": "Not Found", "error": 404}, 404))
    request = CollectionRequest(
        **WINDOW, actors=[ActorRef(None, "kortnørd"), ActorRef(None, "ghost")]
    )
    pages = list(_collector(replay).collect(request))
    records = {r.platform_id: r for p in pages for r in p.records}
    assert set(records) == {"1h1z0z0", "k9c1"}
    comment = records["k9c1"]
    assert comment.content_type == "comment" and comment.text_content == "Enig, <i>godt</i> kort"
    assert comment.raw_metadata["parent_id"] == "t1_k9b0"  # what it answers: the reply network
    assert sum(len(p.errors) for p in pages) == 2


def test_refused_token_and_missing_user_agent_are_auth_errors(replay):
    replay.add("/api/v1/access_token", json_reply({"error": "invalid_grant"}, 401), method="POST")
    collector = build_collector("reddit", credentials=CREDS)
    request = CollectionRequest(**WINDOW, terms=[SearchTerm("x")])
    with pytest.raises(ArenaAuthError, match="HTTP 401"):
        list(collector.collect(request))
    no_agent = {k: v for k, v in CREDS.items() if k != "user_agent"}
    with pytest.raises(ArenaAuthError, match="user_agent"):
        list(build_collector("reddit", credentials=no_agent).collect(request))
    assert not collector.health_check().ok


def test_malformed_second_page_keeps_the_first(replay):
    replay.add(
        COMBINED,
        Reply(
            200, b'{"kind": "Listing", "data": {"children": [', {"Content-Type": "application/json"}
        ),
        after="t3_1h2b3c4",
    )
    replay.add(COMBINED, file_reply("reddit_search_page1.json"))
    pages = list(
        _collector(replay).collect(CollectionRequest(**WINDOW, terms=[SearchTerm("grønland")]))
    )
    assert [len(p.records) for p in pages] == [4, 0]
    assert "not valid JSON" in pages[1].errors[0]


def test_include_comments_fetches_top_level_comments(replay):
    replay.add(COMBINED, file_reply("reddit_search_page2.json"))
    post_listing = {
        "kind": "Listing",
        "data": {"children": [{"kind": "t3", "data": {"id": "1h1z0z0"}}]},
    }
    comments = {
        "kind": "Listing",
        "data": {
            "after": None,
            "children": [
                {
                    "kind": "t1",
                    "data": {
                        "id": "c1",
                        "body": "Jeg kommer!",
                        "author": "a",
                        "created_utc": 1794740000,
                        "score": 3,
                        "permalink": "/r/copenhagen/comments/1h1z0z0/greenland_rally/c1/",
                    },
                },
                {
                    "kind": "t1",
                    "data": {
                        "id": "c2",
                        "body": "[deleted]",
                        "author": "[deleted]",
                        "created_utc": 1794740100,
                        "score": 0,
                        "permalink": "/r/copenhagen/comments/1h1z0z0/greenland_rally/c2/",
                    },
                },
                {"kind": "more", "data": {"count": 12, "children": ["c3", "c4"]}},
            ],
        },
    }
    replay.add("/comments/1h1z0z0", json_reply([post_listing, comments]))
    request = CollectionRequest(
        **WINDOW, terms=[SearchTerm("greenland")], options={"include_comments": True}
    )
    pages = list(_collector(replay).collect(request))
    records = {r.platform_id: r for p in pages for r in p.records}
    assert set(records) == {"1h1z0z0", "c1", "c2"}
    assert records["c1"].content_type == "comment" and records["c1"].text_content == "Jeg kommer!"
    assert records["c2"].text_content is None and records["c2"].author_display_name is None
    assert replay.requests("/comments/1h1z0z0")[0].query["depth"] == "1"


def test_persistent_500_on_search_fails_only_with_a_readable_error(replay):
    replay.add(COMBINED, Reply(500, b"upstream error"))
    with pytest.raises(ArenaError, match="HTTP 500 after 4 attempts"):
        list(
            _collector(replay).collect(CollectionRequest(**WINDOW, terms=[SearchTerm("grønland")]))
        )
