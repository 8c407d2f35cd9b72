"""Instagram through Bright Data's Web Scraper API, driven through whole collection runs.

Real Postgres and ledger, the token from the encrypted pool, the replay server on 127.0.0.1
as the operator's BRIGHT_DATA_API_URL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.arenas.base import CollectionRequest
from observatory_pipelines.arenas.instagram import InstagramCollector, profile_url
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from tests.arenas.conftest import file_reply
from tests.collection.conftest import make_design, make_user, rows

TRIGGER = "/datasets/v3/trigger"
SNAPSHOT_ID = "s_ig7enmven8djfqzz"
PROGRESS = f"/datasets/v3/progress/{SNAPSHOT_ID}"
SNAPSHOT = f"/datasets/v3/snapshot/{SNAPSHOT_ID}"
FROM, TO = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
PROFILES = [
    "socialdemokratiet",
    "https://www.instagram.com/venstredk/",
    "https://www.instagram.com/p/DFq1AbCdEfG/",  # a post, not a profile
    "https://www.facebook.com/venstredk",  # another host
]


def _reply(name: str, status: int = 200, **kw):
    return file_reply(f"instagram/{name}", status, **kw)


@pytest.fixture
def api(replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "instagram-test-key")
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("BRIGHT_DATA_API_URL", replay.url)
    monkeypatch.setenv("BRIGHT_DATA_POLL_SECONDS", "0")
    return replay


def _happy(api) -> None:
    api.routes.clear()
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_running.json"), _reply("progress_ready.json"))
    api.add(SNAPSHOT, _reply("snapshot_posts.json"))


def _design(db, user, profiles=PROFILES):
    config = {"arenas": {"instagram": {"tier": "medium", "custom_profiles": profiles}}}
    return make_design(db, user, config)


def test_profile_urls_only_on_instagram():
    assert profile_url("venstredk") == "https://www.instagram.com/venstredk/"
    assert profile_url("instagram.com/venstredk") == "https://www.instagram.com/venstredk/"
    for bad in (
        "https://www.instagram.com/p/DFq1AbCdEfG/",
        "https://www.instagram.com/reel/DGr2XyZ/",
        "https://www.instagram.com/venstredk/tagged/",
        "https://instagram.com.evil.example/venstredk",
        "https://www.facebook.com/venstredk",
    ):
        assert profile_url(bad) is None, bad


def test_a_run_batches_profiles_maps_posts_and_reels_and_charges_the_rows(db, api):
    _happy(api)
    user = make_user(db, credits=100)
    design = _design(db, user)
    add_credential(db, "instagram", "bd", {"api_token": "bd-ig-token"}, tier="medium")

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("instagram", "completed")
    # estimate: min(2 profiles x 7 days x 50, 5000) = 700 rows = 70 credits; 5 billed = 1
    assert (arena.credits_estimated, arena.units_spent, arena.credits_spent) == (70, 5, 1)
    balance = CreditLedger(db).get_balance(user)
    assert (balance.reserved, balance.settled, balance.refunded, balance.available) == (
        70, 1, 70, 99,
    )  # fmt: skip
    [trigger] = api.requests(TRIGGER)  # both profiles in one trigger
    assert trigger.query == {
        "dataset_id": "gd_lk5ns7kz21pck8jpis", "include_errors": "true",
        "type": "discover_new", "discover_by": "url",
    }  # fmt: skip
    assert trigger.headers["Authorization"] == "Bearer bd-ig-token"
    dates = {"start_date": "11-10-2026", "end_date": "11-17-2026"}
    assert json.loads(trigger.body) == [
        {"url": "https://www.instagram.com/socialdemokratiet/", "num_of_posts": 350, **dates},
        {"url": "https://www.instagram.com/venstredk/", "num_of_posts": 350, **dates},
    ]
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, content_type, url, text_content, published_at,"
            " author_platform_id, author_display_name, likes_count, comments_count,"
            " views_count, media_urls, raw_metadata FROM content_records",
        )
    }
    post = stored["DFq1AbCdEfG"]
    assert post["content_type"] == "post"
    assert post["text_content"] == "Vi investerer i velfærd på Ærø 💪 #dkpol"
    assert post["published_at"] == datetime(2026, 11, 12, 9, tzinfo=UTC)
    assert (post["author_platform_id"], post["author_display_name"]) == (
        "1234567890", "socialdemokratiet",
    )  # fmt: skip
    assert (post["likes_count"], post["comments_count"]) == (1240, 87)
    assert post["raw_metadata"]["hashtags"] == ["dkpol"]
    reel = stored["DGr2XyZ"]  # the code parsed from /reel/{code}/
    assert reel["content_type"] == "reel" and reel["views_count"] == 9100
    assert reel["raw_metadata"]["hashtags"] == ["klima", "dkpol"]
    assert reel["media_urls"] == [
        "https://scontent.cdninstagram.com/v/t50/v1.mp4",
        "https://scontent.cdninstagram.com/v/t51/v1.jpg",
    ]
    assert "DOLDxx1" not in stored  # outside the window
    assert len(stored) == 3 and arena.records_rejected == 1  # the dead_page row
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    details = " ".join(s["detail"] for s in task["skipped_sources"])
    assert "/p/DFq1AbCdEfG/" in details and "www.facebook.com/venstredk" in details
    assert {s.path for s in api.seen} == {TRIGGER, PROGRESS, SNAPSHOT}

    _happy(api)
    [arena] = start_run(db, design, FROM, TO).arenas
    assert (arena.status, arena.records_collected) == ("completed", 0)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 3


def test_a_collector_raising_after_the_trigger_leaves_the_snapshot_for_the_next_run(db, api):
    api.add(TRIGGER, _reply("trigger.json"), method="POST")
    api.add(PROGRESS, _reply("progress_ready.json"))
    api.add(SNAPSHOT, _reply("snapshot_posts.json"))
    request = CollectionRequest(
        date_from=FROM, date_to=TO, tier="medium", options={"custom_profiles": ["venstredk"]}
    )
    first = InstagramCollector(credentials={"api_token": "t"})
    pages = first.collect(request)
    assert next(pages).records == []  # the page that lets the task save the snapshot id
    pages.close()  # the worker dies here
    state = json.loads(json.dumps(first.rate_limit_state))  # what the task row kept
    [entry] = state["bright_data_snapshots"].values()
    assert entry["snapshot_id"] == SNAPSHOT_ID and entry["status"] == "triggered"
    assert api.requests(PROGRESS) == []

    second = InstagramCollector(credentials={"api_token": "t"}, rate_limit_state=state)
    records = [r for page in second.collect(request) for r in page.records]
    assert len(records) == 3 and second.units_spent == 5
    assert len(api.requests(TRIGGER)) == 1  # ONE trigger in total
    # the same task once more: the snapshot is downloaded, nothing is asked again
    seen = len(api.seen)
    third = InstagramCollector(
        credentials={"api_token": "t"}, rate_limit_state=second.rate_limit_state
    )
    assert [r for page in third.collect(request) for r in page.records] == []
    assert len(api.seen) == seen


def test_an_estimate_over_the_balance_is_refused_before_any_request(db, api):
    _happy(api)
    user = make_user(db, credits=50)
    design = _design(db, user)
    add_credential(db, "instagram", "bd", {"api_token": "t"}, tier="medium")
    report = start_run(db, design, FROM, TO)
    assert report.status == "failed"
    assert report.error == (
        "insufficient credits: need 70, available 50 "
        "(run estimate 70 credits: instagram 70; owner's balance 50 credits)"
    )
    assert api.seen == []
