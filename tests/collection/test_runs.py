"""Run lifecycle end to end: fake collectors over HTTP on 127.0.0.1, real ledger, real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from observatory_pipelines.collection.credential_pool import CredentialPool, add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.collection.sweep import settle_finished_run
from observatory_pipelines.credits.ledger import CreditLedger

from .conftest import item, make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)


def one(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().all()


def test_run_collects_dedups_and_survives_a_failing_arena(db, json_server):
    json_server.feed("news", [[item(1), item(2)], [item(3), "not-an-object"], []])
    json_server.feed("broken", [(500, {"error": "boom"})])
    user = make_user(db, credits=100)
    config = {
        "mode": "batch",
        "arenas": {
            "fake_news": {"tier": "premium", "feed": "news", "estimated_units": 900},
            "fake_social": {"tier": "premium", "feed": "broken"},
        },
    }
    design = make_design(db, user, config, terms=[("grønland", "keyword"), ("klima", "hashtag")])
    add_credential(db, "fake_social", "key one", {"api_key": "good-key"})

    report = start_run(db, design, FROM, TO)

    assert report.status == "completed"
    by = {a.platform: a for a in report.arenas}
    assert by["fake_news"].status == "completed"
    assert by["fake_news"].records_collected == 3 and by["fake_news"].records_rejected == 1
    assert by["fake_social"].status == "failed"
    assert "HTTP 500" in by["fake_social"].error
    records = one(
        db, "SELECT platform_id, search_terms_matched, collection_run_id FROM content_records"
    )
    assert sorted(r["platform_id"] for r in records) == ["p1", "p2", "p3"]
    assert [r["search_terms_matched"] for r in records] == [["grønland", "klima"]] * 3
    assert all(str(r["collection_run_id"]) == report.run_id for r in records)
    tasks = {
        t["platform"]: t
        for t in one(
            db, "SELECT * FROM collection_tasks WHERE collection_run_id = :r", r=report.run_id
        )
    }
    assert tasks["fake_news"]["status"] == "completed"
    assert tasks["fake_news"]["records_collected"] == 3
    assert tasks["fake_news"]["records_rejected"] == 1
    assert tasks["fake_news"]["rate_limit_state"] == {"requests": 3}
    assert tasks["fake_news"]["credits_spent"] == 2  # 3 requests x 100 units, premium
    # The failed arena pays the one call it made (100 units, premium: 1 credit), no more.
    assert tasks["fake_social"]["credits_spent"] == 1
    assert tasks["fake_social"]["status"] == "failed"
    assert (
        tasks["fake_social"]["error_message"]
        == "ArenaError: fake_social answered HTTP 500 on page 0"
    )
    assert tasks["fake_social"]["credential_id"] is not None
    (run,) = one(db, "SELECT * FROM collection_runs WHERE id = :r", r=report.run_id)
    assert run["status"] == "completed" and run["records_collected"] == 3
    assert run["started_at"] and run["completed_at"] and "fake_social" in run["error_log"]

    # Credits: estimate 900 units → 5 reserved for news; 3 requests x 100 units → 2 charged;
    # the failed arena is charged its one call and the rest of its reservation comes back.
    assert by["fake_news"].credits_estimated == 5 and by["fake_news"].credits_spent == 2
    assert by["fake_social"].credits_spent == 1
    assert run["credits_spent"] == 3
    assert CreditLedger(db).get_balance(user).available == 97

    # Rerun of the same window: nothing new, everything counted as duplicate.
    again = start_run(db, design, FROM, TO)
    news_again = next(a for a in again.arenas if a.platform == "fake_news")
    assert (news_again.records_collected, news_again.duplicates_skipped) == (0, 3)
    assert one(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 3
    assert CreditLedger(db).get_balance(user).available == 94  # 2 + 1 again


def test_insufficient_credits_refuses_the_run_before_collecting(db, json_server):
    json_server.feed("news-poor", [[item(1)]])
    user = make_user(db, credits=1)
    config = {
        "arenas": {"fake_news": {"tier": "premium", "feed": "news-poor", "estimated_units": 900}}
    }
    design = make_design(db, user, config)
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    # The ledger's per-arena refusal, and the whole run's estimate beside the owner's balance.
    assert report.error == (
        "insufficient credits: need 5, available 1 "
        "(run estimate 5 credits: fake_news 5; owner's balance 1 credits)"
    )
    (task,) = one(db, "SELECT status, error_message FROM collection_tasks")
    assert task["status"] == "failed" and "insufficient credits" in task["error_message"]
    assert one(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 0
    assert CreditLedger(db).get_balance(user).available == 1


def test_all_arenas_failing_fails_the_run_and_refunds_what_was_not_spent(db, json_server):
    json_server.feed("broken-all", [(200, b"{not json")])
    user = make_user(db, credits=50)
    config = {
        "arenas": {"fake_news": {"tier": "premium", "feed": "broken-all"}, "no_such_arena": {}}
    }
    design = make_design(db, user, config)
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    errors = {a.platform: a.error for a in report.arenas}
    assert errors["fake_news"] == "ArenaError: fake_news sent malformed JSON on page 0"
    assert errors["no_such_arena"] == "no collector registered for platform 'no_such_arena'"
    # The one call fake_news made was answered (with bad JSON): 100 units, 1 credit charged;
    # the rest of its reservation and the unknown arena's nothing come back.
    assert CreditLedger(db).get_balance(user).available == 49
    (run,) = one(db, "SELECT status, credits_spent FROM collection_runs")
    assert (run["status"], run["credits_spent"]) == ("failed", 1)


def test_credentials_encrypted_rotated_and_never_logged(db, json_server, log_lines):
    json_server.feed("social", [[item(1)], [item(2)]])
    user = make_user(db, credits=10)
    spent = add_credential(db, "fake_social", "spent", {"api_key": "spent-key"})
    good = add_credential(db, "fake_social", "good", {"api_key": "good-key"})
    with db.begin() as conn:  # the spent key looks fresher, so the pool tries it first
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = NULL WHERE id = :i"), {"i": spent}
        )
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = now() WHERE id = :i"), {"i": good}
        )
    raw = one(db, "SELECT credentials::text AS c FROM api_credentials")
    assert all("key" not in r["c"].replace("ciphertext", "") for r in raw)
    assert all("spent-key" not in r["c"] and "good-key" not in r["c"] for r in raw)

    design = make_design(db, user, {"arenas": {"fake_social": {"feed": "social"}}})
    report = start_run(db, design, FROM, TO)

    (arena,) = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    (task,) = one(db, "SELECT credential_id FROM collection_tasks")
    assert str(task["credential_id"]) == good
    creds = {str(r["id"]): r for r in one(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None and creds[spent]["last_error_at"] is not None
    assert creds[good]["last_used_at"] is not None
    assert (
        "Bearer spent-key" in json_server.auth_seen and "Bearer good-key" in json_server.auth_seen
    )
    joined = "\n".join(log_lines)
    assert "credential.quota_exhausted" in joined and "run.finished" in joined
    assert "good-key" not in joined and "spent-key" not in joined

    # With every key exhausted the task fails with a readable error, and the pool says so.
    with pytest.raises(Exception, match="no active fake_social credential with quota left"):
        with db.begin() as conn:
            conn.execute(
                text("UPDATE api_credentials SET quota_reset_at = now() + interval '1 day'")
            )
        CredentialPool(db).acquire("fake_social")


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lokal</title>
<item><guid>rss-1</guid><title>Grønlandspolitik i Folketinget</title>
<link>https://www.example.dk/a?utm_source=rss</link>
<description>&lt;p&gt;Debat om &lt;b&gt;Grønland&lt;/b&gt;&lt;/p&gt;</description>
<pubDate>Tue, 03 Mar 2026 10:00:00 +0100</pubDate></item>
<item><guid>rss-2</guid><title>Vejret</title><link>https://www.example.dk/b</link>
<description>Sol og regn</description><pubDate>Tue, 03 Mar 2026 11:00:00 +0100</pubDate></item>
</channel></rss>""".encode()


