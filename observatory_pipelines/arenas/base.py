"""The one collector interface every arena implements, and the record it yields.

An arena knows its source's API and how to map one item to a ``NormalizedRecord``.
It knows nothing of Postgres or Dagster: enrichment (terms matched, content
hash, pseudonymized author), dedup and ingest happen in ``collection/``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from observatory_pipelines.costs import credits_for

TIERS = ("free", "medium", "premium")


@dataclass(frozen=True)
class ArenaOption:
    """One option a query design may set for an arena, as a researcher writes it.

    Collectors declare theirs in ``option_specs``; the accepted names (``design_options``)
    are derived from the declaration and ``observatory arenas list`` prints it, so what a
    researcher is told and what ``check_options`` accepts cannot differ.
    """

    name: str
    type: str  # as written in a design file: "bool", "int", "string", "list of strings", ...
    default: Any = None  # what the collector uses when the design leaves the option out
    help: str = ""


# Options every arena's entry in a design may carry; collection and the estimate read them.
COMMON_OPTION_SPECS = (
    ArenaOption("enabled", "bool", True, "false leaves the arena out of the design's runs"),
    ArenaOption("tier", "string", None, "free | medium | premium; default: the design's tier"),
    ArenaOption(
        "max_records", "int", None, "records per run; default and ceiling: the arena's cap"
    ),
)
COMMON_OPTIONS = frozenset(option.name for option in COMMON_OPTION_SPECS)
# Option names that point somewhere: a design may never choose where a collector (and the
# pooled credential it carries) connects. Only a collector's declared data options (RSS
# feed URLs) may be URLs.
_HOST_LIKE = re.compile(r"(url|uri|host|hostname|endpoint|server|proxy|domain|base)s?$", re.I)


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
    # The author as the source names them when it gives no platform id (an RSS byline, an
    # e-mail address): only the pseudonym is computed over it; it is never stored.
    author_identity: str | None = None


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


# Why a source (a feed, a term's query) was skipped; collection counts skipped sources by it.
SKIP_REASONS = (
    "timeout",  # no complete answer within the client's timeout
    "network_error",  # refused, reset, DNS: the host could not be reached
    "redirect_loop",  # redirects went round (or past httpx's limit of 20)
    "http_error",  # a 4xx, or a 5xx that persisted through the retries
    "rate_limited",  # 429 through the retries
    "too_large",  # larger than ARENA_HTTP_MAX_RESPONSE_MB
    "not_a_feed",  # an HTML page (or other non-feed type) where a feed was expected
    "unparseable",  # a body no parser could read
    "stopped",  # the collection stopped (interrupted, or its record cap reached) mid-retry
    "error",  # anything else the arena reported
    "undated",  # an item the source showed without its date, not stored (telegram preview)
)


@dataclass(frozen=True)
class SkippedSource:
    """One source that failed and was skipped; the task went on without it."""

    source: str  # the arena's name for it: feed key, search term
    reason: str  # one of SKIP_REASONS
    detail: str  # a secret-free sentence (host and path, never a query string)
    url: str | None = None  # host and path only

    def as_dict(self) -> dict[str, str | None]:
        return {
            "source": self.source,
            "reason": self.reason,
            "url": self.url,
            "detail": self.detail,
        }


@dataclass
class Page:
    """One page of a source: the records that mapped, and how many items could not."""

    records: list[NormalizedRecord]
    rejected: int = 0
    rejection_reasons: list[str] = field(default_factory=list)
    # Sources (a feed, a term's query) that failed and were skipped; the task goes on.
    errors: list[str] = field(default_factory=list)
    # The same skips with their reasons (collection stores them on the task).
    skipped: list[SkippedSource] = field(default_factory=list)
    # Sources that answered 304 Not Modified to a conditional request.
    not_modified: int = 0
    # Validators (``etag``, ``last_modified``) seen on this page, by URL, for the
    # cross-run cache collection keeps (``http_cache`` table).
    validators: dict[str, dict[str, str]] = field(default_factory=dict)


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


class SourceFailed(ArenaError):
    """One source could not be fetched; ``reason`` is one of ``SKIP_REASONS``."""

    def __init__(self, message: str, reason: str = "error"):
        super().__init__(message)
        self.reason = reason


class ArenaOptionError(ArenaError, ValueError):
    """A query design's options for an arena name something the arena does not accept."""


def option_list(
    options: Mapping[str, Any],
    platform: str,
    name: str,
    what: str,
    each: Callable[[Any], object] | None = None,
) -> list[Any] | None:
    """The design option ``name`` as a list, or None when it is not set. Anything but a list
    (a lone string included) is refused naming ``what`` its items must be; so is an item that
    is not a string, unless ``each`` checks the items (it raises its own error)."""
    values = options.get(name)
    if values is None:
        return None
    if not isinstance(values, list) or (
        each is None and not all(isinstance(v, str) for v in values)
    ):
        raise ArenaOptionError(f"arenas.{platform}.{name} must be a list of {what}")
    if each is not None:
        for value in values:
            each(value)
    return values


