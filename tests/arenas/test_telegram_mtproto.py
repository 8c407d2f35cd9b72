"""Telegram's MTProto path (Telethon) against a fake data centre on 127.0.0.1 that speaks
MTProto 2.0 (tests/arenas/telegram_mtproto_server.py): the collector's real client code
connects with a pooled StringSession, resolves channels and pages their history; whole
collection runs (start_run, and the collect_query_design job's asset) against the real
Postgres, with the credential in the real pool."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.arenas.telegram import TelegramCollector
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import Reply
from tests.arenas.telegram_mtproto_server import (
    FakeDc,
    load_channel,
    make_session,
    numbered_channel,
)
from tests.arenas.test_mastodon_collection import RSS
from tests.arenas.test_telegram import channel_pages
from tests.collection.conftest import make_design, make_user, materialize_collection, rows, task_of

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
API_HASH = "0123456789abcdef0123456789abcdef"
HISTORY = "messages.GetHistory"


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "telegram-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


@pytest.fixture
def dc(monkeypatch):
    """The fake DC, and a session whose own address (192.0.2.1) nothing answers on: the
    collector reaches the DC only through the operator's TELEGRAM_MTPROTO_SERVER."""
    auth_key = os.urandom(256)
    server = FakeDc(auth_key)
    server.session = make_session(auth_key)
    monkeypatch.setenv("TELEGRAM_MTPROTO_SERVER", f"127.0.0.1:{server.port}")
    yield server
    server.close()


def credentials(dc) -> dict[str, str]:
    return {"api_id": "1234567", "api_hash": API_HASH, "session_string": dc.session}


def debat_kanal(dc, first_id: int = 21):
    """Posts every 4 h from 25 Oct, ids first_id..230 (the ones below were deleted)."""
    return dc.add(
        numbered_channel(
            "debat_kanal", 555001, range(first_id, 231), datetime(2026, 10, 25, tzinfo=UTC),
            timedelta(hours=4),
        )
    )  # fmt: skip


def request(channels, terms=("grønland",), date_from=FROM, **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=date_from,
        date_to=TO,
        terms=[SearchTerm(t) for t in terms],
        options={"custom_channels": list(channels), **options},
    )


def collect(dc, req: CollectionRequest, creds=None):
    collector = TelegramCollector(credentials=creds or credentials(dc))
    pages = list(collector.collect(req))
    return collector, pages


