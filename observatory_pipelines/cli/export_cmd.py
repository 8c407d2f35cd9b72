"""``observatory export``: a design's records (CSV, XLSX, NDJSON, Parquet) or one of its
networks (GEXF) written to a file of the person running the command.

The records go through the same code as the ``content_export_*`` assets
(``analysis.exports.export_records``: streamed, never held in memory), the networks through
``analysis.network``; only the destination differs. The path is the CLI user's own local
output file: the file appears complete or not at all (a temporary file beside it is renamed
into place), and an existing file is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from observatory_pipelines.analysis.exports import FORMATS, export_content
from observatory_pipelines.analysis.network import NETWORK_MODELS, gexf_bytes, network
from observatory_pipelines.analysis.scope import AnalysisInputError, AnalysisScope
from observatory_pipelines.cli import database
from observatory_pipelines.cli.errors import CliError, NotFound
from observatory_pipelines.cli.output import print_json, print_lines
from observatory_pipelines.commands import Subcommands
from observatory_pipelines.db.engine import connect
from observatory_pipelines.storage.object_store import ObjectInfo, iter_chunks

EXPORT_FORMATS = (*FORMATS, "gexf")


class LocalFile:
    """The one-object store ``export_records`` writes into: a local file, all or nothing."""

    bucket = "local file"

    def __init__(self, path: Path):
        self.path = path

    def put(
        self,
        key: str,
        data: bytes | BinaryIO | Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        fd, tmp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        tmp = Path(tmp_name)
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in iter_chunks(data):
                    out.write(chunk)
                    size += len(chunk)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return ObjectInfo(
            bucket=self.bucket,
            key=str(self.path),
            size=size,
            last_modified=datetime.now(UTC),
            metadata=dict(metadata or {}),
            content_type=content_type,
        )


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "export",
        help="a design's records or network to a local file",
        description="Write one query design's records (csv, xlsx, ndjson, parquet) or one of "
        "its networks (gexf) to a local file. CSV opens in Excel (UTF-8 with BOM), GEXF in "
        "Gephi; columns as in docs/analysis_outputs.md.",
    )
    parser.add_argument("design", metavar="DESIGN", help="the query design's name or id")
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="file format")
    parser.add_argument("--out", metavar="PATH", help="file to write; default ./<design>.<format>")
    parser.add_argument(
        "--network",
        choices=tuple(NETWORK_MODELS),
        default="actor_cooccurrence",
        help="with --format gexf: which network (default actor_cooccurrence)",
    )
    parser.add_argument("--run", metavar="RUN_ID", help="only the records this run collected")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.set_defaults(handler=export_command)


def default_path(design_name: str, fmt: str) -> Path:
    stem = re.sub(r"[^\w.-]+", "_", design_name, flags=re.UNICODE).strip("._") or "export"
    return Path(f"{stem[:100]}.{fmt}")


def check_run(engine, run: str, design: dict) -> None:
    try:
        run_id = str(uuid.UUID(run))
    except ValueError:
        raise CliError(f"--run must be a UUID, got {run[:80]!r}") from None
    found = database.rows(engine, "runs_select", run_id=run_id, design_id=None, limit=1)
    if not found:
        raise NotFound(f"no collection run {run_id}")
    if found[0]["query_design_id"] != design["id"]:
        raise CliError(f"collection run {run_id} is not a run of {design['name']!r}")


def export_command(args: argparse.Namespace) -> int:
    engine = database.engine()
    design = database.find_design(engine, args.design)
    path = Path(args.out) if args.out else default_path(design["name"], args.format)
    path = path.expanduser().absolute()
    if path.is_dir():
        raise CliError(f"--out {path} is a directory; name a file")
    if not path.parent.is_dir():
        raise CliError(f"--out {path}: folder {path.parent} does not exist")
    if path.exists() and not args.force:
        raise CliError(f"{path} exists; --force replaces it")
    if args.run is not None:
        check_run(engine, args.run, design)
    scope = AnalysisScope(query_design_id=str(design["id"]), collection_run_id=args.run)
    target = LocalFile(path)
    summary = {"design": design["name"], "query_design_id": design["id"], "path": str(path)}
    try:
        with connect(database.database_url()) as conn:
            if args.format == "gexf":
                graph = network(conn, scope, args.network)
                description = f"{args.network.replace('_', ' ')} network of {design['name']}"
                info = target.put("network", gexf_bytes(graph, description))
                summary |= {"network": args.network, **graph["metrics"]}
            else:
                result = export_content(conn, scope, args.format, target, key=str(path))
                info = ObjectInfo(target.bucket, str(path), result.size, datetime.now(UTC))
                summary |= {"rows": result.rows, "truncated_cells": result.truncated_cells}
    except AnalysisInputError as exc:
        raise CliError(str(exc)) from None
    summary |= {"format": args.format, "bytes": info.size}
    if args.json:
        print_json(summary)
    elif args.format == "gexf":
        print_lines(
            [
                f"wrote {path}: {summary['nodes']:,} nodes, {summary['edges']:,} edges, "
                f"{info.size:,} bytes"
            ]
        )
    else:
        print_lines([f"wrote {path}: {summary['rows']:,} records, {info.size:,} bytes"])
    return 0
