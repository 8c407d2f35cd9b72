"""Dagster edge of the credit ledger: the balances asset, its check, and the settlement job."""

from datetime import timedelta

import dagster as dg

from observatory_pipelines.credits.ledger import CreditLedger
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


@dg.op(description="Settle or refund every finished run whose reservations are still open.")
def settle_finished_runs_op(context: dg.OpExecutionContext, postgres: PostgresResource) -> dict:
    ledger = CreditLedger(postgres.engine())
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
    }
    context.log.info(f"settlement: {summary}")
    context.add_output_metadata({**summary, "failed_run_ids": ", ".join(failures[:20])})
    # Failed runs stay open: the next tick retries them, and the balance check reports
    # any that stay unsettled for more than a day.
    return summary


@dg.job(description="Close the open credit reservations of finished collection runs.")
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
