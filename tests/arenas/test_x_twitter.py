"""x_twitter, medium tier (TwitterAPI.io): the collector against recorded-shape replies on the
local replay server, then whole collection runs (start_run) with the credit ledger asserted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaAuthError,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.arenas.x_twitter import XTwitterCollector, build_queries
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import Reply, file_reply
from tests.collection.conftest import make_design, make_user, rows

FROM = datetime(2026, 11, 20, tzinfo=UTC)
TO = datetime(2026, 11, 27, tzinfo=UTC)
KEY = "tio-key-0123456789abcdef"
SEARCH = "/twitter/tweet/advanced_search"
WINDOW = "since:2026-11-20_00:00:00_UTC until:2026-11-27_00:00:00_UTC"
TERMS_Q = f"grønland lang:da {WINDOW}"
ACCOUNTS_Q = f"from:politiker {WINDOW}"


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    kind = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"x_twitter/{name}", status, kind, **headers)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("X_TWITTER_API_URL", replay.url)
    monkeypatch.setenv("X_TWITTER_V2_API_URL", replay.url)
    return replay


def paged(api, *first: Reply) -> None:
    """Three pages of the term query; the third repeats the second under a fresh cursor."""
    api.add(SEARCH, reply("tio_accounts.json"), query=ACCOUNTS_Q)
    api.add(SEARCH, reply("tio_search_page3_same_tweets.json"), cursor="DAACCgACGdy-page3")
    api.add(SEARCH, reply("tio_search_page2.json"), cursor="DAACCgACGdy-page2")
    api.add(SEARCH, *(first or (reply("tio_search_page1.json"),)))


def request(terms=("grønland",), accounts=(), **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=FROM,
        date_to=TO,
        terms=[SearchTerm(t) for t in terms],
        tier="medium",
        options={"custom_accounts": list(accounts), **options},
    )


def collect(req: CollectionRequest):
    collector = XTwitterCollector(credentials={"api_key": KEY})
    return collector, list(collector.collect(req))


def records(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def test_queries_carry_groups_phrases_hashtags_language_and_accounts():
    req = CollectionRequest(
        date_from=FROM,
        date_to=TO,
        terms=[
            SearchTerm("grønland", group=1),
            SearchTerm("aftale", group=1),
            SearchTerm("Mette  Frederiksen"),
            SearchTerm("dkpol", term_type="hashtag"),
        ],
        actors=[ActorRef("4242", platform_username="journalist_dk")],
        options={"custom_accounts": ["@politiker", "https://x.com/Folketinget", "ikke et navn!"]},
    )
    queries, problems = build_queries(req)
    assert [q.text for q in queries] == [
        '((grønland aftale) OR "Mette Frederiksen" OR #dkpol) lang:da',
        "(from:politiker OR from:Folketinget OR from:journalist_dk)",
    ]
    assert [q.danish for q in queries] == [True, False]
    assert problems == ["x_twitter account 'ikke et navn!': not an X handle or user id, skipped"]
    many = [SearchTerm(f"ord{i:03d}") for i in range(120)]
    packed, _ = build_queries(CollectionRequest(date_from=FROM, date_to=TO, terms=many))
    assert len(packed) > 1 and all(len(q.text) <= 512 for q in packed)
    assert sum(q.text.count("ord") for q in packed) == 120


def test_pages_to_the_end_and_maps_tweets_replies_retweets_quotes(api):
    paged(api)
    collector, pages = collect(request(accounts=["politiker"]))
    found = records(pages)
    assert sorted(found) == [
        "1990000000000000001", "1990000000000000002", "1990000000000000003",
        "1990000000000000005", "1990000000000000006", "1990000000000000010",
    ]  # fmt: skip
    tweet = found["1990000000000000001"]
    assert tweet.content_type == "tweet" and tweet.language == "da"
    assert tweet.url == "https://x.com/politiker/status/1990000000000000001"
    assert tweet.text_content == "Vi skal have styr på boligpriserne i Grønland – nu! 🇩🇰🏠 #dkpol"
    assert tweet.published_at == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert (tweet.author_platform_id, tweet.author_display_name) == ("987654321", "Søren Politiker")
    counts = (tweet.likes_count, tweet.shares_count, tweet.comments_count, tweet.views_count)
    assert counts == (42, 7, 3, 1500)
    assert tweet.raw_metadata["entities"]["hashtags"][0]["text"] == "dkpol"
    assert tweet.raw_metadata["source_app"] == "Twitter for iPhone"
    reply_ = found["1990000000000000002"]
    assert reply_.content_type == "reply" and reply_.raw_metadata["in_reply_to_id"] == (
        "1990000000000000001"
    )
    # A real 0 stays 0 (the original's `a or b` made it null).
    assert (reply_.likes_count, reply_.shares_count, reply_.views_count) == (0, 0, 0)
    retweet = found["1990000000000000003"]
    assert retweet.content_type == "retweet" and retweet.raw_metadata["is_retweet"] is True
    assert retweet.text_content.startswith("RT @politiker: ") and retweet.text_content.endswith(
        "nu! 🇩🇰🏠 #dkpol"
    )  # the whole original, not the truncated "… n…"
    quote = found["1990000000000000005"]
    assert quote.content_type == "quote_tweet"
    assert quote.raw_metadata["quoted_tweet_id"] == "1990000000000000002"
    assert quote.media_urls == ["https://pbs.twimg.com/media/aftale.jpg"]
    assert found["1990000000000000006"].published_at is None  # no date: passes, ingest dates it
    # The account query has no language filter: the actor's English tweet is kept.
    assert found["1990000000000000010"].language == "en"
    # The English tweet of the lang:da query is filtered; the one without id rejected.
    assert "1990000000000000004" not in found
    assert sum(p.rejected for p in pages) == 1
    sent = api.requests(SEARCH)
    assert [s.query.get("cursor", "") for s in sent] == [
        "", "DAACCgACGdy-page2", "DAACCgACGdy-page3", "",
    ]  # fmt: skip  # page 3 added no new id: paging stopped despite its fresh cursor
    assert [s.query["query"] for s in sent] == [TERMS_Q] * 3 + [ACCOUNTS_Q]
    assert all(s.query["queryType"] == "Latest" for s in sent)
    assert all(s.headers["X-API-Key"] == KEY for s in sent)
    # Billed per returned tweet (5 + 2 + 2 + 2), at least one per request.
    assert collector.units_spent == 11 == collector.rate_limit_state["units_counted"]


def test_an_empty_page_ends_the_query_and_costs_the_minimum(api):
    api.add(SEARCH, reply("tio_empty.json"))
    collector, pages = collect(request())
    assert records(pages) == {} and len(api.requests(SEARCH)) == 1
    assert collector.units_spent == 1


def test_429_then_success_and_5xx_then_success(api):
    paged(
        api,
        reply("tio_rate_limited.json", 429, **{"Retry-After": "0"}),
        Reply(503, b"upstream busy"),
        reply("tio_search_page1.json"),
    )
    collector, pages = collect(request())
    assert len(records(pages)) == 5
    assert [s.query.get("cursor", "") for s in api.requests(SEARCH)][:3] == ["", "", ""]
    assert collector.rate_limit_state["retries"] == 2
    assert collector.units_spent == 9  # failed requests are not billed


def test_a_persistent_429_stops_with_what_it_has(api):
    api.add(SEARCH, reply("tio_rate_limited.json", 429), cursor="DAACCgACGdy-page2")
    api.add(SEARCH, reply("tio_search_page1.json"))
    collector, pages = collect(request(accounts=["politiker"]))
    assert len(records(pages)) == 3
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "rate_limited"
    assert stopped["queries_not_finished"] == ["grønland lang:da", "from:politiker"]
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.reason == "rate_limited"
    assert len(api.requests(SEARCH)) == 1 + 4  # the account query was never sent


def test_a_refused_key_is_an_auth_error_without_the_key(api):
    api.add(SEARCH, reply("tio_unauthorized.json", 401))
    with pytest.raises(ArenaAuthError, match="HTTP 401 .* valid API key") as err:
        collect(request())
    assert KEY not in str(err.value)


def test_spent_credits_are_a_quota_error_the_pool_rotates_on(api):
    api.add(SEARCH, reply("tio_credits_spent.json", 402))
    with pytest.raises(ArenaQuotaExceeded, match="HTTP 402 .*Credits is not enough"):
        collect(request())


@pytest.mark.parametrize(
    ("bad", "expected", "reason"),
    [
        (reply("malformed.json"), "HTTP 200 from 127.0.0.1:{port}/twitter/tweet/advanced_search "
         "is not valid JSON (application/json)", "unparseable"),
        (reply("error_page.html"), "HTTP 200 from 127.0.0.1:{port}/twitter/tweet/advanced_search "
         "is not valid JSON (text/html)", "unparseable"),
        (reply("error_page.html", 502), "127.0.0.1:{port}/twitter/tweet/advanced_search: HTTP 502 "
         "after 4 attempts", "http_error"),
        (reply("error_page.html", 404), "HTTP 404 from 127.0.0.1:{port}/twitter/tweet/advanced_search",
         "http_error"),
    ],
)  # fmt: skip
def test_a_broken_reply_skips_that_query_naming_url_and_status(api, bad, expected, reason):
    api.add(SEARCH, reply("tio_accounts.json"), query=ACCOUNTS_Q)
    api.add(SEARCH, bad)
    _, pages = collect(request(accounts=["politiker"]))
    port = api.url.rsplit(":", 1)[1]
    [error] = [e for p in pages for e in p.errors]
    assert error.startswith("x_twitter query 'grønland lang:da'")
    assert expected.format(port=port) in error
    assert [s.reason for p in pages for s in p.skipped] == [reason]
    assert set(records(pages)) == {"1990000000000000010", "1990000000000000001"}


def test_a_reply_over_the_size_cap_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = b'{"tweets": [' + b'{"id": "1", "text": "x"},' * 50_000 + b'{"id": "2"}]}'
    api.add(SEARCH, reply("tio_accounts.json"), query=ACCOUNTS_Q)
    api.add(SEARCH, Reply(200, huge, {"Content-Type": "application/json"}))
    _, pages = collect(request(accounts=["politiker"]))
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.reason == "too_large" and "larger than 1 MB refused" in skip.detail
    assert len(records(pages)) == 2


def test_an_invalid_account_is_skipped_by_name_and_the_rest_goes_on(api):
    paged(api)
    _, pages = collect(request(accounts=["politiker", "ikke/et/navn"]))
    errors = [e for p in pages for e in p.errors]
    assert errors == ["x_twitter account 'ikke/et/navn': not an X handle or user id, skipped"]
    assert len(records(pages)) == 6


def test_the_run_stops_at_its_estimate(api):
    paged(api)
    capped = CollectionRequest(
        date_from=FROM, date_to=TO, terms=[SearchTerm("grønland")], tier="medium", max_records=4
    )
    collector, pages = collect(capped)
    # estimate: min(1 x 7 x 250, 4) tweets + 1 query = 5 units; page 1 returned 5 tweets
    # (3 kept) and cost 5: the next page is not asked for, though 1 record is still allowed.
    assert collector.estimate_units(capped) == 5
    assert len(records(pages)) == 3 and len(api.requests(SEARCH)) == 1
    assert collector.units_spent == 5
    assert collector.rate_limit_state["stopped"]["reason"] == "budget"


def test_estimate_is_sources_days_and_cap_priced_per_tier():
    collector = build_collector("x_twitter")
    medium = request(accounts=["politiker"])
    # (1 term group + 1 account) x 7 days x 250 tweets, + 1 per query.
    assert collector.estimate_units(medium) == 3_500 + 2
    assert collector.estimate_credits(medium) == 36 == credits_for("x_twitter", "medium", 3_502)
    premium = CollectionRequest(**{**medium.__dict__, "tier": "premium"})
    assert collector.estimate_units(premium) == 3_500 * 3 + 2
    assert collector.estimate_credits(premium) == -(-10_502 // 3)
    capped = CollectionRequest(**{**medium.__dict__, "max_records": 100})
    assert collector.estimate_units(capped) == 102
    assert collector.estimate_units(CollectionRequest(**{**medium.__dict__, "tier": "free"})) == 0


def test_registered_priced_and_declared():
    cls = get_collector_class("x_twitter")
    assert cls is XTwitterCollector and cls.supported_tiers == ("medium", "premium")
    assert cls.design_options == {"custom_accounts", "query_type", "archive"}
    with pytest.raises(ArenaOptionError, match="cannot choose the host"):
        cls.check_options({"base_url": "https://evil.example"})
    with pytest.raises(ArenaOptionError, match="query_type must be Latest or Top"):
        cls.check_options({"query_type": "Newest"})
    assert credits_for("x_twitter", "medium", 100) == 1
    assert credits_for("x_twitter", "premium", 3) == 1


# -- whole collection runs ---------------------------------------------------------------


def ledger(engine, run_id) -> list[tuple[str, int]]:
    return [
        (r["transaction_type"], r["credits_consumed"])
        for r in rows(
            engine,
            "SELECT transaction_type, credits_consumed FROM credit_transactions"
            " WHERE collection_run_id = CAST(:r AS uuid) AND platform = 'x_twitter'"
            " ORDER BY created_at, transaction_type",
            r=run_id,
        )
    ]


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "x-twitter-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


def design_for(db, credits: int, accounts=("politiker",), **options):
    user = make_user(db, credits=credits)
    config = {
        "arenas": {"x_twitter": {"tier": "medium", "custom_accounts": list(accounts), **options}}
    }
    return user, make_design(db, user, config, terms=[("grønland", "keyword")])


def test_a_design_collects_x_rows_once_and_the_ledger_charges_what_was_returned(db, api, keys):
    paged(api)
    credential = add_credential(db, "x_twitter", "twitterapi.io", {"api_key": KEY}, tier="medium")
    user, design = design_for(db, credits=100)

    first = start_run(db, design, FROM, TO)

    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("x_twitter", "completed")
    assert arena.records_collected == 6 and arena.records_rejected == 1
    assert arena.units_spent == 11 and arena.credits_estimated == 36
    assert arena.credits_spent == 1 == credits_for("x_twitter", "medium", 11)
    assert sorted(ledger(db, first.run_id)) == [("refund", 36), ("reservation", 36),
                                                ("settlement", 1)]  # fmt: skip
    assert CreditLedger(db).get_balance(user).available == 99
    stored = rows(
        db,
        "SELECT platform_id, content_type, url, text_content, language, author_platform_id,"
        " pseudonymized_author_id, likes_count, shares_count, comments_count, views_count,"
        " search_terms_matched, raw_metadata, published_at, collection_tier FROM content_records",
    )
    by_id = {r["platform_id"]: r for r in stored}
    assert len(stored) == 6
    top = by_id["1990000000000000001"]
    assert top["content_type"] == "tweet" and top["search_terms_matched"] == ["grønland"]
    assert "🇩🇰🏠" in top["text_content"] and top["language"] == "da"
    assert (top["likes_count"], top["shares_count"], top["comments_count"], top["views_count"]) == (
        42, 7, 3, 1500,
    )  # fmt: skip
    assert top["pseudonymized_author_id"] and top["pseudonymized_author_id"] != "987654321"
    assert top["collection_tier"] == "medium"
    assert {r["content_type"] for r in stored} == {"tweet", "reply", "retweet", "quote_tweet"}
    assert by_id["1990000000000000006"]["published_at"] is not None  # dated at collection
    [task] = rows(db, "SELECT status, credential_id, rate_limit_state FROM collection_tasks")
    assert task["status"] == "completed" and str(task["credential_id"]) == credential
    assert task["rate_limit_state"]["units_counted"] == 11
    sent = len(api.seen)
    assert sent == 4

    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert arena.status == "completed"
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 6)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 6
    assert len(api.seen) == 2 * sent
    # The provider bills the rerun again: the ledger says so.
    assert sorted(ledger(db, second.run_id)) == [("refund", 36), ("reservation", 36),
                                                 ("settlement", 1)]  # fmt: skip
    assert CreditLedger(db).get_balance(user).available == 98


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, api, keys):
    paged(api)
    add_credential(db, "x_twitter", "twitterapi.io", {"api_key": KEY}, tier="medium")
    user, design = design_for(db, credits=20)
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 36, available 20 "
        "(run estimate 36 credits: x_twitter 36; owner's balance 20 credits)"
    )
    assert api.seen == []
    assert ledger(db, report.run_id) == []
    assert CreditLedger(db).get_balance(user).available == 20


def test_a_failure_mid_way_settles_what_was_spent_and_refunds_the_rest(db, api, keys):
    api.add(SEARCH, reply("error_page.html", 502), cursor="DAACCgACGdy-page2")
    api.add(SEARCH, reply("tio_search_page1.json"))
    add_credential(db, "x_twitter", "twitterapi.io", {"api_key": KEY}, tier="medium")
    user, design = design_for(db, credits=100, accounts=())
    report = start_run(db, design, FROM, TO)
    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 3
    assert arena.units_spent == 5  # page 1 only; the 502s are not billed
    # estimate: 1 group x 7 days x 250 + 1 query = 1751 units = 18 credits
    assert sorted(ledger(db, report.run_id)) == [("refund", 18), ("reservation", 18),
                                                 ("settlement", 1)]  # fmt: skip
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    assert "HTTP 502 after 4 attempts" in task["skipped_sources"][0]["detail"]
    assert CreditLedger(db).get_balance(user).available == 99


def test_a_spent_key_rotates_to_the_next_one(db, api, keys):
    api.add(SEARCH, reply("tio_accounts.json"), query=ACCOUNTS_Q)
    api.add(SEARCH, reply("tio_credits_spent.json", 402), reply("tio_empty.json"))
    first = add_credential(db, "x_twitter", "key one", {"api_key": "key-one"}, tier="medium")
    second = add_credential(db, "x_twitter", "key two", {"api_key": "key-two"}, tier="medium")
    user, design = design_for(db, credits=100)
    report = start_run(db, design, FROM, TO)
    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    keys_sent = [s.headers["X-API-Key"] for s in api.requests(SEARCH)]
    assert keys_sent[0] != keys_sent[1] and set(keys_sent) == {"key-one", "key-two"}
    [task] = rows(db, "SELECT credential_id FROM collection_tasks")
    exhausted = {
        str(r["id"])
        for r in rows(db, "SELECT id FROM api_credentials WHERE quota_reset_at > now()")
    }
    assert exhausted == {first, second} - {str(task["credential_id"])}
    assert arena.units_spent == 1 + 2  # the empty page's minimum and the account page
    assert sorted(ledger(db, report.run_id)) == [("refund", 36), ("reservation", 36),
                                                 ("settlement", 1)]  # fmt: skip


def test_a_refused_key_flags_its_credential_and_the_other_arenas_go_on(db, api, keys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_API_URL", api.url)
    api.add(SEARCH, reply("tio_unauthorized.json", 401))
    api.add("/s/eksempel_kanal", file_reply("telegram/eksempel_kanal_page2.html", 200, "text/html"))
    credential = add_credential(db, "x_twitter", "twitterapi.io", {"api_key": KEY}, tier="medium")
    user = make_user(db, credits=100)
    config = {
        "arenas": {
            "x_twitter": {"tier": "medium"},
            "telegram": {"custom_channels": ["eksempel_kanal"]},
        }
    }
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    by_platform = {a.platform: a for a in report.arenas}
    assert by_platform["telegram"].status == "completed"
    assert by_platform["x_twitter"].status == "failed"
    [task] = rows(
        db,
        "SELECT error_message, credential_id FROM collection_tasks WHERE platform = 'x_twitter'",
    )
    assert "HTTP 401" in task["error_message"] and KEY not in task["error_message"]
    [flagged] = rows(
        db, "SELECT error_count FROM api_credentials WHERE id = CAST(:i AS uuid)", i=credential
    )
    assert flagged["error_count"] == 1
    # Failed before anything was billed: the whole reservation is refunded.
    assert sorted(ledger(db, report.run_id)) == [("refund", 18), ("reservation", 18)]
    assert CreditLedger(db).get_balance(user).available == 100


def test_health_check_reads_the_credits_left_for_free(api):
    api.add(
        "/oapi/my/info",
        Reply(200, b'{"recharge_credits": 45000}', {"Content-Type": "application/json"}),
    )
    status = XTwitterCollector(credentials={"api_key": KEY}).health_check()
    assert status.ok and status.detail == "api key accepted; 45000 provider credits left"
    assert api.requests("/oapi/my/info")[0].headers["X-API-Key"] == KEY
    api.routes.clear()
    api.add("/oapi/my/info", reply("tio_unauthorized.json", 401))
    status = XTwitterCollector(credentials={"api_key": KEY}).health_check()
    assert not status.ok and "HTTP 401" in status.detail and KEY not in status.detail
    assert api.requests(SEARCH) == []
