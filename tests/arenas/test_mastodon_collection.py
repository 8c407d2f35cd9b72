"""Mastodon through whole collection runs (start_run, the collect_query_design asset's entry
point): rows in content_records, an idempotent rerun, the optional pooled token, a refused
token flagging its credential while the other arenas go on, and a spent rate limit stopping
one instance cleanly with the reason on the task. Real Postgres, the local replay server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import Reply
from tests.arenas.test_mastodon import HELVEDE, NEXT_1, SOCIAL, TAG, instance, mfile, on, tag_pages
from tests.collection.conftest import make_design, make_user, materialize_collection, rows, task_of

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 26, tzinfo=UTC)
RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lokal</title>
<item><guid>lokal-1</guid><title>Gr\xc3\xb8nland i Folketinget</title>
<link>https://www.example.dk/lokal/1</link><description>Debat om Gr\xc3\xb8nland</description>
<pubDate>Wed, 18 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>"""


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "test-pseudonymization-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())


@pytest.fixture
def mastodon(replay, monkeypatch):
    monkeypatch.setenv("MASTODON_INSTANCE_URL_TEMPLATE", f"{replay.url}/i/{{host}}")
    monkeypatch.setenv("MASTODON_DEFAULT_INSTANCES", f"{HELVEDE},{SOCIAL}")
    monkeypatch.delenv("MASTODON_ALLOWED_INSTANCES", raising=False)
    return replay


