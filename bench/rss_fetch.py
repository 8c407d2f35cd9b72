"""RSS fetching: feeds on many hosts at once (RSS_FETCH_CONCURRENCY) vs one at a time.

Local HTTP servers on 127.0.0.1 (one per "host", each answering after ``--delay`` seconds,
like a real feed server's latency) serve ``--feeds-per-host`` feeds of 20 matching items
each, listed host by host as the catalogue lists them. The same ``RssFeedsCollector``
collects them twice per repeat, with the per-host spacing on (``ARENA_RATE_LIMIT_SCALE``):

* baseline: ``RSS_FETCH_CONCURRENCY=1`` — one feed after the other (what the original run of
  2,123 feeds amounted to);
* concurrent: ``RSS_FETCH_CONCURRENCY=--workers`` (default 10).

Both map every entry (the work a real run does besides waiting). The result is the ratio of
the medians of ``--repeat`` runs, with the load average before and after (the machine is
shared). No database is needed. Prints one JSON line and writes bench/results/rss_fetch.json.

    .venv/bin/python bench/rss_fetch.py [--hosts 10] [--feeds-per-host 10] [--delay 0.25]

``--scenario collection`` (issue 20, target 6) is a whole collection run instead: 2,000 feeds
over 50 hosts (bench/rss_hosts.py, ports 55650-55699, one busiest host with 100 feeds, the
others fewer and uneven, 0.25 s latency, 20 entries a feed of which 2 match), the design's
feeds given as ``arenas.rss_feeds.feeds``, collected through ``start_run`` into a fresh
database on the embedded server, spacing at its real 0.2 s. The bound is what the spacing
imposes on the busiest host, its feeds x max(spacing, latency); the result is the measured
run time beside it, their ratio (target <= 1.2), whether every host kept its spacing (from the
servers' own request times), the peak RSS of the process tree (collector and parser
processes; the feed servers and PostgreSQL are not in it) and its CPU seconds. Median of
``--repeat`` runs, a fresh design each; writes bench/results/rss_fetch.collection.json.

    .venv/bin/python bench/rss_fetch.py --scenario collection [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from observatory_pipelines.logs import configure_logging  # noqa: E402

configure_logging(logging.WARNING)

from observatory_pipelines.arenas.base import CollectionRequest, SearchTerm  # noqa: E402
from observatory_pipelines.arenas.registry import build_collector  # noqa: E402

RESULT = Path(__file__).with_name("results") / "rss_fetch.json"
TARGET_RATIO = 5.0  # 10 workers over >= 10 hosts must be at least 5x one at a time


def feed_body(host: int, feed: int) -> bytes:
    items = "".join(
        f"<item><guid>h{host}-f{feed}-{n}</guid><title>Grønland nyhed {host}/{feed}/{n}</title>"
        f"<link>https://www.example{host}.dk/{feed}/{n}</link>"
        f"<description>Debat om Grønland nummer {n}</description>"
        f"<pubDate>Tue, 03 Mar 2026 10:{n:02d}:00 +0000</pubDate></item>"
        for n in range(20)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Host {host}</title>{items}</channel></rss>"
    ).encode()


def start_host(index: int, feeds: int, delay: float) -> ThreadingHTTPServer:
    bodies = {f"/feed{f}": feed_body(index, f) for f in range(feeds)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            time.sleep(delay)
            body = bodies.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def collect_once(feeds: dict[str, str], workers: int) -> tuple[float, int]:
    os.environ["RSS_FETCH_CONCURRENCY"] = str(workers)
    request = CollectionRequest(
        date_from=datetime(2026, 3, 1, tzinfo=UTC),
        date_to=datetime(2026, 3, 8, tzinfo=UTC),
        terms=[SearchTerm("grønland")],
        options={"default_feeds": False, "feeds": feeds},
    )
    collector = build_collector("rss_feeds")
    started = time.perf_counter()
    records = sum(len(page.records) for page in collector.collect(request))
    return time.perf_counter() - started, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("concurrency", "collection"), default="concurrency")
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--feeds-per-host", type=int, default=10)
    # 0.28 s per feed is what the issue measured for real feeds (2,123 in 600 s).
    parser.add_argument("--delay", type=float, default=0.25, help="server latency, seconds")
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--spacing-scale", type=float, default=0.25,
                        help="ARENA_RATE_LIMIT_SCALE (RSS spacing is 0.2 s x this)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.scenario == "collection":
        from bench.rss_collection import run_collection_scenario

        return run_collection_scenario(repeat=args.repeat)

    os.environ["ARENA_RATE_LIMIT_SCALE"] = str(args.spacing_scale)
    servers = [start_host(h, args.feeds_per_host, args.delay) for h in range(args.hosts)]
    feeds = {
        f"h{h}_f{f}": f"http://127.0.0.1:{server.server_address[1]}/feed{f}"
        for h, server in enumerate(servers)
        for f in range(args.feeds_per_host)
    }
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"baseline": [], "concurrent": []}
    records: dict[str, int] = {}
    try:
        for _ in range(args.repeat):
            for phase, workers in (("baseline", 1), ("concurrent", args.workers)):
                seconds, records[phase] = collect_once(feeds, workers)
                times[phase].append(seconds)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    load_after = os.getloadavg()

    if records["baseline"] != records["concurrent"]:
        raise SystemExit(f"phases collected different records: {records}")
    median = {phase: statistics.median(values) for phase, values in times.items()}
    ratio = median["baseline"] / median["concurrent"]
    result = {
        "bench": "rss_fetch",
        "hosts": args.hosts,
        "feeds": len(feeds),
        "delay_s": args.delay,
        "spacing_s": round(0.2 * args.spacing_scale, 3),
        "workers": args.workers,
        "repeat": args.repeat,
        "records": records["concurrent"],
        "seconds": {phase: [round(v, 3) for v in values] for phase, values in times.items()},
        "median_seconds": {phase: round(v, 3) for phase, v in median.items()},
        "feeds_per_s": {phase: round(len(feeds) / v, 1) for phase, v in median.items()},
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, python {platform.python_version()}",
    }
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
