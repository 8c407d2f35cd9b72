"""Calendar months as partition ranges: UTC month starts, half-open [start, next start)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_start(value: date | datetime) -> date:
    """The first day of the UTC month containing ``value`` (aware datetimes are converted)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        value = value.date()
    return value.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, stop: date) -> Iterator[date]:
    """Month starts from ``start`` (inclusive) to ``stop`` (exclusive)."""
    month = month_start(start)
    while month < stop:
        yield month
        month = add_months(month, 1)


def utc_literal(month: date) -> str:
    """A timestamptz literal with an explicit offset, so the session TimeZone cannot shift it."""
    return f"{month.isoformat()} 00:00:00+00"


def utc_instant(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(parent: str, month: date) -> str:
    return f"{parent}_{month:%Y_%m}"


def parse_month(raw: str) -> date:
    """``YYYY-MM`` as its first day; anything else is a clear error."""
    match = _MONTH.match(raw.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"expected a month as YYYY-MM, got {raw!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def utc_today() -> date:
    return datetime.now(UTC).date()
