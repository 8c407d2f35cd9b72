"""Foundation: URL spellings, the embedded server, migrations, drift, definitions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import (
    DatabaseUnreachable,
    alembic_config,
    check_reachable,
    get_engine,
    migrate,
    resolve_database_url,
)
from observatory_pipelines.db.introspect import schema_revision, table_row_counts
from observatory_pipelines.db.models import ALL_MODELS, Base

EXPECTED_TABLES = {model.__tablename__ for model in ALL_MODELS}
CONTENT_INDEXES = {
    "idx_content_platform",
    "idx_content_arena",
    "idx_content_published",
    "idx_content_query",
    "idx_content_hash",
    "idx_content_author",
    "idx_content_terms",
    "idx_content_metadata",
    "idx_content_fulltext",
}


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://alice:pw@db.example:6543/obs",
        "postgres://alice:pw@db.example:6543/obs",
        "postgresql+psycopg://alice:pw@db.example:6543/obs",
        "postgresql+asyncpg://alice:pw@db.example:6543/obs",
    ],
)
def test_every_common_url_spelling_resolves_to_psycopg(raw):
    assert urls.sqlalchemy_url(raw) == "postgresql+psycopg://alice:pw@db.example:6543/obs"
    assert urls.libpq_url(raw) == "postgresql://alice:pw@db.example:6543/obs"
    assert urls.describe(raw) == "db.example:6543/obs"


def test_asyncpg_ssl_parameter_becomes_libpq_sslmode():
    url = urls.libpq_url("postgresql+asyncpg://a:b@h/db?ssl=require")
    assert url.endswith("?sslmode=require")


def test_unknown_scheme_is_refused_by_name():
    with pytest.raises(urls.DatabaseUrlError, match="mysql"):
        urls.sqlalchemy_url("mysql://a:b@h/db")


def test_unreachable_database_url_is_one_line_naming_host_without_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://bob:s3cr3t-pw@127.0.0.1:1/obs")
    url = resolve_database_url()  # no silent fallback to the embedded server
    assert url.startswith("postgresql+psycopg://bob:")
    with pytest.raises(DatabaseUnreachable) as info:
        check_reachable(url, timeout=2)
    message = str(info.value)
    assert "127.0.0.1:1/obs" in message
    assert "s3cr3t-pw" not in message
    assert "\n" not in message


def test_setup_local_with_unreachable_url_exits_with_one_line(monkeypatch):
    env = {"DATABASE_URL": "postgres://bob:s3cr3t-pw@127.0.0.1:1/obs", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "observatory_pipelines.setup_local"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: cannot reach PostgreSQL at 127.0.0.1:1/obs")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cr3t-pw" not in result.stderr + result.stdout


def test_migrated_schema_has_every_table_partition_and_index(engine):
    inspector = inspect(engine)
    assert EXPECTED_TABLES <= set(inspector.get_table_names())
    with engine.connect() as conn:
        partitions = set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'content_records'::regclass"
                )
            ).scalars()
        )
        indexes = set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'content_records'")
            ).scalars()
        )
        strategy = conn.execute(
            text(
                "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'content_records'::regclass"
            )
        ).scalar()
    assert {
        "content_records_2026_02",
        "content_records_2026_03",
        "content_records_2026_04",
        "content_records_default",
    } <= partitions
    assert CONTENT_INDEXES <= indexes
    assert strategy == "r"


def _drift(engine) -> list:
    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table" and name and name.startswith("content_records_"):
            return False  # partitions are the partition manager's, not the models'
        if type_ == "table" and name == "alembic_version":
            return False
        return True

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(context, Base.metadata)


def test_models_match_the_migrated_database(engine):
    assert _drift(engine) == []


def test_drift_check_notices_a_column_the_models_lack(scratch_database):
    migrate(scratch_database)
    engine = get_engine(scratch_database)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE users ADD COLUMN nickname text"))
    diffs = _drift(engine)
    assert any(d[0] == "remove_column" and d[3].name == "nickname" for d in diffs)


def test_upgrade_downgrade_upgrade_round_trip(scratch_database):
    config = alembic_config(scratch_database)
    command.upgrade(config, "head")
    engine = create_engine(scratch_database)
    try:
        assert schema_revision(engine) == _head()
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
        assert schema_revision(engine) == _head()
    finally:
        engine.dispose()


def test_migrating_a_database_at_head_is_a_noop(database_url, engine):
    before = table_row_counts(engine)
    migrate(database_url)
    assert schema_revision(engine) == _head()
    assert table_row_counts(engine) == before


def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("postgresql://x@h/db")).get_current_head()


def test_published_at_is_never_null(db):
    with db.connect() as conn:
        nullable = conn.execute(
            text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'content_records' AND column_name = 'published_at'"
            )
        ).scalar()
    assert nullable == "NO"


def test_definitions_load_and_database_status_materializes(postgres, db):
    from observatory_pipelines.definitions import defs
    from observatory_pipelines.status.assets import database_status

    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_assets_def("database_status").key == database_status.key
    result = dg.materialize([database_status], resources={"postgres": postgres})
    assert result.success
    metadata = result.asset_materializations_for_node("database_status")[0].metadata
    assert metadata["schema_revision"].value == _head()
    rows = {r.data["table"]: r.data["rows"] for r in metadata["row_counts"].value.records}
    assert set(rows) == EXPECTED_TABLES
    assert rows["users"] == 0


def test_dg_check_defs_passes():
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # a temporary instance
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_demo_seed_is_created_once(db):
    from observatory_pipelines.setup_local import seed_demo

    assert seed_demo(db) is True
    assert seed_demo(db) is False
    counts = table_row_counts(db)
    assert counts["users"] == 1
    assert counts["query_designs"] == 1
    assert counts["search_terms"] == 5
    assert counts["credit_allocations"] == 1


def test_logs_are_json_lines(capfd):
    from observatory_pipelines.logs import get_logger

    get_logger("test").info("hello", records=3, api_key="do-not-print")
    line = capfd.readouterr().err.strip().splitlines()[-1]
    event = json.loads(line)
    assert event["event"] == "hello" and event["records"] == 3
    assert event["api_key"] == "***"
    assert "do-not-print" not in line


def test_two_processes_starting_the_embedded_server_get_one_server(tmp_path):
    """A private data folder and port, so the shared server is untouched."""
    with socket.socket() as probe:  # a port nothing listens on now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = (
        "import sys; from observatory_pipelines.db.embedded import EmbeddedPostgres;"
        f"s = EmbeddedPostgres(root=sys.argv[1], port={port}); s.ensure_running('postgres');"
        "print(s.pid())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    pids = {p.communicate(timeout=120)[0].strip() for p in procs}
    from observatory_pipelines.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(root=tmp_path, port=port)
    try:
        assert all(p.returncode == 0 for p in procs)
        assert len(pids) == 1 and pids != {""}
        # A crash leaves postmaster.pid behind, naming a process that is gone.
        pidfile = server.pgdata / "postmaster.pid"
        stale = pidfile.read_text().splitlines()
        server.stop()
        assert not server._answers()
        dead_pid = next(p for p in range(4_000_000, 4_100_000) if not Path(f"/proc/{p}").exists())
        pidfile.write_text("\n".join([str(dead_pid), *stale[1:]]) + "\n")
        server.ensure_running("postgres")
        assert server._answers()
        assert server.pid() != dead_pid
    finally:
        server.stop()
