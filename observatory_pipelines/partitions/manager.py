"""Monthly partition maintenance for ``content_records``: always ahead, nothing stranded, nothing lost.

The promises (after pg_partman, without needing the extension):

* partitions ``<parent>_YYYY_MM`` cover every UTC month from the oldest data (or earliest
  partition, whichever is older) to ``premake`` months after the current month;
* rows waiting in the default partition for a month that gets created are moved into it in
  the same transaction that attaches it (one transaction per month, counts checked);
* with a retention set, whole months older than it are detached (renamed ``*_detached``)
  or dropped, never the newest partition and never the default;
* runs are serialized by an advisory lock and plan only after taking it, so a second run
  (at once or later) finds nothing to do and succeeds.

Rows older than ``oldest_month`` (epoch-zero and other parse accidents), older than the
retention, or beyond the premake horizon are left in the default partition and reported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from observatory_pipelines.logs import get_logger
from observatory_pipelines.partitions.catalog import (
    Layout,
    Partition,
    list_partitions,
    load_sql,
    parent_columns,
    quote_ident,
    read_layout,
    utc_session,
)
from observatory_pipelines.partitions.months import (
    add_months,
    partition_name,
    utc_literal,
    utc_today,
)
from observatory_pipelines.partitions.policy import Plan, Policy, Status, plan

__all__ = [
    "MaintenanceBusy",
    "MaintenanceReport",
    "PartitionManager",
    "Plan",
    "Policy",
    "Status",
    "advisory_key",
    "plan",
]

log = get_logger(__name__)

PARENT = "content_records"
DETACHED_SUFFIX = "_detached"


class MoveMismatch(RuntimeError):
    """Rows moved differ from rows counted under the same lock: undo the month (a bug guard)."""


class MaintenanceBusy(RuntimeError):
    """Another maintenance run held the lock for longer than we were willing to wait."""


def advisory_key(parent: str) -> int:
    """A stable signed 64-bit key per parent table, shared by every process."""
    digest = hashlib.sha256(f"observatory_pipelines.partitions:{parent}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass
class MaintenanceReport:
    today: date
    created: list[str] = field(default_factory=list)
    moved_rows: dict[str, int] = field(default_factory=dict)
    detached: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    status: Status | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> dict:
        status = self.status
        return {
            "today": self.today.isoformat(),
            "created": self.created,
            "moved_rows": self.moved_rows,
            "detached": self.detached,
            "dropped": self.dropped,
            "failed": self.failed,
            "months_ahead": status.months_ahead if status else None,
            "default_rows": status.default_rows if status else None,
            "default_rows_misplaced": status.default_rows_misplaced if status else None,
        }


def _short_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


class PartitionManager:
    """Plans and applies maintenance on one partitioned table through one connection."""

    def __init__(
        self,
        engine: Engine,
        *,
        policy: Policy | None = None,
        parent: str = PARENT,
        today: date | None = None,
        lock_wait: str = "15min",
        lock_timeout: str = "60s",
    ) -> None:
        self.engine = engine
        self.policy = policy or Policy.from_settings()
        self.parent = parent
        self._today = today
        self.lock_wait = lock_wait
        self.lock_timeout = lock_timeout

    @property
    def today(self) -> date:
        return self._today or utc_today()

    def status(self, *, count_rows: bool = False) -> Status:
        with self.engine.connect() as conn, conn.begin():
            return self._status(conn, count_rows=count_rows)

    def _status(self, conn: Connection, *, count_rows: bool = False) -> Status:
        today = self.today
        return Status(
            today=today,
            floor=self.policy.floor(today),
            horizon=self.policy.horizon(today),
            layout=read_layout(conn, self.parent, count_rows=count_rows),
        )

    def run(self) -> MaintenanceReport:
        today = self.today
        report = MaintenanceReport(today=today)
        with self.engine.connect() as conn:
            self._acquire(conn)
            try:
                with conn.begin():
                    todo = plan(read_layout(conn, self.parent), today, self.policy)
                    columns = parent_columns(conn, self.parent)
                log.info(
                    "partitions.plan",
                    parent=self.parent,
                    today=today.isoformat(),
                    create=[m.isoformat() for m in todo.create],
                    retire=[p.name for p in todo.retire],
                )
                for month in todo.create:
                    self._create_month(conn, month, columns, report)
                for partition in todo.retire:
                    self._retire(conn, partition, report)
                with conn.begin():
                    report.status = self._status(conn)
            finally:
                self._release(conn)
        log.info("partitions.done", parent=self.parent, **report.summary())
        return report

    def _acquire(self, conn: Connection) -> None:
        """Session-level lock: held across the per-month transactions of this run."""
        try:
            with conn.begin():
                conn.execute(
                    text("SELECT set_config('lock_timeout', :t, true)"), {"t": self.lock_wait}
                )
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key(self.parent)})
        except DBAPIError as exc:
            raise MaintenanceBusy(
                f"another partition maintenance of {self.parent} held the lock for more than "
                f"{self.lock_wait}: {_short_error(exc)}"
            ) from None

    def _release(self, conn: Connection) -> None:
        if conn.in_transaction():
            conn.rollback()
        if conn.invalidated or conn.closed:
            return  # a lost session releases its advisory locks by itself
        with conn.begin():
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(self.parent)})

    def _begin_locked(self, conn: Connection):
        transaction = conn.begin()
        utc_session(conn)
        conn.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": self.lock_timeout})
        return transaction

    def _create_month(
        self, conn: Connection, month: date, columns: list[str], report: MaintenanceReport
    ) -> None:
        name = partition_name(self.parent, month)
        try:
            with self._begin_locked(conn):
                moved = self._build_and_attach(conn, month, name, columns)
        except (DBAPIError, MoveMismatch) as exc:
            report.failed[name] = _short_error(exc)
            log.error("partitions.create_failed", partition=name, error=report.failed[name])
            return
        if moved is None:
            return  # attached by someone else (by hand) since we planned
        report.created.append(name)
        report.moved_rows[name] = moved
        log.info("partitions.created", partition=name, moved_rows=moved)

    def _build_and_attach(
        self, conn: Connection, month: date, name: str, columns: list[str]
    ) -> int | None:
        lo, hi = utc_literal(month), utc_literal(add_months(month, 1))
        parent = quote_ident(self.parent)
        partitions = Layout(self.parent, list_partitions(conn, self.parent))
        if partitions.month_overlapped(month):
            return None
        default = partitions.default
        if default is None:
            conn.exec_driver_sql(
                f"CREATE TABLE {quote_ident(name)} PARTITION OF {parent} "
                f"FOR VALUES FROM ('{lo}') TO ('{hi}')"
            )
            return 0
        # Parent before default: the order an INSERT takes them, so ingest cannot deadlock us.
        # With the default locked no row for this month can arrive between move and attach.
        conn.exec_driver_sql(f"LOCK TABLE {parent} IN SHARE UPDATE EXCLUSIVE MODE")
        conn.exec_driver_sql(f"LOCK TABLE {quote_ident(default.name)} IN ACCESS EXCLUSIVE MODE")
        expected = conn.execute(
            text(
                f"SELECT count(*) FROM {quote_ident(default.name)} "
                "WHERE published_at >= CAST(:lo AS timestamptz) AND published_at < CAST(:hi AS timestamptz)"
            ),
            {"lo": lo, "hi": hi},
        ).scalar_one()
        fill = {
            "parent": parent,
            "default": quote_ident(default.name),
            "new": quote_ident(name),
            "bound_check": quote_ident(f"{name}_bound"),
            "columns": ", ".join(quote_ident(c) for c in columns),
            "lo": lo,
            "hi": hi,
        }
        moved = 0
        for statement in _statements(load_sql("create_month.sql")):
            result = conn.exec_driver_sql(statement.format(**fill))
            if statement.startswith("WITH moved"):
                moved = result.rowcount
        if moved != expected:
            raise MoveMismatch(f"{name}: moved {moved} rows but the default held {expected}")
        return moved

    def _retire(self, conn: Connection, partition: Partition, report: MaintenanceReport) -> None:
        parent, old = quote_ident(self.parent), quote_ident(partition.name)
        new_name = partition.name + DETACHED_SUFFIX
        try:
            with self._begin_locked(conn):
                conn.exec_driver_sql(f"LOCK TABLE {parent} IN ACCESS EXCLUSIVE MODE")
                conn.exec_driver_sql(f"ALTER TABLE {parent} DETACH PARTITION {old}")
                if self.policy.retention_drop:
                    conn.exec_driver_sql(f"DROP TABLE {old}")
                else:
                    conn.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {quote_ident(new_name)}")
        except DBAPIError as exc:
            report.failed[partition.name] = _short_error(exc)
            log.error("partitions.retire_failed", partition=partition.name, error=_short_error(exc))
            return
        if self.policy.retention_drop:
            report.dropped.append(partition.name)
            log.info("partitions.dropped", partition=partition.name)
        else:
            report.detached[partition.name] = new_name
            log.info("partitions.detached", partition=partition.name, table=new_name)


def _statements(script: str) -> list[str]:
    """Split a script on ';' at line ends, dropping comment-only chunks."""
    chunks = [c.strip() for c in script.split(";\n")]
    out = []
    for chunk in chunks:
        body = "\n".join(line for line in chunk.splitlines() if not line.lstrip().startswith("--"))
        if body.strip().rstrip(";"):
            out.append(body.strip().rstrip(";"))
    return out
