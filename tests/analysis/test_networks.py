"""Every network edge weight on the corpus, metrics, and GEXF 1.3 read back by networkx."""

from __future__ import annotations

import networkx as nx

from observatory_pipelines.analysis.network import gexf_bytes, network
from observatory_pipelines.analysis.scope import AnalysisScope


def _edges(graph) -> dict[frozenset, int]:
    return {frozenset((e["source"], e["target"])): e["weight"] for e in graph["edges"]}


def test_actor_cooccurrence_weights_are_shared_terms(conn, corpus):
    A, B, C, D, E = corpus.A, corpus.B, corpus.C, corpus.D, corpus.E
    graph = network(conn, AnalysisScope(corpus.design), "actor_cooccurrence")
    assert _edges(graph) == {
        frozenset((A, B)): 1,  # klima
        frozenset((A, C)): 2,  # energi, klima
        frozenset((A, E)): 2,  # energi, klima
        frozenset((B, C)): 1,  # klima
        frozenset((B, E)): 2,  # grøn, klima
        frozenset((C, D)): 1,  # skat
        frozenset((C, E)): 2,  # energi, klima
    }
    shared = {frozenset((e["source"], e["target"])): e["shared_terms"] for e in graph["edges"]}
    assert shared[frozenset((B, E))] == ["grøn", "klima"]
    assert all(e["source"] < e["target"] for e in graph["edges"])  # each pair once
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert set(nodes) == {A, B, C, D, E}  # the author-less record made no "unknown" node
    assert nodes[A]["label"] == "Klimarådet" and nodes[E]["label"] == "Jens Ærø"
    assert nodes[C]["degree"] == 4 and nodes[C]["weighted_degree"] == 6
    assert nodes[D]["degree"] == 1 and nodes[D]["post_count"] == 1
    assert graph["metrics"]["nodes"] == 5 and graph["metrics"]["edges"] == 7
    assert graph["metrics"]["communities"] >= 1
    assert all(n["community"] >= 0 for n in graph["nodes"])


def test_actor_network_min_weight_and_edge_limit(conn, corpus):
    heavy = network(
        conn, AnalysisScope(corpus.design, options={"actor_min_weight": 2}), "actor_cooccurrence"
    )
    assert sorted(_edges(heavy).values()) == [2, 2, 2, 2]
    top = network(
        conn, AnalysisScope(corpus.design, options={"actor_edge_limit": 1}), "actor_cooccurrence"
    )
    assert len(top["edges"]) == 1 and top["edges"][0]["weight"] == 2


def test_term_cooccurrence_weights_are_distinct_records(conn, corpus):
    graph = network(conn, AnalysisScope(corpus.design), "term_cooccurrence")  # min weight 2
    assert _edges(graph) == {
        frozenset(("energi", "klima")): 3,  # records 1, 5 (klima twice, counted once), 7
        frozenset(("grøn", "klima")): 2,  # records 3, 7
        frozenset(("energi", "grøn")): 2,  # records 7, 9
    }
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert {k: v["frequency"] for k, v in nodes.items()} == {"energi": 5, "klima": 6, "grøn": 3}
    assert all(n["type"] == "term" for n in nodes.values())
    everything = network(
        conn, AnalysisScope(corpus.design, options={"term_min_weight": 1}), "term_cooccurrence"
    )
    assert _edges(everything)[frozenset(("energi", "skat"))] == 1 and len(everything["edges"]) == 4


def test_bipartite_actor_term(conn, corpus):
    A, B, C, D, E = corpus.A, corpus.B, corpus.C, corpus.D, corpus.E
    graph = network(conn, AnalysisScope(corpus.design), "actor_term_bipartite")
    assert _edges(graph) == {
        frozenset((A, "term:klima")): 2,
        frozenset((A, "term:energi")): 1,
        frozenset((B, "term:klima")): 1,
        frozenset((B, "term:grøn")): 1,
        frozenset((C, "term:energi")): 2,
        frozenset((C, "term:skat")): 1,
        frozenset((C, "term:klima")): 1,
        frozenset((D, "term:skat")): 1,
        frozenset((E, "term:grøn")): 2,
        frozenset((E, "term:energi")): 2,
        frozenset((E, "term:klima")): 1,
    }
    terms = {n["id"]: n for n in graph["nodes"] if n["type"] == "term"}
    assert {k: v["doc_count"] for k, v in terms.items()} == {
        "term:klima": 5,
        "term:energi": 5,
        "term:grøn": 3,
        "term:skat": 2,
    }
    assert terms["term:grøn"]["label"] == "grøn"


def test_cross_platform_actor_through_author_id_and_presence(conn, corpus):
    graph = network(conn, AnalysisScope(corpus.design), "cross_platform_actors")
    actor = f"actor:{corpus.actor_x}"
    assert _edges(graph) == {
        frozenset((actor, "platform:bluesky")): 2,  # author_id on records 1-2
        frozenset((actor, "platform:reddit")): 2,  # presence reddit_carl on records 4-5
    }
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes[actor]["label"] == "Klimarådet" and nodes[actor]["platform_count"] == 2
    assert nodes["platform:reddit"]["type"] == "platform"


def test_gexf_13_parses_with_networkx(conn, corpus, tmp_path):
    for name in ("actor_cooccurrence", "term_cooccurrence", "actor_term_bipartite"):
        graph = network(conn, AnalysisScope(corpus.design), name)
        data = gexf_bytes(graph, f"{name} test")
        assert b'version="1.3"' in data and b"http://gexf.net/1.3" in data
        assert b"<description>" in data and "grøn".encode() in data
        path = tmp_path / f"{name}.gexf"
        path.write_bytes(data)
        parsed = nx.read_gexf(path, version="1.3")
        assert not parsed.is_directed()
        assert set(parsed.nodes) == {n["id"] for n in graph["nodes"]}
        assert {frozenset(e) for e in parsed.edges} == set(_edges(graph))
        for edge in graph["edges"]:
            assert parsed.edges[edge["source"], edge["target"]]["weight"] == edge["weight"]
        some = graph["nodes"][0]
        assert parsed.nodes[some["id"]]["label"] == some["label"]
        assert parsed.nodes[some["id"]]["degree"] == some["degree"]


def test_empty_design_gives_empty_networks_and_valid_gexf(conn, corpus, tmp_path):
    for name in (
        "actor_cooccurrence",
        "term_cooccurrence",
        "actor_term_bipartite",
        "cross_platform_actors",
    ):
        graph = network(conn, AnalysisScope(corpus.empty_design), name)
        assert graph["nodes"] == [] and graph["edges"] == []
        assert graph["metrics"]["nodes"] == 0
        path = tmp_path / f"{name}.gexf"
        path.write_bytes(gexf_bytes(graph, "empty"))
        assert nx.read_gexf(path, version="1.3").number_of_nodes() == 0
