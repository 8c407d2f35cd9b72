"""A query design never chooses where a collector connects (issue 12.1).

API hosts come from the operator's settings (``*_API_URL``); a design's arena options
are checked against what each collector declares before anything is sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import ArenaOptionError
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run

CREDENTIALS = {
    "youtube": {"api_key": "POOLED-YT-KEY"},
    "bluesky": {"handle": "pool.bsky.social", "app_password": "POOLED-APP-PASSWORD"},
    "reddit": {"client_id": "cid", "client_secret": "POOLED-SECRET", "user_agent": "ua"},
    "gdelt": None,
}


@pytest.mark.parametrize("platform", sorted(CREDENTIALS))
@pytest.mark.parametrize("option", ["base_url", "api_url", "host", "token_endpoint"])
def test_a_design_naming_a_host_is_refused_before_any_request(replay, platform, option):
    with pytest.raises(ArenaOptionError) as refused:
        build_collector(
            platform, credentials=CREDENTIALS[platform], options={option: "http://127.0.0.2:9"}
        )
    message = str(refused.value)
    assert f"arenas.{platform}.{option} is refused" in message
    assert f"{platform.upper()}_API_URL" in message
    assert replay.seen == []


def test_unknown_options_are_refused_by_name_and_declared_ones_accepted():
    with pytest.raises(ArenaOptionError, match=r"arenas\.reddit: unknown option\(s\) subredits"):
        build_collector("reddit", options={"subredits": ["Denmark"]})
    with pytest.raises(ArenaOptionError, match="must be a mapping"):
        build_collector("gdelt", options=["base_url"])
    build_collector("reddit", options={"subreddits": ["Denmark"], "tier": "medium"})
    # RSS feed URLs are data a researcher adds; no credential is ever sent with them.
    build_collector("rss_feeds", options={"feeds": ["https://example.dk/rss"], "enabled": True})


@pytest.mark.parametrize("given", ["../outside", "/etc", "a/../../outside", "link"])
def test_file_import_path_outside_the_import_folder_is_refused(tmp_path, monkeypatch, given):
    root = tmp_path / "imports"
    (root / "a").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    monkeypatch.setenv("FILE_IMPORT_DIR", str(root))
    with pytest.raises(ArenaOptionError, match="outside the import folder"):
        build_collector("file_import", options={"path": given})
    build_collector("file_import", options={"path": "a"})
    build_collector("file_import", options={"path": str(root / "a")})


@pytest.mark.parametrize("prefix", ["../exports/", "imports/../../x", "/imports/"])
def test_file_import_prefix_cannot_leave_the_bucket(prefix):
    with pytest.raises(ArenaOptionError, match="prefix must be a key prefix"):
        build_collector("file_import", options={"prefix": prefix})


def test_file_import_files_cannot_be_written_by_a_design():
    with pytest.raises(ArenaOptionError, match="files is opened by collection"):
        build_collector("file_import", options={"files": [["a.csv", "/etc/passwd"]]})


def test_a_run_of_a_design_with_base_url_fails_the_task_and_the_server_sees_nothing(
    db, replay, monkeypatch
):
    """The whole path: design → run → task. The pooled key never leaves; the reason is stored."""
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "k" * 32)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    attacker = replay.url  # the design's host; the operator's is the replay server too
    add_credential(db, "youtube", "pooled key", CREDENTIALS["youtube"])
    with db.begin() as conn:
        user = conn.execute(
            text("INSERT INTO users (email, is_active) VALUES ('r@example.org', true) RETURNING id")
        ).scalar_one()
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config)"
                " VALUES (:o, 'exfiltrate', CAST(:c AS jsonb)) RETURNING id"
            ),
            {"o": user, "c": json.dumps({"arenas": {"youtube": {"base_url": attacker}}})},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO search_terms (query_design_id, term) VALUES (:d, 'klima')"),
            {"d": design},
        )

    report = start_run(
        db, design, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    )

    (arena,) = report.arenas
    assert arena.status == "failed"
    assert "arenas.youtube.base_url is refused" in arena.error
    assert "POOLED-YT-KEY" not in arena.error
    with db.connect() as conn:
        stored = conn.execute(text("SELECT status, error_message FROM collection_tasks")).one()
    assert stored.status == "failed" and "arenas.youtube.base_url" in stored.error_message
    assert replay.seen == []
    with db.connect() as conn:  # the design's fault, not the pooled credential's
        errors = conn.execute(text("SELECT error_count FROM api_credentials")).scalar_one()
    assert errors == 0


@pytest.mark.parametrize(
    ("value", "each", "refused"),
    [
        ("dr.dk", None, True),  # a lone string is not a list of one
        ({"dr.dk": 1}, None, True),
        (["dr.dk", 7], None, True),  # without a check of its own every item must be text
        (["dr.dk", 7], int, True),  # the item check raises its own error for "dr.dk"
        ([7, 8], int, False),
        (["dr.dk", "tv2.dk"], None, False),
    ],
)
def test_a_list_option_is_checked_in_one_place(value, each, refused):
    from observatory_pipelines.arenas.base import option_list

    if not refused:
        assert option_list({"domains": value}, "demo", "domains", "domains", each) == value
        return
    with pytest.raises((ArenaOptionError, ValueError)) as raised:
        option_list({"domains": value}, "demo", "domains", "domains", each)
    if each is None:
        assert str(raised.value) == "arenas.demo.domains must be a list of domains"
    assert option_list({}, "demo", "domains", "domains", each) is None
