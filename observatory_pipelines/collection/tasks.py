"""One arena's task: collector pages → clean/enrich → bulk ingest, with progress saved per page.

Knows nothing of credits or run status (``runs.py`` does); raises on failure so
the run can mark this task failed and go on with the others.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    Page,
    SearchTerm,
)
from observatory_pipelines.collection import run_states
from observatory_pipelines.collection.billed_reads import load_billed_reads, save_billed_reads
from observatory_pipelines.collection.credential_pool import (
    CredentialPool,
    Lease,
    NoCredentialAvailable,
    scrub,
)
from observatory_pipelines.collection.design_links import load_design_links
from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.collection.source_reports import (
    SourceSummary,
    load_http_cache,
    note_sources,
    source_params,
)
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)
MAX_QUOTA_ROTATIONS = 10
# A slow source (2,000 feeds, two records each) never fills a batch before it ends: its
# records are written at least this often, in the background while it fetches, instead of
# all at once after the last page.
INGEST_AT_LEAST_EVERY_S = 1.0

CollectorFactory = Callable[..., Collector]


@dataclass
class TaskSpec:
    task_id: str
    run_id: str
    query_design_id: str | None
    platform: str
    arena: str
    tier: str
    date_from: datetime
    date_to: datetime
    terms: list[SearchTerm]
    actors: list[ActorRef]
    options: dict[str, Any]
    language: str = "da"
    locale_country: str = "dk"
    rate_limit_state: dict[str, Any] = field(default_factory=dict)
    # Where the lease comes from: the pool platform (default: ``platform``) and, for arenas
    # with one provider per tier, the tier its credentials are stored for (None: any).
    credential_platform: str | None = None
    credential_tier: str | None = None


@dataclass
class ArenaReport:
    """One arena of a run: what its task collected, what it cost, how it ended.

    The one type for an arena's outcome: the task runner fills the counters page by page
    (so a failure keeps what was already ingested), the run fills status, credits, error.
    """

    platform: str
    arena: str
    tier: str
    status: str = "pending"
    records_collected: int = 0  # new rows stored (the first stored copy of a record)
    # records new to the design: stored now, or stored earlier by another design (its links)
    records_attributed: int = 0
    duplicates_skipped: int = 0  # staged rows already stored, by anyone (see ingest.py)
    records_rejected: int = 0
    records_repaired: int = 0
    credits_estimated: int = 0
    credits_spent: int = 0
    units_spent: int = 0
    pages: int = 0
    credential_id: str | None = None
    rejection_reasons: dict[str, int] = field(default_factory=dict)
    sources: SourceSummary = field(default_factory=SourceSummary)  # skipped / unchanged
    error: str | None = None


class TaskFailed(RuntimeError):
    """The task failed; the message is safe to store and show (its report keeps the counts)."""


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@", re.IGNORECASE)


def failure_message(exc: BaseException, leases: list[Lease] = ()) -> str:
    """What a failed task records: the exception's type and message, with the leased
    credentials' values and any password in a URL (a database DSN, say) replaced by ***."""
    message = f"{type(exc).__name__}: {exc}"
    for leased in leases:
        message = scrub(message, leased)
    return _URL_PASSWORD.sub(r"\1***@", message)[:2000]


def _request(spec: TaskSpec) -> CollectionRequest:
    return CollectionRequest(
        date_from=spec.date_from,
        date_to=spec.date_to,
        terms=spec.terms,
        actors=spec.actors,
        tier=spec.tier,
        language=spec.language,
        locale_country=spec.locale_country,
        options=spec.options,
        max_records=spec.options.get("max_records"),
    )


def _units(collector: Collector, state_before: dict[str, Any]) -> int:
    """API units this collector spent: its ``units_spent`` counter, else the growth of the
    ``quota_units_used`` it keeps in rate_limit_state (the YouTube collector does)."""
    counted = int(getattr(collector, "units_spent", 0) or 0)
    if counted:
        return counted
    after = int((collector.rate_limit_state or {}).get("quota_units_used", 0) or 0)
    before = int((state_before or {}).get("quota_units_used", 0) or 0)
    return max(after - before, 0)


