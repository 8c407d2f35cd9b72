"""Networks as plain graph dicts, their metrics (networkx) and GEXF 1.3.

Graph dict: ``{"nodes": [{id, label, type, ...}], "edges": [{source, target, weight, ...}]}``.
Pairs and weights come from SQL (``actor_pairs``, ``term_pairs``, ``actor_term_edges``,
``cross_platform_actors``); Python only shapes them and measures the small result.
"""

from __future__ import annotations

import io
import time
from typing import Any

import networkx as nx
from networkx.readwrite.gexf import GEXFWriter

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import run_models

NETWORK_MODELS = {
    "actor_cooccurrence": "actor_pairs",
    "term_cooccurrence": "term_pairs",
    "actor_term_bipartite": "actor_term_edges",
    "cross_platform_actors": "cross_platform_actors",
}


def _add_node(nodes: dict[str, dict], node_id: str, **attrs: Any) -> None:
    nodes.setdefault(node_id, {"id": node_id, **attrs})


def actor_graph(rows: list[dict[str, Any]]) -> dict:
    nodes: dict[str, dict] = {}
    edges = []
    for row in rows:
        for side in ("source", "target"):
            _add_node(
                nodes,
                row[side],
                label=row[f"{side}_label"],
                type="actor",
                platform=row[f"{side}_platform"],
                post_count=row[f"{side}_post_count"],
            )
        edges.append(
            {
                "source": row["source"],
                "target": row["target"],
                "weight": row["weight"],
                "shared_terms": row["shared_terms"],
            }
        )
    return {"nodes": list(nodes.values()), "edges": edges}


def term_graph(rows: list[dict[str, Any]]) -> dict:
    nodes: dict[str, dict] = {}
    edges = []
    for row in rows:
        for side in ("source", "target"):
            _add_node(
                nodes, row[side], label=row[side], type="term", frequency=row[f"{side}_frequency"]
            )
        edges.append({"source": row["source"], "target": row["target"], "weight": row["weight"]})
    return {"nodes": list(nodes.values()), "edges": edges}


def bipartite_graph(rows: list[dict[str, Any]]) -> dict:
    nodes: dict[str, dict] = {}
    edges = []
    for row in rows:
        _add_node(
            nodes,
            row["source"],
            label=row["source_label"],
            type="actor",
            platform=row["source_platform"],
            post_count=row["source_post_count"],
        )
        _add_node(nodes, row["target"], label=row["term"], type="term")
        edges.append({"source": row["source"], "target": row["target"], "weight": row["weight"]})
    for node in nodes.values():
        if node["type"] == "term":
            node["doc_count"] = sum(e["weight"] for e in edges if e["target"] == node["id"])
    return {"nodes": list(nodes.values()), "edges": edges}


def cross_platform_graph(rows: list[dict[str, Any]]) -> dict:
    """Actors and the platforms they posted on; weight = their posts on that platform."""
    nodes: dict[str, dict] = {}
    edges = []
    for row in rows:
        _add_node(
            nodes,
            row["actor_key"],
            label=row["label"],
            type="actor",
            platform_count=row["platform_count"],
        )
        platform_id = f"platform:{row['platform']}"
        _add_node(nodes, platform_id, label=row["platform"], type="platform")
        edges.append(
            {"source": row["actor_key"], "target": platform_id, "weight": row["post_count"]}
        )
    return {"nodes": list(nodes.values()), "edges": edges}


BUILDERS = {
    "actor_cooccurrence": actor_graph,
    "term_cooccurrence": term_graph,
    "actor_term_bipartite": bipartite_graph,
    "cross_platform_actors": cross_platform_graph,
}


def _undirected(g: nx.Graph) -> nx.Graph:
    """Communities of a directed network are found on its undirected form (the weights of
    a→b and b→a summed), as Gephi's modularity does: networkx's directed Louvain did not
    finish in minutes on a 2,800-edge mention network, which is mostly stars."""
    if not g.is_directed():
        return g
    undirected = nx.Graph()
    undirected.add_nodes_from(g)
    for source, target, weight in g.edges(data="weight", default=1):
        if undirected.has_edge(source, target):
            undirected[source][target]["weight"] += weight
        else:
            undirected.add_edge(source, target, weight=weight)
    return undirected


def _structure(graph: dict) -> nx.Graph:
    """The nodes and weighted edges only, what the metrics read, in the graph's own order
    (Louvain's result depends on it): without copying every attribute it builds in half the
    time (a 100,000-edge network of interaction_networks)."""
    g = nx.DiGraph() if graph.get("directed") else nx.Graph()
    g.add_nodes_from(node["id"] for node in graph["nodes"])
    g.add_weighted_edges_from(
        (edge["source"], edge["target"], edge.get("weight", 1)) for edge in graph["edges"]
    )
    return g


def _adjacency(graph: dict) -> tuple[dict[Any, dict], dict[Any, dict]]:
    """Each node's successors and predecessors with the edge's weight (one dict for both in an
    undirected graph), held as networkx holds them: the graph's nodes, then the edge ends met
    first; a pair given twice keeps its last weight. The metrics are read off these plain
    dicts: building an ``nx.Graph`` of a 100,000-edge network costs three times as much, and
    one is built only for Louvain."""
    directed = bool(graph.get("directed"))
    successors: dict[Any, dict] = {node["id"]: {} for node in graph["nodes"]}
    predecessors = {node: {} for node in successors} if directed else successors
    for edge in graph["edges"]:
        source, target = edge["source"], edge["target"]
        for end in (source, target):
            if end not in successors:
                successors[end] = {}
                predecessors[end] = {}  # the same dict again when undirected
        weight = edge.get("weight", 1)
        successors[source][target] = weight
        predecessors[target][source] = weight
    return successors, predecessors


