"""Events of plain modules reach the Dagster run log, and logging never raises into the work."""

from __future__ import annotations

import json

import dagster as dg

import observatory_pipelines.resources  # noqa: F401  (registers the run-log route)
from observatory_pipelines import logs
from observatory_pipelines.logs import get_logger


def test_event_logged_inside_a_step_is_in_the_run_log():
    @dg.asset
    def logs_one_event():
        get_logger("collection.test").info("fetched_page", records=7, api_key="hidden")
        return 1

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([logs_one_event], instance=instance)
        assert result.success
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    lines = [m for m in messages if "fetched_page" in m]
    assert lines, messages
    payload = json.loads(lines[0])
    assert payload["records"] == 7
    assert payload["api_key"] == "***"


def test_a_run_log_that_raises_does_not_reach_the_caller(capfd):
    class BrokenRunLog:
        def info(self, _message):
            raise RuntimeError("DagsterPostgresException: too many retries")

    broken = BrokenRunLog()
    logs.route_to_run_log(lambda: broken)
    try:
        get_logger("collection.test").info("task_failed", reason="connection refused")
    finally:
        logs._run_log_finders.remove(logs._run_log_finders[-1])
    err = capfd.readouterr().err
    assert '"reason": "connection refused"' in err
