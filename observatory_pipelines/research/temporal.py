"""Temporal comparison: two calendar periods, two runs and the platforms side by side
(issue 19 analysis 8; spec enrichments.md §3.6).

Periods are ISO weeks (or months: ``RESEARCH_PERIOD``) in Europe/Copenhagen: the current
period is the latest complete one holding a record of the scope (complete = ended before
now and before the scope's end), the previous one the period before it. Every count is SQL
over the scope (``sql/temporal_*.sql``); Python only pairs the two sides.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg

from observatory_pipelines.research import periods, trend_plots
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    query,
)
from observatory_pipelines.research.parameters import Rule, check_parameters

DEFAULTS: dict[str, Any] = {
    "top_limit": 20,  # terms and actors listed per period
    "actor_limit": 50,  # new and vanished actors listed
}
RULES = {"top_limit": Rule(1, 500, integer=True), "actor_limit": Rule(1, 5000, integer=True)}

VOLUME_COLUMNS = ("scope", "value", "previous", "current", "delta", "pct_change", "note")
PERIOD_COLUMNS = ("period", "label", "starts", "ends_before")
TOP_TERM_COLUMNS = ("period", "rank", "term", "records")
ACTOR_COLUMNS = ("list", "rank", "author_key", "platform", "display_name", "previous", "current")
RUN_COLUMNS = ("arena", "run_1_records", "run_2_records", "delta", "pct_change", "note")
OVERLAP_COLUMNS = (
    "run_1", "run_2", "run_1_completed_at", "run_2_completed_at", "run_1_contents",
    "run_2_contents", "shared_contents", "overlap_pct_of_run_1", "overlap_pct_of_run_2",
    "jaccard",
)  # fmt: skip
PLATFORM_COLUMNS = (
    "platform", "records", "actors", "terms", "first_published", "last_published",
    "median_engagement_pct", "share_with_urls", "languages", "sentiment_mean",
    "sentiment_scored",
)  # fmt: skip


def change(previous: int, current: int) -> dict[str, Any]:
    """delta, pct_change (NULL when there is nothing to compare with) and a note."""
    note = None
    if previous == 0 and current > 0:
        note = "new"
    elif current == 0 and previous > 0:
        note = "vanished"
    pct = round(100.0 * (current - previous) / previous, 2) if previous else None
    return {"delta": current - previous, "pct_change": pct, "note": note}


def choose_periods(
    conn: psycopg.Connection, params: dict[str, Any], period: str, now: datetime
) -> tuple[date, date, date] | None:
    """(previous start, current start, current end) as Copenhagen dates, or None."""
    horizon = now
    if params["date_to_exclusive"] is not None:
        horizon = min(now, params["date_to_exclusive"])
    [row] = query(conn, "temporal_latest", {**params, "horizon": horizon})
    if row["latest"] is None:
        return None
    latest = datetime.fromisoformat(row["latest"])
    current = periods.start_of(periods.local_day(latest), period)
    if periods.day_start(periods.shift(current, period, 1)) > horizon:
        current = periods.shift(current, period, -1)  # the latest one is still running
    return periods.shift(current, period, -1), current, periods.shift(current, period, 1)


def _volume(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pairs: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        side = pairs.setdefault((row["scope"], row["value"]), {"previous": 0, "current": 0})
        side[row["period"]] = row["records"]
    order = {"total": 0, "platform": 1, "arena": 2, "term": 3}
    return [
        {"scope": scope, "value": value, **sides, **change(sides["previous"], sides["current"])}
        for (scope, value), sides in sorted(pairs.items(), key=lambda p: (order[p[0][0]], p[0]))
    ]


def _top_terms(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    out = []
    for side in ("previous", "current"):
        terms = sorted(
            ((r["records"], r["value"]) for r in rows
             if r["scope"] == "term" and r["period"] == side),
            key=lambda t: (-t[0], t[1]),
        )[:limit]  # fmt: skip
        out += [{"period": side, "rank": i, "term": term, "records": count}
                for i, (count, term) in enumerate(terms, start=1)]  # fmt: skip
    return out


def compare_periods(conn, params, values, period, now) -> tuple[dict[str, Table], dict, bytes]:
    chosen = choose_periods(conn, params, period, now)
    tables = {
        "period_volume": Table(VOLUME_COLUMNS),
        "periods": Table(PERIOD_COLUMNS),
        "period_top_terms": Table(TOP_TERM_COLUMNS),
        "period_actors": Table(ACTOR_COLUMNS),
    }
    if chosen is None:
        return tables, {"new_actors": 0, "vanished_actors": 0}, trend_plots.period_bars([], "", "")
    previous, current, end = chosen
    bounds = {"previous_from": periods.day_start(previous),
              "current_from": periods.day_start(current),
              "current_to": periods.day_start(end)}  # fmt: skip
    labels = {
        "previous": periods.label(previous, period),
        "current": periods.label(current, period),
    }
    tables["periods"].rows = [
        {"period": "previous", "label": labels["previous"], "starts": previous.isoformat(),
         "ends_before": current.isoformat()},
        {"period": "current", "label": labels["current"], "starts": current.isoformat(),
         "ends_before": end.isoformat()},
    ]  # fmt: skip
    volume_rows = query(conn, "temporal_period_volume", {**params, **bounds})
    tables["period_volume"].rows = _volume(volume_rows)
    tables["period_top_terms"].rows = _top_terms(volume_rows, values["top_limit"])
    actors = query(
        conn,
        "temporal_period_actors",
        {**params, **bounds, "actor_limit": max(values["top_limit"], values["actor_limit"])},
    )
    limits = {"previous": values["top_limit"], "current": values["top_limit"],
              "new": values["actor_limit"], "vanished": values["actor_limit"]}  # fmt: skip
    tables["period_actors"].rows = [
        {c: a[c] for c in ACTOR_COLUMNS} for a in actors if a["rank"] <= limits[a["list"]]
    ]
    totals = {"new_actors": actors[0]["new_total"] if actors else 0,
              "vanished_actors": actors[0]["vanished_total"] if actors else 0,
              "previous_period": labels["previous"], "current_period": labels["current"]}  # fmt: skip
    bars = [r for r in tables["period_volume"].rows if r["scope"] == "platform"]
    return tables, totals, trend_plots.period_bars(bars, labels["previous"], labels["current"])


def compare_runs(conn, params) -> tuple[Table, Table]:
    """The scope's run (or the latest completed one) against the completed run before it."""
    runs = query(conn, "temporal_runs", params)
    chosen = params["collection_run_id"]
    ids = [r["id"] for r in runs]
    index = ids.index(chosen) if chosen in ids else len(ids) - 1
    arenas, overlap = Table(RUN_COLUMNS), Table(OVERLAP_COLUMNS)
    if index < 1:
        return arenas, overlap
    first, second = runs[index - 1], runs[index]
    rows = query(conn, "temporal_run_compare",
                 {**params, "collection_run_id": None, "run_1": first["id"],
                  "run_2": second["id"]})  # fmt: skip
    per_arena = [r for r in rows if r["kind"] == "arena"]
    total = {"value": "all", "run_1": sum(r["run_1"] for r in per_arena),
             "run_2": sum(r["run_2"] for r in per_arena)}  # fmt: skip
    arenas.rows = [
        {"arena": r["value"], "run_1_records": r["run_1"], "run_2_records": r["run_2"],
         **change(r["run_1"], r["run_2"])}
        for r in [total, *per_arena]
    ]  # fmt: skip
    [contents] = [r for r in rows if r["kind"] == "contents"] or [
        {"run_1": 0, "run_2": 0, "shared": 0}
    ]
    one, two, shared = contents["run_1"], contents["run_2"], contents["shared"]
    union = one + two - shared
    overlap.rows = [{
        "run_1": first["id"], "run_2": second["id"],
        "run_1_completed_at": first["completed_at"], "run_2_completed_at": second["completed_at"],
        "run_1_contents": one, "run_2_contents": two, "shared_contents": shared,
        "overlap_pct_of_run_1": round(100.0 * shared / one, 2) if one else None,
        "overlap_pct_of_run_2": round(100.0 * shared / two, 2) if two else None,
        "jaccard": round(shared / union, 4) if union else None,
    }]  # fmt: skip
    return arenas, overlap


