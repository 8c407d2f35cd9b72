"""ai_chat_search against recorded OpenRouter chat completions on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
)
from observatory_pipelines.arenas.base import SearchTerm as Term
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import Reply, file_reply

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
CHAT = "/api/v1/chat/completions"
KEY = "sk-or-v1-test-key-0123456789"
CEILING = 20_000  # AI_CHAT_SEARCH_MAX_USD_PER_CALL default $0.02, in millionths of a dollar


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    content_type = "application/json" if name.endswith(".json") else "text/html; charset=utf-8"
    return file_reply(f"ai_chat_search/{name}", status, content_type=content_type, **headers)


@pytest.fixture
def openrouter(replay, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_URL", f"{replay.url}/api/v1")
    return replay


def today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def collect(terms, options=None, tier="medium", language="da"):
    options = {"questions_per_term": 3, **(options or {})}
    collector = build_collector("ai_chat_search", credentials={"api_key": KEY}, options=options)
    request = CollectionRequest(
        **WINDOW, terms=[Term(t, group=g) for t, g in terms], options=options, tier=tier
    )
    request.language = language
    return collector, list(collector.collect(request))


def bodies(replay) -> list[dict]:
    return [json.loads(s.body) for s in replay.requests(CHAT)]


def trepart_replies(openrouter, *answers: Reply) -> None:
    openrouter.add(
        CHAT,
        reply("expand_groen_trepart.json"),
        *(answers or (
            reply("answer_trepart_1.json"),
            reply("answer_trepart_2.json"),
            reply("answer_trepart_3_perplexity.json"),
        )),
        method="POST",
    )  # fmt: skip


def test_questions_then_answers_with_their_citations(openrouter):
    trepart_replies(openrouter)
    # an AND group is one topic: its terms joined by a space
    collector, pages = collect([("grøn", 1), ("trepart", 1)])

    assert [len(p.records) for p in pages] == [1 + 2, 1 + 1, 1 + 2]
    first = pages[0].records[0]
    assert first.content_type == "ai_chat_response" and first.arena == "search"
    assert first.platform == "ai_chat_search" and first.url is None
    assert first.title == "Hvad går aftalen om den grønne trepart ud på?"
    assert "250.000 hektar landbrugsjord 🌱" in first.text_content
    assert first.published_at == today() and first.language == "da"
    assert first.author_platform_id == "openai/gpt-5-nano-2025-08-07"
    assert first.author_display_name == "OpenAI"
    assert first.hash_source == first.platform_id and len(first.platform_id) == 64
    meta = first.raw_metadata
    assert meta["search_term_original"] == "grøn trepart" and meta["question_slot"] == 1
    assert meta["model_requested"] == "openai/gpt-5-nano"
    assert meta["model_used"] == "openai/gpt-5-nano-2025-08-07"
    assert meta["tokens_used"] == {"prompt": 640, "completion": 212}
    assert meta["cost_usd"] == 0.00091
    # the same URL cited twice is one citation
    assert [c["url"] for c in meta["citations"]] == [
        "https://www.regeringen.dk/aktuelt/tidligere-publikationer/2024/aftale-om-et-groent-danmark/",
        "https://www.dr.dk/nyheder/politik/groen-trepart",
    ]
    regeringen, dr = pages[0].records[1:]
    assert regeringen.content_type == "ai_chat_citation"
    assert regeringen.url == meta["citations"][0]["url"]
    assert regeringen.title == "Aftale om et Grønt Danmark"
    assert regeringen.text_content == "Regeringen, KL, Landbrug & Fødevarer …"
    assert regeringen.raw_metadata == {
        "parent_response_platform_id": first.platform_id,
        "citation_rank": 1,
        "original_term": "grøn trepart",
        "expanded_phrasing": first.title,
        "model": "openai/gpt-5-nano-2025-08-07",
        "source_domain": "regeringen.dk",
        "start_index": 66,
        "end_index": 170,
    }
    assert dr.raw_metadata["citation_rank"] == 2 and dr.text_content == (
        "Et bredt flertal i Folketinget står bag …"
    )
    assert dr.raw_metadata["source_domain"] == "dr.dk"
    # a url_citation without a URL is dropped and counted; other annotation types ignored
    assert pages[1].rejected == 1 and pages[1].rejection_reasons == ["1 citations without a URL"]
    # the old Perplexity form: top-level citations, a list of URLs
    perplexity = pages[2].records
    assert perplexity[0].author_display_name == "Perplexity"
    assert [r.url for r in perplexity[1:]] == [
        "https://www.information.dk/indland/2024/11/fjordene",
        "https://mst.dk/natur-vand/vand-i-hverdagen/kvaelstof",
    ]
    assert len({r.platform_id for p in pages for r in p.records}) == 8

    # what OpenRouter received: one expansion without web search, three answers with it
    sent = bodies(openrouter)
    assert len(sent) == 4
    expansion, *answers = sent
    assert expansion["model"] == "openai/gpt-5-nano" and "tools" not in expansion
    assert expansion["temperature"] == 0 and expansion["max_tokens"] == 2000
    assert expansion["messages"][1] == {"role": "user", "content": "grøn trepart"}
    assert "Skriv 3 realistiske spørgsmål på dansk" in expansion["messages"][0]["content"]
    assert [a["messages"][1]["content"] for a in answers] == [
        "Hvad går aftalen om den grønne trepart ud på?",
        "Hvor meget skal landbruget betale i CO2-afgift?",
        "Hvordan påvirker trepartsaftalen de danske fjorde?",
    ]
    assert answers[0]["messages"][0]["content"].startswith("Besvar spørgsmålet på dansk")
    assert answers[0]["tools"] == [
        {"type": "openrouter:web_search", "parameters": {"max_results": 5, "max_total_results": 5}}
    ]
    assert {s.headers["Authorization"] for s in openrouter.requests(CHAT)} == {f"Bearer {KEY}"}
    # units: what OpenRouter billed (usage.cost), in millionths of a dollar, rounded up
    assert collector.units_spent == 42 + 910 + 1100 + 500
    assert collector.rate_limit_state["tokens"] == {
        "prompt": 96 + 640 + 702 + 400,
        "completion": 180 + 212 + 240 + 120,
    }
    assert collector.rate_limit_state["questions"] == {
        "grøn trepart": [a["messages"][1]["content"] for a in answers]
    }


def test_english_design_language_options_and_the_estimate(openrouter):
    openrouter.add(
        CHAT, reply("expand_klimalov.json"), reply("answer_klimalov_1.json"), method="POST"
    )
    options = {"questions_per_term": 1, "max_tokens": 800, "web_results": 3}
    collector, pages = collect([("klimalov", None)], options, tier="premium", language="en")
    [answer, citation] = pages[0].records
    assert answer.language == "en" and citation.url.startswith("https://www.ft.dk/")
    expansion, question = bodies(openrouter)
    assert "Write 1 realistic questions" in expansion["messages"][0]["content"]
    assert (
        question["messages"][0]["content"] == "Answer the question in English. Cite your sources."
    )
    assert question["max_tokens"] == 800
    assert question["tools"][0]["parameters"] == {"max_results": 3, "max_total_results": 3}

    request = CollectionRequest(**WINDOW, terms=[Term("a"), Term("b"), Term("c", group=7)])
    for tier, calls in (("medium", 3 * (1 + 5)), ("premium", 3 * (1 + 10)), ("free", 0)):
        request.tier = tier
        assert collector.estimate_units(request) == calls * CEILING
    request.tier, request.options = "medium", {"questions_per_term": 2}
    assert collector.estimate_units(request) == 3 * 3 * CEILING
    assert collector.estimate_credits(request) == -(-3 * 3 * CEILING // 15_000)


def test_429_then_success_and_5xx_then_success(openrouter):
    trepart_replies(
        openrouter,
        reply("error_429.json", 429, **{"Retry-After": "0"}),
        reply("answer_trepart_1.json"),
        reply("bad_gateway.html", 502),
        reply("answer_trepart_2.json"),
        reply("answer_trepart_3_perplexity.json"),
    )
    collector, pages = collect([("grøn trepart", None)])
    assert [len(p.records) for p in pages] == [3, 2, 3]
    assert collector.rate_limit_state["retries"] == 2
    assert len(openrouter.requests(CHAT)) == 6
    assert collector.units_spent == 42 + 910 + 1100 + 500  # refusals are not billed


def test_a_persistent_rate_limit_stops_with_what_it_has(openrouter):
    trepart_replies(
        openrouter,
        reply("answer_trepart_1.json"),
        reply("error_429.json", 429, **{"Retry-After": "0"}),
    )
    collector, pages = collect([("grøn trepart", None), ("klimalov", None)])
    assert [len(p.records) for p in pages] == [3, 0]
    stopped = collector.rate_limit_state["stopped"]
    assert stopped.startswith("ai_chat_search 'grøn trepart' question 2: ") and "429" in stopped
    assert [(s.source, s.reason) for s in pages[1].skipped] == [("ai_chat_search", "stopped")]
    assert len(openrouter.requests(CHAT)) == 2 + 4  # nothing asked for klimalov


def test_moderation_flag_bad_bodies_and_oversize_skip_one_question_each(openrouter, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    big = Reply(200, json.dumps({"choices": [], "pad": "x" * 1_200_000}).encode(),
                {"Content-Type": "application/json"})  # fmt: skip
    openrouter.add(
        CHAT,
        reply("expand_groen_trepart.json"),
        reply("error_403_moderation.json", 403),
        Reply(200, b'{"id": "gen-half", "choices": [', {"Content-Type": "application/json"}),
        reply("not_found.html", 404),
        reply("error_in_200.json"),
        reply("expand_klimalov.json"),
        big,
        reply("answer_no_usage.json"),
        reply("answer_klimalov_1.json"),
        method="POST",
    )
    terms = [("grøn trepart", None), ("klimalov", None)]
    collector, pages = collect(terms, {"questions_per_term": 4})
    errors = [e for p in pages for e in p.errors]
    where = f"{openrouter.url.removeprefix('http://')}{CHAT}"
    assert errors[0].startswith(f"ai_chat_search 'grøn trepart' question 1: HTTP 403 from {where}")
    assert "requires moderation" in errors[0] and "(OpenRouter's moderation flagged" in errors[0]
    assert errors[1] == (
        f"ai_chat_search 'grøn trepart' question 2: response from {where} is not valid JSON "
        "(application/json)"
    )
    assert errors[2] == (
        f"ai_chat_search 'grøn trepart' question 3: HTTP 404 from {where} "
        "(an HTML page where JSON was expected)"
    )
    assert errors[3] == (
        "ai_chat_search 'grøn trepart' question 4: OpenRouter error in the reply: "
        "Provider returned error"
    )
    assert errors[4].startswith("ai_chat_search 'klimalov' question 1: ")
    assert "response larger than 1 MB refused" in errors[4]
    reasons = [s.reason for p in pages for s in p.skipped]
    assert reasons == ["error", "unparseable", "http_error", "error", "too_large"]
    # the rest went on; the reply without usage.cost is stored and charged the ceiling
    [answer] = pages[-2].records
    assert answer.text_content == "Ingen kilder fundet." and answer.raw_metadata["citations"] == []
    assert len(pages[-1].records) == 2
    # billed: the expansions, the malformed 200 and the error-in-200 (no cost: the ceiling
    # each), the answer without usage (ceiling) and the last; refused calls (403, 404,
    # oversize) are not
    assert collector.units_spent == 42 + CEILING + CEILING + 39 + CEILING + 770
    assert collector.rate_limit_state["calls_without_cost"] == 3


def test_401_is_an_auth_failure_and_402_a_spent_key(openrouter):
    trepart_replies(openrouter, reply("answer_trepart_1.json"), reply("error_401.json", 401))
    with pytest.raises(ArenaAuthError, match="HTTP 401 .*User not found") as refused:
        collect([("grøn trepart", None)])
    assert KEY not in str(refused.value)

    openrouter.routes.clear()
    trepart_replies(openrouter, reply("answer_trepart_1.json"), reply("error_402.json", 402))
    collector = build_collector("ai_chat_search", credentials={"api_key": KEY})
    request = CollectionRequest(**WINDOW, terms=[Term("grøn trepart")], tier="medium")
    request.options = {"questions_per_term": 3}
    pages = []
    with pytest.raises(ArenaQuotaExceeded, match="HTTP 402 .*requires more credits"):
        for page in collector.collect(request):
            pages.append(page)
    assert [len(p.records) for p in pages] == [3]
    state = collector.rate_limit_state
    assert state["answered"] == {"grøn trepart": [1]}
    assert state["units_before_rotation"] == 42 + 910 == collector.units_spent


def test_a_term_without_questions_fails_and_every_term_failing_fails_the_task(openrouter):
    openrouter.add(CHAT, reply("expand_nothing.json"), method="POST")
    with pytest.raises(ArenaError, match="every source failed .*proposed no questions"):
        collect([("klimalov", None)])


def test_the_run_stops_before_a_call_that_could_overrun_its_estimate(openrouter, monkeypatch):
    # Answers cost more than the ceiling said ($0.0005 a call): the reservation is the limit.
    monkeypatch.setenv("AI_CHAT_SEARCH_MAX_USD_PER_CALL", "0.0005")
    trepart_replies(openrouter)
    collector, pages = collect([("grøn trepart", None)])
    # budget 4 calls x 500 = 2,000: after 42 + 910 + 1,100 = 2,052 the next call cannot fit
    assert [len(p.records) for p in pages] == [3, 2, 0]
    assert "would be overrun by the next call" in collector.rate_limit_state["stopped"]
    assert collector.units_spent == 42 + 910 + 1100
    assert len(openrouter.requests(CHAT)) == 3


def test_options_models_and_hosts(openrouter, monkeypatch):
    with pytest.raises(ArenaOptionError, match="not one the operator allows .*openai/gpt-5-nano"):
        build_collector("ai_chat_search", options={"model": "openai/gpt-5-pro"})
    monkeypatch.setenv("AI_CHAT_SEARCH_MODELS", "perplexity/sonar, openai/gpt-5-nano")
    build_collector("ai_chat_search", options={"model": "openai/gpt-5-nano"})
    with pytest.raises(ArenaOptionError, match="questions_per_term must be at most 20"):
        build_collector("ai_chat_search", options={"questions_per_term": 21})
    with pytest.raises(ArenaOptionError, match="whole number of at least 1, got 0"):
        build_collector("ai_chat_search", options={"max_tokens": 0})
    with pytest.raises(ArenaOptionError, match="web_results must be at most 10"):
        build_collector("ai_chat_search", options={"web_results": 11})
    with pytest.raises(ArenaOptionError, match="OPENROUTER_API_URL"):
        build_collector("ai_chat_search", options={"base_url": "http://127.0.0.2"})
    with pytest.raises(ArenaError, match="no free tier"):
        list(build_collector("ai_chat_search").collect(CollectionRequest(**WINDOW, tier="free")))
    assert openrouter.seen == []
    # the first allowed model is the default
    openrouter.add(CHAT, reply("expand_nothing.json"), method="POST")
    with pytest.raises(ArenaError):
        collect([("klimalov", None)])
    assert bodies(openrouter)[0]["model"] == "perplexity/sonar"


def test_health_check(openrouter):
    openrouter.add("/api/v1/key", reply("key.json"))
    assert build_collector("ai_chat_search", credentials={"api_key": KEY}).health_check().ok
    assert openrouter.requests("/api/v1/key")[0].headers["Authorization"] == f"Bearer {KEY}"
    openrouter.routes.clear()
    openrouter.add("/api/v1/key", reply("error_401.json", 401))
    status = build_collector("ai_chat_search", credentials={"api_key": KEY}).health_check()
    assert not status.ok and "HTTP 401" in status.detail
