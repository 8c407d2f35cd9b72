"""url_scraper against recorded pages and robots.txt served on 127.0.0.1."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
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
from observatory_pipelines.arenas.web_fetch import (
    AddressRefused,
    PublicOnlyBackend,
    page_client,
    user_agent,
)
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.collection.url_normalize import url_key
from tests.arenas.conftest import Reply, file_reply
from tests.collection.conftest import make_design, make_user

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
GROENLAND = "/indland/groenland-og-klimaet"
AELDRE = "/indland/aeldrepleje"
ENGLISH = "/world/denmark-greenland"
SHELL = "/app/forside"
BROKEN = "/indland/ufuldendt"


def page(name: str, content_type: str = "text/html; charset=utf-8", **headers) -> Reply:
    return file_reply(f"url_scraper/{name}", content_type=content_type, **headers)


@pytest.fixture
def site(replay, monkeypatch):
    """The replay server as the one non-public host the operator allows (tests only)."""
    monkeypatch.setenv("URL_SCRAPER_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("OPERATOR_CONTACT", "observatory@example.org")
    replay.add("/robots.txt", page("robots.txt", "text/plain"))
    return replay


def serve_pages(site) -> None:
    site.add(GROENLAND, page("artikel_groenland.html"))
    site.add(
        AELDRE,
        page(
            "artikel_aeldrepleje_latin1.html",
            "text/html",
            **{"Last-Modified": "Wed, 04 Nov 2026 08:01:02 GMT"},
        ),
    )
    site.add(ENGLISH, page("article_english.html"))
    site.add(SHELL, page("js_shell.html"))
    site.add(BROKEN, page("broken_markup.html"))


def urls(site, *paths: str) -> list[str]:
    return [f"{site.url}{p}" for p in paths]


def collect(options, actors=()):
    collector = build_collector("url_scraper", options=options)
    request = CollectionRequest(date_from=FROM, date_to=TO, options=options, actors=list(actors))
    return collector, list(collector.collect(request))


def records(pages):
    return [r for p in pages for r in p.records]


def test_pages_are_fetched_politely_and_their_text_extracted(site):
    serve_pages(site)
    options = {"urls": urls(site, GROENLAND, AELDRE, ENGLISH, SHELL, BROKEN)}
    collector, pages = collect(options)

    got = {r.url.removeprefix(site.url): r for r in records(pages)}
    assert sorted(got) == sorted([GROENLAND, AELDRE, ENGLISH, SHELL, BROKEN])
    article = got[GROENLAND]
    assert (article.platform, article.arena, article.content_type) == (
        "url_scraper", "web", "web_page",
    )  # fmt: skip
    assert article.platform_id is None  # ingest keys the page by its normalized URL
    assert article.title == "Grønland og klimaet: Ærø følger med 🌍 | Nyhedssitet"
    assert article.text_content.split("\n\n") == [
        "Grønland og klimaet",
        "Isen på Grønland smelter hurtigere end forventet, og det får politikerne på "
        "Christiansborg til at reagere 🌍.",
        "»Vi skal handle nu,« siger ministeren, der vil fremlægge en plan for "
        "klimatilpasning allerede i næste uge.",
    ]  # menus, cookie banner, aside, footer, byline and "Del" left out
    assert article.published_at == datetime(2026, 11, 3, 8, 15, tzinfo=UTC)
    assert article.language == "da" and article.author_platform_id == "127.0.0.1"
    assert article.hash_source == article.text_content
    meta = article.raw_metadata
    assert meta["source_url"] == meta["final_url"] == article.url
    assert meta["http_status_code"] == 200 and meta["robots_txt_allowed"] is True
    assert meta["extraction_method"] == "html.parser-readable-text"
    assert meta["page_date_source"] == "meta article:published_time"
    assert meta["crawl_delay_s"] == 2.0 and meta["needs_playwright"] is True  # short text

    latin1 = got[AELDRE]
    assert latin1.title == "Ældrepleje i krise" and latin1.raw_metadata["charset"] == "iso-8859-1"
    assert "pårørende må træde til i øget omfang" in latin1.text_content
    assert latin1.published_at == datetime(2026, 11, 4, 8, 1, 2, tzinfo=UTC)  # Last-Modified
    english = got[ENGLISH]  # other languages are kept: the design named the page
    assert english.language == "en"
    assert english.published_at == datetime(2026, 11, 10, 6, 45, 12, tzinfo=UTC)  # JSON-LD
    shell = got[SHELL]
    assert shell.published_at is None and shell.raw_metadata["page_date_source"] is None
    assert shell.raw_metadata["needs_playwright"] is True
    broken = got[BROKEN]
    assert "æøå og 😀 emoji" in broken.text_content

    # robots.txt once for the host, then each page once, with our User-Agent and contact
    assert [s.path for s in site.seen][0] == "/robots.txt"
    assert len(site.requests("/robots.txt")) == 1 and len(site.seen) == 6
    agent = site.seen[1].headers["User-Agent"]
    assert agent.startswith("IssueObservatory/") and "observatory@example.org" in agent
    assert collector.units_spent == 6
    assert not any(p.errors for p in pages)


def test_robots_txt_refusals_and_failing_pages_are_skipped_by_url(site):
    serve_pages(site)
    site.add("/privat/notat", page("artikel_groenland.html"))
    site.add("/mangler", page("not_found.html", status=404))
    site.add("/rapport.pdf", page("rapport.pdf", "application/pdf"))
    site.add("/api/data", Reply(200, b'{"a": 1}', {"Content-Type": "application/json"}))
    options = {
        "urls": urls(site, "/privat/notat", "/mangler", "/rapport.pdf", "/api/data", GROENLAND)
    }
    _, pages = collect(options)

    assert [r.url for r in records(pages)] == urls(site, GROENLAND)  # the rest went on
    skipped = {
        s.source.removeprefix(f"url_scraper {site.url}"): s for p in pages for s in p.skipped
    }
    assert sorted(skipped) == ["/api/data", "/mangler", "/privat/notat", "/rapport.pdf"]
    assert "disallowed by robots.txt" in skipped["/privat/notat"].detail
    assert not site.requests("/privat/notat")  # never asked
    missing = skipped["/mangler"]
    assert missing.reason == "http_error"
    assert f"HTTP 404 from 127.0.0.1:{site.url.rsplit(':', 1)[1]}/mangler" in missing.detail
    assert "application/pdf, not an HTML page" in skipped["/rapport.pdf"].detail
    assert "application/json, not an HTML page" in skipped["/api/data"].detail


def test_rate_limit_and_server_errors_are_retried(site):
    site.add(
        GROENLAND,
        Reply(429, b"Too Many Requests", {"Retry-After": "0"}),
        page("error_503.html", status=503),
        page("artikel_groenland.html"),
    )
    collector, pages = collect({"urls": urls(site, GROENLAND)})
    [record] = records(pages)
    assert record.title.startswith("Grønland og klimaet")
    assert collector.rate_limit_state["retries"] == 2
    assert len(site.requests(GROENLAND)) == 3


def test_a_page_over_the_size_cap_is_refused(site):
    big = b"<html><body><p>" + "Æ".encode() * 500_000 + b"</p></body></html>"
    site.add("/stor", Reply(200, big, {"Content-Type": "text/html"}))
    site.add(GROENLAND, page("artikel_groenland.html"))
    _, pages = collect({"urls": urls(site, "/stor", GROENLAND)})
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.reason == "too_large" and skip.detail.endswith("larger than 900 KB, refused")
    assert len(records(pages)) == 1


def test_a_redirect_to_a_non_public_host_is_refused_without_connecting(site):
    port = site.url.rsplit(":", 1)[1]
    site.add("/kort", Reply(302, b"", {"Location": f"http://localhost:{port}/admin"}))
    site.add("/admin", page("artikel_groenland.html"))
    site.add(GROENLAND, page("artikel_groenland.html"))
    _, pages = collect({"urls": urls(site, "/kort", GROENLAND)})
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == f"url_scraper {site.url}/kort"
    assert f"localhost:{port} refused: only ports 80 and 443" in skip.detail
    assert not site.requests("/admin")
    assert len(records(pages)) == 1


def test_the_guard_refuses_names_that_resolve_to_private_addresses(monkeypatch):
    monkeypatch.delenv("URL_SCRAPER_ALLOW_HOSTS", raising=False)
    backend = PublicOnlyBackend()
    with pytest.raises(AddressRefused, match="resolves to a non-public address"):
        backend.connect_tcp("localhost", 80)
    with pytest.raises(AddressRefused, match="non-public"):
        backend.connect_tcp("169.254.169.254", 80)  # the cloud metadata address
    with pytest.raises(AddressRefused, match="only ports 80 and 443"):
        backend.connect_tcp("dr.dk", 8080)
    # the whole client refuses a loopback page on port 80 before any connection is made
    client = page_client({}, 0.0)
    with pytest.raises(AddressRefused):
        client.get("http://127.0.0.1/")
    client.close()
    assert user_agent().startswith("IssueObservatory/0.1")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"urls": ["http://10.0.0.1/side"]}, "an IP address"),
        ({"urls": ["http://[fd00::1]/"]}, "IP address"),
        ({"urls": ["https://localhost/"]}, "refused"),
        ({"urls": ["https://intranet.local/nyt"]}, "local or private"),
        ({"urls": ["https://www.dr.dk:8443/x"]}, "port 8443"),
        ({"urls": ["ftp://www.dr.dk/x"]}, "only http and https"),
        ({"urls": ["https://bruger:kode@www.dr.dk/"]}, "no user or password"),
        ({"urls": "https://www.dr.dk/"}, "must be a list"),
        ({"base_url": "https://evil.example"}, "cannot choose the host"),
    ],
)
def test_design_options_are_checked(options, message, monkeypatch):
    monkeypatch.delenv("URL_SCRAPER_ALLOW_HOSTS", raising=False)
    with pytest.raises(ArenaOptionError, match=message):
        get_collector_class("url_scraper").check_options(options)


def test_public_urls_pass_and_an_actor_url_is_fetched(site):
    get_collector_class("url_scraper").check_options(
        {"urls": ["https://www.dr.dk/nyheder/indland/x", "http://politiken.dk:80/a"]}
    )
    site.add(ENGLISH, page("article_english.html"))
    actors = [ActorRef(None, f"{site.url}{ENGLISH}"), ActorRef(None, "http://192.168.1.5/")]
    _, pages = collect({}, actors=actors)
    [record] = records(pages)
    assert record.url == f"{site.url}{ENGLISH}"
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "url_scraper http://192.168.1.5/" and "IP address" in skip.detail


def test_every_page_failing_fails_the_task_and_no_urls_is_an_error(site):
    site.add("/mangler", page("not_found.html", status=404))
    with pytest.raises(ArenaError, match="every source failed"):
        collect({"urls": urls(site, "/mangler")})
    with pytest.raises(ArenaError, match="names no urls"):
        collect({})


def test_unreachable_or_forbidden_robots_txt(replay, monkeypatch):
    monkeypatch.setenv("URL_SCRAPER_ALLOW_HOSTS", "127.0.0.1")
    replay.add("/robots.txt", Reply(503, b"down", {}))  # unreachable: allowed (spec)
    replay.add(GROENLAND, page("artikel_groenland.html"))
    _, pages = collect({"urls": urls(replay, GROENLAND)})
    assert len(records(pages)) == 1
    replay.routes.clear()
    replay.add("/robots.txt", Reply(403, b"no", {}))  # 401/403: everything disallowed
    replay.add(GROENLAND, page("artikel_groenland.html"))
    with pytest.raises(ArenaError, match="disallowed by robots.txt"):
        collect({"urls": urls(replay, GROENLAND)})


def test_the_page_cap_stops_cleanly(site, monkeypatch):
    serve_pages(site)
    monkeypatch.setattr("observatory_pipelines.arenas.url_scraper.URLS_PER_RUN", 2)
    collector, pages = collect({"urls": urls(site, GROENLAND, AELDRE, ENGLISH)})
    assert len(records(pages)) == 2
    assert collector.rate_limit_state["stopped"] == "page cap reached; 1 pages not fetched"
    [skip] = [s for p in pages for s in p.skipped]
    assert (skip.source, skip.reason) == (f"url_scraper {site.url}{ENGLISH}", "stopped")
    assert not site.requests(ENGLISH)


def test_health_check():
    assert build_collector("url_scraper").health_check().ok


# -- a whole collection run --------------------------------------------------------------


def test_a_design_collects_pages_once_keyed_by_their_normalized_url(db, site, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "url-scraper-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    serve_pages(site)
    site.add("/mangler", page("not_found.html", status=404))
    user = make_user(db)
    asked = urls(site, GROENLAND + "?utm_source=nyhedsbrev", SHELL, "/mangler")
    config = {"arenas": {"url_scraper": {"urls": asked}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)
    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("url_scraper", "completed")
    assert arena.records_collected == 2 and arena.credits_spent == 0
    with db.connect() as conn:
        stored = {
            r["url"]: r
            for r in conn.execute(
                text(
                    "SELECT platform, arena, content_type, platform_id, url, title, text_content,"
                    " language, published_at, pseudonymized_author_id, search_terms_matched,"
                    " raw_metadata FROM content_records"
                )
            ).mappings()
        }
        [task] = conn.execute(text("SELECT skipped_sources FROM collection_tasks")).mappings().all()
    article = stored[f"{site.url}{GROENLAND}"]  # the tracking parameter dropped at ingest
    assert article["platform_id"] == hashlib.sha256(url_key(article["url"]).encode()).hexdigest()
    assert article["raw_metadata"]["platform_id_source"] == "url"
    assert (article["platform"], article["arena"], article["content_type"]) == (
        "url_scraper", "web", "web_page",
    )  # fmt: skip
    assert article["search_terms_matched"] == ["grønland"]
    assert "🌍" in article["text_content"] and article["language"] == "da"
    assert article["published_at"] == datetime(2026, 11, 3, 8, 15, tzinfo=UTC)
    assert article["pseudonymized_author_id"] not in (None, "127.0.0.1")
    undated = stored[f"{site.url}{SHELL}"]
    assert undated["raw_metadata"]["published_at_source"] == "collected_at"
    assert [s["source"] for s in task["skipped_sources"]] == [f"url_scraper {site.url}/mangler"]
    requests_first = len(site.seen)
    assert requests_first == 4  # robots.txt + three pages

    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 2)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_records")).scalar_one() == 2
    assert len(site.seen) == 2 * requests_first


def test_httpx_is_not_given_a_proxy_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.9:3128")
    client = page_client({}, 0.0)
    assert client._client._mounts == {} and isinstance(
        client._client._transport, httpx.HTTPTransport
    )
    client.close()


def test_a_redirect_to_another_site_keeps_the_page_only_if_its_robots_txt_allows(site, monkeypatch):
    monkeypatch.setenv("URL_SCRAPER_ALLOW_HOSTS", "127.0.0.1,localhost")
    other = site.url.replace("127.0.0.1", "localhost")
    site.add("/kort/1", Reply(301, b"", {"Location": f"{other}/privat/notat"}))
    site.add("/kort/2", Reply(301, b"", {"Location": f"{other}{GROENLAND}"}))
    site.add("/privat/notat", page("artikel_groenland.html"))
    site.add(GROENLAND, page("artikel_groenland.html"))
    _, pages = collect({"urls": urls(site, "/kort/1", "/kort/2")})
    [record] = records(pages)
    assert record.url == f"{other}{GROENLAND}"
    assert record.raw_metadata["source_url"] == f"{site.url}/kort/2"
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == f"url_scraper {site.url}/kort/1"
    assert "robots.txt disallows" in skip.detail
    # robots.txt of each origin once
    assert len(site.requests("/robots.txt")) == 2
