"""Event Registry through whole collection runs: tokens reserved, spent, settled, refunded.

Real Postgres and ledger, keys from the encrypted pool, the replay server on 127.0.0.1 as
the operator's EVENT_REGISTRY_API_URL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.security.pseudonymize import pseudonymize
from tests.arenas.conftest import file_reply
from tests.collection.conftest import make_design, make_user, rows

PATH = "/api/v1/article/getArticles"
PSEUDO_KEY = "event-registry-test-key"
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
FROM, TO = TODAY - timedelta(days=7), TODAY  # the last 30 days: 1 token a request


def _reply(name: str, status: int = 200, **headers: str):
    return file_reply(f"event_registry/{name}", status, **headers)


def _keys_sent(replay) -> list[str]:
    return [json.loads(s.body)["apiKey"] for s in replay.requests(PATH)]


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", PSEUDO_KEY)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("EVENT_REGISTRY_API_URL", replay.url)
    monkeypatch.setenv("SERPER_API_URL", f"{replay.url}/serper")
    return replay


def _two_pages(api) -> None:
    api.routes.clear()
    api.add(PATH, _reply("articles_page1.json"), _reply("articles_page2.json"), method="POST")


def test_a_run_charges_the_tokens_spent_and_a_rerun_inserts_nothing(db, api):
    _two_pages(api)
    user = make_user(db, credits=100)
    design = make_design(
        db, user, {"arenas": {"event_registry": {"tier": "medium"}}}, terms=[("SU", "keyword")]
    )
    add_credential(db, "event_registry", "key", {"api_key": "er-run-key"}, tier="medium")

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("event_registry", "completed")
    # estimate: ceil(min(1 x 7 days x 50, 5000) / 100) = 4 requests x 1 token; 2 sent
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (4, 2, 2)
    assert arena.records_collected == 102 and arena.records_rejected == 1
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        4, 2, 4, 98,
    )  # fmt: skip
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, arena, content_type, url, title, text_content, language,"
            " published_at, author_platform_id, author_display_name, pseudonymized_author_id,"
            " search_terms_matched, shares_count, raw_metadata FROM content_records",
        )
    }
    article = stored["8512345001"]
    assert (article["arena"], article["content_type"], article["language"]) == (
        "news", "article", "da",
    )  # fmt: skip
    assert article["title"] == "SU-reform: studerende protesterer 🎓📚"
    assert article["published_at"] == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)
    assert article["search_terms_matched"] == ["SU"]
    assert article["author_display_name"] == "Jens Hansen"
    assert article["pseudonymized_author_id"] == pseudonymize(
        "event_registry", "jens_hansen@dr.dk", PSEUDO_KEY.encode()
    )
    assert article["raw_metadata"]["eventUri"] == "eng-9900001"
    assert stored["8512345004"]["raw_metadata"]["published_at_source"] == "collected_at"
    assert "8512345005" not in stored  # the English article was dropped
    [task] = rows(db, "SELECT credits_spent, rate_limit_state FROM collection_tasks")
    assert task["credits_spent"] == 2 and task["rate_limit_state"]["tokens_spent"] == 2

    _two_pages(api)  # the provider answers the same again
    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.status, arena.records_collected, arena.duplicates_skipped) == (
        "completed", 0, 102,
    )  # fmt: skip
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 102
    assert CreditLedger(db).get_balance(user).available == 96


def test_a_key_out_of_tokens_rotates_to_the_next_and_is_not_charged(db, api):
    api.add(
        PATH,
        _reply("tokens_used_up.json", 429),
        _reply("articles_page1.json"),
        _reply("articles_page2.json"),
        method="POST",
    )
    user = make_user(db, credits=10)
    spent = add_credential(db, "event_registry", "spent", {"api_key": "spent"}, tier="medium")
    good = add_credential(db, "event_registry", "good", {"api_key": "good"}, tier="medium")
    with db.begin() as conn:  # the spent key looks fresher, so the pool tries it first
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = NULL WHERE id = :i"), {"i": spent}
        )
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = now() WHERE id = :i"), {"i": good}
        )
    design = make_design(
        db, user, {"arenas": {"event_registry": {"tier": "medium"}}}, terms=[("SU", "keyword")]
    )

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 102
    assert (arena.credits_estimated, arena.credits_spent) == (4, 2)
    assert _keys_sent(api) == ["spent", "good", "good"]
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None and creds[spent]["error_count"] == 0
    [task] = rows(db, "SELECT credential_id FROM collection_tasks")
    assert str(task["credential_id"]) == good
    assert CreditLedger(db).get_balance(user).available == 8


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, api):
    user = make_user(db, credits=3)
    design = make_design(
        db, user, {"arenas": {"event_registry": {"tier": "medium"}}}, terms=[("SU", "keyword")]
    )
    add_credential(db, "event_registry", "key", {"api_key": "k"}, tier="medium")
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 4, available 3 "
        "(run estimate 4 credits: event_registry 4; owner's balance 3 credits)"
    )
    assert api.seen == []
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.available) == (0, 0, 3)


def test_a_failure_mid_way_settles_what_was_spent_and_refunds_the_rest(db, api):
    api.add(
        PATH,
        _reply("articles_page1.json"),
        _reply("html_error.html", 503, content_type="text/html"),
        method="POST",
    )
    user = make_user(db, credits=10)
    add_credential(db, "event_registry", "key", {"api_key": "k"}, tier="medium")
    design = make_design(
        db, user, {"arenas": {"event_registry": {"tier": "medium"}}}, terms=[("SU", "keyword")]
    )

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 98  # page 1 kept
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (4, 1, 1)
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    [skipped] = task["skipped_sources"]
    assert skipped["source"] == "event_registry 'SU'"
    assert "getArticles: HTTP 503 after 4 attempts" in skipped["detail"]
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        4, 1, 4, 9,
    )  # fmt: skip


def test_a_refused_key_is_flagged_and_the_other_arenas_go_on(db, api):
    api.add(PATH, _reply("invalid_key.json", 401), method="POST")
    api.add("/serper/search", file_reply("google_search/serper_page2.json"), method="POST")
    user = make_user(db, credits=10)
    key = add_credential(db, "event_registry", "bad", {"api_key": "bad"}, tier="medium")
    add_credential(db, "google_search", "serper", {"serper_api_key": "s"}, tier="medium")
    config = {
        "arenas": {
            "event_registry": {"tier": "medium"},
            "google_search": {"tier": "medium", "max_pages": 1},
        }
    }
    design = make_design(db, user, config, terms=[("SU", "keyword")])

    report = start_run(db, design, FROM, TO)

    by = {a.platform: a for a in report.arenas}
    assert by["google_search"].status == "completed" and by["google_search"].records_collected == 3
    er = by["event_registry"]
    assert er.status == "failed" and "HTTP 401" in er.error and "Invalid API key" in er.error
    assert "bad" not in er.error.replace("Bad", "")
    assert er.units_spent == 0  # a refused request costs no tokens
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[key]["error_count"] == 1 and creds[key]["last_error_at"] is not None
    balance = CreditLedger(db).get_balance(user)
    assert (balance.settled, balance.available) == (1, 9)  # google_search's one credit only
