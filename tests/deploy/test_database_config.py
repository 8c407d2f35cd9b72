"""Where the database is in a deployment: no silent embedded server in production (12.3),
and passwords with URL-reserved characters reach PostgreSQL intact (12.4)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml

from observatory_pipelines import settings
from observatory_pipelines.db import urls

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "p@ss/w:rd"
PART_VARIABLES = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD")


def _without_database(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for name in (*PART_VARIABLES, "POSTGRES_DB"):
        env.pop(name, None)
    env.update(OBSERVATORY_DATA_DIR=str(tmp_path / "data"), EMBEDDED_PG_PORT="1", **extra)
    return env


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "observatory_pipelines.setup_local"],
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        [sys.executable, "-m", "observatory_pipelines.db.embedded", "start"],
        [
            sys.executable,
            "-c",
            "from observatory_pipelines.db.engine import resolve_database_url as r; r()",
        ],
    ],
    ids=["setup", "alembic", "embedded", "app"],
)
def test_production_without_a_database_stops_with_one_line(tmp_path, command):
    env = _without_database(tmp_path, OBSERVATORY_ENV="production")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: OBSERVATORY_ENV=production and no database is configured")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "postgres").exists()  # no embedded server was made


def test_unknown_deployment_name_is_an_error(monkeypatch):
    monkeypatch.setenv("OBSERVATORY_ENV", "prod")
    with pytest.raises(ValueError, match="OBSERVATORY_ENV must be one of local, production"):
        settings.deployment()


def test_url_from_parts_encodes_reserved_characters(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTGRES_HOST", "postgres")
    monkeypatch.setenv("POSTGRES_USER", "observatory")
    monkeypatch.setenv("POSTGRES_PASSWORD", PASSWORD)
    monkeypatch.setenv("POSTGRES_DB", "observatory")
    parsed = urls.parse_database_url(settings.database_url())
    assert (parsed.host, parsed.port, parsed.username) == ("postgres", 5432, "observatory")
    assert (parsed.password, parsed.database) == (PASSWORD, "observatory")
    monkeypatch.setenv("POSTGRES_PORT", "54x")
    with pytest.raises(ValueError, match="POSTGRES_PORT must be a port number"):
        settings.database_url()


@pytest.fixture()
def reserved_role(database_url):
    """A login role whose password has every URL-reserved character of the bug report."""
    name = f"pw_{uuid.uuid4().hex[:8]}"
    admin = urls.libpq_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}'")
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP ROLE {name}")


def test_built_url_connects_as_the_role_with_that_password(
    monkeypatch, database_url, reserved_role
):
    server = urls.parse_database_url(database_url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTGRES_HOST", server.host)
    monkeypatch.setenv("POSTGRES_PORT", str(server.port))
    monkeypatch.setenv("POSTGRES_USER", reserved_role)
    monkeypatch.setenv("POSTGRES_PASSWORD", PASSWORD)
    monkeypatch.setenv("POSTGRES_DB", server.database)
    from observatory_pipelines.db.engine import resolve_database_url

    with psycopg.connect(urls.libpq_url(resolve_database_url())) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == (
            reserved_role,
            server.database,
        )
        assert (conn.info.host, conn.info.password) == (server.host, PASSWORD)


def test_deploy_dagster_yaml_resolves_parts_with_a_reserved_password(
    tmp_path, monkeypatch, scratch_database, reserved_role
):
    """The production instance config (deploy/dagster.yaml) on the test server, as that role."""
    from dagster import DagsterInstance
    from dagster_postgres.utils import pg_url_from_config
    from sqlalchemy.engine import make_url

    server = urls.parse_database_url(scratch_database)  # Dagster's own (empty) database
    monkeypatch.setenv("POSTGRES_HOST", server.host)
    monkeypatch.setenv("POSTGRES_PORT", str(server.port))
    monkeypatch.setenv("POSTGRES_USER", reserved_role)
    monkeypatch.setenv("POSTGRES_PASSWORD", PASSWORD)
    monkeypatch.setenv("DAGSTER_POSTGRES_DB", server.database)
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    structured = {
        key: os.environ[value["env"]]
        for key, value in config["run_storage"]["config"]["postgres_db"].items()
    }
    # The run, event and schedule storage reach the one Dagster database the same way.
    assert all(
        config[name]["config"]["postgres_db"] == config["run_storage"]["config"]["postgres_db"]
        for name in ("event_log_storage", "schedule_storage")
    )
    parsed = make_url(pg_url_from_config({"postgres_db": structured}))
    assert (parsed.host, parsed.port, parsed.username, parsed.password) == (
        server.host,
        server.port,
        reserved_role,
        PASSWORD,
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())
    with psycopg.connect(urls.libpq_url(scratch_database), autocommit=True) as conn:
        conn.execute(f"GRANT CREATE ON SCHEMA public TO {reserved_role}")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    try:
        with DagsterInstance.get() as instance:
            assert instance.get_runs() == []
            assert instance.run_storage.__class__.__name__ == "PrePingPostgresRunStorage"
            assert instance.event_log_storage.__class__.__name__ == (
                "PrePingPostgresEventLogStorage"
            )
    finally:
        with psycopg.connect(urls.libpq_url(scratch_database), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {reserved_role}")
