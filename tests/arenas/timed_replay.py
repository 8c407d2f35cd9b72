"""A replay server that also notes when it served each request, with per-path delays.

Tests of concurrent fetching assert on this timeline (which requests overlapped, which
came one after the other on one host) — never on how long a run took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.arenas.conftest import ReplayServer, Reply, Seen

# The skip-reason tests' feed timeout and the slow feed's delay: each of a redirect loop's 21
# hops must answer within the timeout on a loaded CI machine (0.5 s was not always enough),
# and the slow feed stays well past it.
FEED_TIMEOUT_SECONDS = 2.0
SLOW_FEED_SECONDS = 3.5


@dataclass(frozen=True)
class Visit:
    host: str  # 127.0.0.1:<port>: one replay server is one host
    path: str
    start: float  # time.monotonic() when the request arrived
    end: float  # ... and when its reply was about to be written


class TimedReplayServer(ReplayServer):
    def __init__(self) -> None:
        self.delays: dict[str, float] = {}
        self.timeline: list[Visit] = []
        super().__init__()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def add_slow(self, path: str, delay: float, *replies: Reply) -> None:
        """Serve ``path`` like ``add``, each reply ``delay`` seconds after the request came."""
        self.delays[path] = delay
        self.add(path, *replies)

    def _reply(self, seen: Seen) -> Reply:
        start = time.monotonic()
        reply = super()._reply(seen)
        time.sleep(self.delays.get(seen.path, 0.0))
        with self._lock:
            self.timeline.append(Visit(self.host, seen.path, start, time.monotonic()))
        return reply


def overlapping(a: Visit, b: Visit) -> bool:
    return a.start < b.end and b.start < a.end
