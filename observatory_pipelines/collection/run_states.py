"""The one owner of a collection run's and its tasks' states: every status change goes here.

Run:  pending ──► running ──► completed
         │           │
         └───────────┴──────► failed      (refused before start, every arena failed, aborted,
                                            or its worker declared dead by the sweep)
Task: pending ──► running ──► completed
         └───────────┴──────► failed

Each transition is one guarded ``UPDATE … WHERE status = ANY(<allowed from-states>)`` and
returns whether it happened, so two writers cannot overwrite each other: a run the sweep
failed (dead worker, credits released) is never reopened as ``completed`` by a late worker,
and a task it failed is never completed and charged afterwards. ``completed``, ``failed``
and ``cancelled`` are final. The SQL lives in ``sql/run_*.sql`` and ``sql/task_*.sql``.

A running task records a heartbeat with the counters of every page it stores
(``record_progress``, one statement with the page's source reports); the sweep judges a run's idleness by it, and the answer tells the
worker whether its task is still running (a healed task stops instead of collecting on).
A run's counters (``records_collected``, ``records_attributed``, ``credits_spent``) are the
sums of its tasks', recomputed (``sql/run_totals.sql``) in the transaction of every change
to either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

_SQL_DIR = Path(__file__).parent / "sql"
_SQL = {
    name: (_SQL_DIR / f"{name}.sql").read_text()
    for name in (
        "run_start",
        "run_finish",
        "run_fail_dead",
        "run_status",
        "run_totals",
        "task_start",
        "task_complete",
        "task_charged",
        "task_fail",
        "task_progress",
        "task_previous_state",
    )
}

FINAL = ("completed", "failed", "cancelled")

# target state -> the states it may be reached from (runs and tasks move alike)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "running": ("pending",),
    "completed": ("running",),
    "failed": ("pending", "running"),
}


def _changed(engine: Engine, sql: str, *, totals: bool = False, **params: Any) -> int:
    """Run one guarded statement; with ``totals`` (its rows return ``collection_run_id``)
    the changed runs' counters are recomputed from their tasks in the same transaction."""
    with engine.begin() as conn:
        changed = conn.execute(text(_SQL[sql]), params).all()
        if totals:
            for run_id in {row.collection_run_id for row in changed}:
                conn.execute(text(_SQL["run_totals"]), {"run_id": str(run_id)})
        return len(changed)


def _transition(
    engine: Engine, what: str, ident: Any, sql: str, target: str, **params: Any
) -> bool:
    """Move one run or task to ``target`` from a state allowed to reach it; a refused move
    (someone else moved it first) is logged and answered False."""
    done = _changed(engine, sql, id=str(ident), from_states=list(TRANSITIONS[target]), **params)
    if not done:
        log.warning("run_state.transition_refused", what=what, id=str(ident), to=target)
    return bool(done)


def run_status(engine: Engine, run_id: Any) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text(_SQL["run_status"]), {"id": str(run_id)}).scalar()


def start_run(engine: Engine, run_id: Any, estimated_credits: int) -> bool:
    """pending → running, with the credits reserved for it."""
    return _transition(engine, "run", run_id, "run_start", "running", estimated=estimated_credits)


def finish_run(
    engine: Engine,
    run_id: Any,
    status: str,
    *,
    error: str | None,
) -> bool:
    """running → completed, or pending/running → failed; its totals are its tasks' sums."""
    if status not in ("completed", "failed"):
        raise ValueError(f"a run finishes as 'completed' or 'failed', not {status!r}")
    return _transition(
        engine, "run", run_id, "run_finish", status, totals=True, status=status, error=error
    )


@dataclass(frozen=True)
class DeadRunFailed:
    run_failed: bool
    tasks_failed: int


