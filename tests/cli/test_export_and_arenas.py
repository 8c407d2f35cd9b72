"""``observatory export`` writes the same bytes the export assets would; ``arenas list`` is
the registry's own description of each collector."""

from __future__ import annotations

import csv
import io

import networkx as nx
import psycopg
import pyarrow.parquet as pq
import pytest

from observatory_pipelines.analysis.exports import COLUMNS, export_content
from observatory_pipelines.analysis.network import network
from observatory_pipelines.analysis.scope import AnalysisScope
from observatory_pipelines.arenas.base import COMMON_OPTIONS
from observatory_pipelines.arenas.registry import available_platforms, get_collector_class
from observatory_pipelines.costs import PLATFORM_COSTS
from observatory_pipelines.db import urls
from observatory_pipelines.storage.folder_store import FolderObjectStore

from .conftest import DESIGN_NAME


def test_csv_export_is_byte_for_byte_the_assets_export(observatory, seed, database_url, tmp_path):
    result = observatory("export", DESIGN_NAME, "--format", "csv", "--out", "klima.csv", "--json")
    assert result.code == 0, result.stderr
    summary = result.json()
    written = (tmp_path / "klima.csv").read_bytes()
    assert summary["rows"] == 4 and summary["bytes"] == len(written)
    store = FolderObjectStore(tmp_path / "store", "outputs")
    with psycopg.connect(urls.libpq_url(database_url)) as conn:
        export_content(conn, AnalysisScope(query_design_id=seed.design), "csv", store, "x.csv")
    assert written == store.get_bytes("x.csv")
    rows = list(csv.reader(io.StringIO(written.decode("utf-8-sig"))))
    assert rows[0] == [label for _, label in COLUMNS]
    assert sorted(r[4] for r in rows[1:]) == ["Titel 1", "Titel 2", "Titel 3", "Titel 4"]
    assert not list(tmp_path.glob(".klima.csv.*"))  # no temporary file left beside it


def test_parquet_export_by_design_id_reads_back_typed(observatory, seed, tmp_path):
    result = observatory("export", seed.design, "--format", "parquet", "--run", seed.run)
    assert result.code == 0, result.stderr
    table = pq.read_table(tmp_path / f"{DESIGN_NAME.replace(' ', '_')}.parquet")
    assert table.num_rows == 4
    assert table.column_names == [name for name, _ in COLUMNS]
    assert sorted(table.column("likes").to_pylist()) == [0, 4, 6, 10]
    assert result.stdout == (
        f"wrote {tmp_path / 'Klima_og_energi.parquet'}: 4 records, "
        f"{(tmp_path / 'Klima_og_energi.parquet').stat().st_size:,} bytes\n"
    )


def test_xlsx_and_ndjson_exports_hold_every_record(cli, seed, tmp_path):
    import json

    from openpyxl import load_workbook

    xlsx = cli("export", DESIGN_NAME, "--format", "xlsx", "--out", "k.xlsx")
    assert xlsx.code == 0, xlsx.stderr
    sheet = load_workbook(tmp_path / "k.xlsx", read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [label for _, label in COLUMNS] and len(rows) == 1 + 4
    ndjson = cli("export", DESIGN_NAME, "--format", "ndjson", "--out", "k.ndjson")
    assert ndjson.code == 0, ndjson.stderr
    lines = (tmp_path / "k.ndjson").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["title"] for r in records) == ["Titel 1", "Titel 2", "Titel 3", "Titel 4"]
    assert {r["query_design"] for r in records} == {DESIGN_NAME}


def test_gexf_export_is_the_designs_network(cli, seed, database_url, tmp_path):
    result = cli(
        "export", DESIGN_NAME, "--format", "gexf", "--network", "term_cooccurrence", "--json"
    )
    assert result.code == 0, result.stderr
    graph = nx.read_gexf(tmp_path / "Klima_og_energi.gexf")
    with psycopg.connect(urls.libpq_url(database_url)) as conn:
        expected = network(conn, AnalysisScope(query_design_id=seed.design), "term_cooccurrence")
    assert sorted(graph.nodes) == sorted(n["id"] for n in expected["nodes"])
    assert graph.number_of_edges() == len(expected["edges"]) == result.json()["edges"]
    # klima+energi together in records 1 and 3
    assert graph.edges["energi", "klima"]["weight"] == 2


