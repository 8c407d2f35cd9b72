"""Propagation on a hand-made corpus: near-duplicate groups across platforms and outlets,
and a news article shared on two platforms; every time, lag and order asserted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research.framework import ResearchInputError
from observatory_pipelines.research.propagation import ANALYSIS, trace_propagation
from tests.research.conftest import BASE, enrich
from tests.research.published import run_with_empty

UNDATED = {"published_at_source": "collected_at"}
STORY = (
    "Regeringen fremlægger i dag en ny klimaplan for landbruget med en afgift på "
    "udledning af drivhusgasser fra {} og husdyr, som skal træde i kraft i 2030"
)
OTHER = (
    "Kommunerne i Nordjylland åbner flere nye ladestandere til elbiler langs "
    "motorvejen i løbet af {} efter en aftale med staten og energiselskaberne"
)
SOLO = ("Et indlæg om vindmøller på havet ved Bornholm og den energiø, der skal bygges "
        "i Østersøen, blev delt to gange af samme {} konto i dag")  # fmt: skip


def _at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


@pytest.fixture()
def spread(corpus, database_url):
    add = corpus.add
    ids = {
        "origin": add(0, platform="rss_feeds", arena="news_media", author="feed_dr",
                      url="https://www.dr.dk/nyheder/klima-1", title="Klimaplan",
                      text=STORY.format("gødning")),
        "b1": add(30, author="b1", text=STORY.format("gylle")),
        "b2": add(90, author="b2", text=STORY.format("marker")),
        "r1": add(120, platform="reddit", author="r1", text=STORY.format("stalde")),
    }  # fmt: skip
    add(10, platform="reddit", author="r2", text=STORY.format("køer"), raw_metadata=UNDATED)
    ids["c1"] = add(0, author="c1", text=OTHER.format("foråret"))
    add(10, author="c2", text=OTHER.format("sommeren"))
    add(0, author="solo", text=SOLO.format("bruger"))
    add(5, author="solo", text=SOLO.format("brugers"))
    add(45, author="s1", text="Læs https://dr.dk/nyheder/klima-1")
    add(200, platform="reddit", author="s2", text="https://www.dr.dk/nyheder/klima-1")
    add(60, author="s3", text="https://dr.dk/nyheder/klima-1 !")
    add(5, author="s4", text="https://dr.dk/nyheder/klima-1", raw_metadata=UNDATED)
    add(50, author="s1", text="https://example.org/x")
    add(55, platform="reddit", author="s2", text="https://example.org/x")
    add(56, platform="reddit", author="s2", text="https://example.org/once")
    enrich(database_url, "record_urls", "record_near_duplicates")
    return corpus, ids


def _params(conn, corpus, **scope):
    return check_scope(conn, AnalysisScope(query_design_id=corpus.design, **scope))


def test_clusters_and_urls_are_hand_timed(spread, conn):
    corpus, ids = spread
    out = trace_propagation(conn, _params(conn, corpus))
    clusters = out.tables["clusters"].rows
    assert len(clusters) == 2  # the one-account group spans neither platforms nor outlets
    story, other = clusters
    assert story == {
        "cluster_id": str(ids["origin"]), "n_records": 4, "n_actors": 4, "n_platforms": 3,
        "n_outlets": 4, "n_undated_excluded": 1, "origin_record_id": str(ids["origin"]),
        "origin_platform": "rss_feeds", "origin_outlet": "DR", "origin_published_at": _at(0),
        "first_seen_per_platform": {"rss_feeds": _at(0), "bluesky": _at(30),
                                    "reddit": _at(120)},
        "lag_min_per_platform": {"rss_feeds": 0, "bluesky": 30, "reddit": 120},
        "t50_minutes": 30, "duration_hours": 2,
        "sequence": ["DR", "bluesky:Name of b1", "bluesky:Name of b2", "reddit:Name of r1"],
    }  # fmt: skip
    assert (other["cluster_id"], other["n_platforms"], other["n_outlets"]) == (str(ids["c1"]), 1, 2)
    assert (other["t50_minutes"], other["duration_hours"]) == (0, 0.1667)
    assert other["lag_min_per_platform"] == {"bluesky": 0}
    urls = out.tables["urls"].rows
    assert [u["url_key"] for u in urls] == ["dr.dk/nyheder/klima-1", "example.org/x"]
    article, plain = urls
    assert article == {
        "url_key": "dr.dk/nyheder/klima-1", "url_clean": "https://dr.dk/nyheder/klima-1",
        "registered_domain": "dr.dk", "n_shares": 3, "n_actors": 3, "n_platforms": 2,
        "n_undated_excluded": 1, "first_published_at": _at(45), "first_platform": "bluesky",
        "first_actor": "bluesky:s1", "first_actor_name": "Name of s1",
        "shares_by_platform": {"bluesky": 2, "reddit": 1},
        "first_share_per_platform": {"bluesky": _at(45), "reddit": _at(200)},
        "article_record_id": str(ids["origin"]), "article_platform": "rss_feeds",
        "article_published_at": _at(0), "lag_min_per_platform": {"bluesky": 45, "reddit": 200},
    }  # fmt: skip
    assert plain["n_shares"] == 2 and plain["article_published_at"] is None
    assert plain["lag_min_per_platform"] is None and plain["first_actor"] == "bluesky:s1"
    assert out.summary == {"near_duplicate_records": 9, "clusters_spread": 2,
                           "urls_followed": 2, "urls_with_article": 1}  # fmt: skip


def test_a_filtered_scope_finds_its_own_origin(spread, conn):
    corpus, ids = spread
    out = trace_propagation(conn, _params(conn, corpus, platforms=["bluesky", "reddit"]))
    story = out.tables["clusters"].rows[0]
    assert (story["origin_record_id"], story["origin_platform"]) == (str(ids["b1"]), "bluesky")
    assert story["lag_min_per_platform"] == {"bluesky": 0, "reddit": 90}
    assert (story["n_records"], story["t50_minutes"], story["duration_hours"]) == (3, 60, 1.5)
    article = out.tables["urls"].rows[0]
    assert article["n_shares"] == 3 and article["lag_min_per_platform"] is None
    with pytest.raises(ResearchInputError, match="min_url_shares"):
        trace_propagation(conn, _params(conn, corpus), min_url_shares=0)


def test_the_asset_and_an_empty_design(spread, postgres, s3_object_store_resource):
    meta, document, _ = run_with_empty("propagation", spread[0], postgres, s3_object_store_resource)
    assert (meta["clusters_rows"], meta["urls_rows"], meta["version"]) == (2, 2, ANALYSIS.version)
    assert meta["propagation_lag_chart"].startswith("![propagation lag chart](data:image/png")
    assert document["tables"]["clusters"]["rows"] == [] == document["tables"]["urls"]["rows"]
    assert document["tables"]["urls"]["columns"][0] == "url_key"
