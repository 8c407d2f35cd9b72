"""Dagster edge of the credit ledger: the balances asset, its check, and the settlement job."""

from datetime import timedelta

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.credits.recovery import find_stale_runs, heal_stale_run
from observatory_pipelines.resources.postgres import PostgresResource

# Rows shown in the UI table; the most at-risk balances come first, totals cover everyone.
BALANCE_TABLE_ROWS = 500
UNSETTLED_GRACE = timedelta(days=1)

_BALANCE_COLUMNS = [
    ("user_id", "string"),
    ("display_name", "string"),
    ("allocated", "int"),
    ("reserved", "int"),
    ("settled", "int"),
    ("refunded", "int"),
    ("available", "int"),
]


def _table_row(balance: dict) -> dict:
    return {
        name: (int(balance[name]) if kind == "int" else str(balance[name] or ""))
        for name, kind in _BALANCE_COLUMNS
    }


@dg.asset(
    group_name="credits",
    description="Per-user credit balances today (UTC): allocated, reserved, settled, refunded, available.",
)
def credit_balances(context: dg.AssetExecutionContext, postgres: PostgresResource) -> None:
    balances = CreditLedger(postgres.engine()).all_balances()
    shown = balances[:BALANCE_TABLE_ROWS]
    negative = sum(1 for b in balances if b["available"] < 0)
    context.log.info(f"{len(balances)} users; {negative} with a negative available balance")
    context.add_output_metadata(
        {
            "users": len(balances),
            "negative_balances": negative,
            "total_available": sum(int(b["available"]) for b in balances),
            "total_reserved": sum(int(b["reserved"]) for b in balances),
            "rows_shown": len(shown),
            "balances": dg.TableMetadataValue(
                records=[dg.TableRecord(_table_row(b)) for b in shown],
                schema=dg.TableSchema(
                    columns=[dg.TableColumn(name, kind) for name, kind in _BALANCE_COLUMNS]
                ),
            ),
        }
    )


@dg.asset_check(
    asset=credit_balances,
    description="No negative available balance; no finished run's reservation open for over a day.",
)
def credit_ledger_consistent(postgres: PostgresResource) -> dg.AssetCheckResult:
    ledger = CreditLedger(postgres.engine())
    negative = [b for b in ledger.all_balances() if b["available"] < 0]
    stale = ledger.unsettled_finished_runs(older_than=UNSETTLED_GRACE)
    problems = []
    if negative:
        problems.append(f"{len(negative)} users with a negative available balance")
    if stale:
        problems.append(f"{len(stale)} finished runs unsettled for more than a day")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "balances non-negative, finished runs settled",
        metadata={
            "negative_balances": len(negative),
            "negative_user_ids": ", ".join(str(b["user_id"]) for b in negative[:20]),
            "stale_unsettled_runs": len(stale),
            "stale_run_ids": ", ".join(str(r.collection_run_id) for r in stale[:20]),
        },
    )


def _dagster_status(instance: dg.DagsterInstance):
    def status(run_id: str) -> str | None:
        run = instance.get_run_by_id(run_id)
        return run.status.value if run is not None else None

    return status


def _heal_dead_runs(context: dg.OpExecutionContext, ledger: CreditLedger) -> dict:
    """Fail and settle runs whose worker died; one that cannot be healed waits for the next tick."""
    grace = timedelta(hours=settings.collection_stale_run_hours())
    stale = find_stale_runs(ledger, _dagster_status(context.instance), grace)
    healed: list[str] = []
    failures: list[str] = []
    charged = released = 0
    for run in stale:
        try:
            outcome = heal_stale_run(ledger, run)
        except Exception as exc:
            failures.append(str(run.collection_run_id))
            context.log.error(
                f"healing run {run.collection_run_id} failed: {type(exc).__name__}: {exc}"
            )
            continue
        if outcome is None:
            continue
        healed.append(str(run.collection_run_id))
        context.log.warning(f"collection run {run.collection_run_id}: {run.reason}")
        if outcome.settlement is not None:
            charged += sum(outcome.settlement.settled.values())
            released += sum(outcome.settlement.refunded.values())
    return {
        "dead_runs_healed": len(healed),
        "dead_runs_failed": len(failures),
        "dead_credits_charged": charged,
        "dead_credits_released": released,
        "dead_run_ids": healed,
    }


@dg.op(
    description="Fail runs whose worker died (their Dagster run ended, or is unknown and idle "
    "past COLLECTION_STALE_RUN_HOURS), then settle or refund every finished run whose "
    "reservations are still open."
)
def settle_finished_runs_op(context: dg.OpExecutionContext, postgres: PostgresResource) -> dict:
    ledger = CreditLedger(postgres.engine())
    dead = _heal_dead_runs(context, ledger)
    runs = ledger.unsettled_finished_runs()
    settled = refunded = 0
    failures: list[str] = []
    for run in runs:
        # One broken run must not keep the others unsettled.
        try:
            outcome = ledger.settle_finished_run(run.collection_run_id)
        except Exception as exc:
            failures.append(str(run.collection_run_id))
            context.log.error(
                f"settling run {run.collection_run_id} failed: {type(exc).__name__}: {exc}"
            )
            continue
        settled += sum(outcome.settled.values())
        refunded += sum(outcome.refunded.values())
    summary = {
        "runs_found": len(runs),
        "runs_settled": len(runs) - len(failures),
        "runs_failed": len(failures),
        "credits_charged": settled,
        "credits_released": refunded,
        **{k: v for k, v in dead.items() if k != "dead_run_ids"},
    }
    context.log.info(f"settlement: {summary}")
    context.add_output_metadata(
        {
            **summary,
            "failed_run_ids": ", ".join(failures[:20]),
            "dead_run_ids": ", ".join(dead["dead_run_ids"][:20]),
        }
    )
    # Failed runs stay open: the next tick retries them, and the balance check reports
    # any that stay unsettled for more than a day.
    return summary


@dg.job(
    description="Fail collection runs whose worker died and close the open credit "
    "reservations of finished runs."
)
def settle_finished_runs():
    settle_finished_runs_op()


settle_finished_runs_schedule = dg.ScheduleDefinition(
    name="settle_finished_runs_schedule",
    job=settle_finished_runs,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[credit_balances],
    asset_checks=[credit_ledger_consistent],
    jobs=[settle_finished_runs],
    schedules=[settle_finished_runs_schedule],
)
