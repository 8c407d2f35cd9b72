"""Collection runs a dead worker left ``pending``/``running``: fail them and close their credits.

A worker killed mid-run (OOM, node lost, ``kill -9``) never reaches the run's
``finally``: the run stays ``running`` and its reservations stay held. A run is
declared dead when

- a Dagster run recorded on its tasks has finished (``SUCCESS``, ``FAILURE``,
  ``CANCELED``) while the collection run is still open, and none is still alive; or
- none of its Dagster runs is known to the instance (or none was recorded — a run
  started outside Dagster) and nothing in the run moved for ``grace``.

Any Dagster run still alive (queued, starting, started, canceling…) keeps it
untouched, as does a failure to ask Dagster. A dead run is marked ``failed`` with
an ``error_log`` line saying why, its unfinished tasks ``failed``, and then settled
like any finished run (``settlement.settle_finished_run``: completed tasks charged
their own cost, the rest refunded), all through the ledger, so a second pass
changes nothing. Dagster is not imported here: the caller passes ``dagster_status``,
which maps a Dagster run id to its status name, or None when the instance does not
know it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text

from observatory_pipelines.credits.common import load_sql
from observatory_pipelines.credits.settlement import SettlementOutcome, settle_finished_run
from observatory_pipelines.logs import get_logger

if TYPE_CHECKING:
    from observatory_pipelines.credits.ledger import CreditLedger

log = get_logger(__name__)

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
        rows = conn.execute(text(load_sql("open_runs"))).all()
    stale = []
    for row in rows:
        ids = tuple(sorted(row.dagster_run_ids or ()))
        try:
            statuses = {i: dagster_status(i) for i in ids}
        except Exception as exc:  # unsure whether it is alive: leave it for the next tick
            log.warning(
                "credits.stale_check_failed",
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


def heal_stale_run(ledger: CreditLedger, stale: StaleRun) -> HealedRun | None:
    """Fail the run and its unfinished tasks, then settle it; None if it finished meanwhile."""
    with ledger.engine.begin() as conn:
        counts = conn.execute(
            text(load_sql("fail_stale_run")),
            {
                "run_id": stale.collection_run_id,
                "reason": stale.reason,
                "task_reason": f"not finished: {stale.reason}",
            },
        ).one()
    if not counts.runs:
        log.info(
            "credits.stale_run_finished_meanwhile", collection_run_id=str(stale.collection_run_id)
        )
        return None
    log.warning(
        "credits.stale_run_failed",
        collection_run_id=str(stale.collection_run_id),
        tasks_failed=counts.tasks,
        reason=stale.reason,
    )
    healed = HealedRun(stale.collection_run_id, stale.reason, int(counts.tasks))
    healed.settlement = settle_finished_run(ledger, stale.collection_run_id)
    return healed
