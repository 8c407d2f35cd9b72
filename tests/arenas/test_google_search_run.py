"""Google Search through whole collection runs: credits reserved, spent, settled, refunded.

Real Postgres and ledger, credentials from the encrypted pool, the replay server on
127.0.0.1 as the operator's Serper and SerpAPI hosts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import file_reply, used_just_now
from tests.collection.conftest import make_design, make_user, rows

FROM, TO = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)


def _reply(name: str, status: int = 200, **headers: str):
    return file_reply(f"google_search/{name}", status, **headers)


@pytest.fixture
def hosts(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "google-search-test-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("SERPER_API_URL", f"{replay.url}/serper")
    monkeypatch.setenv("SERPAPI_API_URL", f"{replay.url}/serpapi")
    return replay


def _serper_pages(hosts) -> None:
    hosts.routes.clear()
    hosts.add(
        "/serper/search",
        _reply("serper_page1.json"),  # "grøn trepart" page 1 (full)
        _reply("serper_page2.json"),  # "grøn trepart" page 2 (3 results: the end)
        _reply("serper_page2.json"),  # "klimalov" page 1 (the end)
        method="POST",
    )


def test_serper_run_charges_the_requests_sent_and_a_rerun_inserts_nothing(db, hosts):
    _serper_pages(hosts)
    user = make_user(db, credits=100)
    config = {"arenas": {"google_search": {"tier": "medium", "max_pages": 2}}}
    design = make_design(
        db, user, config, terms=[("grøn trepart", "keyword"), ("klimalov", "keyword")]
    )
    add_credential(
        db, "google_search", "serper", {"serper_api_key": "serper-run-key"}, tier="medium"
    )

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("google_search", "completed")
    # 2 queries x 2 pages = 4 requests estimated, 3 sent; Serper: 50 requests a credit.
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (1, 3, 1)
    assert arena.records_collected == 9 + 2 + 3 and arena.records_rejected == 1
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded) == (1, 1, 1)
    assert balance.available == 99
    stored = rows(
        db,
        "SELECT platform, arena, content_type, url, title, text_content, language, published_at,"
        " author_display_name, raw_metadata, collection_tier FROM content_records"
        " ORDER BY (raw_metadata->>'_search_term'), (raw_metadata->>'rank')::int",
    )
    top = stored[0]
    assert (top["platform"], top["arena"], top["content_type"]) == (
        "google_search", "search", "search_result",
    )  # fmt: skip
    assert top["raw_metadata"]["_search_term"] == '"grøn trepart"'
    assert top["raw_metadata"]["rank"] == 1 and top["title"] == "Aftale om et Grønt Danmark 🌱"
    assert top["published_at"] == datetime(2024, 6, 24, tzinfo=UTC)
    assert top["text_content"] is None and top["collection_tier"] == "medium"
    assert top["author_display_name"] == "regeringen.dk"
    undated = stored[1]
    assert undated["raw_metadata"]["published_at_source"] == "collected_at"
    # The same URL for two queries is two observations (rank per query).
    klimalov = [r for r in stored if r["raw_metadata"]["_search_term"] == "klimalov"]
    assert [r["raw_metadata"]["rank"] for r in klimalov] == [1, 2, 3]
    [task] = rows(db, "SELECT status, credits_spent, rate_limit_state FROM collection_tasks")
    assert task["credits_spent"] == 1
    assert task["rate_limit_state"]["requests_billed"] == {"serper": 3}
    assert len(hosts.requests("/serper/search")) == 3

    _serper_pages(hosts)  # Google answers the same again
    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.status, arena.records_collected, arena.duplicates_skipped) == ("completed", 0, 14)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 14
    assert CreditLedger(db).get_balance(user).available == 98


def test_spent_serpapi_key_rotates_to_the_next_and_is_not_charged(db, hosts):
    hosts.add("/serpapi/search.json", _reply("serpapi_out_of_searches.json", 429), api_key="spent")
    hosts.add("/serpapi/search.json", _reply("serpapi_page2.json"), api_key="good", start="10")
    hosts.add("/serpapi/search.json", _reply("serpapi_page1.json"), api_key="good", start="0")
    user = make_user(db, credits=50)
    spent = add_credential(
        db, "google_search", "spent", {"serpapi_api_key": "spent"}, tier="premium"
    )
    good = add_credential(db, "google_search", "good", {"serpapi_api_key": "good"}, tier="premium")
    used_just_now(db, good)  # the spent key looks fresher, so the pool tries it first
    design = make_design(
        db,
        user,
        {"arenas": {"google_search": {"tier": "premium"}}},
        terms=[("klimalov", "keyword")],
    )

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 14
    assert arena.credits_estimated == 10 and arena.credits_spent == 2
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None and creds[spent]["error_count"] == 0
    [task] = rows(db, "SELECT credential_id FROM collection_tasks")
    assert str(task["credential_id"]) == good
    assert [s.query["api_key"] for s in hosts.requests("/serpapi/search.json")] == [
        "spent",
        "good",
        "good",
    ]
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        10, 2, 10, 48,
    )  # fmt: skip


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, hosts):
    user = make_user(db, credits=3)
    design = make_design(
        db,
        user,
        {"arenas": {"google_search": {"tier": "premium"}}},
        terms=[("grøn trepart", "keyword"), ("klimalov", "keyword")],
    )
    add_credential(db, "google_search", "serpapi", {"serpapi_api_key": "k"}, tier="premium")
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 20, available 3 "
        "(run estimate 20 credits: google_search 20; owner's balance 3 credits)"
    )
    assert hosts.seen == []
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.available) == (0, 0, 3)


def test_a_failure_mid_way_settles_what_was_spent_and_refunds_the_rest(db, hosts):
    hosts.add(
        "/serpapi/search.json", _reply("html_error.html", 502, content_type="text/html"), start="10"
    )
    hosts.add("/serpapi/search.json", _reply("serpapi_page1.json"), start="0")
    user = make_user(db, credits=50)
    add_credential(db, "google_search", "only", {"serpapi_api_key": "k"}, tier="premium")
    config = {"arenas": {"google_search": {"tier": "premium", "max_pages": 3}}}
    design = make_design(db, user, config, terms=[("klimalov", "keyword")])

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 10  # page 1 is kept
    assert arena.credits_estimated == 3 and (arena.units_spent, arena.credits_spent) == (1, 1)
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    [skipped] = task["skipped_sources"]
    assert skipped["source"] == "google_search 'klimalov'"
    assert "/serpapi/search.json: HTTP 502 after 4 attempts" in skipped["detail"]
    assert len(hosts.requests("/serpapi/search.json")) == 1 + 4
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        3, 1, 3, 49,
    )  # fmt: skip


def test_a_refused_key_is_flagged_and_the_other_arenas_go_on(db, hosts):
    hosts.add(
        "/serpapi/search.json",
        _reply("serpapi_page1.json"),
        _reply("serpapi_invalid_key.json", 401),
    )
    hosts.add("/feed.xml", file_reply("rss_dr_indland.xml"))
    user = make_user(db, credits=50)
    key = add_credential(
        db, "google_search", "only", {"serpapi_api_key": "revoked"}, tier="premium"
    )
    config = {
        "arenas": {
            "google_search": {"tier": "premium", "max_pages": 3},
            "rss_feeds": {"feeds": [f"{hosts.url}/feed.xml"], "default_feeds": False},
        }
    }
    design = make_design(db, user, config, terms=[("klimalov", "keyword")])

    report = start_run(db, design, FROM, TO)

    by = {a.platform: a for a in report.arenas}
    assert by["rss_feeds"].status == "completed"  # the other arena goes on
    google = by["google_search"]
    assert google.status == "failed" and "HTTP 401" in google.error
    assert "Invalid API key" in google.error and "revoked" not in google.error
    assert google.records_collected == 10 and google.units_spent == 1  # page 1 is kept
    [cred] = rows(db, "SELECT id, error_count, last_error_at FROM api_credentials")
    assert str(cred["id"]) == key and cred["error_count"] == 1 and cred["last_error_at"]
    # A failed task pays the calls it made (runs.py _fail_task): SerpAPI answered page 1,
    # one search = 1 credit; the rest of the reservation is refunded.
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        3, 1, 3, 49,
    )  # fmt: skip
    [task] = rows(db, "SELECT credits_spent FROM collection_tasks WHERE platform = 'google_search'")
    assert task["credits_spent"] == 1