def compare_platforms(conn, params) -> Table:
    rows = query(conn, "temporal_platforms", params)
    sentiment: dict[str, dict[str, Any]] = {}
    [exists] = conn.execute("SELECT to_regclass('enrichment_sentiment') IS NOT NULL").fetchone()
    if exists:  # record_sentiment's table (migration 014): read only where it is migrated
        sentiment = {r["platform"]: r for r in query(conn, "temporal_platform_sentiment", params)}
    out = []
    for row in rows:
        scored = sentiment.get(row["platform"], {})
        out.append({**{c: row.get(c) for c in PLATFORM_COLUMNS[:9]},
                    "sentiment_mean": scored.get("sentiment_mean"),
                    "sentiment_scored": scored.get("sentiment_scored", 0 if exists else None)})  # fmt: skip
    return Table(PLATFORM_COLUMNS, out)


def temporal_comparison(
    conn: psycopg.Connection,
    params: dict[str, Any],
    overrides: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> ResearchOutput:
    values = check_parameters(DEFAULTS, RULES, overrides)
    period = periods.research_period()
    now = now or datetime.now(UTC)
    tables, totals, chart = compare_periods(conn, params, values, period, now)
    tables["run_comparison"], tables["run_overlap"] = compare_runs(conn, params)
    tables["platform_comparison"] = compare_platforms(conn, params)
    return ResearchOutput(
        tables=tables,
        charts={
            "period_comparison_chart": chart,
            "platform_language_sentiment_chart": trend_plots.platform_language_sentiment(
                tables["platform_comparison"].rows
            ),
        },
        summary={**totals, "runs_compared": bool(tables["run_overlap"].rows)},
        parameters={**values, "period": period, "time_zone": periods.TIME_ZONE},
    )


TEMPORAL_COMPARISON = ResearchAnalysis(
    name="temporal_comparison",
    description="The latest complete ISO week (or month) against the one before: records in "
    "total, per platform, arena and term (delta, % change, new/vanished), top terms and "
    "authors, new and vanished authors; the design's last two completed runs (per arena, "
    "content overlap % both ways and Jaccard); platforms side by side (authors, engagement "
    "percentile, links, languages, sentiment).",
    compute=temporal_comparison,
    revision=2,  # 2: the language and sentiment by platform chart
    parameters={**DEFAULTS, "period_default": periods.DEFAULT_PERIOD},
    reads=("record_engagement", "record_urls", "record_sentiment"),
)
