"""Facebook through Bright Data's Web Scraper API, driven through whole collection runs.

Real Postgres and ledger, the token from the encrypted pool, the replay server on 127.0.0.1
as the operator's BRIGHT_DATA_API_URL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import CollectionRequest
from observatory_pipelines.arenas.facebook import FacebookCollector, page_url
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import Reply, file_reply, json_reply
from tests.collection.conftest import make_design, make_user, rows

TRIGGER = "/datasets/v3/trigger"
SNAPSHOT_ID = "s_m4x7enmven8djfqak"
PROGRESS = f"/datasets/v3/progress/{SNAPSHOT_ID}"
SNAPSHOT = f"/datasets/v3/snapshot/{SNAPSHOT_ID}"
FROM, TO = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
PAGES = ["drnyheder", "https://evil.example.com/drnyheder"]


def _reply(name: str, status: int = 200, **kw):
    return file_reply(f"facebook/{name}", status, **kw)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "facebook-test-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("BRIGHT_DATA_API_URL", replay.url)
    monkeypatch.setenv("BRIGHT_DATA_POLL_SECONDS", "0")
    return replay


def _happy(api) -> None:
    api.routes.clear()
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_running.json"), _reply("progress_ready.json"))
    api.add(SNAPSHOT, _reply("snapshot_not_ready.json", 202), _reply("snapshot_posts.json"))


def _design(db, user, pages=PAGES):
    config = {"arenas": {"facebook": {"tier": "medium", "custom_pages": pages}}}
    return make_design(db, user, config)


def test_page_urls_only_on_facebook():
    root, hosts = FacebookCollector.root, FacebookCollector.hosts
    assert page_url("drnyheder", hosts, root) == "https://www.facebook.com/drnyheder"
    assert page_url("m.facebook.com/groups/dkpol/", hosts, root) == (
        "https://www.facebook.com/groups/dkpol"
    )
    assert page_url("https://www.facebook.com/drnyheder?ref=x", hosts, root) == (
        "https://www.facebook.com/drnyheder"
    )
    for bad in (
        "https://evil.example.com/drnyheder",
        "https://facebook.com.evil.example/x",
        "https://user@www.facebook.com/x",
        "https://www.facebook.com:8443/x",
        "ftp://www.facebook.com/x",
        "groups",
        "https://www.facebook.com/",
    ):
        assert page_url(bad, hosts, root) is None, bad


def test_a_run_maps_posts_charges_the_rows_and_a_rerun_inserts_nothing(db, api):
    _happy(api)
    user = make_user(db, credits=100)
    design = _design(db, user)
    add_credential(db, "facebook", "bd", {"api_token": "bd-token-1"}, tier="medium")

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("facebook", "completed")
    # estimate: min(1 page x 7 days x 50, 5000) = 350 rows = 35 credits; 6 rows billed = 1
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (35, 6, 1)
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        35, 1, 35, 99,
    )  # fmt: skip
    [trigger] = api.requests(TRIGGER)
    assert trigger.query == {"dataset_id": "gd_lkaxegm826bjpoo9m5", "include_errors": "true"}
    assert trigger.headers["Authorization"] == "Bearer bd-token-1"
    assert json.loads(trigger.body) == [
        {
            "url": "https://www.facebook.com/drnyheder",
            "num_of_posts": 350,
            "start_date": "11-10-2026",
            "end_date": "11-17-2026",  # 23:59:59 UTC is 00:59:59 in Copenhagen
        }
    ]
    # running; ready but the download says 202; ready again and the rows
    assert len(api.requests(PROGRESS)) == 3 and len(api.requests(SNAPSHOT)) == 2
    assert api.requests(SNAPSHOT)[0].query == {"format": "json"}
    assert {s.path for s in api.seen} == {TRIGGER, PROGRESS, SNAPSHOT}  # evil host never asked

    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, arena, content_type, url, title, text_content, language,"
            " published_at, author_platform_id, author_display_name, likes_count,"
            " shares_count, comments_count, views_count, media_urls, raw_metadata"
            " FROM content_records",
        )
    }
    post = stored["1023456789012345"]
    # Bright Data gives no language: enrichment detects it from the text
    assert (post["arena"], post["content_type"], post["language"]) == (
        "social_media", "post", "da",
    )  # fmt: skip
    assert post["text_content"] == "Folketinget har vedtaget æblefinansloven på Ærø 🍎🇩🇰"
    assert post["published_at"] == datetime(2026, 11, 12, 10, tzinfo=UTC)
    assert post["author_platform_id"] == "https://www.facebook.com/drnyheder"
    assert post["author_display_name"] == "DR Nyheder"
    assert (post["likes_count"], post["comments_count"], post["shares_count"]) == (628, 134, 41)
    assert post["media_urls"] == ["https://scontent.xx.fbcdn.net/v/t39/dr1.jpg"]
    video = stored["1023456789012399"]
    assert (video["title"], video["text_content"]) == ("Se debatten", "Debat om grøn omstilling")
    assert (video["likes_count"], video["shares_count"], video["views_count"]) == (15, 7, 12000)
    comment = stored["55501"]
    assert comment["content_type"] == "comment"
    assert comment["raw_metadata"]["parent_post_id"] == "1023456789012345"
    assert "1023456700000001" not in stored  # outside the window: dropped client-side
    # the row without a post id is kept under its URL, its date the collection time
    undated = [r for r in stored.values() if "uden id" in (r["text_content"] or "")]
    assert len(undated) == 1 and undated[0]["raw_metadata"]["published_at_source"] == "collected_at"
    assert len(stored) == 4 and arena.records_rejected == 1  # the dead_page error row

    [task] = rows(db, "SELECT rate_limit_state, skipped_sources FROM collection_tasks")
    entry = task["rate_limit_state"]["bright_data_snapshots"]
    [(key, snap)] = entry.items()
    assert snap["snapshot_id"] == SNAPSHOT_ID and snap["status"] == "downloaded"
    assert task["rate_limit_state"]["error_rows"] == [
        {"url": "https://www.facebook.com/nosuchpage", "error_code": "dead_page"}
    ]
    [skipped] = task["skipped_sources"]
    assert (
        "evil.example.com" in skipped["detail"] and "not a facebook.com page" in skipped["detail"]
    )

    _happy(api)  # Bright Data answers the same again for the next run's trigger
    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert (arena.status, arena.records_collected) == ("completed", 0)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 4
    assert CreditLedger(db).get_balance(user).available == 98


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, api):
    _happy(api)
    user = make_user(db, credits=20)
    design = _design(db, user)
    add_credential(db, "facebook", "bd", {"api_token": "t"}, tier="medium")
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 35, available 20 "
        "(run estimate 35 credits: facebook 35; owner's balance 20 credits)"
    )
    assert api.seen == []
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.available) == (0, 0, 20)


def test_an_interrupted_task_keeps_its_snapshot_and_the_next_run_polls_it(db, api):
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("html_error.html", 503, content_type="text/html"))
    user = make_user(db, credits=100)
    design = _design(db, user, ["drnyheder"])
    add_credential(db, "facebook", "bd", {"api_token": "t"}, tier="medium")

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "failed" and "HTTP 503 after 4 attempts" in arena.error
    assert arena.credits_spent == 0  # nothing downloaded, nothing billed yet
    balance = CreditLedger(db).get_balance(user)
    assert (balance.settled, balance.available) == (0, 100)  # the rest refunded
    [task] = rows(db, "SELECT id, rate_limit_state FROM collection_tasks")
    state = task["rate_limit_state"]
    [snap] = state["bright_data_snapshots"].values()
    assert snap == {
        "snapshot_id": SNAPSHOT_ID, "dataset_id": "gd_lkaxegm826bjpoo9m5", "status": "triggered",
    }  # fmt: skip

    # The worker comes back: the same task, built from the state its row kept, polls the
    # snapshot it already paid for.
    api.routes.clear()
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_ready.json"))
    api.add(SNAPSHOT, _reply("snapshot_posts.json"))
    collector = FacebookCollector(credentials={"api_token": "t"}, rate_limit_state=state)
    request = CollectionRequest(
        date_from=FROM, date_to=TO, tier="medium", options={"custom_pages": ["drnyheder"]}
    )
    records = [r for page in collector.collect(request) for r in page.records]
    collector.close()
    assert len(records) == 4 and collector.units_spent == 6
    assert len(api.requests(TRIGGER)) == 1  # ONE trigger over both runs
    assert api.requests(SNAPSHOT)[-1].path == SNAPSHOT


def test_a_new_run_resumes_the_snapshot_a_failed_run_paid_for_instead_of_triggering(db, api):
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("html_error.html", 503, content_type="text/html"))
    user = make_user(db, credits=100)
    design = _design(db, user, ["drnyheder"])
    other = _design(db, user, ["drnyheder"])
    add_credential(db, "facebook", "bd", {"api_token": "t"}, tier="medium")
    [first] = start_run(db, design, FROM, TO).arenas
    assert first.status == "failed"

    api.routes.clear()
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_ready.json"))
    api.add(SNAPSHOT, _reply("snapshot_posts.json"))
    [second] = start_run(db, design, FROM, TO).arenas  # a new run, a new task

    assert second.status == "completed" and second.records_collected == 4
    assert len(api.requests(TRIGGER)) == 1  # the first run's: the second polled the paid one
    assert (second.units_spent, second.credits_spent) == (6, 1)
    assert CreditLedger(db).get_balance(user).available == 99
    states = rows(
        db,
        "SELECT t.status, t.rate_limit_state -> 'bright_data_snapshots' AS snaps "
        "FROM collection_tasks t JOIN collection_runs r ON r.id = t.collection_run_id "
        "WHERE r.query_design_id = :d ORDER BY t.started_at",
        d=design,
    )
    assert [s["status"] for s in states] == ["failed", "completed"]
    [snap] = states[1]["snaps"].values()
    assert (snap["snapshot_id"], snap["status"], snap["rows"]) == (SNAPSHOT_ID, "downloaded", 6)

    # Another design never takes this design's snapshots; a completed run's downloaded
    # snapshot is not fetched again: a new run of the same window asks for a fresh one.
    [elsewhere] = start_run(db, other, FROM, TO).arenas
    [again] = start_run(db, design, FROM, TO).arenas
    assert (elsewhere.status, again.status) == ("completed", "completed")
    assert len(api.requests(TRIGGER)) == 3


def test_a_failed_snapshot_is_named_and_a_refused_token_is_flagged(db, api):
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_failed.json"))
    user = make_user(db, credits=100)
    design = _design(db, user, ["drnyheder"])
    add_credential(db, "facebook", "bd", {"api_token": "t"}, tier="medium")
    [arena] = start_run(db, design, FROM, TO).arenas
    assert arena.status == "failed"
    assert f"snapshot {SNAPSHOT_ID} failed (Crawl failed: too many blocked requests)" in arena.error

    api.routes.clear()
    api.add(TRIGGER, _reply("invalid_token.json", 401), method="POST")
    key = add_credential(db, "facebook", "bad", {"api_token": "bad-token"}, tier="medium")
    with db.begin() as conn:
        conn.execute(text("DELETE FROM api_credentials WHERE id <> :k"), {"k": key})
    [arena] = start_run(db, design, FROM, TO).arenas
    assert arena.status == "failed" and "HTTP 401" in arena.error
    assert "Invalid API token" in arena.error and "bad-token" not in arena.error
    [cred] = rows(db, "SELECT error_count FROM api_credentials")
    assert cred["error_count"] == 1


def test_an_html_page_where_json_was_expected_names_url_and_status(db, api):
    api.add(TRIGGER, _reply("html_error.html", 404, content_type="text/html"), method="POST")
    user = make_user(db, credits=100)
    design = _design(db, user, ["drnyheder"])
    add_credential(db, "facebook", "bd", {"api_token": "t"}, tier="medium")
    [arena] = start_run(db, design, FROM, TO).arenas
    assert arena.status == "failed"
    assert "HTTP 404 from 127.0.0.1" in arena.error and "/datasets/v3/trigger" in arena.error
    assert "an HTML page where JSON was expected" in arena.error


def test_premium_is_meta_content_library_and_not_built():
    request = CollectionRequest(date_from=FROM, date_to=TO, tier="premium")
    collector = FacebookCollector(credentials={"api_token": "t"})
    with pytest.raises(Exception, match="Meta Content Library"):
        list(collector.collect(request))
    assert collector.estimate_units(request) == 0


def test_rate_limit_and_5xx_are_retried_and_a_broken_snapshot_is_named(db, api, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    api.add(
        TRIGGER,
        json_reply({"error": "Too many requests"}, 429, **{"Retry-After": "0"}),
        _reply("trigger.json"),
        method="POST",
    )
    api.add(
        PROGRESS,
        _reply("html_error.html", 503, content_type="text/html"),
        _reply("progress_ready.json"),
    )
    api.add(
        SNAPSHOT,
        Reply(200, b'[{"post_id": "1", "content": "halv', {"Content-Type": "application/json"}),
    )
    user = make_user(db, credits=100)
    design = _design(db, user, ["drnyheder"])
    add_credential(db, "facebook", "bd", {"api_token": "t"}, tier="medium")
    [arena] = start_run(db, design, FROM, TO).arenas
    assert arena.status == "failed"
    assert f"response from 127.0.0.1:{api.httpd.server_address[1]}{SNAPSHOT} is not valid JSON" in (
        arena.error
    )
    assert len(api.requests(TRIGGER)) == 2 and len(api.requests(PROGRESS)) == 2

    # a snapshot over the size cap is refused, not read
    api.routes.clear()
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_ready.json"))
    api.add(SNAPSHOT, json_reply([{"post_id": "x", "content": "æ" * (1024 * 1024)}]))
    [arena] = start_run(db, design, FROM, TO).arenas
    assert arena.status == "failed" and "response larger than 1 MB refused" in arena.error
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 0
