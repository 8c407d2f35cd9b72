"""bench/rss_fetch.py --scenario collection: 2,000 feeds over 50 hosts through a whole
collection run (issue 20, target 6). See the docstring of bench/rss_fetch.py."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PSEUDONYMIZATION_KEY", "bench-only-key")

from observatory_pipelines.arenas import registry  # noqa: E402
from observatory_pipelines.arenas.rss_feeds import RssFeedsCollector  # noqa: E402
from observatory_pipelines.collection.runs import start_run  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.engine import get_engine, migrate  # noqa: E402
from observatory_pipelines.db.scratch import (  # noqa: E402
    create_database,
    drop_database,
    server_url,
    unique_name,
)

RESULT = ROOT / "bench" / "results" / "rss_fetch.collection.json"
FIRST_PORT = 55650  # this benchmark's range: 55650-55709
HOSTS = 50
FEEDS = 2000
BUSIEST = 100
LATENCY = 0.25  # the issue measured 0.28 s per real feed, parsing included
ITEMS, MATCHING = 20, 2
TARGET_RATIO = 1.2
RSS_LIMIT_MB = 250
FROM, TO = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)


def host_shares(feeds: int, hosts: int, busiest: int) -> list[int]:
    """Feeds per host: one host with ``busiest``, the others falling evenly from 70 % of it
    to a handful, adjusted so they add up to ``feeds``."""
    rest = hosts - 1
    top, low = 0.7 * busiest, 8
    shares = [round(top - (top - low) * i / (rest - 1)) for i in range(rest)]
    n = 0
    while sum(shares) != feeds - busiest:
        step = 1 if sum(shares) < feeds - busiest else -1
        shares[n % rest] = min(busiest, max(1, shares[n % rest] + step))
        n += 1
    return [busiest, *shares]


class TreeMeter:
    """Peak RSS and CPU seconds of this process and its children (the parser processes),
    leaving out ``excluded`` pids (the feed servers): RSS sampled every 50 ms, the list of
    children refreshed every second (listing them scans all of /proc: sampled every 50 ms,
    that was ~5 % of the collector's own CPU)."""

    def __init__(self, excluded: set[int]):
        self.me = psutil.Process()
        self.excluded = excluded
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._tree: list[psutil.Process] = []

    def processes(self) -> list[psutil.Process]:
        kids = [p for p in self.me.children(recursive=True) if p.pid not in self.excluded]
        self._tree = [self.me, *kids]
        return self._tree

    def rss_and_cpu(self, tree: list[psutil.Process] | None = None) -> tuple[int, float, float]:
        """RSS of the tree, its CPU seconds, and this process's CPU seconds."""
        rss, cpu, main = 0, 0.0, 0.0
        for proc in tree or self.processes():
            try:
                rss += proc.memory_info().rss
                times = proc.cpu_times()
                cpu += times.user + times.system
                if proc.pid == self.me.pid:
                    main = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return rss, cpu, main

    def _sample(self) -> None:
        ticks = 0
        while not self._stop.wait(0.05):
            tree = self.processes() if ticks % 20 == 0 else self._tree
            self.peak = max(self.peak, self.rss_and_cpu(tree)[0])
            ticks += 1

    def __enter__(self) -> TreeMeter:
        self.peak = self.rss_and_cpu()[0]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def start_hosts(shares: list[int], round_: int) -> subprocess.Popen:
    config = {
        "ports": [FIRST_PORT + h for h in range(len(shares))],
        "feeds_per_host": shares, "items": ITEMS, "matching": MATCHING,
        "latency": LATENCY, "round": round_,
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "rss_hosts.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdin.write(json.dumps(config) + "\n")
    proc.stdin.flush()
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise SystemExit("the feed hosts did not start (ports 55650-55699 in use?)")
    return proc


def stop_hosts(proc: subprocess.Popen) -> list[list]:
    proc.stdin.write("dump\n")
    proc.stdin.flush()
    timeline = json.loads(proc.stdout.readline())
    proc.wait(timeout=30)
    return timeline


def spacing_report(timeline: list[list], spacing: float) -> dict:
    """Per host from the servers' own times: never two requests at once, never closer than
    the spacing; and how the busiest host's time went."""
    by_port: dict[int, list[tuple[float, float]]] = {}
    for port, _path, start, end in timeline:
        by_port.setdefault(port, []).append((start, end))
    overlaps, too_close, min_gap = 0, 0, float("inf")
    for visits in by_port.values():
        visits.sort()
        for (s1, e1), (s2, _e2) in zip(visits, visits[1:], strict=False):
            overlaps += s2 < e1
            too_close += s2 - s1 < spacing - 1e-3
            min_gap = min(min_gap, s2 - s1)
    first = min(start for _p, _x, start, _e in timeline)
    busiest = by_port[max(by_port, key=lambda p: len(by_port[p]))]
    idle = sum(s2 - e1 for (_s1, e1), (s2, _e2) in zip(busiest, busiest[1:], strict=False))
    return {
        "spacing_held": overlaps == 0 and too_close == 0,
        "overlapping_requests_on_one_host": overlaps,
        "requests_closer_than_spacing": too_close,
        "min_start_gap_on_one_host_s": round(min_gap, 4),
        "busiest_host": {
            "requests": len(busiest),
            "first_request_after_s": round(busiest[0][0] - first, 3),
            "span_s": round(busiest[-1][1] - busiest[0][0], 3),
            "idle_between_requests_s": round(idle, 3),
            "mean_idle_between_requests_ms": round(1000 * idle / max(len(busiest) - 1, 1), 1),
        },
        "last_request_end_after_s": round(max(e for *_x, e in timeline) - first, 3),
    }


def make_design(libpq: str, user: str, feeds: dict[str, str]) -> str:
    config = {"arenas": {"rss_feeds": {"feeds": feeds, "default_feeds": False}}}
    with psycopg.connect(libpq) as conn:
        design = conn.execute(
            "INSERT INTO query_designs (owner_id, name, arenas_config)"
            " VALUES (%s, 'bench rss', %s::jsonb) RETURNING id",
            (user, json.dumps(config)),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO search_terms (query_design_id, term, term_type)"
            " VALUES (%s, 'grønland', 'keyword')",
            (design,),
        )
        conn.execute("DELETE FROM http_cache")  # every run is a first collection
    return str(design)


def run_collection_scenario(repeat: int) -> None:
    os.environ["ARENA_RATE_LIMIT_SCALE"] = "1"  # the collector's real spacing
    # Every collector imported before the clock starts, as a Dagster process has loaded its
    # definitions before a run begins: the first repeat would otherwise time ~2 s of imports.
    registry.available_platforms()
    spacing = RssFeedsCollector.min_request_interval
    shares = host_shares(FEEDS, HOSTS, BUSIEST)
    bound = max(shares) * max(spacing, LATENCY)
    feeds = {
        f"avis{h}_{f}": f"http://127.0.0.1:{FIRST_PORT + h}/feed{f}"
        for h, n in enumerate(shares)
        for f in range(n)
    }
    load_before = os.getloadavg()
    server = server_url()
    name = unique_name("bench_rss")
    url = create_database(server, name)
    runs: list[dict] = []
    try:
        migrate(url)
        engine = get_engine(url)
        libpq = urls.libpq_url(url)
        with psycopg.connect(libpq) as conn:
            user = str(
                conn.execute(
                    "INSERT INTO users (email) VALUES ('bench-rss@example.org') RETURNING id"
                ).fetchone()[0]
            )
        for number in range(repeat):
            design = make_design(libpq, user, feeds)
            hosts = start_hosts(shares, number)
            try:
                load_at_start = os.getloadavg()[0]
                with TreeMeter({hosts.pid}) as meter:
                    _rss, cpu_before, main_before = meter.rss_and_cpu()
                    started = time.perf_counter()
                    started_at = time.monotonic()  # the feed hosts' clock
                    report = start_run(engine, design, FROM, TO)
                    seconds = time.perf_counter() - started
                    ended_at = time.monotonic()
                    _rss, cpu_after, main_after = meter.rss_and_cpu()
                    cpu, main_cpu = cpu_after - cpu_before, main_after - main_before
            finally:
                timeline = stop_hosts(hosts)
            [arena] = report.arenas
            run = {
                "seconds": round(seconds, 3),
                "ratio": round(seconds / bound, 3),
                "status": report.status,
                "records_collected": report.records_collected,
                "feeds_requested": len(timeline),
                "skipped_feeds": arena.sources.skipped,
                "peak_rss_mb": round(meter.peak / 2**20, 1),
                "tree_cpu_s": round(cpu, 2),
                "collector_process_cpu_s": round(main_cpu, 2),  # the rest: parser processes
                "load_1m": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
                **spacing_report(timeline, spacing),
                # before the first request (run, credits, task, caches) and after the last
                # answer (its parse, the last ingest, completion, settlement)
                "first_request_after_start_s": round(min(t[2] for t in timeline) - started_at, 3),
                "end_after_last_answer_s": round(ended_at - max(t[3] for t in timeline), 3),
            }
            runs.append(run)
            print(json.dumps({"run": number + 1, **run}), file=sys.stderr)
        engine.dispose()
    finally:
        drop_database(server, name)
    load_after = os.getloadavg()

    median = statistics.median(r["seconds"] for r in runs)
    cores = os.cpu_count() or 1
    result = {
        "bench": "rss_fetch.collection",
        "path": "collection.runs.start_run (rss_feeds, design feeds) into PostgreSQL",
        "hosts": HOSTS,
        "feeds": len(feeds),
        "feeds_on_busiest_host": max(shares),
        "latency_s": LATENCY,
        "spacing_s": spacing,
        "entries_per_feed": ITEMS,
        "matching_per_feed": MATCHING,
        "fetch_concurrency": int(os.environ.get("RSS_FETCH_CONCURRENCY", "0")) or "default",
        "bound_s": round(bound, 3),
        "median_seconds": round(median, 3),
        "best_seconds": min(r["seconds"] for r in runs),
        "worst_seconds": max(r["seconds"] for r in runs),
        "ratio": round(median / bound, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": median / bound <= TARGET_RATIO,
        "spacing_held": all(r["spacing_held"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rss_limit_mb": RSS_LIMIT_MB,
        "median_tree_cpu_s": statistics.median(r["tree_cpu_s"] for r in runs),
        "median_collector_process_cpu_s": statistics.median(
            r["collector_process_cpu_s"] for r in runs
        ),
        "runs": runs,
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "loaded": max(load_before[0], load_after[0], *(r["load_1m"]["end"] for r in runs)) > cores,
        "machine": f"{platform.machine()} {cores} cpu, python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result) + "\n")
    print(json.dumps(result))
