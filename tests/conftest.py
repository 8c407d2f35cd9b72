"""Shared test harness: one real PostgreSQL server, a fresh database per test run.

The server is the embedded one (or the server of ``TEST_DATABASE_URL`` when
set); never SQLite, never a mocked session. ``DATABASE_URL`` is pointed at the
fresh database for the whole run, so resources, CLIs and subprocesses all use it.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from observatory_pipelines.db import scratch
from observatory_pipelines.db.engine import get_engine, migrate
from observatory_pipelines.db.introspect import application_tables
from observatory_pipelines.db.scratch import create_database, drop_database, unique_name
from observatory_pipelines.resources.postgres import PostgresResource


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL to the test server's maintenance database (for tests that make databases)."""
    return scratch.server_url()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> str:
    name = unique_name("test")
    url = create_database(server_url, name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    migrate(url)
    yield url
    get_engine(url).dispose()
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str):
    return get_engine(database_url)


@pytest.fixture()
def db(engine):
    """The migrated test database, emptied before the test (every application table)."""
    tables = application_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    return engine


@pytest.fixture()
def postgres(db, database_url: str) -> PostgresResource:
    return PostgresResource(database_url=database_url)


@pytest.fixture()
def scratch_database(server_url: str):
    """An empty database (unmigrated) for migration and restore tests; dropped afterwards."""
    name = unique_name("scratch")
    url = create_database(server_url, name)
    yield url
    get_engine(url).dispose()
    drop_database(server_url, name)


# --- object storage (issue 4): a real S3 server, and the resource on each backend ---


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on 127.0.0.1 for the whole run; yields its endpoint ``host:port``."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    access_log = logging.getLogger("werkzeug")  # one stderr line per request otherwise
    previous_level = access_log.level
    access_log.setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()
    access_log.setLevel(previous_level)


@pytest.fixture()
def object_store_resource(tmp_path):
    """The folder backend in this test's tmp dir (explicit buckets: no env leaks in)."""
    from observatory_pipelines.resources.object_store import ObjectStoreResource

    return ObjectStoreResource(
        local_dir=str(tmp_path / "object_store"),
        backup_bucket="observatory-backups",
        outputs_bucket="observatory-outputs",
    )


@pytest.fixture()
def s3_object_store_resource(s3_server):
    """The S3 backend on the moto server, with fresh buckets (created on first use)."""
    from observatory_pipelines.resources.object_store import ObjectStoreResource

    suffix = uuid.uuid4().hex[:12]
    return ObjectStoreResource(
        endpoint=s3_server,
        access_key="testing",
        secret_key="testing-secret",
        secure=False,
        region="us-east-1",
        backup_bucket=f"test-backups-{suffix}",
        outputs_bucket=f"test-outputs-{suffix}",
        part_size_mib=5,
    )
