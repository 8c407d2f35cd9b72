"""Settling runs that finished without settling (a crash between "finished" and "settled").

A finished run's open reservations are closed from what ``collection_runs`` and
``collection_tasks`` recorded:

- run ``failed`` or ``cancelled``: every open reservation is refunded in full;
- run ``completed``: an arena whose task did not complete (failed, cancelled,
  missing) is refunded; the completed arenas are charged what the run spent
  and has not yet settled (``credits_spent`` minus settlements already written),
  split across them in proportion to their reservations.

Every close goes through the ledger, so running this twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from observatory_pipelines.credits.common import as_uuid, load_sql
from observatory_pipelines.db.models import CollectionRun, CollectionTask, CreditTransaction
from observatory_pipelines.logs import get_logger

if TYPE_CHECKING:
    from observatory_pipelines.credits.ledger import CreditLedger

log = get_logger(__name__)

CHARGED_STATUSES = ("completed",)
REFUNDED_STATUSES = ("failed", "cancelled")
FINISHED_STATUSES = CHARGED_STATUSES + REFUNDED_STATUSES


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


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (evenly if all zero), summing exactly."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    # Largest remainders get the leftover units; ties go to the earlier key (stable order).
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def settle_finished_run(ledger: CreditLedger, collection_run_id: Any) -> SettlementOutcome:
    run_id = as_uuid(collection_run_id, "collection_run_id")
    with ledger.engine.connect() as conn:
        run = conn.execute(
            select(CollectionRun.status, CollectionRun.credits_spent).where(
                CollectionRun.id == run_id
            )
        ).first()
        if run is None:
            raise ValueError(f"collection run {run_id} does not exist")
        if run.status not in FINISHED_STATUSES:
            raise ValueError(f"collection run {run_id} is not finished (status {run.status!r})")
        open_rows = conn.execute(text(load_sql("open_reservations")), {"run_id": run_id}).all()
        completed_keys = {
            (t.arena, t.platform)
            for t in conn.execute(
                select(CollectionTask.arena, CollectionTask.platform).where(
                    CollectionTask.collection_run_id == run_id,
                    CollectionTask.status == "completed",
                )
            )
        }
        already_settled = conn.scalar(
            select(func.coalesce(func.sum(CreditTransaction.credits_consumed), 0)).where(
                CreditTransaction.collection_run_id == run_id,
                CreditTransaction.transaction_type == "settlement",
            )
        )

    outcome = SettlementOutcome(collection_run_id=run_id, status=run.status)
    charged = [
        r
        for r in open_rows
        if run.status in CHARGED_STATUSES and (r.arena, r.platform) in completed_keys
    ]
    remainder = max(int(run.credits_spent or 0) - int(already_settled), 0)
    for row, actual in zip(charged, _split(remainder, [r.reserved for r in charged]), strict=True):
        ledger.settle(row.user_id, run_id, row.arena, row.platform, row.tier, actual)
        outcome.settled[f"{row.arena}/{row.platform}"] = actual
    for row in open_rows:
        if row not in charged:
            ledger.refund(row.user_id, run_id, row.arena, row.platform, row.tier)
            outcome.refunded[f"{row.arena}/{row.platform}"] = row.reserved
    log.info(
        "credits.run_settled",
        collection_run_id=str(run_id),
        status=run.status,
        settled=sum(outcome.settled.values()),
        refunded=sum(outcome.refunded.values()),
    )
    return outcome
