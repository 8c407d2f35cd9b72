"""How every per-record enrichment runs: once per record, new records only, versioned.

An enrichment (``Enrichment``) names the record columns it reads, the tables it owns and a
``process`` step over one page of records. The runner (``run_enrichment``):

- compares the enrichment's current ``method_version`` (package version + a hash of our
  parameters) with the one stored in ``enrichment_versions``; when they differ, every row of
  the enrichment's tables is deleted in the same transaction that stores the new version,
  so the run that follows recomputes every record (spec §0: reproducible, idempotent);
- pages through ``content_records`` by key (``id > last``, never OFFSET: the original's
  nightly job skipped records because each page it enriched left the OFFSET set), reading
  only records that have no row yet in the enrichment's marker table (one row per record,
  also for records with nothing to report), through a server-side cursor;
- writes each page's results with COPY in the transaction that read the page, so a page is
  done entirely or not at all and a crashed run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from observatory_pipelines.logs import get_logger

SQL_DIR = Path(__file__).resolve().parent / "sql"
PAGE_SIZE = 5_000
FETCH_SIZE = 1_000
log = get_logger(__name__)


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def method_version(packages: Sequence[str], revision: int, parameters: dict[str, Any]) -> str:
    """``<pkg>-<version>+...+r<revision>+<parameter hash>``: changes when any of them does."""
    versions = [f"{name}-{metadata.version(name)}" for name in packages]
    digest = hashlib.sha256(
        json.dumps(parameters, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()[:12]
    return "+".join([*versions, f"r{revision}", digest])


@dataclass(frozen=True)
class Page:
    """One page of records to enrich, and what the step may need besides the rows."""

    rows: list[dict[str, Any]]
    method: str
    method_version: str
    computed_at: datetime


@dataclass(frozen=True)
class Enrichment:
    """One enrichment: the record columns it reads and the tables it writes."""

    name: str  # also the Dagster asset name and the ``method`` stored with each row
    description: str
    method_version: str
    # SELECT-list expressions over ``content_records AS c`` (first two: id, published_at)
    columns: tuple[str, ...]
    marker_table: str  # one row per enriched record: (record_id, published_at, ...)
    tables: tuple[str, ...]  # every table the enrichment owns, marker last
    # writes the page's results on ``conn`` (inside the page's transaction); returns the
    # number of rows written per table
    process: Callable[[psycopg.Connection, Page], dict[str, int]]
    # tables among ``tables`` not keyed by record (emptied on a new version, never pruned)
    unkeyed_tables: tuple[str, ...] = ()
    # SQL file (in sql/) run after results of vanished records were pruned
    after_prune_sql: str | None = None
    # what the result depends on in the database (e.g. the actor gazetteer): its digest is
    # part of the version, so editing the actors recomputes every record
    data_version: Callable[[psycopg.Connection], str] | None = None
    # what the asset's metadata shows besides the counts, read after the run: name → a
    # JSON-able value, or PNG bytes (shown as a picture)
    report: Callable[[psycopg.Connection], dict[str, Any]] | None = None


def current_version(conn: psycopg.Connection, enrichment: Enrichment) -> str:
    """The version results must carry now: code and parameters, plus the data they use."""
    if enrichment.data_version is None:
        return enrichment.method_version
    return f"{enrichment.method_version}+d{enrichment.data_version(conn)}"


@dataclass
class RunSummary:
    enrichment: str
    method_version: str
    recomputed_all: bool
    records: int = 0
    pages: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY ``rows`` into ``table``; the number of rows written."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    written = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def stored_version(conn: psycopg.Connection, name: str) -> str | None:
    row = conn.execute(
        "SELECT method_version FROM enrichment_versions WHERE enrichment = %s", [name]
    ).fetchone()
    return row[0] if row else None


def _reset_if_version_changed(conn: psycopg.Connection, enrichment: Enrichment) -> bool:
    """Delete every result of another version; True when something had to be recomputed."""
    with conn.transaction():
        # FOR UPDATE: two runs of one enrichment never reset and fill at the same time
        row = conn.execute(
            "SELECT method_version FROM enrichment_versions WHERE enrichment = %s FOR UPDATE",
            [enrichment.name],
        ).fetchone()
        if row is not None and row[0] == enrichment.method_version:
            return False
        for table in enrichment.tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        conn.execute(
            "INSERT INTO enrichment_versions (enrichment, method_version, set_at) "
            "VALUES (%s, %s, now()) ON CONFLICT (enrichment) DO UPDATE "
            "SET method_version = EXCLUDED.method_version, set_at = EXCLUDED.set_at",
            [enrichment.name, enrichment.method_version],
        )
        return row is not None


def _pending_page_sql(enrichment: Enrichment) -> sql.Composed:
    return sql.SQL(_sql("pending_page.sql")).format(
        columns=sql.SQL(", ").join(sql.SQL(c) for c in enrichment.columns),
        marker=sql.Identifier(enrichment.marker_table),
    )


def run_enrichment(
    conn: psycopg.Connection,
    enrichment: Enrichment,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[RunSummary], None] | None = None,
) -> RunSummary:
    """Enrich every record that has no result of the current version yet (see module doc)."""
    with _exclusive(conn, enrichment.name):
        return _run(conn, enrichment, page_size, on_page)


class EnrichmentBusy(RuntimeError):
    """Another run of the same enrichment holds its lock."""


@contextmanager
def _exclusive(conn: psycopg.Connection, name: str):
    """One run per enrichment at a time: two would pick the same pending records."""
    key = f"observatory_pipelines.enrichments:{name}"
    got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key]).fetchone()[0]
    if not got:
        raise EnrichmentBusy(f"another run of enrichment {name!r} is in progress; try again later")
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def _run(
    conn: psycopg.Connection,
    enrichment: Enrichment,
    page_size: int,
    on_page: Callable[[RunSummary], None] | None,
) -> RunSummary:
    started = time.perf_counter()
    enrichment = dataclasses.replace(enrichment, method_version=current_version(conn, enrichment))
    recomputed = _reset_if_version_changed(conn, enrichment)
    summary = RunSummary(enrichment.name, enrichment.method_version, recomputed)
    page_sql = _pending_page_sql(enrichment)
    last_id = None
    while True:
        with conn.transaction():
            with conn.cursor(name=f"enrich_{enrichment.name}", row_factory=dict_row) as cur:
                cur.itersize = FETCH_SIZE
                cur.execute(page_sql, {"last_id": last_id, "page_size": page_size})
                rows = list(cur)
            if not rows:
                break
            page = Page(rows, enrichment.name, enrichment.method_version, datetime.now(UTC))
            written = enrichment.process(conn, page)
        last_id = rows[-1]["id"]
        summary.records += len(rows)
        summary.pages += 1
        for table, count in written.items():
            summary.rows_written[table] = summary.rows_written.get(table, 0) + count
        log.info(
            "enrichment_page",
            enrichment=enrichment.name,
            page=summary.pages,
            records=summary.records,
            rows_written=summary.rows_written,
        )
        if on_page is not None:
            on_page(summary)
        if len(rows) < page_size:
            break
    summary.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "enrichment_done",
        enrichment=enrichment.name,
        method_version=enrichment.method_version,
        recomputed_all=recomputed,
        records=summary.records,
        rows_written=summary.rows_written,
        seconds=summary.seconds,
    )
    return summary


def coverage(conn: psycopg.Connection, enrichment: Enrichment) -> dict[str, int]:
    """Records, records with a result of the current version, and records without one."""
    statement = sql.SQL(_sql("coverage.sql")).format(marker=sql.Identifier(enrichment.marker_table))
    version = current_version(conn, enrichment)
    row = conn.execute(statement, {"method_version": version}).fetchone()
    records, current = row
    return {"records": records, "enriched": current, "missing": records - current}


def prune_orphans(conn: psycopg.Connection, enrichment: Enrichment) -> int:
    """Delete the results of records no longer in content_records (erased, expired)."""
    deleted = 0
    with conn.transaction():
        for table in (t for t in enrichment.tables if t not in enrichment.unkeyed_tables):
            statement = sql.SQL(_sql("prune_orphans.sql")).format(table=sql.Identifier(table))
            deleted += conn.execute(statement).rowcount
        if deleted and enrichment.after_prune_sql:
            conn.execute(_sql(enrichment.after_prune_sql))
    if deleted:
        log.info("enrichment_pruned", enrichment=enrichment.name, rows=deleted)
    return deleted
