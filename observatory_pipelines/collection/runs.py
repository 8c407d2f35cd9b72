"""Collection run lifecycle: pending → running → completed / failed, with credits around it.

Credits: every arena's estimate is reserved before anything runs (one refusal
cancels the run before it starts, releasing what was already held); a task that
completes is settled at its real cost (``credits_for`` of the units its collector
spent); a task that fails is charged the units it spent before failing (none, for every
free arena) and the rest released. A run completes when at least one
of its tasks completed; the failed ones keep their error messages. Every status
change goes through ``run_states`` (guarded transitions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines import settings
from observatory_pipelines.collection import run_states
from observatory_pipelines.collection.credential_pool import CredentialPool
from observatory_pipelines.collection.plan import DesignSpec, design_actors, load_design
from observatory_pipelines.collection.sources import with_sources
from observatory_pipelines.collection.tasks import (
    ArenaReport,
    CollectorFactory,
    TaskFailed,
    TaskRunner,
    TaskSpec,
    failure_message,
)
from observatory_pipelines.costs import credits_for
from observatory_pipelines.credits.common import InsufficientCredits, LedgerError, LedgerKey
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectStore

log = get_logger(__name__)
_SQL = Path(__file__).parent / "sql"
SQL = {name: (_SQL / f"{name}.sql").read_text() for name in ("run_insert", "run_load")}

__all__ = ["ArenaReport", "RunReport", "RunExecutor", "create_run", "start_run"]


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
    def records_attributed(self) -> int:
        return sum(a.records_attributed for a in self.arenas)

    @property
    def credits_spent(self) -> int:
        return sum(a.credits_spent for a in self.arenas)


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
        ledger: CreditLedger | None = None,
        pool: CredentialPool | None = None,
        factory: CollectorFactory | None = None,
        batch_size: int | None = None,
        object_store: ObjectStore | None = None,
    ):
        self.engine = engine
        self.ledger = ledger or CreditLedger(engine)
        self.pool = pool or CredentialPool(engine)
        self.factory = factory or _default_factory
        self.object_store = object_store  # where file_import's "prefix" is listed
        self.tasks = TaskRunner(
            engine, self.factory, self.pool, batch_size or settings.ingest_batch_size()
        )

    @staticmethod
    def _key(run, arena: ArenaReport) -> LedgerKey:
        return LedgerKey(run["initiated_by"], run["id"], arena.arena, arena.platform, arena.tier)

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
        for t in tasks:
            report.arenas.append(
                ArenaReport(t["platform"], t["arena"], design.tier_for(t["platform"]))
            )

        if not self._reserve(run, design, report):
            return report
        if not run_states.start_run(
            self.engine, run_id, sum(a.credits_estimated for a in report.arenas)
        ):
            # Not pending any more (another worker, or the sweep): release and leave it be.
            self._release_unfinished(run, report)
            report.status = run_states.run_status(self.engine, run_id) or "failed"
            report.error = f"run {run_id} was no longer pending; nothing collected"
            return report
        log.info("run.started", collection_run_id=str(run_id), arenas=len(tasks))
        try:
            for t, arena in zip(tasks, report.arenas, strict=True):
                self._run_task(run, design, t, arena, dagster_run_id)
        except BaseException as exc:
            # Infrastructure failure (database gone, interrupt): no run may stay "running"
            # with credits held. A task whose failure could not be recorded re-raises it.
            self._abort(
                run, report, str(exc) if isinstance(exc, TaskFailed) else failure_message(exc)
            )
            raise

        failed = [a for a in report.arenas if a.status == "failed"]
        report.status = "failed" if tasks and len(failed) == len(tasks) else "completed"
        errors = "\n".join(f"{a.platform}: {a.error}" for a in failed) or None
        report.error = errors
        if not run_states.finish_run(self.engine, run_id, report.status, error=errors):
            # The sweep declared this worker dead and failed the run meanwhile; its verdict
            # (and its settlement) stand.
            report.status = run_states.run_status(self.engine, run_id) or "failed"
            report.error = "\n".join(
                filter(None, [errors, f"run {run_id} was already closed as {report.status}"])
            )
        log.info(
            "run.finished", collection_run_id=str(run_id), status=report.status,
            records=report.records_collected, attributed=report.records_attributed,
            credits=report.credits_spent, failed_arenas=len(failed),
        )  # fmt: skip
        return report

    def _release_unfinished(self, run, report: RunReport) -> None:
        for arena in report.arenas:
            if arena.status != "completed":
                try:
                    self.ledger.release(self._key(run, arena))
                except Exception:
                    log.exception("run.release_failed", collection_run_id=str(run["id"]))

    def _abort(self, run, report: RunReport, message: str) -> None:
        self._release_unfinished(run, report)
        try:
            run_states.fail_open_tasks(self.engine, run["id"], f"aborted: {message}")
            run_states.finish_run(self.engine, run["id"], "failed", error=message[:2000])
        except Exception as exc:  # the database is gone: the run's own error is raised
            log.error(
                "run.abort_not_recorded", collection_run_id=str(run["id"]), error=message,
                record_error=_first_line(exc),
            )  # fmt: skip

    def _reserve(self, run, design: DesignSpec, report: RunReport) -> bool:
        """Reserve every arena's estimate; on refusal release them all and fail the run."""
        held: list[LedgerKey] = []
        try:
            estimates = self.ledger.estimate(
                design.arenas_config, report.date_from, report.date_to,
                terms=[t.term for t in design.terms], tier=run["tier"],
            )  # fmt: skip
            for arena in report.arenas:
                arena.credits_estimated = int(estimates.get(arena.platform, 0))
            for arena in report.arenas:
                key = self._key(run, arena)
                self.ledger.reserve(key, arena.credits_estimated)
                held.append(key)
            return True
        except (LedgerError, ValueError) as exc:
            message = str(exc)
            short_of_credits = isinstance(exc, InsufficientCredits)
        for key in held:
            self.ledger.release(key)
        if short_of_credits:
            message += self._refusal_totals(run, report)
        report.status, report.error = "failed", message
        for arena in report.arenas:
            arena.status, arena.error = "failed", f"not started: {message}"
        run_states.fail_open_tasks(self.engine, run["id"], f"not started: {message}")
        run_states.finish_run(self.engine, run["id"], "failed", error=message)
        log.warning("run.refused", collection_run_id=str(run["id"]), reason=message)
        return False

    def _refusal_totals(self, run, report: RunReport) -> str:
        """The whole run's estimate and the owner's balance (reservations are per arena, so
        the ledger's "need N, available M" names one arena's share only)."""
        total = sum(a.credits_estimated for a in report.arenas)
        shares = ", ".join(
            f"{a.platform} {a.credits_estimated}" for a in report.arenas if a.credits_estimated
        )
        try:
            balance = self.ledger.get_balance(run["initiated_by"]).available
        except LedgerError:
            return f" (run estimate {total} credits: {shares})"
        return f" (run estimate {total} credits: {shares}; owner's balance {balance} credits)"

    def _run_task(self, run, design: DesignSpec, t, arena: ArenaReport, dagster_run_id) -> None:
        task_id = str(t["task_id"])
        if not run_states.start_task(self.engine, task_id, dagster_run_id):
            self._fail_task(run, t, arena, "task was no longer pending")
            return
        options = design.arenas.get(t["platform"], {})
        cls = _collector_class(t["platform"])
        try:
            if cls is None:
                raise TaskFailed(f"no collector registered for platform {t['platform']!r}")
            options = with_sources(t["platform"], options, self.object_store)
            state = self._starting_state(run, design, t, cls)
            spec = TaskSpec(
                task_id=task_id, run_id=str(run["id"]), query_design_id=design.id or None,
                platform=t["platform"], arena=t["arena"], tier=arena.tier,
                date_from=run["date_from"], date_to=run["date_to"], terms=design.terms,
                actors=design_actors(self.engine, design.id, t["platform"]) if design.id else [],
                options=options, language=design.language, locale_country=design.locale_country,
                rate_limit_state=state,
                credential_platform=cls.credential_platform,
                credential_tier=arena.tier if cls.credentials_by_tier else None,
            )  # fmt: skip
            keyless = arena.tier in cls.keyless_tiers
            self.tasks.run(
                spec, arena, needs_credentials=cls.needs_credentials and not keyless,
                optional_credentials=cls.credentials_optional and not keyless,
            )  # fmt: skip
        except TaskFailed as exc:
            if not self._fail_task(run, t, arena, str(exc)):
                raise  # the database is gone: end the run with the task's own error
            return
        except Exception as exc:  # never let one arena end the run
            if not self._fail_task(run, t, arena, failure_message(exc)):
                raise
            return
        arena.credits_spent = credits_for(t["platform"], arena.tier, arena.units_spent)
        # The task records its own cost before the ledger is told: a crash in between leaves a
        # completed task with an open reservation, which the settlement job charges exactly.
        if not run_states.complete_task(self.engine, task_id, arena.credits_spent):
            # Failed by the sweep meanwhile (and its reservation released): not charged.
            arena.credits_spent = 0
            arena.status, arena.error = "failed", "task was closed by the sweep before it ended"
            return
        arena.status = "completed"  # from here on an abort must not release this arena
        settlement = self.ledger.settle(self._key(run, arena), arena.credits_spent)
        if settlement.charged != arena.credits_spent:  # capped: the user ran out of credits
            run_states.record_charge(self.engine, task_id, settlement.charged)
        arena.credits_spent = settlement.charged
        log.info(
            "task.completed", collection_run_id=str(run["id"]), platform=t["platform"],
            records=arena.records_collected, attributed=arena.records_attributed,
            duplicates=arena.duplicates_skipped,
            rejected=arena.records_rejected, credits=arena.credits_spent,
        )  # fmt: skip

    def _starting_state(self, run, design: DesignSpec, t, cls) -> dict[str, Any]:
        """The task's saved state; for an arena with paid asynchronous work
        (``Collector.resumable_state``) that saved nothing yet, what the newest earlier task
        of the same design and platform left unfetched, so a new run resumes it instead of
        paying for it again."""
        state = dict(t["rate_limit_state"] or {})
        keys = cls.resumable_state
        if not keys or not design.id or any(key in state for key in keys):
            return state
        found = run_states.previous_task_state(
            self.engine, t["task_id"], design.id, t["platform"], keys
        )
        carried = cls.carry_over(*found) if found else {}
        if carried:
            state.update(carried)
            log.info(
                "task.state_carried_over", collection_run_id=str(run["id"]),
                platform=t["platform"], keys=sorted(carried),
            )  # fmt: skip
        return state

    def _fail_task(self, run, t, arena: ArenaReport, message: str) -> bool:
        """Charge what the task really spent, release the rest, and mark it failed with
        ``message``; False when that could not be recorded (the database is gone) — the
        caller re-raises the task's own error, never the secondary one.

        A paid arena that fails after some paid calls (a key refused on page 2) has spent
        those calls at the platform: they are settled, the rest of the reservation refunded.
        A task that spent nothing (every free arena) is released whole."""
        arena.status, arena.error = "failed", message
        arena.credits_spent = credits_for(t["platform"], arena.tier, arena.units_spent)
        log.warning(
            "task.failed", collection_run_id=str(run["id"]), platform=t["platform"],
            error=message, credits=arena.credits_spent,
        )  # fmt: skip
        try:
            if arena.credits_spent:
                arena.credits_spent = self.ledger.settle(
                    self._key(run, arena), arena.credits_spent
                ).charged
            else:
                self.ledger.release(self._key(run, arena))
        except Exception as exc:  # the settlement job closes it later; the task is failed anyway
            arena.credits_spent = 0
            log.error("task.release_failed", collection_run_id=str(run["id"]), error=str(exc))
        try:
            run_states.fail_task(self.engine, t["task_id"], message)
            if arena.credits_spent:
                run_states.record_charge(self.engine, t["task_id"], arena.credits_spent)
        except Exception as exc:
            log.error(
                "task.failure_not_recorded", collection_run_id=str(run["id"]),
                platform=t["platform"], error=message, record_error=_first_line(exc),
            )  # fmt: skip
            return False
        return True


def _first_line(exc: BaseException) -> str:
    return failure_message(exc).splitlines()[0]


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
