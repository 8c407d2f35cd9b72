"""Bulk ingest: COPY a batch into a temp staging table, then one deduplicating INSERT … SELECT
that also links every record it inserts to the design and run; only a batch with rows it did
not insert (stored before, or repeated content) needs a second INSERT … SELECT that attributes
those to the design. The insert probes for stored keys instead of using ON CONFLICT; the rare
batch that meets a key no probe could see (a concurrent task's) is written again with it.

Dedup is global (one stored copy per record); attribution is per design: a record that another
design stored earlier is still linked to this design (content_record_collections), so the
design's analyses and exports see it. Memory is bounded by one batch (the caller flushes every
``batch_size`` rows); nothing accumulates in Python across batches except counters. The content
hashes already seen by the task live in a temp table on the server (see staging_create.sql).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import Copy
from psycopg.copy import FileWriter
from psycopg.errors import InvalidParameterValue, UniqueViolation
from sqlalchemy import Engine

from observatory_pipelines.collection.enrich import STAGING_COLUMNS, STAGING_TYPES

_SQL = Path(__file__).parent / "sql"
CREATE_STAGING = (_SQL / "staging_create.sql").read_text()
INSERT_FROM_STAGING = (_SQL / "staging_insert.sql").read_text()
# The same statement with ON CONFLICT DO NOTHING, for a batch whose plain insert met a key it
# could not see stored (see staging_insert.sql): it waits for the other writer and skips.
# It inserts in DISTINCT ON's order, as the statement always did: of two staged rows with one
# key, the first inserted is kept.
_RETRY_EDITS = {
    "-- retry: ON CONFLICT DO NOTHING": "ON CONFLICT DO NOTHING",
    "ORDER BY f.id  -- retry: in DISTINCT ON's order": "",
}


def _retry_statement(statement: str) -> str:
    for mark, replacement in _RETRY_EDITS.items():
        if statement.count(mark) != 1:
            # without the mark the retry would be the same statement and fail the same way,
            # or keep another copy of a content than before
            raise RuntimeError(f"staging_insert.sql must hold the line {mark!r} exactly once")
        statement = statement.replace(mark, replacement)
    return statement


INSERT_FROM_STAGING_SKIPPING_CONFLICTS = _retry_statement(INSERT_FROM_STAGING)
ATTRIBUTE_STAGING = (_SQL / "staging_attribute.sql").read_text()
COPY_STAGING = f"COPY collection_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
# The task's seen-content index (one 16-byte key a record) outgrows the default 8 MB of temp
# buffers at about 250,000 records; past that every probe and insert into it goes through a
# temp file (5,000 inserts at 1 M seen: 480 ms at 8 MB, 220 ms at 64 MB). Allocated only as
# the temp tables grow, so small tasks use no more.
TEMP_BUFFERS = "64MB"


@dataclass
class IngestCounts:
    staged: int = 0
    inserted: int = 0  # new stored records
    # records new to the design: the inserted ones plus copies other designs stored earlier
    attributed: int = 0

    @property
    def skipped(self) -> int:
        return self.staged - self.inserted


class BulkIngester:
    """Holds one pooled connection for the life of a task (``with`` closes it).

    Without a ``query_design_id`` (benchmarks, tools) records are stored but attributed to no
    design, so no analysis sees them.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        run_id: Any = None,
        query_design_id: Any = None,
        tier: str = "free",
    ):
        self._raw = engine.raw_connection()
        self.conn = self._raw.driver_connection
        self.params = {
            "run_id": str(run_id) if run_id else None,
            "query_design_id": str(query_design_id) if query_design_id else None,
            "tier": tier,
        }
        self.counts = IngestCounts()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        with self.conn.cursor() as cur:
            try:
                cur.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
            except InvalidParameterValue:
                # Only settable before the session's first temp table: a pooled session that
                # someone else gave one keeps its size (one the ingester set already has this).
                self.conn.rollback()
            cur.execute(CREATE_STAGING)
        self.conn.commit()
        # Encodes batches into COPY data on the caller's thread; it never runs a statement.
        self._encoding_cursor = self.conn.cursor()

    def write(self, rows: Iterable[tuple]) -> IngestCounts:
        """Stage and insert one batch in one transaction; returns this batch's counts."""
        return self._write_encoded(*self._encode(rows))

    def _encode(self, rows: Iterable[tuple]) -> tuple[bytes, int]:
        """The batch as binary COPY data, and its number of rows.

        Done by the caller, not the writer thread: encoding is Python work, and on the writer
        thread it fought the caller's enrichment of the next batch for the GIL while the server
        had nothing to do (at 300 k records the two cores were idle ≈ 40 % of the ingest).
        """
        data, staged = io.BytesIO(), 0
        with Copy(self._encoding_cursor, binary=True, writer=FileWriter(data)) as copy:
            copy.set_types(STAGING_TYPES)
            for row in rows:
                copy.write_row(row)
                staged += 1
        return data.getvalue(), staged

    def _write_encoded(self, data: bytes, staged: int) -> IngestCounts:
        """The insert is a plain one (no speculative insertion); a batch that meets a key it
        could not see stored is rolled back and written again, skipping such rows."""
        try:
            batch = self._write(data, staged, INSERT_FROM_STAGING)
        except UniqueViolation:
            # A concurrent task's copy (now committed: the insert waited for it) or two staged
            # rows with one key but different content; nothing of the batch was kept.
            batch = self._write(data, staged, INSERT_FROM_STAGING_SKIPPING_CONFLICTS)
        self.counts.staged += batch.staged
        self.counts.inserted += batch.inserted
        self.counts.attributed += batch.attributed
        return batch

    def _write(self, data: bytes, staged: int, insert: str) -> IngestCounts:
        batch = IngestCounts(staged=staged)
        try:
            with self.conn.cursor() as cur:
                with cur.copy(COPY_STAGING) as copy:
                    copy.write(data)
                if batch.staged:
                    # The DISTINCT ON sort of a batch spills to disk at the 4 MB default.
                    cur.execute("SET LOCAL work_mem = '64MB'")
                    cur.execute(insert, self.params)
                    batch.inserted, batch.attributed = cur.fetchone()
                    if batch.inserted < batch.staged and self.params["query_design_id"]:
                        # Rows stored before (by any design, or by a task that committed while
                        # this insert waited on it: a new statement sees them) need their link.
                        cur.execute(ATTRIBUTE_STAGING, self.params)
                        batch.attributed += cur.fetchone()[0]
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        return batch

    def submit(self, rows: Iterable[tuple]) -> None:
        """Write ``rows`` on a background thread while the caller prepares the next batch.

        The rows are encoded here; the thread sends them and runs the statements. At most one
        batch is in flight (memory: two batches); ``drain`` waits for it and re-raises its
        error. The counters include a batch only once it is written.
        """
        encoded = self._encode(rows)
        self.drain()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._pending = self._executor.submit(self._write_encoded, *encoded)

    def drain(self) -> IngestCounts:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
        return self.counts

    def close(self) -> None:
        try:
            self.drain()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
            self._raw.close()

    def __enter__(self) -> BulkIngester:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if exc_type is not None and self._pending is not None:
            self._pending.cancel()
        self.close()
