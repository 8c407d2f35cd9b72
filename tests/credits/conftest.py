"""Users, allocations and runs for ledger tests, inserted through the models."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.db.engine import session_scope
from observatory_pipelines.db.models import (
    CollectionRun,
    CollectionTask,
    CreditAllocation,
    QueryDesign,
    User,
)


def utc_today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture()
def ledger(db) -> CreditLedger:
    return CreditLedger(db)


@pytest.fixture()
def make_user(db):
    def make(
        credits: int | None = 1000,
        valid_from: date | None = None,
        valid_until: date | None = None,
        name: str = "researcher",
    ) -> uuid.UUID:
        with session_scope(db) as session:
            user = User(email=f"{name}-{uuid.uuid4().hex[:8]}@example.org", display_name=name)
            session.add(user)
            session.flush()
            if credits is not None:
                session.add(
                    CreditAllocation(
                        user_id=user.id,
                        credits_amount=credits,
                        valid_from=valid_from or utc_today() - timedelta(days=30),
                        valid_until=valid_until,
                    )
                )
            return user.id

    return make


@pytest.fixture()
def allocate(db):
    def add(user_id, credits: int, valid_from: date, valid_until: date | None = None) -> None:
        with session_scope(db) as session:
            session.add(
                CreditAllocation(
                    user_id=user_id,
                    credits_amount=credits,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            )

    return add


@pytest.fixture()
def make_run(db):
    def make(
        user_id,
        status: str = "running",
        credits_spent: int = 0,
        completed_at: datetime | None = None,
        tasks: list[tuple] = (),
        dagster_run_id: str | None = None,
        started_at: datetime | None = None,
    ) -> uuid.UUID:
        """A run (with a query design) and its tasks as (arena, platform, status[, credits_spent]),
        each tagged with ``dagster_run_id``."""
        with session_scope(db) as session:
            design = QueryDesign(owner_id=user_id, name="design")
            session.add(design)
            session.flush()
            run = CollectionRun(
                query_design_id=design.id,
                initiated_by=user_id,
                status=status,
                credits_spent=credits_spent,
                completed_at=completed_at,
                started_at=started_at,
            )
            session.add(run)
            session.flush()
            session.add_all(
                CollectionTask(
                    collection_run_id=run.id,
                    arena=task[0],
                    platform=task[1],
                    status=task[2],
                    credits_spent=task[3] if len(task) > 3 else 0,
                    dagster_run_id=dagster_run_id,
                )
                for task in tasks
            )
            return run.id

    return make
