"""The project's pooled engine after its PostgreSQL server restarted: the next query works
(the dead pooled connection is replaced before use, not handed to the caller)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from observatory_pipelines.db.embedded import EmbeddedPostgres
from observatory_pipelines.db.engine import get_engine
from tests.deploy.topology import free_ports


@pytest.fixture()
def own_server():
    # Outside pytest's tmp root (see tests/deploy/topology.py).
    root = Path(tempfile.mkdtemp(prefix="observatory-restart-"))
    root.chmod(0o755)
    (port,) = free_ports(1, first=56350)
    server = EmbeddedPostgres(root=root, port=port)
    server.ensure_running("restart_check")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_the_pooled_engine_survives_a_server_restart(own_server):
    engine = get_engine(own_server.url("restart_check"))
    before = _backend_pid(engine)
    assert _backend_pid(engine) == before  # the pool hands the same connection back

    own_server.stop()
    own_server.ensure_running("restart_check")

    after = _backend_pid(engine)  # no OperationalError: the stale connection was replaced
    assert after != before
    engine.dispose()


def test_the_webservers_dagster_storage_survives_a_server_restart(own_server):
    """dagster-postgres pools connections only in the webserver (optimize_for_webserver); the
    plain storage's first call after a restart fails, ours reconnects."""
    from dagster_postgres.run_storage import PostgresRunStorage
    from sqlalchemy.exc import OperationalError

    from observatory_pipelines.resources.dagster_storage import PrePingPostgresRunStorage

    own_server.ensure_database("dagster_restart")
    url = own_server.url("dagster_restart").replace("+psycopg", "")
    checked, plain = PrePingPostgresRunStorage(url), PostgresRunStorage(url)
    for storage in (checked, plain):
        storage.optimize_for_webserver(statement_timeout=5000, pool_recycle=3600, max_overflow=2)
        assert storage.get_runs() == []  # a pooled connection is now held

    own_server.stop()
    own_server.ensure_running("dagster_restart")

    assert checked.get_runs() == []
    with pytest.raises(OperationalError, match="server closed the connection"):
        plain.get_runs()
    assert plain.get_runs() == []  # the failed call invalidated its pool
    for storage in (checked, plain):
        storage.dispose()
