"""The one collector interface every arena implements, and the record it yields.

An arena knows its source's API and how to map one item to a ``NormalizedRecord``.
It knows nothing of Postgres or Dagster: enrichment (terms matched, content
hash, pseudonymized author), dedup and ingest happen in ``collection/``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from observatory_pipelines.costs import credits_for

TIERS = ("free", "medium", "premium")


@dataclass
class NormalizedRecord:
    """One item in the universal shape of ``content_records`` (before enrichment)."""

    platform: str
    arena: str  # category column: news_media, social_media
    content_type: str
    platform_id: str | None
    published_at: datetime | None  # timezone-aware; None = the source gave no usable date
    url: str | None = None
    title: str | None = None
    text_content: str | None = None
    language: str | None = None
    author_platform_id: str | None = None
    author_display_name: str | None = None
    views_count: int | None = None
    likes_count: int | None = None
    shares_count: int | None = None
    comments_count: int | None = None
    raw_metadata: dict[str, Any] = field(default_factory=dict)
    media_urls: list[str] = field(default_factory=list)
    # What the content hash is computed over, per the arena's rule (spec: "hash of").
    hash_source: str | None = None


@dataclass
class SearchTerm:
    term: str
    term_type: str = "keyword"  # keyword | phrase | hashtag
    group: int | None = None  # terms sharing a group are ANDed; groups are ORed


@dataclass
class ActorRef:
    """An actor's presence on this arena's platform."""

    platform_user_id: str | None
    platform_username: str | None = None
    actor_id: str | None = None


@dataclass
class CollectionRequest:
    date_from: datetime  # inclusive, timezone-aware
    date_to: datetime  # exclusive, timezone-aware
    terms: list[SearchTerm] = field(default_factory=list)
    actors: list[ActorRef] = field(default_factory=list)
    tier: str = "free"
    language: str = "da"
    locale_country: str = "dk"
    options: dict[str, Any] = field(default_factory=dict)  # this arena's arenas_config entry
    max_records: int | None = None


@dataclass
class Page:
    """One page of a source: the records that mapped, and how many items could not."""

    records: list[NormalizedRecord]
    rejected: int = 0
    rejection_reasons: list[str] = field(default_factory=list)
    # Sources (a feed, a term's query) that failed and were skipped; the task goes on.
    errors: list[str] = field(default_factory=list)


@dataclass
class HealthStatus:
    ok: bool
    detail: str = ""


class ArenaError(RuntimeError):
    """A failure of one arena's task; it never fails the other arenas."""


class ArenaAuthError(ArenaError):
    """The credential was refused (401/403 other than quota)."""


class ArenaQuotaExceeded(ArenaError):
    """The credential's quota is spent; the pool may rotate to another."""


class Collector(ABC):
    """Subclasses set the class attributes and implement ``collect``."""

    platform: str = ""  # registry key and arenas_config key, e.g. "rss_feeds"
    arena: str = ""  # category: news_media | social_media
    supported_tiers: tuple[str, ...] = ("free",)
    needs_credentials: bool = False
    max_records_per_run: int = 10_000
    # API units (requests or quota units) spent by this instance; collection prices the
    # task with credits_for(platform, tier, units_spent). Collectors add to it per call.
    units_spent: int = 0

    def __init__(
        self,
        *,
        credentials: dict[str, Any] | None = None,
        rate_limit_state: dict[str, Any] | None = None,
        base_url: str | None = None,
    ):
        self.credentials = credentials or {}
        # Saved to collection_tasks.rate_limit_state after every page.
        self.rate_limit_state: dict[str, Any] = dict(rate_limit_state or {})
        self.base_url = base_url

    @abstractmethod
    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        """Yield pages of normalized records for the request's window, terms and actors."""

    def estimate_units(self, request: CollectionRequest) -> int:
        """API units (requests or quota units) this request will spend."""
        return 0

    def estimate_credits(self, request: CollectionRequest) -> int:
        """Credits this request will cost, priced by the one cost table (costs.py)."""
        return credits_for(self.platform, request.tier, self.estimate_units(request))

    def health_check(self) -> HealthStatus:
        return HealthStatus(ok=True, detail="no check implemented")
