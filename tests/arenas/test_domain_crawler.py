"""domain_crawler: article pages linked from a design's RSS records, fetched from 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import ArenaOptionError, CollectionRequest
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.collection.design_links import page_id
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import RESPONSES, Reply, file_reply
from tests.collection.conftest import make_design, make_user

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
GROENLAND = "/indland/groenland-og-klimaet"
AELDRE = "/indland/aeldrepleje"
SLETTET = "/indland/slettet"


def page(name: str, content_type: str = "text/html; charset=utf-8", **headers) -> Reply:
    return file_reply(f"url_scraper/{name}", content_type=content_type, **headers)


@pytest.fixture
def site(replay, monkeypatch):
    monkeypatch.setenv("URL_SCRAPER_ALLOW_HOSTS", "127.0.0.1")
    replay.add("/robots.txt", page("robots.txt", "text/plain"))
    replay.add(GROENLAND, page("artikel_groenland.html"))
    replay.add(AELDRE, page("artikel_aeldrepleje_latin1.html", "text/html"))
    replay.add(SLETTET, page("not_found.html", status=404))
    replay.add("/", page("artikel_groenland.html"))
    replay.add("/media/rapport.pdf", page("rapport.pdf", "application/pdf"))
    return replay


def links(site, *paths: str) -> list[dict]:
    return [
        {"url": f"{site.url}{p}" if p.startswith("/") else p, "platform": "rss_feeds",
         "platform_id": f"item-{i}"}
        for i, p in enumerate(paths)
    ]  # fmt: skip


def crawl(options, design_links, known=0):
    collector = build_collector("domain_crawler", options=options)
    collector.design_links = design_links
    collector.design_links_known = known
    request = CollectionRequest(date_from=FROM, date_to=TO, options=options)
    return collector, list(collector.collect(request))


def test_only_article_links_on_the_designs_domains_are_fetched(site):
    given = links(
        site, GROENLAND, AELDRE, "/", "/media/rapport.pdf", "/feed/indland", SLETTET,
        "https://www.politico.eu/article/denmark-greenland/", "http://10.0.0.1/intern",
    )  # fmt: skip
    collector, pages = crawl({"domains": ["127.0.0.1"]}, given, known=3)

    got = {r.url.removeprefix(site.url): r for p in pages for r in p.records}
    assert sorted(got) == [AELDRE, GROENLAND]
    article = got[GROENLAND]
    assert (article.platform, article.arena, article.content_type) == (
        "domain_crawler", "news", "article",
    )  # fmt: skip
    assert "Christiansborg til at reagere 🌍." in article.text_content
    meta = article.raw_metadata
    assert meta["source_domain"] == "127.0.0.1"
    assert meta["source_record"] == {"platform": "rss_feeds", "platform_id": "item-0"}
    assert meta["source_url"] == f"{site.url}{GROENLAND}"
    [skip] = [s for p in pages for s in p.skipped]  # the deleted article, by its URL
    assert skip.source == f"domain_crawler {site.url}{SLETTET}" and "HTTP 404" in skip.detail
    assert collector.rate_limit_state["links"] == {
        "given": 8,
        "already_collected": 3,
        "to_fetch": 3,
        "ignored": {"other_domain": 1, "not_an_article": 3, "not_public": 1, "domain_cap": 0},
    }
    # robots.txt and three articles: never the front page, the PDF, another site or 10.0.0.1
    assert sorted(s.path for s in site.seen) == sorted(["/robots.txt", GROENLAND, AELDRE, SLETTET])


def test_the_per_domain_cap_and_nothing_new_to_fetch(site):
    collector, pages = crawl(
        {"domains": ["127.0.0.1"], "max_pages_per_domain": 1}, links(site, GROENLAND, AELDRE)
    )
    assert [r.url for p in pages for r in p.records] == [f"{site.url}{GROENLAND}"]
    assert collector.rate_limit_state["links"]["ignored"]["domain_cap"] == 1
    site.seen.clear()
    _, pages = crawl({"domains": ["127.0.0.1"]}, [])
    assert [p.records for p in pages] == [[]] and not site.seen


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"domains": ["10.0.0.1"]}, "an IP address"),
        ({"domains": ["intranet.local"]}, "local or private"),
        ({"domains": "dr.dk"}, "must be a list"),
        ({"max_pages_per_domain": -1}, "whole number"),
        ({"base_url": "https://evil.example"}, "cannot choose the host"),
    ],
)
def test_design_options_are_checked(options, message, monkeypatch):
    monkeypatch.delenv("URL_SCRAPER_ALLOW_HOSTS", raising=False)
    with pytest.raises(ArenaOptionError, match=message):
        get_collector_class("domain_crawler").check_options(options)


def test_health_check():
    assert build_collector("domain_crawler").health_check().ok


def test_rss_items_are_completed_with_their_article_bodies_once(db, site, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "domain-crawler-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    feed = (RESPONSES / "domain_crawler" / "feed_template.xml").read_text(encoding="utf-8")
    body = feed.replace("__BASE__", site.url).encode()
    site.add("/rss/indland", Reply(200, body, {"Content-Type": "application/rss+xml"}))
    user = make_user(db)
    rss = {"default_feeds": False, "feeds": [f"{site.url}/rss/indland"]}
    design = make_design(db, user, {"arenas": {"rss_feeds": rss}})
    first = start_run(db, design, FROM, TO)
    assert first.arenas[0].records_collected == 7

    crawler = {"arenas": {"rss_feeds": {**rss, "enabled": False},
                          "domain_crawler": {"domains": ["127.0.0.1"]}}}  # fmt: skip
    with db.begin() as conn:
        conn.execute(
            text("UPDATE query_designs SET arenas_config = CAST(:c AS jsonb) WHERE id = :d"),
            {"c": json.dumps(crawler), "d": design},
        )
    site.seen.clear()
    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert (arena.platform, arena.status, arena.records_collected) == (
        "domain_crawler", "completed", 2,
    )  # fmt: skip
    assert arena.credits_spent == 0
    assert sorted(s.path for s in site.seen) == sorted(["/robots.txt", GROENLAND, AELDRE, SLETTET])
    with db.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT platform, platform_id, url, content_type, arena, text_content,"
                    " raw_metadata FROM content_records ORDER BY platform, url"
                )
            )
            .mappings()
            .all()
        )
    crawled = {r["url"]: r for r in rows if r["platform"] == "domain_crawler"}
    items = {r["url"]: r for r in rows if r["platform"] == "rss_feeds"}
    article_url = f"{site.url}{GROENLAND}"
    assert sorted(crawled) == [f"{site.url}{AELDRE}", article_url]
    # the RSS item (its tracking parameters dropped at ingest) and its article share a key
    assert article_url in items
    assert crawled[article_url]["platform_id"] == page_id(items[article_url]["url"])
    assert crawled[article_url]["raw_metadata"]["source_record"]["platform"] == "rss_feeds"
    assert "»Vi skal handle nu,«" in crawled[article_url]["text_content"]

    site.seen.clear()
    third = start_run(db, design, FROM, TO)
    [arena] = third.arenas
    assert (arena.status, arena.records_collected) == ("completed", 0)
    # the two stored articles are known and not asked again; the deleted one is retried
    assert sorted(s.path for s in site.seen) == sorted(["/robots.txt", SLETTET])
    with db.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM content_records WHERE platform = 'domain_crawler'")
        ).scalar_one()
    assert count == 2


def test_a_link_redirecting_off_the_designs_domains_is_not_kept(site, monkeypatch):
    monkeypatch.setenv("URL_SCRAPER_ALLOW_HOSTS", "127.0.0.1,localhost")
    other = site.url.replace("127.0.0.1", "localhost")
    site.add("/kort", Reply(302, b"", {"Location": f"{other}{GROENLAND}"}))
    _, pages = crawl({"domains": ["127.0.0.1"]}, links(site, "/kort", AELDRE))
    assert [r.url for p in pages for r in p.records] == [f"{site.url}{AELDRE}"]
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == f"domain_crawler {site.url}/kort"
    assert "redirected to localhost, outside the design's domains" in skip.detail
