"""Time-sliced (dynamic) GEXF for Gephi's timeline (issue 19, analysis 7; spec §3.7).

Three networks of one design, each sliced into calendar buckets (ISO weeks, Monday to Sunday,
by default; days or months on request), written in the spec's recommended format:

- GEXF 1.3, ``mode="dynamic"``, ``timerepresentation="interval"``, ``timeformat="date"``,
  ``timezone="Europe/Copenhagen"``; the graph's start/end cover every bucket of the scope;
- ONE element per node and per edge, with ``<spells>``: each spell covers its buckets from
  the first to the last day (inclusive, as GEXF 1.3 intervals are), adjacent buckets merged;
- per-bucket values as dynamic attributes (``attvalue`` with start/end): a node's
  ``frequency``, an edge's ``bucket_weight``; the static total stays in the edge's ``weight``
  (an attribute id ``weight`` would collide with it: networkx's reader, for one, forces that
  id static and keeps only the total);
- static node attributes ``type``, ``platform``, ``total_frequency`` and ``community``
  (Louvain, seed 0, on the totals).

networkx's GEXF writer emits neither spells of this form nor dynamic attributes, so the XML is
written here with ElementTree. Buckets are the research periods (``research/periods.py``:
``RESEARCH_PERIOD``, ISO weeks by default, in Europe/Copenhagen), computed in SQL
(``date_trunc`` of the local time: weeks start on Monday) and labelled ISO-style (``%G-W%V``)
— 4CAT labels ISO weeks but parses them back with ``%W``, which shifts some years by a week.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg

from observatory_pipelines.analysis.network import add_metrics
from observatory_pipelines.research import periods
from observatory_pipelines.research.dynamic_plots import bucket_activity_chart
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

GRANULARITIES = ("day", "week", "month")  # RESEARCH_PERIOD picks week or month; day on request
MAX_BUCKETS = 52  # the original's cap: Gephi's timeline gets the most recent 52 buckets
EDGES_PER_BUCKET = 500  # heaviest edges of each bucket (the original: top 100, 10..500)
ACTOR_LIMIT = 200  # most active authors taking part in the actor network
COMMUNITY_EDGE_LIMIT = 50_000
TIMEZONE = periods.TIME_ZONE
RECORDS_TABLE = "dynamic_records"  # research/sql/dynamic_gexf_records.sql, as a temp table
# the columns the network queries filter and group on: the lists' statistics would cost as
# much as storing the records
RECORDS_STATISTICS = ("bucket", "published_at", "platform", "author_key")
NETWORKS = {
    "hashtags": "dynamic_gexf_hashtags",
    "terms": "dynamic_gexf_terms",
    "actors": "dynamic_gexf_actors",
}
NS = "http://gexf.net/1.3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CREATOR = "The Issue Observatory"
EDGE_TABLE_COLUMNS = ("source", "target", "bucket", "start", "end", "weight")


def next_bucket(start: date, granularity: str) -> date:
    return (
        start + timedelta(days=1) if granularity == "day" else periods.shift(start, granularity, 1)
    )


def bucket_end(start: date, granularity: str) -> date:
    """The last day (inclusive) of the bucket starting on ``start``."""
    return next_bucket(start, granularity) - timedelta(days=1)


def bucket_label(start: date, granularity: str) -> str:
    """``2026-03-02``, ``2026-W10`` (ISO year and week: 2025-12-29 is 2026-W01) or ``2026-03``."""
    return start.isoformat() if granularity == "day" else periods.label(start, granularity)


def calendar_buckets(first: date, last: date, granularity: str) -> list[date]:
    """Every bucket start from the bucket of ``first`` to that of ``last``, empty ones too."""
    starts, current = [], first
    while current <= last:
        starts.append(current)
        current = next_bucket(current, granularity)
    return starts


def spells(buckets: list[date], granularity: str) -> list[tuple[date, date]]:
    """Inclusive (first day, last day) intervals of the buckets, adjacent buckets merged."""
    merged: list[tuple[date, date]] = []
    for start in sorted(buckets):
        end = bucket_end(start, granularity)
        if merged and merged[-1][1] + timedelta(days=1) == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


@dataclass
class SlicedNetwork:
    """One network's per-bucket values: node → {bucket: frequency}, edge → {bucket: weight}."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict[date, int]] = field(default_factory=dict)

    @classmethod
    def read(cls, conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> SlicedNetwork:
        """The kept edges per bucket and the per-bucket frequencies of the nodes they touch
        (``_dynamic_edges.sql``: one query, rows of part 'edge', then of part 'node')."""
        network = cls()
        for row in query(conn, sql, params):
            bucket = date.fromisoformat(row["bucket"])
            if row["part"] == "edge":
                network.edges.setdefault((row["source"], row["target"]), {})[bucket] = row["weight"]
                continue
            node = network.nodes.setdefault(
                row["source"],
                {"label": row["label"] or row["source"], "type": row["node_type"],
                 "platforms": set(), "frequency": {}},
            )  # fmt: skip
            node["frequency"][bucket] = row["weight"]
            node["platforms"].update(set((row["platforms"] or "").split(" | ")) - {""})
        return network

    def communities(self) -> dict[str, int]:
        """Louvain (seed 0) on the total weights, as the static networks number them."""
        graph = {
            "nodes": [{"id": node_id} for node_id in self.nodes],
            "edges": [
                {"source": s, "target": t, "weight": sum(w.values())}
                for (s, t), w in self.edges.items()
            ],
        }
        add_metrics(graph, seed=0, community_edge_limit=COMMUNITY_EDGE_LIMIT)
        return {node["id"]: node["community"] for node in graph["nodes"]}


def _sub(parent: ET.Element, tag: str, **attrs: Any) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})