def _components(successors: dict[Any, dict], predecessors: dict[Any, dict]) -> int:
    """Connected components (weakly connected ones of a directed graph)."""
    seen: set = set()
    components = 0
    for start in successors:
        if start in seen:
            continue
        components += 1
        seen.add(start)
        stack = [start]
        while stack:
            node = stack.pop()
            for neighbour in (*successors[node], *predecessors[node]):
                if neighbour not in seen:
                    seen.add(neighbour)
                    stack.append(neighbour)
    return components


def _density(nodes: int, edges: int, directed: bool) -> float:
    """``nx.density``, to the type: 0 (an int) without edges."""
    if edges == 0 or nodes <= 1:
        return 0
    return edges / (nodes * (nodes - 1)) * (1 if directed else 2)


def add_metrics(graph: dict, seed: int = 0, community_edge_limit: int | None = None) -> dict:
    """Degree, weighted degree and a Louvain community on every node; a summary beside.

    Above ``community_edge_limit`` edges Louvain is skipped (every community -1) and the
    metrics say so: on very large graphs it costs minutes and means little (4CAT: 50,000).
    The degrees, counts and components equal networkx's (``_adjacency``: same order, same
    sums), so only Louvain builds a networkx graph."""
    directed = bool(graph.get("directed"))
    successors, predecessors = _adjacency(graph)
    if directed:
        out_degree = {node: len(targets) for node, targets in successors.items()}
        in_degree = {node: len(sources) for node, sources in predecessors.items()}
        degree = {node: out_degree[node] + in_degree[node] for node in successors}
        weighted = {node: sum(successors[node].values()) + sum(predecessors[node].values())
                    for node in successors}  # fmt: skip
        edges = sum(out_degree.values())
    else:  # a loop counts twice in its node's degree, once among the edges
        degree = {node: len(nbrs) + (node in nbrs) for node, nbrs in successors.items()}
        weighted = {node: sum(nbrs.values()) + (nbrs[node] if node in nbrs else 0)
                    for node, nbrs in successors.items()}  # fmt: skip
        edges = sum(degree.values()) // 2
    community: dict[str, int] = {}
    skip = community_edge_limit is not None and edges > community_edge_limit
    if edges and not skip:
        found = nx.community.louvain_communities(
            _undirected(_structure(graph)), weight="weight", seed=seed
        )
        ordered = sorted(found, key=lambda c: (-len(c), min(c)))
        for index, members in enumerate(ordered):
            for member in members:
                community[member] = index
    for node in graph["nodes"]:
        node["degree"] = degree.get(node["id"], 0)
        node["weighted_degree"] = weighted.get(node["id"], 0)
        if directed:  # who is addressed vs who addresses: in and out apart
            node["in_degree"] = in_degree.get(node["id"], 0)
            node["out_degree"] = out_degree.get(node["id"], 0)
        node["community"] = community.get(node["id"], -1)
    nodes = len(successors)
    graph["metrics"] = {
        "nodes": nodes,
        "edges": edges,
        "directed": directed,
        "density": round(_density(nodes, edges, directed), 6) if nodes > 1 else 0.0,
        "communities": len(set(community.values())),
        "components": _components(successors, predecessors) if nodes else 0,
    }
    if skip:
        graph["metrics"]["communities_skipped"] = (
            f"{edges} edges, over the limit of {community_edge_limit}"
        )
    return graph


def build_network(name: str, rows: list[dict[str, Any]]) -> dict:
    if name not in BUILDERS:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(BUILDERS)}")
    return add_metrics(BUILDERS[name](rows))


def network(conn, scope: AnalysisScope, name: str) -> dict:
    params = check_scope(conn, scope)
    model = NETWORK_MODELS[name]
    return build_network(name, run_models(conn, params, [model])[model])


def _gexf_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return " | ".join(str(v) for v in value)
    return value


def gexf_bytes(graph: dict, description: str, creator: str = "The Issue Observatory") -> bytes:
    """GEXF 1.3, UTF-8, weighted edges (directed when ``graph["directed"]``: mention, reply
    and quote networks); list attributes joined with ' | '."""
    g = (
        nx.DiGraph(name=description[:200])
        if graph.get("directed")
        else nx.Graph(name=description[:200])
    )
    for node in graph["nodes"]:
        attrs = {k: _gexf_value(v) for k, v in node.items() if k != "id" and v is not None}
        g.add_node(node["id"], **attrs)
    for edge in graph["edges"]:
        attrs = {
            k: _gexf_value(v)
            for k, v in edge.items()
            if k not in ("source", "target") and v is not None
        }
        g.add_edge(edge["source"], edge["target"], **attrs)
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.3")
    meta = writer.xml.find("meta")
    meta.find("creator").text = creator
    meta.set("lastmodifieddate", time.strftime("%Y-%m-%d", time.gmtime()))
    meta.append(meta.makeelement("description", {}))
    meta.find("description").text = description
    writer.add_graph(g)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
