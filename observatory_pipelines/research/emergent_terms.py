"""Emergent terms: which words and two-word phrases rise in each calendar slice against the
slices before it (issue 19 analysis 4; spec enrichments.md §3.4).

Each record is tokenised once, by the enrichment ``record_terms`` (``enrichments/terms.py``
over ``enrichments/tokens.py``: Danish-aware, stop words removed), which stores its n-grams
with their counts. Here everything is relational: the scope's records joined to those rows
are summed per (slice, term) into a temp table in one pass that also sizes the slices
(``sql/emergent_terms_grams.sql``), the design's search terms removed after it
(``sql/emergent_terms_counts.sql``), and keyness, TF-IDF, ranks and "new" computed in SQL
(``sql/emergent_terms_keyness.sql``). No text is read, and memory stays bounded in Postgres.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from observatory_pipelines.enrichments.tokens import SearchTermFilter
from observatory_pipelines.research import periods, trend_plots
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
    temp_table,
)
from observatory_pipelines.research.parameters import Rule, check_parameters

DEFAULTS: dict[str, Any] = {
    "reference_slices": 4,  # k: each slice is compared with the k calendar slices before it
    "top_terms": 25,  # ranked terms kept per slice
    "min_docs": 3,  # a term must occur in this many records of the slice to be ranked
    "suggestions": 10,  # new terms offered as search-term suggestions
}
RULES = {
    "reference_slices": Rule(1, 52, integer=True),
    "top_terms": Rule(1, 500, integer=True),
    "min_docs": Rule(1, 1000, integer=True),
    "suggestions": Rule(0, 100, integer=True),
}

TERM_COLUMNS = (
    "period", "period_start", "term", "freq", "doc_freq", "ref_freq", "keyness_g2",
    "log_ratio", "tfidf", "rank", "prev_rank", "rank_change", "is_new",
)  # fmt: skip
SLICE_COLUMNS = ("period", "period_start", "records", "tokens", "reference_tokens")
SUGGESTION_COLUMNS = ("term", "period", "rank", "freq", "doc_freq", "keyness_g2", "log_ratio")


def count_terms(conn: psycopg.Connection, params: dict[str, Any], period: str) -> dict[date, list]:
    """Fill the temp tables emergent_counts and emergent_slices from the scope's stored
    n-grams, read once (emergent_grams); {slice: [tokens, records]}. Needs an open
    transaction."""
    excluded = SearchTermFilter.of(
        r["term"] for r in query(conn, "emergent_terms_search_terms", params)
    )
    # Group the unnested (record, term) rows by hashing: set when the scope's join to
    # enrichment_terms was estimated at one row and the planner sorted them; that estimate
    # is right since emergent_terms_grams.sql joins on the record key as the scope does, and
    # whether the planner now hashes without this has not been measured at 1 M.
    conn.execute("SET LOCAL enable_sort = off")
    temp_table(conn, "emergent_grams", "emergent_terms_grams", {**params, "period": period})
    conn.execute("SET LOCAL enable_sort = on")
    temp_table(conn, "emergent_slices", "emergent_terms_slices", {})
    temp_table(conn, "emergent_counts", "emergent_terms_counts", excluded.sql_parameters())
    rows = conn.execute("SELECT slice, tokens, records FROM emergent_slices").fetchall()
    return {slice_start: [tokens, records] for slice_start, tokens, records in rows}


def emergent_terms(
    conn: psycopg.Connection, params: dict[str, Any], overrides: dict[str, Any] | None = None
) -> ResearchOutput:
    values = check_parameters(DEFAULTS, RULES, overrides)
    period = periods.research_period()
    step = periods.STEPS[period]
    with bulk_transaction(conn):
        sizes = count_terms(conn, params, period)
        rows = query(
            conn,
            "emergent_terms_keyness",
            {
                "reference_span": f"{values['reference_slices']} {step}",
                "slice_step": f"1 {step}",
                "min_docs": values["min_docs"],
                "top_terms": values["top_terms"],
            },
        )
    terms = [
        {"period": periods.label(date.fromisoformat(r["period_start"]), period), **r} for r in rows
    ]
    terms = [{c: r[c] for c in TERM_COLUMNS} for r in terms]
    slices = _slices(sizes, period, values["reference_slices"])
    suggestions = _suggestions(terms, values["suggestions"])
    return ResearchOutput(
        tables={
            "emergent_terms": Table(TERM_COLUMNS, terms),
            "slices": Table(SLICE_COLUMNS, slices),
            "suggested_terms": Table(SUGGESTION_COLUMNS, suggestions),
        },
        charts={"emergent_terms_chart": trend_plots.emergent_terms_chart(terms, period)},
        summary={
            "slices": len(slices),
            "ranked_slices": len({r["period"] for r in terms}),
            "records": sum(s["records"] for s in slices),
            "suggested_terms": [s["term"] for s in suggestions],
        },
        parameters={**values, "period": period, "time_zone": periods.TIME_ZONE},
    )


def _slices(sizes: dict[date, list], period: str, reference: int) -> list[dict[str, Any]]:
    ordered = sorted(sizes)
    out = []
    for slice_start in ordered:
        earliest = periods.shift(slice_start, period, -reference)
        ref_tokens = sum(sizes[s][0] for s in ordered if earliest <= s < slice_start)
        out.append({
            "period": periods.label(slice_start, period),
            "period_start": slice_start.isoformat(),
            "records": sizes[slice_start][1],
            "tokens": sizes[slice_start][0],
            "reference_tokens": ref_tokens,
        })  # fmt: skip
    return out


def _suggestions(terms: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The new terms of the latest slices first (a live design wants what emerged last),
    by rank within a slice; each term once."""
    seen: set[str] = set()
    out = []
    for row in sorted(terms, key=lambda r: (r["period_start"], -r["rank"]), reverse=True):
        if row["is_new"] and row["term"] not in seen and len(out) < limit:
            seen.add(row["term"])
            out.append({c: row[c] for c in SUGGESTION_COLUMNS})
    return out


EMERGENT_TERMS = ResearchAnalysis(
    name="emergent_terms",
    description="Terms rising in each ISO week (or month, Europe/Copenhagen) against the four "
    "before it: log-likelihood G² keyness with log ratio, TF-IDF with slices as documents, "
    "rank change, new terms; the newest new terms as search-term suggestions.",
    compute=emergent_terms,
    revision=1,
    parameters={**DEFAULTS, "period_default": periods.DEFAULT_PERIOD},
    reads=("record_terms",),
)
