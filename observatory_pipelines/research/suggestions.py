"""Search-term suggestions for a query design: the newest emerging terms (issue 19, analysis 4).

The emergent-terms analysis ranks each calendar slice's terms against the slices before it
and marks the terms new to the ranking; its ``suggested_terms`` table lists the new terms of
the latest slices first, the design's own search terms already removed. This module gives
that list to a researcher outside the Dagster UI (``observatory suggest-terms``), computed
on the spot from the stored n-grams, with what the list cannot see: records the
``record_terms`` enrichment has not reached yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from observatory_pipelines.research.emergent_terms import emergent_terms
from observatory_pipelines.research.framework import query


@dataclass(frozen=True)
class Suggestions:
    terms: list[dict[str, Any]]
    period: str
    records: int
    records_without_terms: int


def suggest_terms(conn: psycopg.Connection, params: dict[str, Any], limit: int) -> Suggestions:
    """Up to ``limit`` suggested terms for the scope ``params`` (from ``check_scope``)."""
    output = emergent_terms(conn, params, {"suggestions": limit})
    coverage = query(conn, "suggested_terms_coverage", params)[0]
    return Suggestions(
        terms=output.tables["suggested_terms"].rows,
        period=output.parameters["period"],
        records=coverage["records"],
        records_without_terms=coverage["without_terms"],
    )
