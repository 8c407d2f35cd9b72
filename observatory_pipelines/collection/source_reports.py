"""What a task learns about its sources: which were skipped and why, which were unchanged,
and the validators that make the next run's requests conditional.

* Skipped sources (``Page.skipped``) are appended to ``collection_tasks.skipped_sources``,
  logged once each (``collection.source_skipped``) and summarised for the asset metadata:
  counts by reason and the first ``FIRST_SKIPPED_SHOWN`` sources.
* 304 answers (``Page.not_modified``) add to ``collection_tasks.sources_not_modified``.
* Validators (``Page.validators``: ETag, Last-Modified by URL) go to ``http_cache``, which
  every later run of every design reads before collecting (a feed shared by two designs is
  asked "changed since?" by both). A collector opts in with ``uses_http_cache``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines.arenas.base import Collector, Page
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

FIRST_SKIPPED_SHOWN = 20


@dataclass
class SourceSummary:
    """One task's skipped and unchanged sources, as shown in the asset metadata."""

    skipped: int = 0
    not_modified: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    first_skipped: list[dict[str, Any]] = field(default_factory=list)

    def add(self, page: Page) -> None:
        self.not_modified += page.not_modified
        for source in page.skipped:
            self.skipped += 1
            self.by_reason[source.reason] = self.by_reason.get(source.reason, 0) + 1
            if len(self.first_skipped) < FIRST_SKIPPED_SHOWN:
                self.first_skipped.append(source.as_dict())

    def as_metadata(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped,
            "skipped_by_reason": dict(sorted(self.by_reason.items())),
            "first_skipped": self.first_skipped,
            "not_modified": self.not_modified,
        }


def load_http_cache(engine: Engine, collector: Collector) -> None:
    """Give a collector that uses it the validators earlier runs saved."""
    if not collector.uses_http_cache:
        return
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, etag, last_modified FROM http_cache")).all()
    collector.http_cache = {
        row.url: {k: v for k, v in (("etag", row.etag), ("last_modified", row.last_modified)) if v}
        for row in rows
    }


def note_sources(task_id: str, platform: str, page: Page, summary: SourceSummary) -> None:
    """Count and log what ``page`` says about its sources (each skip logged once)."""
    summary.add(page)
    for source in page.skipped:
        log.warning(
            "collection.source_skipped", task_id=task_id, platform=platform,
            source=source.source, reason=source.reason, url=source.url, detail=source.detail[:500],
        )  # fmt: skip


def source_params(page: Page) -> dict[str, Any]:
    """What ``page`` says about its sources, as the parameters of the task's page save
    (``run_states.record_progress``): skips appended to the task, 304s added, validators
    to ``http_cache``."""
    return {
        "skipped": json.dumps([s.as_dict() for s in page.skipped]),
        "not_modified": page.not_modified,
        "validators": json.dumps([{"url": url, **v} for url, v in page.validators.items()]),
    }
