"""Where a research analysis' output goes in the outputs bucket, and in which formats.

Under ``analysis/<design>/<scope>/research/<analysis>/`` (beside the SQL models and the
descriptive report of the same scope, see docs/analysis_outputs.md):

- ``result.json``: every table, the summary, the parameters and the scope's filters;
- ``<table>.csv``: one file per table, UTF-8 with BOM and CRLF (Excel reads æøå), lists
  joined with `` | ``, objects as JSON, text never a live formula;
- ``networks/<network>.json``: graph JSON (nodes, edges, metrics);
- ``<chart>.png``: the charts shown in the asset's metadata.

GEXF files (static and dynamic) go where the other networks' GEXF go,
``exports/<owner>/<design>/<scope>/<analysis>-<network>.gexf``: one stable key each, so a
rerun replaces the file instead of adding one.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from observatory_pipelines.analysis.exports import spreadsheet_text
from observatory_pipelines.analysis.network import gexf_bytes
from observatory_pipelines.analysis.scope import non_default_parameters
from observatory_pipelines.analysis.sql_models import jsonable
from observatory_pipelines.research.framework import ResearchAnalysis, ResearchOutput, Table

CSV_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


@dataclass
class Published:
    """The keys written, by kind, for the asset's metadata."""

    result: str
    tables: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)
    gexf: dict[str, str] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)


def base_key(design: str, scope: str, name: str) -> str:
    return f"analysis/{design}/{scope}/research/{name}"


def gexf_key(owner: str, design: str, scope: str, name: str, network: str) -> str:
    return f"exports/{owner}/{design}/{scope}/{name}-{network}.gexf"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = " | ".join("" if v is None else str(jsonable(v)) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True)
    else:
        value = jsonable(value)
    return spreadsheet_text(value) if isinstance(value, str) else value


def table_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(row.get(column)) for column in table.columns])
    return buffer.getvalue().encode("utf-8")


def _json(payload: Any) -> bytes:
    return json.dumps(jsonable(payload), ensure_ascii=False, indent=1).encode()


def publish(
    store,
    analysis: ResearchAnalysis,
    output: ResearchOutput,
    *,
    design: str,
    scope: str,
    owner: str,
    params: dict[str, Any],
) -> Published:
    base = base_key(design, scope, analysis.name)
    published = Published(result=f"{base}/result.json")
    for name, table in output.tables.items():
        key = f"{base}/{name}.csv"
        store.put(key, table_csv(table), content_type=CSV_TYPE)
        published.tables[name] = key
    description = f"{analysis.name.replace('_', ' ')} of query design {design}"
    if scope != "standard":
        description += f" ({scope}: {json.dumps(non_default_parameters(params))})"
    for name, graph in output.networks.items():
        key = f"{base}/networks/{name}.json"
        store.put(key, _json(graph), content_type="application/json")
        published.networks[name] = key
        gexf = gexf_key(owner, design, scope, analysis.name, name)
        store.put(gexf, gexf_bytes(graph, f"{name} network: {description}"),
                  content_type="application/gexf+xml")  # fmt: skip
        published.gexf[name] = gexf
    for name, data in output.gexf.items():
        gexf = gexf_key(owner, design, scope, analysis.name, name)
        store.put(gexf, data, content_type="application/gexf+xml")
        published.gexf[name] = gexf
    for name, png in output.charts.items():
        key = f"{base}/{name}.png"
        store.put(key, png, content_type="image/png")
        published.charts[name] = key
    document = {
        "analysis": analysis.name,
        "version": analysis.version,
        "query_design_id": design,
        "scope": scope,
        "non_default_parameters": non_default_parameters(params),
        "parameters": output.parameters,
        "summary": output.summary,
        "tables": {
            name: {"columns": list(t.columns), "rows": t.rows} for name, t in output.tables.items()
        },
        "networks": published.networks,
        "gexf": published.gexf,
    }
    store.put(published.result, _json(document), content_type="application/json")
    return published
