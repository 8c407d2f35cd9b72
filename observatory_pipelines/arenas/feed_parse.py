"""Parse and map one feed's bytes, in a separate process so parsing never holds up fetching.

Reading a feed costs CPU (``rss_reader`` ~1-2 ms for a 20-entry RSS 2.0 feed; feedparser,
which reads every other feed, is pure Python: ~0.6 ms an entry, 13-16 ms a 20-entry feed): in
the fetching process it would hold the GIL while the other hosts' responses wait to be read,
and use one core only. ``parse_feed`` runs in a few parser processes (``parse_pool``) instead:
the fetch threads hand over the body and fetch the host's next feed at once, and the pool
sends back only what the feed contributes — the mapped records of the entries that match,
or the reason the feed was skipped. The module imports nothing the workers do not need
(a worker is ~22 MB).
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO, Any

import feedparser

from observatory_pipelines.arenas.base import CollectionRequest, Page, SkippedSource
from observatory_pipelines.arenas.rss_entries import map_entry
from observatory_pipelines.arenas.rss_reader import read_rss
from observatory_pipelines.arenas.support import map_page

# A 2-core machine parses on both; more processes than cores only add memory.
MAX_PARSE_PROCESSES = 4
_LENGTH = struct.Struct("!Q")

_pool_lock = threading.Lock()
_pool: ParserProcesses | None = None


@dataclass(frozen=True)
class FeedMapping:
    """What mapping a feed's entries needs besides the feed itself (sent with every feed,
    so it holds only the request's window and terms, never the design's feed list)."""

    platform: str
    arena: str
    request: CollectionRequest
    unfiltered: bool


def _send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the stream ended")
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the stream ended mid-message")
    return pickle.loads(data)


class ParserProcesses:
    """``processes`` parser processes, each fed one feed at a time by a thread of its own
    from one shared queue. A worker is a fresh interpreter (``python -c``) that imports this
    module only: not multiprocessing's spawn, which would import the parent's ``__main__``
    (Dagster's CLI) in every worker, nor fork, which copies a process whose threads may hold
    locks. A worker ends when its stdin closes (the parent exited or died)."""

    def __init__(self, processes: int):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        for n in range(processes):
            threading.Thread(target=self._drive, name=f"feed-parser-{n}", daemon=True).start()

    def submit(self, key: str, url: str, where: str, body: bytes, content_type: str,
               mapping: FeedMapping) -> Future[Page]:  # fmt: skip
        future: Future[Page] = Future()
        self._jobs.put(((key, url, where, body, content_type, mapping), future))
        return future

    @staticmethod
    def _start() -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from observatory_pipelines.arenas.feed_parse import serve; serve()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def _drive(self) -> None:
        worker: subprocess.Popen | None = None
        while True:
            job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            if worker is None:
                worker = self._start()
            try:
                _send(worker.stdin, job)
                future.set_result(_receive(worker.stdout))
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                # The parser died on this feed (a crash, out of memory): the feed is skipped
                # and the next one gets a fresh process.
                worker.kill()
                code = worker.wait()
                worker = None
                key, _url, where = job[:3]
                detail = (
                    f"the feed parser stopped on it ({type(exc).__name__}, exit {code}) at {where}"
                )
                future.set_result(skipped_page(key, "unparseable", detail, where))


def parse_pool() -> ParserProcesses:
    """The process's parser processes, started on first use and shared by every collection
    in the process."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ParserProcesses(max(1, min(os.cpu_count() or 1, MAX_PARSE_PROCESSES)))
        return _pool


def serve() -> None:
    """A parser process: ``parse_feed`` for each job on stdin, its page on stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but pages may reach the parent's pipe
    while True:
        try:
            job = _receive(stdin)
        except EOFError:
            return
        _send(stdout, parse_feed(*job))


def _looks_like_html(content_type: str, body: bytes) -> bool:
    if "html" in content_type and "xhtml" not in content_type:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def skipped_page(key: str, reason: str, detail: str, where: str) -> Page:
    message = f"feed {key}: {detail}"
    return Page(
        records=[],
        errors=[message],
        rejection_reasons=[message],
        skipped=[SkippedSource(key, reason, message, where)],
    )


def parse_feed(
    key: str, url: str, where: str, body: bytes, content_type: str, mapping: FeedMapping
) -> Page:
    """The page of one feed's entries (every matching entry mapped, none deduplicated:
    the collector drops ids it has seen), or a skipped page naming why there is none."""
    try:
        # The common RSS 2.0 feed is read by ``rss_reader`` (the same entries, ~30x less
        # CPU); the rest by feedparser. Neither feedparser's HTML sanitizer nor its rewriting
        # of links inside HTML is needed (a fifth of its time): mapping keeps the visible
        # text only, scripts and styles dropped (``text.strip_html``), and resolves the
        # entry's own link itself.
        parsed = read_rss(body, content_type) or feedparser.parse(
            body,
            response_headers={"content-type": content_type},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # one feed's bytes must not end the others' fetching
        return skipped_page(
            key, "unparseable", f"unparseable ({type(exc).__name__}) at {where}", where
        )
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        if _looks_like_html(content_type.lower(), body):
            detail = f"an HTML page, not a feed ({content_type or 'no type'}) at {where}"
            return skipped_page(key, "not_a_feed", detail, where)
        problem = type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else "no feed"
        return skipped_page(key, "unparseable", f"unparseable ({problem}) at {where}", where)
    feed: Any = parsed.get("feed")
    page = map_page(
        parsed.entries,
        lambda entry: map_entry(
            entry,
            platform=mapping.platform,
            arena=mapping.arena,
            key=key,
            feed=feed,
            feed_url=url,
            request=mapping.request,
            unfiltered=mapping.unfiltered,
        ),
    )
    if parsed.get("bozo") and parsed.entries:
        page.rejection_reasons.append(
            f"feed {key}: tolerated malformed feed ({type(parsed.bozo_exception).__name__})"
        )
    return page
