"""Collection run lifecycle: pending → running → completed / failed, with credits around it.

Credits: every arena's estimate is reserved before anything runs (one refusal
cancels the run before it starts, releasing what was already held); a task that
completes is settled at its real cost (``credits_for`` of the units its collector
spent), a task that fails is refunded in full. A run completes when at least one
of its tasks completed; the failed ones keep their error messages.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines import settings
from observatory_pipelines.collection.credential_pool import CredentialPool
from observatory_pipelines.collection.plan import DesignSpec, design_actors, load_design
from observatory_pipelines.collection.sources import with_sources
from observatory_pipelines.collection.tasks import (
    CollectorFactory,
    TaskFailed,
    TaskRunner,
    TaskSpec,
)
from observatory_pipelines.costs import credits_for
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectStore

log = get_logger(__name__)
_SQL = Path(__file__).parent / "sql"
SQL = {
    name: (_SQL / f"{name}.sql").read_text() for name in ("run_insert", "run_load", "run_finish")
}


@dataclass
class ArenaReport:
    platform: str
    arena: str
    tier: str
    status: str = "pending"
    records_collected: int = 0
    duplicates_skipped: int = 0
    records_rejected: int = 0
    records_repaired: int = 0
    credits_estimated: int = 0
    credits_spent: int = 0
    units_spent: int = 0
    error: str | None = None


@dataclass
class RunReport:
    run_id: str
    status: str
    mode: str
    date_from: datetime
    date_to: datetime
    arenas: list[ArenaReport] = field(default_factory=list)
    error: str | None = None

    @property
    def records_collected(self) -> int:
        return sum(a.records_collected for a in self.arenas)

    @property
    def credits_spent(self) -> int:
        return sum(a.credits_spent for a in self.arenas)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_collected": self.records_collected}


def _collector_class(platform: str):
    from observatory_pipelines.arenas import registry

    try:
        return registry.get_collector_class(platform)
    except KeyError:
        return None


def _default_factory(platform: str, **kwargs: Any):
    from observatory_pipelines.arenas import registry

    return registry.build_collector(platform, **kwargs)


def create_run(
    engine: Engine,
    design: DesignSpec,
    date_from: datetime,
    date_to: datetime,
    *,
    mode: str | None = None,
    dagster_run_id: str | None = None,
) -> str:
    """A pending run with one pending task per enabled arena of the design."""
    tasks = []
    for platform, options in design.arenas.items():
        cls = _collector_class(platform)
        arena = (cls.arena if cls else None) or str(options.get("arena") or "unknown")
        tasks.append({"platform": platform, "arena": arena})
    with engine.begin() as conn:
        run_id = conn.execute(
            text(SQL["run_insert"]),
            {
                "design": design.id,
                "owner": design.owner_id,
                "mode": mode or design.mode,
                "tier": design.arenas_config.get("tier") or design.default_tier,
                "date_from": date_from,
                "date_to": date_to,
                "config": json.dumps(design.arenas_config),
                "tasks": json.dumps(tasks),
                "dagster_run_id": dagster_run_id,
            },
        ).scalar_one()
    log.info(
        "run.created", collection_run_id=str(run_id), query_design_id=design.id, arenas=len(tasks)
    )
    return str(run_id)


class RunExecutor:
    def __init__(
        self,
        engine: Engine,
        *,
        ledger: Any = None,
        pool: CredentialPool | None = None,
        factory: CollectorFactory | None = None,
        batch_size: int | None = None,
        object_store: ObjectStore | None = None,
    ):
        if ledger is None:
            from observatory_pipelines.credits.ledger import CreditLedger

            ledger = CreditLedger(engine)
        self.engine = engine
        self.ledger = ledger
        self.pool = pool or CredentialPool(engine)
        self.factory = factory or _default_factory
        self.object_store = object_store  # where file_import's "prefix" is listed
        self.tasks = TaskRunner(
            engine, self.factory, self.pool, batch_size or settings.ingest_batch_size()
        )

    def _set(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def execute(self, run_id: str, dagster_run_id: str | None = None) -> RunReport:
        with self.engine.connect() as conn:
            rows = conn.execute(text(SQL["run_load"]), {"id": run_id}).mappings().all()
        if not rows:
            raise ValueError(f"collection run {run_id} does not exist")
        run = rows[0]
        design = (
            load_design(self.engine, run["query_design_id"]) if run["query_design_id"] else None
        )
        config = dict(run["arenas_config"] or {})
        if design is None:
            design = DesignSpec(
                id="", owner_id=str(run["initiated_by"]), name="", is_active=True,
                default_tier=run["tier"], language="da", locale_country="dk", arenas_config=config,
            )  # fmt: skip
        design.arenas_config = config  # the run's snapshot wins over later edits of the design
        report = RunReport(
            run_id=str(run_id), status="running", mode=run["mode"],
            date_from=run["date_from"], date_to=run["date_to"],
        )  # fmt: skip
        tasks = [r for r in rows if r["task_id"] is not None]
        user = run["initiated_by"]
        for t in tasks:
            report.arenas.append(
                ArenaReport(t["platform"], t["arena"], design.tier_for(t["platform"]))
            )

        if not self._reserve(run, design, report, tasks):
            return report
        self._set(
            "UPDATE collection_runs SET status = 'running', started_at = now(),"
            " estimated_credits = :est WHERE id = CAST(:id AS uuid)",
            id=run_id, est=sum(a.credits_estimated for a in report.arenas),
        )  # fmt: skip
        log.info("run.started", collection_run_id=str(run_id), arenas=len(tasks))
        try:
            for t, arena in zip(tasks, report.arenas, strict=True):
                self._run_task(run, design, t, arena, user, dagster_run_id)
        except BaseException as exc:
            # Infrastructure failure (database gone, interrupt): no run may stay "running"
            # with credits held.
            self._abort(run, tasks, report, f"{type(exc).__name__}: {exc}")
            raise

        failed = [a for a in report.arenas if a.status == "failed"]
        report.status = "failed" if tasks and len(failed) == len(tasks) else "completed"
        errors = "\n".join(f"{a.platform}: {a.error}" for a in failed) or None
        report.error = errors
        self._set(
            SQL["run_finish"], id=run_id, status=report.status, spent=report.credits_spent,
            collected=report.records_collected, error=errors,
        )  # fmt: skip
        log.info(
            "run.finished", collection_run_id=str(run_id), status=report.status,
            records=report.records_collected, credits=report.credits_spent, failed_arenas=len(failed),
        )  # fmt: skip
        return report

    def _abort(self, run, tasks, report: RunReport, message: str) -> None:
        for t, arena in zip(tasks, report.arenas, strict=True):
            if arena.status != "completed":
                try:
                    self.ledger.refund(
                        run["initiated_by"], run["id"], t["arena"], t["platform"], arena.tier
                    )
                except Exception:
                    log.exception("run.abort_refund_failed", collection_run_id=str(run["id"]))
        try:
            self._set(
                "UPDATE collection_tasks SET status = 'failed', completed_at = now(),"
                " error_message = :msg WHERE collection_run_id = CAST(:id AS uuid)"
                " AND status IN ('pending', 'running')",
                id=str(run["id"]), msg=f"aborted: {message}"[:2000],
            )  # fmt: skip
            self._set(
                SQL["run_finish"], id=str(run["id"]), status="failed",
                spent=report.credits_spent, collected=report.records_collected, error=message[:2000],
            )  # fmt: skip
        except Exception:
            log.exception("run.abort_not_recorded", collection_run_id=str(run["id"]))

    def _reserve(self, run, design: DesignSpec, report: RunReport, tasks) -> bool:
        """Reserve every arena's estimate; on refusal release them all and fail the run."""
        from observatory_pipelines.credits.ledger import CreditReservationError

        user = run["initiated_by"]
        held: list[Any] = []
        try:
            estimates = self.ledger.estimate(
                design.arenas_config, report.date_from, report.date_to,
                terms=[t.term for t in design.terms], tier=run["tier"],
            )  # fmt: skip
            for t, arena in zip(tasks, report.arenas, strict=True):
                arena.credits_estimated = int(estimates.get(t["platform"], 0))
                self.ledger.reserve(
                    user, run["id"], t["arena"], t["platform"], arena.tier, arena.credits_estimated
                )
                held.append((t, arena))
            return True
        except (CreditReservationError, ValueError) as exc:
            message = str(exc)
        for t, arena in held:
            self.ledger.refund(user, run["id"], t["arena"], t["platform"], arena.tier)
        report.status, report.error = "failed", message
        for arena in report.arenas:
            arena.status, arena.error = "failed", f"not started: {message}"
        self._set(
            "UPDATE collection_tasks SET status = 'failed', error_message = :msg,"
            " completed_at = now() WHERE collection_run_id = CAST(:id AS uuid)",
            id=str(run["id"]), msg=f"not started: {message}",
        )  # fmt: skip
        self._set(
            SQL["run_finish"],
            id=str(run["id"]),
            status="failed",
            spent=0,
            collected=0,
            error=message,
        )
        log.warning("run.refused", collection_run_id=str(run["id"]), reason=message)
        return False

    def _run_task(
        self, run, design: DesignSpec, t, arena: ArenaReport, user, dagster_run_id
    ) -> None:
        task_id = str(t["task_id"])
        self._set(
            "UPDATE collection_tasks SET status = 'running', started_at = now(),"
            " dagster_run_id = COALESCE(:dr, dagster_run_id) WHERE id = CAST(:id AS uuid)",
            id=task_id, dr=dagster_run_id,
        )  # fmt: skip
        options = design.arenas.get(t["platform"], {})
        cls = _collector_class(t["platform"])
        try:
            if cls is None:
                raise TaskFailed(f"no collector registered for platform {t['platform']!r}", None)
            options = with_sources(t["platform"], options, self.object_store)
            spec = TaskSpec(
                task_id=task_id, run_id=str(run["id"]), query_design_id=design.id or None,
                platform=t["platform"], arena=t["arena"], tier=arena.tier,
                date_from=run["date_from"], date_to=run["date_to"], terms=design.terms,
                actors=design_actors(self.engine, design.id, t["platform"]) if design.id else [],
                options=options, language=design.language, locale_country=design.locale_country,
                rate_limit_state=dict(t["rate_limit_state"] or {}),
            )  # fmt: skip
            outcome = self.tasks.run(spec, needs_credentials=cls.needs_credentials)
        except TaskFailed as exc:
            self._fail_task(run, t, arena, user, str(exc), exc.outcome)
            return
        except Exception as exc:  # never let one arena end the run
            self._fail_task(run, t, arena, user, f"{type(exc).__name__}: {exc}", None)
            return
        arena.records_collected = outcome.inserted
        arena.duplicates_skipped = outcome.duplicates
        arena.records_rejected = outcome.rejected
        arena.records_repaired = outcome.repaired
        arena.units_spent = outcome.units_spent
        arena.credits_spent = credits_for(t["platform"], arena.tier, outcome.units_spent)
        # The task records its own cost before the ledger is told: a crash in between leaves a
        # completed task with an open reservation, which the settlement job charges exactly.
        self._set(
            "UPDATE collection_tasks SET status = 'completed', completed_at = now(),"
            " credits_spent = :spent WHERE id = CAST(:id AS uuid)",
            id=task_id, spent=arena.credits_spent,
        )  # fmt: skip
        arena.status = "completed"  # from here on an abort must not refund this arena
        self.ledger.settle(
            user, run["id"], t["arena"], t["platform"], arena.tier, arena.credits_spent
        )
        log.info(
            "task.completed", collection_run_id=str(run["id"]), platform=t["platform"],
            records=outcome.inserted, duplicates=outcome.duplicates, rejected=outcome.rejected,
            credits=arena.credits_spent,
        )  # fmt: skip

    def _fail_task(self, run, t, arena: ArenaReport, user, message: str, outcome) -> None:
        if outcome is not None:
            arena.records_collected = outcome.inserted
            arena.duplicates_skipped = outcome.duplicates
            arena.records_rejected = outcome.rejected
            arena.units_spent = outcome.units_spent
        arena.status, arena.error = "failed", message
        try:
            self.ledger.refund(user, run["id"], t["arena"], t["platform"], arena.tier)
        except Exception as exc:  # the settlement job closes it later; the task is failed anyway
            log.error("task.refund_failed", collection_run_id=str(run["id"]), error=str(exc))
        self._set(
            "UPDATE collection_tasks SET status = 'failed', completed_at = now(),"
            " error_message = :msg WHERE id = CAST(:id AS uuid)",
            id=str(t["task_id"]), msg=message,
        )  # fmt: skip
        log.warning(
            "task.failed", collection_run_id=str(run["id"]), platform=t["platform"], error=message
        )


def start_run(
    engine: Engine,
    design_id: Any,
    date_from: datetime,
    date_to: datetime,
    *,
    mode: str | None = None,
    dagster_run_id: str | None = None,
    **executor_kwargs: Any,
) -> RunReport:
    """Create and execute a run for a query design's window (the assets' entry point)."""
    design = load_design(engine, design_id)
    run_id = create_run(
        engine, design, date_from, date_to, mode=mode, dagster_run_id=dagster_run_id
    )
    return RunExecutor(engine, **executor_kwargs).execute(run_id, dagster_run_id=dagster_run_id)


def utcnow() -> datetime:
    return datetime.now(UTC)
