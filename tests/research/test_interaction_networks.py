"""Interaction networks on a hand-built corpus: every weight, frequency and direction planted.

Bluesky: a (did:plc:aaa), b (did:plc:bbb), c (did:plc:ccc).
  a1  #Grønland #klima, mentions @bbb
  a2  #grønland #klima #dk, mentions @bbb and @zzz (not in our data)
  b1  #klima, replies to a1 (parent in our data)              → reply b→a
  b2  replies to a post of a's we never collected (DID in URI) → reply b→a
  c1  replies to did:plc:xxx's post (unknown author)           → reply c→bluesky:did:plc:xxx
      quotes a1 (app.bsky.embed.record#view)                   → quote c→a
  c2  quotes b1 with media (recordWithMedia#view)              → quote c→b
      replies to c1 (own post: a loop, dropped)
Reddit: rx posts p1 (links dr.dk, tv2.dk); ry comments c2 on it (t3_); rx answers c2 (t1_,
  links dr.dk, tv2.dk, politiken.dk); ry answers a comment we do not hold (t1_gone).
X: xa tweets t1; xb quotes t1 and replies to t999 of user 111 (xa, tweet not collected).
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research.framework import ResearchInputError
from observatory_pipelines.research.interaction_networks import (
    EDGE_COLUMNS,
    INTERACTION_NETWORKS,
    NETWORKS,
    compute_networks,
)
from tests.research.conftest import enrich, materialize_research, metadata

NAME = INTERACTION_NETWORKS.name


def _uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def _facet(text: str, span: str, feature: dict) -> dict:
    start = text.encode().index(span.encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(span.encode())},
            "features": [feature]}  # fmt: skip


def _tag(text: str, tag: str) -> dict:
    return _facet(text, f"#{tag}", {"$type": "app.bsky.richtext.facet#tag", "tag": tag})


def _mention(text: str, handle: str, did: str) -> dict:
    return _facet(text, f"@{handle}", {"$type": "app.bsky.richtext.facet#mention", "did": did})


def _bluesky(corpus, minutes, author, did, rkey, text, facets=(), **meta):
    return corpus.add(
        minutes,
        platform="bluesky",
        author=author,
        author_platform_id=did,
        platform_id=_uri(did, rkey),
        text=text,
        raw_metadata={"facets": list(facets), **meta},
    )


def build_corpus(corpus):
    a, b, c = "did:plc:aaa", "did:plc:bbb", "did:plc:ccc"
    t1 = "Smelter #Grønland? #klima @bbb.bsky.social"
    _bluesky(corpus, 0, "a", a, "a1", t1,
             [_tag(t1, "Grønland"), _tag(t1, "klima"), _mention(t1, "bbb.bsky.social", b)])  # fmt: skip
    t2 = "#grønland #klima #dk @bbb.bsky.social @zzz.bsky.social"
    _bluesky(corpus, 1, "a", a, "a2", t2,
             [_tag(t2, "grønland"), _tag(t2, "klima"), _tag(t2, "dk"),
              _mention(t2, "bbb.bsky.social", b), _mention(t2, "zzz.bsky.social", "did:plc:zzz")])  # fmt: skip
    t3 = "Enig #klima"
    _bluesky(corpus, 2, "b", b, "b1", t3, [_tag(t3, "klima")],
             reply={"root": {"uri": _uri(a, "a1")}, "parent": {"uri": _uri(a, "a1")}})  # fmt: skip
    _bluesky(corpus, 3, "b", b, "b2", "Også enig",
             reply={"parent": {"uri": _uri(a, "never-collected")}})  # fmt: skip
    _bluesky(corpus, 4, "c", c, "c1", "Se her",
             reply={"parent": {"uri": _uri("did:plc:xxx", "x1")}},
             embed={"$type": "app.bsky.embed.record#view",
                    "record": {"$type": "app.bsky.embed.record#viewRecord", "uri": _uri(a, "a1"),
                               "author": {"did": a}}})  # fmt: skip
    _bluesky(corpus, 5, "c", c, "c2", "Og her",
             reply={"parent": {"uri": _uri(c, "c1")}},
             embed={"$type": "app.bsky.embed.recordWithMedia#view",
                    "record": {"record": {"uri": _uri(b, "b1")}}, "media": {}})  # fmt: skip
    # Reddit: ids bare, parents t3_ (post) / t1_ (comment)
    corpus.add(10, platform="reddit", author="rx", platform_id="p1", content_type="post",
               text="Se https://www.dr.dk/nyheder/x og https://tv2.dk/y",
               raw_metadata={"kind": "t3"})  # fmt: skip
    corpus.add(11, platform="reddit", author="ry", platform_id="c2", content_type="comment",
               text="Nej", raw_metadata={"kind": "t1", "parent_id": "t3_p1"})  # fmt: skip
    corpus.add(12, platform="reddit", author="rx", platform_id="c3", content_type="comment",
               text="https://dr.dk/nyheder/x https://tv2.dk/y https://politiken.dk/z",
               raw_metadata={"kind": "t1", "parent_id": "t1_c2"})  # fmt: skip
    corpus.add(13, platform="reddit", author="ry", platform_id="c4", content_type="comment",
               text="Hvem?", raw_metadata={"kind": "t1", "parent_id": "t1_gone"})  # fmt: skip
    # X: a quote of a stored tweet, a reply whose tweet we lack but whose author we know
    corpus.add(20, platform="x_twitter", author="xa", author_platform_id="111",
               platform_id="t1", text="Første")  # fmt: skip
    corpus.add(21, platform="x_twitter", author="xb", author_platform_id="222",
               platform_id="t2", text="Citat",
               raw_metadata={"quoted_tweet_id": "t1", "in_reply_to_id": "t999",
                             "in_reply_to_user_id": "111"})  # fmt: skip


def _edges(output, network):
    return {(r["source"], r["target"]): r["weight"] for r in output.tables[f"{network}_edges"].rows}


def _nodes(output, network):
    return {n["id"]: n for n in output.networks[network]["nodes"]}


@pytest.fixture()
def built(corpus, conn, database_url):
    build_corpus(corpus)
    enrich(database_url, "record_tags", "record_urls")
    return check_scope(conn, AnalysisScope(query_design_id=corpus.design))


def test_every_network_has_its_planted_edges_and_frequencies(built, conn):
    out = compute_networks(conn, built)
    assert _edges(out, "cohashtag") == {("grønland", "klima"): 2, ("dk", "grønland"): 1,
                                        ("dk", "klima"): 1}  # fmt: skip
    tags = _nodes(out, "cohashtag")
    # #Grønland and #grønland are one node; b1's lone #klima counts in its frequency
    assert {k: v["frequency"] for k, v in tags.items()} == {"grønland": 2, "klima": 3, "dk": 1}
    assert tags["grønland"]["label"] == "#grønland" and tags["klima"]["platform"] == "bluesky"
    assert _edges(out, "author_hashtag") == {("a", "tag:grønland"): 2, ("a", "tag:klima"): 2,
                                             ("a", "tag:dk"): 1, ("b", "tag:klima"): 1}  # fmt: skip
    # an author's frequency: its records with any tag (a1, a2; b1), a tag's: records holding it
    author_tags = _nodes(out, "author_hashtag")
    assert {k: (v["frequency"], v["type"], v["label"]) for k, v in author_tags.items()} == {
        "a": (2, "actor", "Name of a"), "b": (1, "actor", "Name of b"), "tag:klima": (3, "hashtag", "#klima"),
        "tag:grønland": (2, "hashtag", "#grønland"), "tag:dk": (1, "hashtag", "#dk"),
    }  # fmt: skip
    assert _edges(out, "mention") == {("a", "b"): 2, ("a", "bluesky:did:plc:zzz"): 1}
    mention_nodes = _nodes(out, "mention")
    assert mention_nodes["b"]["type"] == "actor" and mention_nodes["b"]["label"] == "Name of b"
    assert mention_nodes["bluesky:did:plc:zzz"]["type"] == "mentioned"
    assert mention_nodes["bluesky:did:plc:zzz"]["label"] == "@zzz.bsky.social"
    assert _edges(out, "reply") == {
        ("b", "a"): 2,  # b1 (parent stored) + b2 (parent missing, DID a's)
        ("c", "bluesky:did:plc:xxx"): 1,  # c2 → c1 is a loop: dropped
        ("ry", "rx"): 1,  # c2 → t3_p1
        ("rx", "ry"): 1,  # c3 → t1_c2
        ("ry", "reddit:post:gone"): 1,  # parent not held: external
        ("xb", "xa"): 1,  # in_reply_to_user_id of a design author
    }
    reply_nodes = _nodes(out, "reply")
    assert reply_nodes["bluesky:did:plc:xxx"]["type"] == "external"
    assert reply_nodes["bluesky:did:plc:xxx"]["label"] == "did:plc:xxx"
    assert reply_nodes["reddit:post:gone"]["type"] == "external"
    assert reply_nodes["a"]["frequency"] == 2 and reply_nodes["ry"]["frequency"] == 3
    assert _edges(out, "quote") == {("c", "a"): 1, ("c", "b"): 1, ("xb", "xa"): 1}
    assert _edges(out, "url_cooccurrence") == {
        ("dr.dk/nyheder/x", "tv2.dk/y"): 2,
        ("dr.dk/nyheder/x", "politiken.dk/z"): 1,
        ("politiken.dk/z", "tv2.dk/y"): 1,
    }
    assert _nodes(out, "url_cooccurrence")["dr.dk/nyheder/x"]["frequency"] == 2
    assert _edges(out, "actor_domain") == {("rx", "domain:dr.dk"): 2, ("rx", "domain:tv2.dk"): 2,
                                           ("rx", "domain:politiken.dk"): 1}  # fmt: skip
    actor_domains = _nodes(out, "actor_domain")
    assert {k: (v["frequency"], v["type"], v["platform"]) for k, v in actor_domains.items()} == {
        "rx": (2, "actor", "reddit"), "domain:dr.dk": (2, "domain", "reddit"),
        "domain:tv2.dk": (2, "domain", "reddit"), "domain:politiken.dk": (1, "domain", "reddit"),
    }  # fmt: skip
    assert out.tables["reply_edges"].columns == EDGE_COLUMNS
    assert out.summary["reply_edges"] == out.summary["reply_edges_total"] == 6
    assert out.summary["reply_nodes"] == 9
    assert out.networks["reply"]["metrics"]["directed"] is True
    # directed networks get communities too (found on the undirected form)
    assert all(n["community"] >= 0 for n in out.networks["reply"]["nodes"])
    assert out.networks["cohashtag"]["metrics"]["communities"] >= 1
    assert out.charts["most_addressed"].startswith(b"\x89PNG")


def test_a_value_repeated_in_a_stored_list_counts_once_and_loops_once(built, conn):
    """Weights and frequencies count records, not list entries: a1's stored tags, mentions and
    links written twice over change nothing; c (c1, and c2 answering c1: a loop) is in 2
    records of the reply network, not 3."""
    before = compute_networks(conn, built)
    conn.execute(
        "UPDATE enrichment_tags AS t SET hashtags = t.hashtags || t.hashtags,"
        " mentions = t.mentions || t.mentions, mention_ids = t.mention_ids || t.mention_ids"
        " FROM content_records AS c WHERE c.id = t.record_id AND c.platform_id = %s",
        [_uri("did:plc:aaa", "a1")],
    )
    after = compute_networks(conn, built)
    for network in ("cohashtag", "author_hashtag", "mention"):
        assert _edges(after, network) == _edges(before, network), network
        assert _nodes(after, network) == _nodes(before, network), network
    assert _edges(after, "cohashtag")[("grønland", "klima")] == 2
    assert _nodes(after, "cohashtag")["klima"]["frequency"] == 3
    assert _nodes(after, "mention")["a"]["frequency"] == 2
    assert _nodes(after, "reply")["c"]["frequency"] == 2


def test_the_asset_writes_directed_and_undirected_gexf(built, corpus, postgres,
                                                       s3_object_store_resource):  # fmt: skip
    result = materialize_research([NAME], corpus.design, postgres, s3_object_store_resource)
    assert result.success
    meta = metadata(result, NAME)
    assert meta["reply_edges"] == 6 and meta["cohashtag_edges"] == 3
    store = s3_object_store_resource.outputs()
    prefix = f"exports/{corpus.owner}/{corpus.design}/standard/{NAME}"
    for network, (_, _, directed) in NETWORKS.items():
        data = store.get_bytes(f"{prefix}-{network}.gexf")
        graph = nx.read_gexf(io.BytesIO(data))
        assert graph.is_directed() is directed, network
        root = ET.fromstring(data)
        [graph_el] = [e for e in root.iter() if e.tag.endswith("graph")]
        assert graph_el.get("defaultedgetype") == ("directed" if directed else "undirected")
    reply = nx.read_gexf(io.BytesIO(store.get_bytes(f"{prefix}-reply.gexf")))
    assert reply["b"]["a"]["weight"] == 2 and not reply.has_edge("a", "b")
    assert reply.nodes["bluesky:did:plc:xxx"]["type"] == "external"
    tags = nx.read_gexf(io.BytesIO(store.get_bytes(f"{prefix}-cohashtag.gexf")))
    assert tags["klima"]["grønland"]["weight"] == 2  # undirected: either order
    base = f"analysis/{corpus.design}/standard/research/{NAME}"
    document = json.loads(store.get_bytes(f"{base}/result.json"))
    assert document["tables"]["quote_edges"]["rows"][0]["weight"] == 1
    assert store.get_bytes(f"{base}/mention_edges.csv").decode("utf-8-sig").splitlines()[0] == (
        ",".join(EDGE_COLUMNS)
    )


def test_filtered_scope_limits_and_skipped_communities(built, corpus, conn):
    reddit = check_scope(conn, AnalysisScope(query_design_id=corpus.design, platforms=["reddit"]))
    out = compute_networks(conn, reddit)
    assert _edges(out, "reply") == {("ry", "rx"): 1, ("rx", "ry"): 1, ("ry", "reddit:post:gone"): 1}
    assert _edges(out, "cohashtag") == {} and _edges(out, "quote") == {}
    # the heaviest edge only, and Louvain skipped above one edge (said in metrics and summary)
    cut = compute_networks(conn, built, edge_limit=1, community_edge_limit=1)
    assert _edges(cut, "reply") == {("b", "a"): 2}
    assert cut.summary["reply_edges_total"] == 6 and cut.summary["reply_edges"] == 1
    assert "communities_skipped" not in cut.networks["reply"]["metrics"]  # 1 edge: not above
    wide = compute_networks(conn, built, community_edge_limit=2)
    assert wide.summary["reply_communities_skipped"] == "6 edges, over the limit of 2"
    assert {n["community"] for n in wide.networks["reply"]["nodes"]} == {-1}
    for bad in (0, -3, True, "5"):
        with pytest.raises(ResearchInputError, match="edge_limit"):
            compute_networks(conn, built, edge_limit=bad)


def test_an_empty_design_gives_empty_tables_and_valid_gexf(corpus, conn, postgres,
                                                           s3_object_store_resource):  # fmt: skip
    out = compute_networks(conn, check_scope(conn, AnalysisScope(query_design_id=corpus.design)))
    assert all(t.rows == [] and t.columns == EDGE_COLUMNS for t in out.tables.values())
    assert set(out.tables) == {f"{n}_edges" for n in NETWORKS}
    result = materialize_research([NAME], corpus.design, postgres, s3_object_store_resource)
    assert result.success
    store = s3_object_store_resource.outputs()
    data = store.get_bytes(f"exports/{corpus.owner}/{corpus.design}/standard/{NAME}-mention.gexf")
    graph = nx.read_gexf(io.BytesIO(data))
    assert graph.is_directed() and graph.number_of_nodes() == 0
