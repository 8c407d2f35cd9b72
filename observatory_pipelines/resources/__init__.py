"""Dagster resources: Postgres, the object store and the IO manager over it.

Importing this package routes the project's structlog events into the Dagster run
log of the step that emits them (plain modules log without knowing about Dagster).
"""

import dagster as dg

from observatory_pipelines.logs import route_to_run_log


def _current_step_log():
    try:
        return dg.OpExecutionContext.get().log
    except Exception:
        return None


route_to_run_log(_current_step_log)
