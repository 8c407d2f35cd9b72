"""Discord's bot REST API through the real collector, served by the local replay server from
recorded-shape replies; whole collection runs (start_run, the collect_query_design asset's
entry point) against the real Postgres with the bot token in the credential pool."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.discord import (
    DiscordCollector,
    snowflake_at,
    snowflake_time,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply, load_json
from tests.collection.conftest import make_design, make_user, rows

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
POLITIK = "1201234567890123456"
GUILD = "1101234567890123456"
UNKNOWN = "1201234567890199999"
HIDDEN = "1201234567890177777"
TOKEN = "bot-token-MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl"
MESSAGES = f"/api/v10/channels/{POLITIK}/messages"
PAGE1_OLDEST = load_json("discord/messages_page1.json")[-1]["id"]
BUCKET = {"X-RateLimit-Bucket": "80c17d2f203122d936070c88c8d10f33", "X-RateLimit-Limit": "5"}


def reply(name: str, status: int = 200, **headers: str) -> Reply:
    kind = "text/html" if name.endswith(".html") else "application/json"
    return file_reply(f"discord/{name}", status, kind, **headers)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("DISCORD_API_URL", f"{replay.url}/api/v10")
    return replay


def politik(api, *first_page: Reply) -> None:
    api.add(f"/api/v10/channels/{POLITIK}", reply("channel_politik.json"))
    api.add(f"/api/v10/guilds/{GUILD}", reply("guild.json"))
    api.add(MESSAGES, reply("messages_page2.json"), before=PAGE1_OLDEST)
    api.add(MESSAGES, *(first_page or (reply("messages_page1.json"),)))


def request(*channels: str, terms=("grønland",), **options) -> CollectionRequest:
    return CollectionRequest(
        date_from=FROM,
        date_to=TO,
        terms=[SearchTerm(t) for t in terms],
        options={"custom_channel_ids": list(channels), **options},
    )


def collect(req: CollectionRequest):
    collector = DiscordCollector(credentials={"bot_token": TOKEN})
    pages = list(collector.collect(req))
    return collector, pages


def records(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def test_snowflakes_carry_their_time():
    # Discord's documentation's own example: 175928847299117063 is 2016-04-30 11:18:25.796 UTC.
    assert snowflake_time("175928847299117063") == datetime(
        2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC
    )
    moment = datetime(2026, 11, 26, tzinfo=UTC)
    assert snowflake_time(snowflake_at(moment)) == moment
    assert snowflake_time(snowflake_at(moment) - 1) < moment


def test_a_channel_is_paged_from_the_window_end_and_mapped(api):
    politik(api)
    collector, pages = collect(request(POLITIK))
    found = records(pages)
    assert len(found) == 5
    sent = api.requests(MESSAGES)
    assert [s.query["before"] for s in sent] == [str(snowflake_at(TO)), PAGE1_OLDEST]
    assert all(s.query["limit"] == "100" for s in sent)
    assert all(s.headers["Authorization"] == f"Bot {TOKEN}" for s in api.seen)
    assert len(api.requests(f"/api/v10/guilds/{GUILD}")) == 1
    first = load_json("discord/messages_page1.json")[0]
    post = found[first["id"]]
    assert post.text_content.startswith("Nogen der har læst det nye udspil om Grønland? 🇬🇱")
    assert post.published_at == datetime(2026, 11, 25, 21, 0, 0, 482000, tzinfo=UTC)
    assert post.url == f"https://discord.com/channels/{GUILD}/{POLITIK}/{first['id']}"
    assert post.author_platform_id == "412345678901234501"
    assert post.author_display_name == "Dansk Debat 💬 / #politik"
    assert (post.likes_count, post.comments_count) == (5, 12)
    assert post.language is None and post.content_type == "post"
    meta = post.raw_metadata
    assert (meta["guild_name"], meta["channel_name"], meta["embeds"]) == (
        "Dansk Debat 💬",
        "politik",
        1,
    )
    assert meta["attachments"][0].startswith("https://cdn.discordapp.com/attachments/")
    assert meta["mention_count"] == 1 and "412345678901234502" not in str(meta)
    assert meta["reactions"] == [{"emoji": "👍", "count": 3}, {"emoji": "dannebrog", "count": 2}]
    assert meta["thread_id"] == "1339876543299999999"
    assert "kaffe_og_politik" not in str(post) and "Mette" not in str(post)
    replies = [r for r in found.values() if r.raw_metadata["referenced_message_id"]]
    assert [r.raw_metadata["referenced_message_id"] for r in replies] == [first["id"]]
    undated = [r for r in found.values() if r.raw_metadata.get("published_at_from_id")]
    assert len(undated) == 1 and undated[0].published_at.date() == datetime(2026, 11, 25).date()
    assert sum(p.rejected for p in pages) == 1  # the message without an id
    assert collector.rate_limit_state["empty_content_messages"] == 1
    assert collector.units_spent == 4


def test_an_unknown_and_a_hidden_channel_are_skipped_by_id_and_the_rest_goes_on(api):
    api.add(f"/api/v10/channels/{UNKNOWN}", reply("unknown_channel.json", 404))
    api.add(f"/api/v10/channels/{HIDDEN}", reply("missing_access.json", 403))
    politik(api)
    _, pages = collect(request(UNKNOWN, HIDDEN, POLITIK))
    assert len(records(pages)) == 5
    skipped = [s for p in pages for s in p.skipped]
    assert [s.source for s in skipped] == [
        f"discord channel {UNKNOWN}",
        f"discord channel {HIDDEN}",
    ]
    assert "HTTP 404" in skipped[0].detail and "Unknown Channel, code 10003" in skipped[0].detail
    assert "Missing Access, code 50001" in skipped[1].detail


def test_no_read_history_on_a_known_channel_names_it(api):
    api.add(f"/api/v10/channels/{POLITIK}", reply("channel_politik.json"))
    api.add(f"/api/v10/guilds/{GUILD}", reply("missing_access.json", 403))
    api.add(MESSAGES, reply("missing_access.json", 403))
    with pytest.raises(ArenaError, match="every source failed") as failed:
        collect(request(POLITIK))
    assert f"discord channel {POLITIK} (#politik): HTTP 403" in str(failed.value)


def test_429_retry_after_from_the_json_body_and_5xx_are_retried(api):
    politik(
        api,
        reply("rate_limited.json", 429, **BUCKET, **{"X-RateLimit-Remaining": "0",
              "X-RateLimit-Reset-After": "0.05", "X-RateLimit-Scope": "user"}),
        Reply(502, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"}),
        reply("messages_page1.json", **BUCKET, **{"X-RateLimit-Remaining": "4",
              "X-RateLimit-Reset-After": "1.0"}),
    )  # fmt: skip
    collector, pages = collect(request(POLITIK))
    assert len(records(pages)) == 5
    state = collector.rate_limit_state
    assert state["retries"] == 2 and state["last_retry_after"] == 0.05
    assert state["rate_limited"] == {"global": 0, "route": 1}
    assert state["buckets"][BUCKET["X-RateLimit-Bucket"]]["limit"] == "5"
    assert state["invalid_requests"] == 1


def test_a_spent_bucket_waits_for_its_reset_before_the_next_page(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_WAIT", "0.01")
    politik(
        api,
        reply("messages_page1.json", **BUCKET, **{"X-RateLimit-Remaining": "0",
              "X-RateLimit-Reset-After": "30"}),
    )  # fmt: skip
    collector, pages = collect(request(POLITIK))
    # The reset is further off than the operator's longest wait: stop, keep page 1.
    assert len(records(pages)) == 4
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "rate_limited" and stopped["channels_not_finished"] == [POLITIK]
    assert [s.reason for p in pages for s in p.skipped] == ["rate_limited"]
    assert len(api.requests(MESSAGES)) == 1


def test_a_bucket_spent_briefly_is_waited_for_and_paging_goes_on(api):
    politik(
        api,
        reply("messages_page1.json", **BUCKET, **{"X-RateLimit-Remaining": "0",
              "X-RateLimit-Reset-After": "0.05"}),
    )  # fmt: skip
    collector, pages = collect(request(POLITIK))
    assert len(records(pages)) == 5 and "stopped" not in collector.rate_limit_state
    assert len(api.requests(MESSAGES)) == 2


def test_a_persistent_global_429_stops_the_run_with_what_it_has(api):
    api.add(f"/api/v10/channels/{HIDDEN}", reply("channel_politik.json"))
    api.add(f"/api/v10/channels/{HIDDEN}/messages", reply("rate_limited_global.json", 429,
            **{"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}))  # fmt: skip
    politik(api)
    collector, pages = collect(request(POLITIK, HIDDEN, UNKNOWN))
    assert len(records(pages)) == 5
    stopped = collector.rate_limit_state["stopped"]
    assert stopped["reason"] == "rate_limited"
    assert stopped["channels_not_finished"] == [HIDDEN, UNKNOWN]
    assert collector.rate_limit_state["rate_limited"]["global"] == 4  # 1 + 3 retries
    assert api.requests(f"/api/v10/channels/{UNKNOWN}") == []


@pytest.mark.parametrize(
    ("bad", "expected", "reason"),
    [
        (reply("cloudflare_1015.html", 403), "HTTP 403 from 127.0.0.1", "not_a_feed"),
        (reply("malformed.json"), "is not valid JSON", "unparseable"),
        (Reply(200, b'{"messages": []}', {"Content-Type": "application/json"}), "not a JSON list",
         "unparseable"),
    ],
)  # fmt: skip
def test_a_broken_reply_skips_that_channel_naming_url_and_status(api, bad, expected, reason):
    api.add(f"/api/v10/channels/{HIDDEN}", reply("channel_politik.json"))
    api.add(f"/api/v10/channels/{HIDDEN}/messages", bad)
    politik(api)
    _, pages = collect(request(HIDDEN, POLITIK))
    assert len(records(pages)) == 5
    [skip] = [s for p in pages for s in p.skipped]
    assert expected in skip.detail and skip.reason == reason
    assert skip.source.startswith(f"discord channel {HIDDEN}")
    if reason == "not_a_feed":
        assert f"/channels/{HIDDEN}/messages is an HTML page" in skip.detail


def test_a_reply_over_the_size_cap_is_refused(api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    api.add(f"/api/v10/channels/{HIDDEN}", reply("channel_politik.json"))
    huge = b"[" + b'{"id": "1", "content": "x"},' * 40_000 + b'{"id": "2"}]'
    api.add(
        f"/api/v10/channels/{HIDDEN}/messages",
        Reply(200, huge, {"Content-Type": "application/json"}),
    )
    politik(api)
    _, pages = collect(request(HIDDEN, POLITIK))
    [skip] = [s for p in pages for s in p.skipped]
    assert skip.reason == "too_large" and "larger than 1 MB refused" in skip.detail
    assert len(records(pages)) == 5


def test_a_refused_token_is_an_auth_error(api):
    api.add(f"/api/v10/channels/{POLITIK}", reply("unauthorized.json", 401))
    with pytest.raises(ArenaAuthError, match="bot token was refused"):
        collect(request(POLITIK))
    with pytest.raises(ArenaAuthError, match="bot_token"):
        list(DiscordCollector(credentials={}).collect(request(POLITIK)))


def test_no_channels_fails_with_where_to_name_them():
    with pytest.raises(ArenaError, match="custom_channel_ids"):
        collect(request())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://discord.com/channels/1101234567890123456/1201234567890123456", "a URL"),
        ("discord.gg/dansk", "a URL or host name"),
        ("#politik", "not a Discord channel id"),
        ("12345", "not a Discord channel id"),
        (True, "not a Discord channel id"),
    ],
)
def test_a_design_naming_a_url_or_a_bad_id_is_refused(value, message):
    with pytest.raises(ArenaOptionError, match=message):
        build_collector("discord", options={"custom_channel_ids": [value]})


def test_registered_free_and_declared(api):
    cls = get_collector_class("discord")
    assert cls is DiscordCollector and cls.needs_credentials
    assert cls.credential_fields == ("bot_token",) and cls.host_setting == "DISCORD_API_URL"
    assert {o.name for o in cls.option_specs} == {"custom_channel_ids", "max_pages"}
    assert credits_for("discord", "free", 50) == 0
    assert DiscordCollector().estimate_units(request(POLITIK, int(HIDDEN))) == 24
    api.add("/api/v10/gateway", reply("gateway.json"))
    assert DiscordCollector().health_check().ok
    assert "Authorization" not in api.requests("/api/v10/gateway")[0].headers


# -- whole collection runs ---------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "discord-test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


def test_a_design_collects_discord_rows_once(db, api, keys):
    politik(api)
    api.add(f"/api/v10/channels/{UNKNOWN}", reply("unknown_channel.json", 404))
    credential = add_credential(db, "discord", "observatory bot", {"bot_token": TOKEN})
    user = make_user(db)
    config = {"arenas": {"discord": {"custom_channel_ids": [POLITIK, UNKNOWN]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)

    [arena] = first.arenas
    assert (arena.platform, arena.status) == ("discord", "completed")
    assert arena.records_collected == 5 and arena.records_rejected == 1
    assert arena.credits_spent == 0 and arena.units_spent == 5
    stored = rows(
        db,
        "SELECT platform, arena, platform_id, url, text_content, author_platform_id,"
        " author_display_name, pseudonymized_author_id, likes_count, comments_count,"
        " search_terms_matched, raw_metadata, published_at FROM content_records"
        " ORDER BY published_at DESC",
    )
    assert len(stored) == 5 and {r["platform"] for r in stored} == {"discord"}
    top = stored[0]
    assert top["arena"] == "social_media" and top["search_terms_matched"] == ["grønland"]
    assert top["author_platform_id"] == "412345678901234501"  # the poster, as every arena
    assert top["pseudonymized_author_id"] and top["pseudonymized_author_id"] != "412345678901234501"
    assert (top["likes_count"], top["comments_count"]) == (5, 12)
    assert top["author_display_name"] == "Dansk Debat 💬 / #politik"
    assert "🇬🇱" in top["text_content"]
    [task] = rows(db, "SELECT status, skipped_sources, credential_id FROM collection_tasks")
    assert task["status"] == "completed" and str(task["credential_id"]) == credential
    assert [s["source"] for s in task["skipped_sources"]] == [f"discord channel {UNKNOWN}"]
    sent = len(api.seen)
    assert sent == 5

    second = start_run(db, design, FROM, TO)
    [arena] = second.arenas
    assert arena.status == "completed"
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 5)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 5
    assert len(api.seen) == 2 * sent


def test_a_refused_token_flags_its_credential_and_the_other_arenas_go_on(
    db, api, keys, monkeypatch
):
    monkeypatch.setenv("TELEGRAM_API_URL", api.url)
    api.add(f"/api/v10/channels/{POLITIK}", reply("unauthorized.json", 401))
    api.add("/s/eksempel_kanal", file_reply("telegram/eksempel_kanal_page2.html", 200, "text/html"))
    credential = add_credential(db, "discord", "observatory bot", {"bot_token": TOKEN})
    user = make_user(db)
    config = {
        "arenas": {
            "discord": {"custom_channel_ids": [POLITIK]},
            "telegram": {"custom_channels": ["eksempel_kanal"]},
        }
    }
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    by_platform = {a.platform: a for a in report.arenas}
    assert by_platform["telegram"].status == "completed"
    assert by_platform["telegram"].records_collected == 2
    assert by_platform["discord"].status == "failed"
    [task] = rows(
        db,
        "SELECT status, error_message, credential_id FROM collection_tasks WHERE platform = 'discord'",
    )
    assert task["status"] == "failed" and "bot token was refused" in task["error_message"]
    assert TOKEN not in task["error_message"] and str(task["credential_id"]) == credential
    [flagged] = rows(
        db, "SELECT error_count FROM api_credentials WHERE id = CAST(:i AS uuid)", i=credential
    )
    assert flagged["error_count"] == 1
    assert "Authorization" not in api.requests("/s/eksempel_kanal")[0].headers