def fail_dead_run(engine: Engine, run_id: Any, reason: str) -> DeadRunFailed:
    """pending/running → failed for a run whose worker died, with its unfinished tasks;
    nothing changes when the run finished meanwhile."""
    with engine.begin() as conn:
        counts = conn.execute(
            text(_SQL["run_fail_dead"]),
            {
                "run_id": str(run_id),
                "reason": reason,
                "task_reason": f"not finished: {reason}",
                "from_states": list(TRANSITIONS["failed"]),
                "task_from_states": list(TRANSITIONS["failed"]),
            },
        ).one()
        if counts.runs:
            conn.execute(text(_SQL["run_totals"]), {"run_id": str(run_id)})
    return DeadRunFailed(bool(counts.runs), int(counts.tasks))


def start_task(engine: Engine, task_id: Any, dagster_run_id: str | None) -> bool:
    """pending → running, recording the Dagster run working on it."""
    return _transition(
        engine, "task", task_id, "task_start", "running", dagster_run_id=dagster_run_id
    )


def complete_task(engine: Engine, task_id: Any, credits_spent: int) -> bool:
    """running → completed with the task's own cost."""
    return _transition(
        engine, "task", task_id, "task_complete", "completed", totals=True, spent=credits_spent
    )


def record_charge(engine: Engine, task_id: Any, charged: int) -> bool:
    """A finished task's ``credits_spent`` becomes what the ledger charged: a completed task's
    when settlement capped it (the user ran out), a failed task's paid calls; the run's total
    follows."""
    return bool(_changed(engine, "task_charged", totals=True, id=str(task_id), charged=charged))


# Built once: it runs once per page (2,000 feeds are 2,000 pages), and building the clause
# (finding its parameters in the text) cost ~0.6 ms of the collector's CPU each time.
_TASK_PROGRESS = text(_SQL["task_progress"])


def record_progress(
    engine: Engine,
    task_id: Any,
    *,
    records_collected: int,
    records_attributed: int,
    duplicates_skipped: int,
    records_rejected: int,
    credential_id: str | None,
    rate_limit_state: dict[str, Any],
    sources: dict[str, Any] | None = None,
) -> bool:
    """A task's counters after a page, its heartbeat, what the page said about its sources
    (``source_reports.source_params``: skipped, not modified, validators) and its run's
    totals, in one statement. True while the task is running; False once it was closed
    (healed by the sweep): the worker should stop. The counters are saved either way (the
    rows are stored)."""
    params = {
        "id": str(task_id),
        "collected": records_collected,
        "attributed": records_attributed,
        "duplicates": duplicates_skipped,
        "rejected": records_rejected,
        "credential_id": credential_id,
        "state": json.dumps(rate_limit_state, default=str),
        "skipped": "[]",
        "not_modified": 0,
        "validators": "[]",
        **(sources or {}),
    }
    with engine.begin() as conn:
        row = conn.execute(_TASK_PROGRESS, params).one_or_none()
    return row is not None and row.status == "running"


def previous_task_state(
    engine: Engine, task_id: Any, query_design_id: Any, platform: str, keys: tuple[str, ...]
) -> tuple[dict[str, Any], bool] | None:
    """The saved state of the newest other task of this design and platform holding one of
    ``keys``, and whether it completed; None when there is none."""
    with engine.connect() as conn:
        row = conn.execute(
            text(_SQL["task_previous_state"]),
            {"task_id": str(task_id), "query_design_id": str(query_design_id),
             "platform": platform, "keys": list(keys)},
        ).first()  # fmt: skip
    return None if row is None else (dict(row.rate_limit_state or {}), bool(row.completed))


def fail_task(engine: Engine, task_id: Any, message: str) -> bool:
    """pending/running → failed with a message that is safe to show."""
    return bool(
        _changed(
            engine,
            "task_fail",
            id=str(task_id),
            run_id=None,
            message=message[:2000],
            from_states=list(TRANSITIONS["failed"]),
        )  # fmt: skip
    )


def fail_open_tasks(engine: Engine, run_id: Any, message: str) -> int:
    """Every unfinished task of a run → failed (a refused or aborted run); how many."""
    return _changed(
        engine, "task_fail", id=None, run_id=str(run_id), message=message[:2000],
        from_states=list(TRANSITIONS["failed"]),
    )  # fmt: skip
