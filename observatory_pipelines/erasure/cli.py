"""Command line of the erasure: ``erase`` and ``erasure-log``.

    observatory erase --actor-id ID --requested-by NAME --reference REF [--dry-run]
    observatory erase --platform P --platform-user-id U --requested-by NAME --reference REF
    observatory erase --finish-pending
    observatory erasure-log [--since YYYY-MM-DD] [--not-in-database]

``register(subparsers)`` adds both to the top-level ``observatory`` command; each parser's
``handler`` is called with the parsed arguments and returns the exit code. Standalone:
``python -m observatory_pipelines.erasure.cli erase ...``.

Exit codes of ``erase`` (those of ``observatory``, docs/cli.md): 0 erased (or, with
--dry-run, what would be); 1 refused: bad input, nothing changed; 3 unknown person ("no
records or actor for …", nothing changed); 4 database or object store unreachable, nothing
changed; 5 the rows are erased but output objects could not all be deleted
(``--finish-pending`` deletes the rest), or another failure. Same database and object store
configuration as the pipelines (DATABASE_URL, MINIO_*). Procedure: docs/erasure.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from observatory_pipelines import logs
from observatory_pipelines.commands import Subcommands
from observatory_pipelines.db.engine import DatabaseUnreachable, get_engine
from observatory_pipelines.erasure import database
from observatory_pipelines.erasure.person import ErasureRefused, UnknownPerson, check_request
from observatory_pipelines.erasure.service import (
    MIRROR_PREFIX,
    ErasureReport,
    erase,
    finish_pending,
)
from observatory_pipelines.storage.config import object_store_from_env
from observatory_pipelines.storage.object_store import ObjectStoreUnavailable

# The values of observatory_pipelines.cli.errors (the command above this package mounts us).
EXIT_ERASED = 0
EXIT_REFUSED = 1
EXIT_UNKNOWN = 3
EXIT_UNAVAILABLE = 4
EXIT_FAILED = 5

ERASE_HELP = "erase every record of one person (GDPR), their actor and every output holding them"
LOG_HELP = "what past erasures did (no personal data); --not-in-database after a restore"


def _err(message: str) -> None:
    print(f"erase: {message}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _failure_code(exc: BaseException) -> int:
    unreachable = (DatabaseUnreachable, ObjectStoreUnavailable, OperationalError)
    return EXIT_UNAVAILABLE if isinstance(exc, unreachable) else EXIT_FAILED


def _print_report(report: ErasureReport, who: str, reference: str) -> None:
    if report.dry_run:
        print(f"dry run: would erase {who} (request {reference}); nothing was changed")
    else:
        print(f"erased {who} (request {reference}, erasure log {report.log_id})")
    if report.resolved_to_actor and report.identified_by == "platform_user":
        print("  the identifier belongs to an actor: the whole actor is erased")
    print("  rows deleted:")
    for table, count in report.rows_deleted.items():
        print(f"    {table:<30} {count:>8,}")
        if table == "content_records":
            for partition, in_partition in report.rows_by_partition.items():
                print(f"      {partition:<28} {in_partition:>8,}")
    print(f"  designs affected: {len(report.affected_designs)}")
    for design in report.affected_designs:
        print(f"    {design}")
    verb = "would delete" if report.dry_run else "deleted"
    print(f"  output objects {verb}: {len(report.object_keys)}")
    for key in report.object_keys:
        print(f"    {key}")
    if report.affected_designs and not report.dry_run:
        print(
            "  the standard analysis of each affected design is recomputed by the Dagster "
            "sensor erasure_reanalysis; exports and filtered analyses must be asked for again"
        )
        print(
            "  Dagster runs whose previews showed the person: launch the job "
            f"forget_erased_analysis_runs with erasure_log_id {report.log_id}"
        )


def run_erase(args: argparse.Namespace) -> int:
    engine = get_engine(None)
    stores = object_store_from_env()
    if args.finish_pending:
        try:
            done = finish_pending(engine, stores.outputs(), stores.backups())
        except Exception as exc:
            _err(f"finishing pending erasures failed: {_one_line(exc)}")
            return _failure_code(exc)
        left = list(database.log_entries(engine, status="outputs_pending"))
        print(f"completed {len(done)} pending erasure(s); {len(left)} still pending")
        return EXIT_FAILED if left else EXIT_ERASED
    try:
        request = check_request(
            requested_by=args.requested_by,
            reference=args.reference,
            actor_id=args.actor_id,
            platform=args.platform,
            platform_user_id=args.platform_user_id,
        )
    except ErasureRefused as exc:
        _err(f"refused: {exc}")
        return EXIT_REFUSED
    try:
        report = erase(
            engine, stores.outputs(), request, dry_run=args.dry_run, mirror=stores.backups()
        )
    except UnknownPerson as exc:
        _err(str(exc))
        return EXIT_UNKNOWN
    except Exception as exc:  # raised before the transaction committed: nothing changed
        _err(f"failed, nothing was changed: {_one_line(exc)}")
        return _failure_code(exc)
    _print_report(report, request.describe(), request.reference)
    if not report.dry_run and not report.complete:
        _err(
            f"the records are erased (erasure log {report.log_id}) but "
            f"{len(report.object_errors)} output object(s) could not be deleted: "
            f"{next(iter(report.object_errors.values()))}; run `erase --finish-pending` "
            "when the object store is back"
        )
        return EXIT_FAILED
    return EXIT_ERASED


def _log_line(entry: dict) -> str:
    rows = entry.get("rows_deleted") or {}
    return (
        f"{entry['id']:>6}  {entry['erased_at']}  {entry['status']:<15}  "
        f"{entry['request_reference']}  by {entry['requested_by']}  "
        f"records {rows.get('content_records', 0)}  "
        f"designs {len(entry.get('affected_design_ids') or [])}  "
        f"objects {len(entry.get('object_keys_deleted') or [])}"
    )


def _mirrored_entries(since: datetime | None) -> list[dict]:
    store = object_store_from_env().backups()
    entries = []
    for info in store.list(MIRROR_PREFIX):
        entry = json.loads(store.get_bytes(info.key))
        if since is None or datetime.fromisoformat(entry["erased_at"]) >= since:
            entries.append(entry)
    return sorted(entries, key=lambda entry: entry["id"], reverse=True)


def run_log(args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            print(f"erasure-log: --since {args.since!r} is not an ISO date", file=sys.stderr)
            return EXIT_REFUSED
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    try:
        in_database = list(database.log_entries(get_engine(None), since=since))
        if args.not_in_database:
            # (id, time): a restored database hands out the ids of lost entries again
            known = {(e["id"], e["erased_at"].astimezone(UTC)) for e in in_database}
            entries = [
                e
                for e in _mirrored_entries(since)
                if (e["id"], datetime.fromisoformat(e["erased_at"])) not in known
            ]
            print(
                f"{len(entries)} erasure(s) in the backups bucket's erasure-log/ that this "
                "database does not have: carry each out again (docs/erasure.md)"
            )
        else:
            entries = [{**e, "erased_at": e["erased_at"].isoformat()} for e in in_database]
    except Exception as exc:
        print(f"erasure-log: {_one_line(exc)}", file=sys.stderr)
        return _failure_code(exc)
    for entry in entries:
        print(_log_line(entry))
    return EXIT_ERASED


def register(subparsers: Subcommands) -> None:
    """Add ``erase`` and ``erasure-log`` to a top-level command's subparsers."""
    erase_parser = subparsers.add_parser(
        "erase",
        help=ERASE_HELP,
        description=ERASE_HELP + ". Exit codes: 0 erased (or the dry run's report); 1 refused, "
        "nothing changed; 3 unknown person, nothing changed; 4 database or object store "
        "unreachable, nothing changed; 5 erased but output objects left (--finish-pending), "
        "or another failure. See docs/erasure.md.",
    )
    who = erase_parser.add_argument_group("whom (one of)")
    who.add_argument("--actor-id", help="the actor's UUID (actors.id)")
    who.add_argument("--platform", help="platform of the identity, e.g. bluesky, reddit")
    who.add_argument(
        "--platform-user-id", help="the platform's user id (as collected: DID, t2_…, channel id)"
    )
    erase_parser.add_argument(
        "--requested-by", help="the operator carrying out the erasure (kept in the log)"
    )
    erase_parser.add_argument(
        "--reference",
        help="the request's case number (kept in the log; never the person's name)",
    )
    erase_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="report what would be erased (real counts) and change nothing",
    )
    erase_parser.add_argument(
        "--finish-pending",
        action="store_true",
        help="only delete the outputs of erasures whose object deletion failed earlier",
    )
    erase_parser.set_defaults(handler=run_erase)

    log_parser = subparsers.add_parser("erasure-log", help=LOG_HELP, description=LOG_HELP)
    log_parser.add_argument("--since", help="only erasures on or after this ISO date/time (UTC)")
    log_parser.add_argument(
        "--not-in-database",
        action="store_true",
        help="erasures mirrored in the backups bucket that the database lacks (after a restore)",
    )
    log_parser.set_defaults(handler=run_log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m observatory_pipelines.erasure.cli", description=ERASE_HELP
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log events (JSON) on stderr as well"
    )
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    if not args.verbose:
        logs.set_stderr_level(logging.WARNING)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
