"""x_twitter, premium tier (official X API v2, pay-per-use): recorded-shape replies on the
local replay server, then a whole collection run with the credit ledger asserted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.x_twitter import (
    EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    XTwitterCollector,
)
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import Reply, file_reply
from tests.arenas.test_x_twitter import FROM, TO, ledger, rows
from tests.collection.conftest import make_design, make_user

TOKEN = "AAAAAAAAAAAAAAAAAAAAAbearer-token-0123456789"
ALL = "/2/tweets/search/all"
RECENT = "/2/tweets/search/recent"
NEXT = "b26v89c19zqg8o3fpzbkk0vnhq4"
TERMS_Q = "grønland lang:da"
ACCOUNTS_Q = "from:politiker"


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    kind = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"x_twitter/{name}", status, kind, **headers)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("X_TWITTER_API_URL", replay.url)
    monkeypatch.setenv("X_TWITTER_V2_API_URL", replay.url)
    return replay


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "x-twitter-premium-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


def paged(api, *first: Reply, path: str = ALL) -> None:
    api.add(path, reply("v2_empty.json"), query=ACCOUNTS_Q)
    api.add(path, reply("v2_search_page2.json"), next_token=NEXT)
    api.add(path, *(first or (reply("v2_search_page1.json"),)))


def request(accounts=(), **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=FROM,
        date_to=TO,
        terms=[SearchTerm("grønland")],
        tier="premium",
        options={"custom_accounts": list(accounts), **options},
    )


def collect(req: CollectionRequest):
    collector = XTwitterCollector(credentials={"bearer_token": TOKEN})
    return collector, list(collector.collect(req))


def records(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def test_v2_search_pages_with_next_token_and_maps_authors_and_references(api):
    paged(api)
    collector, pages = collect(request())
    found = records(pages)
    assert sorted(found) == [
        "1990000000000000001", "1990000000000000002", "1990000000000000003",
        "1990000000000000005", "1990000000000000007",
    ]  # fmt: skip
    tweet = found["1990000000000000001"]
    assert tweet.content_type == "tweet" and tweet.language == "da"
    assert tweet.url == "https://x.com/politiker/status/1990000000000000001"
    assert tweet.published_at == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert (tweet.author_platform_id, tweet.author_display_name) == ("987654321", "Søren Politiker")
    # v2: shares = retweets + quotes, views = impressions.
    assert (tweet.likes_count, tweet.shares_count, tweet.comments_count, tweet.views_count) == (
        42, 8, 3, 1500,
    )  # fmt: skip
    assert tweet.raw_metadata["context_annotations"][0]["domain"]["name"] == "Politician"
    assert tweet.raw_metadata["entities"]["hashtags"][0]["tag"] == "dkpol"
    reply_ = found["1990000000000000002"]
    assert reply_.content_type == "reply"
    assert reply_.raw_metadata["in_reply_to_user_id"] == "987654321"
    assert reply_.author_display_name == "Åse Journalist 📰"
    assert (reply_.likes_count, reply_.shares_count, reply_.views_count) == (0, 0, 0)
    retweet = found["1990000000000000003"]
    assert retweet.content_type == "retweet"
    assert retweet.text_content == (
        "RT @politiker: Vi skal have styr på boligpriserne i Grønland – nu! 🇩🇰🏠 #dkpol"
    )  # the whole original from includes.tweets, not v2's truncated "… n…"
    quote = found["1990000000000000005"]
    assert quote.content_type == "quote_tweet"
    assert quote.raw_metadata["referenced_tweets"] == [
        {"type": "quoted", "id": "1990000000000000002"}
    ]
    assert found["1990000000000000007"].author_display_name == "Nyhedsbot"
    assert "1990000000000000008" not in found  # English, filtered
    assert sum(p.rejected for p in pages) == 1  # the post without id
    sent = api.requests(ALL)
    assert [s.query.get("next_token") for s in sent] == [None, NEXT]
    first = sent[0].query
    assert first["query"] == TERMS_Q and first["max_results"] == "100"
    assert (first["start_time"], first["end_time"]) == (
        "2026-11-20T00:00:00Z",
        "2026-11-27T00:00:00Z",
    )
    assert (first["tweet.fields"], first["expansions"], first["user.fields"]) == (
        TWEET_FIELDS, EXPANSIONS, USER_FIELDS,
    )  # fmt: skip
    assert all(s.headers["Authorization"] == f"Bearer {TOKEN}" for s in sent)
    # Page 1: 4 posts + 2 referenced (already counted: both are in data) + 2 users x 2 = 8;
    # page 2: 2 posts (the id-less one is not a billable resource) + 1 user x 2 = 4.
    assert collector.units_spent == 12
    assert collector.rate_limit_state["partial_errors"] == 1


def test_recent_search_is_clamped_to_the_last_seven_days(api):
    paged(api, path=RECENT)
    collector, _ = collect(request(archive="recent"))
    [first, *_] = api.requests(RECENT)
    start = datetime.fromisoformat(first.query["start_time"].replace("Z", "+00:00"))
    assert start >= datetime.now(UTC) - timedelta(days=7)
    assert collector.rate_limit_state["window_clamped"] == "recent search covers the last 7 days"
    assert api.requests(ALL) == []


def test_429_then_success_and_5xx_then_success(api):
    limited = reply("v2_rate_limited.json", 429, **{"x-rate-limit-remaining": "0"})
    paged(api, limited, Reply(503, b"Service Unavailable"), reply("v2_search_page1.json"))
    collector, pages = collect(request())
    assert len(records(pages)) == 5
    assert collector.rate_limit_state["retries"] == 2
    assert collector.units_spent == 12  # refused requests return nothing and cost nothing


def test_an_empty_result_costs_nothing(api):
    api.add(ALL, reply("v2_empty.json"))
    collector, pages = collect(request())
    assert records(pages) == {} and collector.units_spent == 0


def test_refused_token_and_depleted_credits(api):
    api.add(ALL, reply("v2_unauthorized.json", 401))
    with pytest.raises(ArenaAuthError, match="HTTP 401 .*Unauthorized") as err:
        collect(request())
    assert TOKEN not in str(err.value)
    api.routes.clear()
    api.add(ALL, reply("v2_credits_depleted.json", 402))
    with pytest.raises(ArenaQuotaExceeded, match="CreditsDepleted"):
        collect(request())
    # A medium key cannot serve the premium tier: named, not sent.
    collector = XTwitterCollector(credentials={"api_key": "tio-key"})
    with pytest.raises(ArenaAuthError, match="'bearer_token' is missing"):
        list(collector.collect(request()))


def test_an_invalid_query_is_skipped_and_the_accounts_go_on(api):
    api.add(ALL, reply("v2_search_page2.json"), query=ACCOUNTS_Q)
    api.add(ALL, reply("v2_invalid_query.json", 400))
    _, pages = collect(request(accounts=["politiker"]))
    [error] = [e for p in pages for e in p.errors]
    assert error.startswith("x_twitter query 'grønland lang:da'") and "HTTP 400" in error
    assert "Invalid Request" in error
    # The account query has no language filter: the English post is kept.
    assert set(records(pages)) == {"1990000000000000007", "1990000000000000008"}


def premium_design(db, api):
    """(credential id, user, arenas config, design): a premium x_twitter design on one
    pooled X app, its term and account searches served by the replay server."""
    paged(api)
    credential = add_credential(db, "x_twitter", "x app", {"bearer_token": TOKEN}, tier="premium")
    user = make_user(db, credits=5_000)
    config = {"arenas": {"x_twitter": {"tier": "premium", "custom_accounts": ["politiker"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    return credential, user, config, design


def test_a_design_collects_premium_rows_and_the_ledger_charges_post_and_user_reads(db, api, keys):
    credential, user, _, design = premium_design(db, api)

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 5
    # estimate: (1 group + 1 account) x 7 days x 250 posts x (1 post + 2 user) + 2 queries
    assert arena.credits_estimated == -(-10_502 // 3) == 3_501
    assert arena.units_spent == 12 and arena.credits_spent == 4 == credits_for(
        "x_twitter", "premium", 12
    )
    assert sorted(ledger(db, report.run_id)) == [("refund", 3_501), ("reservation", 3_501),
                                                 ("settlement", 4)]  # fmt: skip
    assert CreditLedger(db).get_balance(user).available == 4_996
    stored = rows(db, "SELECT platform_id, content_type, collection_tier FROM content_records")
    assert {r["content_type"] for r in stored} == {"tweet", "reply", "retweet", "quote_tweet"}
    assert {r["collection_tier"] for r in stored} == {"premium"}
    [task] = rows(db, "SELECT status, credential_id FROM collection_tasks")
    assert task["status"] == "completed" and str(task["credential_id"]) == credential
    assert len(api.requests(ALL)) == 3  # two term pages, one (empty) account page


def test_health_check_reads_the_usage_endpoint(api):
    usage = b'{"data": {"project_usage": "1200", "project_cap": "2000000", "cap_reset_day": 5}}'
    api.add("/2/usage/tweets", Reply(200, usage, {"Content-Type": "application/json"}))
    status = XTwitterCollector(credentials={"bearer_token": TOKEN}).health_check()
    assert status.ok and status.detail == "bearer token accepted; post reads 1200 of 2000000"
    api.routes.clear()
    api.add("/2/usage/tweets", reply("v2_unauthorized.json", 401))
    status = XTwitterCollector(credentials={"bearer_token": TOKEN}).health_check()
    assert not status.ok and TOKEN not in status.detail
    assert api.requests(ALL) == []


def test_the_free_tier_is_refused_before_any_request(api):
    free = CollectionRequest(date_from=FROM, date_to=TO, terms=[SearchTerm("grønland")])
    collector = XTwitterCollector(credentials={"bearer_token": TOKEN})
    assert collector.estimate_credits(free) == 0
    with pytest.raises(ArenaError, match="x_twitter has no free tier"):
        list(collector.collect(free))
    assert api.seen == []


def test_reads_billed_today_on_the_credential_are_not_charged_again_by_a_later_run(db, api, keys):
    credential, user, config, design = premium_design(db, api)
    first = start_run(db, design, FROM, TO)
    assert first.arenas[0].units_spent == 12  # 6 posts + 3 users x 2
    billed = rows(db, "SELECT kind, count(*) AS n FROM billed_reads GROUP BY kind ORDER BY kind")
    assert [(r["kind"], r["n"]) for r in billed] == [("post", 6), ("user", 3)]

    # Another design, same credential (the same X app), same UTC day: X bills nothing again.
    other = make_design(db, user, config, terms=[("grønland", "keyword")], name="anden")
    second = start_run(db, other, FROM, TO)
    [arena] = second.arenas
    assert arena.status == "completed" and arena.records_collected == 0
    assert (arena.units_spent, arena.credits_spent) == (0, 0)
    assert ("settlement", 4) not in ledger(db, second.run_id)
    assert CreditLedger(db).get_balance(user).available == 4_996
    assert len(api.requests(ALL)) == 6  # read again: only the billing is not repeated

    # The next UTC day (the stored day moved back one): X bills every read again.
    with db.begin() as conn:
        conn.execute(text("UPDATE billed_reads SET billed_day = billed_day - 1"))
    third = start_run(db, design, FROM, TO)
    assert (third.arenas[0].units_spent, third.arenas[0].credits_spent) == (12, 4)
    assert sorted(ledger(db, third.run_id))[-1] == ("settlement", 4)
    assert CreditLedger(db).get_balance(user).available == 4_992
    # Yesterday's ids are pruned when today's are loaded; today's are the third run's.
    days = rows(db, "SELECT DISTINCT billed_day, credential_id FROM billed_reads")
    assert [(r["billed_day"], str(r["credential_id"])) for r in days] == [
        (datetime.now(UTC).date(), credential)
    ]
