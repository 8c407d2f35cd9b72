"""Backups of servers older than the bundled client (18) restore into the server they came from.

PostgreSQL 16 from the ``pgserver`` wheel (a dev dependency: always here) runs in
every ``make test``; Debian's PostgreSQL 15 only where ``postgresql-15`` is
installed. Both client paths are exercised: a pg_dump matching the server, and
only the bundled, newer pg_dump (whose header sets ``transaction_timeout``).
"""

from __future__ import annotations

import gzip
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from observatory_pipelines.backups import clients
from observatory_pipelines.backups.backup import BackupFailed, describe_plan, run_backup
from observatory_pipelines.backups.drill import run_drill
from observatory_pipelines.backups.pgclient import client_target
from observatory_pipelines.backups.restore import plan_lines, restore
from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import create_utc_engine, migrate
from observatory_pipelines.db.scratch import create_database, drop_database, unique_name

from .conftest import SEED_SQL, content_facts
from .pg_servers import LocalServer, debian_bin_dir, pgserver_bin_dir

PG15 = debian_bin_dir(15)
requires_pg15 = pytest.mark.skipif(
    not (PG15 / "postgres").is_file(),
    reason=f"Debian's postgresql-15 is not installed ({PG15}/postgres missing); "
    "the PostgreSQL 16 tests cover an older server on every machine",
)


def _server(bin_dir: Path):
    server = LocalServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pg16():
    yield from _server(pgserver_bin_dir())


@pytest.fixture(scope="module")
def pg15():
    yield from _server(PG15)


def _seeded_database(server: LocalServer) -> str:
    """A migrated database on ``server`` holding ``seed_rows.sql``; returns its URL."""
    url = create_database(server.url(), unique_name("source"))
    migrate(url)
    engine = create_utc_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(SEED_SQL))
    finally:
        engine.dispose()
    return url


@pytest.fixture()
def pg16_source(pg16):
    url = _seeded_database(pg16)
    yield url
    drop_database(pg16.url(), urls.parse_database_url(url).database)


@pytest.fixture()
def pg16_target(pg16):
    name = unique_name("target")
    yield create_database(pg16.url(), name)
    drop_database(pg16.url(), name)


@pytest.fixture()
def matching_client_16(monkeypatch):
    monkeypatch.setenv("PG_BIN_DIR_16", str(pgserver_bin_dir()))


@pytest.fixture()
def only_bundled_client(monkeypatch):
    """No client for the older majors: not configured, and no well-known folder searched."""
    for major in (15, 16, 17):
        monkeypatch.delenv(f"PG_BIN_DIR_{major}", raising=False)
    monkeypatch.setenv("PG_BIN_SEARCH_PATH", "none")


def _dump_sql(store, key: str) -> str:
    return gzip.decompress(store.get_bytes(key)).decode()


def _assert_same_content(source_url: str, target_url: str) -> None:
    source_counts, source_checksum, revision = content_facts(source_url)
    assert source_counts["content_records"] == 120 and source_counts["users"] == 2
    assert content_facts(target_url) == (source_counts, source_checksum, revision)


def _replay(psql: str, store, key: str, target_url: str) -> subprocess.CompletedProcess:
    """The dump fed to ``psql`` as it is, without the restore's choices and filter."""
    conninfo, env = client_target(urls.libpq_url(target_url))
    return subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", f"--dbname={conninfo}"],
        input=gzip.decompress(store.get_bytes(key)),
        capture_output=True,
        env=env,
    )


# -- PostgreSQL 16 (pgserver wheel): always runs --------------------------------------------
def test_pg16_backup_with_matching_pg_dump_restores_into_pg16(
    pg16_source, pg16_target, store, matching_client_16
):
    result = run_backup(store, pg16_source)

    manifest = result.manifest
    assert manifest.server_version.startswith("16.")
    assert (manifest.server_major, manifest.pg_dump_major) == (16, 16)
    assert manifest.pg_dump_version == "pg_dump (PostgreSQL) 16.2"
    assert manifest.pg_dump_source == "PG_BIN_DIR_16"
    assert store.stat(result.key).metadata["pg-dump-version"] == "16.2"
    sql = _dump_sql(store, result.key)
    assert "-- Dumped by pg_dump version 16.2" in sql
    assert "transaction_timeout" not in sql

    restored = restore(store, result.key, pg16_target)

    assert restored.server_major == 16
    assert restored.psql_version == "psql (PostgreSQL) 16.2"  # the matching psql
    assert restored.skipped_settings == ()
    _assert_same_content(pg16_source, pg16_target)


def test_pg16_backup_with_only_the_newer_pg_dump_restores_into_pg16(
    pg16_source, pg16_target, store, only_bundled_client
):
    result = run_backup(store, pg16_source)

    manifest = result.manifest
    assert (manifest.server_major, manifest.pg_dump_major) == (16, 18)
    assert manifest.pg_dump_source == "bundled"
    assert "SET transaction_timeout = 0;" in _dump_sql(store, result.key)

    restored = restore(store, result.key, pg16_target)

    assert restored.psql_version.startswith("psql (PostgreSQL) 18")
    assert restored.skipped_settings == ("transaction_timeout",)
    _assert_same_content(pg16_source, pg16_target)


def test_the_newer_dump_unfiltered_is_what_pg16_rejects(
    pg16_source, pg16_target, store, only_bundled_client
):
    """Why the restore filters: the same dump fed to psql as it is fails on PostgreSQL 16."""
    result = run_backup(store, pg16_source)
    replay = _replay(clients.bundled().path("psql"), store, result.key, pg16_target)
    assert replay.returncode == 3
    assert b'unrecognized configuration parameter "transaction_timeout"' in replay.stderr


