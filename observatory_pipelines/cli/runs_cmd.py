"""``observatory run status``: what a collection run did, arena by arena.

State, window, records, the ledger's credits (reserved, charged, still held), the sources
each arena skipped (by reason) and why a run or task failed, read from ``collection_runs``,
``collection_tasks`` and ``credit_transactions``.
"""

from __future__ import annotations

import argparse
import uuid
from collections import Counter
from typing import Any

from observatory_pipelines.cli import database
from observatory_pipelines.cli.errors import CliError, NotFound
from observatory_pipelines.cli.output import cell, print_json, print_lines, table
from observatory_pipelines.commands import Subcommands

MAX_LIMIT = 1000
RUN_COLUMNS = (
    ("id", "RUN"),
    ("design", "DESIGN"),
    ("status", "STATE"),
    ("window", "WINDOW (UTC)"),
    ("arenas", "ARENAS"),
    ("records_collected", "RECORDS"),
    ("credits_reserved", "RESERVED"),
    ("credits_spent", "SPENT"),
    ("skipped_sources", "SKIPPED"),
    ("failure", "FAILURE"),
)
TASK_COLUMNS = (
    ("platform", "ARENA"),
    ("status", "STATE"),
    ("records_collected", "RECORDS"),
    ("records_attributed", "ATTRIBUTED"),
    ("duplicates_skipped", "DUPLICATES"),
    ("records_rejected", "REJECTED"),
    ("credits_spent", "SPENT"),
    ("skipped", "SKIPPED"),
    ("sources_not_modified", "UNCHANGED"),
    ("error_message", "FAILURE"),
)


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "run", help="collection runs", description="Collection runs and their arenas."
    )
    actions = parser.add_subparsers(dest="run_command", required=True, metavar="ACTION")
    status = actions.add_parser(
        "status",
        help="state, arenas, records, credits and failures of runs",
        description="One run in detail (RUN_ID), or the newest runs (of one design with "
        "--design): state, arenas, records, credits reserved and spent, skipped sources "
        "and the cause of a failure.",
    )
    status.add_argument("run_id", nargs="?", metavar="RUN_ID", help="one run, in detail")
    status.add_argument("--design", metavar="NAME|ID", help="the runs of one query design")
    status.add_argument(
        "--limit", type=int, default=10, metavar="N", help="newest runs shown (default 10)"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=status_command)


def status_command(args: argparse.Namespace) -> int:
    if args.run_id and args.design:
        raise CliError("give a RUN_ID or --design, not both")
    if not 1 <= args.limit <= MAX_LIMIT:
        raise CliError(f"--limit must be between 1 and {MAX_LIMIT}, got {args.limit}")
    engine = database.engine()
    run_id = design_id = None
    if args.run_id:
        try:
            run_id = str(uuid.UUID(args.run_id))
        except ValueError:
            raise CliError(f"RUN_ID must be a UUID, got {args.run_id[:80]!r}") from None
    if args.design:
        design_id = str(database.find_design(engine, args.design)["id"])
    runs = database.rows(
        engine, "runs_select", run_id=run_id, design_id=design_id, limit=args.limit
    )
    if run_id and not runs:
        raise NotFound(f"no collection run {run_id}")
    tasks = database.rows(engine, "run_tasks", run_ids=[str(r["id"]) for r in runs])
    for run in runs:
        describe(run, [t for t in tasks if t["collection_run_id"] == run["id"]])
    if args.json:
        print_json(runs[0] if run_id else {"runs": runs})
    elif run_id:
        print_lines(detail_lines(runs[0]))
    elif runs:
        print_lines(table(runs, RUN_COLUMNS))
    else:
        print_lines(["no collection runs" + (f" of {args.design}" if args.design else "")])
    return 0


def describe(run: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    """Adds the derived fields (tasks, skipped sources, failure) to ``run`` in place."""
    for task in tasks:
        reasons = Counter(str(s.get("reason", "error")) for s in task["skipped_sources"] or [])
        task["skipped"] = sum(reasons.values())
        task["skipped_by_reason"] = dict(sorted(reasons.items()))
        task.pop("collection_run_id")
    run["tasks"] = tasks
    run["arenas"] = [f"{t['platform']}:{t['status']}" for t in tasks]
    run["skipped_sources"] = sum(t["skipped"] for t in tasks)
    run["credits_held"] = run["credits_reserved"] - run["credits_refunded"]
    run["window"] = f"{cell(run['date_from'])[:10]} .. {cell(run['date_to'])[:10]}"
    failed = [f"{t['platform']}: {t['error_message']}" for t in tasks if t["error_message"]]
    run["failure"] = run["error_log"] or (failed[0] if failed else None)


def detail_lines(run: dict[str, Any]) -> list[str]:
    lines = [
        f"run        {run['id']}",
        f"design     {run['design'] or '-'} ({run['query_design_id'] or 'deleted'})",
        f"state      {run['status']} ({run['mode']}, tier {run['tier']})",
        f"window     {cell(run['date_from'])} .. {cell(run['date_to'])} (end exclusive)",
        f"started    {cell(run['started_at'])}   finished {cell(run['completed_at'])}",
        f"records    {run['records_collected']:,} collected, "
        f"{run['records_attributed']:,} attributed to the design",
        f"credits    estimated {run['estimated_credits']:,}, reserved {run['credits_reserved']:,}, "
        f"spent {run['credits_spent']:,}, still held {run['credits_held']:,}"
        + (f", not charged {run['credits_uncharged']:,}" if run["credits_uncharged"] else ""),
    ]
    if run["error_log"]:
        lines.append(f"failure    {cell(run['error_log'])}")
    if not run["tasks"]:
        return [*lines, "", "no arena tasks"]
    lines += ["", *table(run["tasks"], TASK_COLUMNS)]
    for task in run["tasks"]:
        if task["skipped"]:
            reasons = ", ".join(f"{k} {v}" for k, v in task["skipped_by_reason"].items())
            lines.append(f"{task['platform']}: {task['skipped']} source(s) skipped ({reasons})")
    return lines
