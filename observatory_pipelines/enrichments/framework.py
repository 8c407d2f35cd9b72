"""How every per-record enrichment runs: once per record, new records only, versioned.

An enrichment (``Enrichment``) names the record columns it reads, the tables it owns and a
``process`` step over one page of records. The runner (``run_enrichment``):

- compares the enrichment's current ``method_version`` (package version + a hash of our
  parameters) with the one stored in ``enrichment_versions``; when they differ, every row of
  the enrichment's tables is deleted in the same transaction that stores the new version,
  so the run that follows recomputes every record (spec §0: reproducible, idempotent);
- the first run of a version (and any run after the partitions of ``content_records``
  changed: retention dropped a month, maintenance attached one) is a **full pass**: results
  of records that are gone are pruned by an anti-join, then ``content_records`` is paged by
  key (``id > last``, never OFFSET: the original's nightly job skipped records because each
  page it enriched left the OFFSET set), reading only records without a row in the
  enrichment's marker table (one row per record, also for records with nothing to report);
- every later run is **incremental**: statement triggers on ``content_records`` log each
  record inserted or deleted through the parent in ``enrichment_changes``, once per
  enrichment with a stored version; the run takes its enrichment's deletions (pruning their
  results) and then its insertions (enriching those without a result), a page at a time, so
  its work follows the changes since the last run and not the size of the table. Changes
  committed during a full pass are logged too and applied by the next run;
- writes each page's results with COPY in the transaction that read (or took) the page, so
  a page is done entirely or not at all and a crashed run resumes where it stopped;
- keeps the count of its marker rows in ``enrichment_versions`` (exact after a full pass,
  then moved by each page and prune), so the coverage of a run is that count plus the
  logged insertions still without a result; ``coverage(..., exact=True)`` counts it all.
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
    # run after results of vanished records were pruned, in the same transaction; the
    # marker rows deleted are in pg_temp.pruned_markers
    after_prune: Callable[[psycopg.Connection], None] | None = None
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
    mode: str = ""  # "full": every record read; "incremental": the logged changes only
    records: int = 0  # records enriched
    pages: int = 0
    # records read to find those to enrich (full: every record without a result, pages of
    # the keyset; incremental: the keys taken from the change log)
    records_examined: int = 0
    changes_taken: int = 0  # rows consumed from enrichment_changes (insertions and deletions)
    rows_written: dict[str, int] = field(default_factory=dict)
    rows_pruned: int = 0
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
        if row is None:
            # The triggers log changes only for enrichments with a version row: an insert
            # still in progress (its trigger ran before this row existed) must commit before
            # the full pass reads the records, or the pass could miss it. SHARE waits for
            # those and lets later inserts, which see the row, proceed once this commits.
            conn.execute("LOCK TABLE content_records IN SHARE MODE")
        for table in enrichment.tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        conn.execute(
            _sql("version_reset.sql"),
            {"enrichment": enrichment.name, "method_version": enrichment.method_version},
        )
        return row is not None


def _column_list(enrichment: Enrichment) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL(c) for c in enrichment.columns)


def _pending_page_sql(enrichment: Enrichment) -> sql.Composed:
    return sql.SQL(_sql("pending_page.sql")).format(
        columns=_column_list(enrichment), marker=sql.Identifier(enrichment.marker_table)
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
    partitions = conn.execute(_sql("partitions.sql")).fetchone()[0]
    swept = conn.execute(
        "SELECT swept_partitions FROM enrichment_versions WHERE enrichment = %s",
        [enrichment.name],
    ).fetchone()[0]
    if swept is not None and sorted(swept) == sorted(partitions):
        summary.mode = "incremental"
        _prune_changed(conn, enrichment, page_size, summary)
        _enrich_changed(conn, enrichment, page_size, summary, on_page)
    else:
        summary.mode = "full"
        _full_pass(conn, enrichment, page_size, summary, on_page, partitions)
    summary.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "enrichment_done",
        enrichment=enrichment.name,
        method_version=enrichment.method_version,
        mode=summary.mode,
        recomputed_all=recomputed,
        records=summary.records,
        records_examined=summary.records_examined,
        changes_taken=summary.changes_taken,
        rows_written=summary.rows_written,
        rows_pruned=summary.rows_pruned,
        seconds=summary.seconds,
    )
    return summary


def _full_pass(
    conn: psycopg.Connection,
    enrichment: Enrichment,
    page_size: int,
    summary: RunSummary,
    on_page: Callable[[RunSummary], None] | None,
    partitions: list[int],
) -> None:
    """Prune by anti-join, enrich by keyset over every record; then runs go incremental."""
    # The changes visible now are covered by this pass (it reads every record committed
    # before each page); those committed while it runs stay for the next run.
    conn.execute("DELETE FROM enrichment_changes WHERE enrichment = %s", [enrichment.name])
    summary.rows_pruned += prune_orphans(conn, enrichment)
    page_sql = _pending_page_sql(enrichment)
    last_id = None
    while True:
        with conn.transaction():
            params = {"last_id": last_id, "page_size": page_size}
            rows = _read_page(conn, enrichment, page_sql, params)
            summary.records_examined += len(rows)
            if not rows:
                break
            _write_page(conn, enrichment, rows, summary)
        last_id = rows[-1]["id"]
        _page_done(enrichment, summary, on_page)
        if len(rows) < page_size:
            break
    marker = sql.Identifier(enrichment.marker_table)
    conn.execute(
        sql.SQL(
            "UPDATE enrichment_versions SET swept_partitions = %s, "
            "enriched_records = (SELECT count(*) FROM {}) WHERE enrichment = %s"
        ).format(marker),
        [partitions, enrichment.name],
    )


def _take_changes(
    conn: psycopg.Connection, enrichment: Enrichment, deleted: bool, page_size: int
) -> dict[str, list]:
    taken = conn.execute(
        _sql("take_changes.sql"),
        {"enrichment": enrichment.name, "deleted": deleted, "page_size": page_size},
    ).fetchall()
    return {"ids": [t[0] for t in taken], "published_ats": [t[1] for t in taken]}


def _prune_changed(
    conn: psycopg.Connection, enrichment: Enrichment, page_size: int, summary: RunSummary
) -> None:
    """Results of the records deleted since the last run, by key (index probes only)."""
    while True:
        with conn.transaction():
            keys = _take_changes(conn, enrichment, True, page_size)
            summary.changes_taken += len(keys["ids"])
            if not keys["ids"]:
                break
            summary.rows_pruned += _prune(conn, enrichment, "prune_changed.sql", keys)
        if len(keys["ids"]) < page_size:
            break


def _enrich_changed(
    conn: psycopg.Connection,
    enrichment: Enrichment,
    page_size: int,
    summary: RunSummary,
    on_page: Callable[[RunSummary], None] | None,
) -> None:
    """The records inserted since the last run that have no result yet."""
    page_sql = sql.SQL(_sql("changed_page.sql")).format(
        columns=_column_list(enrichment), marker=sql.Identifier(enrichment.marker_table)
    )
    while True:
        with conn.transaction():
            keys = _take_changes(conn, enrichment, False, page_size)
            summary.changes_taken += len(keys["ids"])
            if not keys["ids"]:
                break
            rows = _read_page(conn, enrichment, page_sql, keys)
            summary.records_examined += len(keys["ids"])
            if rows:
                _write_page(conn, enrichment, rows, summary)
        if rows:
            _page_done(enrichment, summary, on_page)
        if len(keys["ids"]) < page_size:
            break


def _read_page(
    conn: psycopg.Connection, enrichment: Enrichment, page_sql: sql.Composed, params: dict
) -> list[dict[str, Any]]:
    with conn.cursor(name=f"enrich_{enrichment.name}", row_factory=dict_row) as cur:
        cur.itersize = FETCH_SIZE
        cur.execute(page_sql, params)
        return list(cur)


def _write_page(
    conn: psycopg.Connection, enrichment: Enrichment, rows: list[dict], summary: RunSummary
) -> None:
    """The page's results, and the marker count moved with them (same transaction)."""
    page = Page(rows, enrichment.name, enrichment.method_version, datetime.now(UTC))
    written = enrichment.process(conn, page)
    conn.execute(
        "UPDATE enrichment_versions SET enriched_records = enriched_records + %s "
        "WHERE enrichment = %s",
        [written.get(enrichment.marker_table, 0), enrichment.name],
    )
    summary.records += len(rows)
    summary.pages += 1
    for table, count in written.items():
        summary.rows_written[table] = summary.rows_written.get(table, 0) + count


