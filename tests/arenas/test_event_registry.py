"""Event Registry (NewsAPI.ai) from recorded responses on the replay server (127.0.0.1),
which the operator's EVENT_REGISTRY_API_URL names as the API host."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.event_registry import tokens_per_request
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply, json_reply

KEY = "er-test-key-0123456789abcdef"
PATH = "/api/v1/article/getArticles"
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
RECENT = dict(date_from=TODAY - timedelta(days=7), date_to=TODAY)
TERMS = [SearchTerm("SU", group=1), SearchTerm("reform", group=1)]


def _reply(name: str, status: int = 200, **headers: str) -> Reply:
    return file_reply(f"event_registry/{name}", status, **headers)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("EVENT_REGISTRY_API_URL", replay.url)
    return replay


def _collector(key: str = KEY):
    return build_collector("event_registry", credentials={"api_key": key})


def _bodies(replay) -> list[dict]:
    return [json.loads(s.body) for s in replay.requests(PATH)]


def test_pages_to_the_end_maps_articles_and_drops_other_languages(api):
    api.add(PATH, _reply("articles_page1.json"), _reply("articles_page2.json"), method="POST")
    collector = _collector()
    request = CollectionRequest(**RECENT, terms=TERMS, tier="medium")
    pages = list(collector.collect(request))

    assert [len(p.records) for p in pages] == [98, 4]  # page 2 repeats one article
    assert pages[0].rejected == 1 and "without uri and url" in pages[0].rejection_reasons[0]
    assert collector.rate_limit_state["other_language_dropped"] == 1
    first = pages[0].records[0]
    assert (first.platform, first.arena, first.content_type) == (
        "event_registry",
        "news",
        "article",
    )
    assert first.platform_id == "8512345001" and first.language == "da"
    assert first.title == "SU-reform: studerende protesterer 🎓📚"
    assert first.text_content.endswith("Ærø, Øresund og Åbenrå.")
    assert first.published_at == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)  # dateTimePub
    assert first.url == "https://www.dr.dk/artikel/su-reformen-1"
    assert first.hash_source == first.url
    assert (first.author_platform_id, first.author_display_name) == (
        "jens_hansen@dr.dk",
        "Jens Hansen",
    )
    assert first.media_urls == ["https://www.dr.dk/img/1.jpg"] and first.shares_count == 1
    meta = first.raw_metadata
    assert meta["eventUri"] == "eng-9900001" and meta["lang_raw"] == "dan"
    assert meta["source"]["title"] == "DR" and meta["engagement_score"] == 476543211
    no_uri = pages[0].records[1]
    assert no_uri.platform_id is None and no_uri.url.endswith("su-reformen-2")
    assert no_uri.author_platform_id is None
    undated = pages[0].records[2]
    assert undated.platform_id == "8512345004" and undated.published_at is None
    assert any(r.raw_metadata.get("isDuplicate") for r in pages[0].records)

    first_body, second_body = _bodies(api)
    assert first_body["apiKey"] == KEY and first_body["action"] == "getArticles"
    assert first_body["keyword"] == ["SU", "reform"] and first_body["keywordOper"] == "and"
    assert first_body["lang"] == "dan" and first_body["sourceLocationUri"].endswith("/Denmark")
    assert (first_body["dateStart"], first_body["dateEnd"]) == (
        (TODAY - timedelta(days=7)).date().isoformat(),
        (TODAY - timedelta(days=1)).date().isoformat(),
    )
    assert (first_body["articlesPage"], first_body["articlesCount"]) == (1, 100)
    assert first_body["isDuplicateFilter"] == "keepAll" and first_body["includeArticleBody"]
    assert second_body["articlesPage"] == 2
    assert all("apiKey" not in s.query for s in api.requests(PATH))  # never in a URL
    assert collector.units_spent == 2 == collector.rate_limit_state["tokens_spent"]


def test_concepts_and_actors_are_queried_and_an_empty_page_ends_a_query(api):
    api.add(PATH, _reply("articles_empty.json"), _reply("articles_concept.json"), method="POST")
    collector = _collector()
    request = CollectionRequest(
        **RECENT,
        terms=[SearchTerm("klima")],
        actors=[ActorRef("http://en.wikipedia.org/wiki/Mette_Frederiksen")],
        tier="medium",
        options={"concepts": ["http://en.wikipedia.org/wiki/Folketing"], "skip_duplicates": True},
    )
    pages = list(collector.collect(request))
    assert [len(p.records) for p in pages] == [0, 2, 0]  # the third reply repeats: seen ids
    bodies = _bodies(api)
    assert [b.get("keyword") or b.get("conceptUri") for b in bodies] == [
        ["klima"],
        "http://en.wikipedia.org/wiki/Folketing",
        "http://en.wikipedia.org/wiki/Mette_Frederiksen",
    ]
    assert all(b["isDuplicateFilter"] == "skipDuplicates" for b in bodies)
    assert pages[1].records[0].title == "Mette Frederiksen om SU 🇩🇰"


def test_tokens_used_up_429_raises_quota_at_once_and_the_header_price_counts(api):
    api.add(PATH, _reply("tokens_used_up.json", 429), method="POST")
    with pytest.raises(ArenaQuotaExceeded, match="tokens used up") as err:
        list(_collector().collect(CollectionRequest(**RECENT, terms=TERMS, tier="medium")))
    assert KEY not in str(err.value)
    assert len(api.requests(PATH)) == 1  # not waited for, not retried

    api.routes.clear()
    api.add(PATH, _reply("articles_concept.json", **{"req-tokens": "5"}), method="POST")
    collector = _collector()
    old = CollectionRequest(
        date_from=datetime(2024, 1, 1, tzinfo=UTC),
        date_to=datetime(2024, 3, 1, tzinfo=UTC),
        terms=TERMS,
        tier="premium",
    )
    list(collector.collect(old))
    assert collector.units_spent == 5  # what the provider said it charged


def test_503_too_many_concurrent_then_success_and_auth_failure(api):
    api.add(
        PATH,
        _reply("html_error.html", 503, content_type="text/html"),
        _reply("articles_concept.json"),
        method="POST",
    )
    collector = _collector()
    pages = list(collector.collect(CollectionRequest(**RECENT, terms=TERMS, tier="medium")))
    assert [len(p.records) for p in pages] == [2]
    assert collector.rate_limit_state["retries"] == 1 and collector.units_spent == 1
    api.routes.clear()
    api.add(PATH, _reply("invalid_key.json", 401), method="POST")
    with pytest.raises(ArenaAuthError, match="Invalid API key") as err:
        list(_collector().collect(CollectionRequest(**RECENT, terms=TERMS, tier="medium")))
    assert KEY not in str(err.value)


def test_bad_concept_html_and_malformed_json_skip_that_query_the_rest_goes_on(api):
    api.add(
        PATH,
        _reply("invalid_parameter.json", 400),
        _reply("html_error.html", 404, content_type="text/html"),
        Reply(200, b'{"articles": {"results": [', {"Content-Type": "application/json"}),
        _reply("articles_concept.json"),
        method="POST",
    )
    request = CollectionRequest(
        **RECENT,
        terms=[SearchTerm("klima"), SearchTerm("su"), SearchTerm("skat")],
        tier="medium",
        options={"concepts": ["http://en.wikipedia.org/wiki/Nonexistent"]},
    )
    pages = list(_collector().collect(request))
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 3
    assert errors[0].startswith("event_registry 'klima': ") and "HTTP 400" in errors[0]
    assert "Invalid value for parameter" in errors[0]
    assert "HTTP 404 from 127.0.0.1" in errors[1] and "an HTML page where JSON" in errors[1]
    assert "is not valid JSON" in errors[2]
    assert sum(len(p.records) for p in pages) == 2  # the concept's query
    assert all(KEY not in e for e in errors)


def test_response_over_the_size_cap_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    big = {"articles": {"results": [{"uri": "1", "body": "x" * 1000}] * 1100, "totalResults": 1}}
    api.add(PATH, json_reply(big), method="POST")
    with pytest.raises(ArenaError, match="larger than 1 MB refused"):
        list(_collector().collect(CollectionRequest(**RECENT, terms=TERMS, tier="medium")))


def test_estimate_follows_the_spec_and_tokens_and_is_never_exceeded(api):
    collector = _collector()
    week = CollectionRequest(**RECENT, terms=TERMS, tier="medium")
    # ceil(min(1 query x 7 days x 50, 5000) / 100) = 4 requests x 1 token (last 30 days)
    assert collector.estimate_units(week) == 4 and collector.estimate_credits(week) == 4
    archive = CollectionRequest(
        date_from=datetime(2023, 1, 1, tzinfo=UTC),
        date_to=datetime(2024, 6, 1, tzinfo=UTC),
        terms=[SearchTerm("a"), SearchTerm("b")],
        tier="premium",
        max_records=300,
    )
    assert tokens_per_request(archive) == 10  # 5 tokens per searched year, 2 years
    assert collector.estimate_units(archive) == 3 * 10  # the 300-record cap: 3 requests
    free = CollectionRequest(**RECENT, terms=TERMS, tier="free")
    assert collector.estimate_units(free) == 0
    with pytest.raises(ArenaError, match="no free tier"):
        list(collector.collect(free))
    # One day, one query: 1 request estimated; a full page would call for a second, which
    # is not sent: the estimate is the ceiling.
    day = CollectionRequest(
        date_from=TODAY - timedelta(days=1), date_to=TODAY, terms=TERMS, tier="medium"
    )
    api.add(PATH, _reply("articles_page1.json"), method="POST")
    pages = list(collector.collect(day))
    assert len(api.requests(PATH)) == 1 and collector.units_spent == 1
    assert "1 estimated tokens are spent" in pages[-1].errors[0]
    assert collector.rate_limit_state["stopped"] == {"reason": "estimate_spent", "tokens": 1}


def test_health_check_asks_for_one_article(api):
    api.add(PATH, _reply("articles_concept.json"), method="POST")
    assert _collector().health_check().ok
    [body] = _bodies(api)
    assert body["articlesCount"] == 1 and body["apiKey"] == KEY
    api.routes.clear()
    api.add(PATH, _reply("invalid_key.json", 401), method="POST")
    status = _collector().health_check()
    assert not status.ok and "HTTP 401" in status.detail and KEY not in status.detail
