"""Read-only view of a partitioned table: partitions with bounds, sizes, rows, default rows.

Everything comes from the catalog (``pg_inherits`` and ``pg_get_expr(relpartbound)``),
never from partition names, so hand-made or renamed partitions are seen as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, text

from observatory_pipelines.partitions.months import add_months, month_start, utc_instant

SQL_DIR = Path(__file__).with_name("sql")


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / name).read_text()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def utc_session(conn: Connection) -> None:
    """Inside the current transaction, render and parse timestamps in UTC/ISO."""
    conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
    conn.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")


@dataclass(frozen=True)
class Partition:
    name: str
    is_default: bool
    range_from: datetime | None
    range_to: datetime | None
    size_bytes: int = 0
    rows: int | None = None

    def overlaps(self, start: datetime, stop: datetime) -> bool:
        if self.is_default:
            return False
        lower_ok = self.range_from is None or self.range_from < stop
        upper_ok = self.range_to is None or self.range_to > start
        return lower_ok and upper_ok

    def covers(self, start: datetime, stop: datetime) -> bool:
        if self.is_default:
            return False
        lower_ok = self.range_from is None or self.range_from <= start
        upper_ok = self.range_to is None or self.range_to >= stop
        return lower_ok and upper_ok


@dataclass
class Layout:
    """Partitions of the parent and where the default partition's rows sit in time."""

    parent: str
    partitions: list[Partition]
    default_rows_by_month: dict[date, int] = field(default_factory=dict)

    @property
    def default(self) -> Partition | None:
        return next((p for p in self.partitions if p.is_default), None)

    @property
    def ranged(self) -> list[Partition]:
        return [p for p in self.partitions if not p.is_default]

    @property
    def default_rows(self) -> int:
        return sum(self.default_rows_by_month.values())

    def month_overlapped(self, month: date) -> bool:
        start, stop = utc_instant(month), utc_instant(add_months(month, 1))
        return any(p.overlaps(start, stop) for p in self.ranged)

    def month_covered(self, month: date) -> bool:
        start, stop = utc_instant(month), utc_instant(add_months(month, 1))
        return any(p.covers(start, stop) for p in self.ranged)

    def months_ahead(self, today: date) -> int:
        """Consecutive whole months after the current one that already have a partition."""
        count, month = 0, add_months(month_start(today), 1)
        while self.month_covered(month):
            count += 1
            month = add_months(month, 1)
        return count

    def default_rows_between(self, start: date, stop: date) -> int:
        return sum(n for m, n in self.default_rows_by_month.items() if start <= m < stop)


def _as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def list_partitions(conn: Connection, parent: str, *, count_rows: bool = False) -> list[Partition]:
    """Ranged partitions ordered by lower bound, the default last. Exact counts when asked."""
    utc_session(conn)
    rows = conn.execute(text(load_sql("list_partitions.sql")), {"parent": parent}).all()
    partitions = []
    for row in rows:
        counted = None
        if count_rows:
            counted = conn.execute(
                text(f"SELECT count(*) FROM {quote_ident(row.name)}")
            ).scalar_one()
        partitions.append(
            Partition(
                name=row.name,
                is_default=bool(row.is_default),
                range_from=_as_utc(row.range_from),
                range_to=_as_utc(row.range_to),
                size_bytes=int(row.size_bytes or 0),
                rows=counted,
            )
        )
    return partitions


def default_rows_by_month(conn: Connection, default_name: str) -> dict[date, int]:
    sql = load_sql("default_months.sql").format(default=quote_ident(default_name))
    return {month_start(row.month): int(row.rows) for row in conn.execute(text(sql))}


def parent_columns(conn: Connection, parent: str) -> list[str]:
    columns = list(conn.execute(text(load_sql("parent_columns.sql")), {"parent": parent}).scalars())
    if not columns:
        raise LookupError(f"table {parent!r} not found in the current schema")
    return columns


def read_layout(conn: Connection, parent: str, *, count_rows: bool = False) -> Layout:
    """The layout as seen inside the caller's transaction."""
    partitions = list_partitions(conn, parent, count_rows=count_rows)
    if not partitions and not parent_columns(conn, parent):
        raise LookupError(f"table {parent!r} not found")
    layout = Layout(parent=parent, partitions=partitions)
    if layout.default is not None:
        layout.default_rows_by_month = default_rows_by_month(conn, layout.default.name)
    return layout
