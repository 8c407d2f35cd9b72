"""4CAT-style interaction networks of one design (issue 19, analysis 6; spec enrichments.md §3.8).

Seven networks, each as graph JSON + GEXF and an edge-list table ``<network>_edges``:

- ``cohashtag``: two hashtags in one record (undirected);
- ``author_hashtag``: an author and a hashtag they used (bipartite, undirected);
- ``mention``: author → mentioned account (directed; Bluesky DIDs preferred to handles);
- ``reply``: author → the author of the record replied to (directed);
- ``quote``: author → the author of the record quoted (directed);
- ``url_cooccurrence``: two links in one record (undirected, counted);
- ``actor_domain``: an author and a domain they linked (bipartite, undirected).

Node frequency = records containing the node, edge weight = records containing the pair,
each counted once per record (4CAT's definition). The scope's records are read once into the
temp table ``interaction_records`` (their tags, links and references; records with none left out); pairs are built in SQL
from it (an unnest and a self-join within each record, ``research/sql/interaction_*.sql``),
counted as sums of pre-aggregated counts (records with the same tag or link list counted
once; an author's targets per (author, target)), so every aggregate hashes;
Python shapes the heaviest ``EDGE_LIMIT`` edges into graphs and measures them (Louvain, seed
0, skipped above ``COMMUNITY_EDGE_LIMIT`` edges as 4CAT does), each network on a second thread
while the next one's statement runs (``framework.read_and_shape``).
"""

from __future__ import annotations

from typing import Any

import psycopg

from observatory_pipelines.analysis.network import add_metrics
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchInputError,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
    read_and_shape,
    temp_table,
)
from observatory_pipelines.research.interaction_plots import most_addressed_chart

EDGE_LIMIT = 100_000  # heaviest edges kept per network (edges_total says how many there were)
COMMUNITY_EDGE_LIMIT = 50_000  # Louvain skipped above this many edges (4CAT's limit)
LOUVAIN_SEED = 0
# temp tables every network reads: the scope's records, the design's possible parents, its
# authors; each with the columns whose statistics the network queries use (filters, joins):
# the lists' and the long text columns' statistics cost half of storing the records
RECORD_TABLES: dict[str, tuple[str, ...] | None] = {
    "interaction_records": ("platform", "mentions", "mention_ids", "reply_ref", "quote_ref"),
    "interaction_parents": ("platform", "platform_id", "content_type", "author_platform_id"),
    "interaction_authors": None,
}

# network → (SQL file, extra parameters, directed)
NETWORKS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "cohashtag": ("interaction_cohashtag", {}, False),
    "author_hashtag": ("interaction_author_hashtag", {}, False),
    "mention": ("interaction_mentions", {}, True),
    "reply": ("interaction_references", {"reference_kind": "reply"}, True),
    "quote": ("interaction_references", {"reference_kind": "quote"}, True),
    "url_cooccurrence": ("interaction_url_cooccurrence", {}, False),
    "actor_domain": ("interaction_actor_domain", {}, False),
}

EDGE_COLUMNS = (
    "source",
    "source_label",
    "source_type",
    "target",
    "target_label",
    "target_type",
    "weight",
)


def read_network(
    conn: psycopg.Connection, sql: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The kept edges of one network and the nodes they touch (``_interaction_edges.sql``:
    one query, its rows of part 'edge' heaviest first, then those of part 'node')."""
    edges, nodes = [], {}
    for row in query(conn, sql, params):
        if row["part"] == "edge":
            edges.append({k: row[k] for k in ("source", "target", "weight", "edges_total")})
        else:
            nodes[row["source"]] = {
                "id": row["source"],
                "label": row["label"] or row["source"],
                "type": row["node_type"],
                "platform": row["platforms"],
                "frequency": row["frequency"],
            }
    return edges, nodes


def network_graph(
    edges: list[dict[str, Any]],
    nodes: dict[str, dict[str, Any]],
    *,
    directed: bool,
    community_edge_limit: int,
) -> dict[str, Any]:
    """Graph dict of one network's edges and nodes, with metrics."""
    graph = {
        "directed": directed,
        "nodes": [nodes[node_id] for node_id in sorted(nodes)],
        "edges": [{"source": e["source"], "target": e["target"], "weight": e["weight"]}
                  for e in edges],
    }  # fmt: skip
    return add_metrics(graph, seed=LOUVAIN_SEED, community_edge_limit=community_edge_limit)


def _edge_row(edge: dict[str, Any], nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    source, target = nodes[edge["source"]], nodes[edge["target"]]
    return {
        "source": source["id"],
        "source_label": source["label"],
        "source_type": source["type"],
        "target": target["id"],
        "target_label": target["label"],
        "target_type": target["type"],
        "weight": edge["weight"],
    }


def compute_networks(
    conn: psycopg.Connection,
    params: dict[str, Any],
    *,
    edge_limit: int = EDGE_LIMIT,
    community_edge_limit: int = COMMUNITY_EDGE_LIMIT,
) -> ResearchOutput:
    for name, value in (("edge_limit", edge_limit), ("community_edge_limit", community_edge_limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ResearchInputError(f"{name} must be a positive integer, got {value!r}")
    output = ResearchOutput(parameters=PARAMETERS | {"edge_limit": edge_limit,
                                                     "community_edge_limit": community_edge_limit})  # fmt: skip
    with bulk_transaction(conn):
        for table, statistics in RECORD_TABLES.items():  # the scope read once; ANALYZEd
            temp_table(conn, table, table, params, statistics)
        # each network's graph measured while the server computes the next one's edges
        read = read_and_shape(
            NETWORKS,
            lambda name: read_network(conn, NETWORKS[name][0],
                                      {**NETWORKS[name][1], "edge_limit": edge_limit}),
            lambda name, network: network_graph(*network, directed=NETWORKS[name][2],
                                                community_edge_limit=community_edge_limit),
        )  # fmt: skip
    for name, ((edges, nodes), graph) in read.items():
        output.networks[name] = graph
        output.tables[f"{name}_edges"] = Table(EDGE_COLUMNS, [_edge_row(e, nodes) for e in edges])
        metrics = graph["metrics"]
        output.summary[f"{name}_nodes"] = metrics["nodes"]
        output.summary[f"{name}_edges"] = metrics["edges"]
        output.summary[f"{name}_edges_total"] = edges[0]["edges_total"] if edges else 0
        if "communities_skipped" in metrics:
            output.summary[f"{name}_communities_skipped"] = metrics["communities_skipped"]
    output.charts["most_addressed"] = most_addressed_chart(
        output.networks, ("mention", "reply", "quote")
    )
    return output


PARAMETERS: dict[str, Any] = {
    "edge_limit": EDGE_LIMIT,
    "community_edge_limit": COMMUNITY_EDGE_LIMIT,
    "louvain_seed": LOUVAIN_SEED,
    "networks": {name: {"directed": directed, **extra} for name, (_, extra, directed) in
                 NETWORKS.items()},
}  # fmt: skip

INTERACTION_NETWORKS = ResearchAnalysis(
    name="interaction_networks",
    description="4CAT-style interaction networks: co-hashtag, author–hashtag, mention, reply, "
    "quote, URL co-occurrence and actor–domain (graph JSON + GEXF and an edge list each).",
    compute=compute_networks,
    revision=1,
    parameters=PARAMETERS,
    reads=("record_tags", "record_urls"),
)
