"""TikTok through whole collection runs: real Postgres and ledger, client keys from the
encrypted pool, the replay server on 127.0.0.1 as the operator's TIKTOK_API_URL.

TikTok's Research API is free for approved institutions: nothing is reserved or charged,
but every request is counted as a unit on the task.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.security.pseudonymize import pseudonymize
from tests.arenas.conftest import file_reply
from tests.collection.conftest import make_design, make_user, rows

TOKEN = "/v2/oauth/token/"
QUERY = "/v2/research/video/query/"
PSEUDO_KEY = "tiktok-test-key"
FROM, TO = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)


def _reply(name: str, status: int = 200, **kwargs):
    return file_reply(f"tiktok/{name}", status, **kwargs)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", PSEUDO_KEY)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("TIKTOK_API_URL", replay.url)
    monkeypatch.setenv("GDELT_API_URL", replay.url)
    replay.add(TOKEN, _reply("token.json"), method="POST")
    return replay


def _two_pages(api) -> None:
    api.routes.clear()
    api.add(TOKEN, _reply("token.json"), method="POST")
    api.add(QUERY, _reply("videos_page1.json"), _reply("videos_page2.json"), method="POST")


def _client(db, name: str = "client") -> str:
    return add_credential(
        db, "tiktok", name, {"client_key": f"{name}-key", "client_secret": f"{name}-secret"}
    )


def test_a_run_stores_videos_counts_requests_charges_nothing_and_a_rerun_inserts_nothing(db, api):
    _two_pages(api)
    user = make_user(db, credits=5)
    design = make_design(db, user, {"arenas": {"tiktok": {}}}, terms=[("grønland", "keyword")])
    _client(db)

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("tiktok", "completed")
    assert arena.records_collected == 3 and arena.records_rejected == 1
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (0, 3, 0)
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.available) == (0, 0, 5)
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, arena, content_type, url, title, text_content, language,"
            " published_at, pseudonymized_author_id, search_terms_matched, views_count,"
            " likes_count, shares_count, comments_count, raw_metadata FROM content_records",
        )
    }
    assert set(stored) == {"7431000000000000001", "7431000000000000003", "7431000000000000004"}
    video = stored["7431000000000000001"]
    assert (video["arena"], video["content_type"], video["language"]) == (
        "social_media", "video", "da",
    )  # fmt: skip
    assert video["url"] == "https://www.tiktok.com/@dansk_debat/video/7431000000000000001"
    assert video["title"] == "Grønland og Danmark 🇩🇰🇬🇱 #grønland #politik"
    assert "[transcript] hej med jer, i dag taler vi om æbler og ål 😀" in video["text_content"]
    assert video["published_at"] == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    assert video["search_terms_matched"] == ["grønland"]
    assert (video["views_count"], video["likes_count"]) == (34000, 1500)
    assert (video["shares_count"], video["comments_count"]) == (12, 77)
    assert video["pseudonymized_author_id"] == pseudonymize(
        "tiktok", "dansk_debat", PSEUDO_KEY.encode()
    )
    assert video["raw_metadata"]["region_code"] == "DK"
    assert stored["7431000000000000003"]["raw_metadata"]["published_at_source"] == "collected_at"
    [task] = rows(db, "SELECT credits_spent, rate_limit_state FROM collection_tasks")
    assert task["credits_spent"] == 0
    assert task["rate_limit_state"]["research_requests"] == 2
    assert task["rate_limit_state"]["other_region_dropped"] == 1
    assert len(api.requests(QUERY)) == 2 and len(api.requests(TOKEN)) == 1

    _two_pages(api)
    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.status, arena.records_collected, arena.duplicates_skipped) == (
        "completed", 0, 3,
    )  # fmt: skip
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 3
    assert len(api.requests(QUERY)) == 4


def test_the_daily_quota_rotates_to_the_next_client_and_the_spent_one_rests(db, api):
    api.add(
        QUERY,
        _reply("quota_exceeded.json", 429),
        _reply("videos_page2.json"),
        method="POST",
    )
    user = make_user(db)
    spent = _client(db, "spent")
    good = _client(db, "good")
    with db.begin() as conn:  # the spent client looks fresher, so the pool tries it first
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = NULL WHERE id = :i"), {"i": spent}
        )
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = now() WHERE id = :i"), {"i": good}
        )
    design = make_design(db, user, {"arenas": {"tiktok": {}}}, terms=[("valg", "keyword")])

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 1
    keys = [dict(p.split("=") for p in s.body.decode().split("&")) for s in api.requests(TOKEN)]
    assert [k["client_key"] for k in keys] == ["spent-key", "good-key"]
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None and creds[spent]["error_count"] == 0
    [task] = rows(db, "SELECT credential_id FROM collection_tasks")
    assert str(task["credential_id"]) == good


def test_a_refused_token_flags_the_client_and_the_other_arenas_go_on(db, api):
    api.add(QUERY, _reply("token_invalid.json", 401), method="POST")
    api.add("/api/v2/doc/doc", file_reply("gdelt_artlist.json"))
    user = make_user(db)
    key = _client(db, "bad")
    design = make_design(
        db, user, {"arenas": {"tiktok": {}, "gdelt": {}}}, terms=[("valg", "keyword")]
    )

    report = start_run(db, design, FROM, TO)

    by = {a.platform: a for a in report.arenas}
    assert by["gdelt"].status == "completed"
    assert by["tiktok"].status == "failed" and "HTTP 401" in by["tiktok"].error
    assert "bad-secret" not in by["tiktok"].error
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[key]["error_count"] == 1 and creds[key]["last_error_at"] is not None


def test_a_failure_mid_way_keeps_what_was_collected_and_names_the_query(db, api):
    api.add(
        QUERY,
        _reply("videos_page1.json"),
        _reply("html_error.html", 502, content_type="text/html"),
        method="POST",
    )
    user = make_user(db)
    _client(db)
    design = make_design(db, user, {"arenas": {"tiktok": {}}}, terms=[("valg", "keyword")])

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    assert arena.units_spent == 1 + 5  # token, page 1, and page 2's four attempts
    [task] = rows(db, "SELECT skipped_sources, rate_limit_state FROM collection_tasks")
    [skipped] = task["skipped_sources"]
    assert skipped["source"] == "tiktok 'valg' 20261101-20261107"
    assert "HTTP 502 after 4 attempts" in skipped["detail"]


def test_the_daily_limit_stops_the_run_cleanly_and_says_so(db, api):
    api.add(QUERY, _reply("videos_page1.json"), method="POST")  # has_more forever
    user = make_user(db)
    _client(db)
    design = make_design(
        db, user, {"arenas": {"tiktok": {"daily_requests": 3}}}, terms=[("valg", "keyword")]
    )

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    assert len(api.requests(QUERY)) == 3
    [task] = rows(db, "SELECT skipped_sources, rate_limit_state FROM collection_tasks")
    assert task["rate_limit_state"]["stopped"] == {"reason": "daily_quota", "requests": 3}
    assert task["skipped_sources"][0]["reason"] == "stopped"
    assert json.dumps(task["skipped_sources"]).count("daily quota of 3") == 1
