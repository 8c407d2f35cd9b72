"""What one analysis looks at: a query design plus optional filters, validated before any SQL.

Every value reaches SQL as a bound parameter. Granularity and sort are also checked
against allow-lists, and names/ids against strict patterns, so a bad or hostile value
fails here with a message naming the field instead of silently matching nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

GRANULARITIES = ("hour", "day", "week", "month")
# The scope of the analysis the automation keeps fresh: no filter, every option at its default.
STANDARD_SCOPE = "standard"
SORTS = ("post_count", "engagement")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")

# (default, minimum, maximum) of every numeric knob.
LIMITS: dict[str, tuple[int, int, int]] = {
    "top_limit": (20, 1, 200),
    "actor_limit": (500, 1, 5000),
    "actor_min_weight": (1, 1, 1000),
    "actor_edge_limit": (200, 1, 5000),
    "term_min_weight": (2, 1, 1_000_000),
    "term_edge_limit": (100, 1, 5000),
    "bipartite_edge_limit": (500, 1, 2000),
}


class AnalysisInputError(ValueError):
    """A filter or option that cannot be used; the message names the field and the value."""


class UnknownQueryDesign(AnalysisInputError):
    """The query design does not exist: never fall back to analysing all data."""


def _uuid(name: str, value: Any, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise AnalysisInputError(f"{name} is required")
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise AnalysisInputError(f"{name} must be a UUID, got {str(value)[:80]!r}") from None


def _names(name: str, values: Any, pattern: re.Pattern[str]) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    cleaned = []
    for value in values:
        if not isinstance(value, str) or not pattern.match(value):
            raise AnalysisInputError(
                f"{name} entries must match {pattern.pattern}, got {str(value)[:80]!r}"
            )
        cleaned.append(value)
    return cleaned or None


def _instant(name: str, value: Any, *, end: bool) -> datetime | None:
    """Dates are whole UTC days (an end date includes its day); datetimes are exact."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise AnalysisInputError(
                f"{name} must be an ISO date or datetime, got {value[:80]!r}"
            ) from None
    if isinstance(value, datetime):
        instant = value if value.tzinfo else value.replace(tzinfo=UTC)
        return instant + timedelta(microseconds=1) if end else instant
    if isinstance(value, date):
        instant = datetime.combine(value, time(), tzinfo=UTC)
        return instant + timedelta(days=1) if end else instant
    raise AnalysisInputError(f"{name} must be a date or datetime, got {type(value).__name__}")


@dataclass(frozen=True)
class AnalysisScope:
    """One query design, optionally narrowed; ``params()`` gives the bound SQL parameters."""

    query_design_id: str
    collection_run_id: str | None = None
    arenas: list[str] | None = None
    platforms: list[str] | None = None
    date_from: date | datetime | str | None = None
    date_to: date | datetime | str | None = None
    languages: list[str] | None = None
    terms: list[str] | None = None
    granularity: str = "day"
    sort: str = "post_count"
    options: dict[str, int] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        if self.granularity not in GRANULARITIES:
            raise AnalysisInputError(
                f"granularity must be one of {', '.join(GRANULARITIES)}, got {str(self.granularity)[:80]!r}"
            )
        if self.sort not in SORTS:
            raise AnalysisInputError(
                f"sort must be one of {', '.join(SORTS)}, got {str(self.sort)[:80]!r}"
            )
        date_from = _instant("date_from", self.date_from, end=False)
        date_to = _instant("date_to", self.date_to, end=True)
        if date_from and date_to and date_to <= date_from:
            raise AnalysisInputError("date_to must not be before date_from")
        terms = None
        if self.terms is not None:
            if isinstance(self.terms, str) or not all(isinstance(t, str) for t in self.terms):
                raise AnalysisInputError("terms must be a list of strings")
            terms = list(self.terms) or None
        params: dict[str, Any] = {
            "query_design_id": _uuid("query_design_id", self.query_design_id, required=True),
            "collection_run_id": _uuid("collection_run_id", self.collection_run_id, required=False),
            "arenas": _names("arenas", self.arenas, _NAME),
            "platforms": _names("platforms", self.platforms, _NAME),
            "date_from": date_from,
            "date_to_exclusive": date_to,
            "languages": _names("languages", self.languages, _LANGUAGE),
            "terms": terms,
            "granularity": self.granularity,
            "sort": self.sort,
        }
        unknown = set(self.options) - set(LIMITS)
        if unknown:
            raise AnalysisInputError(
                f"unknown option(s) {sorted(unknown)}; known: {', '.join(LIMITS)}"
            )
        for name, (default, low, high) in LIMITS.items():
            value = self.options.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise AnalysisInputError(
                    f"{name} must be an integer in {low}..{high}, got {value!r}"
                )
            params[name] = value
        return params


def check_scope(conn, scope: AnalysisScope) -> dict[str, Any]:
    """Validated parameters, after checking the design (and run) exist and belong together."""
    params = scope.params()
    row = conn.execute(
        "SELECT id, owner_id, name FROM query_designs WHERE id = %(id)s",
        {"id": params["query_design_id"]},
    ).fetchone()
    if row is None:
        raise UnknownQueryDesign(f"query design {params['query_design_id']} does not exist")
    if params["collection_run_id"] is not None:
        run = conn.execute(
            "SELECT query_design_id FROM collection_runs WHERE id = %(id)s",
            {"id": params["collection_run_id"]},
        ).fetchone()
        if run is None:
            raise AnalysisInputError(f"collection run {params['collection_run_id']} does not exist")
        if str(run[0]) != params["query_design_id"]:
            raise AnalysisInputError(
                f"collection run {params['collection_run_id']} does not belong to "
                f"query design {params['query_design_id']}"
            )
    return params


def design_owner(conn, query_design_id: str) -> str:
    row = conn.execute(
        "SELECT owner_id FROM query_designs WHERE id = %(id)s",
        {"id": _uuid("query_design_id", query_design_id, required=True)},
    ).fetchone()
    if row is None:
        raise UnknownQueryDesign(f"query design {query_design_id} does not exist")
    return str(row[0])


def _plain(value: Any) -> Any:
    if isinstance(value, list):  # filters match any of their values: order does not matter
        return sorted(set(value))
    return value.isoformat() if isinstance(value, date | datetime) else value


def non_default_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """The validated ``params`` that differ from the design's standard analysis (JSON-ready)."""
    standard = AnalysisScope(query_design_id=params["query_design_id"]).params()
    return {
        name: _plain(value)
        for name, value in params.items()
        if name != "query_design_id" and value != standard[name]
    }


def scope_id(params: dict[str, Any]) -> str:
    """Where one analysis of a design is stored: ``standard``, or ``filtered-<hash>`` of the
    parameters that differ from it. The same filters always name the same scope (a rerun
    replaces it); different filters never share one."""
    changed = non_default_parameters(params)
    if not changed:
        return STANDARD_SCOPE
    canonical = json.dumps(changed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "filtered-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]