def _page_done(
    enrichment: Enrichment, summary: RunSummary, on_page: Callable[[RunSummary], None] | None
) -> None:
    log.info(
        "enrichment_page",
        enrichment=enrichment.name,
        mode=summary.mode,
        page=summary.pages,
        records=summary.records,
        rows_written=summary.rows_written,
    )
    if on_page is not None:
        on_page(summary)


def coverage(
    conn: psycopg.Connection, enrichment: Enrichment, exact: bool = False
) -> dict[str, int]:
    """Records, records with a result of the current version, and records without one.

    After a full pass of the current version, over the same partitions, the marker count kept
    by the runs plus the logged insertions still without a result (what the next run would
    enrich): no count over every record. Otherwise, or with ``exact``, everything is counted.
    """
    version = current_version(conn, enrichment)
    marker = sql.Identifier(enrichment.marker_table)
    if not exact:
        state = conn.execute(
            "SELECT method_version, swept_partitions, enriched_records "
            "FROM enrichment_versions WHERE enrichment = %s",
            [enrichment.name],
        ).fetchone()
        partitions = conn.execute(_sql("partitions.sql")).fetchone()[0]
        if (
            state is not None
            and state[0] == version
            and state[1] is not None
            and sorted(state[1]) == sorted(partitions)
        ):
            statement = sql.SQL(_sql("coverage_changed.sql")).format(marker=marker)
            missing, gone = conn.execute(statement, {"enrichment": enrichment.name}).fetchone()
            enriched = state[2] - gone
            return {"records": enriched + missing, "enriched": enriched, "missing": missing}
    statement = sql.SQL(_sql("coverage.sql")).format(marker=marker)
    records, current = conn.execute(statement, {"method_version": version}).fetchone()
    return {"records": records, "enriched": current, "missing": records - current}


