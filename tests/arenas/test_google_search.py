"""Google Search through Serper (medium) and SerpAPI (premium), from recorded responses.

The collector's real HTTP client talks to the replay server on 127.0.0.1, which the
operator's settings (SERPER_API_URL, SERPAPI_API_URL) name as the providers' hosts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply, json_reply

SERPER_KEY = "serper-test-key-0123456789"
SERPAPI_KEY = "serpapi-test-key-abcdef"
WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
TERMS = [SearchTerm("grøn trepart")]


def _reply(name: str, status: int = 200, **headers: str) -> Reply:
    return file_reply(f"google_search/{name}", status, **headers)


@pytest.fixture
def hosts(replay, monkeypatch):
    monkeypatch.setenv("SERPER_API_URL", f"{replay.url}/serper")
    monkeypatch.setenv("SERPAPI_API_URL", f"{replay.url}/serpapi")
    return replay


def _serper():
    return build_collector("google_search", credentials={"serper_api_key": SERPER_KEY})


def _serpapi(key: str = SERPAPI_KEY):
    return build_collector("google_search", credentials={"serpapi_api_key": key})


def _bodies(replay, path: str) -> list[dict]:
    return [json.loads(s.body) for s in replay.requests(path)]


def test_serper_pages_to_the_end_with_rank_and_danish_locale(hosts):
    hosts.add(
        "/serper/search", _reply("serper_page1.json"), _reply("serper_page2.json"), method="POST"
    )
    collector = _serper()
    request = CollectionRequest(**WINDOW, terms=TERMS, tier="medium")
    pages = list(collector.collect(request))

    assert [len(p.records) for p in pages] == [9, 2]
    assert pages[0].rejected == 1 and "without a link" in pages[0].rejection_reasons[0]
    first = pages[0].records[0]
    assert (first.platform, first.arena, first.content_type) == (
        "google_search", "search", "search_result",
    )  # fmt: skip
    assert first.url == "https://www.regeringen.dk/artikel/groen-trepart-1/"
    assert first.title == "Aftale om et Grønt Danmark 🌱"
    assert first.text_content is None and first.language == "da"
    assert first.author_display_name == "regeringen.dk"
    assert first.published_at == datetime(2024, 6, 24, tzinfo=UTC)
    meta = first.raw_metadata
    assert (meta["page"], meta["position"], meta["rank"]) == (1, 1, 1)
    assert meta["_search_term"] == '"grøn trepart"' and meta["provider"] == "serper"
    assert meta["search_snippet"] == "Aftalen sikrer … del 1"
    assert meta["scrape_status"] == "pending" and meta["item"]["sitelinks"]
    relative = pages[0].records[1]
    assert relative.published_at is None and relative.raw_metadata["search_date_raw"] == (
        "3 dage siden"
    )
    assert pages[0].records[2].published_at == datetime(2024, 6, 24, tzinfo=UTC)
    # Page 2: ranks continue at 11; the first result's URL again at 12 is the same
    # observation of the same query (its best rank stands), so it is not a second record.
    second = pages[1].records
    assert [r.raw_metadata["rank"] for r in second] == [11, 13]
    assert second[0].published_at == datetime(2025, 12, 2, tzinfo=UTC)
    assert first.platform_id not in {r.platform_id for r in second}

    sent = hosts.requests("/serper/search")
    assert [json.loads(s.body) for s in sent] == [
        {"q": '"grøn trepart"', "gl": "dk", "hl": "da", "num": 10, "page": 1},
        {"q": '"grøn trepart"', "gl": "dk", "hl": "da", "num": 10, "page": 2},
    ]
    assert all(s.headers["X-API-KEY"] == SERPER_KEY for s in sent)
    assert collector.units_spent == 2
    assert collector.rate_limit_state["requests_billed"] == {"serper": 2}


def test_serpapi_pages_by_start_on_google_dk(hosts):
    hosts.add("/serpapi/search.json", _reply("serpapi_page2.json"), start="10")
    hosts.add("/serpapi/search.json", _reply("serpapi_page1.json"), start="0")
    collector = _serpapi()
    request = CollectionRequest(**WINDOW, terms=[SearchTerm("klimalov")], tier="premium")
    pages = list(collector.collect(request))

    assert [len(p.records) for p in pages] == [10, 4]
    records = [r for p in pages for r in p.records]
    assert [r.raw_metadata["rank"] for r in records] == list(range(1, 15))
    assert records[0].published_at == datetime(2024, 1, 15, tzinfo=UTC)
    assert records[0].title == "Klimalov 1 – Ærø og Øresund"
    assert records[13].author_display_name == "example14.dk"
    sent = hosts.requests("/serpapi/search.json")
    assert [s.query["start"] for s in sent] == ["0", "10"]
    query = sent[0].query
    assert (query["engine"], query["google_domain"], query["gl"], query["hl"]) == (
        "google", "google.dk", "dk", "da",
    )  # fmt: skip
    assert query["api_key"] == SERPAPI_KEY and query["num"] == "10"
    assert collector.units_spent == 2


def test_groups_and_actor_domains_are_one_query_each_and_an_empty_page_ends_one(hosts):
    hosts.add("/serper/search", _reply("serper_page2.json"), method="POST")
    collector = _serper()
    terms = [SearchTerm("grønland", group=1), SearchTerm("aftale", group=1), SearchTerm("ø")]
    request = CollectionRequest(
        **WINDOW, terms=terms, actors=[ActorRef(None, "altinget.dk")], tier="medium"
    )
    list(collector.collect(request))
    assert [b["q"] for b in _bodies(hosts, "/serper/search")] == [
        "grønland aftale",
        "ø",
        "site:altinget.dk",
    ]
    assert collector.estimate_units(request) == 3 * 10


def test_rate_limit_then_success_and_5xx_then_success(hosts):
    hosts.add(
        "/serper/search",
        json_reply({"message": "Too many requests"}, 429, **{"Retry-After": "0"}),
        Reply(502, b"bad gateway"),
        _reply("serper_page2.json"),
        method="POST",
    )
    collector = _serper()
    pages = list(collector.collect(CollectionRequest(**WINDOW, terms=TERMS, tier="medium")))
    assert [len(p.records) for p in pages] == [3]
    assert len(hosts.requests("/serper/search")) == 3
    assert collector.rate_limit_state["retries"] == 2
    assert collector.units_spent == 1  # the 429 and the 502 are not billed


def test_quota_signals_raise_for_rotation_and_never_leak_the_key(hosts):
    hosts.add("/serper/search", _reply("serper_no_credits.json", 400), method="POST")
    request = CollectionRequest(**WINDOW, terms=TERMS, tier="medium")
    with pytest.raises(ArenaQuotaExceeded, match="Not enough credits") as serper:
        list(_serper().collect(request))
    assert SERPER_KEY not in str(serper.value)

    hosts.add("/serpapi/search.json", _reply("serpapi_out_of_searches.json", 429))
    premium = CollectionRequest(**WINDOW, terms=TERMS, tier="premium")
    with pytest.raises(ArenaQuotaExceeded, match="run out of searches") as serpapi:
        list(_serpapi().collect(premium))
    assert SERPAPI_KEY not in str(serpapi.value)
    assert len(hosts.requests("/serpapi/search.json")) == 1  # a spent account is not retried


def test_auth_failures(hosts):
    hosts.add("/serper/search", _reply("serper_unauthorized.json", 403), method="POST")
    with pytest.raises(ArenaAuthError, match="Unauthorized"):
        list(_serper().collect(CollectionRequest(**WINDOW, terms=TERMS, tier="medium")))
    hosts.add("/serpapi/search.json", _reply("serpapi_invalid_key.json", 401))
    with pytest.raises(ArenaAuthError, match="Invalid API key") as err:
        list(_serpapi().collect(CollectionRequest(**WINDOW, terms=TERMS, tier="premium")))
    assert SERPAPI_KEY not in str(err.value)
    # A Serper key cannot serve the premium tier: the missing field is named.
    with pytest.raises(ArenaAuthError, match="'serpapi_api_key' is missing"):
        list(_serper().collect(CollectionRequest(**WINDOW, terms=TERMS, tier="premium")))


def test_html_page_malformed_json_and_no_results_skip_one_query_the_rest_goes_on(hosts):
    hosts.add(
        "/serpapi/search.json",
        _reply("html_error.html", 502, content_type="text/html"),
        q="grønland",
    )
    hosts.add(
        "/serpapi/search.json",
        Reply(200, b'{"organic_results": [', {"Content-Type": "application/json"}),
        q="ø",
    )
    hosts.add("/serpapi/search.json", _reply("serpapi_no_results.json"), q="xyzzy")
    hosts.add("/serpapi/search.json", _reply("serpapi_page2.json"), q="klimalov")
    terms = [SearchTerm("grønland"), SearchTerm("ø"), SearchTerm("xyzzy"), SearchTerm("klimalov")]
    pages = list(_serpapi().collect(CollectionRequest(**WINDOW, terms=terms, tier="premium")))
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 2
    assert errors[0].startswith("google_search 'grønland': ")
    assert "/serpapi/search.json: HTTP 502 after 4 attempts" in errors[0]
    assert errors[1].startswith("google_search 'ø': ")
    assert "/serpapi/search.json is not valid JSON" in errors[1]
    assert sum(len(p.records) for p in pages) == 4  # klimalov's page; xyzzy: none, no error
    assert all(SERPAPI_KEY not in e for e in errors)


def test_html_where_json_was_expected_names_url_and_status(hosts):
    hosts.add(
        "/serper/search",
        _reply("html_error.html", 404, content_type="text/html"),
        method="POST",
    )
    with pytest.raises(ArenaError) as err:
        list(_serper().collect(CollectionRequest(**WINDOW, terms=TERMS, tier="medium")))
    message = str(err.value)
    assert "HTTP 404 from 127.0.0.1" in message and "/serper/search" in message
    assert "an HTML page where JSON was expected" in message


def test_response_over_the_size_cap_is_refused(hosts, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    big = json.dumps({"organic": [{"title": "x" * 1000, "link": "https://a.dk/"}] * 1100})
    hosts.add(
        "/serper/search",
        Reply(200, big.encode(), {"Content-Type": "application/json"}),
        method="POST",
    )
    with pytest.raises(ArenaError, match="larger than 1 MB refused"):
        list(_serper().collect(CollectionRequest(**WINDOW, terms=TERMS, tier="medium")))


def test_estimate_is_queries_times_pages_and_the_collector_never_spends_more(hosts):
    collector = _serper()
    two = [SearchTerm("a"), SearchTerm("b")]
    request = CollectionRequest(**WINDOW, terms=two, tier="medium")
    assert collector.estimate_units(request) == 2 * 10
    assert collector.estimate_credits(request) == 1  # Serper: 50 requests a credit
    capped = CollectionRequest(**WINDOW, terms=two, tier="premium", max_records=25)
    assert collector.estimate_units(capped) == 2 * 3  # 25 records need 3 pages of 10
    assert collector.estimate_credits(capped) == 6  # SerpAPI: 1 request a credit
    one_page = CollectionRequest(**WINDOW, terms=two, tier="medium", options={"max_pages": 1})
    assert collector.estimate_units(one_page) == 2
    # Every page full: the second query's pages stop at max_pages, never beyond the estimate.
    hosts.add("/serper/search", _reply("serper_page1.json"), method="POST")
    list(collector.collect(one_page))
    assert collector.units_spent == 2 == len(hosts.requests("/serper/search"))


def test_window_restriction_sends_google_custom_date_range(hosts):
    hosts.add("/serper/search", _reply("serper_empty.json"), method="POST")
    request = CollectionRequest(
        **WINDOW, terms=TERMS, tier="medium", options={"restrict_to_window": True}
    )
    list(_serper().collect(request))
    [body] = _bodies(hosts, "/serper/search")
    assert body["tbs"] == "cdr:1,cd_min:11/1/2026,cd_max:11/25/2026"


def test_free_tier_costs_nothing_and_is_refused_before_any_request(hosts):
    request = CollectionRequest(**WINDOW, terms=TERMS, tier="free")
    collector = _serper()
    assert collector.estimate_units(request) == 0 and collector.estimate_credits(request) == 0
    with pytest.raises(ArenaError, match="google_search has no free tier"):
        list(collector.collect(request))
    assert hosts.seen == []


def test_health_check_sends_one_search_with_the_key(hosts):
    hosts.add("/serper/search", _reply("serper_empty.json"), method="POST")
    assert _serper().health_check().ok
    assert hosts.requests("/serper/search")[0].headers["X-API-KEY"] == SERPER_KEY
    hosts.add("/serpapi/search.json", _reply("serpapi_invalid_key.json", 401))
    status = _serpapi().health_check()
    assert not status.ok and "HTTP 401" in status.detail and SERPAPI_KEY not in status.detail
