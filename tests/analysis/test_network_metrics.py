"""add_metrics reads degrees, edge counts, density and components off plain dicts, not a
networkx graph (analysis/network.py): they must equal networkx's on every shape a network
can take: loops, a pair given twice (in either orientation), edge ends missing from the node
list, isolated nodes, float weights, directed and undirected."""

from __future__ import annotations

import networkx as nx
import pytest

from observatory_pipelines.analysis.network import add_metrics

EDGES = [
    ("a", "b", 2),
    ("b", "a", 5),  # the same pair again, the other way round: the last weight wins
    ("b", "c", 1.5),
    ("c", "c", 3),  # a loop
    ("d", "e", 1),  # e is not in the node list
    ("a", "b", 4),
]


def _networkx_figures(directed: bool, nodes: list[str]) -> dict:
    g = nx.DiGraph() if directed else nx.Graph()
    g.add_nodes_from(nodes)
    g.add_weighted_edges_from(EDGES)
    figures = {
        "degree": dict(g.degree()),
        "weighted_degree": dict(g.degree(weight="weight")),
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "density": round(nx.density(g), 6),
        "components": (
            nx.number_weakly_connected_components(g)
            if directed
            else nx.number_connected_components(g)
        ),
    }
    if directed:
        figures |= {"in_degree": dict(g.in_degree()), "out_degree": dict(g.out_degree())}
    return figures


@pytest.mark.parametrize("directed", [False, True])
def test_degrees_counts_density_and_components_equal_networkx(directed):
    nodes = ["a", "b", "c", "d", "lonely"]
    graph = {
        "directed": directed,
        "nodes": [{"id": n} for n in nodes],
        "edges": [{"source": s, "target": t, "weight": w} for s, t, w in EDGES],
    }
    add_metrics(graph, community_edge_limit=0)  # Louvain skipped: only the plain-dict figures
    expected = _networkx_figures(directed, nodes)
    for node in graph["nodes"]:
        assert node["degree"] == expected["degree"][node["id"]]
        assert node["weighted_degree"] == expected["weighted_degree"][node["id"]]
        if directed:
            assert node["in_degree"] == expected["in_degree"][node["id"]]
            assert node["out_degree"] == expected["out_degree"][node["id"]]
    metrics = graph["metrics"]
    assert [metrics[k] for k in ("nodes", "edges", "density", "components")] == [
        expected[k] for k in ("nodes", "edges", "density", "components")
    ]
    # the hand count: e joins as an edge end, the pair a-b is one edge (two when directed)
    assert metrics["nodes"] == 6
    assert metrics["edges"] == (5 if directed else 4)
    assert metrics["components"] == 3  # {a, b, c}, {d, e}, {lonely}


def test_no_edges_gives_networkx_zero_density_and_isolated_components():
    graph = {"nodes": [{"id": "a"}, {"id": "b"}], "edges": []}
    add_metrics(graph)
    assert graph["metrics"]["density"] == 0 and isinstance(graph["metrics"]["density"], int)
    assert graph["metrics"]["components"] == 2
    assert [n["degree"] for n in graph["nodes"]] == [0, 0]
