"""The sweep: fail runs whose worker died, then close the reservations of finished runs.

**Dead runs.** A worker killed mid-run (OOM, node lost, ``kill -9``) never reaches the
run's ``finally``: the run stays ``running`` and its reservations stay held. A run is
declared dead when

- a Dagster run recorded on its tasks has finished (``SUCCESS``, ``FAILURE``,
  ``CANCELED``) while the collection run is still open, and none is still alive; or
- none of its Dagster runs is known to the instance (or none was recorded — a run
  started outside Dagster) and the run showed no sign of life for ``grace``: its creation,
  a run or task start or end, a task's heartbeat (saved with every page it stores) or a
  ledger write. A task that started long ago but stores pages is therefore never failed,
  and a pending run that never started heals once it is older than ``grace``.

Any Dagster run still alive (queued, starting, started, canceling…) keeps it
untouched, as does a failure to ask Dagster. A dead run is failed through
``run_states.fail_dead_run`` (with an ``error_log`` line saying why, its unfinished tasks
failed too), then settled like any finished run.

**Finished runs.** Their open reservations are closed from what ``collection_tasks``
recorded: an arena whose task ``completed`` is charged that task's own ``credits_spent``
(written before the worker told the ledger, so a crash in between is healed exactly);
every other arena (failed, cancelled, never started, no task row) is released in full.
This holds whatever the run's final status.

Every close goes through the credit ledger, so a second pass changes nothing. Dagster is
not imported here: the caller passes ``dagster_status``, which maps a Dagster run id to
its status name, or None when the instance does not know it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from observatory_pipelines.collection import run_states
from observatory_pipelines.credits.common import as_uuid
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

_SQL_DIR = Path(__file__).parent / "sql"
_SQL = {
    name: (_SQL_DIR / f"{name}.sql").read_text()
    for name in ("runs_open", "runs_open_of_dagster_run", "run_task_costs")
}

DAGSTER_FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

DagsterStatus = Callable[[str], str | None]


@dataclass(frozen=True)
class StaleRun:
    collection_run_id: uuid.UUID
    status: str
    dagster_run_ids: tuple[str, ...]
    last_activity: datetime | None
    reason: str


@dataclass
class SettlementOutcome:
    collection_run_id: uuid.UUID
    status: str
    settled: dict[str, int] = field(default_factory=dict)  # "arena/platform" -> credits charged
    refunded: dict[str, int] = field(default_factory=dict)  # "arena/platform" -> credits released


@dataclass
class HealedRun:
    collection_run_id: uuid.UUID
    reason: str
    tasks_failed: int
    settlement: SettlementOutcome | None = None


def _verdict(
    ids: Sequence[str],
    statuses: dict[str, str | None],
    last_activity: datetime | None,
    cutoff: datetime,
    grace: timedelta,
    run_status: str,
) -> str | None:
    """Why the run is dead, or None while it may still be alive."""
    if any(s is not None and s not in DAGSTER_FINISHED for s in statuses.values()):
        return None
    finished = {i: s for i, s in statuses.items() if s is not None}
    if finished:
        ended = ", ".join(f"{i} {s}" for i, s in sorted(finished.items()))
        return f"worker lost: Dagster run {ended} ended while the collection run was {run_status}"
    if last_activity is None or last_activity > cutoff:
        return None  # no age to judge by, or too recent: another instance may be running it
    hours = grace.total_seconds() / 3600
    which = f"Dagster run {', '.join(ids)} unknown to this instance" if ids else "no Dagster run"
    return (
        f"worker lost: {which} and no activity since {last_activity.isoformat()} "
        f"(over {hours:g} h) while the collection run was {run_status}"
    )


def find_stale_runs(
    ledger: CreditLedger, dagster_status: DagsterStatus, grace: timedelta
) -> list[StaleRun]:
    if not isinstance(grace, timedelta) or grace <= timedelta(0):
        raise ValueError(f"grace must be a positive timedelta, got {grace!r}")
    cutoff = ledger.now() - grace
    with ledger.engine.connect() as conn:
        rows = conn.execute(text(_SQL["runs_open"])).all()
    stale = []
    for row in rows:
        ids = tuple(sorted(row.dagster_run_ids or ()))
        try:
            statuses = {i: dagster_status(i) for i in ids}
        except Exception as exc:  # unsure whether it is alive: leave it for the next tick
            log.warning(
                "sweep.stale_check_failed",
                collection_run_id=str(row.collection_run_id),
                error=f"{type(exc).__name__}: {exc}",
            )
            continue
        reason = _verdict(ids, statuses, row.last_activity, cutoff, grace, row.status)
        if reason:
            stale.append(
                StaleRun(row.collection_run_id, row.status, ids, row.last_activity, reason)
            )
    return stale


def settle_finished_run(ledger: CreditLedger, collection_run_id: Any) -> SettlementOutcome:
    """Close a finished run's open reservations from what its tasks recorded."""
    run_id = as_uuid(collection_run_id, "collection_run_id")
    status = run_states.run_status(ledger.engine, run_id)
    if status is None:
        raise ValueError(f"collection run {run_id} does not exist")
    if status not in run_states.FINAL:
        raise ValueError(f"collection run {run_id} is not finished (status {status!r})")
    with ledger.engine.connect() as conn:
        completed = {
            (t.arena, t.platform): t
            for t in conn.execute(text(_SQL["run_task_costs"]), {"run_id": str(run_id)})
        }
    outcome = SettlementOutcome(collection_run_id=run_id, status=status)
    for key in ledger.open_reservations(run_id):
        name = f"{key.arena}/{key.platform}"
        task = completed.get((key.arena, key.platform))
        if task is None:
            outcome.refunded[name] = ledger.release(key)
            continue
        charged = ledger.settle(key, int(task.credits_spent)).charged
        if charged != task.credits_spent:  # capped: the task (and run) say what was charged
            run_states.record_charge(ledger.engine, task.id, charged)
        outcome.settled[name] = charged
    log.info(
        "sweep.run_settled",
        collection_run_id=str(run_id),
        status=status,
        settled=sum(outcome.settled.values()),
        refunded=sum(outcome.refunded.values()),
    )
    return outcome


