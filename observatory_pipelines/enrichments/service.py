"""One enrichment run over the database: prune results of vanished records, enrich new ones.

Both follow the records inserted and deleted since the last run (framework.py), and so do
the counts for the metadata; ``check_coverage(..., exact=True)`` counts every record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from observatory_pipelines.db.engine import connect
from observatory_pipelines.enrichments.framework import (
    Enrichment,
    RunSummary,
    coverage,
    current_version,
    run_enrichment,
    stored_version,
)


def enrich(
    database_url: str,
    enrichment: Enrichment,
    on_page: Callable[[RunSummary], None] | None = None,
) -> dict[str, Any]:
    """Run ``enrichment`` over every record lacking a current result; counts for metadata."""
    with connect(database_url, autocommit=True) as conn:
        summary = run_enrichment(conn, enrichment, on_page=on_page)
        counts = coverage(conn, enrichment)
        report = enrichment.report(conn) if enrichment.report else {}
    return {
        "method_version": summary.method_version,
        "recomputed_all": summary.recomputed_all,
        "mode": summary.mode,
        "records_enriched_now": summary.records,
        "records_examined": summary.records_examined,
        "changes_taken": summary.changes_taken,
        "pages": summary.pages,
        "rows_written": summary.rows_written,
        "rows_pruned": summary.rows_pruned,
        "seconds": summary.seconds,
        **counts,
        "report": report,
    }


def check_coverage(
    database_url: str, enrichment: Enrichment, exact: bool = False
) -> dict[str, Any]:
    """Whether every record holds a result of the current version (and which version is stored)."""
    with connect(database_url, autocommit=True) as conn:
        counts = coverage(conn, enrichment, exact=exact)
        stored = stored_version(conn, enrichment.name)
        current = current_version(conn, enrichment)
    return {**counts, "stored_version": stored, "current_version": current}
