"""Common Crawl against a recorded index (collinfo, page counts, NDJSON pages) and WARC
records served by byte range on 127.0.0.1."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import ArenaError, ArenaOptionError, CollectionRequest
from observatory_pipelines.arenas.common_crawl_warc import WarcUnreadable, read_response
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import RESPONSES, Reply, file_reply, json_reply
from tests.collection.conftest import make_design, make_user

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
HERE = RESPONSES / "common_crawl"
NOV = "/CC-MAIN-2026-47-index"
OCT = "/CC-MAIN-2026-44-index"
SEP = "/CC-MAIN-2026-40-index"
SEGMENTS = "/crawl-data/CC-MAIN-2026-47/segments"
GROENLAND_WARC = f"{SEGMENTS}/1762000000.12/warc/CC-MAIN-20261112081502-00042.warc.gz"
SPORT_WARC = f"{SEGMENTS}/1762000000.31/warc/CC-MAIN-20261114100000-00007.warc.gz"
ENGLISH_WARC = f"{SEGMENTS}/1762000000.40/warc/CC-MAIN-20261117-00003.warc.gz"
GROENLAND = "https://www.dr.dk/nyheder/politik/groenland-og-klimaet"
SPORT = "https://www.dr.dk/sport/haandbold"


def ndjson(name: str) -> Reply:
    return file_reply(f"common_crawl/{name}", content_type="text/x-ndjson")


def ranged(name: str, offset: int, length: int) -> Reply:
    body = (HERE / name).read_bytes()[offset : offset + length]
    return Reply(206, body, {"Content-Range": f"bytes {offset}-{offset + length - 1}/*"})


def no_captures() -> Reply:
    return file_reply("common_crawl/no_captures.json", 404)


@pytest.fixture
def cc(replay, monkeypatch):
    monkeypatch.setenv("COMMON_CRAWL_API_URL", replay.url)
    monkeypatch.setenv("COMMON_CRAWL_DATA_URL", replay.url)
    replay.add("/collinfo.json", file_reply("common_crawl/collinfo.json"))
    return replay


def serve_dr(replay) -> None:
    replay.add(NOV, file_reply("common_crawl/numpages_two.json"), url="dr.dk", showNumPages="true")
    replay.add(NOV, ndjson("index_dr_page0.ndjson"), url="dr.dk", page="0")
    replay.add(NOV, ndjson("index_dr_page1.ndjson"), url="dr.dk", page="1")
    replay.add(OCT, no_captures(), url="dr.dk")
    replay.add(GROENLAND_WARC, ranged("CC-MAIN-20261112081502-00042.warc.gz", 251, 898))
    replay.add(SPORT_WARC, ranged("CC-MAIN-20261114100000-00007.warc.gz", 0, 438))


def collect(options):
    collector = build_collector("common_crawl", options=options)
    request = CollectionRequest(date_from=FROM, date_to=TO, options=options)
    return collector, list(collector.collect(request))


def records(pages):
    return [r for p in pages for r in p.records]


def test_the_crawls_overlapping_the_window_are_paged_and_warc_records_read(cc):
    serve_dr(cc)
    collector, pages = collect({"domains": ["dr.dk"]})

    got = {r.url: r for r in records(pages)}
    assert sorted(got) == [
        "https://www.dr.dk/english/news",
        "https://www.dr.dk/nyheder/kaempe-side",
        GROENLAND,
        "https://www.dr.dk/om-dr/rapport-%C3%A6ldre.pdf",
        SPORT,
    ]
    assert sum(p.rejected for p in pages) == 2  # no timestamp; a broken line
    assert not any(p.skipped for p in pages)  # "No Captures found" in October is no error
    assert collector.rate_limit_state["crawls"] == ["CC-MAIN-2026-47", "CC-MAIN-2026-44"]
    assert not cc.requests(SEP)  # September does not overlap the window

    count, first, second = cc.requests(NOV)
    assert count.query == {
        "url": "dr.dk",
        "matchType": "domain",
        "output": "json",
        "showNumPages": "true",
    }
    assert first.query == {
        "url": "dr.dk",
        "matchType": "domain",
        "output": "json",
        "filter": "=status:200",
        "from": "20261101000000",
        "to": "20261125235959",
        "page": "0",
    }
    assert second.query["page"] == "1"
    [warc_request] = cc.requests(GROENLAND_WARC)
    assert warc_request.headers["Range"] == "bytes=251-1148"

    article = got[GROENLAND]
    assert article.platform_id == "K3V5Q6ZJ7AYQ2LXW4Q3NNB2ZP6C5GQ7R"
    assert article.content_type == "web_page" and article.arena == "web"
    assert article.published_at == datetime(2026, 11, 12, 8, 15, 2, tzinfo=UTC)
    assert article.title == "Grønland og klimaet: Ærø følger med 🌍 | DR"
    assert article.text_content.startswith("Grønland og klimaet\n\nIsen på Grønland smelter")
    assert "🌍" in article.text_content and "cookies" not in article.text_content
    assert article.language == "da" and article.author_platform_id == "www.dr.dk"
    assert article.hash_source == GROENLAND
    meta = article.raw_metadata
    assert (meta["warc_record_offset"], meta["warc_record_length"]) == ("251", "898")
    assert meta["crawl"] == "CC-MAIN-2026-47" and meta["charset"] == "UTF-8"
    assert meta["warc_http_status"] == 200 and meta["content_fetched"] is True

    # an older crawl's record: chunked, gzip content-encoding, Latin-1
    sport = got[SPORT]
    assert sport.title == "Håndbold: Danmark vandt"
    assert sport.text_content.startswith("Landsholdet vandt finalen")
    assert sport.raw_metadata["text_charset"] == "iso-8859-1"

    pdf = got["https://www.dr.dk/om-dr/rapport-%C3%A6ldre.pdf"]
    assert (
        pdf.content_type == "web_index_entry"
        and "not HTML" in pdf.raw_metadata["content_fetch_error"]
    )
    big = got["https://www.dr.dk/nyheder/kaempe-side"]
    assert big.raw_metadata["content_skipped_size_bytes"] == 3_145_728
    english = got["https://www.dr.dk/english/news"]
    assert english.language == "en" and len(english.platform_id) == 64  # no digest: sha256
    assert english.raw_metadata["content_fetch_error"].startswith("HTTP 404 from 127.0.0.1")
    # collinfo, 3 November + 1 October index requests, 3 WARC ranges (not the PDF, not 3 MB)
    assert collector.units_spent == 8 and len(cc.seen) == 8


def test_languages_keep_only_captures_in_them(cc):
    serve_dr(cc)
    collector, pages = collect({"domains": ["dr.dk"], "languages": ["da"], "fetch_text": False})
    urls = {r.url for r in records(pages)}
    assert "https://www.dr.dk/english/news" not in urls
    assert SPORT in urls  # "dan,eng": Danish among them
    # the PDF declares no language: not Danish as far as the index knows
    assert "https://www.dr.dk/om-dr/rapport-%C3%A6ldre.pdf" not in urls
    assert collector.rate_limit_state["language_filtered"] == 2
    assert not cc.requests(GROENLAND_WARC)


def test_an_unknown_crawl_is_skipped_by_name_and_the_rest_goes_on(cc):
    serve_dr(cc)
    _, pages = collect({"domains": ["dr.dk"], "crawls": ["CC-MAIN-2026-47", "CC-MAIN-1999-01"]})
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "common_crawl crawl CC-MAIN-1999-01"
    assert "not listed in collinfo.json" in skip.detail
    assert len(records(pages)) == 5 and not cc.requests(OCT)


def test_rate_limits_and_server_errors_are_retried(cc):
    cc.add(
        NOV,
        Reply(429, b"Too Many Requests", {"Retry-After": "0"}),
        Reply(503, b"", {}),
        file_reply("common_crawl/numpages_one.json"),
        url="dr.dk",
        showNumPages="true",
    )
    cc.add(NOV, ndjson("index_dr_page1.ndjson"), url="dr.dk", page="0")
    cc.add(OCT, no_captures())
    collector, pages = collect({"domains": ["dr.dk"], "fetch_text": False})
    assert len(records(pages)) == 3
    assert collector.rate_limit_state["retries"] == 2


def test_a_persistent_rate_limit_stops_cleanly_with_what_it_has(cc):
    serve_dr(cc)
    cc.add(NOV, Reply(429, b"slow down", {"Retry-After": "0"}), url="tv2.dk")
    collector, pages = collect({"domains": ["dr.dk", "tv2.dk"], "fetch_text": False})
    assert len(records(pages)) == 5
    assert "HTTP 429" in collector.rate_limit_state["stopped"]
    assert [(s.source, s.reason) for p in pages for s in p.skipped] == [
        ("common_crawl CC-MAIN-2026-47 domain tv2.dk", "rate_limited"),
        ("common_crawl CC-MAIN-2026-44 domain dr.dk", "stopped"),
        ("common_crawl CC-MAIN-2026-44 domain tv2.dk", "stopped"),
    ]
    assert not cc.requests(OCT)


def test_a_rate_limit_before_anything_was_collected_fails_the_task_saying_so(cc):
    cc.add(NOV, Reply(429, b"slow down", {"Retry-After": "0"}))
    with pytest.raises(ArenaError, match="every source failed .*HTTP 429 rate limited"):
        collect({"domains": ["dr.dk"]})


def test_an_html_page_a_bad_count_and_an_oversized_answer_skip_their_source(cc, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    serve_dr(cc)
    cc.add(NOV, file_reply("common_crawl/index_html_error.html", 200, "text/html"), url="tv2.dk")
    cc.add(NOV, json_reply({"pages": "many"}), url="bt.dk")
    huge = b'{"url": "x"}\n' * 100_000
    cc.add(NOV, file_reply("common_crawl/numpages_one.json"), url="eb.dk", showNumPages="true")
    cc.add(NOV, Reply(200, huge, {"Content-Type": "text/x-ndjson"}), url="eb.dk", page="0")
    cc.add(OCT, Reply(400, b"Invalid", {"Content-Type": "text/plain"}), url="eb.dk")
    cc.add(OCT, no_captures())
    _, pages = collect({"domains": ["dr.dk", "tv2.dk", "bt.dk", "eb.dk"], "fetch_text": False})

    assert len(records(pages)) == 5  # dr.dk went on
    skipped = {s.source: s for p in pages for s in p.skipped}
    html = skipped["common_crawl CC-MAIN-2026-47 domain tv2.dk"]
    assert html.reason == "unparseable"
    assert f"HTTP 200 from 127.0.0.1:{cc.url.rsplit(':', 1)[1]}{NOV} is HTML" in html.detail
    assert skipped["common_crawl CC-MAIN-2026-47 domain bt.dk"].reason == "unparseable"
    assert skipped["common_crawl CC-MAIN-2026-47 domain eb.dk"].reason == "too_large"
    assert "HTTP 400" in skipped["common_crawl CC-MAIN-2026-44 domain eb.dk"].detail


def test_a_server_that_ignores_the_range_is_not_read_whole(cc):
    serve_dr(cc)
    cc.routes = [r for r in cc.routes if r[1] != GROENLAND_WARC]
    whole = (HERE / "CC-MAIN-20261112081502-00042.warc.gz").read_bytes()
    cc.add(GROENLAND_WARC, Reply(200, whole, {}))
    _, pages = collect({"domains": ["dr.dk"]})
    [article] = [r for r in records(pages) if r.url == GROENLAND]
    assert article.text_content is None
    assert "not the 898-byte range asked for" in article.raw_metadata["content_fetch_error"]


def test_warc_records_that_cannot_be_read_are_refused():
    member = (HERE / "CC-MAIN-20261114100000-00007.warc.gz").read_bytes()
    with pytest.raises(WarcUnreadable, match="truncated"):
        read_response(member[:-20], 1024 * 1024)
    with pytest.raises(WarcUnreadable, match="not gzip"):
        read_response(b"WARC/1.0\r\n\r\n", 1024 * 1024)
    with pytest.raises(WarcUnreadable, match="WARC version line"):
        read_response(gzip.compress(b"HTTP/1.1 200 OK\r\n\r\n"), 1024 * 1024)
    bomb = gzip.compress(b"WARC/1.0\r\n\r\n" + b"0" * 3 * 1024 * 1024)
    with pytest.raises(WarcUnreadable, match="inflates past"):
        read_response(bomb, 1024 * 1024)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"domains": ["127.0.0.1"]}, "an IP address"),
        ({"url_prefixes": ["ftp://dr.dk/"]}, "give an https URL"),
        ({"crawls": ["../collinfo"]}, "not a crawl id"),
        ({"crawls": "CC-MAIN-2026-47"}, "must be a list"),
        ({"max_crawls": -2}, "whole number"),
        ({"index_url": "https://evil.example"}, "cannot choose the host"),
    ],
)
def test_design_options_are_checked(options, message):
    with pytest.raises(ArenaOptionError, match=message):
        get_collector_class("common_crawl").check_options(options)


def test_no_source_or_no_reachable_index_is_a_clear_error(cc, monkeypatch):
    with pytest.raises(ArenaError, match="names no domains"):
        collect({})
    cc.routes.clear()
    cc.add("/collinfo.json", file_reply("common_crawl/index_html_error.html", 200, "text/html"))
    with pytest.raises(ArenaError, match="collinfo: HTTP 200 from .*/collinfo.json is not JSON"):
        collect({"domains": ["dr.dk"]})
    status = build_collector("common_crawl").health_check()
    assert not status.ok and "collinfo" in status.detail


def test_health_check_names_the_newest_crawl(cc):
    status = build_collector("common_crawl").health_check()
    assert status.ok and "newest CC-MAIN-2026-47" in status.detail


# -- a whole collection run --------------------------------------------------------------


def test_a_design_collects_common_crawl_rows_once(db, cc, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "common-crawl-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    serve_dr(cc)
    user = make_user(db)
    config = {
        "arenas": {
            "common_crawl": {"domains": ["dr.dk"], "crawls": ["CC-MAIN-2026-47", "CC-MAIN-2000-01"]}
        }
    }
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)
    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("common_crawl", "completed")
    assert arena.records_collected == 5 and arena.records_rejected == 2
    assert arena.credits_spent == 0
    with db.connect() as conn:
        stored = {
            r["url"]: r
            for r in conn.execute(
                text(
                    "SELECT platform_id, platform, arena, content_type, title, text_content,"
                    " language, url, published_at, pseudonymized_author_id,"
                    " search_terms_matched, raw_metadata FROM content_records"
                )
            ).mappings()
        }
        [task] = conn.execute(text("SELECT skipped_sources FROM collection_tasks")).mappings()
    article = stored[GROENLAND]
    assert (article["platform"], article["arena"], article["content_type"]) == (
        "common_crawl", "web", "web_page",
    )  # fmt: skip
    assert article["platform_id"] == "K3V5Q6ZJ7AYQ2LXW4Q3NNB2ZP6C5GQ7R"
    assert article["search_terms_matched"] == ["grønland"] and article["language"] == "da"
    assert article["published_at"] == datetime(2026, 11, 12, 8, 15, 2, tzinfo=UTC)
    assert article["pseudonymized_author_id"] not in (None, "www.dr.dk")
    assert stored[SPORT]["title"] == "Håndbold: Danmark vandt"
    assert [s["source"] for s in task["skipped_sources"]] == ["common_crawl crawl CC-MAIN-2000-01"]
    requests_first = len(cc.seen)
    assert requests_first == 7  # collinfo, count + 2 pages, 3 WARC ranges

    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 5)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_records")).scalar_one() == 5
    assert len(cc.seen) == 2 * requests_first
