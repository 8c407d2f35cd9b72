"""Telegram's public channel preview (t.me/s/<channel>) through the real collector, served by
the local replay server from recorded-shape HTML pages; a whole collection run (start_run,
the collect_query_design asset's entry point) against the real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.arenas.telegram import TelegramCollector
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply
from tests.collection.conftest import make_design, make_user, rows

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
KANAL = "/s/eksempel_kanal"


def page(name: str, status: int = 200, **headers: str) -> Reply:
    return file_reply(f"telegram/{name}", status, "text/html; charset=utf-8", **headers)


@pytest.fixture
def tme(replay, monkeypatch):
    monkeypatch.setenv("TELEGRAM_API_URL", replay.url)
    return replay


def channel_pages(tme) -> None:
    tme.add(KANAL, page("eksempel_kanal_page2.html"), before="18233")
    tme.add(KANAL, page("eksempel_kanal_page1.html"))


def unknown_channel(tme, name: str = "ukendt_kanal") -> None:
    # What t.me does for a name without a public preview: away from /s/ to the contact page.
    tme.add(f"/s/{name}", Reply(302, b"", {"Location": f"/{name}"}))
    tme.add(f"/{name}", page("ukendt_kanal_contact.html"))


def request(channels, terms=("grønland",), **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=FROM,
        date_to=TO,
        terms=[SearchTerm(t) for t in terms],
        options={"custom_channels": list(channels), **options},
    )


def collect(req: CollectionRequest):
    collector = TelegramCollector()
    pages = list(collector.collect(req))
    return collector, pages


def records(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def test_channel_pages_are_read_back_to_the_window_start_and_mapped(tme):
    channel_pages(tme)
    collector, pages = collect(request(["eksempel_kanal"]))
    found = records(pages)
    assert sorted(found) == [
        "eksempel_kanal/18231", "eksempel_kanal/18232",
        "eksempel_kanal/18236", "eksempel_kanal/18237", "eksempel_kanal/18238",
    ]  # fmt: skip
    assert sum(p.rejected for p in pages) == 1  # the message without data-post
    assert any("without a post id" in r for p in pages for r in p.rejection_reasons)
    report = found["eksempel_kanal/18238"]
    assert report.url == "https://t.me/eksempel_kanal/18238"
    assert report.published_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert report.text_content.startswith("Ny rapport om Grønland og klimaet 🧊 — isen smelter")
    assert "\n\n#dkpol #grønland via @anden_kanal\n" in report.text_content
    assert (report.views_count, report.likes_count) == (15_300, 1_410)
    assert report.shares_count is None and report.comments_count is None
    assert report.language is None and report.content_type == "post"
    assert (report.author_platform_id, report.author_display_name) == (
        "eksempel_kanal", "Eksempel Kanal 🇩🇰",
    )  # fmt: skip
    meta = report.raw_metadata
    assert meta["edited"] is True and meta["views_exact"] is False
    assert meta["links"] == ["https://www.dr.dk/nyheder/indland/groenland-rapport"]
    assert (meta["hashtags"], meta["mentions"]) == (["dkpol", "grønland"], ["anden_kanal"])
    assert meta["reactions"] == [{"emoji": "👍", "count": 210}, {"emoji": "❤", "count": 1200}]
    assert meta["link_preview"]["title"] == "Ny rapport: Grønlands is smelter"
    assert meta["channel_subscribers"] == 12_400 and meta["has_media"] is True
    forwarded = found["eksempel_kanal/18237"].raw_metadata
    assert forwarded["is_forwarded"] is True and forwarded["fwd_from_channel"] == "anden_kanal"
    assert forwarded["fwd_from_url"] == "https://t.me/anden_kanal/991"
    assert (
        forwarded["media_types"] == ["photo"] and found["eksempel_kanal/18237"].views_count == 812
    )
    reply = found["eksempel_kanal/18236"]
    assert reply.raw_metadata["reply_to_msg_id"] == 18230
    assert reply.text_content == (
        "Opfølgning: grønlandsk selvstyre og økonomi.\nLæs mere på altinget.dk"
    )  # the quoted reply is not the message's text
    # Forwarded from a hidden sender: a person's name, never kept.
    assert reply.raw_metadata["is_forwarded"] is True
    assert reply.raw_metadata["fwd_from_title"] is None
    assert "Jens Hansen" not in str(reply.raw_metadata)
    # 18233 matches but the preview shows it without a date: a skipped source, not a record.
    [undated] = [s for p in pages for s in p.skipped]
    assert (undated.source, undated.reason) == ("telegram message eksempel_kanal/18233", "undated")
    assert undated.url == "/eksempel_kanal/18233"
    # Outside the window (18240, 18230), not matching (18234), no text (18235), service (18239).
    assert [s.query.get("before") for s in tme.requests(KANAL)] == [None, "18233"]
    assert collector.units_spent == 2 and collector.rate_limit_state["requests"] == 2


def test_an_actors_channel_is_taken_whole(tme):
    channel_pages(tme)
    req = request([], terms=("grønland",))
    req.actors = [ActorRef(platform_user_id=None, platform_username="@Eksempel_Kanal")]
    _, pages = collect(req)
    found = records(pages)
    # Every text message in the window, matching or not (18234 is about the weather).
    assert sorted(found) == [
        "eksempel_kanal/18231", "eksempel_kanal/18232", "eksempel_kanal/18234",
        "eksempel_kanal/18236", "eksempel_kanal/18237", "eksempel_kanal/18238",
    ]  # fmt: skip
    assert len(tme.requests(KANAL)) == 2


def test_an_unknown_channel_is_skipped_by_name_and_the_rest_goes_on(tme):
    unknown_channel(tme)
    tme.add("/s/tom_kanal", page("tom_kanal.html"))
    channel_pages(tme)
    _, pages = collect(request(["ukendt_kanal", "@tom_kanal", "eksempel_kanal"]))
    assert len(records(pages)) == 5  # 18233, shown undated, is a skipped source
    [skip] = [s for p in pages for s in p.skipped if s.reason != "undated"]
    assert skip.source == "telegram channel ukendt_kanal" and skip.reason == "http_error"
    assert "no public preview" in skip.detail and "/ukendt_kanal" in skip.detail
    assert len(tme.requests("/s/tom_kanal")) == 1  # an empty channel: one page, no more


def test_rate_limit_and_server_errors_are_retried_then_succeed(tme):
    tme.add(KANAL, page("eksempel_kanal_page2.html"), before="18233")
    tme.add(
        KANAL,
        Reply(429, b"Too Many Requests", {"Retry-After": "0", "Content-Type": "text/html"}),
        page("error_502.html", 502),
        page("eksempel_kanal_page1.html"),
    )
    collector, pages = collect(request(["eksempel_kanal"]))
    assert len(records(pages)) == 5  # 18233, shown undated, is a skipped source
    assert collector.rate_limit_state["retries"] == 2
    assert len(tme.requests(KANAL)) == 4


def test_a_persistent_429_stops_the_run_cleanly_with_what_it_has(tme):
    tme.add(KANAL, Reply(429, b"", {"Retry-After": "0"}), before="18233")
    tme.add(KANAL, page("eksempel_kanal_page1.html"))
    unknown_channel(tme, "anden_kanal")
    collector, pages = collect(request(["eksempel_kanal", "anden_kanal"]))
    assert len(records(pages)) == 3  # page 1's matches stand (18233 undated: skipped)
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "rate_limited"
    assert stopped["channels_not_finished"] == ["eksempel_kanal", "anden_kanal"]
    reasons = [s.reason for p in pages for s in p.skipped]
    assert reasons == ["undated", "rate_limited", "rate_limited"]
    assert tme.requests("/s/anden_kanal") == []


def test_the_request_budget_stops_the_run_and_says_so(tme):
    channel_pages(tme)
    collector, pages = collect(request(["eksempel_kanal"], max_requests=1))
    assert len(records(pages)) == 3  # page 1's matches but the undated 18233
    assert collector.rate_limit_state["stopped"]["reason"] == "max_requests"
    assert [s.reason for p in pages for s in p.skipped] == ["undated", "stopped"]
    assert len(tme.seen) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (page("malformed.html"), "is not a channel preview"),
        (page("error_502.html", 403), "HTTP 403 from 127.0.0.1"),
        (
            Reply(200, b'{"ok": true}', {"Content-Type": "application/json"}),
            "is application/json, not the HTML page expected",
        ),
    ],
)
def test_a_page_that_is_not_a_preview_fails_that_channel_naming_url_and_status(
    tme, reply, expected
):
    tme.add("/s/kaputt_kanal", reply)
    channel_pages(tme)
    _, pages = collect(request(["kaputt_kanal", "eksempel_kanal"]))
    assert len(records(pages)) == 5  # 18233, shown undated, is a skipped source
    [skip] = [s for p in pages for s in p.skipped if s.reason != "undated"]
    assert skip.source == "telegram channel kaputt_kanal"
    assert expected in skip.detail and "/s/kaputt_kanal" in skip.detail


def test_a_page_over_the_size_cap_is_refused(tme, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = b"<html><body>" + b"<p>x</p>" * 200_000 + b"</body></html>"
    tme.add("/s/stor_kanal", Reply(200, huge, {"Content-Type": "text/html"}))
    channel_pages(tme)
    _, pages = collect(request(["stor_kanal", "eksempel_kanal"]))
    assert len(records(pages)) == 5  # 18233, shown undated, is a skipped source
    [skip] = [s for p in pages for s in p.skipped if s.reason != "undated"]
    assert skip.reason == "too_large" and "larger than 1 MB refused" in skip.detail


def test_every_channel_failing_fails_the_task(tme):
    unknown_channel(tme)
    with pytest.raises(ArenaError, match="every source failed"):
        collect(request(["ukendt_kanal"]))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://t.me/eksempel_kanal", "a URL or host name"),
        ("t.me/eksempel_kanal", "a URL or host name"),
        ("127.0.0.1", "a URL or host name"),
        ("kort", "not a Telegram username"),
        ("1kanal_med_tal", "not a Telegram username"),
        (42, "not a Telegram username"),
    ],
)
def test_a_design_naming_a_url_or_a_bad_username_is_refused(value, message):
    with pytest.raises(ArenaOptionError, match=message):
        build_collector("telegram", options={"custom_channels": [value]})


def test_registered_free_and_declared():
    cls = get_collector_class("telegram")
    assert cls is TelegramCollector and cls.host_setting == "TELEGRAM_API_URL"
    assert {o.name for o in cls.option_specs} == {
        "custom_channels", "path", "max_pages", "max_requests",
    }  # fmt: skip
    assert cls.credentials_optional and not cls.needs_credentials
    assert credits_for("telegram", "free", 100) == 0
    req = request(["eksempel_kanal", "tom_kanal"])
    assert TelegramCollector().estimate_units(req) == 20


def test_health_check_reads_telegrams_own_channel(tme):
    tme.add("/s/telegram", page("eksempel_kanal_page1.html"))
    status = TelegramCollector().health_check()
    assert status.ok and "9 messages" in status.detail
    assert len(tme.requests("/s/telegram")) == 1


def test_health_check_fails_when_the_preview_is_gone(tme):
    unknown_channel(tme, "telegram")
    status = TelegramCollector().health_check()
    assert not status.ok and "no public preview" in status.detail


# -- a whole collection run --------------------------------------------------------------


def test_a_design_collects_telegram_rows_once(db, tme, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "telegram-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    channel_pages(tme)
    unknown_channel(tme)
    user = make_user(db)
    config = {"arenas": {"telegram": {"custom_channels": ["eksempel_kanal", "ukendt_kanal"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)

    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("telegram", "completed")
    assert arena.records_collected == 5 and arena.records_rejected == 1
    assert arena.credits_spent == 0 and arena.units_spent == 3
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, platform, arena, content_type, url, text_content, language,"
            " published_at, views_count, likes_count, shares_count, author_platform_id,"
            " author_display_name, pseudonymized_author_id, search_terms_matched, raw_metadata"
            " FROM content_records",
        )
    }
    assert len(stored) == 5 and {r["platform"] for r in stored.values()} == {"telegram"}
    report = stored["eksempel_kanal/18238"]
    assert report["arena"] == "social_media" and report["url"].endswith("/eksempel_kanal/18238")
    assert (report["views_count"], report["likes_count"], report["shares_count"]) == (
        15_300, 1_410, None,
    )  # fmt: skip
    assert report["published_at"] == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert report["search_terms_matched"] == ["grønland"]
    assert report["language"] == "da"  # detected at ingest; the preview declares none
    assert report["author_display_name"] == "Eksempel Kanal 🇩🇰"
    assert report["pseudonymized_author_id"] not in (None, "eksempel_kanal")
    assert "🧊" in report["text_content"]
    assert "eksempel_kanal/18233" not in stored  # shown undated: never dated by collection
    [task] = rows(db, "SELECT status, skipped_sources, rate_limit_state FROM collection_tasks")
    assert task["status"] == "completed" and task["rate_limit_state"]["requests"] == 3
    assert sorted((s["source"], s["reason"]) for s in task["skipped_sources"]) == [
        ("telegram channel ukendt_kanal", "http_error"),
        ("telegram message eksempel_kanal/18233", "undated"),
    ]
    sent = len(tme.seen)
    assert sent == 4  # two preview pages, the unknown channel's /s/ and its redirect target

    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert arena.status == "completed"
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 5)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 5
    assert len(tme.seen) == 2 * sent


def test_a_spent_request_budget_completes_the_task_and_says_so(db, tme, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "telegram-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    channel_pages(tme)
    user = make_user(db)
    config = {"arenas": {"telegram": {"custom_channels": ["eksempel_kanal"], "max_requests": 1}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 3
    [task] = rows(db, "SELECT status, skipped_sources, rate_limit_state FROM collection_tasks")
    assert task["status"] == "completed"
    assert task["rate_limit_state"]["stopped"]["reason"] == "max_requests"
    assert [(s["source"], s["reason"]) for s in task["skipped_sources"]] == [
        ("telegram message eksempel_kanal/18233", "undated"),
        ("telegram channel eksempel_kanal", "stopped"),
    ]
    assert len(tme.seen) == 1
