"""Which designs to collect for which window: the plain logic behind the sensor and schedule.

New designs: batch mode gets its configured window once; live mode gets its
first window (``date_from`` if configured, else yesterday) up to the start of
today, then the daily schedule takes over with yesterday's UTC window. A design
already run for a window is never requested for it again (checked in
``collection_runs``, on top of Dagster's run keys).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines.collection.plan import PlanError, batch_window, daily_window, mode_of
from observatory_pipelines.logs import get_logger
from observatory_pipelines.windows import BoundError, as_bound

log = get_logger(__name__)
_SQL = Path(__file__).parent / "sql"
NEW_SQL = (_SQL / "designs_new.sql").read_text()
LIVE_SQL = (_SQL / "designs_live.sql").read_text()
STARTED_SQL = (_SQL / "window_started.sql").read_text()
# Designs committed late (created_at from a long transaction) are still seen within this overlap.
OVERLAP = timedelta(minutes=10)
MAX_PER_TICK = 200


@dataclass(frozen=True)
class WindowRequest:
    design_id: str
    mode: str
    date_from: datetime
    date_to: datetime
    # When what the design collects last changed (query_designs.collection_revised_at): a
    # revised design's window is a new run, so the revision is part of the run key.
    revised_at: datetime | None = None

    @property
    def run_key(self) -> str:
        key = f"{self.design_id}:{self.date_from.isoformat()}:{self.date_to.isoformat()}"
        return f"{key}:revised:{self.revised_at.isoformat()}" if self.revised_at else key

    def run_config(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "mode": self.mode,
        }


@dataclass
class SensorCursor:
    watermark: datetime | None = None
    recent: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> SensorCursor:
        if not raw:
            return cls()
        data = json.loads(raw)
        mark = data.get("watermark")
        return cls(datetime.fromisoformat(mark) if mark else None, tuple(data.get("recent", ())))

    def dump(self) -> str:
        mark = self.watermark.isoformat() if self.watermark else None
        return json.dumps({"watermark": mark, "recent": list(self.recent)})


def already_started(
    engine: Engine, design_ids: list[str], date_from: datetime, date_to: datetime
) -> set[str]:
    if not design_ids:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            text(STARTED_SQL), {"ids": design_ids, "date_from": date_from, "date_to": date_to}
        ).scalars()
        return set(rows)


def first_window(config: dict[str, Any], now: datetime) -> tuple[str, datetime, datetime]:
    mode = mode_of(config)
    if mode == "batch":
        return (mode, *batch_window(config, now))
    today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    start = (
        as_bound(config["date_from"], end=False)
        if config.get("date_from")
        else today - timedelta(days=1)
    )
    return mode, min(start, today - timedelta(days=1)), today


def new_design_requests(
    engine: Engine, cursor: SensorCursor, now: datetime
) -> tuple[list[WindowRequest], SensorCursor]:
    """Requests for designs not seen before (new, or revised since), and the cursor that
    remembers them: ``recent`` holds ``<id>@<changed_at>``, so a design revised within the
    overlap is seen again."""
    since = (cursor.watermark - OVERLAP) if cursor.watermark else datetime(1970, 1, 1, tzinfo=UTC)
    with engine.connect() as conn:
        rows = conn.execute(text(NEW_SQL), {"since": since, "limit": MAX_PER_TICK}).all()
    seen = set(cursor.recent)
    requests: list[WindowRequest] = []
    watermark = cursor.watermark
    recent: dict[str, datetime] = {}
    for design_id, changed_at, config, revised_at in rows:
        design_id = str(design_id)
        seen_key = f"{design_id}@{changed_at.isoformat()}"
        recent[seen_key] = changed_at
        watermark = max(watermark, changed_at) if watermark else changed_at
        if seen_key in seen:
            continue
        try:
            mode, date_from, date_to = first_window(dict(config or {}), now)
        except (PlanError, BoundError) as exc:
            log.warning("sensor.design_skipped", query_design_id=design_id, reason=str(exc))
            continue
        if already_started(engine, [design_id], date_from, date_to):
            continue
        requests.append(WindowRequest(design_id, mode, date_from, date_to, revised_at))
    keep_after = (watermark - OVERLAP) if watermark else None
    kept = {d for d, at in recent.items() if keep_after is None or at >= keep_after}
    return requests, SensorCursor(watermark, tuple(sorted(kept)))


def live_requests(engine: Engine, day: date) -> list[WindowRequest]:
    """Yesterday-style window ``day`` for every active live design not yet run for it."""
    date_from, date_to = daily_window(day)
    with engine.connect() as conn:
        ids = [str(r) for r in conn.execute(text(LIVE_SQL), {"window_end": date_to}).scalars()]
    done = already_started(engine, ids, date_from, date_to)
    return [WindowRequest(d, "live", date_from, date_to) for d in ids if d not in done]
