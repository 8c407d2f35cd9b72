"""Reads a pay-per-use platform bills once per UTC day per credential (X API v2).

X bills a post or user read once per UTC day per developer app, whatever run, design or
query read it. A collector that declares ``bills_reads_daily`` is given the ids its
credential was billed for today by earlier tasks (``billed_today``) and counts only the
others; the ids it adds (``newly_billed``) are saved after every page, so a second run the
same day (any design, same credential) is charged only for what X bills. Keyed by the
credential, not by the design: per-design carry-over would charge twice across designs and
would discount a read a different credential (another app, which X does bill) made.
Ids only, never text; rows of earlier days are deleted on load.

A task spanning UTC midnight keeps the day it loaded (X bills again after midnight): it may
undercount reads made after midnight that it saw before. Two tasks on one credential at the
same moment may both count a read (each saves after its page): charged twice, not lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from observatory_pipelines.arenas.base import Collector

SAVE_SQL = (Path(__file__).parent / "sql" / "billed_reads_save.sql").read_text(encoding="utf-8")


def utc_day() -> str:
    return datetime.now(UTC).date().isoformat()


def load_billed_reads(engine: Engine, collector: Collector, credential_id: str | None) -> None:
    """Give a collector that bills reads daily what its credential was billed for today."""
    if not collector.bills_reads_daily or credential_id is None:
        return
    day = utc_day()
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM billed_reads WHERE billed_day < CAST(:day AS date)"), {"day": day}
        )
        found = conn.execute(
            text(
                "SELECT kind, read_id FROM billed_reads"
                " WHERE credential_id = CAST(:c AS uuid) AND billed_day = CAST(:day AS date)"
            ),
            {"c": credential_id, "day": day},
        ).all()
    for kind, read_id in found:
        collector.billed_today.setdefault(kind, set()).add(read_id)


def save_billed_reads(engine: Engine, collector: Collector, credential_id: str | None) -> None:
    """Save (and forget) the reads the collector was billed for since the last save."""
    if not collector.bills_reads_daily or credential_id is None or not collector.newly_billed:
        return
    kinds, ids = zip(*collector.newly_billed, strict=True)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            SAVE_SQL,
            {"day": utc_day(), "credential_id": credential_id, "kinds": list(kinds),
             "ids": list(ids)},
        )  # fmt: skip
    collector.newly_billed.clear()
