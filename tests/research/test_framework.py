"""The research framework: SQL over the analysis scope, publishing, and the asset factory."""

from __future__ import annotations

import csv
import io
import json
import threading

import networkx as nx
import pytest

from observatory_pipelines import settings
from observatory_pipelines.analysis.network import add_metrics
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research import assets, framework, publish
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
    read_and_shape,
    stream,
    temp_table,
    timed_steps,
)
from tests.research.conftest import metadata


def _platform_counts(conn, params) -> ResearchOutput:
    rows = query(conn, "scope_platform_counts", params)
    graph = add_metrics(
        {
            "directed": True,
            "nodes": [{"id": r["platform"], "label": r["platform"]} for r in rows] + [
                {"id": "all", "label": "all"}
            ],
            "edges": [{"source": r["platform"], "target": "all", "weight": r["records"]}
                      for r in rows],
        }
    )  # fmt: skip
    return ResearchOutput(
        tables={
            "platforms": Table(("platform", "records"), rows),
            "formulas": Table(("text", "list"), [{"text": "=1+1", "list": ["a", "b"]}]),
            "nothing": Table(("a", "b")),
        },
        networks={"platforms": graph},
        summary={"platforms": len(rows), "records": sum(r["records"] for r in rows)},
        parameters={"kind": "test"},
    )


TOY = ResearchAnalysis(
    name="toy_platform_counts",
    description="records per platform (test)",
    compute=_platform_counts,
    parameters={"kind": "test"},
)


def test_query_and_stream_read_the_scope_only(corpus, conn):
    corpus.add(0, platform="bluesky")
    corpus.add(1, platform="bluesky")
    corpus.add(2, platform="reddit", raw_metadata={"duplicate_of": "x"})  # excluded
    other = corpus.new_design()
    corpus.add(3, platform="reddit", design=other)  # another design's record
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design))
    assert query(conn, "scope_platform_counts", params) == [{"platform": "bluesky", "records": 2}]
    with conn.transaction():
        assert [r["records"] for r in stream(conn, "scope_platform_counts", params)] == [2]


def test_timed_steps_names_each_statement_and_only_while_active(corpus, conn):
    corpus.add(0, platform="bluesky")
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design))
    query(conn, "scope_platform_counts", params)  # not collected: nothing is timing
    with timed_steps() as steps, conn.transaction():
        query(conn, "scope_platform_counts", params)
        assert temp_table(conn, "research_links", "links_in_scope", params) == 0  # no links
    assert [name for name, _ in steps] == ["scope_platform_counts", "links_in_scope"]
    assert all(seconds >= 0 for _, seconds in steps)


def test_bulk_transaction_gives_a_fresh_session_the_analysis_temp_buffers(corpus, conn):
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design))
    assert conn.execute("SHOW temp_buffers").fetchone()[0] == "8MB"  # the server's default
    with bulk_transaction(conn):
        temp_table(conn, "research_links", "links_in_scope", params)
    assert conn.execute("SHOW temp_buffers").fetchone()[0] == settings.analysis_temp_buffers()
    with bulk_transaction(conn):  # temp tables used: Postgres keeps the size, no error
        assert temp_table(conn, "research_links", "links_in_scope", params) == 0


def test_a_temp_table_analyses_only_the_named_columns(corpus, conn):
    corpus.add(0, platform="bluesky")
    corpus.add(1, platform="reddit")
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design))
    analysed = "SELECT attname FROM pg_stats WHERE tablename = 'research_counts' ORDER BY 1"
    with conn.transaction():
        temp_table(conn, "research_counts", "scope_platform_counts", params)
        every = [r[0] for r in conn.execute(analysed).fetchall()]
        assert temp_table(conn, "research_counts", "scope_platform_counts", params,
                          ("platform",)) == 2  # fmt: skip
        assert [r[0] for r in conn.execute(analysed).fetchall()] == ["platform"]
    assert len(every) > 1 and "platform" in every


def test_csv_is_spreadsheet_safe_and_an_empty_table_keeps_its_header():
    text = publish.table_csv(
        Table(
            ("text", "n", "list", "obj"),
            [{"text": "=cmd|' /C calc'!A0", "n": 3, "list": ["x", "æø"], "obj": {"b": 1}}],
        )  # fmt: skip
    ).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["text", "n", "list", "obj"],
        ["'=cmd|' /C calc'!A0", "3", "x | æø", '{"b": 1}'],
    ]
    assert publish.table_csv(Table(("a", "b"))) == "\ufeffa,b\r\n".encode()
    with pytest.raises(ValueError, match="differ from the columns"):
        Table(("a",), [{"b": 1}])


