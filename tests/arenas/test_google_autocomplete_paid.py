"""Google Autocomplete's paid tiers: Serper (medium) and SerpAPI (premium) on 127.0.0.1.

The same snapshot record as the free tier; keys are google_search's (pool platform
``google_search``, leased by tier); priced per request; ledger asserted through start_run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaQuotaExceeded,
    CollectionRequest,
)
from observatory_pipelines.arenas.base import SearchTerm as Term
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.cli.arenas_cmd import arena_entry, arena_lines
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import Reply, file_reply, used_just_now
from tests.collection.conftest import make_design, make_user, rows

FROM, TO = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)
SERPER = "/serper/autocomplete"
SERPAPI = "/serpapi/search.json"
SUGGEST = "/complete/search"


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    kind = "application/json" if name.endswith(".json") else "text/html; charset=UTF-8"
    return file_reply(name, status, content_type=kind, **headers)


def mine(name: str, status: int = 200, **headers: str) -> Reply:
    return reply(f"google_autocomplete/{name}", status, **headers)


@pytest.fixture
def hosts(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "autocomplete-paid-test-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("SERPER_API_URL", f"{replay.url}/serper")
    monkeypatch.setenv("SERPAPI_API_URL", f"{replay.url}/serpapi")
    monkeypatch.setenv("GOOGLE_AUTOCOMPLETE_API_URL", replay.url)
    return replay


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def collect(tier: str, terms: list[str], credentials: dict):
    collector = build_collector("google_autocomplete", credentials=credentials)
    request = CollectionRequest(
        date_from=FROM, date_to=TO, terms=[Term(t) for t in terms], tier=tier
    )
    return collector, list(collector.collect(request))


def test_serper_suggestions_become_the_free_tiers_snapshot(hosts):
    hosts.add(SERPER, mine("serper_klima.json"), mine("serper_groenland.json"), method="POST")
    collector, pages = collect("medium", ["klima", "grønland"], {"serper_api_key": "serper-k"})

    klima, groenland = (p.records[0] for p in pages)
    assert klima.platform_id == f"da-dk:klima:{today()}" and klima.title == "klima"
    assert klima.content_type == "autocomplete_snapshot" and klima.author_display_name == "Google"
    assert klima.published_at == datetime.fromisoformat(f"{today()}T00:00:00+00:00")
    assert klima.text_content.splitlines() == [
        "klimaet", "klimaangst 😟", "klimarådet", "klima og energiministeriet",
    ]  # fmt: skip
    assert klima.raw_metadata["suggestions"][1] == {"rank": 1, "suggestion": "klimaangst 😟"}
    assert (klima.raw_metadata["tier"], klima.raw_metadata["provider"]) == ("medium", "serper")
    assert klima.hash_source == klima.platform_id and klima.language == "da"
    assert pages[0].rejected == 1  # the null suggestion
    assert groenland.raw_metadata["suggestion_count"] == 3
    sent = hosts.requests(SERPER)
    assert [json.loads(s.body) for s in sent] == [
        {"q": "klima", "gl": "dk", "hl": "da"},
        {"q": "grønland", "gl": "dk", "hl": "da"},
    ]
    assert {s.headers["X-API-KEY"] for s in sent} == {"serper-k"}
    assert collector.units_spent == 2
    assert collector.rate_limit_state["requests_billed"] == {"serper": 2}
    assert collector.rate_limit_state["terms_done"] == ["klima", "grønland"]
    assert hosts.requests(SUGGEST) == []  # the free endpoint is not asked


def test_serpapi_keeps_relevance_and_type_and_an_empty_answer_is_a_snapshot(hosts):
    hosts.add(SERPAPI, mine("serpapi_klima.json"), q="klima")
    hosts.add(SERPAPI, mine("serpapi_no_results.json"), q="qwxzv æøå")
    collector, pages = collect("premium", ["klima", "qwxzv æøå"], {"serpapi_api_key": "serpapi-k"})

    klima, empty = (p.records[0] for p in pages)
    assert klima.raw_metadata["suggestions"][2] == {
        "rank": 2, "suggestion": "klimarådet", "relevance": 565, "type": "QUERY",
    }  # fmt: skip
    assert klima.raw_metadata["verbatim_relevance"] == 1300
    assert klima.raw_metadata["provider"] == "serpapi" and pages[0].rejected == 1
    assert empty.text_content is None and empty.raw_metadata["suggestions"] == []
    assert hosts.requests(SERPAPI)[0].query == {
        "engine": "google_autocomplete", "q": "klima", "gl": "dk", "hl": "da",
        "api_key": "serpapi-k",
    }  # fmt: skip
    assert collector.units_spent == 2


def test_429_then_success_and_5xx_then_success(hosts):
    hosts.add(
        SERPER,
        Reply(429, b'{"message": "Too many requests"}', {"Retry-After": "0"}),
        mine("serper_klima.json"),
        reply("google_search/html_error.html", 502),
        mine("serper_groenland.json"),
        method="POST",
    )
    collector, pages = collect("medium", ["klima", "grønland"], {"serper_api_key": "k"})
    assert [len(p.records) for p in pages] == [1, 1]
    assert collector.rate_limit_state["retries"] == 2 and len(hosts.requests(SERPER)) == 4
    assert collector.units_spent == 2  # refusals are not billed


def test_spent_and_refused_keys_raise_for_the_pool(hosts):
    hosts.add(SERPER, reply("google_search/serper_no_credits.json", 400), method="POST")
    with pytest.raises(ArenaQuotaExceeded, match="google_autocomplete serper: HTTP 400"):
        collect("medium", ["klima"], {"serper_api_key": "k"})
    hosts.routes.clear()
    hosts.add(SERPER, reply("google_search/serper_unauthorized.json", 403), method="POST")
    with pytest.raises(ArenaAuthError, match="HTTP 403 .*Unauthorized"):
        collect("medium", ["klima"], {"serper_api_key": "k"})
    hosts.add(SERPAPI, reply("google_search/serpapi_out_of_searches.json", 429))
    with pytest.raises(ArenaQuotaExceeded, match="run out of searches"):
        collect("premium", ["klima"], {"serpapi_api_key": "k"})
    with pytest.raises(ArenaAuthError, match="credential field 'serpapi_api_key' is missing"):
        collect("premium", ["klima"], {"serper_api_key": "k"})


def test_html_malformed_and_oversize_skip_the_term_and_the_rest_goes_on(hosts, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    big = json.dumps({"suggestions": [{"value": "x" * 1_200_000}]}).encode()
    hosts.add(
        SERPER,
        reply("google_search/html_error.html", 404),
        Reply(200, b'{"suggestions": [', {"Content-Type": "application/json"}),
        Reply(200, big, {"Content-Type": "application/json"}),
        Reply(200, b'{"suggestions": "klima"}', {"Content-Type": "application/json"}),
        mine("serper_klima.json"),
        method="POST",
    )
    collector, pages = collect(
        "medium", ["html", "halv", "stor", "streng", "klima"], {"serper_api_key": "k"}
    )
    errors = [e for p in pages for e in p.errors]
    where = f"{hosts.url.removeprefix('http://')}{SERPER}"
    assert errors[0] == (
        f"google_autocomplete 'html': google_autocomplete serper: HTTP 404 from {where} "
        "(an HTML page where JSON was expected)"
    )
    assert errors[1] == (
        f"google_autocomplete 'halv': google_autocomplete serper: response from {where} is not "
        "valid JSON (application/json)"
    )
    assert "response larger than 1 MB refused" in errors[2]
    assert errors[3] == "google_autocomplete 'streng': serper's suggestions are not a list"
    assert [s.reason for p in pages for s in p.skipped] == [
        "error", "error", "too_large", "unparseable",
    ]  # fmt: skip
    assert [len(p.records) for p in pages][-1] == 1
    # Serper answered 200 to "halv" and "streng": billed; the 404 and the refused body not
    assert collector.units_spent == 3


def test_the_estimate_is_one_request_a_term_priced_per_provider(hosts):
    collector = build_collector("google_autocomplete")
    request = CollectionRequest(
        date_from=FROM, date_to=TO, terms=[Term(f"t{i}", group=i % 3) for i in range(60)]
    )
    for tier, credits in (("free", 0), ("medium", 2), ("premium", 60)):
        request.tier = tier
        assert collector.estimate_units(request) == 60  # whatever the window's length
        assert collector.estimate_credits(request) == credits


def test_a_medium_run_leases_google_searchs_serper_key_and_a_rerun_inserts_nothing(db, hosts):
    hosts.add(SERPER, mine("serper_klima.json"), method="POST")
    user = make_user(db, credits=10)
    # a SerpAPI key that looks fresher: a medium run must still take the Serper one
    serpapi = add_credential(
        db, "google_search", "serpapi", {"serpapi_api_key": "p"}, tier="premium"
    )
    serper = add_credential(db, "google_search", "serper", {"serper_api_key": "m"}, tier="medium")
    used_just_now(db, serper)
    config = {"arenas": {"google_autocomplete": {"tier": "medium"}}}
    design = make_design(db, user, config, terms=[("klima", "keyword"), ("grønland", "keyword")])

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    # 2 requests estimated and sent; Serper: 50 a credit
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (1, 2, 1)
    [task] = rows(db, "SELECT credential_id FROM collection_tasks")
    assert str(task["credential_id"]) == serper != serpapi
    stored = rows(db, "SELECT platform_id, collection_tier, raw_metadata FROM content_records")
    assert {r["collection_tier"] for r in stored} == {"medium"}
    assert sorted(r["platform_id"] for r in stored) == [
        f"da-dk:grønland:{today()}", f"da-dk:klima:{today()}",
    ]  # fmt: skip
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        1, 1, 1, 9,
    )  # fmt: skip

    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 2)
    assert len(hosts.requests(SERPER)) == 4 and hosts.requests(SUGGEST) == []


def test_the_free_tier_takes_no_key_from_the_pool(db, hosts):
    hosts.add(SUGGEST, mine("chrome_klima_utf8.json"))
    add_credential(db, "google_search", "serper", {"serper_api_key": "m"}, tier="free")
    user = make_user(db)
    design = make_design(
        db, user, {"arenas": {"google_autocomplete": {}}}, terms=[("klima", "keyword")]
    )
    report = start_run(db, design, FROM, TO)
    [arena] = report.arenas
    assert arena.status == "completed" and arena.credits_spent == 0
    [task] = rows(db, "SELECT credential_id FROM collection_tasks")
    assert task["credential_id"] is None
    [cred] = rows(db, "SELECT last_used_at FROM api_credentials")
    assert cred["last_used_at"] is None and hosts.requests(SERPER) == []


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, hosts):
    user = make_user(db, credits=2)
    add_credential(db, "google_search", "serpapi", {"serpapi_api_key": "p"}, tier="premium")
    config = {"arenas": {"google_autocomplete": {"tier": "premium"}}}
    terms = [("klima", "keyword"), ("grønland", "keyword"), ("ærø", "keyword")]
    design = make_design(db, user, config, terms=terms)
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 3, available 2 "
        "(run estimate 3 credits: google_autocomplete 3; owner's balance 2 credits)"
    )
    assert hosts.seen == []


def test_a_spent_serpapi_key_rotates_and_a_refused_one_is_flagged(db, hosts):
    # a design's terms come by when they were added, then by name: grønland, klima, ærø
    hosts.add(SERPAPI, mine("serpapi_klima.json"), api_key="spent", q="grønland")
    hosts.add(SERPAPI, reply("google_search/serpapi_out_of_searches.json", 429), api_key="spent")
    hosts.add(SERPAPI, mine("serpapi_klima.json"), api_key="good", q="klima")
    hosts.add(SERPAPI, reply("google_search/serpapi_invalid_key.json", 401), api_key="good")
    hosts.add("/feed.xml", file_reply("rss_dr_indland.xml"))
    user = make_user(db, credits=10)
    spent = add_credential(
        db, "google_search", "spent", {"serpapi_api_key": "spent"}, tier="premium"
    )
    good = add_credential(db, "google_search", "good", {"serpapi_api_key": "good"}, tier="premium")
    used_just_now(db, good)  # the spent key looks fresher, so the pool tries it first
    config = {
        "arenas": {
            "google_autocomplete": {"tier": "premium"},
            "rss_feeds": {"feeds": [f"{hosts.url}/feed.xml"], "default_feeds": False},
        }
    }
    terms = [("klima", "keyword"), ("grønland", "keyword"), ("ærø", "keyword")]
    design = make_design(db, user, config, terms=terms)

    report = start_run(db, design, FROM, TO)

    by = {a.platform: a for a in report.arenas}
    assert by["rss_feeds"].status == "completed"  # the other arena goes on
    suggest = by["google_autocomplete"]
    # grønland with the spent key, klima with the good one, then the good key is refused
    assert suggest.status == "failed" and "HTTP 401" in suggest.error
    assert "Invalid API key" in suggest.error and "good" not in suggest.error
    assert suggest.records_collected == 2 and suggest.units_spent == 2
    assert [(s.query["q"], s.query["api_key"]) for s in hosts.requests(SERPAPI)] == [
        ("grønland", "spent"), ("klima", "spent"), ("klima", "good"), ("ærø", "good"),
    ]  # fmt: skip
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None and creds[spent]["error_count"] == 0
    assert creds[good]["error_count"] == 1 and creds[good]["quota_reset_at"] is None
    # 3 credits reserved (SerpAPI: 1 request a credit), the 2 answered ones charged
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        3, 2, 3, 8,
    )  # fmt: skip


def test_arenas_list_names_the_shared_pool_the_keyless_tier_and_each_tiers_price():
    entry = arena_entry(get_collector_class("google_autocomplete"))
    assert entry["credentials"]["not_on_tiers"] == ["free"]
    assert entry["credentials"]["pool_platform"] == "google_search"
    assert entry["costs"] == {
        "free": {"free": True, "units_per_credit": None},
        "medium": {"free": False, "units_per_credit": 50},
        "premium": {"free": False, "units_per_credit": 1},
    }
    [credentials] = [line for line in arena_lines(entry) if "credentials" in line]
    assert credentials.endswith("(pool platform google_search); none on free")


def test_a_key_stored_for_another_tier_is_not_leased_and_the_failure_names_the_tier(db, hosts):
    add_credential(db, "google_search", "serper", {"serper_api_key": "m"}, tier="medium")
    user = make_user(db, credits=10)
    config = {"arenas": {"google_autocomplete": {"tier": "premium"}}}
    design = make_design(db, user, config, terms=[("klima", "keyword")])
    report = start_run(db, design, FROM, TO)
    [arena] = report.arenas
    assert arena.status == "failed" and arena.error == (
        "NoCredentialAvailable: no active google_search credential stored for tier premium "
        "with quota left"
    )
    assert hosts.seen == [] and arena.credits_spent == 0
    assert CreditLedger(db).get_balance(user).available == 10
