"""Throw-away databases on a server: test runs, restore drills and benchmarks."""

from __future__ import annotations

import os
import uuid

from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import connect


def server_url() -> str:
    """The maintenance database of the server for throw-away databases: the server of
    ``TEST_DATABASE_URL`` when set, else the embedded one."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        return urls.sqlalchemy_url(urls.with_database(base, "postgres"))
    from observatory_pipelines.db.embedded import EmbeddedPostgres

    return EmbeddedPostgres().ensure_running("postgres")


def _maintenance(server_url: str) -> str:
    return urls.libpq_url(urls.with_database(server_url, "postgres"))


def create_database(server_url: str, name: str) -> str:
    """Create ``name`` on the server of ``server_url``; return its URL (same credentials)."""
    with connect(_maintenance(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urls.with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with connect(_maintenance(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
