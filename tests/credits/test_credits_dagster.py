"""The credits domain's asset, check, job and schedule, materialized in process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from observatory_pipelines.credits import assets as credit_assets
from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.credits.ledger import CreditLedger


def _materialize(postgres):
    return dg.materialize(
        [credit_assets.credit_balances, credit_assets.credit_ledger_consistent],
        resources={"postgres": postgres},
        raise_on_error=True,
    )


def test_credit_balances_table_and_passing_check(postgres, make_user, make_run):
    ledger = CreditLedger(postgres.engine())
    rich = make_user(credits=1000, name="rich")
    make_user(credits=None, name="empty")
    run = make_run(rich)
    ledger.reserve(LedgerKey(rich, run, "social_media", "youtube", "medium"), 100)
    ledger.settle(LedgerKey(rich, run, "social_media", "youtube", "medium"), 60)

    result = _materialize(postgres)
    assert result.success
    materialization = result.asset_materializations_for_node("credit_balances")[0]
    metadata = materialization.metadata
    assert metadata["users"].value == 2
    assert metadata["negative_balances"].value == 0
    table = metadata["balances"].value
    assert [c.name for c in table.schema.columns] == [
        "user_id",
        "display_name",
        "allocated",
        "reserved",
        "settled",
        "refunded",
        "available",
    ]
    rows = {r.data["display_name"]: r.data for r in table.records}
    assert rows["rich"] == {
        "user_id": str(rich),
        "display_name": "rich",
        "allocated": 1000,
        "reserved": 100,
        "settled": 60,
        "refunded": 100,
        "available": 940,
    }
    assert rows["empty"]["available"] == 0
    (check,) = result.get_asset_check_evaluations()
    assert check.passed


def _insert_row(engine, user, run, kind: str, credits: int, platform: str = "youtube") -> None:
    """A ledger row written behind the API's back (a bad migration, a hand edit)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO credit_transactions (user_id, collection_run_id, arena, platform,"
                " tier, credits_consumed, transaction_type) VALUES"
                " (:u, :r, 'social_media', :p, 'medium', :c, :k)"
            ),
            {"u": user, "r": run, "p": platform, "c": credits, "k": kind},
        )


def _audit(postgres):
    """The scheduled audit job, as the schedule launches it, in process."""
    defs = dg.Definitions.merge(
        dg.Definitions(resources={"postgres": postgres}), credit_assets.defs
    )
    with dg.instance_for_test() as instance:
        return defs.resolve_job_def("credit_ledger_audit").execute_in_process(
            instance=instance, raise_on_error=False
        )


def test_inconsistent_ledger_fails_the_audit_run(postgres, make_user, make_run):
    engine = postgres.engine()
    user = make_user(credits=10, name="overspent")
    run = make_run(user)
    _insert_row(engine, user, run, "settlement", 5000)  # settled, never reserved
    stale = make_run(user, status="failed", completed_at=datetime.now(UTC) - timedelta(days=2))
    other = make_user(credits=100, name="other")
    CreditLedger(engine).reserve(LedgerKey(other, stale, "social_media", "youtube", "medium"), 5)

    result = _audit(postgres)

    assert not result.success  # the run is red, not a green run with a failed check
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["negative_balances"].value == 1
    assert check.metadata["orphan_keys"].value == 1
    assert check.metadata["orphan_key_names"].value == f"{run} social_media/youtube"
    assert check.metadata["stale_unsettled_runs"].value == 1
    assert check.metadata["stale_run_ids"].value == str(stale)


def test_consistent_ledger_passes_the_audit_run(postgres, make_user, make_run):
    user = make_user(credits=100)
    run = make_run(user)
    key = LedgerKey(user, run, "social_media", "youtube", "medium")
    CreditLedger(postgres.engine()).reserve(key, 10)
    CreditLedger(postgres.engine()).settle(key, 80)  # capped, recorded: still consistent
    result = _audit(postgres)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed


def test_audit_is_scheduled_and_running_by_default():
    schedule = credit_assets.credit_ledger_audit_schedule
    assert schedule.job_name == "credit_ledger_audit"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert credit_assets.credit_ledger_consistent.check_specs_by_output_name
    (spec,) = credit_assets.credit_ledger_consistent.check_specs
    assert spec.blocking


def test_domain_definitions_resolve_with_the_postgres_resource(postgres):
    defs = dg.Definitions.merge(
        dg.Definitions(resources={"postgres": postgres}), credit_assets.defs
    )
    defs.validate_loadable(defs)
    assert defs.resolve_job_def("credit_ledger_audit") is not None
    assert defs.resolve_schedule_def("credit_ledger_audit_schedule") is not None
    assert defs.resolve_assets_def("credit_balances") is not None