def heal_stale_run(ledger: CreditLedger, stale: StaleRun) -> HealedRun | None:
    """Fail the run and its unfinished tasks, then settle it; None if it finished meanwhile."""
    failed = run_states.fail_dead_run(ledger.engine, stale.collection_run_id, stale.reason)
    if not failed.run_failed:
        log.info(
            "sweep.stale_run_finished_meanwhile", collection_run_id=str(stale.collection_run_id)
        )
        return None
    log.warning(
        "sweep.stale_run_failed",
        collection_run_id=str(stale.collection_run_id),
        tasks_failed=failed.tasks_failed,
        reason=stale.reason,
    )
    healed = HealedRun(stale.collection_run_id, stale.reason, failed.tasks_failed)
    healed.settlement = settle_finished_run(ledger, stale.collection_run_id)
    return healed


def heal_runs_of_dagster_run(
    ledger: CreditLedger, dagster_run_id: str, dagster_status: DagsterStatus
) -> list[HealedRun]:
    """Fail and settle, now, the open collection runs of one Dagster run that has ended.

    Called when Dagster reports the run FAILURE or CANCELED (run monitoring failed it
    because its worker died, or someone cancelled it), so its credits come back within a
    sensor tick instead of at the next sweep. The same verdict as the sweep's: a
    collection run some other Dagster run still works on is left alone, and so is every
    run when Dagster cannot be asked.
    """
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            text(_SQL["runs_open_of_dagster_run"]), {"dagster_run_id": dagster_run_id}
        ).all()
    healed = []
    for row in rows:
        ids = tuple(sorted(row.dagster_run_ids))
        statuses = {i: dagster_status(i) for i in ids}
        # No grace: the ended Dagster run is known, so only "finished" verdicts apply.
        reason = _verdict(ids, statuses, None, ledger.now(), timedelta(hours=1), row.status)
        if reason is None:
            log.info(
                "sweep.dagster_run_ended_run_alive",
                collection_run_id=str(row.collection_run_id),
                dagster_run_id=dagster_run_id,
            )
            continue
        stale = StaleRun(row.collection_run_id, row.status, ids, row.last_activity, reason)
        done = heal_stale_run(ledger, stale)
        if done is not None:
            healed.append(done)
    return healed


@dataclass
class SweepSummary:
    runs_found: int = 0
    runs_settled: int = 0
    runs_failed: int = 0
    credits_charged: int = 0
    credits_released: int = 0
    dead_runs_healed: int = 0
    dead_runs_failed: int = 0
    dead_credits_charged: int = 0
    dead_credits_released: int = 0
    dead_run_ids: list[str] = field(default_factory=list)
    failed_run_ids: list[str] = field(default_factory=list)


def sweep(ledger: CreditLedger, dagster_status: DagsterStatus, grace: timedelta) -> SweepSummary:
    """Heal dead runs, then settle every finished run with open reservations. One run that
    cannot be healed or settled is logged and left for the next sweep; the others go on."""
    summary = SweepSummary()
    for run in find_stale_runs(ledger, dagster_status, grace):
        try:
            healed = heal_stale_run(ledger, run)
        except Exception as exc:
            summary.dead_runs_failed += 1
            log.error(
                "sweep.heal_failed",
                collection_run_id=str(run.collection_run_id),
                error=f"{type(exc).__name__}: {exc}",
            )
            continue
        if healed is None:
            continue
        summary.dead_runs_healed += 1
        summary.dead_run_ids.append(str(run.collection_run_id))
        if healed.settlement is not None:
            summary.dead_credits_charged += sum(healed.settlement.settled.values())
            summary.dead_credits_released += sum(healed.settlement.refunded.values())
    runs = ledger.unsettled_finished_runs()
    summary.runs_found = len(runs)
    for run in runs:
        try:
            outcome = settle_finished_run(ledger, run.collection_run_id)
        except Exception as exc:
            summary.failed_run_ids.append(str(run.collection_run_id))
            log.error(
                "sweep.settle_failed",
                collection_run_id=str(run.collection_run_id),
                error=f"{type(exc).__name__}: {exc}",
            )
            continue
        summary.credits_charged += sum(outcome.settled.values())
        summary.credits_released += sum(outcome.refunded.values())
    summary.runs_failed = len(summary.failed_run_ids)
    summary.runs_settled = summary.runs_found - summary.runs_failed
    return summary
