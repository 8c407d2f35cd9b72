"""TikTok Research API from recorded responses on the replay server (127.0.0.1), which the
operator's TIKTOK_API_URL names as the API host."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.arenas.tiktok import VIDEO_FIELDS, day_slices
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply, json_reply

TOKEN = "/v2/oauth/token/"
QUERY = "/v2/research/video/query/"
FROM, TO = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)
CREDS = {"client_key": "awtest-client-key", "client_secret": "test-secret-0123456789"}


def _reply(name: str, status: int = 200, **kwargs) -> Reply:
    return file_reply(f"tiktok/{name}", status, **kwargs)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("TIKTOK_API_URL", replay.url)
    replay.add(TOKEN, _reply("token.json"), method="POST")
    return replay


def _collector():
    return build_collector("tiktok", credentials=dict(CREDS))


def _bodies(replay) -> list[dict]:
    return [json.loads(s.body) for s in replay.requests(QUERY)]


def _request(**kwargs) -> CollectionRequest:
    return CollectionRequest(
        date_from=kwargs.pop("date_from", FROM), date_to=kwargs.pop("date_to", TO), **kwargs
    )


def test_pages_to_the_end_with_cursor_and_search_id_and_maps_videos(api):
    api.add(QUERY, _reply("videos_page1.json"), _reply("videos_page2.json"), method="POST")
    collector = _collector()
    pages = list(collector.collect(_request(terms=[SearchTerm("grønland")])))

    assert [len(p.records) for p in pages] == [2, 1]
    assert pages[0].rejected == 1 and "without id" in pages[0].rejection_reasons[0]
    assert collector.rate_limit_state["other_region_dropped"] == 1  # the Swedish account
    [token] = api.requests(TOKEN)
    form = parse_qs(token.body.decode())
    assert form == {
        "client_key": ["awtest-client-key"],
        "client_secret": ["test-secret-0123456789"],
        "grant_type": ["client_credentials"],
    }
    sent = api.requests(QUERY)
    assert all(s.query["fields"] == VIDEO_FIELDS for s in sent)  # fields in the URL
    assert all(s.headers["Authorization"] == "Bearer clt.test-access-token" for s in sent)
    first, second = _bodies(api)
    assert first["query"] == {
        "and": [
            {"operation": "IN", "field_name": "region_code", "field_values": ["DK"]},
            {"operation": "EQ", "field_name": "keyword", "field_values": ["grønland"]},
        ]
    }
    assert (first["start_date"], first["end_date"], first["max_count"]) == (
        "20261101", "20261107", 100,
    )  # fmt: skip
    assert first["cursor"] == 0 and "search_id" not in first
    assert (second["cursor"], second["search_id"]) == (100, "7414000000000000001")
    video = pages[0].records[0]
    assert (video.platform, video.arena, video.content_type, video.language) == (
        "tiktok", "social_media", "video", "da",
    )  # fmt: skip
    assert video.platform_id == "7431000000000000001"
    assert video.url == "https://www.tiktok.com/@dansk_debat/video/7431000000000000001"
    assert video.title == "Grønland og Danmark 🇩🇰🇬🇱 #grønland #politik"
    assert video.text_content.endswith(
        "\n[transcript] hej med jer, i dag taler vi om æbler og ål 😀"
    )
    assert video.published_at == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    assert (video.views_count, video.likes_count, video.shares_count, video.comments_count) == (
        34000, 1500, 12, 77,
    )  # fmt: skip
    assert video.author_platform_id == "dansk_debat"
    assert video.raw_metadata["hashtag_names"] == ["grønland", "politik"]
    undated = pages[0].records[1]
    assert undated.published_at is None and undated.views_count == 900
    assert pages[1].records[0].title == "x" * 97 + "…"
    # 1 token + 2 research requests, each counted
    assert collector.units_spent == 3 and collector.rate_limit_state["research_requests"] == 2
    assert credits_for("tiktok", "free", collector.units_spent) == 0


def test_a_window_longer_than_30_days_is_split(api):
    api.add(QUERY, _reply("videos_empty.json"), method="POST")
    request = _request(
        date_from=datetime(2026, 9, 1, tzinfo=UTC),
        date_to=datetime(2026, 11, 15, tzinfo=UTC),
        terms=[SearchTerm("valg")],
    )
    assert day_slices(request)[0][1].isoformat() == "2026-09-30"
    pages = list(_collector().collect(request))
    assert [len(p.records) for p in pages] == [0, 0, 0]  # empty pages end each slice
    assert [(b["start_date"], b["end_date"]) for b in _bodies(api)] == [
        ("20260901", "20260930"),
        ("20261001", "20261030"),
        ("20261031", "20261114"),
    ]
    assert _collector().estimate_units(request) == 1 + 3 + 100  # token, 3 slices, cap pages


def test_terms_in_a_group_are_anded_and_actors_query_by_username(api):
    api.add(QUERY, _reply("videos_empty.json"), method="POST")
    terms = [SearchTerm("SU", group=1), SearchTerm("#reform", group=1)]
    request = _request(terms=terms, actors=[ActorRef(None, "@dansk_debat")])
    list(_collector().collect(request))
    keyword, actor = _bodies(api)
    assert [c["field_values"] for c in keyword["query"]["and"][1:]] == [["SU"], ["reform"]]
    assert actor["query"]["and"][1] == {
        "operation": "EQ", "field_name": "username", "field_values": ["dansk_debat"],
    }  # fmt: skip


def test_an_unknown_account_is_skipped_by_name_and_the_rest_goes_on(api):
    api.add(
        QUERY,
        _reply("invalid_params.json", 400),
        _reply("videos_page2.json"),
        method="POST",
    )
    request = _request(actors=[ActorRef(None, "findes_ikke"), ActorRef(None, "kbh_nyt")])
    pages = list(_collector().collect(request))
    assert [len(p.records) for p in pages] == [0, 1]
    [error] = pages[0].errors
    assert "'@findes_ikke'" in error and "HTTP 400" in error and "username not found" in error


def test_a_5xx_is_retried_then_succeeds(api):
    api.add(
        QUERY,
        _reply("internal_error.json", 500),
        _reply("videos_page2.json"),
        method="POST",
    )
    collector = _collector()
    pages = list(collector.collect(_request(terms=[SearchTerm("valg")])))
    assert [len(p.records) for p in pages] == [1]
    assert collector.rate_limit_state["retries"] == 1
    # TikTok answered both attempts: both count against its quota, plus the token request
    assert collector.rate_limit_state["research_requests"] == 2 and collector.units_spent == 3


def test_the_daily_quota_signal_raises_quota_exceeded_so_the_pool_rotates(api):
    api.add(QUERY, _reply("quota_exceeded.json", 429), method="POST")
    with pytest.raises(ArenaQuotaExceeded, match="daily quota"):
        list(_collector().collect(_request(terms=[SearchTerm("valg")])))
    assert len(api.requests(QUERY)) == 1  # not retried: waiting does not bring it back


def test_an_invalid_token_is_an_auth_error(api):
    api.add(QUERY, _reply("token_invalid.json", 401), method="POST")
    with pytest.raises(ArenaAuthError, match="HTTP 401"):
        list(_collector().collect(_request(terms=[SearchTerm("valg")])))


def test_a_refused_client_is_an_auth_error_without_the_secret(api):
    api.routes.clear()
    api.add(TOKEN, _reply("token_invalid_client.json", 401), method="POST")
    with pytest.raises(ArenaAuthError, match="client token refused") as caught:
        list(_collector().collect(_request(terms=[SearchTerm("valg")])))
    assert "test-secret" not in str(caught.value) and "invalid_client" in str(caught.value)
    assert api.requests(QUERY) == []


def test_the_run_stops_cleanly_at_its_daily_request_limit(api):
    api.add(QUERY, _reply("videos_page1.json"), method="POST")  # has_more forever
    collector = _collector()
    request = _request(terms=[SearchTerm("valg")], options={"daily_requests": 2})
    pages = list(collector.collect(request))
    assert [len(p.records) for p in pages] == [2, 0, 0]  # page 2 repeats page 1's ids
    assert "daily quota of 2 research requests is spent" in pages[-1].errors[0]
    assert pages[-1].skipped[0].reason == "stopped"
    assert collector.rate_limit_state["stopped"] == {"reason": "daily_quota", "requests": 2}
    assert len(api.requests(QUERY)) == 2
    assert collector.estimate_units(request) == 1 + 2  # never above the limit


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(502, (b"<html><body>Bad Gateway</body></html>"), {"Content-Type": "text/html"}),
         "HTTP 502 after 4 attempts"),
        (file_reply("tiktok/html_error.html", 200, content_type="text/html"),
         "an HTML page where JSON was expected"),
        (file_reply("tiktok/malformed.json"), "is not valid JSON"),
        (json_reply({"error": {"code": "ok"}}), "has no 'data' object"),
    ],
)  # fmt: skip
def test_bad_replies_fail_the_task_with_a_clear_error(api, reply, expected):
    api.add(QUERY, reply, method="POST")
    with pytest.raises(ArenaError, match="every source failed") as caught:
        list(_collector().collect(_request(terms=[SearchTerm("valg")])))
    assert expected in str(caught.value)
    assert "127.0.0.1" in str(caught.value) and QUERY in str(caught.value)


def test_a_response_over_the_size_cap_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    big = json.dumps({"data": {"videos": [], "pad": "x" * (1024 * 1024 + 10)}}).encode()
    api.add(QUERY, Reply(200, big, {"Content-Type": "application/json"}), method="POST")
    with pytest.raises(ArenaError, match="larger than 1 MB refused"):
        list(_collector().collect(_request(terms=[SearchTerm("valg")])))


def test_a_design_cannot_name_the_host():
    cls = get_collector_class("tiktok")
    cls.check_options({"region_codes": ["DK"], "daily_requests": 10})
    with pytest.raises(ArenaOptionError, match="TIKTOK_API_URL"):
        cls.check_options({"base_url": "http://evil.example"})


def test_health_check_reports_the_token(api):
    assert _collector().health_check().ok
    api.routes.clear()
    api.add(TOKEN, _reply("token_invalid_client.json", 401), method="POST")
    status = _collector().health_check()
    assert not status.ok and "client token refused" in status.detail


def test_an_out_of_window_video_is_skipped(api):
    api.add(QUERY, _reply("videos_page2.json"), method="POST")
    request = _request(date_from=FROM, date_to=FROM + timedelta(days=2), terms=[SearchTerm("x")])
    pages = list(_collector().collect(request))
    assert [len(p.records) for p in pages] == [0]  # created 5 Nov, window ends 3 Nov


COMMENTS = "/v2/research/video/comment/list/"


def test_comments_are_paged_per_video_and_a_failing_video_is_skipped_by_name(api):
    api.add(QUERY, _reply("videos_page1.json"), _reply("videos_page2.json"), method="POST")
    api.add(
        COMMENTS,
        _reply("comments_page1.json"),
        _reply("comments_page2.json"),
        _reply("invalid_params.json", 400),
        method="POST",
    )
    collector = _collector()
    request = _request(terms=[SearchTerm("grønland")], options={"include_comments": True})
    pages = list(collector.collect(request))

    records = [r for p in pages for r in p.records]
    comments = [r for r in records if r.content_type == "comment"]
    assert [c.platform_id for c in comments] == ["7432000000000000001", "7432000000000000002"]
    first = comments[0]
    assert first.text_content == "Helt enig! 👏 Grønland må selv bestemme"
    assert (first.url, first.author_platform_id, first.language) == (None, None, "da")
    assert first.raw_metadata["parent_post_id"] == "7431000000000000001"
    assert (first.likes_count, first.comments_count) == (14, 2)
    assert first.published_at == datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    assert sum(p.rejected for p in pages) == 2  # a video and a comment without id
    [error] = [e for p in pages for e in p.errors]
    assert error.startswith("tiktok comments of 7431000000000000003:") and "HTTP 400" in error
    sent = api.requests(COMMENTS)
    assert all(s.query["fields"].startswith("id,video_id,text") for s in sent)
    bodies = [json.loads(s.body) for s in sent]
    assert bodies == [
        {"video_id": 7431000000000000001, "max_count": 100, "cursor": 0},
        {"video_id": 7431000000000000001, "max_count": 100, "cursor": 100},
        {"video_id": 7431000000000000003, "max_count": 100, "cursor": 0},
    ]  # the last video says 0 comments: not asked
    assert collector.rate_limit_state["research_requests"] == 2 + 3
