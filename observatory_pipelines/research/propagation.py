"""Propagation (spec enrichments.md §3.2): where content and links first appeared, and the
order and lag in which platforms and outlets picked them up.

Content: near-duplicate groups (``enrichment_near_dup_clusters``) whose members in the
scope span two or more platforms or outlets. Links: pages (``enrichment_urls``) shared
repeatedly, and news articles of the scope shared at all, with the lag from the article's
own publication to its first share on each platform. Records without a publication date
(stored at their collection time) are counted per group/page and left out of every time.
"""

from __future__ import annotations

from typing import Any

import psycopg

from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
    temp_table,
)
from observatory_pipelines.research.link_mining import store_links
from observatory_pipelines.research.link_plots import lag_chart
from observatory_pipelines.research.parameters import Rule, bind

PARAMETERS: dict[str, Any] = {
    "top_clusters": 1000,  # rows of clusters (most platforms, outlets, records first)
    "top_urls": 1000,  # rows of urls (most shares first)
    "min_url_shares": 2,  # a page shared this often is followed (news articles: once)
}
RULES = {
    "top_clusters": Rule(low=1, high=1_000_000, integer=True),
    "top_urls": Rule(low=1, high=1_000_000, integer=True),
    "min_url_shares": Rule(low=1, high=1_000_000, integer=True),
}

CLUSTER_COLUMNS = ("cluster_id", "n_records", "n_actors", "n_platforms", "n_outlets",
                   "n_undated_excluded", "origin_record_id", "origin_platform",
                   "origin_outlet", "origin_published_at", "first_seen_per_platform",
                   "lag_min_per_platform", "t50_minutes", "duration_hours",
                   "sequence")  # fmt: skip
URL_COLUMNS = ("url_key", "url_clean", "registered_domain", "n_shares", "n_actors",
               "n_platforms", "n_undated_excluded", "first_published_at", "first_platform",
               "first_actor", "first_actor_name", "shares_by_platform",
               "first_share_per_platform", "article_record_id", "article_platform",
               "article_published_at", "lag_min_per_platform")  # fmt: skip


def lags_by_platform(rows: list[dict[str, Any]], skip: str | None) -> dict[str, list[float]]:
    """Per platform, the lags of ``rows`` (their ``lag_min_per_platform``), leaving out the
    platform named by ``skip`` in each row (the origin's own: lag 0 by construction)."""
    lags: dict[str, list[float]] = {}
    for row in rows:
        for platform, lag in (row["lag_min_per_platform"] or {}).items():
            if skip is None or platform != row[skip]:
                lags.setdefault(platform, []).append(float(lag))
    return lags


def trace_propagation(
    conn: psycopg.Connection, params: dict[str, Any], **overrides: Any
) -> ResearchOutput:
    options, bound = bind(params, PARAMETERS, RULES, overrides)
    with bulk_transaction(conn):
        members = temp_table(conn, "research_cluster_members", "propagation_members", params)
        clusters = query(conn, "propagation_clusters", bound)
        store_links(conn, params)
        urls = query(conn, "propagation_urls", bound)
    chart = lag_chart(
        {
            "Near-duplicate content: lag from the origin": lags_by_platform(
                clusters, "origin_platform"
            ),
            "Links: lag from the article's publication": lags_by_platform(urls, None),
        }
    )
    return ResearchOutput(
        tables={"clusters": Table(CLUSTER_COLUMNS, clusters), "urls": Table(URL_COLUMNS, urls)},
        charts={"propagation_lag_chart": chart},
        summary={
            "near_duplicate_records": members,
            "clusters_spread": len(clusters),
            "urls_followed": len(urls),
            "urls_with_article": sum(1 for u in urls if u["article_published_at"]),
        },
        parameters=options,
    )


ANALYSIS = ResearchAnalysis(
    name="propagation",
    description="Propagation: per near-duplicate group spanning platforms or outlets, its "
    "origin, first appearance and lag per platform, t50 and the outlet sequence; per shared "
    "page, its first share and the lag from the article's publication to each platform.",
    compute=trace_propagation,
    parameters=PARAMETERS,
    reads=("record_near_duplicates", "record_urls"),
)