def test_a_newer_dump_is_restored_with_the_newer_psql_even_when_a_matching_one_exists(
    pg16_source, pg16_target, store, only_bundled_client, monkeypatch
):
    # pg_dump 18.6 writes \restrict, which psql 16.2 does not know: the matching psql is
    # older than the dump, so the bundled one restores it.
    result = run_backup(store, pg16_source)
    monkeypatch.setenv("PG_BIN_DIR_16", str(pgserver_bin_dir()))
    assert "\\restrict " in _dump_sql(store, result.key)
    old_psql = _replay(str(pgserver_bin_dir() / "psql"), store, result.key, pg16_target)
    assert old_psql.returncode == 3 and b"invalid command \\restrict" in old_psql.stderr

    restored = restore(store, result.key, pg16_target)

    assert restored.psql_version.startswith("psql (PostgreSQL) 18")
    _assert_same_content(pg16_source, pg16_target)


@pytest.mark.parametrize("client", ["matching", "only_newer"])
def test_restore_drill_passes_against_pg16(pg16, pg16_source, store, monkeypatch, client):
    if client == "matching":
        monkeypatch.setenv("PG_BIN_DIR_16", str(pgserver_bin_dir()))
    else:
        monkeypatch.delenv("PG_BIN_DIR_16", raising=False)
        monkeypatch.setenv("PG_BIN_SEARCH_PATH", "none")
    result = run_backup(store, pg16_source)
    assert result.manifest.pg_dump_major == (16 if client == "matching" else 18)

    drill = run_drill(store, pg16.url())

    assert drill.passed, drill.reason
    assert drill.key == result.key
    assert drill.rows == sum(result.manifest.row_counts.values())
    assert drill.tables == len(result.manifest.row_counts) and drill.mismatches == {}
    engine = create_utc_engine(pg16.url())
    try:
        with engine.connect() as conn:  # the scratch database is gone again
            left = conn.execute(text("SELECT datname FROM pg_database WHERE datname ~ '^restore'"))
            assert left.fetchall() == []
    finally:
        engine.dispose()


def test_dry_runs_name_the_client_and_the_server_major(
    pg16_source, pg16_target, store, matching_client_16
):
    plan = "\n".join(describe_plan(store, pg16_source, datetime.now(UTC)))
    assert "(PostgreSQL 16) with pg_dump (PostgreSQL) 16.2" in plan
    assert "PG_BIN_DIR_16; matches the server" in plan
    run_backup(store, pg16_source)
    restore_plan = "\n".join(plan_lines(store, "latest", pg16_target, force=False))
    assert "(PostgreSQL 16) with psql (PostgreSQL) 16.2" in restore_plan


# -- operator configuration that is wrong: one clear line, nothing written -----------------
@pytest.mark.parametrize(
    ("folder", "problem"),
    [
        (lambda: clients.bundled().bin_dir, r"is PostgreSQL 18, not 16"),
        (lambda: Path("/nonexistent/pg16/bin"), r"no pg_dump in /nonexistent/pg16/bin"),
    ],
    ids=["wrong-major", "missing-folder"],
)
def test_a_wrong_pg_bin_dir_fails_the_backup_naming_the_variable(
    pg16_source, store, monkeypatch, folder, problem
):
    monkeypatch.setenv("PG_BIN_DIR_16", str(folder()))
    with pytest.raises(BackupFailed, match=rf"PG_BIN_DIR_16=.* is not usable: .*{problem}"):
        run_backup(store, pg16_source)
    assert list(store.list("")) == []


def test_a_server_newer_than_every_client_is_refused(monkeypatch):
    monkeypatch.setenv("PG_BIN_SEARCH_PATH", "none")
    with pytest.raises(clients.ClientNotFound, match="PostgreSQL 19, newer than .* PG_BIN_DIR_19"):
        clients.for_dump(19)


# -- PostgreSQL 15 (Debian package): only where installed ----------------------------------
@requires_pg15
@pytest.mark.parametrize("client", ["well_known_folder", "only_newer"])
def test_pg15_backup_restores_into_pg15_and_the_drill_passes(pg15, store, monkeypatch, client):
    monkeypatch.delenv("PG_BIN_DIR_15", raising=False)
    if client == "only_newer":
        monkeypatch.setenv("PG_BIN_SEARCH_PATH", "none")
    else:
        monkeypatch.delenv("PG_BIN_SEARCH_PATH", raising=False)  # the default search
    source = _seeded_database(pg15)
    target_name = unique_name("target")
    target = create_database(pg15.url(), target_name)
    try:
        result = run_backup(store, source)
        expected_source = "PG_BIN_SEARCH_PATH" if client == "well_known_folder" else "bundled"
        assert result.manifest.server_major == 15
        assert result.manifest.pg_dump_source == expected_source
        assert result.manifest.pg_dump_major == (15 if client == "well_known_folder" else 18)

        restored = restore(store, result.key, target)
        expected_skips = () if client == "well_known_folder" else ("transaction_timeout",)
        assert restored.skipped_settings == expected_skips
        _assert_same_content(source, target)

        drill = run_drill(store, pg15.url())
        assert drill.passed, drill.reason
    finally:
        drop_database(pg15.url(), target_name)
        drop_database(pg15.url(), urls.parse_database_url(source).database)
