"""Fetch many sources at once, one host at a time, the busiest host first and never idle.

A collection's time is bounded below by its busiest host: its sources one after the other,
each taking max(spacing, latency). ``fetch_by_host`` groups the sources by host and gives
each of ``workers`` lanes one host at a time, busiest first (a lane whose host is done takes
the busiest host left), so the busiest host starts at once and every host's next request
goes out as soon as its previous one is answered and the HTTP client's spacing allows
(``http._wait_for_slot``). Work that is not fetching (parsing a feed) must not run on the
lane: ``fetch_feed`` hands the body to the parser processes (``feed_parse``) and returns.
The source list is grouped up front (a design's feeds are a list in memory already);
results wait for the consumer in a bounded queue, so fetching runs at most ``ahead``
results ahead of what has been consumed.

``fetch_feed`` is one RSS/Atom GET: conditional when the feed's validators are known, and
every failure named with one of ``base.SKIP_REASONS`` instead of raised.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

from observatory_pipelines.arenas.base import ArenaError, Page, SourceFailed
from observatory_pipelines.arenas.feed_parse import FeedMapping, parse_pool, skipped_page
from observatory_pipelines.arenas.http import ArenaHttpClient, describe

T = TypeVar("T")
R = TypeVar("R")

# Results fetched but not yet consumed, per lane: enough that the parsers always have work.
AHEAD_PER_WORKER = 2
_LANE_DONE = object()


def hosts_busiest_first(items: Iterable[T], host_of: Callable[[T], str]) -> deque[deque[T]]:
    """Each host's items (in the order given), the host with the most items first."""
    by_host: dict[str, deque[T]] = {}
    for item in items:
        by_host.setdefault(host_of(item), deque()).append(item)
    return deque(sorted(by_host.values(), key=len, reverse=True))  # stable: ties keep order


def fetch_by_host(
    items: Iterable[T],
    host_of: Callable[[T], str],
    fetch: Callable[[T], R],
    *,
    workers: int,
    stop: threading.Event | None = None,
    ahead: int | None = None,
) -> Iterator[tuple[T, R]]:
    """``(item, fetch(item))`` in completion order; at most ``workers`` fetches at once and
    one per host, hosts with the most items first. ``fetch`` should report its own failures
    in its result: an exception it raises ends the iteration (the lanes stop after their
    current fetch).

    When the consumer stops early (record cap, an interrupted run), ``stop`` is set before
    the lanes are awaited, so fetches that watch it (``ArenaHttpClient``'s retry waits) end
    at once."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    stop = stop or threading.Event()
    hosts = hosts_busiest_first(items, host_of)
    hosts_lock = threading.Lock()
    results: queue.Queue = queue.Queue()
    room = threading.Semaphore(ahead or workers * AHEAD_PER_WORKER)

    def next_host() -> deque[T] | None:
        with hosts_lock:
            return hosts.popleft() if hosts else None

    def lane() -> None:
        try:
            while not stop.is_set() and (mine := next_host()) is not None:
                for item in mine:
                    room.acquire()
                    if stop.is_set():
                        return
                    try:
                        results.put((item, fetch(item), None))
                    except BaseException as exc:  # the consumer raises it
                        results.put((item, None, exc))
                        return
        finally:
            results.put(_LANE_DONE)

    lanes = [
        threading.Thread(target=lane, name=f"fetch-{n}", daemon=True)
        for n in range(min(workers, len(hosts)))
    ]
    for thread in lanes:
        thread.start()
    running = len(lanes)
    try:
        while running:
            got = results.get()
            if got is _LANE_DONE:
                running -= 1
                continue
            item, result, error = got
            if error is not None:
                raise error
            yield item, result
            room.release()
    finally:
        # The consumer may stop early (record cap, interrupt): what has not started is
        # dropped and what is running is told to stop waiting.
        if running:
            stop.set()
            for _ in lanes:
                room.release()  # wake lanes waiting for room, so they see ``stop``
        for thread in lanes:
            thread.join()


@dataclass
class FetchedFeed:
    """One feed's answer: a parse under way in the parser processes, or the page that
    says why there is nothing to parse (a skip, a 304)."""

    key: str
    url: str
    page: Page  # skip / 304 report, and the validators to cache
    parsing: Future[Page] | None = None

    def result(self) -> Page:
        """The feed's page: its mapped entries with the response's validators, or a skip."""
        if self.parsing is None:
            return self.page
        page = self.parsing.result()
        if not page.skipped:  # an unparseable body's validators describe nothing worth keeping
            page.validators = self.page.validators
        return page


def fetch_feed(
    http: ArenaHttpClient,
    key: str,
    url: str,
    cached: dict[str, str] | None,
    mapping: FeedMapping,
    stop: threading.Event | None = None,
) -> FetchedFeed:
    """GET one feed, conditionally when ``cached`` holds its validators, and hand its body
    to the parser processes; never raises for the feed's own failures (they come back as a
    ``SkippedSource`` on the page)."""
    where = describe(url)

    def skip(reason: str, detail: str) -> FetchedFeed:
        return FetchedFeed(key, url, skipped_page(key, reason, detail, where))

    headers = {}
    if cached and cached.get("etag"):
        headers["If-None-Match"] = cached["etag"]
    if cached and cached.get("last_modified"):
        headers["If-Modified-Since"] = cached["last_modified"]
    try:
        response = http.get(url, headers=headers, stop=stop)
    except SourceFailed as exc:
        return skip(exc.reason, str(exc))
    except ArenaError as exc:
        return skip("error", str(exc))
    page = Page(records=[])
    validators = {
        name: response.headers[header]
        for name, header in (("etag", "etag"), ("last_modified", "last-modified"))
        if response.headers.get(header)
    }
    if validators:
        page.validators[url] = validators
    if response.status_code == 304:
        page.not_modified = 1
        if validators:  # a 304 may repeat only some of them: keep the others
            page.validators[url] = {**(cached or {}), **validators}
        return FetchedFeed(key, url, page)
    if response.status_code >= 400:  # an error page's validators describe the error page
        return skip("http_error", f"HTTP {response.status_code} from {where}")
    content_type = response.headers.get("content-type", "")
    parsing = parse_pool().submit(key, url, where, response.content, content_type, mapping)
    return FetchedFeed(key, url, page, parsing)