def test_real_rss_arena_through_a_run(db, json_server):
    feed = json_server.feed("rss-dk", [(200, RSS)])
    user = make_user(db)
    config = {"arenas": {"rss_feeds": {"feeds": [feed], "default_feeds": False}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    (arena,) = report.arenas
    assert (arena.status, arena.records_collected, arena.credits_spent) == ("completed", 1, 0)
    (row,) = one(db, "SELECT * FROM content_records")
    assert row["platform"] == "rss_feeds" and row["platform_id"] == "rss-1"
    assert row["published_at"] == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert row["search_terms_matched"] == ["grønland"]
    assert row["url"] == "https://www.example.dk/a"
    assert "<" not in (row["text_content"] or "")


def test_crash_between_task_and_ledger_is_settled_at_the_tasks_own_cost(db, json_server):
    """The ledger fails right after a task completed: the run is not left running, the task
    keeps its recorded cost, and the settlement job charges exactly that (not the whole
    reservation, not a proportional share of the run)."""

    class BrokenSettle(CreditLedger):
        def settle(self, *args, **kwargs):
            raise RuntimeError("ledger unavailable")

    json_server.feed("news-abort", [[item(1)], [item(2)]])
    user = make_user(db, credits=10)
    config = {
        "arenas": {"fake_news": {"tier": "premium", "feed": "news-abort", "estimated_units": 900}}
    }
    design = make_design(db, user, config)
    with pytest.raises(RuntimeError, match="ledger unavailable"):
        start_run(db, design, FROM, TO, ledger=BrokenSettle(db))
    (run,) = one(db, "SELECT id, status, error_log FROM collection_runs")
    assert run["status"] == "failed" and "ledger unavailable" in run["error_log"]
    (task,) = one(db, "SELECT status, credits_spent, records_collected FROM collection_tasks")
    assert (task["status"], task["credits_spent"], task["records_collected"]) == ("completed", 1, 2)
    ledger = CreditLedger(db)
    assert ledger.get_balance(user).available == 5  # the reservation waits for the settlement job

    outcome = settle_finished_run(ledger, run["id"])
    # 2 requests x 100 units at premium cost 1 credit; 5 were reserved.
    assert outcome.settled == {"news_media/fake_news": 1} and outcome.refunded == {}
    assert ledger.get_balance(user).available == 9
    settle_finished_run(ledger, run["id"])
    assert ledger.get_balance(user).available == 9


def test_every_credential_exhausted_fails_the_task_readably(db, json_server):
    json_server.feed("social-spent", [[item(1)]])
    user = make_user(db)
    spent = add_credential(db, "fake_social", "only", {"api_key": "spent-key"})
    design = make_design(db, user, {"arenas": {"fake_social": {"feed": "social-spent"}}})
    report = start_run(db, design, FROM, TO)
    (arena,) = report.arenas
    assert arena.status == "failed"
    assert (
        arena.error
        == "NoCredentialAvailable: no active fake_social credential with quota left (tried 1)"
    )
    (cred,) = one(db, "SELECT id, error_count, quota_reset_at FROM api_credentials")
    assert str(cred["id"]) == spent and cred["error_count"] == 0 and cred["quota_reset_at"]