class TaskRunner:
    def __init__(
        self,
        engine: Engine,
        factory: CollectorFactory,
        pool: CredentialPool,
        batch_size: int = 5000,
    ):
        self.engine = engine
        self.factory = factory
        self.pool = pool
        self.batch_size = batch_size

    def _save(
        self, spec: TaskSpec, out: ArenaReport, state: dict[str, Any], page: Page | None = None
    ) -> bool:
        """Counters, heartbeat and what ``page`` said about its sources, in one statement;
        False when the task was closed meanwhile (the sweep)."""
        return run_states.record_progress(
            self.engine,
            spec.task_id,
            records_collected=out.records_collected,
            records_attributed=out.records_attributed,
            duplicates_skipped=out.duplicates_skipped,
            records_rejected=out.records_rejected,
            credential_id=out.credential_id,
            rate_limit_state=state,
            sources=source_params(page) if page is not None else None,
        )

    def run(
        self,
        spec: TaskSpec,
        out: ArenaReport,
        needs_credentials: bool,
        optional_credentials: bool = False,
    ) -> None:
        """Collect into ``out``'s counters; raises ``TaskFailed`` (counters kept) on failure.

        The failure reported is the first thing that went wrong: when the database is gone,
        the writes that follow (error count, counters, ingest flush) fail too, and are logged
        without replacing it.
        """
        tried: set[str] = set()
        lease: Lease | None = None
        used: list[Lease] = []  # every lease's secrets are scrubbed from the error message
        state = dict(spec.rate_limit_state)
        try:
            enricher = Enricher(self.engine, spec.terms)
            ingester = BulkIngester(
                self.engine,
                run_id=spec.run_id,
                query_design_id=spec.query_design_id,
                tier=spec.tier,
            )
            try:
                for _attempt in range(MAX_QUOTA_ROTATIONS):
                    if needs_credentials or optional_credentials:
                        lease = self._lease(spec, tried, needs_credentials)
                    if lease is not None:
                        tried.add(lease.id)
                        used.append(lease)
                        out.credential_id = lease.id
                    state_before = dict(state)
                    collector = self.factory(
                        spec.platform,
                        credentials=lease.credentials if lease else None,
                        rate_limit_state=state,
                        options=spec.options,  # checked before anything is sent
                    )
                    try:
                        self._collect(spec, collector, enricher, ingester, out)
                    except ArenaQuotaExceeded:
                        if lease is None:
                            raise
                        self.pool.mark_exhausted(lease.id)
                        lease = None  # not to blame if no other credential is left
                        log.info(
                            "task.rotating_credential", platform=spec.platform, task_id=spec.task_id
                        )
                        continue
                    finally:
                        out.units_spent += _units(collector, state_before)
                        state = collector.rate_limit_state
                    break
                else:
                    raise ArenaQuotaExceeded(
                        f"quota exceeded on {MAX_QUOTA_ROTATIONS} {spec.platform} credentials"
                    )
            except BaseException:
                _quietly(ingester.close, "task.ingest_not_closed", spec)
                raise
            ingester.close()
            self._save(spec, out, state)
        except Exception as exc:
            message = failure_message(exc, used)
            # A refused design option is the design's fault, not the credential's.
            blameless = ArenaQuotaExceeded | TaskFailed | ArenaOptionError
            if lease is not None and not isinstance(exc, blameless):
                _quietly(
                    lambda: self.pool.record_error(lease.id, message),
                    "credential.error_not_recorded",
                    spec,
                )
            # The failure being reported matters more than its counters.
            _quietly(lambda: self._save(spec, out, state), "task.progress_not_saved", spec)
            raise TaskFailed(str(exc) if isinstance(exc, TaskFailed) else message) from None

    def _lease(self, spec: TaskSpec, tried: set[str], required: bool) -> Lease | None:
        """The next credential; None when it is optional and the pool has none (left)."""
        platform = spec.credential_platform or spec.platform
        try:
            return self.pool.acquire(platform, spec.credential_tier, exclude=tried)
        except NoCredentialAvailable:
            if required:
                raise
            return None

    def _collect(self, spec, collector, enricher, ingester, out: ArenaReport) -> None:
        buffer: list[tuple] = []
        submitted = time.monotonic()
        load_http_cache(self.engine, collector)
        load_design_links(self.engine, collector, spec)
        load_billed_reads(self.engine, collector, out.credential_id)
        try:
            for page in collector.collect(_request(spec)):
                out.pages += 1
                note_sources(spec.task_id, spec.platform, page, out.sources)
                out.records_rejected += page.rejected
                for reason in page.rejection_reasons[:20]:
                    out.rejection_reasons[reason] = out.rejection_reasons.get(reason, 0) + 1
                before = enricher.stats.rejected
                buffer.extend(enricher.rows(page.records, datetime.now(UTC)))
                out.records_rejected += enricher.stats.rejected - before
                due = time.monotonic() - submitted >= INGEST_AT_LEAST_EVERY_S
                if len(buffer) >= self.batch_size or (buffer and due):
                    ingester.submit(buffer)  # written while the next pages are fetched
                    buffer, submitted = [], time.monotonic()
                self._count(ingester, out)
                save_billed_reads(self.engine, collector, out.credential_id)
                if not self._save(spec, out, collector.rate_limit_state, page):
                    raise TaskFailed(
                        "task was closed while it was still collecting (the sweep declared its "
                        "worker lost); stopped"
                    )
        except BaseException:
            # Records already mapped are kept even when the source fails mid-way; if they
            # cannot be written (the database is gone) the first error still wins.
            _quietly(lambda: self._flush(ingester, buffer, out), "task.ingest_not_flushed", spec)
            _quietly(
                lambda: save_billed_reads(self.engine, collector, out.credential_id),
                "task.billed_reads_not_saved",
                spec,
            )
            raise
        self._flush(ingester, buffer, out)
        out.records_repaired = enricher.stats.repaired
        for reason, count in enricher.stats.reasons.items():
            out.rejection_reasons[reason] = out.rejection_reasons.get(reason, 0) + count

    def _flush(self, ingester: BulkIngester, buffer: list[tuple], out: ArenaReport) -> None:
        if buffer:
            ingester.submit(buffer)
        ingester.drain()
        self._count(ingester, out)

    @staticmethod
    def _count(ingester: BulkIngester, out: ArenaReport) -> None:
        out.records_collected = ingester.counts.inserted
        out.records_attributed = ingester.counts.attributed
        out.duplicates_skipped = ingester.counts.skipped


def _quietly(action: Callable[[], Any], event: str, spec: TaskSpec) -> None:
    """Run a follow-up write of a failing task; its own failure is logged, never raised, so
    it cannot replace the error that made the task fail."""
    try:
        action()
    except Exception as exc:
        log.error(
            event,
            task_id=spec.task_id,
            platform=spec.platform,
            error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
        )
