"""Settling runs that finished without settling (a crash between "finished" and "settled").

A finished run's open reservations are closed from what ``collection_tasks``
recorded: an arena whose task ``completed`` is charged that task's own
``credits_spent`` (written before the worker told the ledger, so a crash in
between is healed exactly); every other arena (failed, cancelled, never started,
no task row) is refunded in full. This holds whatever the run's final status: a
run that failed after some arenas completed keeps those arenas' charges, as the
worker itself does when it aborts.

Every close goes through the ledger, so running this twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from observatory_pipelines.credits.common import as_uuid, load_sql
from observatory_pipelines.db.models import CollectionRun, CollectionTask
from observatory_pipelines.logs import get_logger

if TYPE_CHECKING:
    from observatory_pipelines.credits.ledger import CreditLedger

log = get_logger(__name__)

FINISHED_STATUSES = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class UnsettledRun:
    collection_run_id: uuid.UUID
    status: str
    initiated_by: uuid.UUID
    finished_at: datetime | None
    open_reservations: int
    open_credits: int


@dataclass
class SettlementOutcome:
    collection_run_id: uuid.UUID
    status: str
    settled: dict[str, int] = field(default_factory=dict)  # "arena/platform" -> credits charged
    refunded: dict[str, int] = field(default_factory=dict)  # "arena/platform" -> credits released


def unsettled_finished_runs(ledger: CreditLedger, older_than: Any = None) -> list[UnsettledRun]:
    """Finished runs with open reservations; ``older_than`` (timedelta) keeps only older ones."""
    cutoff = None
    if older_than is not None:
        if not isinstance(older_than, timedelta):
            raise ValueError(f"older_than must be a timedelta, got {older_than!r}")
        cutoff = ledger.now() - older_than
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            text(load_sql("unsettled_runs")),
            {"statuses": list(FINISHED_STATUSES), "cutoff": cutoff},
        )
        return [UnsettledRun(**r._mapping) for r in rows]


def settle_finished_run(ledger: CreditLedger, collection_run_id: Any) -> SettlementOutcome:
    run_id = as_uuid(collection_run_id, "collection_run_id")
    with ledger.engine.connect() as conn:
        status = conn.scalar(select(CollectionRun.status).where(CollectionRun.id == run_id))
        if status is None:
            raise ValueError(f"collection run {run_id} does not exist")
        if status not in FINISHED_STATUSES:
            raise ValueError(f"collection run {run_id} is not finished (status {status!r})")
        open_rows = conn.execute(text(load_sql("open_reservations")), {"run_id": run_id}).all()
        costs = {
            (t.arena, t.platform): int(t.credits_spent)
            for t in conn.execute(
                select(
                    CollectionTask.arena, CollectionTask.platform, CollectionTask.credits_spent
                ).where(
                    CollectionTask.collection_run_id == run_id,
                    CollectionTask.status == "completed",
                )
            )
        }

    outcome = SettlementOutcome(collection_run_id=run_id, status=status)
    for row in open_rows:
        key = f"{row.arena}/{row.platform}"
        cost = costs.get((row.arena, row.platform))
        if cost is None:
            ledger.refund(row.user_id, run_id, row.arena, row.platform, row.tier)
            outcome.refunded[key] = row.reserved
        else:
            ledger.settle(row.user_id, run_id, row.arena, row.platform, row.tier, cost)
            outcome.settled[key] = cost
    log.info(
        "credits.run_settled",
        collection_run_id=str(run_id),
        status=status,
        settled=sum(outcome.settled.values()),
        refunded=sum(outcome.refunded.values()),
    )
    return outcome
