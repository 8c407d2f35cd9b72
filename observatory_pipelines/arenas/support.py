"""Small pieces every collector shares: item mapping into pages, windows, record caps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    CollectionRequest,
    Collector,
    NormalizedRecord,
    Page,
    SkippedSource,
)
from observatory_pipelines.arenas.text import clamp_record

MAX_REASONS_PER_PAGE = 20


class Reject(Exception):
    """Raised by a mapper for an item that cannot become a record (counted, not fatal)."""


class Skip(Exception):
    """Raised by a mapper for an item that is fine but not wanted (outside window, no match)."""


def record_cap(collector: Collector, request: CollectionRequest) -> int:
    # Some arenas allow more on paid tiers (spec: Reddit 1k, 5k on medium).
    cap = getattr(collector, "tier_caps", {}).get(request.tier, collector.max_records_per_run)
    if request.max_records is not None:
        cap = min(cap, max(0, request.max_records))
    return cap


def in_window(value: datetime | None, request: CollectionRequest) -> bool:
    """Undated items pass: the window cannot judge them (spec: RSS)."""
    return value is None or request.date_from <= value < request.date_to


def map_page(
    items: Iterable[Any],
    mapper: Callable[[Any], NormalizedRecord],
    *,
    seen: set[str] | None = None,
    limit: int | None = None,
) -> Page:
    """Map source items to a page; broken items are counted, duplicates (by id) dropped."""
    page = Page(records=[])
    for item in items:
        if limit is not None and len(page.records) >= limit:
            break
        try:
            record = clamp_record(mapper(item))
        except Skip:
            continue
        except (Reject, TypeError, ValueError, KeyError, AttributeError) as exc:
            page.rejected += 1
            if len(page.rejection_reasons) < MAX_REASONS_PER_PAGE:
                page.rejection_reasons.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            continue
        if not (record.platform_id or record.url or record.title or record.text_content):
            # A missing id is derived at ingest from the URL or the content (docs/collection.md);
            # an item with none of them is nothing a reader could find again.
            page.rejected += 1
            if len(page.rejection_reasons) < MAX_REASONS_PER_PAGE:
                page.rejection_reasons.append("item without an id, a URL or any text")
            continue
        if seen is not None and record.platform_id:
            if record.platform_id in seen:
                continue
            seen.add(record.platform_id)
        page.records.append(record)
    return page


def failed_source(message: str, reason: str = "error") -> Page:
    """The page that reports a skipped feed/term: no records, one error, one skipped source
    (named by the message's prefix, e.g. ``reddit r/denmark``)."""
    source = message.split(": ", 1)[0][:200]
    return Page(
        records=[],
        rejection_reasons=[message],
        errors=[message],
        skipped=[SkippedSource(source, reason, message)],
    )


def require(credentials: dict[str, Any], *names: str, platform: str) -> list[str]:
    """Credential values by name (first alias found); a clear error naming what is missing."""
    values = []
    for name in names:
        options = name.split("|")
        value = next((credentials.get(o) for o in options if credentials.get(o)), None)
        if not value:
            raise ArenaAuthError(f"{platform}: credential field {options[0]!r} is missing")
        values.append(str(value))
    return values


class SourceTally:
    """Counts sources (terms, feeds) tried and failed: all failing fails the task."""

    def __init__(self, platform: str):
        self.platform = platform
        self.tried = 0
        self.failed: list[str] = []
        self.pages_ok = 0

    def ok(self, page: Page) -> Page:
        self.pages_ok += 1
        return page

    def fail(self, message: str) -> Page:
        # Collection logs each skipped source once, with its task (collection.source_skipped).
        self.failed.append(message)
        return failed_source(message)

    def finish(self) -> None:
        # A source that delivered pages before failing still delivered: only none-at-all fails.
        if self.failed and self.pages_ok == 0:
            shown = "; ".join(self.failed[:3])
            raise ArenaError(f"{self.platform}: every source failed ({self.tried}): {shown}")
