"""Emergent terms: which words and two-word phrases rise in each calendar slice against the
slices before it (issue 19 analysis 4; spec enrichments.md §3.4).

The texts are streamed once (server-side cursor, in storage order) and tokenised here
(``research/tokens.py``: Danish-aware, stop words and the design's search terms removed);
per (slice, term) counts go to a temp table by COPY whenever the in-memory counter reaches
``FLUSH_ENTRIES`` pairs, so memory is bounded whatever the design's size. Keyness, TF-IDF,
ranks and "new" are relational and computed in SQL (``sql/emergent_terms_keyness.sql``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import psycopg

from observatory_pipelines.research import periods, trend_plots
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    query,
    stream,
)
from observatory_pipelines.research.parameters import Rule, check_parameters
from observatory_pipelines.research.tokens import SearchTermFilter, token_runs

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
FLUSH_ENTRIES = 200_000  # (slice, term) pairs held in memory before they go to Postgres
FLUSH_CHECK_EVERY = 500  # records between two looks at that size

TERM_COLUMNS = (
    "period", "period_start", "term", "freq", "doc_freq", "ref_freq", "keyness_g2",
    "log_ratio", "tfidf", "rank", "prev_rank", "rank_change", "is_new",
)  # fmt: skip
SLICE_COLUMNS = ("period", "period_start", "records", "tokens", "reference_tokens")
SUGGESTION_COLUMNS = ("term", "period", "rank", "freq", "doc_freq", "keyness_g2", "log_ratio")


def _create_tables(conn: psycopg.Connection) -> None:
    conn.execute(
        "CREATE TEMP TABLE emergent_counts (slice date, term text, freq integer, docs integer) "
        "ON COMMIT DROP"
    )
    conn.execute(
        "CREATE TEMP TABLE emergent_slices (slice date, tokens bigint, records bigint) "
        "ON COMMIT DROP"
    )


def _flush(conn: psycopg.Connection, freq: dict[date, Counter], docs: dict[date, Counter]) -> None:
    with conn.cursor() as cur, cur.copy("COPY emergent_counts FROM STDIN") as copy:
        for slice_start, counts in freq.items():
            slice_docs = docs[slice_start]
            for term, count in counts.items():
                copy.write_row((slice_start, term, count, slice_docs[term]))
    freq.clear()
    docs.clear()


def count_terms(conn: psycopg.Connection, params: dict[str, Any], period: str) -> dict[date, list]:
    """Fill the temp tables from the scope's texts; {slice: [tokens, records]}."""
    excluded = SearchTermFilter.of(
        r["term"] for r in query(conn, "emergent_terms_search_terms", params)
    )
    freq: dict[date, Counter] = {}
    docs: dict[date, Counter] = {}
    sizes: dict[date, list] = {}
    for number, row in enumerate(
        stream(conn, "emergent_terms_texts", {**params, "period": period})
    ):
        slice_start = row["slice"]
        runs = token_runs(row["text"])
        size = sizes.setdefault(slice_start, [0, 0])
        size[0] += sum(len(run) for run in runs)
        size[1] += 1
        grams = excluded.ngrams(runs)
        if slice_start not in freq:
            freq[slice_start], docs[slice_start] = Counter(), Counter()
        freq[slice_start].update(grams)
        docs[slice_start].update(set(grams))
        if number % FLUSH_CHECK_EVERY == 0 and sum(map(len, freq.values())) >= FLUSH_ENTRIES:
            _flush(conn, freq, docs)
    _flush(conn, freq, docs)
    with conn.cursor() as cur, cur.copy("COPY emergent_slices FROM STDIN") as copy:
        for slice_start, (tokens, records) in sizes.items():
            copy.write_row((slice_start, tokens, records))
    conn.execute("ANALYZE emergent_counts")
    return sizes


def emergent_terms(
    conn: psycopg.Connection, params: dict[str, Any], overrides: dict[str, Any] | None = None
) -> ResearchOutput:
    values = check_parameters(DEFAULTS, RULES, overrides)
    period = periods.research_period()
    step = periods.STEPS[period]
    with conn.transaction():
        _create_tables(conn)
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
)
