"""Dynamic GEXF on a hand-built corpus: spells, per-bucket values and the bucket cap, read back
with networkx and as XML.

Weeks (ISO, Monday–Sunday): W10 = 2026-03-02..08, W11 = 03-09..15, W12 empty, W13 = 03-23..29.
  W10  r1 a "#klima #Grønland" terms klima, grønland (Mon)   r2 b "#klima #grønland" klima (Tue)
       r3 a "#dk" (Wed)
  W11  r4 a "#klima #grønland" terms klima, grønland (Mon)
  W13  r5 b "#klima #grønland #dk" terms klima, dk (Mon)     r6 c "#klima" klima (Tue)
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import networkx as nx
import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research import dynamic_gexf
from observatory_pipelines.research.dynamic_gexf import (
    DYNAMIC_GEXF,
    MAX_BUCKETS,
    NETWORKS,
    bucket_label,
    compute_dynamic,
)
from observatory_pipelines.research.framework import ResearchInputError
from tests.research.conftest import enrich, materialize_research, metadata

NS = {"g": "http://gexf.net/1.3"}
DAY = 24 * 60
W10, W11, W13 = (
    ("2026-03-02", "2026-03-08"),
    ("2026-03-09", "2026-03-15"),
    ("2026-03-23", "2026-03-29"),
)


def build_corpus(corpus):
    corpus.add(0, author="a", text="#klima #Grønland", terms=["klima", "grønland"])
    corpus.add(DAY, author="b", text="#klima #grønland", terms=["klima"])
    corpus.add(2 * DAY, author="a", text="#dk")
    corpus.add(7 * DAY, author="a", text="#klima #grønland", terms=["klima", "grønland"])
    corpus.add(21 * DAY, author="b", text="#klima #grønland #dk", terms=["klima", "dk"])
    corpus.add(22 * DAY, author="c", text="#klima", terms=["klima"])


@pytest.fixture()
def built(corpus, conn, database_url):
    build_corpus(corpus)
    enrich(database_url, "record_tags")
    return check_scope(conn, AnalysisScope(query_design_id=corpus.design))


def _read(data: bytes) -> nx.Graph:
    return nx.read_gexf(io.BytesIO(data), version="1.3")


def _xml_graph(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == "{http://gexf.net/1.3}gexf" and root.get("version") == "1.3"
    return root.find("g:graph", NS)


def _spells(element: ET.Element) -> list[tuple[str, str]]:
    return [(s.get("start"), s.get("end")) for s in element.findall("g:spells/g:spell", NS)]


def _dynamic(element: ET.Element, attribute: str) -> list[tuple[str, str, str]]:
    return [
        (a.get("value"), a.get("start"), a.get("end"))
        for a in element.findall("g:attvalues/g:attvalue", NS)
        if a.get("for") == attribute
    ]


def test_weekly_spells_and_per_week_values_read_back(built, conn):
    out = compute_dynamic(conn, built)
    graph = _xml_graph(out.gexf["hashtags"])
    assert {k: graph.get(k) for k in ("mode", "timeformat", "timerepresentation", "timezone",
                                      "start", "end", "defaultedgetype")} == {
        "mode": "dynamic", "timeformat": "date", "timerepresentation": "interval",
        "timezone": "Europe/Copenhagen", "start": "2026-03-02", "end": "2026-03-29",
        "defaultedgetype": "undirected"}  # fmt: skip
    # one element per node and per edge, never one per bucket
    node_ids = [n.get("id") for n in graph.findall("g:nodes/g:node", NS)]
    assert sorted(node_ids) == ["dk", "grønland", "klima"]
    edges = {(e.get("source"), e.get("target")): e for e in graph.findall("g:edges/g:edge", NS)}
    assert set(edges) == {("grønland", "klima"), ("dk", "grønland"), ("dk", "klima")}
    klima = graph.find("g:nodes/g:node[@id='klima']", NS)
    # present in weeks 1, 2 and 4 of the span: [w1 Mon – w2 Sun], [w4 Mon – w4 Sun]
    assert _spells(klima) == [("2026-03-02", "2026-03-15"), W13]
    assert _dynamic(klima, "frequency") == [("2", *W10), ("1", *W11), ("2", *W13)]
    assert _dynamic(klima, "total_frequency") == [("5", None, None)]
    assert _spells(graph.find("g:nodes/g:node[@id='dk']", NS)) == [W10, W13]
    pair = edges[("grønland", "klima")]
    assert pair.get("weight") == "4"
    assert _dynamic(pair, "bucket_weight") == [("2", *W10), ("1", *W11), ("1", *W13)]
    assert _spells(pair) == [("2026-03-02", "2026-03-15"), W13]

    g = _read(out.gexf["hashtags"])
    assert g.graph["mode"] == "dynamic" and not g.is_directed()
    assert g.nodes["klima"]["spells"] == [("2026-03-02", "2026-03-15"), W13]
    assert g.nodes["klima"]["frequency"] == [(2, *W10), (1, *W11), (2, *W13)]
    assert g.nodes["klima"]["total_frequency"] == 5 and g.nodes["klima"]["type"] == "hashtag"
    assert g.nodes["grønland"]["label"] == "#grønland"  # #Grønland and #grønland: one node
    assert g["klima"]["grønland"]["weight"] == 4.0
    assert g["klima"]["grønland"]["bucket_weight"] == [(2, *W10), (1, *W11), (1, *W13)]
    assert g.nodes["dk"]["community"] >= 0

    terms = _read(out.gexf["terms"])
    assert {tuple(sorted(e)): d["weight"] for *e, d in terms.edges(data=True)} == {
        ("grønland", "klima"): 2.0, ("dk", "klima"): 1.0}  # fmt: skip
    assert terms["klima"]["grønland"]["spells"] == [("2026-03-02", "2026-03-15")]
    actors = _read(out.gexf["actors"])
    assert {tuple(sorted(e)): d["bucket_weight"] for *e, d in actors.edges(data=True)} == {
        ("a", "b"): [(1, *W10)], ("b", "c"): [(1, *W13)]}  # fmt: skip
    assert actors.nodes["a"]["frequency"] == [(2, *W10), (1, *W11)]
    assert actors.nodes["a"]["label"] == "Name of a"

    assert out.tables["buckets"].rows == [
        {"bucket": "2026-W10", "start": date(2026, 3, 2), "end": date(2026, 3, 8), "records": 3},
        {"bucket": "2026-W11", "start": date(2026, 3, 9), "end": date(2026, 3, 15), "records": 1},
        {"bucket": "2026-W12", "start": date(2026, 3, 16), "end": date(2026, 3, 22), "records": 0},
        {"bucket": "2026-W13", "start": date(2026, 3, 23), "end": date(2026, 3, 29), "records": 2},
    ]
    assert [r["weight"] for r in out.tables["hashtags_edges"].rows if r["target"] == "klima"
            and r["source"] == "grønland"] == [2, 1, 1]  # fmt: skip
    assert out.summary["buckets"] == 4 and "buckets_dropped" not in out.summary
    assert out.charts["bucket_activity"].startswith(b"\x89PNG")


def _kept(out, network):
    return [(r["bucket"], r["source"], r["target"], r["weight"])
            for r in out.tables[f"{network}_edges"].rows]  # fmt: skip


def test_each_bucket_keeps_its_heaviest_edges_and_repeated_tags_count_once(
    built, conn, monkeypatch
):
    # W13's three pairs all weigh 1: the tie goes by source, then target ("C" order)
    monkeypatch.setattr(dynamic_gexf, "EDGES_PER_BUCKET", 2)
    two = compute_dynamic(conn, built)
    assert _kept(two, "hashtags") == [
        ("2026-W13", "dk", "grønland", 1), ("2026-W13", "dk", "klima", 1),
        ("2026-W10", "grønland", "klima", 2), ("2026-W11", "grønland", "klima", 1)]  # fmt: skip
    monkeypatch.setattr(dynamic_gexf, "EDGES_PER_BUCKET", 1)
    assert _kept(compute_dynamic(conn, built), "hashtags") == [
        ("2026-W13", "dk", "grønland", 1),
        ("2026-W10", "grønland", "klima", 2), ("2026-W11", "grønland", "klima", 1)]  # fmt: skip
    # every record's stored tags written twice over: weights and frequencies count records
    conn.execute("UPDATE enrichment_tags SET hashtags = hashtags || hashtags")
    monkeypatch.setattr(dynamic_gexf, "EDGES_PER_BUCKET", 2)
    doubled = compute_dynamic(conn, built)
    assert _kept(doubled, "hashtags") == _kept(two, "hashtags")
    klima = _read(doubled.gexf["hashtags"]).nodes["klima"]
    assert klima["frequency"] == [(2, *W10), (1, *W11), (2, *W13)]


def test_days_months_and_a_filtered_scope(built, corpus, conn, monkeypatch):
    days = _read(compute_dynamic(conn, built, granularity="day").gexf["hashtags"])
    # Mon and Tue are adjacent days: one spell; Wed has no klima
    assert days.nodes["klima"]["spells"] == [("2026-03-02", "2026-03-03"),
                                             ("2026-03-09", "2026-03-09"),
                                             ("2026-03-23", "2026-03-24")]  # fmt: skip
    assert days.graph["start"] == "2026-03-02" and days.graph["end"] == "2026-03-24"
    monkeypatch.setenv("RESEARCH_PERIOD", "month")  # the operator's period is the default
    months = compute_dynamic(conn, built)
    assert months.parameters["granularity"] == "month"
    monkeypatch.delenv("RESEARCH_PERIOD")
    g = _read(months.gexf["hashtags"])
    assert g.nodes["klima"]["spells"] == [("2026-03-01", "2026-03-31")]
    assert g.nodes["klima"]["frequency"] == [(5, "2026-03-01", "2026-03-31")]
    assert months.tables["buckets"].rows[0]["bucket"] == "2026-03"
    later = check_scope(conn, AnalysisScope(query_design_id=corpus.design, date_from="2026-03-09"))
    g = _read(compute_dynamic(conn, later).gexf["hashtags"])
    assert g.graph["start"] == "2026-03-09"
    assert g["grønland"]["klima"]["spells"] == [W11, W13]
    with pytest.raises(ResearchInputError, match="granularity"):
        compute_dynamic(conn, built, granularity="hour")


def test_iso_weeks_where_percent_w_differs(corpus, conn, database_url):
    # 2026-01-01 is a Thursday of ISO week 2026-W01, which starts on Monday 2025-12-29;
    # 4CAT parses "2026-W01" with %W, whose week 1 starts on Monday 2026-01-05.
    assert datetime.strptime("2026-W01-1", "%Y-W%W-%w").date() == date(2026, 1, 5)
    assert bucket_label(date(2025, 12, 29), "week") == "2026-W01"
    corpus.add(published_at=datetime(2026, 1, 1, 12, tzinfo=UTC), text="#nytår #klima")
    # Sunday 23:30 UTC is Monday 00:30 in Copenhagen: the next week
    corpus.add(published_at=datetime(2026, 1, 11, 23, 30, tzinfo=UTC), text="#klima")
    enrich(database_url, "record_tags")
    out = compute_dynamic(conn, check_scope(conn, AnalysisScope(query_design_id=corpus.design)))
    assert out.tables["buckets"].rows == [
        {"bucket": "2026-W01", "start": date(2025, 12, 29), "end": date(2026, 1, 4), "records": 1},
        {"bucket": "2026-W02", "start": date(2026, 1, 5), "end": date(2026, 1, 11), "records": 0},
        {"bucket": "2026-W03", "start": date(2026, 1, 12), "end": date(2026, 1, 18), "records": 1},
    ]
    assert _read(out.gexf["hashtags"]).nodes["nytår"]["spells"] == [("2025-12-29", "2026-01-04")]
    assert _xml_graph(out.gexf["hashtags"]).get("timezone") == "Europe/Copenhagen"


def test_bucket_cap_keeps_the_last_52_and_says_so(corpus, conn, database_url):
    first = datetime(2025, 1, 6, 9, tzinfo=UTC)  # Monday of 2025-W02
    for week in range(MAX_BUCKETS + 2):
        corpus.add(published_at=first + timedelta(weeks=week), text="#klima #grønland")
    enrich(database_url, "record_tags")
    out = compute_dynamic(conn, check_scope(conn, AnalysisScope(query_design_id=corpus.design)))
    assert out.summary["buckets"] == 52 and out.summary["buckets_dropped"] == 2
    assert out.summary["bucket_note"] == (
        "the scope spans 54 weeks (2025-W02 to 2026-W03); Gephi's timeline gets the last 52 "
        "(from 2025-W04), the first 2 are left out: narrow date_from/date_to to see them"
    )
    g = _read(out.gexf["hashtags"])
    assert g.graph["start"] == "2025-01-20" and g.graph["end"] == "2026-01-18"
    assert g["klima"]["grønland"]["spells"] == [("2025-01-20", "2026-01-18")]  # 52 merged
    assert (
        len(g["klima"]["grønland"]["bucket_weight"]) == 52
        and g["klima"]["grønland"]["weight"] == 52
    )


def test_the_asset_stores_every_dynamic_gexf_and_an_empty_design_is_valid(
    corpus, conn, postgres, s3_object_store_resource
):
    empty = compute_dynamic(conn, check_scope(conn, AnalysisScope(query_design_id=corpus.design)))
    for name in NETWORKS:
        g = _read(empty.gexf[name])
        assert g.graph["mode"] == "dynamic" and g.number_of_nodes() == 0
        assert empty.tables[f"{name}_edges"].rows == []
    assert _xml_graph(empty.gexf["actors"]).get("start") is None
    build_corpus(corpus)
    result = materialize_research([DYNAMIC_GEXF.name], corpus.design, postgres,
                                  s3_object_store_resource)  # fmt: skip
    assert result.success
    meta = metadata(result, DYNAMIC_GEXF.name)
    # tags not enriched yet here: the hashtag network is empty, terms and actors are not
    assert meta["buckets"] == 4 and meta["hashtags_edges"] == 0 and meta["terms_edges"] == 2
    store = s3_object_store_resource.outputs()
    prefix = f"exports/{corpus.owner}/{corpus.design}/standard/{DYNAMIC_GEXF.name}"
    g = _read(store.get_bytes(f"{prefix}-actors.gexf"))
    assert g["a"]["b"]["spells"] == [W10]
