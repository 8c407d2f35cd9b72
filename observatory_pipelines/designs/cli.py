"""``observatory design ...``: validate, apply, list, show and deactivate query design files.

Mounted by the ``observatory`` command through ``register(subparsers)``; also runs alone as
``python -m observatory_pipelines.designs.cli design ...``.

    design validate FILE|DIR...   check files (schema, arenas' options, window; with the
                                  database also the owner and names other files hold)
    design apply FILE|DIR...      write them into the database; a DIR is synced whole, so
                                  designs whose file left it are deactivated
    design list                   every design: owner, mode, active, file, runs, last run
    design show NAME              one design: terms, actor lists, arenas, its runs and status
    design deactivate NAME        stop collecting it (its data stays)

Errors in files are printed on stderr as ``file:line:column: field: message``.

Exit codes (the same as ``observatory``'s):
    0  ok (validate: every file valid; apply: every file applied or unchanged)
    1  invalid or refused input: a file with errors (nothing of that file is written)
    2  usage error (argparse: unknown option, missing argument)
    3  not found: no design of that name (show, deactivate), no such file or folder
    4  the database cannot be reached or is not migrated
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from observatory_pipelines.commands import Subcommands
from observatory_pipelines.db.engine import (
    DatabaseUnreachable,
    check_reachable,
    get_engine,
    resolve_database_url,
)
from observatory_pipelines.designs import sync
from observatory_pipelines.designs.files import design_files

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
EPILOG = """exit codes:
  0  ok (validate: every file valid; apply: every file applied or unchanged)
  1  a file with errors (nothing of it written), printed as file:line:column: field: message
  2  usage error
  3  no design of that name, or no such file or folder
  4  the database cannot be reached or is not migrated

