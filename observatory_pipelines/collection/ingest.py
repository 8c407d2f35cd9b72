"""Bulk ingest: COPY a batch into a temp staging table, then one deduplicating INSERT … SELECT.

Memory is bounded by one batch (the caller flushes every ``batch_size`` rows);
nothing accumulates across batches except counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from observatory_pipelines.collection.enrich import STAGING_COLUMNS, STAGING_TYPES

_SQL = Path(__file__).parent / "sql"
CREATE_STAGING = (_SQL / "staging_create.sql").read_text()
INSERT_FROM_STAGING = (_SQL / "staging_insert.sql").read_text()
COPY_STAGING = f"COPY collection_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"


@dataclass
class IngestCounts:
    staged: int = 0
    inserted: int = 0

    @property
    def skipped(self) -> int:
        return self.staged - self.inserted


class BulkIngester:
    """Holds one pooled connection for the life of a task (``with`` closes it)."""

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
        with self.conn.cursor() as cur:
            cur.execute(CREATE_STAGING)
        self.conn.commit()

    def write(self, rows: Sequence[tuple] | Iterable[tuple]) -> IngestCounts:
        """Stage and insert one batch in one transaction; returns this batch's counts."""
        batch = IngestCounts()
        try:
            with self.conn.cursor() as cur:
                with cur.copy(COPY_STAGING) as copy:
                    copy.set_types(STAGING_TYPES)
                    for row in rows:
                        copy.write_row(row)
                        batch.staged += 1
                if batch.staged:
                    cur.execute(INSERT_FROM_STAGING, self.params)
                    batch.inserted = max(cur.rowcount, 0)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        self.counts.staged += batch.staged
        self.counts.inserted += batch.inserted
        return batch

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> BulkIngester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
