"""A hand-countable corpus inserted into the real test database, one helper per test."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from observatory_pipelines.db.engine import connect

BASE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture()
def conn(db, database_url):
    with connect(database_url, autocommit=True) as connection:
        yield connection


def insert_record(conn: psycopg.Connection, n: int, **fields) -> uuid.UUID:
    """Record number ``n`` (published ``n`` minutes after BASE unless given), its id."""
    record_id = fields.pop("id", uuid.uuid4())
    row = {
        "id": record_id,
        "published_at": BASE + timedelta(minutes=n),
        "platform": "bluesky",
        "arena": "social",
        "platform_id": f"p{n}-{record_id}",
        "content_type": "post",
        "collection_tier": "free",
        "raw_metadata": {},
        **fields,
    }
    row["raw_metadata"] = json.dumps(row["raw_metadata"])
    columns = ", ".join(row)
    placeholders = ", ".join(f"%({c})s" for c in row)
    conn.execute(f"INSERT INTO content_records ({columns}) VALUES ({placeholders})", row)
    return record_id


def fill(conn: psycopg.Connection, count: int, start: int = 0) -> list[uuid.UUID]:
    """``count`` plain records with one link each (numbers ``start`` …)."""
    return [
        insert_record(conn, n, text_content=f"Indlæg {n} om klima https://dr.dk/n/{n}")
        for n in range(start, start + count)
    ]
