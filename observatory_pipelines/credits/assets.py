"""Dagster edge of the credit ledger: the balances asset, its blocking check, and the hourly
audit job that runs both (the sweep that settles runs is collection's: collection/assets.py)."""

from datetime import timedelta

import dagster as dg

from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.resources.postgres import PostgresResource
from observatory_pipelines.resources.schedules import utc_schedule

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
    blocking=True,  # a failed check fails its run: a ledger at risk shows red, and alerts
    description="No negative available balance, no settlement or release without a reservation, "
    "no finished run's reservation open for over a day.",
)
def credit_ledger_consistent(postgres: PostgresResource) -> dg.AssetCheckResult:
    ledger = CreditLedger(postgres.engine())
    negative = [b for b in ledger.all_balances() if b["available"] < 0]
    stale = ledger.unsettled_finished_runs(older_than=UNSETTLED_GRACE)
    orphans = ledger.orphan_rows()
    problems = []
    if negative:
        problems.append(f"{len(negative)} users with a negative available balance")
    if orphans:
        problems.append(f"{len(orphans)} ledger keys settled or released without a reservation")
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
            "orphan_keys": len(orphans),
            "orphan_key_names": ", ".join(f"{r} {a}/{p}" for r, a, p in orphans[:20]),
        },
    )


credit_ledger_audit = dg.define_asset_job(
    "credit_ledger_audit",
    selection=[credit_balances],  # with its checks: the run fails when the ledger is not sound
    description="Materialize credit_balances and run the blocking credit_ledger_consistent "
    "check; a failed check fails the run.",
    tags={
        "dagster/max_runtime": "900",
        "dagster/max_retries": "1",
        "dagster/retry_on_asset_or_op_failure": "false",  # a failed check is the answer
    },
)

credit_ledger_audit_schedule = utc_schedule(
    "credit_ledger_audit_schedule",
    credit_ledger_audit,
    "30 * * * *",
    "Hourly at :30: balances and the blocking ledger-consistency check.",
)

defs = dg.Definitions(
    assets=[credit_balances],
    asset_checks=[credit_ledger_consistent],
    jobs=[credit_ledger_audit],
    schedules=[credit_ledger_audit_schedule],
)
