"""Throw-away databases on a server: test runs, restore drills and benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from observatory_pipelines.db import urls


def _maintenance(server_url: str) -> str:
    return urls.libpq_url(urls.with_database(server_url, "postgres"))


def create_database(server_url: str, name: str) -> str:
    """Create ``name`` on the server of ``server_url``; return its URL (same credentials)."""
    with psycopg.connect(_maintenance(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urls.with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(_maintenance(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def scratch_database(server_url: str, prefix: str = "scratch") -> Iterator[str]:
    """An empty database for the block, dropped afterwards whatever happened."""
    name = unique_name(prefix)
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)
