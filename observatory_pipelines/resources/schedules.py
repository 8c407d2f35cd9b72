"""The one rule for the project's schedules: cron in UTC, running as soon as the code loads.

Every schedule that guards or maintains data is on by default (an operator should not have
to switch the nightly backup on in the UI), and every cron is read in UTC, as every
database session is.
"""

import dagster as dg


def utc_schedule(
    name: str, job, cron: str, description: str | None = None, *, variable: str | None = None
) -> dg.ScheduleDefinition:
    """A RUNNING schedule of ``job`` on ``cron`` (UTC).

    ``variable`` names the environment variable ``cron`` came from, so a bad value is
    reported by the name the operator set.
    """
    try:
        return dg.ScheduleDefinition(
            name=name,
            job=job,
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=description,
        )
    except Exception as exc:
        if variable is None:
            raise
        raise ValueError(f"{variable}={cron!r} is not a valid cron schedule: {exc}") from None
