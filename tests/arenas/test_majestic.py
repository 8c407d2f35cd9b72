"""Majestic: domain metrics snapshots and backlinks against the replay server as
MAJESTIC_API_URL; whole runs (start_run, the collect_query_design asset's entry point) against
the real Postgres and credit ledger, keys from the encrypted pool."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
)
from observatory_pipelines.arenas.majestic import as_domain
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import Reply, file_reply
from tests.collection.conftest import make_design, make_user, rows

PATH = "/api/json"
KEY = "MAJESTIC-SECRET-KEY-0123"
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
FROM, TO = TODAY - timedelta(days=7), TODAY
CONFIG = {
    "tier": "premium",
    "domains": ["politiken.dk", "not a domain!"],
    "backlinks_per_domain": 1000,
}


def _reply(name: str, status: int = 200) -> Reply:
    ctype = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"majestic/{name}", status, content_type=ctype)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "majestic-test")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("MAJESTIC_API_URL", replay.url)
    return replay


def _routes(api) -> None:
    api.routes.clear()
    api.add(PATH, _reply("metrics.json"), cmd="GetIndexItemInfo")
    api.add(PATH, _reply("backlinks_dr.json"), cmd="GetBackLinkData", item="dr.dk")
    api.add(PATH, _reply("backlinks_politiken.json"), cmd="GetBackLinkData", item="politiken.dk")


def _request(**options) -> CollectionRequest:
    from observatory_pipelines.arenas.base import SearchTerm

    return CollectionRequest(
        date_from=FROM,
        date_to=TO,
        tier="premium",
        terms=[SearchTerm("https://www.dr.dk/nyheder")],
        options={**CONFIG, **options},
    )


def test_domains_are_read_from_urls_and_names():
    assert as_domain("https://www.DR.dk/nyheder?x=1") == "dr.dk"
    assert as_domain("æbler.dk") == "xn--bler-uoa.dk"
    assert as_domain("not a domain!") is None and as_domain("localhost") is None


def test_metrics_and_backlinks_are_mapped_and_units_counted(api):
    _routes(api)
    collector = build_collector("majestic", credentials={"app_api_key": KEY})
    request = _request()
    assert collector.estimate_units(request) == 2 * 1001
    assert collector.estimate_credits(request) == 3
    pages = list(collector.collect(request))
    assert pages[0].errors == ["majestic 'not a domain!': not a domain, skipped"]
    metrics = pages[1].records
    assert [m.author_platform_id for m in metrics] == ["politiken.dk", "dr.dk"]
    dr = metrics[1]
    key = f"dr.dk_{TODAY.date().isoformat()}"
    assert (dr.content_type, dr.published_at, dr.url) == ("domain_metrics", TODAY, "https://dr.dk")
    assert dr.platform_id == hashlib.sha256(key.encode()).hexdigest() and dr.hash_source == key
    assert dr.raw_metadata["TrustFlow"] == 78 and dr.raw_metadata["engagement_score"] == 78
    assert dr.raw_metadata["datasource"] == "fresh"
    backlinks = [r for p in pages[2:] for r in p.records]
    assert len(backlinks) == 3 and pages[3].rejected == 1  # the row without a SourceURL
    link = next(r for r in backlinks if r.text_content and "DR" in r.text_content)
    assert link.text_content == "Læs mere på DR 📰 – æøå"
    assert link.published_at == datetime(2025, 3, 4, tzinfo=UTC)
    assert link.author_platform_id == "www.altinget.dk" and link.content_type == "backlink"
    undated = next(r for r in backlinks if r.url == "https://blog.example.dk/indlæg")
    assert undated.published_at is None and undated.raw_metadata["FlagNoFollow"] == 1
    assert collector.units_spent == 2 + 1 + 3  # 2 metric items, 1 + 3 backlink rows
    sent = api.requests(PATH)
    assert [s.query["cmd"] for s in sent] == [
        "GetIndexItemInfo",
        "GetBackLinkData",
        "GetBackLinkData",
    ]
    assert (sent[0].query["items"], sent[0].query["item0"], sent[0].query["item1"]) == (
        "2", "politiken.dk", "dr.dk",
    )  # fmt: skip
    assert (sent[2].query["Count"], sent[2].query["Mode"]) == ("1000", "1")
    assert all(s.query["app_api_key"] == KEY for s in sent)


def test_rate_limit_5xx_and_broken_replies(api):
    api.add(
        PATH,
        _reply("rate_limited.json"),
        _reply("html_error.html", 503),
        _reply("metrics.json"),
        cmd="GetIndexItemInfo",
    )
    api.add(PATH, _reply("malformed.json"), cmd="GetBackLinkData", item="dr.dk")
    api.add(PATH, _reply("html_error.html", 404), cmd="GetBackLinkData", item="politiken.dk")
    collector = build_collector("majestic", credentials={"app_api_key": KEY})
    pages = list(collector.collect(_request()))
    assert len(pages[1].records) == 2 and collector.rate_limit_state["rate_limited"] == 1
    errors = [e for p in pages for e in p.errors]
    assert any(
        "backlinks politiken.dk" in e and "HTTP 404 from 127.0.0.1" in e and "HTML page" in e
        for e in errors
    )
    assert any("backlinks dr.dk" in e and "not valid JSON" in e for e in errors)
    assert all(KEY not in e for e in errors)


def test_options_a_bad_key_and_a_free_tier_are_refused(api):
    with pytest.raises(
        ArenaOptionError, match="backlinks_per_domain must be an int from 0 to 1000"
    ):
        build_collector("majestic", options={"backlinks_per_domain": 5000})
    assert (
        build_collector("majestic").estimate_credits(
            _request().__class__(date_from=FROM, date_to=TO)
        )
        == 0
    )
    api.add(PATH, _reply("invalid_key.json"))
    with pytest.raises(ArenaAuthError, match="InvalidAPIKey") as caught:
        list(build_collector("majestic", credentials={"app_api_key": KEY}).collect(_request()))
    assert KEY not in str(caught.value)


# -- whole runs ------------------------------------------------------------------------


def _design(db, user, **extra):
    return make_design(
        db, user, {"arenas": {"majestic": {**CONFIG, **extra}}},
        terms=[("https://www.dr.dk/nyheder", "keyword")],
    )  # fmt: skip


def test_a_run_charges_the_units_and_a_second_run_the_same_day_inserts_nothing(db, api):
    _routes(api)
    user = make_user(db, credits=10)
    add_credential(db, "majestic", "key", {"app_api_key": KEY}, tier="premium")
    design = _design(db, user)

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 5
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (3, 6, 1)
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (3, 1, 3, 9)
    stored = rows(
        db, "SELECT content_type, count(*) AS n FROM content_records GROUP BY 1 ORDER BY 1"
    )
    assert [(r["content_type"], r["n"]) for r in stored] == [("backlink", 3), ("domain_metrics", 2)]
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    assert [s["source"] for s in task["skipped_sources"]] == ["majestic 'not a domain!'"]

    _routes(api)
    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.status, arena.records_collected) == ("completed", 0)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 5


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, api):
    user = make_user(db, credits=2)
    add_credential(db, "majestic", "key", {"app_api_key": KEY}, tier="premium")
    report = start_run(db, _design(db, user), FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 3, available 2 "
        "(run estimate 3 credits: majestic 3; owner's balance 2 credits)"
    )
    assert api.seen == []


def test_spent_units_rotate_keys_and_a_refused_key_is_flagged(db, api):
    api.add(PATH, _reply("metrics.json"), cmd="GetIndexItemInfo")
    api.add(
        PATH,
        _reply("insufficient.json"),
        _reply("backlinks_dr.json"),
        cmd="GetBackLinkData",
        item="dr.dk",
    )
    api.add(PATH, _reply("backlinks_politiken.json"), cmd="GetBackLinkData", item="politiken.dk")
    user = make_user(db, credits=10)
    spent = add_credential(db, "majestic", "spent", {"app_api_key": "spent"}, tier="premium")
    good = add_credential(db, "majestic", "good", {"app_api_key": "good"}, tier="premium")
    with db.begin() as conn:
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = NULL WHERE id = :i"), {"i": spent}
        )
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = now() WHERE id = :i"), {"i": good}
        )

    report = start_run(db, _design(db, user), FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 5
    # politiken.dk's backlinks and the metrics are not asked again with the second key
    assert [(s.query["cmd"], s.query.get("item"), s.query["app_api_key"]) for s in api.requests(PATH)] == [
        ("GetIndexItemInfo", None, "spent"),
        ("GetBackLinkData", "politiken.dk", "spent"),
        ("GetBackLinkData", "dr.dk", "spent"),
        ("GetBackLinkData", "dr.dk", "good"),
    ]  # fmt: skip
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[spent]["quota_reset_at"] is not None

    api.routes.clear()
    api.add(PATH, _reply("invalid_key.json"))
    with db.begin() as conn:
        conn.execute(text("DELETE FROM api_credentials"))
    bad = add_credential(db, "majestic", "bad", {"app_api_key": "bad"}, tier="premium")
    report = start_run(db, _design(db, user, domains=["tv2.dk"]), FROM, TO)
    [arena] = report.arenas
    assert arena.status == "failed" and "InvalidAPIKey" in arena.error
    assert arena.credits_spent == 0
    [cred] = rows(db, "SELECT error_count FROM api_credentials WHERE id = :i", i=bad)
    assert cred["error_count"] == 1


def test_a_failure_mid_way_settles_what_was_spent_and_refunds_the_rest(db, api):
    api.add(PATH, _reply("metrics.json"), cmd="GetIndexItemInfo")
    api.add(PATH, _reply("html_error.html", 503), cmd="GetBackLinkData", item="dr.dk")
    api.add(PATH, _reply("backlinks_politiken.json"), cmd="GetBackLinkData", item="politiken.dk")
    user = make_user(db, credits=10)
    add_credential(db, "majestic", "key", {"app_api_key": KEY}, tier="premium")

    report = start_run(db, _design(db, user), FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 3
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (3, 3, 1)
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    details = {s["source"]: s["detail"] for s in task["skipped_sources"]}
    assert "HTTP 503 after 4 attempts" in details["majestic backlinks dr.dk"]
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (3, 1, 3, 9)


def test_an_oversized_reply_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = b'{"Code":"OK","pad":"' + b"x" * (1024 * 1024 + 10) + b'"}'
    api.add(PATH, Reply(200, huge, {"Content-Type": "application/json"}))
    collector = build_collector("majestic", credentials={"app_api_key": KEY})
    with pytest.raises(ArenaError, match="larger than 1 MB refused"):
        list(collector.collect(_request(domains=[], backlinks_per_domain=0)))


def test_the_last_key_out_of_units_keeps_what_it_had_and_pays_only_that(db, api):
    api.add(PATH, _reply("metrics.json"), cmd="GetIndexItemInfo")
    api.add(PATH, _reply("insufficient.json"), cmd="GetBackLinkData")
    user = make_user(db, credits=10)
    add_credential(db, "majestic", "key", {"app_api_key": KEY}, tier="premium")

    report = start_run(db, _design(db, user), FROM, TO)

    [arena] = report.arenas
    assert arena.status == "failed" and "no active majestic credential" in arena.error
    assert (arena.records_collected, arena.units_spent, arena.credits_spent) == (2, 2, 1)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 2
    [task] = rows(db, "SELECT rate_limit_state FROM collection_tasks")
    assert task["rate_limit_state"]["metrics_done"] == ["politiken.dk", "dr.dk"]
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (3, 1, 3, 9)
