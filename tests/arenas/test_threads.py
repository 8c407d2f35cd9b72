"""Threads: keyword search and account posts against the replay server as THREADS_API_URL;
whole collection runs (start_run, the collect_query_design asset's entry point) against the
real Postgres with tokens from the encrypted pool."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.security.pseudonymize import pseudonymize
from tests.arenas.conftest import Reply, file_reply
from tests.collection.conftest import make_design, make_user, rows

SEARCH = "/v1.0/keyword_search"
PSEUDO_KEY = "threads-test-key"
FROM, TO = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
TOKEN = "THAAtest-long-lived-token-0123"


def _reply(name: str, status: int = 200, **headers: str) -> Reply:
    ctype = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"threads/{name}", status, content_type=ctype, **headers)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", PSEUDO_KEY)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("THREADS_API_URL", f"{replay.url}/v1.0")
    return replay


def _search_pages(api) -> None:
    api.routes.clear()
    api.add(SEARCH, _reply("search_page2.json"), after="QVFIUlBBR0UyX2FmdGVy")
    usage = '{"call_count":12,"total_cputime":3,"total_time":4}'
    api.add(SEARCH, _reply("search_page1.json", **{"X-App-Usage": usage}))


def _request(**kw) -> CollectionRequest:
    kw.setdefault("terms", [SearchTerm("Grønland")])
    return CollectionRequest(date_from=FROM, date_to=TO, **kw)


def _collector():
    return build_collector("threads", credentials={"access_token": TOKEN})


def test_keyword_search_pages_to_the_end_and_maps_posts(api):
    _search_pages(api)
    collector = _collector()
    pages = list(collector.collect(_request()))
    assert [len(p.records) for p in pages] == [2, 1]
    assert pages[0].rejected == 1 and "without an id" in pages[0].rejection_reasons[0]
    first, reply = pages[0].records
    assert first.platform_id == "18029384756102938" and first.content_type == "post"
    assert first.text_content == "Ny måling om Grønland: æøå ÆØÅ 🇩🇰🧊"
    assert first.published_at == datetime(2026, 11, 15, 10, tzinfo=UTC)
    assert first.url == "https://www.threads.net/@politiker/post/DFx1"
    assert (first.author_platform_id, first.language) == ("politiker", None)
    assert first.raw_metadata["media_type"] == "TEXT_POST"
    assert first.raw_metadata["is_quote_post"] is False
    assert reply.content_type == "reply" and reply.raw_metadata["is_quote_post"] is True
    assert reply.raw_metadata["reply_to_id"] == "18029384756102938"
    undated = pages[1].records[0]
    assert undated.published_at is None  # ingest dates it at collection
    sent = api.requests(SEARCH)
    assert [s.query.get("after") for s in sent] == [None, "QVFIUlBBR0UyX2FmdGVy"]
    query = sent[0].query
    assert (query["q"], query["search_type"], query["search_mode"]) == (
        "Grønland", "RECENT", "KEYWORD",
    )  # fmt: skip
    assert (query["since"], query["until"]) == (
        str(int(FROM.timestamp())),
        str(int(TO.timestamp())),
    )
    assert "is_quote_post" in query["fields"] and query["limit"] == "100"
    assert sent[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in query  # the token never travels in a URL
    assert collector.units_spent == 2 and collector.estimate_credits(_request()) == 0
    assert (
        collector.rate_limit_state["app_usage"]
        == '{"call_count":12,"total_cputime":3,"total_time":4}'
    )


def test_empty_page_429_and_5xx_are_survived(api):
    api.add(
        SEARCH,
        _reply("too_many.json", 429, **{"Retry-After": "0"}),
        _reply("html_error.html", 502),
        _reply("empty.json"),
    )
    collector = _collector()
    pages = list(collector.collect(_request()))
    assert [len(p.records) for p in pages] == [0] and not pages[0].errors
    assert len(api.requests(SEARCH)) == 3 and collector.rate_limit_state["retries"] == 2


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (("malformed.json", 200), "is not valid JSON"),
        (("html_error.html", 404), "HTTP 404 from 127.0.0.1"),
    ],
)
def test_a_broken_reply_skips_the_query_with_a_clear_error(api, reply, expected):
    api.add(SEARCH, _reply(*reply))
    api.add("/v1.0/42/threads", _reply("account_posts.json"))
    pages = list(_collector().collect(_request(options={"custom_accounts": ["42"]})))
    [failed] = [p for p in pages if p.errors]
    assert expected in failed.errors[0] and failed.errors[0].startswith("threads 'Grønland'")
    if reply[1] == 404:
        assert "/v1.0/keyword_search" in failed.errors[0] and "HTML page" in failed.errors[0]
    assert sum(len(p.records) for p in pages) == 1  # the account still delivered


def test_an_unknown_account_is_skipped_by_name_and_the_rest_goes_on(api):
    api.add("/v1.0/99999/threads", _reply("unknown_account.json", 400))
    api.add("/v1.0/42/threads", _reply("account_posts.json"))
    pages = list(
        _collector().collect(_request(terms=[], options={"custom_accounts": ["99999", "42"]}))
    )
    [skipped] = [p for p in pages if p.errors]
    assert skipped.skipped[0].source == "threads account 99999"
    assert "code 100" in skipped.errors[0]
    [post] = [r for p in pages for r in p.records]
    assert post.text_content == "Folketinget i dag: finansloven er vedtaget ✅"


def test_an_oversized_reply_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = json.dumps({"data": [], "pad": "x" * (1024 * 1024 + 10)}).encode()
    api.add(SEARCH, Reply(200, huge, {"Content-Type": "application/json"}))
    api.add("/v1.0/42/threads", _reply("account_posts.json"))
    pages = list(_collector().collect(_request(options={"custom_accounts": ["42"]})))
    [failed] = [p for p in pages if p.errors]
    assert "larger than 1 MB refused" in failed.errors[0]


def test_bad_options_and_an_expired_token_are_named(api):
    with pytest.raises(ArenaOptionError, match="search_type must be one of RECENT, TOP"):
        build_collector("threads", options={"search_type": "NEWEST"})
    with pytest.raises(ArenaOptionError, match="cannot choose the host"):
        build_collector("threads", options={"api_url": "http://evil"})
    api.add("/v1.0/me", _reply("invalid_token.json", 400))
    assert not _collector().health_check().ok
    api.add(SEARCH, _reply("invalid_token.json", 400))
    with pytest.raises(ArenaAuthError, match="code 190"):
        list(_collector().collect(_request()))


# -- whole runs ----------------------------------------------------------------------------


def test_a_run_stores_pseudonymized_posts_for_0_credits_and_a_rerun_inserts_nothing(db, api):
    _search_pages(api)
    user = make_user(db, credits=5)
    design = make_design(db, user, {"arenas": {"threads": {}}}, terms=[("Grønland", "keyword")])
    add_credential(db, "threads", "token", {"access_token": TOKEN}, tier="free")

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status, arena.records_collected) == ("threads", "completed", 3)
    assert (arena.units_spent, arena.credits_spent) == (2, 0)
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, arena, content_type, url, text_content, published_at,"
            " author_platform_id, pseudonymized_author_id, search_terms_matched, raw_metadata"
            " FROM content_records",
        )
    }
    post = stored["18029384756102938"]
    assert (post["arena"], post["content_type"]) == ("social_media", "post")
    assert post["text_content"] == "Ny måling om Grønland: æøå ÆØÅ 🇩🇰🧊"
    assert post["search_terms_matched"] == ["Grønland"]
    assert post["pseudonymized_author_id"] == pseudonymize(
        "threads", "politiker", PSEUDO_KEY.encode()
    )
    assert stored["18029384756102941"]["raw_metadata"]["published_at_source"] == "collected_at"
    assert CreditLedger(db).get_balance(user).available == 5

    _search_pages(api)
    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.status, arena.records_collected) == ("completed", 0)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 3


def test_a_usage_limit_rotates_and_a_refused_token_is_flagged_while_others_go_on(db, api):
    api.add("/v1.0/42/threads", _reply("usage_limit.json", 400), _reply("account_posts.json"))
    api.add(SEARCH, _reply("search_page2.json"))
    user = make_user(db)
    limited = add_credential(db, "threads", "limited", {"access_token": "limited"}, tier="free")
    good = add_credential(db, "threads", "good", {"access_token": "good"}, tier="free")
    with db.begin() as conn:
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = NULL WHERE id = :i"), {"i": limited}
        )
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = now() WHERE id = :i"), {"i": good}
        )
    config = {"arenas": {"threads": {"custom_accounts": ["42"]}}}
    design = make_design(db, user, config, terms=[("Grønland", "keyword")])

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    sent = [(s.path, s.headers["Authorization"]) for s in api.seen]
    # the search, finished before the limit hit, is not asked again with the next token
    assert sent == [
        (SEARCH, "Bearer limited"),
        ("/v1.0/42/threads", "Bearer limited"),
        ("/v1.0/42/threads", "Bearer good"),
    ]
    creds = {str(r["id"]): r for r in rows(db, "SELECT * FROM api_credentials")}
    assert creds[limited]["quota_reset_at"] is not None and creds[limited]["error_count"] == 0

    # An expired token: flagged, the task fails with the reason, the rss arena goes on.
    api.routes.clear()
    api.add(SEARCH, _reply("invalid_token.json", 400))
    with db.begin() as conn:
        conn.execute(text("DELETE FROM api_credentials"))
    bad = add_credential(db, "threads", "bad", {"access_token": "bad"}, tier="free")
    api.add("/feed.xml", file_reply("rss_dr_indland.xml"))
    config = {
        "arenas": {
            "threads": {},
            "rss_feeds": {"custom_feeds": [f"{api.url}/feed.xml"], "default_feeds": False},
        }
    }
    design = make_design(db, user, config, terms=[("Grønland", "keyword")], name="two")
    report = start_run(db, design, FROM, TO)
    by = {a.platform: a for a in report.arenas}
    assert by["threads"].status == "failed" and "code 190" in by["threads"].error
    assert "bad" not in by["threads"].error
    assert by["rss_feeds"].status == "completed"
    [cred] = rows(db, "SELECT error_count FROM api_credentials WHERE id = :i", i=bad)
    assert cred["error_count"] == 1
