"""Descriptive statistics of one scope: the SQL models do the work, this assembles the report."""

from __future__ import annotations

from typing import Any

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import run_models

DESCRIPTIVE_MODELS = (
    "volume_over_time",
    "top_actors",
    "top_terms",
    "engagement_distribution",
    "run_summary",
)
ENGAGEMENT_METRICS = ("likes", "shares", "comments", "views", "engagement")


def engagement_by_platform(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{platform: {records, likes: {n, mean, median, p95, max}, ...}}``; ``_all`` = every platform."""
    return {
        row["platform"]: {"records": row["records"], **{m: row[m] for m in ENGAGEMENT_METRICS}}
        for row in rows
    }


def assemble_report(results: dict[str, list[dict[str, Any]]], params: dict[str, Any]) -> dict:
    volume = results["volume_over_time"]
    return {
        "query_design_id": params["query_design_id"],
        "filters": {
            key: (value.isoformat() if hasattr(value, "isoformat") else value)
            for key, value in params.items()
            if key
            in (
                "collection_run_id",
                "arenas",
                "platforms",
                "date_from",
                "date_to_exclusive",
                "languages",
                "terms",
            )
        },
        "granularity": params["granularity"],
        "total_records": sum(row["count"] for row in volume),
        "volume": volume,
        "top_actors": results["top_actors"],
        "top_terms": results["top_terms"],
        "engagement": engagement_by_platform(results["engagement_distribution"]),
        "runs": results["run_summary"],
    }


def descriptive_report(conn, scope: AnalysisScope) -> dict:
    """Every descriptive statistic of ``scope`` as one JSON-ready dict (ISO dates)."""
    params = check_scope(conn, scope)
    return assemble_report(run_models(conn, params, DESCRIPTIVE_MODELS), params)
