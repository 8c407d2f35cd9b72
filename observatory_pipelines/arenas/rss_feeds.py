"""RSS/Atom news feeds: the curated Danish list plus custom feeds, filtered client-side.

Options (``arenas_config["rss_feeds"]``): ``feeds`` (list of URLs → ``custom_N``, or
a ``{key: url}`` mapping), ``default_feeds`` (False = only the given feeds),
``outlets`` (restrict the catalog to these keys/outlet prefixes). Actors name a
feed key or outlet prefix (``dr``): their feeds are taken whole, unfiltered.
One page per feed; a feed that errors or cannot be parsed is skipped and reported.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import feedparser

from observatory_pipelines.arenas.base import (
    ArenaError,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.matching import matches_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.rss_feeds_catalog import DANISH_FEEDS, outlet_name, outlet_of
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    failed_source,
    in_window,
    map_page,
    record_cap,
)
from observatory_pipelines.arenas.text import parse_datetime, plausible_date, strip_html

CONCURRENT_FEEDS = 10
HEALTH_FEED = DANISH_FEEDS["dr_allenyheder"]


def select_feeds(request: CollectionRequest) -> dict[str, str]:
    options = request.options or {}
    feeds: dict[str, str] = {}
    if options.get("default_feeds", True):
        wanted = options.get("outlets")
        for key, url in DANISH_FEEDS.items():
            if not wanted or key in wanted or outlet_of(key) in wanted:
                feeds[key] = url
    given = options.get("feeds") or options.get("custom_feeds") or []
    if isinstance(given, dict):
        feeds.update({str(k): str(v) for k, v in given.items()})
    else:
        for index, url in enumerate(given, start=1):
            feeds[f"custom_{index}"] = str(url)
    return feeds


def _actor_keys(request: CollectionRequest, feeds: dict[str, str]) -> set[str]:
    names = {
        (a.platform_username or a.platform_user_id or "").strip().lower() for a in request.actors
    }
    names.discard("")
    return {k for k in feeds if k.lower() in names or outlet_of(k).lower() in names}


def _struct_to_dt(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


@register
class RssFeedsCollector(Collector):
    platform = "rss_feeds"
    arena = "news_media"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 10_000
    # Feed URLs are data a researcher may add: no credential is ever sent with them.
    design_options = frozenset({"default_feeds", "outlets", "feeds", "custom_feeds"})

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # Up to 10 feeds at once, but one host (DR serves 18 feeds) gets at most 5 requests a second.
        self.http = ArenaHttpClient(self.rate_limit_state, timeout=30.0, min_interval=0.2)

    def estimate_units(self, request: CollectionRequest) -> int:
        return len(select_feeds(request))

    def health_check(self) -> HealthStatus:
        try:
            response = self.http.get(HEALTH_FEED)
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        parsed = feedparser.parse(response.content)
        ok = response.status_code < 400 and bool(parsed.entries)
        return HealthStatus(
            ok=ok, detail=f"HTTP {response.status_code}, {len(parsed.entries)} entries"
        )

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        feeds = select_feeds(request)
        unfiltered = _actor_keys(request, feeds)
        if request.actors and not request.terms:
            feeds = {k: v for k, v in feeds.items() if k in unfiltered}
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        items = list(feeds.items())
        with ThreadPoolExecutor(max_workers=CONCURRENT_FEEDS) as pool:
            # Windows of 10 feeds: at most 10 feed bodies in memory at once.
            for start in range(0, len(items), CONCURRENT_FEEDS):
                window = items[start : start + CONCURRENT_FEEDS]
                for key, _url, fetched in zip(
                    [k for k, _ in window],
                    [u for _, u in window],
                    pool.map(lambda kv: self._fetch(*kv), window),
                    strict=True,
                ):
                    if remaining <= 0:
                        return
                    tally.tried += 1
                    self.units_spent += 1
                    if isinstance(fetched, Page):
                        if fetched.errors:
                            tally.failed.extend(fetched.errors)
                        else:
                            tally.ok(fetched)  # 304: unchanged is a success
                        yield fetched
                        continue
                    page = map_page(
                        fetched.entries,
                        lambda e, k=key: self._map(e, k, request, k in unfiltered),
                        seen=seen,
                        limit=remaining,
                    )
                    if fetched.get("bozo") and fetched.entries:
                        page.rejection_reasons.append(
                            f"feed {key}: tolerated malformed feed ({type(fetched.bozo_exception).__name__})"
                        )
                    remaining -= len(page.records)
                    yield tally.ok(page)
        tally.finish()

    def _fetch(self, key: str, url: str) -> Any:
        """The parsed feed, or a Page reporting why this feed was skipped."""
        cache = self.rate_limit_state.setdefault("rss_cache", {})
        headers = {}
        cached = cache.get(url) or {}
        if cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        if cached.get("last_modified"):
            headers["If-Modified-Since"] = cached["last_modified"]
        try:
            response = self.http.get(url, headers=headers)
        except ArenaError as exc:
            return failed_source(f"feed {key}: {exc}")
        if response.status_code == 304:
            return Page(records=[])
        if response.status_code >= 400:
            return failed_source(f"feed {key}: HTTP {response.status_code} from {describe(url)}")
        parsed = feedparser.parse(
            response.content,
            response_headers={"content-type": response.headers.get("content-type", "")},
        )
        if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
            reason = (
                type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else "no feed"
            )
            return failed_source(f"feed {key}: unparseable ({reason}) at {describe(url)}")
        entry = {}
        if response.headers.get("etag"):
            entry["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            entry["last_modified"] = response.headers["last-modified"]
        if entry:
            cache[url] = entry
        return parsed

    def _map(
        self, entry: Any, key: str, request: CollectionRequest, unfiltered: bool
    ) -> NormalizedRecord:
        link = entry.get("link")
        platform_id = entry.get("id") or link
        if not platform_id:
            raise Reject(f"feed {key}: entry without guid or link")
        meta: dict[str, Any] = {
            "feed_key": key,
            "outlet_name": outlet_name(key),
            "tags": [t.get("term") for t in entry.get("tags") or [] if t.get("term")],
        }
        raw_date = entry.get("published") or entry.get("updated")
        struct = entry.get("published_parsed") or entry.get("updated_parsed")
        candidate = parse_datetime(raw_date) or _struct_to_dt(struct)
        published = plausible_date(candidate or raw_date, meta)
        if not in_window(published, request):
            raise Skip
        title = strip_html(entry.get("title"))
        summary = entry.get("summary")
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value")
        text = strip_html(summary)
        if not unfiltered and not matches_groups(f"{title or ''} {text or ''}", request.terms):
            raise Skip
        media = [m.get("url") for m in entry.get("media_content") or []]
        media += [e.get("href") for e in entry.get("enclosures") or []]
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="article",
            platform_id=platform_id,
            published_at=published,
            url=link,
            title=title,
            text_content=text,
            language="da",
            author_display_name=entry.get("author"),
            raw_metadata=meta,
            media_urls=[m for m in media if m],
            hash_source=title,
        )
