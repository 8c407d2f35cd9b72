"""The operator's commands, run as an operator would: subprocesses with an environment."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from observatory_pipelines.backups import catalog, restore
from observatory_pipelines.backups.backup import run_backup
from observatory_pipelines.db import urls


@pytest.fixture()
def cli_env(object_store_resource, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "BACKUP_"))}
    env.update(DATABASE_URL=database_url, OBJECT_STORE_DIR=str(object_store_resource.folder()))
    return env


def _run(module: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"observatory_pipelines.backups.{module}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backup_cli_dry_run_writes_nothing_and_says_what_it_would_do(seeded, store, cli_env):
    old = run_backup(store, now=datetime.now(UTC) - timedelta(days=40), prune_after=False)
    newer = run_backup(store, now=datetime.now(UTC) - timedelta(days=39), prune_after=False)
    for key in (old.key, old.manifest_key):  # only its name is old; make its age match
        path = store.base.joinpath(*key.split("/"))
        stamp = (datetime.now(UTC) - timedelta(days=40)).timestamp()
        os.utime(path, (stamp, stamp))

    done = _run("backup", "--dry-run", env=cli_env)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("DRY RUN")
    assert "would dump 127.0.0.1:" in out and "pg_dump (PostgreSQL) 18" in out
    assert "--no-owner --no-privileges" in out
    assert "would upload postgres/" in out and ".sql.gz.manifest.json" in out
    assert f"would prune 2 object(s) older than 30 day(s)\n  prune {old.key}\n" in out
    assert {b.key for b in catalog.list_backups(store)} == {old.key, newer.key}


def test_backup_then_list_then_refused_restore(seeded, store, cli_env, secret_role):
    role_url, password = secret_role
    env = cli_env | {"DATABASE_URL": role_url.replace("+psycopg", "+asyncpg")}
    older = run_backup(store, now=datetime.now(UTC) - timedelta(hours=30), prune_after=False)

    done = _run("backup", env=env)
    assert done.returncode == 0, done.stderr
    newest = catalog.latest(store)
    assert newest.key != older.key and done.stdout.startswith(newest.key)
    assert '"event": "backup_uploaded"' in done.stderr
    assert password not in done.stdout + done.stderr

    listed = _run("restore", "--list", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["KEY", "SIZE", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == [newest.key, older.key]
    assert lines[1].split()[-1].endswith("m") and "KiB" in lines[1]
    assert lines[2].split()[-2:] == ["1d", "6h"]

    refused = _run("restore", "--restore", "latest", env=env)
    assert refused.returncode == restore.EXIT_REFUSED
    reason = refused.stderr.strip().splitlines()[-1]
    assert reason.startswith("restore refused: target 127.0.0.1:")
    assert "content_records (120 rows)" in reason and "--force" in reason
    assert password not in refused.stdout + refused.stderr


def test_failed_backup_exits_non_zero_with_one_line_and_no_secret(
    store, cli_env, secret_role, database_url
):
    role_url, password = secret_role
    bad = urls.with_database(role_url, "no_such_database")

    done = _run("backup", env=cli_env | {"DATABASE_URL": bad})

    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("backup failed: ") and "no_such_database" in last
    assert password not in done.stdout + done.stderr
    assert list(store.list("")) == []


def test_restore_dry_run_and_usage(
    seeded, database_url, scratch_database, store, cli_env, monkeypatch, capsys
):
    for name in [n for n in os.environ if n.startswith("MINIO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OBJECT_STORE_DIR", cli_env["OBJECT_STORE_DIR"])
    run_backup(store, database_url)

    assert restore.main(["--restore", "latest", "--target-url", scratch_database, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would verify postgres/" in out and "sha256 " in out
    assert f"would restore into {urls.describe(scratch_database)}" in out
    assert "target is empty" in out and "120 rows" not in out

    assert restore.main(["--restore", "latest", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would REFUSE" in out and "content_records (120 rows)" in out

    assert restore.main(["--restore", "latest", "--dry-run", "--force"]) == 0
    assert "would drop and replace (--force)" in capsys.readouterr().out

    assert restore.main(["--restore", "postgres/2020/01/01/nope.sql.gz"]) == 1
    assert "not a backup key" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        restore.main(["--list", "--restore", "latest"])
    assert usage.value.code == restore.EXIT_USAGE
