"""Persisted facets of the standard scope: incremental analyses (issue 20, target 2).

Every SQL model reads ``stg_content``: the design's records folded into small additive facets
(``dbt_like_sql/stg_content.sql``). For the standard scope (no filter) those facets are kept
per design in ``analysis_facets`` (migration 013), and a refresh folds only what changed since
the last one: the ``analysis_facet_changes`` rows that the triggers on
``content_record_collections`` and ``content_records`` logged (+1 for a (link, record) pair
that appeared, -1 for one that changed away). The fold is ``_facet_fold.sql`` in both cases:

- **full** (first build — also after an erasure, whose deletions delete the design's stored
  facets at once —, ``code_version`` of the facet SQL changed, the set of ``content_records``
  partitions changed, or asked for): the records
  are folded from an empty state exactly as a filtered scope is (the ``stg_content`` model),
  then stored; pending changes are discarded. Runs under SHARE locks on the records and the
  links, so no write commits between the read and the store (writers wait a few seconds).
- **incremental**: the logged changes are consumed and folded into the stored facets in one
  statement; ``stg_content`` is then a copy of the stored facets.

So a full recompute is the incremental fold from an empty state: the two cannot drift.
Filtered scopes never touch the stored facets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from observatory_pipelines.analysis.scope import AnalysisScope
from observatory_pipelines.analysis.sql_text import (
    MODEL_DIR,
    expand_includes,
    split_header,
    to_psycopg,
)
from observatory_pipelines.logs import get_logger

SQL_DIR = Path(__file__).with_name("sql")
FACET_MODEL = "stg_content"
# Advisory lock namespace: one refresh of a design's facets at a time.
_LOCK_NAMESPACE = 20_020

log = get_logger(__name__)


@dataclass(frozen=True)
class FacetRefresh:
    """What one refresh did: ``mode`` full or incremental, why, and what it folded."""

    mode: str
    reason: str | None
    changes_folded: int  # logged changes consumed (incremental) or discarded (full)
    facets_changed: int  # stored facet rows inserted or updated
    facets_removed: int  # stored facet rows whose records all went

    def metadata(self) -> dict[str, Any]:
        return {
            "facets_mode": self.mode,
            "facets_reason": self.reason,
            "facets_changes_folded": self.changes_folded,
            "facets_changed": self.facets_changed,
            "facets_removed": self.facets_removed,
        }


def _read(name: str, snippets: dict[str, str] | None = None) -> str:
    _, body = split_header((SQL_DIR / name).read_text(encoding="utf-8"))
    return expand_includes(body, SQL_DIR, name, snippets=snippets)


@cache
def _statements() -> dict[str, str]:
    """The psycopg SQL of each step (includes expanded once)."""
    fold_changes = expand_includes(
        "{{ facet_fold }}",
        SQL_DIR,
        "facets.py",
        snippets={"facet_rows": _read("_facet_changes.sql")},
    )
    return {
        "incremental": to_psycopg(_read("facets_merge.sql", {"facet_delta": fold_changes})),
        "full": to_psycopg(
            _read("facets_merge.sql", {"facet_delta": "SELECT * FROM pg_temp.stg_content"})
        ),
        "copy": to_psycopg(_read("facets_stg_content.sql")),
        "save": to_psycopg(_read("facets_state_save.sql")),
    }


@cache
def code_version() -> str:
    """Hash of every SQL text that decides what the stored facets hold: the fold (through the
    stg_content model and its fragments), the change rows and the merge. Stored facets of
    another version are rebuilt from the records."""
    texts = [
        p.read_text(encoding="utf-8")
        for p in sorted(MODEL_DIR.glob("*.sql"))
        if p.stem in (FACET_MODEL, "_facet_fold", "_facet_rows", "_scope_records", "_scope_where")
    ]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SQL_DIR.glob("*facet*.sql"))]
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]


def is_standard(params: dict[str, Any], filter_params: tuple[str, ...]) -> bool:
    """Whether the filters ``stg_content`` uses are all at the standard scope's values (the
    granularity, sort and limits do not change the facets)."""
    standard = AnalysisScope(query_design_id=params["query_design_id"]).params()
    return all(params[name] == standard[name] for name in filter_params)


def _partitions(cur) -> list[int]:
    cur.execute(
        "SELECT coalesce(array_agg(inhrelid::oid ORDER BY inhrelid::oid), '{}') AS oids "
        "FROM pg_inherits WHERE inhparent = 'content_records'::regclass"
    )
    return list(cur.fetchone()["oids"])


def _full_reason(cur, design: str, force_full: bool) -> str | None:
    """Why this refresh must fold every record, or None when the stored facets can be
    brought up to date from the logged changes."""
    cur.execute(
        "SELECT code_version, partitions FROM analysis_facet_state "
        "WHERE query_design_id = %(d)s FOR NO KEY UPDATE",
        {"d": design},
    )
    state = cur.fetchone()
    if force_full:
        return "full recompute asked for"
    if state is None:
        return "first build"
    if state["code_version"] != code_version():
        return f"code_version changed ({state['code_version']} -> {code_version()})"
    if list(state["partitions"]) != _partitions(cur):
        return "content_records partitions changed"
    return None


def refresh(
    cur, design: str, build_from_records: Callable[[], None], *, force_full: bool = False
) -> FacetRefresh:
    """Bring the design's stored facets up to date and leave ``stg_content`` (a temp table of
    this transaction) equal to them. ``build_from_records`` creates ``stg_content`` from the
    records (the model's own SQL): the full path."""
    cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, design])
    reason = _full_reason(cur, design, force_full)
    statements = _statements()
    base = {"query_design_id": design, "code_version": code_version()}
    if reason is not None:
        # Writers first committed, then held off: the records read below are all there is,
        # and every change logged so far is already in them.
        cur.execute("LOCK TABLE content_records, content_record_collections IN SHARE MODE")
        partitions = _partitions(cur)
        save = {**base, "partitions": partitions, "mode": "full", "reason": reason}
        cur.execute(statements["save"], {**save, "changes_folded": 0})
        cur.execute("DELETE FROM analysis_facets WHERE query_design_id = %(d)s", {"d": design})
        build_from_records()
        cur.execute(statements["full"], base)
    else:
        partitions = _partitions(cur)
        save = {**base, "partitions": partitions, "mode": "incremental", "reason": None}
        cur.execute(statements["incremental"], base)
    merged = cur.fetchone()
    if merged["emptied"]:
        cur.execute(
            "DELETE FROM analysis_facets WHERE query_design_id = %(d)s "
            "AND facet_key = ANY (%(keys)s)",
            {"d": design, "keys": merged["emptied"]},
        )
    if reason is None:
        cur.execute("DROP TABLE IF EXISTS pg_temp.stg_content")
        cur.execute(statements["copy"], base)
    cur.execute(statements["save"], {**save, "changes_folded": merged["changes_consumed"]})
    result = FacetRefresh(
        mode=save["mode"],
        reason=reason,
        changes_folded=merged["changes_consumed"],
        facets_changed=merged["facets_changed"],
        facets_removed=len(merged["emptied"]),
    )
    log.info("analysis_facets_refreshed", query_design_id=design, **result.metadata())
    return result