def records(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def history_offsets(dc) -> list[tuple[int, str | None]]:
    return [
        (c["offset_id"], c["offset_date"] and c["offset_date"].isoformat())
        for c in dc.requests(HISTORY)
    ]


# -- the collector against the fake DC ---------------------------------------------------


def test_a_channel_is_read_over_mtproto_with_exact_counts_and_mapped(dc):
    dc.add(load_channel("mtproto_eksempel_kanal.json"))
    collector, pages = collect(dc, request(["@Eksempel_Kanal"]))
    found = records(pages)
    # 18240 after the window (never sent: offset_date), 18239 a service message, 18235 no
    # text, 18234 not matching, 18230 before the window.
    assert sorted(found) == [
        "eksempel_kanal/18231", "eksempel_kanal/18232", "eksempel_kanal/18233",
        "eksempel_kanal/18236", "eksempel_kanal/18237", "eksempel_kanal/18238",
    ]  # fmt: skip
    report = found["eksempel_kanal/18238"]
    assert report.url == "https://t.me/eksempel_kanal/18238"
    assert report.published_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert report.text_content.startswith("Ny rapport om Grønland og klimaet 🧊 — isen smelter")
    assert (report.views_count, report.shares_count, report.comments_count) == (15_320, 44, 12)
    assert report.likes_count == 1_410 and report.language is None
    assert (report.author_platform_id, report.author_display_name) == (
        "eksempel_kanal", "Eksempel Kanal 🇩🇰",
    )  # fmt: skip
    meta = report.raw_metadata
    assert meta["source"] == "mtproto" and meta["channel_id"] == 1234567890
    assert meta["reactions"] == [{"emoji": "👍", "count": 210}, {"emoji": "❤", "count": 1200}]
    assert meta["edited"] is True and meta["edit_date"] == "2026-11-24T08:02:00+00:00"
    assert (meta["has_media"], meta["media_type"]) == (True, "MessageMediaWebPage")
    assert meta["signed"] is True and "Mette Jensen" not in str(meta)  # a person's name
    forwarded = found["eksempel_kanal/18237"].raw_metadata
    assert forwarded["is_forwarded"] is True
    assert (forwarded["fwd_from_channel_id"], forwarded["fwd_from_message_id"]) == (
        "1987654321",
        991,
    )
    assert forwarded["fwd_from_channel"] == "anden_kanal"
    assert forwarded["fwd_from_url"] == "https://t.me/anden_kanal/991"
    assert forwarded["fwd_from_date"] == "2026-11-23T18:00:00+00:00"
    assert forwarded["media_type"] == "MessageMediaPhoto" and forwarded["grouped_id"]
    reply = found["eksempel_kanal/18236"]
    assert reply.raw_metadata["reply_to_msg_id"] == 18230 and reply.comments_count == 0
    # Forwarded from a person who hides their account: neither name nor id is kept.
    assert reply.raw_metadata["is_forwarded"] is True
    assert reply.raw_metadata["fwd_from_channel_id"] is None
    assert "Jens Hansen" not in str(reply.raw_metadata)
    assert found["eksempel_kanal/18233"].published_at == datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert found["eksempel_kanal/18231"].raw_metadata["via_bot_id"] == 93372553
    # What the DC received: login check, one resolve, one history page from the window's end.
    assert [c.method for c in dc.calls][-3:] == [
        "updates.GetState",
        "contacts.ResolveUsername",
        HISTORY,
    ]
    assert dc.requests("contacts.ResolveUsername") == [
        {"username": "eksempel_kanal", "referer": None}
    ]
    [sent] = dc.requests(HISTORY)
    assert (sent["offset_id"], sent["offset_date"], sent["limit"]) == (0, TO, 100)
    assert sent["peer"]["channel_id"] == 1234567890
    assert sent["peer"]["access_hash"] == 8800123456789012345
    assert dc.api_ids == [1234567]
    # Telethon starts with salt 0: the DC corrected it once, and the client sent again.
    assert dc.salt_corrections == 1 and dc.connections == 1 and dc.errors == []
    assert collector.rate_limit_state["path"] == "mtproto"
    assert collector.units_spent == 3 and collector.rate_limit_state["requests"] == 3


def test_the_whole_history_is_paged_to_the_channels_first_message(dc):
    debat_kanal(dc)  # 210 posts, ids 21..230: far more than the preview's pages show
    collector, pages = collect(
        dc, request(["debat_kanal"], date_from=datetime(2026, 1, 1, tzinfo=UTC))
    )
    found = records(pages)
    # Everything before the window's end (26 Nov 00:00 is id 213, exclusive): ids 21..212.
    assert len(found) == 192
    assert {int(k.split("/")[1]) for k in found} == set(range(21, 213))
    # Three pages: from the window's end, below the oldest id of each page, then an empty
    # page below id 21 ends it (Telegram returns one when nothing is older).
    assert [offset for offset, _ in history_offsets(dc)] == [0, 113, 21]
    assert history_offsets(dc)[1][1] == "2026-11-09T08:00:00+00:00"
    assert [len(p.records) for p in pages] == [100, 92, 0]
    assert dc.gzipped >= 2  # the full pages came gzip_packed, as Telegram sends them
    one = found["debat_kanal/100"]
    assert (one.views_count, one.shares_count, one.comments_count) == (200, 2, 1)
    assert collector.units_spent == 5  # getState, resolve, three pages


def test_paging_stops_at_the_window_start(dc):
    debat_kanal(dc)
    _, pages = collect(dc, request(["debat_kanal"]))
    found = records(pages)
    # 1 Nov 00:00 is id 63 (inclusive), 26 Nov 00:00 id 213 (exclusive).
    assert {int(k.split("/")[1]) for k in found} == set(range(63, 213))
    # The second page reaches back past 1 Nov: no third request.
    assert [offset for offset, _ in history_offsets(dc)] == [0, 113]


def test_max_pages_caps_the_history_read_per_channel(dc):
    debat_kanal(dc)
    _, pages = collect(dc, request(["debat_kanal"], max_pages=1))
    assert len(records(pages)) == 100 and len(dc.requests(HISTORY)) == 1


def test_a_short_flood_wait_is_waited_out_and_the_request_sent_again(dc):
    debat_kanal(dc)
    dc.fail(HISTORY, "FLOOD_WAIT_1")
    collector, pages = collect(dc, request(["debat_kanal"]))
    assert len(records(pages)) == 150
    assert collector.rate_limit_state["flood_waits"] == [{"method": HISTORY, "seconds": 1}]
    assert "stopped" not in collector.rate_limit_state
    # The refused first page was asked again, unchanged, then paging went on.
    assert [offset for offset, _ in history_offsets(dc)] == [0, 0, 113]


def test_a_long_flood_wait_stops_the_run_cleanly_with_what_it_has(dc):
    debat_kanal(dc)
    dc.add(load_channel("mtproto_eksempel_kanal.json"))
    dc.fail(HISTORY, "FLOOD_WAIT_3600", after=1)  # an hour: past the operator's 60 s
    collector, pages = collect(dc, request(["debat_kanal", "eksempel_kanal"]))
    assert len(records(pages)) == 100  # the first page's records stand
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "flood_wait" and stopped["seconds"] == 3600
    assert stopped["method"] == HISTORY
    assert stopped["channels_not_finished"] == ["debat_kanal", "eksempel_kanal"]
    skipped = [s for p in pages for s in p.skipped]
    assert [(s.source, s.reason) for s in skipped] == [
        ("telegram channel debat_kanal", "rate_limited"),
        ("telegram channel eksempel_kanal", "rate_limited"),
    ]
    assert "TELEGRAM_FLOOD_WAIT_MAX_SECONDS" in skipped[0].detail
    assert dc.requests("contacts.ResolveUsername") == [{"username": "debat_kanal", "referer": None}]


def test_an_internal_error_of_telegram_is_retried_then_succeeds(dc):
    debat_kanal(dc)
    dc.fail(HISTORY, "RPC_CALL_FAIL", code=500)
    _, pages = collect(dc, request(["debat_kanal"], max_pages=1))
    assert len(records(pages)) == 100
    assert [offset for offset, _ in history_offsets(dc)] == [0, 0]  # the same page again


def test_another_error_for_one_channel_skips_it_by_name_and_the_rest_goes_on(dc):
    debat_kanal(dc)
    dc.add(load_channel("mtproto_eksempel_kanal.json"))
    dc.fail(HISTORY, "CHAT_FORWARDS_RESTRICTED", code=400)
    _, pages = collect(dc, request(["eksempel_kanal", "debat_kanal"]))
    assert len(records(pages)) == 150
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.source == "telegram channel eksempel_kanal" and skip.reason == "error"
    assert "reading its history failed (CHAT_FORWARDS_RESTRICTED)" in skip.detail


def test_an_unknown_or_private_channel_is_skipped_by_name_and_the_rest_goes_on(dc):
    debat_kanal(dc)
    closed = dc.add(load_channel("mtproto_eksempel_kanal.json"))
    closed.private = True
    _, pages = collect(dc, request(["ukendt_kanal", "eksempel_kanal", "debat_kanal"]))
    assert len(records(pages)) == 150
    skipped = [s for p in pages for s in p.skipped]
    assert [(s.source, s.reason) for s in skipped] == [
        ("telegram channel ukendt_kanal", "http_error"),
        ("telegram channel eksempel_kanal", "http_error"),
    ]
    assert "USERNAME_NOT_OCCUPIED" in skipped[0].detail
    assert "CHANNEL_PRIVATE" in skipped[1].detail
    assert [r["username"] for r in dc.requests("contacts.ResolveUsername")] == [
        "ukendt_kanal", "eksempel_kanal", "debat_kanal",
    ]  # fmt: skip


def test_every_channel_unknown_fails_the_task(dc):
    with pytest.raises(ArenaError, match="every source failed"):
        collect(dc, request(["ukendt_kanal"]))


def test_a_long_flood_wait_before_the_first_channel_stops_cleanly_too(dc):
    debat_kanal(dc)
    dc.fail("updates.GetState", "FLOOD_WAIT_600", after=1)  # connect's passes, ours not
    collector, pages = collect(dc, request(["debat_kanal"]))
    assert records(pages) == {}
    assert collector.rate_limit_state["stopped"]["method"] == "updates.GetState"
    assert [(s.source, s.reason, s.url) for p in pages for s in p.skipped] == [
        ("telegram channel debat_kanal", "rate_limited", None)
    ]
    assert dc.requests("contacts.ResolveUsername") == []


def test_the_request_budget_stops_the_run_and_says_so(dc):
    debat_kanal(dc)
    collector, pages = collect(dc, request(["debat_kanal"], max_requests=3))
    assert len(records(pages)) == 100  # getState, resolve, one page: the budget
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "max_requests" and stopped["requests"] == 3
    assert [s.reason for p in pages for s in p.skipped] == ["stopped"]
    assert len(dc.requests(HISTORY)) == 1


@pytest.mark.parametrize(
    ("refusal", "expected"),
    [
        ({"auth_error": "AUTH_KEY_UNREGISTERED"}, "AUTH_KEY_UNREGISTERED"),
        ({"auth_error": "SESSION_REVOKED"}, "SESSION_REVOKED"),
        ({"auth_error": "USER_DEACTIVATED_BAN"}, "USER_DEACTIVATED_BAN"),
        ({"api_id_error": True}, "API_ID_INVALID"),
    ],
)
def test_a_refused_session_or_app_is_an_auth_error_before_any_channel(dc, refusal, expected):
    debat_kanal(dc)
    for name, value in refusal.items():
        setattr(dc, name, value)
    with pytest.raises(ArenaAuthError, match=expected) as caught:
        collect(dc, request(["debat_kanal"]))
    assert dc.session not in str(caught.value) and API_HASH not in str(caught.value)
    assert dc.requests("contacts.ResolveUsername") == []


@pytest.mark.parametrize(
    ("creds", "expected"),
    [
        ({"api_id": "1234567", "api_hash": API_HASH}, "'session_string' is missing"),
        ({"api_id": "abc", "api_hash": API_HASH, "session_string": "1x"}, "not a number"),
        (
            {"api_id": "1", "api_hash": API_HASH, "session_string": "1bm90LWEtc2Vzc2lvbg"},
            "not a Telethon StringSession",
        ),
    ],
)
def test_a_broken_credential_is_an_auth_error_naming_the_field(dc, creds, expected):
    with pytest.raises(ArenaAuthError, match=expected) as caught:
        collect(dc, request(["debat_kanal"]), creds=creds)
    assert "1bm90LWEtc2Vzc2lvbg" not in str(caught.value)
    assert dc.connections == 0


def test_path_preview_never_uses_the_credential(dc, replay, monkeypatch):
    monkeypatch.setenv("TELEGRAM_API_URL", replay.url)
    channel_pages(replay)
    collector, pages = collect(dc, request(["eksempel_kanal"], path="preview"))
    assert len(records(pages)) == 5 and collector.rate_limit_state["path"] == "preview"
    assert dc.connections == 0 and len(replay.seen) == 2


def test_path_mtproto_without_a_credential_is_refused(dc):
    collector = TelegramCollector()
    with pytest.raises(ArenaError, match="path mtproto needs a telegram credential"):
        list(collector.collect(request(["debat_kanal"], path="mtproto")))


def test_a_design_naming_an_unknown_path_is_refused():
    with pytest.raises(ArenaError, match="path must be one of auto, preview, mtproto"):
        build_collector("telegram", options={"custom_channels": ["debat_kanal"], "path": "api"})


@pytest.mark.parametrize("value", ["127.0.0.1", "localhost:4430", "127.0.0.1:http", "[::1]:0"])
def test_the_operators_server_setting_must_be_an_ip_and_port(dc, monkeypatch, value):
    monkeypatch.setenv("TELEGRAM_MTPROTO_SERVER", value)
    with pytest.raises(ArenaError, match="TELEGRAM_MTPROTO_SERVER must be an IP address and port"):
        collect(dc, request(["debat_kanal"]))
    assert dc.connections == 0


def test_a_data_centre_that_does_not_answer_fails_the_task_naming_it(dc, monkeypatch):
    dc.close()  # nothing listens on its port any more
    monkeypatch.setenv("TELEGRAM_MTPROTO_SERVER", f"127.0.0.1:{dc.port}")
    with pytest.raises(ArenaError, match=f"cannot reach the MTProto server 127.0.0.1:{dc.port}"):
        collect(dc, request(["debat_kanal"]))


def test_health_check_with_a_credential_checks_the_login_over_mtproto(dc):
    status = TelegramCollector(credentials=credentials(dc)).health_check()
    assert status.ok and f"127.0.0.1:{dc.port}" in status.detail
    assert [c.method for c in dc.calls][-1] == "updates.GetState"
    dc.auth_error = "SESSION_REVOKED"
    status = TelegramCollector(credentials=credentials(dc)).health_check()
    assert not status.ok and "SESSION_REVOKED" in status.detail


# -- whole collection runs ---------------------------------------------------------------


def test_a_design_collects_telegram_rows_over_mtproto_once(db, dc):
    dc.add(load_channel("mtproto_eksempel_kanal.json"))
    credential = add_credential(db, "telegram", "observatoriets konto", credentials(dc))
    user = make_user(db)
    config = {"arenas": {"telegram": {"custom_channels": ["eksempel_kanal", "ukendt_kanal"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)
    [arena] = first.arenas
    assert (arena.status, arena.records_collected, arena.credits_spent) == ("completed", 6, 0)
    assert arena.units_spent == 4  # getState, two resolves, one history page
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, url, text_content, language, published_at, views_count,"
            " likes_count, shares_count, comments_count, author_platform_id,"
            " pseudonymized_author_id, search_terms_matched, raw_metadata FROM content_records",
        )
    }
    report = stored["eksempel_kanal/18238"]
    assert (report["views_count"], report["likes_count"]) == (15_320, 1_410)
    assert (report["shares_count"], report["comments_count"]) == (44, 12)
    assert report["language"] == "da" and report["search_terms_matched"] == ["grønland"]
    assert report["pseudonymized_author_id"] not in (None, "eksempel_kanal")
    assert "🧊" in report["text_content"] and report["raw_metadata"]["source"] == "mtproto"
    task = task_of(db, first.run_id, "telegram")
    assert task["status"] == "completed" and str(task["credential_id"]) == credential
    assert task["rate_limit_state"]["path"] == "mtproto"
    assert [s["source"] for s in task["skipped_sources"]] == ["telegram channel ukendt_kanal"]
    sent = len(dc.calls)

    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert (arena.status, arena.records_collected, arena.duplicates_skipped) == (
        "completed", 0, 6,
    )  # fmt: skip
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 6
    assert len(dc.requests(HISTORY)) == 2 and len(dc.calls) > sent


def test_a_refused_session_flags_its_credential_and_the_other_arenas_go_on(db, dc, replay):

    debat_kanal(dc)
    dc.auth_error = "AUTH_KEY_UNREGISTERED"
    replay.add("/lokal.xml", Reply(200, RSS, {"Content-Type": "application/rss+xml"}))
    credential = add_credential(db, "telegram", "udlogget konto", credentials(dc))
    user = make_user(db)
    config = {
        "arenas": {
            "telegram": {"custom_channels": ["debat_kanal"]},
            "rss_feeds": {"feeds": [f"{replay.url}/lokal.xml"], "default_feeds": False},
        }
    }
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    by_platform = {a.platform: a for a in report.arenas}
    assert by_platform["rss_feeds"].status == "completed"
    assert by_platform["rss_feeds"].records_collected == 1
    assert by_platform["telegram"].status == "failed"
    task = task_of(db, report.run_id, "telegram")
    assert "AUTH_KEY_UNREGISTERED" in task["error_message"]
    assert dc.session not in task["error_message"] and API_HASH not in task["error_message"]
    assert str(task["credential_id"]) == credential
    [flagged] = rows(
        db, "SELECT error_count FROM api_credentials WHERE id = CAST(:i AS uuid)", i=credential
    )
    assert flagged["error_count"] == 1
    assert dc.requests(HISTORY) == []


def test_a_record_is_the_same_row_whichever_path_collected_it(db, dc, replay, monkeypatch):
    monkeypatch.setenv("TELEGRAM_API_URL", replay.url)
    channel_pages(replay)
    dc.add(load_channel("mtproto_eksempel_kanal.json"))
    user = make_user(db)
    config = {"arenas": {"telegram": {"custom_channels": ["eksempel_kanal"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    preview = start_run(db, design, FROM, TO)  # no credential in the pool: the preview
    # Five: 18233 the preview shows without a date is skipped (reason undated), not stored
    # dated by its collection.
    assert preview.arenas[0].records_collected == 5 and dc.connections == 0
    before = {
        r["platform_id"]: r
        for r in rows(db, "SELECT platform_id, content_hash, published_at FROM content_records")
    }

    add_credential(db, "telegram", "observatoriets konto", credentials(dc))
    mtproto = start_run(db, design, FROM, TO)  # auto: now over MTProto
    [arena] = mtproto.arenas
    assert task_of(db, mtproto.run_id, "telegram")["rate_limit_state"]["path"] == "mtproto"
    # The five preview rows are MTProto's too; 18233, which the preview skipped undated, is
    # stored once, with its real date: no row for the same message twice.
    assert (arena.records_collected, arena.duplicates_skipped) == (1, 5)
    after = rows(
        db,
        "SELECT platform_id, content_hash, published_at, raw_metadata->>'source' AS source"
        " FROM content_records ORDER BY platform_id, published_at",
    )
    assert len(after) == 6 and len({r["platform_id"] for r in after}) == 6
    [new] = [r for r in after if r["source"] == "mtproto"]
    assert new["platform_id"] == "eksempel_kanal/18233"
    assert new["published_at"] == datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert {r["platform_id"]: r["content_hash"] for r in after if r["source"] != "mtproto"} == {
        k: r["content_hash"] for k, r in before.items()
    }

    # The preview path once more (the design asks for it): nothing new; the undated
    # message is skipped again (MTProto's dated row stays the only one).
    design_config = {
        "arenas": {"telegram": {"custom_channels": ["eksempel_kanal"], "path": "preview"}}
    }
    with db.begin() as conn:
        conn.execute(
            text("UPDATE query_designs SET arenas_config = CAST(:c AS jsonb) WHERE id = :d"),
            {"c": json.dumps(design_config), "d": design},
        )
    again = start_run(db, design, FROM, TO)
    assert again.arenas[0].records_collected == 0
    assert task_of(db, again.run_id, "telegram")["rate_limit_state"]["path"] == "preview"
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 6


def test_the_collect_query_design_asset_reports_a_flood_stop_in_its_metadata(
    db, postgres, object_store_resource, dc
):
    debat_kanal(dc)
    dc.fail(HISTORY, "FLOOD_WAIT_86400", after=1)
    add_credential(db, "telegram", "observatoriets konto", credentials(dc))
    user = make_user(db)
    config = {"arenas": {"telegram": {"custom_channels": ["debat_kanal"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    meta = materialize_collection(
        design, postgres, object_store_resource, "2026-11-01", "2026-11-25"
    )
    assert meta["records_collected"] == 100 and meta["credits_spent"] == 0
    assert meta["arenas"]["telegram"]["sources"]["skipped_by_reason"] == {"rate_limited": 1}
    [task] = rows(db, "SELECT status, rate_limit_state FROM collection_tasks")
    assert task["status"] == "completed"
    assert task["rate_limit_state"]["stopped"]["reason"] == "flood_wait"
    assert task["rate_limit_state"]["stopped"]["seconds"] == 86400
