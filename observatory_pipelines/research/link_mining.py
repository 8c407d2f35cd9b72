"""Link mining (spec enrichments.md §3.5): which domains and pages a design's records link
to, per platform, by whom, and which accounts on other platforms they point at.

Reads ``enrichment_urls`` (the ``record_urls`` enrichment) for the scope's records, stored
once as a temp table (``links_in_scope``) that every query here reads. Counts are distinct
records and distinct authors (platform-scoped pseudonyms), dated by publication — the
original counted rows and dated by collection time. A record's own URL (self_reference) is
no link it shares, so it is left out unless ``include_self_references``.
"""

from __future__ import annotations

from typing import Any

import psycopg

from observatory_pipelines.analysis.network import add_metrics
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
    temp_table,
)
from observatory_pipelines.research.link_plots import top_domains_chart
from observatory_pipelines.research.parameters import Rule, bind

LINKS_TABLE = "research_links"
# the columns of the stored links that the queries over them join, filter or group on: only
# these are analysed (the statistics of the wide text columns cost more than the rest)
LINK_STATISTICS = ("record_id", "platform", "author", "undated", "is_news", "url_type", "url_key",
                   "registered_domain")  # fmt: skip
COMMUNITY_EDGES = 50_000  # Louvain skipped above (4CAT's limit too)

PARAMETERS: dict[str, Any] = {
    "top_domains": 100,  # rows of top_domains
    "top_urls": 100,  # rows of top_urls
    "matrix_domains": 30,  # columns of the platform x domain matrix (the rest: other)
    "network_domains": 100,  # domains in the two networks
    "network_actors": 500,  # authors in the actor-domain network (most linking records)
    "top_targets": 100,  # rows of link_targets
    "min_target_records": 2,  # the original kept targets with at least 2 sources
    "include_self_references": False,
}
RULES = {
    name: Rule(low=1, high=100_000, integer=True)
    for name in (
        "top_domains",
        "top_urls",
        "matrix_domains",
        "network_domains",
        "network_actors",
        "top_targets",
    )
} | {"min_target_records": Rule(low=1, high=1_000_000, integer=True)}

TOP_DOMAINS_COLUMNS = ("registered_domain", "n_records", "n_actors", "n_platforms",
                       "share_of_records", "first_published_at", "last_published_at",
                       "platforms")  # fmt: skip
TOP_URLS_COLUMNS = ("url_key", "url_clean", "registered_domain", "title", "n_records",
                    "n_actors", "platforms", "first_published_at", "first_platform")  # fmt: skip
MATRIX_COLUMNS = ("platform", "registered_domain", "n_records", "row_pct")
TARGET_COLUMNS = ("target_platform", "target_kind", "target", "n_records", "n_actors",
                  "n_source_platforms", "first_published_at", "last_published_at",
                  "example_urls", "first_url")  # fmt: skip


def store_links(conn: psycopg.Connection, params: dict[str, Any]) -> int:
    """The scope's links as the temp table ``research_links`` (inside a transaction)."""
    return temp_table(conn, LINKS_TABLE, "links_in_scope", params, LINK_STATISTICS)


def actor_domain_graph(edges: list[dict[str, Any]], domains: list[dict[str, Any]]) -> dict:
    nodes = {
        f"domain:{d['registered_domain']}": {
            "id": f"domain:{d['registered_domain']}",
            "label": d["registered_domain"],
            "type": "domain",
            "n_records": d["n_records"],
        }
        for d in domains
    }
    for edge in edges:
        nodes.setdefault(
            edge["actor"],
            {"id": edge["actor"], "label": edge["actor_name"] or edge["actor"],
             "type": "actor", "platform": edge["platform"]},
        )  # fmt: skip
    return {
        "directed": False,
        "nodes": list(nodes.values()),
        "edges": [
            {"source": e["actor"], "target": f"domain:{e['domain']}", "weight": e["weight"]}
            for e in edges
        ],
    }


def domain_graph(pairs: list[dict[str, Any]], domains: list[dict[str, Any]]) -> dict:
    return {
        "directed": False,
        "nodes": [
            {
                "id": d["registered_domain"],
                "label": d["registered_domain"],
                "type": "domain",
                "n_records": d["n_records"],
            }
            for d in domains
        ],  # fmt: skip
        "edges": [
            {"source": p["source"], "target": p["target"], "weight": p["weight"]} for p in pairs
        ],
    }


def mine_links(
    conn: psycopg.Connection, params: dict[str, Any], **overrides: Any
) -> ResearchOutput:
    options, bound = bind(params, PARAMETERS, RULES, overrides)
    with bulk_transaction(conn):
        links = store_links(conn, params)
        temp_table(conn, "research_domain_authors", "link_mining_domain_authors", bound,
                   ("registered_domain", "platform", "author"))  # fmt: skip
        temp_table(conn, "research_domain_ranks", "link_mining_domain_ranks", bound)
        domains = query(conn, "link_mining_domains", bound)
        urls = query(conn, "link_mining_urls", bound)
        matrix = query(conn, "link_mining_matrix", bound)
        targets = query(conn, "link_mining_targets", bound)
        network_domains = query(conn, "link_mining_network_domains", bound)
        actor_edges = query(conn, "link_mining_actor_domains", bound)
        domain_pairs = query(conn, "link_mining_domain_pairs", bound)
    actor_domain = add_metrics(
        actor_domain_graph(actor_edges, network_domains), community_edge_limit=COMMUNITY_EDGES
    )
    cooccurrence = add_metrics(
        domain_graph(domain_pairs, network_domains), community_edge_limit=COMMUNITY_EDGES
    )
    return ResearchOutput(
        tables={
            "top_domains": Table(TOP_DOMAINS_COLUMNS, domains),
            "top_urls": Table(TOP_URLS_COLUMNS, urls),
            "platform_domains": Table(MATRIX_COLUMNS, matrix),
            "link_targets": Table(TARGET_COLUMNS, targets),
        },
        networks={"actor_domain": actor_domain, "domain_cooccurrence": cooccurrence},
        charts={"top_domains_chart": top_domains_chart(domains)},
        summary={
            "links_in_scope": links,
            "domains_listed": len(domains),
            "urls_listed": len(urls),
            "link_targets": len(targets),
        },
        parameters=options,
    )


ANALYSIS = ResearchAnalysis(
    name="link_mining",
    description="Link mining: top domains and pages linked per platform (distinct records and "
    "authors, publication time), platform x domain matrix, platform targets (Telegram, "
    "Discord, YouTube, Reddit, Bluesky, X, Instagram, TikTok accounts), actor-domain and "
    "domain co-occurrence networks.",
    compute=mine_links,
    parameters=PARAMETERS,
    reads=("record_urls",),
)