def test_a_design_collects_mastodon_rows_once(db, mastodon):
    instance(mastodon, HELVEDE)
    tag_pages(mastodon)
    user = make_user(db)
    config = {"arenas": {"mastodon": {"instances": [HELVEDE]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])

    first = start_run(db, design, FROM, TO)
    assert first.status == "completed" and first.records_collected == 6
    stored = rows(
        db,
        "SELECT platform, arena, content_type, platform_id, url, text_content, language,"
        " author_platform_id, author_display_name, pseudonymized_author_id, likes_count,"
        " shares_count, comments_count, media_urls, raw_metadata, published_at"
        " FROM content_records ORDER BY published_at DESC",
    )
    assert len(stored) == 6 and {r["platform"] for r in stored} == {"mastodon"}
    assert {r["arena"] for r in stored} == {"social_media"}
    anna = next(r for r in stored if r["author_display_name"] == "Anna 🌿")
    assert anna["platform_id"] == "https://helvede.net/users/anna/statuses/117636783611774162"
    assert anna["content_type"] == "post" and anna["language"] == "da"
    assert anna["text_content"].startswith("Ny rapport om Grønland og klimaet 🧊 #grønland")
    assert (anna["likes_count"], anna["shares_count"], anna["comments_count"]) == (11, 5, 2)
    assert anna["media_urls"] == ["https://files.helvede.net/media/1.jpg"]
    assert anna["raw_metadata"]["instance"] == HELVEDE
    assert anna["pseudonymized_author_id"] and anna["pseudonymized_author_id"] != "anna@helvede.net"
    assert {r["content_type"] for r in stored} == {"post", "reply"}
    assert not [r for r in stored if r["author_display_name"] in ("Bob", "Skjult", "Uden URI")]
    task = task_of(db, first.run_id, "mastodon")
    assert task["status"] == "completed" and task["skipped_sources"] == []
    assert task["credential_id"] is None  # no token in the pool: collected without one
    sent_first = len(mastodon.seen)
    assert sent_first == 3  # instance, two tag pages

    second = start_run(db, design, FROM, TO)
    assert second.status == "completed" and second.records_collected == 0
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 6
    assert len(mastodon.seen) == 2 * sent_first
    assert [a.units_spent for a in second.arenas] == [3] and second.credits_spent == 0


def test_a_refused_token_flags_its_credential_and_the_other_arenas_go_on(db, mastodon):
    instance(mastodon, HELVEDE)
    mastodon.add(on(HELVEDE, TAG), mfile("token_invalid.json", 401))
    mastodon.add("/lokal.xml", Reply(200, RSS, {"Content-Type": "application/rss+xml"}))
    token = "tok-helvede-5f3a9c81"
    credential = add_credential(db, "mastodon", "helvede app", {HELVEDE: token})
    user = make_user(db)
    config = {
        "arenas": {
            "mastodon": {"instances": [HELVEDE]},
            "rss_feeds": {"feeds": [f"{mastodon.url}/lokal.xml"], "default_feeds": False},
        }
    }
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    by_platform = {a.platform: a for a in report.arenas}
    assert by_platform["rss_feeds"].status == "completed"
    assert by_platform["rss_feeds"].records_collected == 1
    assert by_platform["mastodon"].status == "failed"
    task = task_of(db, report.run_id, "mastodon")
    assert (
        task["status"] == "failed"
        and "access token for helvede.net was refused" in (task["error_message"])
    )
    assert token not in task["error_message"] and str(task["credential_id"]) == credential
    [flagged] = rows(
        db, "SELECT error_count FROM api_credentials WHERE id = CAST(:i AS uuid)", i=credential
    )
    assert flagged["error_count"] == 1
    [sent] = mastodon.requests(on(HELVEDE, TAG))
    assert sent.headers["Authorization"] == f"Bearer {token}"
    assert "Authorization" not in mastodon.requests("/lokal.xml")[0].headers


def test_a_spent_rate_limit_stops_that_instance_and_says_so_on_the_task(db, mastodon):
    instance(mastodon, HELVEDE, SOCIAL)
    far = "2099-01-01T00:00:00.000Z"
    mastodon.add(
        on(HELVEDE, TAG),
        mfile("tag_groenland_page1.json", Link=NEXT_1, **{"X-RateLimit-Limit": "300",
              "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": far}),
    )  # fmt: skip
    mastodon.add(on(SOCIAL, TAG), mfile("tag_groenland_social.json"))
    user = make_user(db)
    design = make_design(db, user, {"arenas": {"mastodon": {}}}, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    assert report.status == "completed" and report.records_collected == 4
    task = task_of(db, report.run_id, "mastodon")
    assert task["status"] == "completed"
    [skip] = task["skipped_sources"]
    assert skip["reason"] == "rate_limited" and skip["source"] == "mastodon helvede.net"
    assert "left for the next run" in skip["detail"]
    state = task["rate_limit_state"]["instances"][HELVEDE]
    assert state["remaining"] == "0" and state["stopped"] == f"rate limit spent until {far}"
    assert len(mastodon.requests(on(HELVEDE, TAG))) == 1


def test_a_design_naming_an_internal_host_is_refused_before_anything_is_sent(db, mastodon):
    user = make_user(db)
    config = {"arenas": {"mastodon": {"instances": ["169.254.169.254"]}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    report = start_run(db, design, FROM, TO)
    [arena] = report.arenas
    assert arena.status == "failed" and "an IP address, not a host name" in arena.error
    assert mastodon.seen == []


def test_the_collect_query_design_asset_reports_the_stop_in_its_metadata(
    db, postgres, object_store_resource, mastodon
):
    instance(mastodon, HELVEDE, SOCIAL)
    far = "2099-01-01T00:00:00.000Z"
    mastodon.add(
        on(HELVEDE, TAG),
        mfile("tag_groenland_page1.json", Link=NEXT_1, **{"X-RateLimit-Limit": "300",
              "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": far}),
    )  # fmt: skip
    mastodon.add(on(SOCIAL, TAG), mfile("tag_groenland_social.json"))
    user = make_user(db)
    design = make_design(db, user, {"arenas": {"mastodon": {}}}, terms=[("grønland", "keyword")])
    meta = materialize_collection(
        design, postgres, object_store_resource, "2026-11-01", "2026-11-25"
    )
    assert meta["records_collected"] == 4 and meta["credits_spent"] == 0
    sources = meta["arenas"]["mastodon"]["sources"]
    assert sources["skipped_by_reason"] == {"rate_limited": 1}
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 4