def _declare(graph: ET.Element, cls: str, mode: str, attributes: list[tuple[str, str, str]]):
    element = _sub(graph, "attributes", **{"class": cls, "mode": mode})
    for attr_id, title, kind in attributes:
        _sub(element, "attribute", id=attr_id, title=title, type=kind)


def _value(values: ET.Element, attribute: str, value: Any, bucket: date | None = None,
           granularity: str = "") -> None:  # fmt: skip
    """One ``attvalue``; with a bucket, dynamic over that bucket's first to last day."""
    attrs = {"for": attribute, "value": value}
    if bucket is not None:
        attrs |= {"start": bucket.isoformat(), "end": bucket_end(bucket, granularity).isoformat()}
    _sub(values, "attvalue", **attrs)


def _spells(parent: ET.Element, buckets: list[date], granularity: str) -> None:
    element = _sub(parent, "spells")
    for start, end in spells(buckets, granularity):
        _sub(element, "spell", start=start.isoformat(), end=end.isoformat())


def dynamic_gexf(
    network: SlicedNetwork, buckets: list[date], granularity: str, description: str
) -> bytes:
    """The network as GEXF 1.3 for Gephi's timeline (see the module docstring)."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(
        f"{{{NS}}}gexf",
        {"version": "1.3", f"{{{XSI}}}schemaLocation": f"{NS} {NS}/gexf.xsd"},
    )
    meta = _sub(root, "meta", lastmodifieddate=time.strftime("%Y-%m-%d", time.gmtime()))
    _sub(meta, "creator").text = CREATOR
    _sub(meta, "description").text = description
    graph_attrs = {
        "mode": "dynamic",
        "defaultedgetype": "undirected",
        "timeformat": "date",
        "timerepresentation": "interval",
        "timezone": TIMEZONE,
    }
    if buckets:
        graph_attrs["start"] = buckets[0].isoformat()
        graph_attrs["end"] = bucket_end(buckets[-1], granularity).isoformat()
    graph = _sub(root, "graph", **graph_attrs)
    _declare(graph, "node", "static", [("type", "type", "string"), ("platform", "platform", "string"),
                                       ("total_frequency", "total_frequency", "integer"),
                                       ("community", "community", "integer")])  # fmt: skip
    _declare(graph, "node", "dynamic", [("frequency", "frequency", "integer")])
    _declare(graph, "edge", "dynamic", [("bucket_weight", "bucket_weight", "integer")])
    communities = network.communities()
    nodes = _sub(graph, "nodes")
    for node_id in sorted(network.nodes):
        node = network.nodes[node_id]
        element = _sub(nodes, "node", id=node_id, label=node["label"])
        values = _sub(element, "attvalues")
        _value(values, "type", node["type"])
        _value(values, "platform", " | ".join(sorted(node["platforms"])))
        _value(values, "total_frequency", sum(node["frequency"].values()))
        _value(values, "community", communities[node_id])
        for bucket, frequency in sorted(node["frequency"].items()):
            _value(values, "frequency", frequency, bucket, granularity)
        _spells(element, list(node["frequency"]), granularity)
    edges = _sub(graph, "edges")
    for index, (source, target) in enumerate(sorted(network.edges)):
        weights = network.edges[(source, target)]
        element = _sub(edges, "edge", id=index, source=source, target=target,
                       weight=sum(weights.values()))  # fmt: skip
        values = _sub(element, "attvalues")
        for bucket, weight in sorted(weights.items()):
            _value(values, "bucket_weight", weight, bucket, granularity)
        _spells(element, list(weights), granularity)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _edge_rows(network: SlicedNetwork, granularity: str) -> list[dict[str, Any]]:
    return [
        {"source": source, "target": target, "bucket": bucket_label(bucket, granularity),
         "start": bucket, "end": bucket_end(bucket, granularity), "weight": weight}
        for (source, target), weights in sorted(network.edges.items())
        for bucket, weight in sorted(weights.items())
    ]  # fmt: skip


def compute_dynamic(
    conn: psycopg.Connection, params: dict[str, Any], *, granularity: str | None = None
) -> ResearchOutput:
    granularity = granularity or periods.research_period()
    if granularity not in GRANULARITIES:
        raise ResearchInputError(
            f"granularity must be one of {', '.join(GRANULARITIES)}, got {str(granularity)[:40]!r}"
        )
    with bulk_transaction(conn):  # the scope read once into dynamic_records (ANALYZEd)
        bucketing = {"granularity": granularity, "time_zone": TIMEZONE}
        temp_table(conn, RECORDS_TABLE, "dynamic_gexf_records", params | bucketing,
                   RECORDS_STATISTICS)  # fmt: skip
        output = _sliced(conn, params, granularity)
    output.charts["bucket_activity"] = bucket_activity_chart(
        output.tables["buckets"].rows, {n: output.tables[f"{n}_edges"].rows for n in NETWORKS}
    )
    return output


def _sliced(conn: psycopg.Connection, params: dict[str, Any], granularity: str) -> ResearchOutput:
    counts = {
        date.fromisoformat(r["bucket"]): r["records"]
        for r in query(conn, "dynamic_gexf_buckets", {})
    }
    spanned = calendar_buckets(min(counts), max(counts), granularity) if counts else []
    buckets = spanned[-MAX_BUCKETS:]
    output = ResearchOutput(parameters=PARAMETERS | {"granularity": granularity})
    output.summary["buckets"] = len(buckets)
    if len(spanned) > len(buckets):
        dropped = len(spanned) - len(buckets)
        output.summary["buckets_dropped"] = dropped
        output.summary["bucket_note"] = (
            f"the scope spans {len(spanned)} {granularity}s "
            f"({bucket_label(spanned[0], granularity)} to {bucket_label(spanned[-1], granularity)}); "
            f"Gephi's timeline gets the last {MAX_BUCKETS} (from {bucket_label(buckets[0], granularity)}), "
            f"the first {dropped} are left out: narrow date_from/date_to to see them"
        )  # fmt: skip
    output.tables["buckets"] = Table(
        ("bucket", "start", "end", "records"),
        [{"bucket": bucket_label(b, granularity), "start": b, "end": bucket_end(b, granularity),
          "records": counts.get(b, 0)} for b in buckets],
    )  # fmt: skip
    since = periods.day_start(buckets[0]) if buckets else None  # local midnight, as UTC
    sql_params = {"granularity": granularity, "time_zone": TIMEZONE, "since": since,
                  "edges_per_bucket": EDGES_PER_BUCKET, "actor_limit": ACTOR_LIMIT}  # fmt: skip

    def shape(name: str, network: SlicedNetwork) -> tuple[bytes, list[dict[str, Any]]]:
        description = f"{name} network per {granularity} ({len(buckets)} buckets, {TIMEZONE})"
        if "bucket_note" in output.summary:
            description += f"; {output.summary['bucket_note']}"
        return dynamic_gexf(network, buckets, granularity, description), _edge_rows(
            network, granularity
        )

    # each network's GEXF written while the server computes the next one's slices
    shaped = read_and_shape(
        NETWORKS,
        lambda name: SlicedNetwork.read(conn, NETWORKS[name], sql_params) if buckets
        else SlicedNetwork(),
        shape,
    )  # fmt: skip
    for name, (network, (gexf, edge_rows)) in shaped.items():
        output.gexf[name] = gexf
        output.tables[f"{name}_edges"] = Table(EDGE_TABLE_COLUMNS, edge_rows)
        output.summary[f"{name}_nodes"] = len(network.nodes)
        output.summary[f"{name}_edges"] = len(network.edges)
    return output


PARAMETERS: dict[str, Any] = {
    "max_buckets": MAX_BUCKETS,
    "edges_per_bucket": EDGES_PER_BUCKET,
    "actor_limit": ACTOR_LIMIT,
    "timezone": TIMEZONE,
    "louvain_seed": 0,
    "community_edge_limit": COMMUNITY_EDGE_LIMIT,
}

DYNAMIC_GEXF = ResearchAnalysis(
    name="dynamic_gexf",
    description="Time-sliced hashtag, search-term and actor networks as dynamic GEXF 1.3 for "
    "Gephi's timeline: one element per node and edge with spells per ISO week, per-week "
    "frequency and weight as dynamic attributes.",
    compute=compute_dynamic,
    revision=1,
    parameters=PARAMETERS,
    reads=("record_tags",),
)
