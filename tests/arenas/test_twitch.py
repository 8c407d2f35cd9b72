"""Twitch Helix through the real collector, served by the local replay server from replies of
the shape Twitch's API reference documents; whole collection runs (start_run, the
collect_query_design asset's entry point) against the real Postgres with the client
credentials in the credential pool."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.arenas.twitch import TwitchCollector
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply, load_json
from tests.collection.conftest import make_design, make_user, rows

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 12, 1, tzinfo=UTC)
TERM = "folketingsvalg"
CREDS = {"client_id": "uo6dggojyb8d6soh92zknwmi5ej1q2", "client_secret": "s3cr3t-nbvcxz-0987"}
TOKEN = load_json("twitch/token.json")["access_token"]
FRESH = load_json("twitch/token_refreshed.json")["access_token"]
H = "/helix"
USER = "141981764"


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    kind = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"twitch/{name}", status, kind, **headers)


def cursor(name: str) -> str:
    return load_json(f"twitch/{name}")["pagination"]["cursor"]


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("TWITCH_API_URL", f"{replay.url}/helix")
    monkeypatch.setenv("TWITCH_AUTH_URL", replay.url)
    replay.add("/oauth2/token", reply("token.json"), method="POST")
    return replay


def search(api, *first: Reply) -> None:
    api.add(f"{H}/search/channels", reply("search_channels_page2.json"),
            after=cursor("search_channels_page1.json"))  # fmt: skip
    api.add(f"{H}/search/channels", *(first or (reply("search_channels_page1.json"),)))


def live(api) -> None:
    api.add(f"{H}/streams", reply("streams_users.json"), user_id=USER)
    api.add(f"{H}/streams", reply("streams_da_page2.json"), language="da",
            after=cursor("streams_da_page1.json"))  # fmt: skip
    api.add(f"{H}/streams", reply("streams_da_page1.json"), language="da")


def channel(api, *first_videos: Reply) -> None:
    api.add(f"{H}/users", reply("users.json"))
    api.add(f"{H}/videos", reply("videos_page2.json"), after=cursor("videos_page1.json"))
    api.add(f"{H}/videos", *(first_videos or (reply("videos_page1.json"),)), user_id=USER)
    api.add(f"{H}/clips", reply("clips_page2.json"), after=cursor("clips_page1.json"))
    api.add(f"{H}/clips", reply("clips_page1.json"), broadcaster_id=USER)


def everything(api) -> None:
    search(api)
    live(api)
    channel(api)


def request(*terms: str, **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=FROM, date_to=TO, terms=[SearchTerm(t) for t in terms], options=options
    )


def collect(req: CollectionRequest, credentials=CREDS):
    collector = TwitchCollector(credentials=dict(credentials))
    pages = list(collector.collect(req))
    return collector, pages


def by_id(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def test_terms_and_channels_collect_channels_streams_videos_and_clips(api):
    everything(api)
    collector, pages = collect(request(TERM, channels=["valgstudiet_dk", "Ukendt_Kanal"]))
    found = by_id(pages)
    assert sorted(found) == [
        "channel:141981764", "channel:52345678", "channel:61234567",
        "clip:AwkwardHelplessSalamanderSwiftRage", "clip:BrightFancyOtterKappa-9xYz",
        "clip:CleverTinyPandaDansGame-1a2B",
        "stream:40952121085", "stream:40952121090",
        "video:2301000001", "video:2301000002", "video:2301000003",
    ]  # fmt: skip
    # Rejected: a channel, a stream and a video without an id.
    assert sum(p.rejected for p in pages) == 3
    state = collector.rate_limit_state
    assert state["language_filtered"] == 1 and state["term_mismatch"] == 1
    assert state["outside_window"] == 2  # October's live stream and VOD
    skipped = [s for p in pages for s in p.skipped]
    assert [s.source for s in skipped] == ["twitch channel ukendt_kanal"]
    assert "no user with this login" in skipped[0].detail

    [token_request] = api.requests("/oauth2/token")
    form = token_request.body.decode()
    assert "grant_type=client_credentials" in form and f"client_id={CREDS['client_id']}" in form
    assert token_request.query == {}  # the secret goes in the body, never the URL
    helix = [s for s in api.seen if s.path.startswith(H)]
    assert len(helix) == 10 and collector.units_spent == 10
    assert all(s.headers["Client-Id"] == CREDS["client_id"] for s in helix)
    assert all(s.headers["Authorization"] == f"Bearer {TOKEN}" for s in helix)
    searches = api.requests(f"{H}/search/channels")
    assert [s.query.get("after") for s in searches] == [None, cursor("search_channels_page1.json")]
    assert searches[0].query == {"query": TERM, "first": "100"}
    videos = api.requests(f"{H}/videos")
    assert len(videos) == 2  # page 2 reaches before the window: no third page
    assert videos[0].query == {"user_id": USER, "type": "all", "sort": "time", "first": "100"}
    [clips_first, _] = api.requests(f"{H}/clips")
    assert (clips_first.query["started_at"], clips_first.query["ended_at"]) == (
        "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"
    )  # fmt: skip

    chan = found["channel:141981764"]
    assert chan.content_type == "channel" and chan.published_at is None
    assert chan.title == "ValgStudiet_DK" and chan.url == "https://www.twitch.tv/valgstudiet_dk"
    assert chan.text_content == "Folketingsvalg 2026: debat med partilederne 🗳️ – spørg løs!"
    assert chan.language == "da" and chan.author_platform_id == USER
    assert chan.raw_metadata["is_live"] and chan.raw_metadata["live_since"].startswith("2026-11-30")
    stream = found["stream:40952121085"]
    assert stream.content_type == "live_stream" and stream.views_count == 1234
    assert stream.published_at == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert stream.raw_metadata["game_name"] == "Just Chatting"
    vod = found["video:2301000003"]
    assert vod.title == "Partilederdebat: Ærø, Æbler og økonomi 🍎"
    assert vod.text_content.endswith("Hele debatten fra torsdag aften.")
    assert vod.url == "https://www.twitch.tv/videos/2301000003" and vod.views_count == 5120
    assert vod.raw_metadata["muted_segments"] == [{"duration": 30, "offset": 120}]
    assert found["video:2301000002"].raw_metadata["video_type"] == "highlight"
    clip = found["clip:AwkwardHelplessSalamanderSwiftRage"]
    assert clip.title == "Da partilederen glemte sit eget program 😂" and clip.views_count == 15230
    assert (clip.author_platform_id, clip.author_display_name) == (USER, "ValgStudiet_DK")
    assert clip.raw_metadata["video_id"] == "2301000003" and clip.raw_metadata["has_creator"]
    assert "SeerenSøren" not in str(clip) and "88877766" not in str(clip)
    assert all(r.content_type != "chat_message" for r in found.values())


def test_a_401_fetches_a_fresh_token_once_and_goes_on(api):
    api.routes.clear()
    api.add("/oauth2/token", reply("token.json"), reply("token_refreshed.json"), method="POST")
    search(api, reply("unauthorized.json", 401), reply("search_channels_page1.json"))
    collector, pages = collect(request(TERM, include=["channels"]))
    assert len(by_id(pages)) == 3
    assert collector.rate_limit_state["token_refreshes"] == 1
    assert len(api.requests("/oauth2/token")) == 2
    auth = [s.headers["Authorization"] for s in api.requests(f"{H}/search/channels")]
    assert auth == [f"Bearer {TOKEN}", f"Bearer {FRESH}", f"Bearer {FRESH}"]


def test_a_token_refused_twice_is_an_auth_error(api):
    api.add(f"{H}/search/channels", reply("unauthorized.json", 401))
    with pytest.raises(ArenaAuthError, match="refused twice") as failed:
        collect(request(TERM))
    assert CREDS["client_secret"] not in str(failed.value) and TOKEN not in str(failed.value)
    assert len(api.requests("/oauth2/token")) == 2


def test_refused_client_credentials_are_an_auth_error(api):
    api.routes.clear()
    api.add("/oauth2/token", reply("token_invalid_secret.json", 403), method="POST")
    with pytest.raises(ArenaAuthError, match="client credentials were refused"):
        collect(request(TERM))
    with pytest.raises(ArenaAuthError, match="client_secret"):
        collect(request(TERM), credentials={"client_id": "x"})


def test_429_waits_for_ratelimit_reset_and_5xx_is_retried(api):
    reset = str(int(time.time()))
    search(
        api,
        reply("rate_limited.json", 429, **{"Ratelimit-Limit": "800",
              "Ratelimit-Remaining": "0", "Ratelimit-Reset": reset}),
        Reply(502, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"}),
        reply("search_channels_page1.json", **{"Ratelimit-Limit": "800",
              "Ratelimit-Remaining": "799", "Ratelimit-Reset": reset}),
    )  # fmt: skip
    collector, pages = collect(request(TERM, include=["channels"]))
    assert len(by_id(pages)) == 3
    state = collector.rate_limit_state
    assert state["retries"] == 2 and state["last_retry_after"] <= 0.2
    host = next(iter(state["hosts"].values()))
    assert host["ratelimit-remaining"] == "799"


def test_spent_points_stop_the_run_cleanly_with_what_it_has(api):
    later = str(int(time.time()) + 3600)
    search(api, reply("search_channels_page1.json", **{"Ratelimit-Remaining": "0",
           "Ratelimit-Reset": later}))  # fmt: skip
    channel(api)
    collector, pages = collect(
        request(TERM, channels=["valgstudiet_dk"], include=["channels", "videos"])
    )
    assert sorted(by_id(pages)) == ["channel:141981764", "channel:52345678"]  # page 1 only
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "rate_limited"
    assert stopped["sources_not_finished"] == [f"twitch search {TERM!r}", "twitch channels"]
    assert [s.reason for p in pages for s in p.skipped] == ["rate_limited", "rate_limited"]
    assert len(api.requests(f"{H}/search/channels")) == 1 and not api.requests(f"{H}/users")


@pytest.mark.parametrize(
    ("bad", "expected", "reason"),
    [
        (reply("maintenance.html", 503), "HTTP 503", "http_error"),
        (reply("maintenance.html", 200), "is an HTML page", "not_a_feed"),
        (reply("malformed.json"), "is not valid JSON", "unparseable"),
        (Reply(200, b'{"items": []}', {"Content-Type": "application/json"}), "no data list",
         "unparseable"),
        (reply("bad_request.json", 400), "HTTP 400 from 127.0.0.1", "http_error"),
    ],
)  # fmt: skip
def test_a_broken_reply_skips_that_source_and_the_rest_goes_on(api, bad, expected, reason):
    api.add(f"{H}/videos", bad, user_id=USER)
    search(api)
    channel(api)
    _, pages = collect(request(TERM, channels=["valgstudiet_dk"], include=["channels", "videos",
                       "clips"]))  # fmt: skip
    found = by_id(pages)
    assert len([k for k in found if k.startswith("clip:")]) == 3
    assert len([k for k in found if k.startswith("channel:")]) == 3
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "twitch channel valgstudiet_dk videos" and skip.reason == reason
    assert expected in skip.detail
    if reason != "unparseable":
        assert "/helix/videos" in skip.detail


def test_a_reply_over_the_size_cap_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = b'{"data": [' + b'{"id": "1", "title": "x"},' * 50_000 + b'{"id": "2"}]}'
    api.add(f"{H}/search/channels", Reply(200, huge, {"Content-Type": "application/json"}),
            query="valg")  # fmt: skip
    search(api)
    _, pages = collect(request("valg", TERM, include=["channels"]))
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.reason == "too_large" and "larger than 1 MB refused" in skip.detail
    assert len(by_id(pages)) == 3


def test_an_empty_search_page_ends_that_search(api):
    api.add(f"{H}/search/channels", reply("search_empty.json"))
    collector, pages = collect(request("ingen", include=["channels"]))
    assert by_id(pages) == {} and len(api.requests(f"{H}/search/channels")) == 1
    assert "truncated" not in collector.rate_limit_state


def test_max_pages_cuts_a_source_and_says_so(api):
    search(api)
    collector, pages = collect(request(TERM, include=["channels"], max_pages=1))
    assert len(by_id(pages)) == 2
    assert collector.rate_limit_state["truncated"] == [
        f"twitch search {TERM!r}: stopped at max_pages=1"
    ]


def test_nothing_to_collect_says_where_to_name_it():
    with pytest.raises(ArenaError, match="arenas.twitch.channels"):
        collect(request())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"channels": ["https://www.twitch.tv/valgstudiet_dk"]}, "a URL or host name"),
        ({"channels": ["valg studiet"]}, "not a Twitch login"),
        ({"channels": "valgstudiet_dk"}, "must be a list"),
        ({"include": ["chat"]}, "unknown kind"),
        ({"max_pages": 0}, "at least 1"),
        ({"api_url": "http://example.org"}, "TWITCH_API_URL"),
    ],
)
def test_bad_design_options_are_refused(options, message):
    with pytest.raises(ArenaOptionError, match=message):
        build_collector("twitch", options=options)


def test_registered_free_declared_and_healthy(api):
    cls = get_collector_class("twitch")
    assert cls is TwitchCollector and cls.needs_credentials
    assert cls.credential_fields == ("client_id", "client_secret")
    assert {o.name for o in cls.option_specs} == {"channels", "include", "max_pages", "languages"}
    assert credits_for("twitch", "free", 500) == 0
    assert TwitchCollector().estimate_units(request(TERM, channels=["a", "b"])) == 2 + 2 + 2 + 8
    api.add(f"{H}/games/top", reply("games_top.json"))
    assert TwitchCollector(credentials=CREDS).health_check().ok
    assert not TwitchCollector().health_check().ok


# -- whole collection runs ---------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "twitch-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


def test_a_design_collects_twitch_rows_once(db, api, keys):
    everything(api)
    credential = add_credential(db, "twitch", "observatory app", CREDS)
    user = make_user(db)
    config = {"arenas": {"twitch": {"channels": ["valgstudiet_dk", "ukendt_kanal"]}}}
    design = make_design(db, user, config, terms=[(TERM, "keyword")])

    first = start_run(db, design, FROM, TO)

    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("twitch", "completed")
    assert arena.records_collected == 11 and arena.records_rejected == 3
    assert arena.credits_spent == 0 and arena.units_spent == 10
    stored = rows(
        db,
        "SELECT platform_id, content_type, title, text_content, author_platform_id,"
        " pseudonymized_author_id, views_count, search_terms_matched, published_at"
        " FROM content_records ORDER BY platform_id",
    )
    assert len(stored) == 11
    kinds = {r["content_type"] for r in stored}
    assert kinds == {"channel", "live_stream", "video", "clip"}
    vod = next(r for r in stored if r["platform_id"] == "video:2301000003")
    assert vod["author_platform_id"] == USER and vod["pseudonymized_author_id"] not in (None, USER)
    assert "Ærø" in vod["title"] and vod["views_count"] == 5120
    chan = next(r for r in stored if r["platform_id"] == "channel:141981764")
    assert chan["search_terms_matched"] == [TERM] and chan["published_at"] is not None
    [task] = rows(db, "SELECT status, skipped_sources, credential_id FROM collection_tasks")
    assert task["status"] == "completed" and str(task["credential_id"]) == credential
    assert [s["source"] for s in task["skipped_sources"]] == ["twitch channel ukendt_kanal"]
    sent = len(api.seen)
    assert sent == 11

    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert arena.status == "completed"
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 11)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 11


def test_a_refused_token_flags_its_credential_and_the_other_arenas_go_on(
    db, api, keys, monkeypatch
):
    monkeypatch.setenv("RITZAU_VIA_API_URL", f"{api.url}/json/v2")
    api.add(f"{H}/search/channels", reply("unauthorized.json", 401))
    api.add("/json/v2/releases", file_reply("ritzau_via/releases_page2.json"))
    credential = add_credential(db, "twitch", "observatory app", CREDS)
    user = make_user(db)
    config = {"arenas": {"twitch": {"include": ["channels"]}, "ritzau_via": {}}}
    design = make_design(db, user, config, terms=[("grøn omstilling", "keyword")])
    report = start_run(db, design, FROM.replace(month=2), TO.replace(month=3))
    by_platform = {a.platform: a for a in report.arenas}
    assert by_platform["ritzau_via"].status == "completed"
    assert by_platform["ritzau_via"].records_collected == 2
    assert by_platform["twitch"].status == "failed"
    [task] = rows(
        db,
        "SELECT status, error_message, credential_id FROM collection_tasks"
        " WHERE platform = 'twitch'",
    )
    assert task["status"] == "failed" and "refused twice" in task["error_message"]
    assert CREDS["client_secret"] not in task["error_message"]
    assert str(task["credential_id"]) == credential
    [flagged] = rows(
        db, "SELECT error_count FROM api_credentials WHERE id = CAST(:i AS uuid)", i=credential
    )
    assert flagged["error_count"] == 1