def prune_orphans(conn: psycopg.Connection, enrichment: Enrichment) -> int:
    """Delete the results of records no longer in content_records (anti-join, every row)."""
    return _prune(conn, enrichment, "prune_orphans.sql", {})


def _prune(conn: psycopg.Connection, enrichment: Enrichment, sql_file: str, params: dict) -> int:
    """Delete results with ``sql_file`` (``DELETE FROM {table} AS r ...``) from every keyed
    table, the marker last: its deleted rows go to pg_temp.pruned_markers for the
    enrichment's ``after_prune``; the kept marker count moves with them."""
    deleted = 0
    marker_deleted = 0
    with conn.transaction():
        if enrichment.after_prune:
            conn.execute(
                sql.SQL("CREATE TEMP TABLE pruned_markers (LIKE {}) ON COMMIT DROP").format(
                    sql.Identifier(enrichment.marker_table)
                )
            )
        for table in (t for t in enrichment.tables if t not in enrichment.unkeyed_tables):
            statement = sql.SQL(_sql(sql_file)).format(table=sql.Identifier(table))
            if table == enrichment.marker_table and enrichment.after_prune:
                statement = sql.SQL(
                    "WITH pruned AS (\n{}\nRETURNING r.*\n) "
                    "INSERT INTO pg_temp.pruned_markers SELECT * FROM pruned"
                ).format(statement)
            count = conn.execute(statement, params).rowcount
            deleted += count
            if table == enrichment.marker_table:
                marker_deleted = count
        if deleted and enrichment.after_prune:
            enrichment.after_prune(conn)
        if marker_deleted:
            conn.execute(
                "UPDATE enrichment_versions SET enriched_records = enriched_records - %s "
                "WHERE enrichment = %s",
                [marker_deleted, enrichment.name],
            )
    if deleted:
        log.info("enrichment_pruned", enrichment=enrichment.name, rows=deleted)
    return deleted
