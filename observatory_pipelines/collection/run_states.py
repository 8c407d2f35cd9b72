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
"""

from __future__ import annotations

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
        "task_start",
        "task_complete",
        "task_fail",
    )
}

FINAL = ("completed", "failed", "cancelled")

# target state -> the states it may be reached from
RUN_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "running": ("pending",),
    "completed": ("running",),
    "failed": ("pending", "running"),
}
TASK_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "running": ("pending",),
    "completed": ("running",),
    "failed": ("pending", "running"),
}


def _changed(engine: Engine, sql: str, **params: Any) -> int:
    with engine.begin() as conn:
        return len(conn.execute(text(_SQL[sql]), params).all())


def _refused(what: str, ident: Any, target: str) -> None:
    log.warning("run_state.transition_refused", what=what, id=str(ident), to=target)


def run_status(engine: Engine, run_id: Any) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text(_SQL["run_status"]), {"id": str(run_id)}).scalar()


def start_run(engine: Engine, run_id: Any, estimated_credits: int) -> bool:
    """pending → running, with the credits reserved for it."""
    done = _changed(
        engine, "run_start", id=str(run_id), estimated=estimated_credits,
        from_states=list(RUN_TRANSITIONS["running"]),
    )  # fmt: skip
    if not done:
        _refused("run", run_id, "running")
    return bool(done)


def finish_run(
    engine: Engine,
    run_id: Any,
    status: str,
    *,
    credits_spent: int,
    records_collected: int,
    error: str | None,
) -> bool:
    """running → completed, or pending/running → failed, with the run's totals."""
    if status not in ("completed", "failed"):
        raise ValueError(f"a run finishes as 'completed' or 'failed', not {status!r}")
    done = _changed(
        engine, "run_finish", id=str(run_id), status=status, spent=credits_spent,
        collected=records_collected, error=error, from_states=list(RUN_TRANSITIONS[status]),
    )  # fmt: skip
    if not done:
        _refused("run", run_id, status)
    return bool(done)


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
                "from_states": list(RUN_TRANSITIONS["failed"]),
                "task_from_states": list(TASK_TRANSITIONS["failed"]),
            },
        ).one()
    return DeadRunFailed(bool(counts.runs), int(counts.tasks))


def start_task(engine: Engine, task_id: Any, dagster_run_id: str | None) -> bool:
    """pending → running, recording the Dagster run working on it."""
    done = _changed(
        engine, "task_start", id=str(task_id), dagster_run_id=dagster_run_id,
        from_states=list(TASK_TRANSITIONS["running"]),
    )  # fmt: skip
    if not done:
        _refused("task", task_id, "running")
    return bool(done)


def complete_task(engine: Engine, task_id: Any, credits_spent: int) -> bool:
    """running → completed with the task's own cost."""
    done = _changed(
        engine, "task_complete", id=str(task_id), spent=credits_spent,
        from_states=list(TASK_TRANSITIONS["completed"]),
    )  # fmt: skip
    if not done:
        _refused("task", task_id, "completed")
    return bool(done)


def fail_task(engine: Engine, task_id: Any, message: str) -> bool:
    """pending/running → failed with a message that is safe to show."""
    return bool(
        _changed(
            engine,
            "task_fail",
            id=str(task_id),
            run_id=None,
            message=message[:2000],
            from_states=list(TASK_TRANSITIONS["failed"]),
        )  # fmt: skip
    )


def fail_open_tasks(engine: Engine, run_id: Any, message: str) -> int:
    """Every unfinished task of a run → failed (a refused or aborted run); how many."""
    return _changed(
        engine, "task_fail", id=None, run_id=str(run_id), message=message[:2000],
        from_states=list(TASK_TRANSITIONS["failed"]),
    )  # fmt: skip
