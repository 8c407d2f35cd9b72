"""ai_chat_search through whole collection runs: credits reserved, spent, settled, refunded.

Real Postgres and ledger, OpenRouter keys from the encrypted pool, the replay server on
127.0.0.1 as the operator's OPENROUTER_API_URL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.enrichments.links import record_links
from tests.arenas.conftest import file_reply, used_just_now
from tests.collection.conftest import make_design, make_user, rows

FROM, TO = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)
CHAT = "/api/v1/chat/completions"
CEILING = 20_000  # units (millionths of a dollar) reserved per call by default
# what the trepart replies bill: expansion, then answers 1-3
TREPART_UNITS = 42 + 910 + 1100 + 500


def _reply(name: str, status: int = 200, **headers: str):
    kind = "application/json" if name.endswith(".json") else "text/html"
    return file_reply(f"ai_chat_search/{name}", status, content_type=kind, **headers)


@pytest.fixture
def hosts(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "ai-chat-search-test-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("OPENROUTER_API_URL", f"{replay.url}/api/v1")
    return replay


def _trepart(hosts, *answers) -> None:
    hosts.add(
        CHAT,
        _reply("expand_groen_trepart.json"),
        *(answers or (
            _reply("answer_trepart_1.json"),
            _reply("answer_trepart_2.json"),
            _reply("answer_trepart_3_perplexity.json"),
        )),
        method="POST",
    )  # fmt: skip


def _design(db, user, **options):
    config = {"arenas": {"ai_chat_search": {"tier": "medium", "questions_per_term": 3, **options}}}
    return make_design(db, user, config, terms=[("grøn trepart", "phrase")])


def _balance(db, user):
    balance = CreditLedger(db).get_balance(user)
    return balance.reserved, balance.settled, balance.refunded, balance.available


def test_a_run_charges_what_openrouter_billed_and_a_rerun_inserts_nothing(db, hosts):
    _trepart(hosts)
    user = make_user(db, credits=100)
    design = _design(db, user)
    add_credential(db, "ai_chat_search", "openrouter", {"api_key": "sk-or-v1-run"}, tier="medium")

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("ai_chat_search", "completed")
    # 1 expansion + 3 answers, each reserved at the $0.02 ceiling: 80,000 units = 6 credits;
    # OpenRouter billed $0.002552 = 2,552 units = 1 credit (15,000 a credit).
    assert arena.credits_estimated == credits_for("ai_chat_search", "medium", 4 * CEILING) == 6
    assert (arena.units_spent, arena.credits_spent) == (TREPART_UNITS, 1)
    assert _balance(db, user) == (6, 1, 6, 99)
    assert arena.records_collected == 3 + 5 and arena.records_rejected == 1
    stored = rows(
        db,
        "SELECT content_type, url, title, text_content, language, published_at, raw_metadata,"
        " author_display_name, pseudonymized_author_id, collection_tier FROM content_records"
        " ORDER BY content_type DESC, raw_metadata->>'question_slot',"
        " (raw_metadata->>'parent_response_platform_id'), (raw_metadata->>'citation_rank')::int",
    )
    answers = [r for r in stored if r["content_type"] == "ai_chat_response"]
    cited = [r for r in stored if r["content_type"] == "ai_chat_citation"]
    assert [a["title"] for a in answers] == [
        "Hvad går aftalen om den grønne trepart ud på?",
        "Hvor meget skal landbruget betale i CO2-afgift?",
        "Hvordan påvirker trepartsaftalen de danske fjorde?",
    ]
    assert {a["author_display_name"] for a in answers} == {"OpenAI", "Perplexity"}
    assert all(a["pseudonymized_author_id"] for a in answers)  # the model id, keyed
    assert {r["collection_tier"] for r in stored} == {"medium"} and {
        r["language"] for r in stored
    } == {"da"}
    assert {r["published_at"] for r in stored} == {
        datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    }
    assert "🌱" in answers[0]["text_content"]
    assert sorted(c["raw_metadata"]["source_domain"] for c in cited) == [
        "dr.dk", "information.dk", "mst.dk", "regeringen.dk", "skm.dk",
    ]  # fmt: skip
    # record_urls finds every cited page as its citation's own URL (and the answer's links)
    found = {
        (r["content_type"], link.url_type, link.registered_domain)
        for r in stored
        for link in record_links({**r, "platform": "ai_chat_search"})
    }
    assert {(t, kind) for t, kind, _ in found} == {
        ("ai_chat_citation", "self_reference"),
        ("ai_chat_response", "text_extracted"),
    }
    assert {d for t, _, d in found if t == "ai_chat_citation"} == {
        "dr.dk", "information.dk", "mst.dk", "regeringen.dk", "skm.dk",
    }  # fmt: skip
    [task] = rows(db, "SELECT rate_limit_state, credits_spent FROM collection_tasks")
    assert task["credits_spent"] == 1 and task["rate_limit_state"]["calls"] == 4
    assert len(hosts.requests(CHAT)) == 4

    hosts.routes.clear()
    _trepart(hosts)  # the same answers again (in real life they vary: the keys do not)
    again = start_run(db, design, FROM, TO)

    [arena] = again.arenas
    assert (arena.status, arena.records_collected, arena.duplicates_skipped) == ("completed", 0, 8)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 8
    assert len(hosts.requests(CHAT)) == 8  # asked again (answers are not known beforehand)
    assert _balance(db, user)[3] == 98


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, hosts):
    user = make_user(db, credits=5)
    design = _design(db, user)
    add_credential(db, "ai_chat_search", "openrouter", {"api_key": "k"}, tier="medium")
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 6, available 5 "
        "(run estimate 6 credits: ai_chat_search 6; owner's balance 5 credits)"
    )
    assert hosts.seen == []
    assert _balance(db, user) == (0, 0, 0, 5)


def test_a_key_out_of_credits_rotates_and_nothing_is_asked_twice(db, hosts):
    _trepart(
        hosts,
        _reply("answer_trepart_1.json"),
        _reply("error_402.json", 402),  # the first key's credits are spent on question 2
        _reply("answer_trepart_2.json"),
        _reply("answer_trepart_3_perplexity.json"),
    )
    user = make_user(db, credits=100)
    design = _design(db, user)
    spent = add_credential(db, "ai_chat_search", "spent", {"api_key": "key-spent"}, tier="medium")
    good = add_credential(db, "ai_chat_search", "good", {"api_key": "key-good"}, tier="medium")
    used_just_now(db, good)  # the spent key looks fresher, so the pool tries it first

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 8
    assert (arena.units_spent, arena.credits_spent) == (TREPART_UNITS, 1)
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None and creds[spent]["error_count"] == 0
    assert creds[good]["quota_reset_at"] is None
    sent = hosts.requests(CHAT)
    assert [s.headers["Authorization"] for s in sent] == [
        "Bearer key-spent", "Bearer key-spent", "Bearer key-spent",
        "Bearer key-good", "Bearer key-good",
    ]  # fmt: skip
    # the second key was not asked the expansion or question 1 again
    assert [json.loads(s.body)["messages"][1]["content"] for s in sent[3:]] == [
        "Hvor meget skal landbruget betale i CO2-afgift?",
        "Hvordan påvirker trepartsaftalen de danske fjorde?",
    ]
    assert _balance(db, user) == (6, 1, 6, 99)


def test_a_refused_key_is_flagged_settles_what_it_spent_and_the_other_arenas_go_on(db, hosts):
    _trepart(hosts, _reply("answer_trepart_1.json"), _reply("error_401.json", 401))
    hosts.add("/feed.xml", file_reply("rss_dr_indland.xml"))
    user = make_user(db, credits=100)
    key = add_credential(db, "ai_chat_search", "only", {"api_key": "sk-or-revoked"}, tier="medium")
    config = {
        "arenas": {
            "ai_chat_search": {"tier": "medium", "questions_per_term": 3},
            "rss_feeds": {"feeds": [f"{hosts.url}/feed.xml"], "default_feeds": False},
        }
    }
    design = make_design(db, user, config, terms=[("grøn trepart", "phrase")])

    report = start_run(db, design, FROM, TO)

    by = {a.platform: a for a in report.arenas}
    assert by["rss_feeds"].status == "completed"
    chat = by["ai_chat_search"]
    assert chat.status == "failed" and "HTTP 401" in chat.error and "User not found" in chat.error
    assert "sk-or-revoked" not in chat.error
    assert chat.records_collected == 3 and chat.units_spent == 42 + 910  # answer 1 kept
    [cred] = rows(db, "SELECT id, error_count, last_error_at FROM api_credentials")
    assert str(cred["id"]) == key and cred["error_count"] == 1 and cred["last_error_at"]
    # the failed task pays the two calls OpenRouter billed; the rest is refunded
    assert _balance(db, user) == (6, 1, 6, 99)
    [task] = rows(
        db, "SELECT credits_spent FROM collection_tasks WHERE platform = 'ai_chat_search'"
    )
    assert task["credits_spent"] == 1
