"""The stop's last resort: a collection run whose worker was killed before it could record
anything is failed and refunded by ``make run``'s supervisor — only the runs of the Dagster
runs it stopped, through the sweep's heal. Real Postgres (the test database)."""

from __future__ import annotations

import json
import signal
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from observatory_pipelines.collection import run_states
from observatory_pipelines.collection.plan import load_design
from observatory_pipelines.collection.runs import create_run
from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.local_run import LocalRun

FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 8, tzinfo=UTC)


def _running_collection(db, dagster_run_id: str, credits: int) -> tuple[str, str]:
    """A run as a worker leaves it when killed mid-collection: running, its task running,
    ``credits`` reserved. Returns (collection run id, owner id)."""
    with db.begin() as conn:
        owner = str(
            conn.execute(
                text("INSERT INTO users (email, is_active) VALUES (:e, true) RETURNING id"),
                {"e": f"{uuid.uuid4().hex[:8]}@example.org"},
            ).scalar_one()
        )
        conn.execute(
            text(
                "INSERT INTO credit_allocations (user_id, credits_amount, valid_from)"
                " VALUES (:u, 1000, :d)"
            ),
            {"u": owner, "d": date.today() - timedelta(days=1)},
        )
        config = {"mode": "batch", "arenas": {"youtube": {"tier": "medium"}}}
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config)"
                " VALUES (:o, 'stopped', CAST(:c AS jsonb)) RETURNING id"
            ),
            {"o": owner, "c": json.dumps(config)},
        ).scalar_one()
    run_id = create_run(db, load_design(db, design), FROM, TO, dagster_run_id=dagster_run_id)
    with db.connect() as conn:
        (task_id,) = conn.execute(
            text("SELECT id FROM collection_tasks WHERE collection_run_id = :r"), {"r": run_id}
        ).scalars()
    CreditLedger(db).reserve(LedgerKey(owner, run_id, "social_media", "youtube", "medium"), credits)
    assert run_states.start_run(db, run_id, credits)
    assert run_states.start_task(db, task_id, dagster_run_id)
    return run_id, owner


def test_runs_of_the_stopped_dagster_runs_are_failed_and_refunded_and_no_other(db, tmp_path):
    stopped, elsewhere = f"stopped-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
    stopped_run, stopped_owner = _running_collection(db, stopped, credits=40)
    other_run, other_owner = _running_collection(db, elsewhere, credits=25)
    ledger = CreditLedger(db)

    supervisor = LocalRun("127.0.0.1", 0, 1.0, Path(tmp_path))
    supervisor.in_flight = {stopped}
    supervisor.signal_received = signal.SIGTERM
    assert supervisor._heal_interrupted_runs() == 1

    with db.connect() as conn:
        run = conn.execute(
            text("SELECT status, error_log FROM collection_runs WHERE id = :r"), {"r": stopped_run}
        ).one()
        tasks = conn.execute(
            text("SELECT status FROM collection_tasks WHERE collection_run_id = :r"),
            {"r": stopped_run},
        ).scalars()
        assert set(tasks) == {"failed"}
    assert run.status == "failed"
    assert run.error_log.startswith(
        f"interrupted: make run was stopped (SIGTERM) while Dagster run {stopped}"
    )
    assert ledger.open_reservations(stopped_run) == []
    assert ledger.get_balance(stopped_owner).available == 1000

    # A run of a Dagster run this make run did not stop is not its to judge.
    assert run_states.run_status(db, other_run) == "running"
    assert len(ledger.open_reservations(other_run)) == 1
    assert ledger.get_balance(other_owner).available == 1000 - 25
    assert supervisor._heal_interrupted_runs() == 0  # healed once; nothing left to do
