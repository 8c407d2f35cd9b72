"""Date-window bounds as every domain reads them: timezone-aware UTC datetimes.

A bare date ``d`` as an end bound means "through the end of ``d``", so
``date_from=2026-03-01, date_to=2026-03-07`` is the half-open window
[2026-03-01 00:00, 2026-03-08 00:00) UTC — the same for the collection and for
the credit estimate of that collection.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any


class BoundError(ValueError):
    """A window bound that is not an ISO date or datetime."""


def as_bound(value: Any, *, end: bool) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            raise BoundError(f"not an ISO date or datetime: {value!r}") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time.min, tzinfo=UTC)
    raise BoundError(f"expected a date or datetime, got {value!r}")
