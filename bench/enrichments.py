"""Benchmark: every per-record enrichment, first run vs incremental run over 1 % new records.

    .venv/bin/python bench/enrichments.py [--rows 100000] [--new-share 0.01] [--repeat 3]
                                          [--only record_sentiment ...]

A fresh database on the embedded server is migrated and filled (COPY) with ``--rows``
records drawn from the demo's corpus generator (``demo/corpus.py``: Danish news articles
and Bluesky/Reddit/X posts with links, hashtags, mentions and Pareto engagement, February
to April 2026, so they land in the monthly partitions). Then, ``--repeat`` times:

1. every enrichment's results are emptied and it runs over all records (the first run);
2. every enrichment runs again with nothing new (the fixed cost of a run: pruning, the
   pending-records scan, the coverage counts);
3. ``--new-share`` × rows new records (the generator's next items) are added and every
   enrichment runs again: the incremental run, which should enrich only those;
4. the new records are deleted again, so each repetition measures the same thing.

Each run is what the asset runs (``service.enrich``: prune, enrich, count).

Reported per enrichment and in total: the medians of the first and incremental runs, their
ratio (the target is about the share of new records: 1 % of the work), the ratio of each
repetition, the per-record cost of the first run, the load average before and after, and
the peak RSS. Writes bench/results/enrichments.json (with ``--only``:
enrichments.<names>.json) and prints one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import reset_peak, status_mb
from observatory_pipelines.db.engine import connect, migrate
from observatory_pipelines.db.scratch import (
    create_database,
    drop_database,
    server_url,
    unique_name,
)
from observatory_pipelines.demo.corpus import Corpus, CorpusConfig, Item
from observatory_pipelines.enrichments.catalog import ENRICHMENTS
from observatory_pipelines.enrichments.service import enrich

# February to April 2026: the months the initial schema has partitions for. Scale 50 gives
# a little over 101,000 items (the default 100,000 + 1 %); more rows raise it in proportion.
CORPUS = CorpusConfig(seed=2026, end=date(2026, 4, 30), days=88, scale=50, news_authors=2000)
CORPUS_ITEMS = 101_000


def corpus_scale(items: int) -> float:
    return CORPUS.scale * max(1.0, 1.05 * items / CORPUS_ITEMS)


PLATFORM = {"news": "rss_feeds", "bluesky": "bluesky", "reddit": "reddit",
            "x_twitter": "x_twitter"}  # fmt: skip
COLUMNS = ("id", "published_at", "platform", "arena", "platform_id", "content_type", "url",
           "text_content", "title", "language", "author_platform_id", "views_count",
           "likes_count", "shares_count", "comments_count", "collection_tier", "raw_metadata",
           "collected_at")  # fmt: skip


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _row(item: Item, collected_at: datetime) -> tuple:
    news = item.kind == "news"
    return (
        uuid.uuid4(), item.published_at, PLATFORM[item.kind], "news" if news else "social",
        item.item_id, "article" if news else "post", item.url, item.text, item.title,
        item.language, item.author.user_id, item.views, item.likes, item.shares,
        item.comments, "free", "{}", collected_at,
    )  # fmt: skip


def copy_items(conn, items: Iterable[Item], ids: list[uuid.UUID] | None = None) -> int:
    """COPY the items as records (streamed: the base corpus is never held in memory); how
    many. Their ids go into ``ids`` when given (not for the base fill: 1 M ids would be
    ~110 MB of the process)."""
    collected_at = datetime.now(UTC)
    count = 0
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY content_records ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for item in items:
            row = _row(item, collected_at)
            if ids is not None:
                ids.append(row[0])
            count += 1
            copy.write_row(row)
    return count


def clear_results(conn, enrichments) -> None:
    tables = [t for e in enrichments for t in e.tables]
    conn.execute(f"TRUNCATE {', '.join(tables)}, enrichment_versions, enrichment_changes")
    conn.execute("VACUUM ANALYZE")


def run_all(url: str, enrichments) -> dict[str, dict]:
    """Every enrichment as its asset runs it (prune, enrich, coverage counts)."""
    measured = {}
    for enrichment in enrichments:
        started = time.perf_counter()
        result = enrich(url, enrichment)
        measured[enrichment.name] = {
            "seconds": time.perf_counter() - started,
            "records": result["records_enriched_now"],
            "mode": result["mode"],
            "records_examined": result["records_examined"],
            "changes_taken": result["changes_taken"],
            "rows_written": result["rows_written"],
        }
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--new-share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    names = [e.name for e in ENRICHMENTS]
    parser.add_argument("--only", nargs="+", choices=names, help="these enrichments only")
    args = parser.parse_args()
    enrichments = [e for e in ENRICHMENTS if not args.only or e.name in args.only]
    new_rows = max(1, round(args.rows * args.new_share))

    server = server_url()
    name = unique_name("bench_enrichments")
    url = create_database(server, name)
    try:
        migrate(url)
        scale = corpus_scale(args.rows + new_rows)
        stream = Corpus(dataclasses.replace(CORPUS, scale=scale)).iter_items()
        with connect(url, autocommit=True) as conn:
            started = time.perf_counter()
            base = copy_items(conn, islice(stream, args.rows))
            fill_seconds = time.perf_counter() - started
            new_items = list(islice(stream, new_rows))
            if base + len(new_items) < args.rows + new_rows:
                raise SystemExit("the corpus has too few items for --rows; raise CORPUS.scale")
            conn.execute("VACUUM ANALYZE content_records")
            load_before = os.getloadavg()
            rss_before_runs = status_mb("VmRSS")
            peaks_reset = reset_peak()
            phase_peaks: dict[str, list] = {"first": [], "incremental": []}
            firsts, incrementals = [], []
            noops = []
            for _ in range(args.repeat):
                clear_results(conn, enrichments)
                reset_peak()
                firsts.append(run_all(url, enrichments))
                phase_peaks["first"].append(status_mb("VmHWM"))
                noops.append(run_all(url, enrichments))  # nothing new: the fixed cost of a run
                added: list[uuid.UUID] = []
                copy_items(conn, new_items, added)
                conn.execute("ANALYZE content_records")
                reset_peak()
                incrementals.append(run_all(url, enrichments))
                phase_peaks["incremental"].append(status_mb("VmHWM"))
                conn.execute("DELETE FROM content_records WHERE id = ANY(%s)", [added])
            load_after = os.getloadavg()
    finally:
        if not args.keep:
            drop_database(server, name)

    def median(runs, enrichment):
        return statistics.median(r[enrichment]["seconds"] for r in runs)

    per_enrichment = {}
    for enrichment in enrichments:
        first, incremental = median(firsts, enrichment.name), median(incrementals, enrichment.name)
        per_enrichment[enrichment.name] = {
            "method_version": enrichment.method_version,
            "first_seconds": round(first, 3),
            "first_ms_per_record": round(1000 * first / args.rows, 4),
            "incremental_seconds": round(incremental, 3),
            "ratio": round(incremental / first, 4),
            "nothing_new_seconds": round(median(noops, enrichment.name), 3),
            "ratios": [
                round(i[enrichment.name]["seconds"] / f[enrichment.name]["seconds"], 4)
                for f, i in zip(firsts, incrementals, strict=True)
            ],
            "first_records": firsts[-1][enrichment.name]["records"],
            "incremental_records": incrementals[-1][enrichment.name]["records"],
            "first_rows_written": firsts[-1][enrichment.name]["rows_written"],
            "incremental_rows_written": incrementals[-1][enrichment.name]["rows_written"],
            "modes": [r[-1][enrichment.name]["mode"] for r in (firsts, noops, incrementals)],
            "nothing_new_records_examined": noops[-1][enrichment.name]["records_examined"],
            "incremental_records_examined": incrementals[-1][enrichment.name]["records_examined"],
        }
    first_totals = [sum(r[e]["seconds"] for e in r) for r in firsts]
    incremental_totals = [sum(r[e]["seconds"] for e in r) for r in incrementals]
    result = {
        "benchmark": "enrichments",
        "rows": args.rows,
        "corpus_scale": round(corpus_scale(args.rows + new_rows), 1),
        "only": args.only,
        "new_rows": new_rows,
        "repeat": args.repeat,
        "fill_seconds": round(fill_seconds, 2),
        "first_total_seconds": round(statistics.median(first_totals), 2),
        "incremental_total_seconds": round(statistics.median(incremental_totals), 3),
        "total_ratio": round(
            statistics.median(incremental_totals) / statistics.median(first_totals), 4
        ),
        "total_ratios": [
            round(i / f, 4) for f, i in zip(first_totals, incremental_totals, strict=True)
        ],
        "nothing_new_total_seconds": round(
            statistics.median(sum(r[e]["seconds"] for e in r) for r in noops), 3
        ),
        "records_per_second_first": round(args.rows / statistics.median(first_totals), 1),
        "enrichments": per_enrichment,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "peak_rss_mb": rss_mb(),  # the whole process, the fill and the corpus included
        "rss_before_runs_mb": rss_before_runs,
        # each first / incremental run's own peak (VmHWM reset before it), if the kernel allows
        "peak_rss_mb_per_phase": phase_peaks if peaks_reset else None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    suffix = "".join(f".{e.name}" for e in enrichments) if args.only else ""
    out = ROOT / "bench" / "results" / f"enrichments{suffix}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
