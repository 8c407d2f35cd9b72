from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import ArenaError, CollectionRequest, SearchTerm
from observatory_pipelines.arenas.gdelt import group_query
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply, json_reply

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
DOC = "/api/v2/doc/doc"


def _collect(replay, terms):
    collector = build_collector("gdelt")
    return collector, list(collector.collect(CollectionRequest(**WINDOW, terms=terms)))


def test_group_query_syntax():
    terms = [SearchTerm("grønland", group=1), SearchTerm("ny aftale", "phrase", group=1)]
    assert group_query(terms, "DA") == '(grønland AND "ny aftale") sourcecountry:DA'
    assert group_query([SearchTerm("klima")], "DA") == "klima sourcecountry:DA"


def test_artlist_normalizes_dedups_and_counts_missing_urls(replay):
    replay.add(DOC, file_reply("gdelt_artlist.json"))
    collector, pages = _collect(replay, [SearchTerm("grønland")])
    [page] = pages
    assert len(page.records) == 3 and page.rejected == 1
    url = "https://www.dr.dk/nyheder/indland/groenland-faar-ny-aftale?utm_source=gdelt"
    first = page.records[0]
    assert first.platform_id == hashlib.sha256(url.encode()).hexdigest()
    assert first.url == url and first.hash_source == url
    # artlist titles are plain text: stored as published, entities and all (issue 13.6)
    title = "Grønland får ny aftale med Danmark &amp; Færøerne"
    assert first.title == first.text_content == title
    assert first.language == "da" and first.published_at == datetime(
        2026, 11, 18, 9, 15, tzinfo=UTC
    )
    assert first.author_display_name == "dr.dk"
    assert first.media_urls == ["https://asset.dr.dk/ImageScaler/groenland.jpg"]
    assert first.raw_metadata["sourcecountry"] == "Denmark"
    assert page.records[1].media_urls == []
    assert page.records[2].published_at is None
    [sent] = replay.requests(DOC)
    assert sent.query == {
        "query": "grønland sourcecountry:DA",
        "mode": "artlist",
        "format": "json",
        "maxrecords": "250",
        "sort": "datedesc",
        "startdatetime": "20261101000000",
        "enddatetime": "20261126000000",
    }


def test_html_error_page_and_empty_reply_skip_only_that_term(replay):
    replay.add(
        DOC,
        file_reply("gdelt_html_error.html", content_type="text/html"),
        query="ab sourcecountry:DA",
    )
    replay.add(DOC, json_reply({}), query="tom sourcecountry:DA")
    replay.add(DOC, file_reply("gdelt_artlist.json"), query="grønland sourcecountry:DA")
    _, pages = _collect(replay, [SearchTerm("ab"), SearchTerm("tom"), SearchTerm("grønland")])
    assert [len(p.records) for p in pages] == [0, 0, 3]
    assert "not valid JSON (text/html)" in pages[0].errors[0]
    assert pages[1].errors == []


def test_429_then_success_and_persistent_500_skips_the_term(replay):
    replay.add(
        DOC,
        Reply(429, b"Please limit requests to one every 5 seconds", {"Retry-After": "0"}),
        file_reply("gdelt_artlist.json"),
        query="grønland sourcecountry:DA",
    )
    replay.add(DOC, Reply(500, b"<html>Internal error</html>"), query="nede sourcecountry:DA")
    collector, pages = _collect(replay, [SearchTerm("grønland"), SearchTerm("nede")])
    assert len(pages[0].records) == 3
    assert "HTTP 500 after 8 attempts" in pages[1].errors[0]
    assert len(replay.requests(DOC)) == 2 + 8
    assert collector.rate_limit_state["retries"] == 1 + 7
    assert collector.units_spent == 2  # one unit per query, retries included


def test_every_term_failing_fails_the_task(replay):
    replay.add(DOC, Reply(200, b'{"articles": [{"url": "x"', {"Content-Type": "application/json"}))
    with pytest.raises(ArenaError, match="every source failed"):
        _collect(replay, [SearchTerm("grønland")])
