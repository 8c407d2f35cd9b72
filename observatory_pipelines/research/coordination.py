"""Coordinated sharing (spec enrichments.md §3.1, "Recommended implementation"): accounts
that repeatedly share the same object within a short window, CLSB-style (CooRnet's window
estimate and percentile cut) but pairwise like CooRTweet.

Objects: pages (``url_key`` of ``enrichment_urls``) and near-duplicate groups
(``enrichment_near_dup_clusters``), one network each. Account: the pseudonymized author,
scoped to the platform. All relational work is SQL over temp tables of this transaction:
the scope's links, the shares (with their exclusions), the co-share pairs (a time-bucketed
equi-join, never every pair of an object's shares) and the pair edges; Python labels
components and measures the small network that passes the cut.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from typing import Any

import networkx as nx
import psycopg

from observatory_pipelines.analysis.network import add_metrics
from observatory_pipelines.research.coordination_plots import weight_chart
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
    temp_table,
)
from observatory_pipelines.research.link_mining import (
    COMMUNITY_EDGES,
    LINK_STATISTICS,
    LINKS_TABLE,
)
from observatory_pipelines.research.parameters import Rule, bind

OBJECT_TYPES = ("url", "near_dup")

PARAMETERS: dict[str, Any] = {
    "window_s": None,  # None: estimated CooRnet-style per object type
    "default_window_s": 60,  # when nothing was shared twice to estimate from
    "max_window_s": 3600,  # an estimate above is capped (the original's 1 h window)
    "q": 0.1,  # CooRnet: the quickest 10 % of second shares
    "p": 0.5,  # CooRnet: time until half of an object's shares exist
    "min_weight": 2,  # an edge needs at least this many distinct objects …
    "percentile": 0.9,  # … and at least this quantile of all pair weights
    "include_news_arenas": False,  # RSS/GDELT/web news times are feed or crawl times
    "news_window_s": 900,  # the least window for a pair with a news share, when included
    "component_objects": 50,  # objects listed per component
}
RULES = {
    "window_s": Rule(low=0.001, high=7 * 86400, optional=True),
    "default_window_s": Rule(low=0.001, high=7 * 86400),
    "max_window_s": Rule(low=1, high=7 * 86400),
    "q": Rule(low=0, high=1),
    "p": Rule(low=0, high=1),
    "min_weight": Rule(low=1, high=1_000_000, integer=True),
    "percentile": Rule(low=0, high=1),
    "news_window_s": Rule(low=0.001, high=7 * 86400),
    "component_objects": Rule(low=1, high=100_000, integer=True),
}

EDGE_COLUMNS = ("object_type", "account_a", "account_b", "platform_a", "platform_b", "weight",
                "n_coshares", "first_coshare_at", "last_coshare_at", "median_delta_s",
                "objects")  # fmt: skip
NODE_COLUMNS = ("object_type", "account", "platform", "name", "n_shares", "n_coord_shares",
                "degree", "strength", "component")  # fmt: skip
COMPONENT_COLUMNS = ("object_type", "component", "n_accounts", "accounts", "names",
                     "platforms", "n_edges", "weight_sum", "n_coshares", "first_coshare_at",
                     "last_coshare_at", "n_objects", "objects")  # fmt: skip
RUN_COLUMNS = ("object_type", "window_s", "window_source", "estimated_s", "q", "p",
               "objects_shared_twice",
               "quickest_objects", "include_news_arenas", "news_window_s", "shares",
               "accounts", "excluded_self_link", "excluded_news_arena", "pair_edges",
               "percentile", "percentile_weight", "min_weight", "weight_cutoff", "edges",
               "components")  # fmt: skip


def coordination_window(options: dict[str, Any], estimate: dict[str, Any] | None) -> tuple:
    """(seconds, source): the configured window, else CooRnet's estimate (0 s → 1 s, as
    CooRnet does; capped at ``max_window_s``: sparse sharing estimates days, which is no
    coordination signal and pairs every share of a popular page), else the default when
    nothing was shared twice."""
    if options["window_s"] is not None:
        return float(options["window_s"]), "configured"
    if estimate and estimate["estimated_s"] is not None:
        seconds = round(max(float(estimate["estimated_s"]), 1.0), 3)
        if seconds > options["max_window_s"]:
            return float(options["max_window_s"]), "estimated_capped"
        return seconds, "estimated"
    return float(options["default_window_s"]), "default"


def label_components(edges: list[dict[str, Any]]) -> dict[str, int]:
    """Account → component number: 1 the largest, ties by the smallest account id."""
    graph = nx.Graph((e["account_a"], e["account_b"]) for e in edges)
    found = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    return {account: index for index, members in enumerate(found, 1) for account in members}


def _network(object_type: str, edges, accounts, coord_shares, component) -> dict:
    coordinated = Counter(row["account"] for row in coord_shares)
    graph = {
        "directed": False,
        "nodes": [
            {"id": a["account"], "label": a["name"] or a["account"], "platform": a["platform"],
             "n_shares": a["n_shares"], "n_coord_shares": coordinated[a["account"]],
             "component": component[a["account"]]}
            for a in accounts
        ],
        "edges": [
            {"source": e["account_a"], "target": e["account_b"], "weight": e["weight"],
             "n_coshares": e["n_coshares"], "median_delta_s": e["median_delta_s"],
             "first_coshare_at": e["first_coshare_at"], "last_coshare_at": e["last_coshare_at"]}
            for e in edges
        ],
    }  # fmt: skip
    add_metrics(graph, community_edge_limit=COMMUNITY_EDGES)
    for node in graph["nodes"]:
        node["strength"] = node["weighted_degree"]
    graph["object_type"] = object_type
    return graph


def _components(object_type, edges, graph, coord_shares, component, limit) -> list[dict]:
    names = {n["id"]: n["label"] for n in graph["nodes"]}
    members: dict[int, list[str]] = defaultdict(list)
    for account in sorted(component):
        members[component[account]].append(account)
    sharers: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in coord_shares:
        sharers[component[row["account"]]][row["object"]].add(row["account"])
    edges_of: dict[int, list[dict]] = defaultdict(list)
    for edge in edges:
        edges_of[component[edge["account_a"]]].append(edge)
    rows = []
    for number in sorted(members):
        inside = edges_of[number]
        objects = sorted(sharers[number].items(), key=lambda item: (-len(item[1]), item[0]))
        rows.append(
            {
                "object_type": object_type,
                "component": number,
                "n_accounts": len(members[number]),
                "accounts": members[number],
                "names": [names[a] for a in members[number]],
                "platforms": sorted({a.split(":", 1)[0] for a in members[number]}),
                "n_edges": len(inside),
                "weight_sum": sum(e["weight"] for e in inside),
                "n_coshares": sum(e["n_coshares"] for e in inside),
                "first_coshare_at": min(e["first_coshare_at"] for e in inside),
                "last_coshare_at": max(e["last_coshare_at"] for e in inside),
                "n_objects": len(objects),
                "objects": [obj for obj, _ in objects[:limit]],
            }
        )
    return rows


def detect_coordination(
    conn: psycopg.Connection, params: dict[str, Any], **overrides: Any
) -> ResearchOutput:
    options, bound = bind(params, PARAMETERS, RULES, overrides)
    with bulk_transaction(conn):
        # the scope's links and near-duplicate records, in one scan of the scope
        temp_table(conn, LINKS_TABLE, "coordination_links", params, LINK_STATISTICS)
        temp_table(conn, "research_coord_shares", "coordination_shares", bound,
                   ("object_type", "object", "account", "excluded", "seq"))  # fmt: skip
        estimates = {r["object_type"]: r for r in query(conn, "coordination_window", bound)}
        windows = {t: coordination_window(options, estimates.get(t)) for t in OBJECT_TYPES}
        bound["windows"] = json.dumps({t: seconds for t, (seconds, _) in windows.items()})
        temp_table(conn, "research_coord_pairs", "coordination_pairs", bound,
                   ("object_type", "object", "account_a", "account_b"))  # fmt: skip
        temp_table(conn, "research_coord_edges", "coordination_edges", bound,
                   ("object_type", "account_a", "account_b", "weight"))  # fmt: skip
        cuts = {r["object_type"]: r for r in query(conn, "coordination_cuts", bound)}
        edges = query(conn, "coordination_kept_edges", bound)
        accounts = query(conn, "coordination_accounts", bound)
        coord_shares = query(conn, "coordination_coord_shares", bound)
        shares = {r["object_type"]: r for r in query(conn, "coordination_exclusions", bound)}
        weights = query(conn, "coordination_weights", bound)

    node_rows, component_rows, run_rows = [], [], []
    networks: dict[str, dict] = {}
    cutoffs: dict[str, float] = {}
    summary: dict[str, Any] = {}
    for object_type in OBJECT_TYPES:
        typed_edges = [e for e in edges if e["object_type"] == object_type]
        typed_coord = [r for r in coord_shares if r["object_type"] == object_type]
        component = label_components(typed_edges)
        graph = _network(
            object_type,
            typed_edges,
            [a for a in accounts if a["object_type"] == object_type],
            typed_coord,
            component,
        )
        networks[f"coshare_{object_type}"] = graph
        node_rows += [
            {"object_type": object_type, "account": n["id"], "platform": n["platform"],
             "name": n["label"], "n_shares": n["n_shares"], "n_coord_shares": n["n_coord_shares"],
             "degree": n["degree"], "strength": n["strength"], "component": n["component"]}
            for n in sorted(graph["nodes"], key=lambda n: (n["component"], n["id"]))
        ]  # fmt: skip
        component_rows += _components(
            object_type, typed_edges, graph, typed_coord, component, options["component_objects"]
        )
        cut = cuts.get(object_type, {})
        percentile_weight = cut.get("percentile_weight")
        cutoff = math.ceil(max(options["min_weight"], percentile_weight or 0))
        cutoffs[object_type] = cutoff
        seconds, source = windows[object_type]
        estimate = estimates.get(object_type, {})
        counted = shares.get(object_type, {})
        run_rows.append(
            {
                "object_type": object_type,
                "window_s": seconds,
                "window_source": source,
                "estimated_s": estimate.get("estimated_s"),
                "q": options["q"],
                "p": options["p"],
                "objects_shared_twice": estimate.get("objects_shared_twice", 0),
                "quickest_objects": estimate.get("quickest_objects", 0),
                "include_news_arenas": options["include_news_arenas"],
                "news_window_s": options["news_window_s"],
                "shares": counted.get("shares", 0),
                "accounts": counted.get("accounts", 0),
                "excluded_self_link": counted.get("excluded_self_link", 0),
                "excluded_news_arena": counted.get("excluded_news_arena", 0),
                "pair_edges": cut.get("pair_edges", 0),
                "percentile": options["percentile"],
                "percentile_weight": percentile_weight,
                "min_weight": options["min_weight"],
                "weight_cutoff": cutoff,
                "edges": len(typed_edges),
                "components": len(set(component.values())),
            }
        )
        summary |= {
            f"{object_type}_window_s": seconds,
            f"{object_type}_window_source": source,
            f"{object_type}_edges": len(typed_edges),
            f"{object_type}_components": len(set(component.values())),
        }
    return ResearchOutput(
        tables={
            "edges": Table(EDGE_COLUMNS, edges),
            "nodes": Table(NODE_COLUMNS, node_rows),
            "components": Table(COMPONENT_COLUMNS, component_rows),
            "runs": Table(RUN_COLUMNS, run_rows),
        },
        networks=networks,
        charts={"coshare_weight_chart": weight_chart(weights, cutoffs)},
        summary=summary,
        parameters=options,
    )


ANALYSIS = ResearchAnalysis(
    name="coordination",
    description="Coordinated sharing (CLSB-style, pairwise): accounts sharing the same page or "
    "near-duplicate text within the estimated window (CooRnet q 0.1, p 0.5; else 60 s) for at "
    "least 2 distinct objects and the 0.9 weight quantile; edges, nodes, components with "
    "members and shared objects, run metadata; news arenas and self-links excluded.",
    compute=detect_coordination,
    parameters=PARAMETERS,
    reads=("record_urls", "record_near_duplicates"),
)
