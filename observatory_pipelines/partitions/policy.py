"""What maintenance should do, decided without touching the database: policy, plan, status.

Pure functions of a ``Layout`` (read by ``catalog``), today's UTC date and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from observatory_pipelines import settings
from observatory_pipelines.partitions.catalog import Layout, Partition
from observatory_pipelines.partitions.months import (
    add_months,
    month_start,
    months_between,
    parse_month,
    utc_instant,
)


def _oldest_month_setting() -> date:
    try:
        return parse_month(settings.partition_oldest_month())
    except ValueError as exc:
        raise ValueError(f"PARTITION_OLDEST_MONTH: {exc}") from None


@dataclass(frozen=True)
class Policy:
    premake_months: int = 3
    retention_months: int | None = None
    retention_drop: bool = False
    oldest_month: date = date(2000, 1, 1)

    def __post_init__(self) -> None:
        if self.premake_months < 1:
            raise ValueError(
                f"PARTITION_PREMAKE_MONTHS must be at least 1, got {self.premake_months}"
            )
        if self.retention_months is not None and self.retention_months < 1:
            raise ValueError(
                f"PARTITION_RETENTION_MONTHS must be at least 1 when set, got {self.retention_months}"
            )

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            premake_months=settings.partition_premake_months(),
            retention_months=settings.partition_retention_months(),
            retention_drop=settings.partition_retention_drop(),
            oldest_month=_oldest_month_setting(),
        )

    def horizon(self, today: date) -> date:
        """First month NOT to create: the current month plus ``premake`` more are covered."""
        return add_months(month_start(today), self.premake_months + 1)

    def retention_cutoff(self, today: date) -> date | None:
        """Partitions ending on or before this month start are retired."""
        if self.retention_months is None:
            return None
        return add_months(month_start(today), -self.retention_months)

    def floor(self, today: date) -> date:
        """First month maintenance may create."""
        cutoff = self.retention_cutoff(today)
        return self.oldest_month if cutoff is None else max(self.oldest_month, cutoff)


@dataclass(frozen=True)
class Plan:
    create: list[date]
    retire: list[Partition]


@dataclass
class Status:
    """What the asset shows and the check judges."""

    today: date
    floor: date
    horizon: date
    layout: Layout

    @property
    def months_ahead(self) -> int:
        return self.layout.months_ahead(self.today)

    @property
    def missing_months(self) -> list[date]:
        """Months from the current one up to ``premake`` ahead that no partition covers."""
        return [
            m
            for m in months_between(month_start(self.today), self.horizon)
            if not self.layout.month_covered(m)
        ]

    @property
    def default_rows(self) -> int:
        return self.layout.default_rows

    @property
    def default_rows_misplaced(self) -> int:
        """Default rows whose month maintenance should create (or has created)."""
        return self.layout.default_rows_between(self.floor, self.horizon)

    @property
    def default_rows_before_floor(self) -> int:
        return self.layout.default_rows_between(date.min, self.floor)

    @property
    def default_rows_beyond_horizon(self) -> int:
        return self.layout.default_rows_between(self.horizon, date.max)


def plan(layout: Layout, today: date, policy: Policy) -> Plan:
    floor, horizon = policy.floor(today), policy.horizon(today)
    starts = [month_start(today)]
    starts += [month_start(p.range_from) for p in layout.ranged if p.range_from is not None]
    starts += [m for m, n in layout.default_rows_by_month.items() if n and floor <= m < horizon]
    first = max(min(starts), floor)
    create = [m for m in months_between(first, horizon) if not layout.month_overlapped(m)]
    return Plan(create=create, retire=_retirable(layout, today, policy))


def _retirable(layout: Layout, today: date, policy: Policy) -> list[Partition]:
    cutoff = policy.retention_cutoff(today)
    ranged = [p for p in layout.ranged if p.range_to is not None]
    if cutoff is None or not ranged:
        return []
    newest = max(ranged, key=lambda p: p.range_to)
    bound = utc_instant(cutoff)
    return [p for p in ranged if p is not newest and p.range_to <= bound]
