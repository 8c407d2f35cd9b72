"""Via Ritzau's (undocumented) JSON API through the real collector, served by the local
replay server from replies of the shape the spec records; whole collection runs
(start_run, the collect_query_design asset's entry point) against the real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import (
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.arenas.ritzau_via import RitzauViaCollector, local_date
from observatory_pipelines.arenas.ritzau_via_items import html_to_text, release_items
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply
from tests.collection.conftest import make_design, make_user, rows

FROM = datetime(2026, 2, 1, tzinfo=UTC)
TO = datetime(2026, 3, 1, tzinfo=UTC)
RELEASES = "/json/v2/releases"
TERM = "grøn omstilling"


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    kind = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"ritzau_via/{name}", status, kind, **headers)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("RITZAU_VIA_API_URL", f"{replay.url}/json/v2")
    return replay


def green(api, *first_page: Reply) -> None:
    api.add(RELEASES, reply("releases_page2.json"), search=TERM, offset="50")
    api.add(RELEASES, *(first_page or (reply("releases_page1.json"),)), search=TERM, offset="0")


def request(*terms: str, **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=FROM, date_to=TO, terms=[SearchTerm(t) for t in terms], options=options
    )


def collect(req: CollectionRequest):
    collector = RitzauViaCollector()
    pages = list(collector.collect(req))
    return collector, pages


def records(pages):
    return [r for p in pages for r in p.records]


def by_id(pages):
    return {r.platform_id: r for r in records(pages)}


def test_html_bodies_become_lines_of_text():
    assert (
        html_to_text(
            "<p>Regeringen &amp; KL</p><p>Linje<br/>to</p><ul><li>Æ</li><li>ø 🎉</li></ul>"
            "<script>x()</script><h2>Slut"
        )
        == "Regeringen & KL\nLinje\nto\nÆ\nø 🎉\nSlut"
    )
    assert html_to_text("5 < 7 og  ingen  tags") == "5 < 7 og ingen tags"
    assert html_to_text("<p> </p>") is None and html_to_text(None) is None
    assert release_items({"data": [1]}) == [1] and release_items({"total": 3}) is None


def test_window_dates_are_copenhagen_local_dates():
    # Midnight UTC on 1 February is 01:00 in Copenhagen; 23:30 UTC on 31 July is 1 August.
    assert local_date(FROM) == "2026-02-01"
    assert local_date(datetime(2026, 7, 31, 23, 30, tzinfo=UTC)) == "2026-08-01"


def test_a_term_is_paged_to_a_short_page_and_re_checked_on_the_client(api):
    green(api)
    collector, pages = collect(request(TERM))
    found = by_id(pages)
    assert len(records(pages)) == 47  # 46 of page 1 (one without an id) + 1 new of page 2
    sent = api.requests(RELEASES)
    assert [s.query["offset"] for s in sent] == ["0", "50"]
    first = sent[0].query
    assert (first["search"], first["language"], first["limit"]) == (TERM, "da", "50")
    # The window's last instant (23:59:59 UTC on 28 February) is 1 March in Copenhagen.
    assert (first["fromDate"], first["toDate"]) == ("2026-02-01", "2026-03-01")
    assert "publisherId" not in first
    state = collector.rate_limit_state
    # English 88402, the loose search's culture prize 88403, January's 88407, and 88302
    # (1 February in Copenhagen, 31 January in UTC) are dropped on the client.
    assert state["language_filtered"] == 1 and state["term_mismatch"] == 1
    assert state["outside_window"] == 2
    assert not {"88402", "88403", "88407", "88302"} & set(found)
    assert sum(p.rejected for p in pages) == 1  # the item that is not an object
    assert collector.units_spent == 2 and "truncated" not in state

    release = found["88401"]
    assert release.title == "Ny aftale om grøn omstilling 🌱"
    assert release.text_content == (
        "Aftalen skal halvere udledningen fra landbruget inden 2030.\n\n"
        "Regeringen, KL og Danske Regioner er blevet enige om en ny aftale om grøn omstilling.\n"
        "Statsministeren udtaler:\n"
        "»Det er en historisk dag for Danmark – og for klimaet 💚«\n"
        "Økologisk jord fordobles\nStøtte til fjernvarme på Ærø"
    )
    assert (
        release.url == "https://via.ritzau.dk/pressemeddelelse/88401/ny-aftale-om-groen-omstilling"
    )
    assert release.published_at == datetime(2026, 2, 15, 8, 0, tzinfo=UTC)
    assert (release.content_type, release.language, release.arena) == (
        "press_release", "da", "news_media"
    )  # fmt: skip
    assert (release.author_platform_id, release.author_display_name) == ("501", "Statsministeriet")
    assert release.media_urls == ["https://via.ritzau.dk/media/88401/a.jpg"]
    meta = release.raw_metadata
    assert meta["channels"] == [{"id": 10, "name": "Politik"}, {"id": 14, "name": "Miljø og klima"}]
    assert meta["documents"][0]["name"] == "Aftaletekst.pdf"
    assert meta["release_type"] == "Pressemeddelelse" and meta["contact_count"] == 1
    assert meta["leadtext_html"].startswith("<p>Aftalen") and "<strong>" in meta["body_html"]
    # Contact persons are personal data: neither name nor address is kept.
    assert "Søren" not in str(release) and "sos@stm.dk" not in str(release)
    assert release.hash_source == release.text_content

    # Variants: publishedAt, flat publisher fields, a plain-text body, a region language tag.
    vestas = found["88406"]
    assert vestas.published_at == datetime(2026, 2, 12, 13, 15, tzinfo=UTC)
    assert (vestas.author_platform_id, vestas.author_display_name) == (
        "845", "Vestas Wind Systems A/S"
    )  # fmt: skip
    assert vestas.language == "da" and vestas.raw_metadata["channels"] == [
        {"id": None, "name": "Erhverv"}
    ]
    assert vestas.text_content.endswith("Det er grøn omstilling i praksis.")
    undated = found["88405"]
    assert undated.published_at is None and undated.raw_metadata["published_at_missing"]
    [no_id] = [r for r in records(pages) if r.platform_id is None]
    assert no_id.url == "https://via.ritzau.dk/pressemeddelelse/ukendt/invitation-konference"
    assert "😀" not in str(found) and "🌱" in found["88401"].title


def test_publishers_are_checked_and_an_unknown_one_is_skipped_by_id(api):
    api.add("/json/v2/publishers", reply("publishers.json"))
    api.add(RELEASES, reply("releases_publisher_502.json"), publisherId="502")
    api.add(RELEASES, reply("releases_empty.json"), publisherId="910")
    collector, pages = collect(request(publisher_ids=["502", 910, "999999"]))
    found = by_id(pages)
    assert set(found) == {"88601"}  # 88602 is English
    police = found["88601"]
    assert police.author_display_name == "Rigspolitiet" and police.title.startswith("Færdsels")
    skipped = [s for p in pages for s in p.skipped]
    assert [s.source for s in skipped] == ["ritzau_via publisher 999999"]
    assert "lists no publisher with this id" in skipped[0].detail
    sent = api.requests(RELEASES)
    assert [s.query["publisherId"] for s in sent] == ["502", "910"]
    assert all("search" not in s.query for s in sent)
    assert len(api.requests("/json/v2/publishers")) == 1 and collector.units_spent == 3


def test_rate_limit_then_5xx_then_success(api):
    green(
        api,
        Reply(429, b'{"message": "Too many requests"}',
              {"Content-Type": "application/json", "Retry-After": "0"}),
        Reply(503, b"<html><body>503 Service Unavailable</body></html>",
              {"Content-Type": "text/html"}),
        reply("releases_page1.json"),
    )  # fmt: skip
    collector, pages = collect(request(TERM))
    assert len(records(pages)) == 47
    state = collector.rate_limit_state
    assert state["retries"] == 2 and state["last_retry_after"] == 0
    assert collector.units_spent == 2 and len(api.requests(RELEASES)) == 4


@pytest.mark.parametrize(
    ("bad", "expected", "reason"),
    [
        (reply("cloudflare_403.html", 403), "HTTP 403 from 127.0.0.1", "http_error"),
        (reply("maintenance.html", 200, **{"Content-Type": "text/html; charset=utf-8"}),
         "HTTP 200 from 127.0.0.1", "not_a_feed"),
        (reply("malformed.json"), "is not valid JSON", "unparseable"),
        (Reply(200, b'{"total": 0}', {"Content-Type": "application/json"}),
         "holds no list of releases", "unparseable"),
        (Reply(404, b'{"message": "Not found"}', {"Content-Type": "application/json"}),
         "HTTP 404 from 127.0.0.1", "http_error"),
    ],
)  # fmt: skip
def test_a_broken_reply_skips_that_query_naming_url_and_status(api, bad, expected, reason):
    api.add(RELEASES, bad, search="politi")
    green(api)
    _, pages = collect(request("politi", TERM))
    assert len(records(pages)) == 47
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "ritzau_via search 'politi'" and skip.reason == reason
    assert expected in skip.detail and "/json/v2/releases" in skip.detail
    if bad.headers["Content-Type"].startswith("text/html"):
        assert "is an HTML page" in skip.detail


def test_a_reply_over_the_size_cap_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = b"[" + b'{"id": 1, "title": "x", "body": "politi og trafik"},' * 25_000 + b"{}]"
    api.add(RELEASES, Reply(200, huge, {"Content-Type": "application/json"}), search="politi")
    green(api)
    _, pages = collect(request("politi", TERM))
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.reason == "too_large" and "larger than 1 MB refused" in skip.detail
    assert len(records(pages)) == 47


def test_every_query_failing_fails_the_task(api):
    api.add(RELEASES, reply("cloudflare_403.html", 403))
    with pytest.raises(ArenaError, match="every source failed"):
        collect(request(TERM))


def test_max_pages_and_the_record_cap_stop_cleanly_and_say_so(api):
    green(api)
    collector, pages = collect(request(TERM, max_pages=1))
    assert len(records(pages)) == 46 and len(api.requests(RELEASES)) == 1
    assert collector.rate_limit_state["truncated"] == [
        "ritzau_via search 'grøn omstilling': stopped at max_pages=1"
    ]
    req = request(TERM)
    req.max_records = 10
    _, pages = collect(req)
    assert len(records(pages)) == 10 and len(api.requests(RELEASES)) == 2


def test_no_terms_and_no_publishers_reads_the_window_unfiltered(api):
    api.add(RELEASES, reply("releases_page2.json"))
    collector, pages = collect(request())
    assert set(by_id(pages)) == {"88401", "88301"}  # 88302 is before the window in UTC
    assert "search" not in api.requests(RELEASES)[0].query


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"publisher_ids": ["https://via.ritzau.dk/publisher/501"]}, "a URL or host name"),
        ({"publisher_ids": ["Statsministeriet"]}, "not a Via Ritzau publisher id"),
        ({"publisher_ids": "501"}, "must be a list"),
        ({"max_pages": 0}, "at least 1"),
        ({"languages": "da"}, "list of language codes"),
        ({"base_url": "http://example.org"}, "RITZAU_VIA_API_URL"),
    ],
)
def test_bad_design_options_are_refused(options, message):
    with pytest.raises(ArenaOptionError, match=message):
        build_collector("ritzau_via", options=options)


def test_registered_free_declared_and_healthy(api):
    cls = get_collector_class("ritzau_via")
    assert cls is RitzauViaCollector and not cls.needs_credentials
    assert {o.name for o in cls.option_specs} == {"publisher_ids", "max_pages", "languages"}
    assert cls.min_request_interval == 0.5 and cls.host_setting == "RITZAU_VIA_API_URL"
    assert credits_for("ritzau_via", "free", 40) == 0
    assert RitzauViaCollector().estimate_units(request(TERM, "politi", publisher_ids=["1"])) == 7
    api.add("/json/v2/channels", reply("channels.json"), reply("maintenance.html", 503))
    assert RitzauViaCollector().health_check().ok
    status = RitzauViaCollector().health_check()
    assert not status.ok and "/json/v2/channels" in status.detail


# -- whole collection runs ---------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "ritzau-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


def test_a_design_collects_press_releases_once(db, api, keys):
    green(api)
    api.add("/json/v2/publishers", reply("publishers.json"))
    api.add(RELEASES, reply("releases_publisher_502.json"), publisherId="502")
    user = make_user(db)
    config = {"arenas": {"ritzau_via": {"publisher_ids": ["502", "999999"]}}}
    design = make_design(db, user, config, terms=[(TERM, "keyword")])

    first = start_run(db, design, FROM, TO)

    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("ritzau_via", "completed")
    assert arena.records_collected == 48 and arena.records_rejected == 1
    assert arena.credits_spent == 0 and arena.units_spent == 4
    stored = rows(
        db,
        "SELECT platform, arena, platform_id, url, title, text_content, language,"
        " author_platform_id, author_display_name, pseudonymized_author_id,"
        " search_terms_matched, raw_metadata, media_urls, published_at FROM content_records"
        " WHERE platform_id = '88401'",
    )
    [release] = stored
    assert release["arena"] == "news_media" and release["search_terms_matched"] == [TERM]
    assert release["author_display_name"] == "Statsministeriet"
    assert release["pseudonymized_author_id"] not in (None, "501")
    assert release["title"] == "Ny aftale om grøn omstilling 🌱"
    assert "Ærø" in release["text_content"] and release["language"] == "da"
    assert release["media_urls"] == ["https://via.ritzau.dk/media/88401/a.jpg"]
    assert release["published_at"] == datetime(2026, 2, 15, 8, 0, tzinfo=UTC)
    police = rows(
        db, "SELECT search_terms_matched FROM content_records WHERE platform_id = '88601'"
    )
    assert police[0]["search_terms_matched"] in ([], None)  # actor mode: taken whole
    derived = rows(
        db,
        "SELECT raw_metadata FROM content_records WHERE url LIKE '%invitation-konference'",
    )
    assert derived[0]["raw_metadata"]["platform_id_source"] == "url"
    [task] = rows(db, "SELECT status, skipped_sources FROM collection_tasks")
    assert task["status"] == "completed"
    assert [s["source"] for s in task["skipped_sources"]] == ["ritzau_via publisher 999999"]
    total = rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"]
    assert total == 48
    sent = len(api.seen)
    assert sent == 4

    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert arena.status == "completed"
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 48)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 48
    assert len(api.seen) == 2 * sent
