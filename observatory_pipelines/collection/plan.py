"""What a query design asks to collect: mode, window, arenas and their options, terms, actors.

``query_designs.arenas_config`` shape (documented in docs/collection.md)::

    {"mode": "batch" | "live",
     "date_from": "2026-03-01", "date_to": "2026-03-07",   # batch window
     "tier": "free",                                        # default for every arena
     "arenas": {"rss_feeds": {"tier": "free", "enabled": true, ...collector options}}}

A bare mapping of arenas (``{"rss_feeds": {...}}``, the original's shape) is read
as ``{"arenas": ...}``. A bare date as ``date_to`` includes that whole day
(the credit estimate reads it the same way); datetimes are exclusive bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from observatory_pipelines.arenas.base import ActorRef, SearchTerm
from observatory_pipelines.windows import as_bound

MODES = ("batch", "live")
DEFAULT_BATCH_DAYS = 7
_SQL = Path(__file__).parent / "sql"
DESIGN_SQL = (_SQL / "design.sql").read_text()
ACTORS_SQL = (_SQL / "design_actors.sql").read_text()


class PlanError(ValueError):
    """The query design's arenas_config cannot be collected as written."""


def arenas_of(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Enabled arenas and their options, in config order."""
    arenas = config.get("arenas")
    if arenas is None:
        arenas = {k: v for k, v in config.items() if isinstance(v, dict | bool)}
    if isinstance(arenas, list | tuple):
        arenas = {str(name): {} for name in arenas}
    if not isinstance(arenas, dict):
        raise PlanError("arenas_config.arenas must be a mapping of platform -> options")
    out: dict[str, dict[str, Any]] = {}
    for platform, options in arenas.items():
        if options is True:
            options = {}
        if isinstance(options, dict) and options.get("enabled", True) is not False:
            out[str(platform)] = options
    return out


def mode_of(config: dict[str, Any]) -> str:
    mode = str(config.get("mode") or "batch")
    if mode not in MODES:
        raise PlanError(f"arenas_config.mode must be one of {MODES}, got {mode!r}")
    return mode


def batch_window(config: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """The design's batch window; missing bounds default to the last 7 whole UTC days."""
    today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    date_to = as_bound(config["date_to"], end=True) if config.get("date_to") else today
    date_from = (
        as_bound(config["date_from"], end=False)
        if config.get("date_from")
        else date_to - timedelta(days=DEFAULT_BATCH_DAYS)
    )
    if date_from >= date_to:
        raise PlanError(
            f"date_from {date_from.isoformat()} is not before date_to {date_to.isoformat()}"
        )
    return date_from, date_to


def daily_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass
class DesignSpec:
    id: str
    owner_id: str
    name: str
    is_active: bool
    default_tier: str
    language: str
    locale_country: str
    arenas_config: dict[str, Any]
    terms: list[SearchTerm] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return mode_of(self.arenas_config)

    @property
    def arenas(self) -> dict[str, dict[str, Any]]:
        return arenas_of(self.arenas_config)

    def tier_for(self, platform: str) -> str:
        options = self.arenas.get(platform, {})
        return str(options.get("tier") or self.arenas_config.get("tier") or self.default_tier)


def load_design(engine: Engine | Connection, design_id: Any) -> DesignSpec:
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return load_design(conn, design_id)
    rows = engine.execute(text(DESIGN_SQL), {"id": str(design_id)}).mappings().all()
    if not rows:
        raise PlanError(f"query design {design_id} does not exist")
    first = rows[0]
    terms = [
        SearchTerm(term=r["term"], term_type=r["term_type"] or "keyword", group=r["term_group"])
        for r in rows
        if r["term"] is not None
    ]
    return DesignSpec(
        id=str(first["id"]),
        owner_id=str(first["owner_id"]),
        name=first["name"],
        is_active=first["is_active"],
        default_tier=first["default_tier"],
        language=first["language"],
        locale_country=first["locale_country"],
        arenas_config=dict(first["arenas_config"] or {}),
        terms=terms,
    )


def design_actors(engine: Engine, design_id: Any, platform: str) -> list[ActorRef]:
    """Presences on ``platform`` of every actor on the design's actor lists."""
    with engine.connect() as conn:
        rows = conn.execute(text(ACTORS_SQL), {"id": str(design_id), "platform": platform}).all()
    return [
        ActorRef(platform_user_id=r[0], platform_username=r[1], actor_id=str(r[2])) for r in rows
    ]
