"""Coordinated sharing on planted co-shares: pairs, weights, cuts, components, the window
estimate and the exclusions, each asserted exactly."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import networkx as nx
import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research.coordination import ANALYSIS, detect_coordination
from observatory_pipelines.research.framework import ResearchInputError
from tests.research.conftest import BASE, enrich
from tests.research.published import run_with_empty

X, Y = "https://example.org/x", "https://example.org/y"


def _share(corpus, seconds, author, url, platform="bluesky", **fields):
    return corpus.add(published_at=BASE + timedelta(seconds=seconds), platform=platform,
                      author=author, text=f"se {url}", **fields)  # fmt: skip


def _run(conn, corpus, scope=None, **options):
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design, **(scope or {})))
    return detect_coordination(conn, params, **options)


def _at(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat()


@pytest.fixture()
def five(corpus, database_url):
    """a1…a5 share X at 0, 2, 4, 6, 8 s and Y at 100 … 108 s; a6 shares X at 50 s (alone)
    and Y at 105 s (one co-shared object only); a1 shares Z twice, alone."""
    for index in range(5):
        _share(corpus, 2 * index, f"a{index + 1}", X)
        _share(corpus, 100 + 2 * index, f"a{index + 1}", Y)
    _share(corpus, 50, "a6", X)
    _share(corpus, 105, "a6", Y)
    _share(corpus, 200, "a1", "https://example.org/z")
    _share(corpus, 201, "a1", "https://example.org/z")
    enrich(database_url, "record_urls")
    return corpus


def test_five_accounts_co_sharing_two_urls_are_one_component(five, conn):
    out = _run(conn, five, window_s=10)
    edges = out.tables["edges"].rows
    pairs = [(e["account_a"], e["account_b"]) for e in edges]
    members = [f"bluesky:a{i}" for i in range(1, 6)]
    assert sorted(pairs) == [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]
    assert {(e["weight"], e["n_coshares"]) for e in edges} == {(2, 2)}  # a6 (weight 1): none
    a1a2 = next(e for e in edges if (e["account_a"], e["account_b"]) == tuple(members[:2]))
    assert a1a2 == {
        "object_type": "url", "account_a": "bluesky:a1", "account_b": "bluesky:a2",
        "platform_a": "bluesky", "platform_b": "bluesky", "weight": 2, "n_coshares": 2,
        "first_coshare_at": _at(2), "last_coshare_at": _at(102), "median_delta_s": 2.0,
        "objects": ["example.org/x", "example.org/y"],
    }  # fmt: skip
    a1a5 = next(
        e for e in edges if (e["account_a"], e["account_b"]) == ("bluesky:a1", "bluesky:a5")
    )
    assert a1a5["median_delta_s"] == 8.0
    [component] = out.tables["components"].rows
    assert component == {
        "object_type": "url", "component": 1, "n_accounts": 5, "accounts": members,
        "names": [f"Name of a{i}" for i in range(1, 6)], "platforms": ["bluesky"],
        "n_edges": 10, "weight_sum": 20, "n_coshares": 20, "first_coshare_at": _at(2),
        "last_coshare_at": _at(108), "n_objects": 2,
        "objects": ["example.org/x", "example.org/y"],
    }  # fmt: skip
    nodes = {n["account"]: n for n in out.tables["nodes"].rows}
    assert set(nodes) == set(members)
    assert nodes["bluesky:a1"] == {
        "object_type": "url", "account": "bluesky:a1", "platform": "bluesky",
        "name": "Name of a1", "n_shares": 4, "n_coord_shares": 2, "degree": 4, "strength": 8,
        "component": 1,
    }  # fmt: skip
    [url_run, dup_run] = out.tables["runs"].rows
    assert {k: url_run[k] for k in ("window_s", "window_source", "shares", "accounts",
                                    "pair_edges", "percentile_weight", "weight_cutoff",
                                    "edges", "components")} == {
        "window_s": 10.0, "window_source": "configured", "shares": 14, "accounts": 6,
        "pair_edges": 15, "percentile_weight": 2.0, "weight_cutoff": 2, "edges": 10,
        "components": 1,
    }  # fmt: skip
    assert (dup_run["window_source"], dup_run["edges"]) == ("configured", 0)
    graph = out.networks["coshare_url"]
    assert graph["metrics"]["nodes"] == 5 and graph["metrics"]["edges"] == 10
    assert out.networks["coshare_near_dup"]["nodes"] == []


def test_the_estimated_window_on_five_accounts(five, conn):
    # X: 0,2,4,6,8,50 (n 6) and Y: 100,102,104,105,106,108 (n 6); Z: 200, 201 (n 2).
    # Second-share delays 2, 2, 1; their 0.1 quantile = 1 + 0.2 x (2 - 1) = 1.2: only Z is
    # among the quickest; its share ranked above half (rank 2 of 2) comes 1 s after the
    # first, so the window is 1 s: pairs at most 1 s apart — Y's a6 (105) with a3 (104)
    # and a4 (106), one object each: no edge passes the minimum of 2.
    out = _run(conn, five)
    url_run = out.tables["runs"].rows[0]
    assert (url_run["window_s"], url_run["window_source"]) == (1.0, "estimated")
    assert (url_run["objects_shared_twice"], url_run["quickest_objects"]) == (3, 1)
    assert (url_run["pair_edges"], url_run["edges"]) == (2, 0)
    assert out.tables["edges"].rows == [] and out.tables["components"].rows == []


def test_window_estimate_on_a_planted_distribution(corpus, database_url, conn):
    # 20 pages shared twice or more by distinct accounts. Second-share delays: A, B, C 2 s,
    # 17 others 30 s; the 0.1 quantile (linear) = the 2nd/3rd smallest = 2 s, so A, B, C
    # are the quickest. Time to the first share ranked above half of the page's shares:
    # A (0, 2, 5, 9): rank 3 → 5 s; B (0, 2, 7): rank 2 → 2 s; C (0, 2, 3, 4, 20, 40):
    # rank 4 → 4 s. The window is the 0.5 quantile of 2, 4, 5 = 4 s.
    planted = {"a": [0, 2, 5, 9], "b": [0, 2, 7], "c": [0, 2, 3, 4, 20, 40]}
    planted |= {f"slow{i}": [0, 30] for i in range(17)}
    for page, offsets in planted.items():
        for k, offset in enumerate(offsets):
            _share(corpus, 1000 * len(page) + offset, f"{page}_{k}", f"https://ex.dk/{page}")
    # news shares (RSS feeds) half a second apart would be the quickest: they are excluded
    for k, offset in enumerate([0, 0.5]):
        _share(corpus, 50_000 + offset, f"feed{k}", "https://ex.dk/news", platform="rss_feeds",
               arena="news_media")  # fmt: skip
    enrich(database_url, "record_urls")
    url_run, dup_run = _run(conn, corpus).tables["runs"].rows
    assert (url_run["window_s"], url_run["window_source"]) == (4.0, "estimated")
    assert (url_run["objects_shared_twice"], url_run["quickest_objects"]) == (20, 3)
    assert url_run["excluded_news_arena"] == 2
    assert (dup_run["window_s"], dup_run["window_source"]) == (60.0, "default")
    # q 1: every page is among the quickest: 2, 4, 5 and 17 x 30 s → the median is 30 s;
    # p 0.25 on the quickest three: ranks above a quarter — A rank 2 (2 s), B rank 1 of 3
    # (1/3 > 0.25: 0 s), C rank 2 (2 s) — and their 0.25 quantile (0, 2, 2) is 1 s
    assert _run(conn, corpus, q=1.0).tables["runs"].rows[0]["window_s"] == 30.0
    assert _run(conn, corpus, p=0.25).tables["runs"].rows[0]["window_s"] == 1.0
    capped = _run(conn, corpus, max_window_s=3).tables["runs"].rows[0]
    assert (capped["window_s"], capped["window_source"], capped["estimated_s"]) == (
        3.0,
        "estimated_capped",
        4.0,
    )


def test_shares_across_a_bin_edge_are_co_shares_and_the_window_is_inclusive(
    corpus, database_url, conn
):
    # BASE is a whole minute, so CooRnet's 10 s bins start at 0, 10, 20 … after it.
    _share(corpus, 9.5, "b1", "https://ex.dk/u1")
    _share(corpus, 10.5, "b2", "https://ex.dk/u1")  # 1 s later, in the next bin
    _share(corpus, 20, "b1", "https://ex.dk/u2")
    _share(corpus, 30, "b2", "https://ex.dk/u2")  # exactly the window later
    _share(corpus, 40, "b3", "https://ex.dk/u3")
    _share(corpus, 50.5, "b4", "https://ex.dk/u3")  # 10.5 s: too late
    _share(corpus, 60, "b3", "https://ex.dk/u4")
    _share(corpus, 61, "b4", "https://ex.dk/u4")
    enrich(database_url, "record_urls")
    out = _run(conn, corpus, window_s=10)
    assert [(e["account_a"], e["account_b"], e["weight"], e["median_delta_s"])
            for e in out.tables["edges"].rows] == [("bluesky:b1", "bluesky:b2", 2, 5.5)]  # fmt: skip
    assert out.tables["runs"].rows[0]["pair_edges"] == 2  # b3-b4: one object only


def test_self_links_and_news_arenas(corpus, database_url, conn):
    actor = uuid.uuid4()
    conn.execute("INSERT INTO actors (id, canonical_name) VALUES (%s, 'TV 2')", [actor])
    corpus.add(-600, platform="rss_feeds", arena="news_media", author="feed_tv2",
               author_id=actor, url="https://nyheder.tv2.dk/a", text="Nyhed")  # fmt: skip
    for offset, page in ((0, "x"), (100, "y")):  # TV 2's own Bluesky account and a fan
        _share(corpus, offset, "tv2_bsky", f"https://tv2.dk/{page}", author_id=actor)
        _share(corpus, offset + 1, "fan", f"https://tv2.dk/{page}")
    for offset, page in ((0, "n1"), (1000, "n2")):  # two feeds, 300 s apart
        _share(corpus, offset, "feed_b", f"https://ex.dk/{page}", platform="rss_feeds",
               arena="news_media")  # fmt: skip
        _share(corpus, offset + 300, "feed_c", f"https://ex.dk/{page}", platform="rss_feeds",
               arena="news_media")  # fmt: skip
    enrich(database_url, "record_urls")
    out = _run(conn, corpus, window_s=10)
    run = out.tables["runs"].rows[0]
    assert (run["excluded_self_link"], run["excluded_news_arena"], run["edges"]) == (2, 4, 0)
    out = _run(conn, corpus, window_s=10, include_news_arenas=True)
    assert [(e["account_a"], e["account_b"], e["weight"]) for e in out.tables["edges"].rows] == [
        ("rss_feeds:feed_b", "rss_feeds:feed_c", 2)
    ]  # news pairs get 900 s
    assert out.tables["runs"].rows[0]["excluded_news_arena"] == 0


def test_near_duplicate_objects(corpus, database_url, conn):
    story = (
        "Regeringen fremlægger i dag en ny klimaplan for landbruget med en afgift på "
        "udledning af drivhusgasser fra {} og husdyr, som skal træde i kraft i 2030"
    )
    other = ("Kommunerne i Nordjylland åbner flere nye ladestandere til elbiler langs "
             "motorvejen i løbet af {} efter en aftale med staten og energiselskaberne")  # fmt: skip
    first = corpus.add(published_at=BASE, author="n1", text=story.format("gødning"))
    corpus.add(published_at=BASE + timedelta(seconds=5), author="n2", text=story.format("gylle"))
    second = corpus.add(published_at=BASE + timedelta(seconds=100), author="n1",
                        text=other.format("foråret"))  # fmt: skip
    corpus.add(published_at=BASE + timedelta(seconds=104), author="n2",
               text=other.format("sommeren"))  # fmt: skip
    enrich(database_url, "record_urls", "record_near_duplicates")
    out = _run(conn, corpus, window_s=10)
    [edge] = out.tables["edges"].rows
    assert (edge["object_type"], edge["weight"], edge["median_delta_s"]) == ("near_dup", 2, 4.5)
    assert edge["objects"] == sorted([str(first), str(second)])
    assert out.tables["components"].rows[0]["accounts"] == ["bluesky:n1", "bluesky:n2"]


def test_scope_parameters_asset_and_empty_design(five, conn, postgres, s3_object_store_resource):
    assert _run(conn, five, {"platforms": ["reddit"]}, window_s=10).tables["edges"].rows == []
    for bad in ({"q": 1.5}, {"window_s": 0}, {"min_weight": 0}, {"percentile": -1}):
        with pytest.raises(ResearchInputError, match=next(iter(bad))):
            _run(conn, five, **bad)
    meta, document, empty = run_with_empty("coordination", five, postgres, s3_object_store_resource)
    assert meta["version"] == ANALYSIS.version and meta["url_window_source"] == "estimated"
    assert meta["coshare_weight_chart"].startswith("![coshare weight chart](data:image/png")
    assert [r["window_source"] for r in document["tables"]["runs"]["rows"]] == ["default"] * 2
    assert document["tables"]["edges"]["rows"] == [] == document["tables"]["nodes"]["rows"]
    assert document["tables"]["edges"]["columns"][:3] == ["object_type", "account_a", "account_b"]
    store = s3_object_store_resource.outputs()
    gexf = store.get_bytes(f"exports/{five.owner}/{empty}/standard/coordination-coshare_url.gexf")
    assert nx.read_gexf(io.BytesIO(gexf)).number_of_nodes() == 0