def test_export_refusals_change_nothing(observatory, cli, seed, tmp_path):
    unknown = observatory("export", "Ingen sådan", "--format", "csv")
    assert (unknown.code, unknown.stdout) == (3, "")
    assert unknown.stderr == "observatory: error: no query design with id or name 'Ingen sådan'\n"
    existing = tmp_path / "mine.csv"
    existing.write_bytes(b"keep me")
    refused = cli("export", DESIGN_NAME, "--format", "csv", "--out", str(existing))
    assert refused.code == 1 and "exists; --force replaces it" in refused.stderr
    assert existing.read_bytes() == b"keep me"
    other_run = cli(
        "export", DESIGN_NAME, "--format", "csv", "--run", "00000000-0000-0000-0000-000000000000"
    )
    assert other_run.code == 3 and other_run.stderr.count("\n") == 1
    bad_format = cli("export", DESIGN_NAME, "--format", "docx")
    assert bad_format.code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv"]


def test_arenas_list_is_the_registry(observatory):
    result = observatory("arenas", "list", "--json")
    assert result.code == 0, result.stderr
    entries = result.json()["arenas"]
    assert [e["platform"] for e in entries] == available_platforms()
    for entry in entries:
        cls = get_collector_class(entry["platform"])
        names = [o["name"] for o in entry["options"]]
        # Every option check_options accepts is listed once, with a type, and nothing else.
        assert sorted(names) == sorted(COMMON_OPTIONS | cls.design_options)
        assert len(names) == len(set(names)) and all(o["type"] for o in entry["options"])
        assert {o.name: o.default for o in cls.option_specs} == {
            o["name"]: o["default"] for o in entry["options"] if o["name"] not in COMMON_OPTIONS
        }
        assert entry["arena"] == cls.arena
        assert entry["tiers"] == list(cls.supported_tiers)
        assert entry["credentials"]["needed"] == cls.needs_credentials
        assert entry["credentials"]["optional"] == cls.credentials_optional
        # fields are listed for a needed credential, and for an optional one that has them
        # (telegram's MTProto path); never for an arena that takes none
        if entry["credentials"]["fields"]:
            assert cls.needs_credentials or cls.credentials_optional
        else:
            assert not cls.credential_fields
        assert entry["limits"]["min_seconds_between_requests"] == cls.min_request_interval
        cost = PLATFORM_COSTS[cls.platform]
        for tier, priced in entry["costs"].items():
            assert priced["free"] == (tier in cost.free_tiers)
    youtube = next(e for e in entries if e["platform"] == "youtube")
    assert youtube["credentials"]["fields"] == [["api_key", "key"]]
    assert youtube["costs"]["medium"] == {"free": False, "units_per_credit": 100}


@pytest.mark.parametrize("platform", ["bluesky", "reddit", "youtube"])
def test_the_listed_credential_fields_are_the_ones_the_collector_requires(platform):
    from observatory_pipelines.arenas.base import ArenaAuthError
    from observatory_pipelines.arenas.support import require

    cls = get_collector_class(platform)
    complete = {names.split("|")[0]: "v" for names in cls.credential_fields}
    assert require(complete, *cls.credential_fields, platform=platform) == ["v"] * len(complete)
    with pytest.raises(ArenaAuthError):
        require({}, *cls.credential_fields, platform=platform)


def test_arenas_list_table_names_every_arena(cli):
    result = cli("arenas", "list")
    assert result.code == 0
    headers = [line.split()[0] for line in result.stdout.splitlines() if line and line[0] != " "]
    assert headers == available_platforms()
    assert 'source_country  string  "DA"' in result.stdout