Writing a design: docs/designs.md."""


def _engine() -> Engine:
    """The operator's database (DATABASE_URL / POSTGRES_*, else the embedded server);
    DatabaseUnreachable (one line naming the host) when it does not answer."""
    url = resolve_database_url()
    check_reachable(url)
    return get_engine(url)


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "design",
        help="query designs written as files: validate, apply, list, show, deactivate",
        description="Query designs written as YAML files (docs/designs.md).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="design_command", required=True, metavar="ACTION")

    validate = actions.add_parser(
        "validate",
        help="check design files; errors as file:line:column",
        description="Check design files without writing anything. Exit 0 when every file "
        "is valid, 1 otherwise.",
    )
    validate.add_argument("paths", nargs="+", metavar="FILE|DIR")
    validate.add_argument(
        "--no-database",
        action="store_true",
        help="skip the checks that need the database (owner exists, name held by another file)",
    )
    validate.set_defaults(handler=_validate)

    apply = actions.add_parser(
        "apply",
        help="write design files into the database",
        description="Apply design files: each design in one transaction; a file with any "
        "error is refused whole. A folder is synced as the sensor does (designs whose file "
        "left it are deactivated). Exit 0 when nothing was refused, 1 otherwise.",
    )
    apply.add_argument("paths", nargs="+", metavar="FILE|DIR")
    apply.set_defaults(handler=_apply)

    listing = actions.add_parser("list", help="every query design and its latest run")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one design with its terms, arenas and runs")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--runs", type=int, default=20, help="newest runs shown (default 20)")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.set_defaults(handler=_show)

    deactivate = actions.add_parser(
        "deactivate",
        help="stop collecting a design (its data stays)",
        description="Deactivate a design: no new runs (live designs stop). A design from a "
        "file stays off until its file is edited; to keep it off, set active: false there.",
    )
    deactivate.add_argument("name", metavar="NAME")
    deactivate.set_defaults(handler=_deactivate)
    return parser


def _expand(paths: Sequence[str]) -> tuple[list[Path], list[Path], list[str]]:
    """(files, folders, missing) of the paths given."""
    files, folders, missing = [], [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            folders.append(path)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(raw)
    return files, folders, missing


def _print_errors(errors) -> None:
    for error in errors:
        sys.stderr.write(f"{error}\n")


def _validate(args: argparse.Namespace) -> int:
    files, folders, missing = _expand(args.paths)
    for raw in missing:
        sys.stderr.write(f"{raw}: no such file or folder\n")
    every = files + [f for folder in folders for f in design_files(folder)]
    docs, errors = sync.check_files(every)
    # The file's own errors first: they stand even when the database cannot be asked.
    _print_errors(sorted(errors, key=lambda e: (e.file, e.line, e.column)))
    if not args.no_database and docs:
        database_errors = sync.check_database(_engine(), docs)
        _print_errors(sorted(database_errors, key=lambda e: (e.file, e.line, e.column)))
        errors += database_errors
    bad = {e.file for e in errors}
    for doc in docs:
        if doc.file.path not in bad:
            sys.stdout.write(f"{doc.file.path}: valid ({doc.name})\n")
    if missing:
        return EXIT_NOT_FOUND
    return EXIT_INVALID if errors else EXIT_OK


def _apply(args: argparse.Namespace) -> int:
    files, folders, missing = _expand(args.paths)
    for raw in missing:
        sys.stderr.write(f"{raw}: no such file or folder\n")
    if missing:
        return EXIT_NOT_FOUND
    engine = _engine()
    reports = [sync.sync_folder(engine, folder) for folder in folders]
    if files:
        reports.append(sync.apply_files(engine, files))
    errors = [e for r in reports for e in r.errors]
    _print_errors(errors)
    for kind in ("created", "updated", "unchanged", "deactivated"):
        names = [n for r in reports for n in getattr(r, kind)]
        if names:
            sys.stdout.write(f"{kind}: {', '.join(names)}\n")
    revised = [n for r in reports for n in r.revised]
    if revised:
        sys.stdout.write(f"collected again (what they collect changed): {', '.join(revised)}\n")
    refused = sorted({e.file for e in errors})
    if refused:
        sys.stdout.write(f"refused: {len(refused)} file(s), nothing of them written\n")
    return EXIT_INVALID if refused else EXIT_OK


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    return " ".join(str(value).split())


def _table(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    cells = [[head for _, head in columns]] + [[_cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


LIST_COLUMNS = (
    ("name", "NAME"),
    ("owner", "OWNER"),
    ("mode", "MODE"),
    ("is_active", "ACTIVE"),
    ("runs", "RUNS"),
    ("last_status", "LAST RUN"),
    ("last_run_at", "AT"),
    ("source_file", "FILE"),
)
RUN_COLUMNS = (
    ("id", "RUN"),
    ("status", "STATE"),
    ("mode", "MODE"),
    ("date_from", "FROM"),
    ("date_to", "TO"),
    ("records_collected", "RECORDS"),
    ("records_attributed", "ATTRIBUTED"),
    ("estimated_credits", "ESTIMATED"),
    ("credits_spent", "SPENT"),
    ("error_log", "FAILURE"),
)


def _list(args: argparse.Namespace) -> int:
    designs = sync.list_designs(_engine())
    if args.json:
        sys.stdout.write(json.dumps(_plain(designs), ensure_ascii=False, indent=2) + "\n")
    elif designs:
        sys.stdout.write(_table(designs, LIST_COLUMNS) + "\n")
    else:
        sys.stdout.write("no query designs\n")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    designs = sync.show_design(_engine(), args.name, runs=max(1, args.runs))
    if not designs:
        sys.stderr.write(f"no query design named {args.name[:200]!r}\n")
        return EXIT_NOT_FOUND
    if args.json:
        sys.stdout.write(json.dumps(_plain(designs), ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    for design in designs:
        config = design["arenas_config"] or {}
        status = design["runs"][0]["status"] if design["runs"] else "never run"
        lines = [
            f"{design['name']}  ({design['id']})",
            f"  owner:    {design['owner']}",
            f"  active:   {_cell(design['is_active'])}    last run: {status}",
            f"  mode:     {config.get('mode', 'batch')}    window: "
            f"{config.get('date_from', '-')} .. {config.get('date_to', '-')}",
            f"  tier:     {design['default_tier']}    language: {design['language']}",
            f"  file:     {design['source_file'] or '-'}",
            "  terms:    " + ", ".join(_term(t) for t in design["terms"]),
            "  arenas:   " + ", ".join(
                f"{p} {json.dumps(o, ensure_ascii=False)}"
                for p, o in (config.get("arenas") or {}).items()
            ),
        ]  # fmt: skip
        for actor_list, members in _by_list(design["actor_lists"]).items():
            lines.append(f"  actors ({actor_list}): {', '.join(members) or '-'}")
        if design["description"]:
            lines.append(f"  about:    {_cell(design['description'])}")
        lines.append("")
        lines.append(_table(design["runs"], RUN_COLUMNS) if design["runs"] else "  no runs yet")
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _term(row: dict[str, Any]) -> str:
    shown = row["term"] if row["term_type"] == "keyword" else f"{row['term']} ({row['term_type']})"
    return f"[{row['term_group']}] {shown}" if row["term_group"] is not None else shown


def _by_list(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, dict[str, list[str]]] = {}
    for r in rows:
        actors = out.setdefault(r["list_name"], {})
        if r["canonical_name"] is not None:
            accounts = actors.setdefault(r["canonical_name"], [])
            if r["platform"]:
                accounts.append(
                    f"{r['platform']}:{r['platform_user_id'] or r['platform_username']}"
                )
    return {
        name: [f"{a} ({' '.join(acc)})" if acc else a for a, acc in actors.items()]
        for name, actors in out.items()
    }


def _deactivate(args: argparse.Namespace) -> int:
    engine = _engine()
    if sync.deactivate(engine, args.name):
        sys.stdout.write(f"deactivated: {args.name}\n")
        return EXIT_OK
    if sync.show_design(engine, args.name, runs=1):
        sys.stdout.write(f"{args.name}: already inactive\n")
        return EXIT_OK
    sys.stderr.write(f"no query design named {args.name[:200]!r}\n")
    return EXIT_NOT_FOUND


def run(args: argparse.Namespace) -> int:
    """The handler's exit code; an unreachable database is one line and exit 4."""
    try:
        return args.handler(args)
    except (DatabaseUnreachable, sa_exc.OperationalError) as exc:
        sys.stderr.write(f"design: {' '.join(str(exc).split())}\n")
        return EXIT_UNAVAILABLE
    except sa_exc.ProgrammingError as exc:
        sys.stderr.write(f"design: database not migrated? {' '.join(str(exc.orig).split())}\n")
        return EXIT_UNAVAILABLE


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatory")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
