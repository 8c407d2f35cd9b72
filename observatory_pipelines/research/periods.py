"""Calendar periods of the research analyses: ISO weeks or months in Europe/Copenhagen.

The period is an operator setting (``RESEARCH_PERIOD`` = ``week``, the default, or
``month``) rather than a launchpad field: the analysis scope's ``granularity`` is the
descriptive statistics' bucket (default ``day``), and a week-or-month choice there would
change what "day" means for them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from observatory_pipelines import settings
from observatory_pipelines.research.framework import ResearchInputError

TIME_ZONE = "Europe/Copenhagen"
ZONE = ZoneInfo(TIME_ZONE)
DEFAULT_PERIOD = "week"
STEPS = {"week": "weeks", "month": "mons"}  # Postgres interval units


def research_period() -> str:
    value = (settings.env("RESEARCH_PERIOD") or DEFAULT_PERIOD).strip().lower()
    if value not in STEPS:
        raise ResearchInputError(f"RESEARCH_PERIOD must be week or month, got {value[:40]!r}")
    return value


def start_of(day: date, period: str) -> date:
    """The Monday of ``day``'s ISO week, or the first of its month."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def shift(start: date, period: str, count: int) -> date:
    """The start of the period ``count`` periods after (negative: before) ``start``."""
    if period == "week":
        return start + timedelta(weeks=count)
    months = start.year * 12 + start.month - 1 + count
    return date(months // 12, months % 12 + 1, 1)


def label(start: date, period: str) -> str:
    """``2026-W10`` (ISO year and week) or ``2026-03``."""
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def local_day(instant: datetime) -> date:
    return instant.astimezone(ZONE).date()


def day_start(day: date) -> datetime:
    """Copenhagen midnight of ``day`` as a UTC instant (23:00 or 22:00 UTC the day before)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)