class Collector(ABC):
    """Subclasses set the class attributes and implement ``collect``."""

    platform: str = ""  # registry key and arenas_config key, e.g. "rss_feeds"
    arena: str = ""  # category: news_media | social_media
    supported_tiers: tuple[str, ...] = ("free",)
    needs_credentials: bool = False
    # True: a pooled credential is used when there is one, and the arena collects without
    # one otherwise (Mastodon: most reads need no token; an app token opens closed feeds).
    credentials_optional: bool = False
    max_records_per_run: int = 10_000
    # Options a query design may set for this arena, beyond COMMON_OPTIONS; all others are
    # refused before the collector is built (see check_options). A collector declares
    # ``option_specs``; ``design_options`` (the names) is derived from them.
    option_specs: tuple[ArenaOption, ...] = ()
    design_options: frozenset[str] = frozenset()
    # Credential fields the pooled credential must carry ("a|b": either name).
    credential_fields: tuple[str, ...] = ()
    # The pool platform whose credentials this arena leases, when it shares another arena's
    # (google_autocomplete's paid tiers use google_search's Serper/SerpAPI keys); None: its own.
    credential_platform: str | None = None
    # True: only credentials stored for the run's tier are leased (one provider per tier:
    # a Serper key cannot answer a premium SerpAPI run).
    credentials_by_tier: bool = False
    # Tiers that take no credential although the arena needs one on its others
    # (google_autocomplete's free endpoint is keyless, its Serper/SerpAPI tiers are not).
    keyless_tiers: tuple[str, ...] = ()
    # Seconds between two requests to one host (before ARENA_RATE_LIMIT_SCALE).
    min_request_interval: float = 0.0
    # The source's own quota, in a sentence, when it has one (shown by ``arenas list``).
    quota: str = ""
    # The operator's setting that names this arena's API host (for the refusal message).
    host_setting: str | None = None
    # API units (requests or quota units) spent by this instance; collection prices the
    # task with credits_for(platform, tier, units_spent). Collectors add to it per call.
    units_spent: int = 0
    # True: collection fills ``http_cache`` (URL -> {etag, last_modified}) from the validators
    # earlier runs saw before ``collect``, so a rerun sends conditional requests.
    uses_http_cache: bool = False
    # True for a pay-per-use platform that bills a read once per UTC day per credential (X
    # API v2): collection fills ``billed_today`` (kind -> ids) with what the credential was
    # billed for today by earlier tasks, and saves what the collector adds to
    # ``newly_billed`` (table ``billed_reads``, docs/collection.md).
    bills_reads_daily: bool = False
    # Keys of ``rate_limit_state`` that hold paid work still to be fetched (Bright Data's
    # snapshots): a new task of the same design and platform starts from what the newest
    # earlier task left under them (``carry_over``), so a new run does not pay again.
    resumable_state: tuple[str, ...] = ()

    @classmethod
    def carry_over(cls, previous: dict[str, Any], completed: bool) -> dict[str, Any]:
        """The part of an earlier task's saved state a new task of the same design starts
        from; nothing unless the arena declares ``resumable_state``."""
        return {}

    def __init__(
        self,
        *,
        credentials: dict[str, Any] | None = None,
        rate_limit_state: dict[str, Any] | None = None,
    ):
        self.credentials = credentials or {}
        # Saved to collection_tasks.rate_limit_state after every page.
        self.rate_limit_state: dict[str, Any] = dict(rate_limit_state or {})
        self.http_cache: dict[str, dict[str, str]] = {}
        self.billed_today: dict[str, set[str]] = {}  # see bills_reads_daily
        self.newly_billed: list[tuple[str, str]] = []

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "option_specs" in cls.__dict__:
            cls.design_options = frozenset(option.name for option in cls.option_specs)

    @classmethod
    def option_default(cls, name: str) -> Any:
        """The declared default of one of this arena's options."""
        for option in cls.option_specs:
            if option.name == name:
                return option.default
        raise KeyError(f"{cls.platform} declares no option {name!r}")

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Refuse a design's options that this arena does not declare, naming each one.

        API hosts come from the operator's settings only: a design that names one (e.g.
        ``base_url``) would send the pooled credential wherever it likes.
        """
        if not isinstance(options, Mapping):
            raise ArenaOptionError(
                f"arenas.{cls.platform} must be a mapping of options, got {type(options).__name__}"
            )
        unknown = sorted(str(k) for k in options if k not in COMMON_OPTIONS | cls.design_options)
        if not unknown:
            return
        hosts = [k for k in unknown if _HOST_LIKE.search(k)]
        if hosts:
            where = f" (set {cls.host_setting})" if cls.host_setting else ""
            raise ArenaOptionError(
                f"arenas.{cls.platform}.{hosts[0]} is refused: a query design cannot choose "
                f"the host a collector connects to; API hosts come from the operator's "
                f"configuration{where}"
            )
        accepted = ", ".join(sorted(COMMON_OPTIONS | cls.design_options))
        raise ArenaOptionError(
            f"arenas.{cls.platform}: unknown option(s) {', '.join(unknown)} (accepted: {accepted})"
        )

    @classmethod
    def check_list(
        cls,
        options: Mapping[str, Any],
        name: str,
        what: str,
        each: Callable[[Any], object] | None = None,
    ) -> list[Any] | None:
        """``option_list`` for this arena's option ``name``."""
        return option_list(options, cls.platform, name, what, each)

    @classmethod
    def check_counts(cls, options: Mapping[str, Any], *names: str) -> None:
        """Refuse any of the options ``names`` (page or request budgets) that is set to
        something other than a whole number of at least 1."""
        for name in names:
            value = options.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ArenaOptionError(
                    f"arenas.{cls.platform}.{name} must be a whole number of at least 1, "
                    f"got {value!r}"
                )

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
