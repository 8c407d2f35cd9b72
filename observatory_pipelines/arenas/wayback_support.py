"""What the web-archive arenas (wayback, common_crawl) share: their sources (domains and
URL prefixes), the run's text-fetch budget, and stopping when the archive keeps refusing.

A design names the sites whose captures it wants, as plain public host names
(``dr.dk``) or https URL prefixes (``https://www.altinget.dk/artikel/``). They are
keys looked up in an archive's index, never hosts a collector connects to (the index
and archive hosts come from the operator's settings); still, only names that could
be public web sites are accepted, so a design cannot ask the archive about
``localhost`` or 10.0.0.1 and nobody is misled by a capture list of an intranet name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from observatory_pipelines.arenas.base import (
    ActorRef,
    ArenaError,
    ArenaOptionError,
    NormalizedRecord,
    Page,
    SkippedSource,
    option_list,
)
from observatory_pipelines.arenas.mastodon_support import InstanceRefused, instance_host
from observatory_pipelines.arenas.support import failed_source

TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
TEXT_FETCH_CAP = 50  # spec: 50 pages (or WARC records) fetched for text a run
TEXT_FETCH_BUDGET_S = 600.0  # all text fetches of one run together


class StopCollecting(ArenaError):
    """The archive keeps refusing (429 through the retries): stop with what we have."""


class TextFetches:
    """The run's budget of text fetches: at most ``max_text_fetches`` (capped at
    TEXT_FETCH_CAP) and TEXT_FETCH_BUDGET_S seconds in all; records past it keep their
    capture and say why they have no text."""

    def __init__(self, options: dict[str, Any]):
        self.enabled = options.get("fetch_text", True)
        cap = options.get("max_text_fetches")
        cap = TEXT_FETCH_CAP if cap is None else max(0, min(int(cap), TEXT_FETCH_CAP))
        self.left = cap if self.enabled else 0
        self.ends = time.monotonic() + TEXT_FETCH_BUDGET_S

    def fetch(self, records: Iterable[NormalizedRecord], fetch: Callable[..., Any]) -> None:
        for record in records:
            if self.left <= 0 or time.monotonic() > self.ends:
                if self.enabled:
                    record.raw_metadata["content_fetch_error"] = (
                        "not fetched: the run's text fetch cap or time was spent"
                    )
                continue
            self.left -= 1
            fetch(record)


def stopped_page(message: str, not_asked: Sequence[str]) -> Page:
    """The page that ends a collection the archive stopped: the stop, and each source
    (by its label) that was not asked."""
    page = failed_source(message, "rate_limited")
    page.skipped += [
        SkippedSource(label, "stopped", f"{label}: not asked, the collection stopped")
        for label in not_asked
    ]
    return page


@dataclass(frozen=True)
class WebSource:
    kind: str  # "domain" | "prefix"
    value: str  # host name (IDNA, lowercase) or the https URL prefix as given
    host: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value}"


def _host(value: str, platform: str, what: str) -> str:
    try:
        return instance_host(value)
    except InstanceRefused as exc:
        reason = str(exc).split(" refused: ", 1)[-1] if " refused: " in str(exc) else str(exc)
        raise ArenaOptionError(f"arenas.{platform}.{what}: {value!r} refused: {reason}") from None


def parse_source(value: Any, platform: str, what: str) -> WebSource:
    """One domain or URL prefix, or ``ArenaOptionError`` naming it and why not."""
    if not isinstance(value, str) or not value.strip():
        raise ArenaOptionError(f"arenas.{platform}.{what}: {value!r} is not a host name or URL")
    raw = value.strip()
    if "://" not in raw:
        return WebSource("domain", _host(raw, platform, what), _host(raw, platform, what))
    parts = urlsplit(raw)
    if parts.scheme.lower() != "https":
        raise ArenaOptionError(
            f"arenas.{platform}.{what}: {raw!r} refused: give an https URL (the index "
            f"matches http and https captures alike)"
        )
    if parts.username or parts.password or parts.port:
        raise ArenaOptionError(
            f"arenas.{platform}.{what}: {raw!r} refused: no user, password or port"
        )
    host = _host(parts.hostname or "", platform, what)
    if parts.path in ("", "/") and not parts.query:
        return WebSource("domain", host, host)
    return WebSource("prefix", raw, host)


def design_sources(
    options: dict[str, Any], actors: Iterable[ActorRef], platform: str
) -> tuple[list[WebSource], list[tuple[str, str]]]:
    """(sources, refused) from the options ``domains`` and ``url_prefixes`` and the
    design's actors on this platform (a host name or URL as their user name or id).
    ``refused`` holds (name, why) of each value that is not a public site."""
    found: dict[str, WebSource] = {}
    refused: list[tuple[str, str]] = []
    entries: list[tuple[str, Any]] = []
    for key in ("domains", "url_prefixes"):
        values = options.get(key) or []
        if isinstance(values, str):
            values = [values]
        entries += [(key, v) for v in values]
    for actor in actors:
        entries.append(("actors", actor.platform_username or actor.platform_user_id))
    for key, value in entries:
        try:
            source = parse_source(value, platform, key)
        except ArenaOptionError as exc:
            refused.append((str(value), str(exc)))
            continue
        found.setdefault(source.label, source)
    return list(found.values()), refused


def check_source_options(options: Any, platform: str) -> None:
    """Design-time check: every domain and prefix must parse (the first bad one named)."""
    for key in ("domains", "url_prefixes"):
        option_list(
            options, platform, key, "strings", lambda v, key=key: parse_source(v, platform, key)
        )


def window_timestamps(date_from: datetime, date_to: datetime) -> tuple[str, str]:
    """The 14-digit ``from``/``to`` of an index query: ``to`` is inclusive there, the
    window's end exclusive, so the last second before it."""
    last = date_to - timedelta(seconds=1)
    return (
        date_from.astimezone(UTC).strftime(TIMESTAMP_FORMAT),
        last.astimezone(UTC).strftime(TIMESTAMP_FORMAT),
    )


def capture_time(value: Any) -> datetime:
    """A capture's 14-digit timestamp as UTC (``ValueError`` when it is not one)."""
    if not isinstance(value, str) or len(value) != 14 or not value.isdigit():
        raise ValueError(f"capture timestamp {value!r} is not 14 digits")
    return datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def host_of(url: str) -> str | None:
    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:
        return None
