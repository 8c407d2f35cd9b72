"""Wayback against recorded CDX answers and archived pages on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.arenas.wayback_text import extract_text
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import RESPONSES, Reply, file_reply
from tests.collection.conftest import make_design, make_user

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
CDX = "/cdx/search/cdx"
RESUME_DECODED = "dk,altinget)/media/rapport.pdf 20261105120000!"
GROENLAND = "/web/20261103101530id_/https://www.altinget.dk/artikel/groenland-og-klimaet"
AELDRE = "/web/20261104080102id_/https://www.altinget.dk/artikel/ældrepleje"
VALG = "/web/20261120174500id_/https://www.altinget.dk/artikel/valg-2026"
POLITICO = "/web/20261110064512id_/https://www.politico.eu/article/denmark-greenland/"


def cdx(name: str, status: int = 200, **headers: str) -> Reply:
    return file_reply(f"wayback/{name}", status, content_type="application/json", **headers)


def page(name: str, content_type: str = "text/html; charset=utf-8") -> Reply:
    return file_reply(f"wayback/{name}", content_type=content_type)


@pytest.fixture
def archive(replay, monkeypatch):
    monkeypatch.setenv("WAYBACK_API_URL", replay.url)
    return replay


def serve_altinget(replay) -> None:
    # The resumed page first: routes match on a subset of the query, in order.
    replay.add(CDX, cdx("cdx_altinget_page2.json"), url="altinget.dk", resumeKey=RESUME_DECODED)
    replay.add(CDX, cdx("cdx_altinget_page1.json"), url="altinget.dk")
    replay.add(GROENLAND, page("page_groenland.html"))
    replay.add(AELDRE, page("page_aeldrepleje_latin1.html", "text/html"))
    replay.add(VALG, Reply(404, b"<html><body>Not in archive</body></html>", {}))
    replay.add(POLITICO, page("page_politico_en.html"))


def collect(options, actors=(), **window):
    collector = build_collector("wayback", options=options)
    request = CollectionRequest(
        date_from=window.get("date_from", FROM),
        date_to=window.get("date_to", TO),
        options=options,
        actors=list(actors),
    )
    return collector, list(collector.collect(request))


def records(pages):
    return [r for p in pages for r in p.records]


def test_captures_are_paged_by_resume_key_and_their_text_extracted(archive):
    serve_altinget(archive)
    collector, pages = collect({"domains": ["altinget.dk"]})

    got = {r.url: r for r in records(pages)}
    assert sorted(got) == [
        "https://www.altinget.dk/artikel/%C3%A6ldrepleje",
        "https://www.altinget.dk/artikel/groenland-og-klimaet",
        "https://www.altinget.dk/artikel/valg-2026",
        "https://www.altinget.dk/media/rapport.pdf",
    ]
    # the capture without a timestamp, the one without its URL and the short row
    assert sum(p.rejected for p in pages) == 3
    first, second = archive.requests(CDX)
    assert first.query == {
        "url": "altinget.dk",
        "matchType": "domain",
        "output": "json",
        "fl": "urlkey,timestamp,original,mimetype,statuscode,digest,length",
        "filter": "statuscode:200",
        "collapse": "digest",
        "limit": "500",
        "showResumeKey": "true",
        "from": "20261101000000",
        "to": "20261125235959",
    }
    # the key as the CDX server printed it, decoded once: the server reads it back unchanged
    assert second.query["resumeKey"] == RESUME_DECODED
    assert {k: v for k, v in second.query.items() if k != "resumeKey"} == first.query

    article = got["https://www.altinget.dk/artikel/groenland-og-klimaet"]
    assert article.content_type == "web_page" and article.arena == "web"
    assert article.published_at == datetime(2026, 11, 3, 10, 15, 30, tzinfo=UTC)
    assert article.title == "Grønland og klimaet: Ærø følger med 🌍 | Altinget"
    assert article.text_content.split("\n\n") == [
        "Grønland og klimaet",
        "Isen på Grønland smelter hurtigere end forventet, og det får politikerne på "
        "Christiansborg til at reagere 🌍.",
        "»Vi skal handle nu,« siger ministeren, der vil fremlægge en plan for "
        "klimatilpasning allerede i næste uge.",
    ]  # menus, the cookie banner, the aside, the byline and "Del" left out
    assert article.language == "da" and article.author_platform_id == "www.altinget.dk"
    assert article.hash_source == article.url
    meta = article.raw_metadata
    assert meta["content_fetched"] is True and meta["extractor"] == "html.parser-readable-text"
    assert meta["digest"] == "M5ZQ4ORTQ7WXQ2CKV6LZR6ZKX3N2C5EA" and meta["statuscode"] == "200"
    assert meta["wayback_url"].endswith("/web/20261103101530/" + article.url)
    assert meta["content_fetch_url"].endswith(GROENLAND)

    latin1 = got["https://www.altinget.dk/artikel/%C3%A6ldrepleje"]
    assert latin1.title == "Ældrepleje i krise"
    assert "pårørende må træde til i øget omfang" in latin1.text_content
    assert latin1.raw_metadata["charset"] == "iso-8859-1"

    pdf = got["https://www.altinget.dk/media/rapport.pdf"]
    assert pdf.content_type == "web_page_snapshot" and pdf.text_content is None
    assert "not HTML" in pdf.raw_metadata["content_fetch_error"]
    gone = got["https://www.altinget.dk/artikel/valg-2026"]
    assert gone.content_type == "web_page_snapshot"
    assert gone.raw_metadata["content_fetch_error"].startswith("HTTP 404 from 127.0.0.1")
    # two CDX pages and three archived pages (the PDF is never fetched)
    assert collector.units_spent == 5 and len(archive.seen) == 5


def test_a_url_prefix_and_an_actor_are_sources_and_other_languages_are_kept(archive):
    archive.add(CDX, cdx("cdx_politico_en.json"), url="https://www.politico.eu/article/")
    archive.add(CDX, cdx("cdx_empty.json"), url="folketinget.dk")
    archive.add(POLITICO, page("page_politico_en.html"))
    options = {"url_prefixes": ["https://www.politico.eu/article/"]}
    actor = ActorRef(platform_user_id=None, platform_username="https://folketinget.dk/")
    _, pages = collect(options, actors=[actor])

    [record] = records(pages)
    assert record.language == "en"  # not a .dk host: the page's own <html lang>
    assert record.title == "Denmark weighs its Greenland options"
    prefix, domain = archive.requests(CDX)
    assert (prefix.query["matchType"], domain.query["matchType"]) == ("prefix", "domain")
    assert not any(p.errors for p in pages)  # an empty index answer is no error


def test_rate_limit_and_server_errors_are_retried(archive):
    archive.add(
        CDX,
        Reply(429, b"Too Many Requests", {"Retry-After": "0"}),
        Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"}),
        cdx("cdx_politico_en.json"),
        url="politico.eu",
    )
    archive.add(POLITICO, page("page_politico_en.html"))
    collector, pages = collect({"domains": ["politico.eu"]})
    assert len(records(pages)) == 1
    assert collector.rate_limit_state["retries"] == 2
    assert len(archive.requests(CDX)) == 3


def test_a_persistent_rate_limit_stops_cleanly_with_what_it_has(archive):
    archive.add(CDX, cdx("cdx_politico_en.json"), url="politico.eu")
    archive.add(CDX, Reply(429, b"slow down", {"Retry-After": "0"}), url="altinget.dk")
    collector, pages = collect(
        {"domains": ["politico.eu", "altinget.dk", "dr.dk"], "fetch_text": False}
    )
    assert len(records(pages)) == 1
    assert "HTTP 429" in collector.rate_limit_state["stopped"]
    skipped = [(s.source, s.reason) for p in pages for s in p.skipped]
    assert skipped == [
        ("wayback domain altinget.dk", "rate_limited"),
        ("wayback domain dr.dk", "stopped"),
    ]
    assert not archive.requests(POLITICO)  # fetch_text false: the index only


def test_a_blocked_site_broken_json_and_an_html_page_are_skipped_by_name(archive):
    archive.add(CDX, file_reply("wayback/cdx_blocked.txt", 403, "text/plain"), url="blocked.dk")
    archive.add(CDX, cdx("cdx_truncated.json"), url="tv2.dk")
    archive.add(CDX, page("cdx_offline.html", "text/html"), url="dr.dk")
    archive.add(CDX, cdx("cdx_politico_en.json"), url="politico.eu")
    archive.add(POLITICO, page("page_politico_en.html"))
    _, pages = collect({"domains": ["blocked.dk", "tv2.dk", "dr.dk", "politico.eu"]})

    assert len(records(pages)) == 1  # the rest went on
    skipped = {s.source: s for p in pages for s in p.skipped}
    assert sorted(skipped) == [
        "wayback domain blocked.dk",
        "wayback domain dr.dk",
        "wayback domain tv2.dk",
    ]
    assert "HTTP 403" in skipped["wayback domain blocked.dk"].detail
    assert "refuses this site" in skipped["wayback domain blocked.dk"].detail
    html = skipped["wayback domain dr.dk"]
    assert html.reason == "unparseable"
    assert f"HTTP 200 from 127.0.0.1:{archive.url.rsplit(':', 1)[1]}{CDX}" in html.detail
    assert "not CDX JSON (text/html)" in html.detail
    assert skipped["wayback domain tv2.dk"].reason == "unparseable"


def test_every_source_failing_fails_the_task(archive):
    archive.add(CDX, file_reply("wayback/cdx_blocked.txt", 403, "text/plain"))
    with pytest.raises(ArenaError, match="every source failed"):
        collect({"domains": ["blocked.dk"]})
    with pytest.raises(ArenaError, match="names no domains"):
        collect({})


def test_size_caps_refuse_an_index_answer_and_a_page(archive, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = b'[["urlkey"],' + b'["x"],' * 200_000 + b'["x"]]'
    archive.add(CDX, Reply(200, huge, {"Content-Type": "application/json"}), url="dr.dk")
    archive.add(CDX, cdx("cdx_politico_en.json"), url="politico.eu")
    big_page = b"<html><body><p>" + "Æ".encode() * 300_000 + b"</p></body></html>"
    archive.add(POLITICO, Reply(200, big_page, {"Content-Type": "text/html"}))
    _, pages = collect({"domains": ["dr.dk", "politico.eu"]})

    [skip] = [s for p in pages for s in p.skipped]
    assert (skip.source, skip.reason) == ("wayback domain dr.dk", "too_large")
    [record] = records(pages)
    assert record.text_content is None and record.content_type == "web_page_snapshot"
    assert record.raw_metadata["content_fetch_error"] == "larger than 500 KB, refused"


def test_text_fetches_stop_at_the_runs_cap(archive):
    serve_altinget(archive)
    _, pages = collect({"domains": ["altinget.dk"], "max_text_fetches": 1})
    fetched = [r for r in records(pages) if r.raw_metadata.get("content_fetched")]
    assert [r.url for r in fetched] == ["https://www.altinget.dk/artikel/groenland-og-klimaet"]
    capped = [
        r for r in records(pages) if "cap or time" in r.raw_metadata.get("content_fetch_error", "")
    ]
    assert len(capped) == 3
    assert len(archive.requests(GROENLAND)) == 1 and not archive.requests(AELDRE)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"domains": ["10.0.0.1"]}, "an IP address"),
        ({"domains": ["intranet.local"]}, "local or private"),
        ({"domains": ["localhost"]}, "refused"),
        ({"url_prefixes": ["http://www.dr.dk/nyheder/"]}, "give an https URL"),
        ({"url_prefixes": ["https://www.dr.dk:8443/x"]}, "no user, password or port"),
        ({"domains": "dr.dk"}, "must be a list"),
        ({"max_text_fetches": -1}, "whole number"),
        ({"base_url": "https://evil.example"}, "cannot choose the host"),
        ({"cdx_url": "https://evil.example"}, "cannot choose the host"),
    ],
)
def test_design_options_are_checked(options, message):
    with pytest.raises(ArenaOptionError, match=message):
        get_collector_class("wayback").check_options(options)


def test_an_actor_that_is_no_public_site_is_skipped_by_name(archive):
    archive.add(CDX, cdx("cdx_empty.json"))
    actors = [ActorRef(None, "192.168.1.5"), ActorRef(None, "dr.dk")]
    _, pages = collect({}, actors=actors)
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "wayback 192.168.1.5" and "IP address" in skip.detail
    assert [s.query["url"] for s in archive.requests(CDX)] == ["dr.dk"]


def test_extraction_falls_back_to_the_whole_body_without_an_article():
    body = (RESPONSES / "wayback" / "page_aeldrepleje_latin1.html").read_bytes()
    extracted = extract_text(body, None)
    assert extracted.text.split("\n\n")[0] == "Ældrepleje"
    assert extracted.charset == "iso-8859-1"
    broken = extract_text(
        b"<p>Hj\xe6lp til \xf8en i dag</p></div></span>", "text/html; charset=utf-8"
    )
    assert broken.text == "Hjælp til øen i dag" and broken.charset == "cp1252 (fallback)"


def test_health_check(archive):
    archive.add(CDX, cdx("cdx_empty.json"))
    assert build_collector("wayback").health_check().ok
    archive.routes.clear()
    archive.add(CDX, page("cdx_offline.html", "text/html"))
    status = build_collector("wayback").health_check()
    assert not status.ok and "not CDX JSON" in status.detail


# -- a whole collection run --------------------------------------------------------------


def test_a_design_collects_wayback_rows_once(db, archive, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "wayback-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    serve_altinget(archive)
    archive.add(CDX, file_reply("wayback/cdx_blocked.txt", 403, "text/plain"), url="blocked.dk")
    user = make_user(db)
    config = {"arenas": {"wayback": {"domains": ["altinget.dk", "blocked.dk"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)
    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("wayback", "completed")
    assert arena.records_collected == 4 and arena.records_rejected == 3
    assert arena.credits_spent == 0
    with db.connect() as conn:
        stored = {
            r["url"]: r
            for r in conn.execute(
                text(
                    "SELECT platform, arena, content_type, url, title, text_content, language,"
                    " published_at, pseudonymized_author_id, search_terms_matched, raw_metadata"
                    " FROM content_records"
                )
            ).mappings()
        }
        [task] = (
            conn.execute(text("SELECT status, skipped_sources FROM collection_tasks"))
            .mappings()
            .all()
        )
    article = stored["https://www.altinget.dk/artikel/groenland-og-klimaet"]
    assert (article["platform"], article["arena"], article["content_type"]) == (
        "wayback", "web", "web_page",
    )  # fmt: skip
    assert article["search_terms_matched"] == ["grønland"]
    assert "🌍" in article["text_content"] and article["language"] == "da"
    assert article["published_at"] == datetime(2026, 11, 3, 10, 15, 30, tzinfo=UTC)
    assert article["pseudonymized_author_id"] not in (None, "www.altinget.dk")
    assert [s["source"] for s in task["skipped_sources"]] == ["wayback domain blocked.dk"]
    requests_first = len(archive.seen)
    assert requests_first == 6  # CDX x2 + blocked + three pages

    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 4)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_records")).scalar_one() == 4
    assert len(archive.seen) == 2 * requests_first
