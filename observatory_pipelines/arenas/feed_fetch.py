"""Fetch many sources at once, never two at once on one host.

A catalogue lists a host's feeds together (DR serves 18): a plain pool of N workers would
give them all to DR, each waiting for DR's spacing, and the other hosts would wait too.
``fetch_by_host`` hands a worker only a source whose host is idle, so different hosts run
side by side while each host sees one request after the other, spaced by the HTTP client
(``http._wait_for_slot``). Sources are read lazily from the iterator and results are
yielded as they complete: memory holds at most ``workers`` results and a bounded queue of
sources waiting for a busy host, never the whole list.

``fetch_feed`` is one RSS/Atom GET: conditional when the feed's validators are known, and
every failure named with one of ``base.SKIP_REASONS`` instead of raised.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

import feedparser

from observatory_pipelines.arenas.base import ArenaError, Page, SkippedSource, SourceFailed
from observatory_pipelines.arenas.http import ArenaHttpClient, describe

T = TypeVar("T")
R = TypeVar("R")

# Sources read ahead per worker while looking for one on an idle host.
LOOKAHEAD_PER_WORKER = 10


def fetch_by_host(
    items: Iterable[T],
    host_of: Callable[[T], str],
    fetch: Callable[[T], R],
    *,
    workers: int,
    stop: threading.Event | None = None,
) -> Iterator[tuple[T, R]]:
    """``(item, fetch(item))`` in completion order; at most ``workers`` fetches at once and
    at most one per host. ``fetch`` should report its own failures in its result: an
    exception it raises ends the iteration (after the running fetches finish).

    When the consumer stops early (record cap, an interrupted run), ``stop`` is set before
    the running fetches are awaited, so fetches that watch it (``ArenaHttpClient``'s retry
    waits) end at once."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    source = iter(items)
    exhausted = False
    waiting: deque[tuple[T, str]] = deque()  # read, but their host is busy
    busy: set[str] = set()
    running: dict[Future[R], tuple[T, str]] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")

    def start(item: T, host: str) -> None:
        busy.add(host)
        running[pool.submit(fetch, item)] = (item, host)

    try:
        while True:
            for entry in list(waiting):
                if len(running) >= workers:
                    break
                if entry[1] not in busy:
                    waiting.remove(entry)
                    start(*entry)
            while (
                not exhausted
                and len(running) < workers
                and len(waiting) < workers * LOOKAHEAD_PER_WORKER
            ):
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                host = host_of(item)
                if host in busy:
                    waiting.append((item, host))
                else:
                    start(item, host)
            if not running:  # nothing busy, so nothing can be waiting either
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                item, host = running.pop(future)
                busy.discard(host)
                yield item, future.result()
    finally:
        # The consumer may stop early (record cap, interrupt): drop what has not started and
        # tell what is running to stop waiting.
        if stop is not None and (running or not exhausted):
            stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class FetchedFeed:
    """One feed's answer: the parsed feed, or the page saying why there is none."""

    key: str
    url: str
    parsed: Any | None  # feedparser's result when there are entries to map
    page: Page  # skip / 304 report and the validators to cache


def _looks_like_html(content_type: str, body: bytes) -> bool:
    if "html" in content_type and "xhtml" not in content_type:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def fetch_feed(
    http: ArenaHttpClient,
    key: str,
    url: str,
    cached: dict[str, str] | None,
    stop: threading.Event | None = None,
) -> FetchedFeed:
    """GET one feed, conditionally when ``cached`` holds its validators; never raises for
    the feed's own failures (they come back as a ``SkippedSource`` on the page)."""
    where = describe(url)
    page = Page(records=[])

    def skip(reason: str, detail: str) -> FetchedFeed:
        message = f"feed {key}: {detail}"
        page.errors.append(message)
        page.rejection_reasons.append(message)
        page.skipped.append(SkippedSource(key, reason, message, where))
        return FetchedFeed(key, url, None, page)

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
        return FetchedFeed(key, url, None, page)
    if response.status_code >= 400:
        page.validators.clear()  # an error page's validators describe the error page
        return skip("http_error", f"HTTP {response.status_code} from {where}")
    content_type = response.headers.get("content-type", "")
    try:
        parsed = feedparser.parse(response.content, response_headers={"content-type": content_type})
    except Exception as exc:  # one feed's bytes must not end the others' fetching
        page.validators.clear()
        return skip("unparseable", f"unparseable ({type(exc).__name__}) at {where}")
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        page.validators.clear()
        if _looks_like_html(content_type.lower(), response.content):
            return skip(
                "not_a_feed", f"an HTML page, not a feed ({content_type or 'no type'}) at {where}"
            )
        problem = type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else "no feed"
        return skip("unparseable", f"unparseable ({problem}) at {where}")
    return FetchedFeed(key, url, parsed, page)
