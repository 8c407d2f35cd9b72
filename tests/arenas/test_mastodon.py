"""Mastodon against recorded responses of the real API shape on a local replay server.

The operator's MASTODON_INSTANCE_URL_TEMPLATE points every instance at the replay server
(``/i/<host>/api/...``); designs only ever name host names.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.mastodon import MastodonCollector
from observatory_pipelines.arenas.mastodon_support import (
    InstanceRefused,
    instance_host,
    non_public_address,
    resolve_public,
    snowflake_id,
    split_acct,
    status_text,
)
from observatory_pipelines.arenas.registry import available_platforms, build_collector
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
HELVEDE = "helvede.net"
SOCIAL = "mastodon.social"
TAG = "/api/v1/timelines/tag/grønland"
NEXT_1 = (
    "<https://helvede.net/api/v1/timelines/tag/gr%C3%B8nland?max_id=117600000000000001>; "
    'rel="next", <https://helvede.net/api/v1/timelines/tag/gr%C3%B8nland?min_id=117636783611774162>'
    '; rel="prev"'
)
NEXT_2 = (
    '<https://helvede.net/api/v1/timelines/tag/gr%C3%B8nland?max_id=117500000000000000>; rel="next"'
)


def mfile(name: str, status: int = 200, **headers: str) -> Reply:
    kind = (
        "text/html; charset=utf-8" if name.endswith(".html") else "application/json; charset=utf-8"
    )
    return file_reply(f"mastodon/{name}", status, kind, **headers)


@pytest.fixture
def mastodon(replay, monkeypatch):
    """Instances reached at <replay>/i/<host>, the default list two of the curated ones."""
    monkeypatch.setenv("MASTODON_INSTANCE_URL_TEMPLATE", f"{replay.url}/i/{{host}}")
    monkeypatch.setenv("MASTODON_DEFAULT_INSTANCES", f"{HELVEDE},{SOCIAL}")
    monkeypatch.delenv("MASTODON_ALLOWED_INSTANCES", raising=False)
    return replay


def on(host: str, path: str) -> str:
    return f"/i/{host}{path}"


def instance(replay, *hosts: str) -> None:
    for host in hosts:
        replay.add(on(host, "/api/v1/instance"), mfile("instance.json"))


def tag_pages(replay, host: str = HELVEDE) -> None:
    replay.add(on(host, TAG), mfile("tag_groenland_page2.json", Link=NEXT_2),
               max_id="117600000000000001")  # fmt: skip
    replay.add(on(host, TAG), mfile("tag_groenland_page1.json", Link=NEXT_1))


def request(**extra) -> CollectionRequest:
    options = extra.pop("options", {"instances": [HELVEDE]})
    terms = extra.pop("terms", [SearchTerm("grønland")])
    return CollectionRequest(**WINDOW, terms=terms, options=options, **extra)


def collect(req: CollectionRequest, credentials=None):
    collector = build_collector("mastodon", credentials=credentials, options=req.options)
    return collector, list(collector.collect(req))


def records(pages):
    return [r for p in pages for r in p.records]


def test_tag_timeline_pages_by_link_header_and_maps_statuses(mastodon):
    instance(mastodon, HELVEDE)
    tag_pages(mastodon)
    collector, pages = collect(request())
    got = records(pages)
    assert [r.author_platform_id for r in got] == [
        "anna@helvede.net",
        "jens@mastodon.social",
        "karen@mastodon.social",  # declared "en" but tagged #dkpol: kept
        "lise@helvede.net",  # no declared language: kept
        "mette@helvede.net",  # no date: kept, judged by collection
        "ole@expressional.social",
    ]
    assert sum(p.rejected for p in pages) == 1  # the status without a uri
    assert "status without uri" in pages[0].rejection_reasons[0]
    anna = got[0]
    assert anna.platform_id == "https://helvede.net/users/anna/statuses/117636783611774162"
    assert anna.url == "https://helvede.net/@anna/117636783611774162"
    assert anna.hash_source == anna.platform_id
    assert anna.text_content == (
        "Ny rapport om Grønland og klimaet 🧊 #grønland #dkpol\n\n"
        "Læs den her: https://www.dr.dk/nyheder/indland/rapport-om-groenland\n"
        "Hvad mener I? Æ ø å & Ø"
    )
    assert anna.published_at == datetime(2026, 11, 18, 9, 41, 7, 123000, tzinfo=UTC)
    assert (anna.likes_count, anna.shares_count, anna.comments_count) == (11, 5, 2)
    assert anna.author_display_name == "Anna 🌿" and anna.language == "da"
    assert anna.content_type == "post"
    assert anna.media_urls == ["https://files.helvede.net/media/1.jpg"]
    meta = anna.raw_metadata
    assert meta["instance"] == HELVEDE and meta["local_id"] == "117636783611774162"
    assert meta["tags"] == ["grønland", "dkpol"] and meta["edited_at"] == "2026-11-18T10:00:00.000Z"
    assert meta["application"]["name"] == "Tusky"
    jens = got[1]
    assert jens.content_type == "reply" and jens.author_display_name == "jens"
    assert jens.text_content == "@anna Enig – #grønland fortjener mere debat"
    assert got[3].text_content == "CW: politik 🙈\n\nSpoiler bag advarslen #grønland"
    assert got[4].published_at is None
    assert got[5].raw_metadata["poll"]["options"][0]["title"] == "Ja"
    sent = mastodon.requests(on(HELVEDE, TAG))
    assert [s.query.get("max_id") for s in sent] == [
        snowflake_id(WINDOW["date_to"]),  # starts at the window's end
        "117600000000000001",  # then the Link header's next max_id; page 2 reaches date_from
    ]
    assert all(s.query["limit"] == "40" and "Authorization" not in s.headers for s in sent)
    assert collector.units_spent == 3  # instance + two pages


def test_other_languages_are_filtered_and_the_design_can_widen_them(mastodon):
    instance(mastodon, HELVEDE)
    tag_pages(mastodon)
    _, pages = collect(request(options={"instances": [HELVEDE], "languages": []}))
    assert "bob@mastodon.social" in [r.author_platform_id for r in records(pages)]
    _, pages = collect(request(options={"instances": [HELVEDE], "include_noindex": True}))
    assert "skjult@helvede.net" in [r.author_platform_id for r in records(pages)]


def test_a_post_seen_on_two_instances_is_one_record(mastodon):
    instance(mastodon, HELVEDE, SOCIAL)
    tag_pages(mastodon)
    mastodon.add(on(SOCIAL, TAG), mfile("tag_groenland_social.json"))
    _, pages = collect(request(options={}))  # the default instances
    uris = [r.platform_id for r in records(pages)]
    assert len(uris) == len(set(uris)) == 6
    assert len(mastodon.requests(on(SOCIAL, TAG))) == 1  # no Link header, short page: done


def test_rate_limit_429_then_success_and_5xx_then_success(mastodon):
    instance(mastodon, HELVEDE)
    # Mastodon's 429 carries no Retry-After: the wait comes from X-RateLimit-Reset.
    soon = datetime.now(UTC) + timedelta(seconds=0.15)
    reset = soon.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    mastodon.add(
        on(HELVEDE, TAG),
        mfile("rate_limited.json", 429, **{"X-RateLimit-Limit": "300",
              "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
        Reply(502, b"<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"}),
        mfile("tag_groenland_social.json", **{"X-RateLimit-Limit": "300",
              "X-RateLimit-Remaining": "297", "X-RateLimit-Reset": reset}),
    )  # fmt: skip
    collector, pages = collect(request())
    assert len(records(pages)) == 1
    state = collector.rate_limit_state
    assert state["retries"] == 2
    # Not the 60 s default (capped to ARENA_HTTP_MAX_WAIT, 0.2 s): the reset, under 0.15 s.
    assert state["last_retry_after"] < 0.2
    assert state["instances"][HELVEDE] == {"limit": "300", "remaining": "297", "reset": reset}


def test_a_spent_budget_stops_that_instance_cleanly_and_the_others_go_on(mastodon):
    instance(mastodon, HELVEDE, SOCIAL)
    far = "2099-01-01T00:00:00.000Z"
    mastodon.add(
        on(HELVEDE, TAG),
        mfile("tag_groenland_page1.json", Link=NEXT_1, **{"X-RateLimit-Limit": "300",
              "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": far}),
    )  # fmt: skip
    mastodon.add(on(SOCIAL, TAG), mfile("tag_groenland_social.json"))
    terms = [SearchTerm("grønland"), SearchTerm("dkpol", "hashtag")]
    collector, pages = collect(request(options={}, terms=terms))
    skipped = [s for p in pages for s in p.skipped]
    assert [(s.reason, s.source) for s in skipped] == [("rate_limited", "mastodon helvede.net")]
    assert "left for the next run" in skipped[0].detail
    assert len(mastodon.requests(on(HELVEDE, TAG))) == 1  # nothing more asked of helvede.net
    assert mastodon.requests(on(HELVEDE, "/api/v1/timelines/tag/dkpol")) == []
    assert len(mastodon.requests(on(SOCIAL, TAG))) == 1
    assert collector.rate_limit_state["instances"][HELVEDE]["stopped"].endswith(far)
    # helvede's one page is kept (the same post on mastodon.social is one record with it)
    assert len(records(pages)) == 4


def test_unknown_instance_and_tag_are_skipped_by_name(mastodon):
    instance(mastodon, HELVEDE)
    tag_pages(mastodon)
    mastodon.add(
        on(HELVEDE, "/api/v1/timelines/tag/ukendtord"), mfile("record_not_found.json", 404)
    )
    req = request(
        options={"instances": ["findes-ikke.example.org", HELVEDE]},
        terms=[SearchTerm("grønland"), SearchTerm("ukendtord")],
    )
    _, pages = collect(req)
    assert len(records(pages)) == 6
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "mastodon instance findes-ikke.example.org"
    assert "HTTP 404" in skip.detail and skip.reason == "http_error"


def test_html_error_page_malformed_json_and_size_cap(mastodon, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    instance(mastodon, HELVEDE)
    mastodon.add(on(HELVEDE, "/api/v1/timelines/tag/html"), mfile("html_error.html"))
    mastodon.add(on(HELVEDE, "/api/v1/timelines/tag/brudt"), mfile("malformed.json"))
    big = b"[" + b'{"id": "1", "content": "' + b"x" * (1024 * 1024 + 10) + b'"}]'
    mastodon.add(
        on(HELVEDE, "/api/v1/timelines/tag/stor"),
        Reply(200, big, {"Content-Type": "application/json"}),
    )
    tag_pages(mastodon)
    terms = [SearchTerm(t) for t in ("html", "brudt", "stor", "grønland")]
    _, pages = collect(request(terms=terms))
    assert len(records(pages)) == 6
    skipped = {s.source: s for p in pages for s in p.skipped}
    html = skipped["mastodon helvede.net tag #html"]
    assert html.reason == "not_a_feed"
    assert (
        f"HTTP 200 from 127.0.0.1:{mastodon.url.rsplit(':', 1)[1]}/i/helvede.net/api/v1/timelines/tag/html is an HTML page"
        in html.detail
    )
    assert skipped["mastodon helvede.net tag #brudt"].reason == "unparseable"
    assert "not valid JSON" in skipped["mastodon helvede.net tag #brudt"].detail
    assert skipped["mastodon helvede.net tag #stor"].reason == "too_large"
    assert "larger than 1 MB refused" in skipped["mastodon helvede.net tag #stor"].detail


def test_every_source_failing_fails_the_task(mastodon):
    mastodon.add(on(HELVEDE, "/api/v1/instance"), mfile("html_error.html", 500))
    with pytest.raises(ArenaError, match="every source failed"):
        collect(request())


def test_closed_feed_without_token_is_skipped_and_a_refused_token_is_an_auth_error(mastodon):
    instance(mastodon, HELVEDE)
    mastodon.add(on(HELVEDE, TAG), mfile("token_invalid.json", 401))
    mastodon.add(on(HELVEDE, "/api/v1/timelines/tag/dkpol"), mfile("tag_groenland_social.json"))
    terms = [SearchTerm("grønland"), SearchTerm("dkpol", "hashtag")]
    _, pages = collect(request(terms=terms))
    [skip] = [s for p in pages for s in p.skipped]
    assert "asks for a token" in skip.detail and "HTTP 401" in skip.detail
    token = "tok-helvede-5f3a9c"
    with pytest.raises(ArenaAuthError, match="access token for helvede.net was refused") as err:
        collect(request(terms=terms), credentials={HELVEDE: token})
    assert token not in str(err.value) and "The access token is invalid" in str(err.value)
    sent = mastodon.requests(on(HELVEDE, TAG))[-1]
    assert sent.headers["Authorization"] == f"Bearer {token}"


def test_search_with_a_token_is_sent_only_to_its_instance(mastodon):
    instance(mastodon, HELVEDE, SOCIAL)
    mastodon.add(on(HELVEDE, "/api/v2/search"), mfile("search_groen_omstilling.json"))
    terms = [SearchTerm("grøn omstilling", "phrase")]
    token = "tok-helvede-5f3a9c"
    _, pages = collect(request(options={}, terms=terms), credentials={HELVEDE: token})
    [record] = records(pages)
    assert record.author_platform_id == "sofie@helvede.net"
    assert record.raw_metadata["card"]["url"] == "https://www.information.dk/a"
    [sent] = mastodon.requests(on(HELVEDE, "/api/v2/search"))
    assert sent.query["q"] == '"grøn omstilling"' and sent.query["type"] == "statuses"
    assert sent.query["min_id"] == snowflake_id(WINDOW["date_from"])
    assert sent.query["max_id"] == snowflake_id(WINDOW["date_to"])
    assert sent.headers["Authorization"] == f"Bearer {token}"
    assert all("Authorization" not in s.headers for s in mastodon.seen if SOCIAL in s.path)
    # mastodon.social has no token: no search there, and the phrase has no tag: said once.
    [skip] = [s for p in pages for s in p.skipped]
    assert "needs full-text search" in skip.detail
    assert mastodon.requests(on(SOCIAL, "/api/v2/search")) == []


def test_actor_statuses_via_lookup_unwrap_boosts_and_stop_past_the_window(mastodon):
    instance(mastodon, HELVEDE)
    mastodon.add(on(HELVEDE, "/api/v1/accounts/lookup"), mfile("account_lookup.json"), acct="anna")
    mastodon.add(
        on(HELVEDE, "/api/v1/accounts/lookup"), mfile("record_not_found.json", 404), acct="ingen"
    )
    mastodon.add(on(HELVEDE, "/api/v1/accounts/109876/statuses"), mfile("account_statuses.json",
                 Link='<https://helvede.net/api/v1/accounts/109876/statuses?max_id=1>; rel="next"'))  # fmt: skip
    req = request(
        terms=[],
        actors=[ActorRef(None, "@anna@helvede.net"), ActorRef(None, "ingen@helvede.net")],
    )
    _, pages = collect(req)
    got = records(pages)
    assert [r.text_content for r in got] == [
        "Godmorgen fra Nørrebro ☕",
        "Kommunalvalget nærmer sig",  # the boosted post, by its own author
        "Svar til en ven",  # an actor's feed is taken whole (its "en" too)
    ]
    boosted = got[1]
    assert boosted.author_platform_id == "per@mstdn.dk"
    assert boosted.platform_id.startswith("https://mstdn.dk/users/per/statuses/")
    assert boosted.raw_metadata["reblog"]["by"] == "https://helvede.net/@anna"
    assert got[2].content_type == "reply"
    assert len(mastodon.requests(on(HELVEDE, "/api/v1/accounts/109876/statuses"))) == 1
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.detail == "mastodon actor ingen@helvede.net: no such account on helvede.net"


@pytest.mark.parametrize(
    "bad",
    [
        "127.0.0.1",
        "10.0.0.5",
        "[::1]",
        "localhost",
        "mastodon.localhost",
        "intranet",
        "http://helvede.net",
        "https://helvede.net/@anna",
        "helvede.net:8080",
        "user@helvede.net",
        "printer.lan",
        "0x7f000001",
        "2130706433",
    ],
)
def test_designs_cannot_point_the_collector_at_internal_hosts(bad):
    with pytest.raises(ArenaOptionError, match="refused|not a"):
        MastodonCollector.check_options({"instances": [bad]})


def test_public_instance_names_are_accepted_and_private_addresses_refused():
    assert instance_host("https://Helvede.NET/") == "helvede.net"
    assert instance_host("mstdn.dk") == "mstdn.dk"
    assert instance_host("social.københavn.dk") == "social.xn--kbenhavn-54a.dk"
    MastodonCollector.check_options({"instances": ["mastodon.social"], "local_only": True})
    with pytest.raises(ArenaOptionError, match="base_url is refused"):
        MastodonCollector.check_options({"base_url": "http://127.0.0.1"})
    assert non_public_address(["93.184.216.34", "10.1.2.3"]) == "10.1.2.3"
    assert non_public_address(["169.254.169.254"]) == "169.254.169.254"
    assert non_public_address(["::ffff:127.0.0.1"]) is not None
    assert non_public_address(["93.184.216.34", "2a01:4f8::1"]) is None
    with pytest.raises(InstanceRefused, match="non-public address"):
        resolve_public("localhost")  # /etc/hosts: 127.0.0.1, as a rebinding name would
    assert split_acct("https://helvede.net/@anna") == ("anna", "helvede.net")
    assert split_acct("anna") == ("anna", None)


def test_allow_list_skips_other_instances(mastodon, monkeypatch):
    monkeypatch.setenv("MASTODON_ALLOWED_INSTANCES", HELVEDE)
    instance(mastodon, HELVEDE, SOCIAL)
    tag_pages(mastodon)
    _, pages = collect(request(options={"instances": [HELVEDE, "mstdn.dk"]}))
    assert len(records(pages)) == 6
    [skip] = [s for p in pages for s in p.skipped]
    assert "mstdn.dk" in skip.source and "MASTODON_ALLOWED_INSTANCES" in skip.detail
    assert not [s for s in mastodon.seen if "mstdn.dk" in s.path]


def test_status_text_keeps_paragraphs_and_breaks():
    assert status_text("<p>a<br>b</p><p>c &lt;3</p><script>x</script>") == "a\nb\n\nc <3"
    assert status_text("") is None and status_text("<p></p>") is None


def test_registered_free_and_health_check(mastodon):
    assert "mastodon" in available_platforms()
    assert credits_for("mastodon", "premium", 500) == 0
    instance(mastodon, HELVEDE)
    health = MastodonCollector().health_check()
    assert health.ok and "4.3.2" in health.detail
    collector = MastodonCollector()
    units = collector.estimate_units(request(options={}, terms=[SearchTerm("a")]))
    assert units == 2 * (1 + 10)
    assert json.dumps(collector.rate_limit_state) == "{}"
