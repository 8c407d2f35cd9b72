"""RSS/Atom news feeds: the curated Danish list plus custom feeds, filtered client-side.

Options (``arenas_config["rss_feeds"]``): ``feeds`` (list of URLs → ``custom_N``, or
a ``{key: url}`` mapping), ``default_feeds`` (False = only the given feeds),
``outlets`` (restrict the catalog to these keys/outlet prefixes). Actors name a
feed key or outlet prefix (``dr``): their feeds are taken whole, unfiltered.
One page per feed; a feed that errors or cannot be parsed is skipped and reported.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import feedparser

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaError,
    ArenaOption,
    CollectionRequest,
    Collector,
    HealthStatus,
    Page,
)
from observatory_pipelines.arenas.feed_fetch import fetch_by_host, fetch_feed
from observatory_pipelines.arenas.feed_parse import FeedMapping
from observatory_pipelines.arenas.http import ArenaHttpClient, host_key
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.rss_feeds_catalog import DANISH_FEEDS, outlet_of
from observatory_pipelines.arenas.support import (
    SourceTally,
    record_cap,
)

HEALTH_FEED = DANISH_FEEDS["dr_allenyheder"]


def select_feeds(request: CollectionRequest) -> dict[str, str]:
    options = request.options or {}
    feeds: dict[str, str] = {}
    if options.get("default_feeds", RssFeedsCollector.option_default("default_feeds")):
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


@register
class RssFeedsCollector(Collector):
    platform = "rss_feeds"
    arena = "news_media"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 10_000
    # Feed URLs are data a researcher may add: no credential is ever sent with them.
    option_specs = (
        ArenaOption("default_feeds", "bool", True, "false: only the feeds the design gives"),
        ArenaOption(
            "outlets",
            "list of strings",
            None,
            "restrict the curated feeds to these keys or outlets",
        ),
        ArenaOption("feeds", "list of URLs or {key: URL}", None, "feeds added to the curated ones"),
        ArenaOption("custom_feeds", "list of URLs or {key: URL}", None, "another name for feeds"),
    )
    min_request_interval = 0.2  # per host; feeds on different hosts are fetched at once
    uses_http_cache = True  # ETag / Last-Modified per feed URL, kept across runs

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # RSS_FETCH_CONCURRENCY feeds at once on different hosts; one host (DR serves 18
        # feeds) gets one request at a time, at most 5 a second.
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            timeout=settings.rss_feed_timeout_seconds(),
            min_interval=self.min_request_interval,
            keepalive=settings.rss_fetch_concurrency(),
        )

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
        stop = threading.Event()
        # What the parser processes need to map a feed: the window and terms, not the list.
        slim = replace(request, options={}, actors=[])
        mapping = {
            flag: FeedMapping(self.platform, self.arena, slim, flag) for flag in (False, True)
        }
        fetched_feeds = fetch_by_host(
            feeds.items(),
            lambda kv: host_key(kv[1]),
            lambda kv: fetch_feed(
                self.http,
                kv[0],
                kv[1],
                self.http_cache.get(kv[1]),
                mapping[kv[0] in unfiltered],
                stop,
            ),  # fmt: skip
            workers=settings.rss_fetch_concurrency(),
            stop=stop,
        )
        try:
            for _kv, fetched in fetched_feeds:
                if remaining <= 0:
                    return
                tally.tried += 1
                self.units_spent += 1
                page = fetched.result()
                if page.skipped:
                    tally.failed.extend(page.errors)
                    yield page
                    continue
                # Entries repeated across feeds (one story in several of an outlet's feeds)
                # are kept once; the cap cuts the last page.
                kept = []
                for record in page.records:
                    if len(kept) >= remaining:
                        break
                    if record.platform_id:
                        if record.platform_id in seen:
                            continue
                        seen.add(record.platform_id)
                    kept.append(record)
                page.records = kept
                remaining -= len(kept)
                yield tally.ok(page)  # a 304 (nothing parsed) is a success too
        finally:
            fetched_feeds.close()  # sets ``stop`` for fetches still running
        tally.finish()