def test_the_asset_stores_tables_networks_and_metadata(corpus, postgres, s3_object_store_resource):
    corpus.add(0, platform="bluesky")
    corpus.add(1, platform="reddit")
    corpus.add(2, platform="reddit")
    asset = assets._asset(TOY)
    original = assets.research_assets
    assets.research_assets = [asset]
    try:
        from tests.research.conftest import materialize_research

        result = materialize_research([TOY.name], corpus.design, postgres, s3_object_store_resource)
        filtered = materialize_research(
            [TOY.name], corpus.design, postgres, s3_object_store_resource, platforms=["reddit"]
        )
    finally:
        assets.research_assets = original
    assert result.success and filtered.success
    meta = metadata(result, TOY.name)
    assert meta["records"] == 3 and meta["platforms"] == 2 and meta["platforms_rows"] == 2
    assert meta["version"] == TOY.version == asset.code_versions_by_key[asset.key]
    store = s3_object_store_resource.outputs()
    base = f"analysis/{corpus.design}/standard/research/{TOY.name}"
    document = json.loads(store.get_bytes(f"{base}/result.json"))
    assert document["tables"]["platforms"]["rows"] == [
        {"platform": "bluesky", "records": 1},
        {"platform": "reddit", "records": 2},
    ]
    assert document["tables"]["nothing"] == {"columns": ["a", "b"], "rows": []}
    assert store.get_bytes(f"{base}/formulas.csv").decode().splitlines()[1] == "'=1+1,a | b"
    gexf = store.get_bytes(
        f"exports/{corpus.owner}/{corpus.design}/standard/{TOY.name}-platforms.gexf"
    )
    graph = nx.read_gexf(io.BytesIO(gexf))
    assert graph.is_directed() and graph["reddit"]["all"]["weight"] == 2
    # a filtered run is stored under its own scope and never replaces the standard one
    fmeta = metadata(filtered, TOY.name)
    assert fmeta["analysis_scope"].startswith("filtered-") and fmeta["records"] == 2
    assert json.loads(store.get_bytes(f"{base}/result.json"))["summary"]["records"] == 3


def test_a_temp_table_is_planned_for_parallel_reads_and_the_setting_set_back(
    corpus, conn, monkeypatch
):
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design))
    seen = "SELECT current_setting('parallel_tuple_cost') AS cost"
    monkeypatch.setattr(framework, "temp_table_select", lambda name: seen)
    with conn.transaction():
        conn.execute("SET LOCAL parallel_tuple_cost = 0.2")  # the transaction's own value
        temp_table(conn, "research_cost", "ignored", params)
        [planned] = conn.execute("SELECT cost FROM research_cost").fetchone()
        assert planned == framework.CTAS_PARALLEL_TUPLE_COST
        assert conn.execute("SHOW parallel_tuple_cost").fetchone()[0] == "0.2"
    assert conn.execute("SHOW parallel_tuple_cost").fetchone()[0] == "0.1"


def test_read_and_shape_shapes_an_item_while_the_next_is_read_and_keeps_the_order():
    """a's shaping waits until b's read has begun, and b's read until a is shaped: both waits
    end only if the two run at once (each gives up after 10 s and says so)."""
    b_reading, a_shaped = threading.Event(), threading.Event()
    reader = threading.get_ident()
    waited: dict[str, bool] = {}
    shaped_on_other_thread: list[bool] = []

    def read(item: str) -> str:
        if item == "b":
            b_reading.set()
            waited["b read waited for a shaped"] = a_shaped.wait(timeout=10)
        return item.upper()

    def shape(item: str, value: str) -> str:
        shaped_on_other_thread.append(threading.get_ident() != reader)
        if item == "a":
            waited["a shaped waited for b read"] = b_reading.wait(timeout=10)
            a_shaped.set()
        return value * 2

    shaped = read_and_shape(["a", "b", "c"], read, shape)
    assert shaped == {"a": ("A", "AA"), "b": ("B", "BB"), "c": ("C", "CC")}
    assert list(shaped) == ["a", "b", "c"]
    assert waited == {"a shaped waited for b read": True, "b read waited for a shaped": True}
    assert shaped_on_other_thread == [True, True, True]


def test_read_and_shape_raises_what_a_shaping_raises():
    def shape(item: str, value: str) -> str:
        if item == "b":
            raise ValueError("b cannot be shaped")
        return value

    with pytest.raises(ValueError, match="b cannot be shaped"):
        read_and_shape(["a", "b", "c"], lambda item: item, shape)
