"""Benchmark: the research analyses on N records (default 100,000; the issue's figure is 1 M).

    .venv/bin/python bench/research.py [--rows N] [--repeat 3] [--only link_mining ...] [--keep]

The database is built the way bench/analysis.py builds it (its fill: one design, 5
platforms, 3 months, 20,000 authors), plus the enrichment rows the analyses read, derived in
SQL (bench/sql/research_enrichments.sql: links with a skewed page popularity, news articles
shared, near-duplicate groups of three), and record_terms run for real (its time and
table size reported under "enrichments"); the enrichments themselves are timed by
bench/enrichments.py. Each analysis runs as its asset runs it (``compute`` on one connection
with the standard scope), --repeat times, interleaved with one sequential scan of the
records (``SELECT count(*), sum(length(text_content))``) and bench/analysis.py's
descriptive + network suite (issue 19's yardstick: each analysis within 3x the suite);
medians reported, with each analysis' ratio to the scan and to the suite, its seconds per
SQL file (framework.timed_steps; the rest as "python": shaping, network metrics, charts),
the load average before and after, and the peak RSS. --setup-only builds and keeps the
database and prints its URL for --reuse. Writes bench/results/research.json and prints
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import analysis as analysis_bench  # noqa: E402  (bench/analysis.py: the same database)

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.engine import connect  # noqa: E402
from observatory_pipelines.db.scratch import drop_database  # noqa: E402
from observatory_pipelines.enrichments.catalog import TERMS  # noqa: E402
from observatory_pipelines.enrichments.service import enrich  # noqa: E402
from observatory_pipelines.research.catalog import ANALYSES  # noqa: E402
from observatory_pipelines.research.framework import timed_steps  # noqa: E402

SCAN_SQL = "SELECT count(*), sum(length(text_content)) FROM content_records"
ENRICHMENT_FILL = ROOT / "bench" / "sql" / "research_enrichments.sql"
# hashtags, mentions, replies and quotes (interaction_networks, dynamic_gexf)
INTERACTION_FILL = ROOT / "bench" / "sql" / "research_interactions.sql"


def fill_enrichments(url: str) -> None:
    with connect(url) as conn:
        conn.execute(ENRICHMENT_FILL.read_text(encoding="utf-8"))
        conn.execute(INTERACTION_FILL.read_text(encoding="utf-8"))
        conn.commit()
    with connect(url, autocommit=True) as conn:
        for table in ("enrichment_urls", "enrichment_near_dup", "enrichment_near_dup_groups",
                      "enrichment_tags", "content_records"):  # fmt: skip
            conn.execute(f"VACUUM ANALYZE {table}")


def run_real_enrichments(url: str) -> dict:
    """The enrichments derived from the texts by the real code, not in SQL: record_terms
    (each record tokenised once; on a reused database only its new records)."""
    started = time.perf_counter()
    result = enrich(url, TERMS)
    seconds = time.perf_counter() - started
    with connect(url) as conn:
        size = conn.execute("SELECT pg_total_relation_size('enrichment_terms')").fetchone()[0]
    return {TERMS.name: {"seconds": round(seconds, 1), "mode": result["mode"],
                         "records": result["records_enriched_now"],
                         "table_mb": round(size / 2**20, 1)}}  # fmt: skip


def time_analysis(conn, analysis, params) -> tuple[float, dict, dict[str, float]]:
    """Seconds, output sizes, and seconds per SQL file (summed over its runs) with the rest
    as "python" (shaping, network metrics, charts)."""
    with timed_steps() as steps:
        started = time.perf_counter()
        output = analysis.compute(conn, params)
        seconds = time.perf_counter() - started
    conn.rollback()  # the asset's connection ends here: its temp tables go
    per_step: dict[str, float] = {}
    for name, took in steps:
        per_step[name] = per_step.get(name, 0.0) + took
    per_step["python"] = seconds - sum(per_step.values())
    return (
        seconds,
        {name: len(t.rows) for name, t in output.tables.items()} | {"summary": output.summary},
        per_step,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=[a.name for a in ANALYSES])
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", metavar="URL", help="a database a --keep run left (kept)")
    parser.add_argument("--setup-only", action="store_true",
                        help="build (and keep) the database, print its URL, measure nothing")  # fmt: skip
    args = parser.parse_args()
    analyses = [a for a in ANALYSES if not args.only or a.name in args.only]

    started = time.perf_counter()
    if args.reuse:
        url, args.keep = args.reuse, True
        with connect(url) as conn:
            design = str(conn.execute("SELECT id FROM query_designs").fetchone()[0])
            args.rows = conn.execute("SELECT count(*) FROM content_records").fetchone()[0]
    else:
        server, url, design = analysis_bench.setup_database(args.rows)
        fill_enrichments(url)
    enrichments = run_real_enrichments(url)
    setup_seconds = time.perf_counter() - started
    if args.setup_only:
        print(json.dumps({"database_url": url, "rows": args.rows,
                          "setup_seconds": round(setup_seconds, 1), "enrichments": enrichments}))  # fmt: skip
        return
    result: dict = {"benchmark": "research", "rows": args.rows, "repeat": args.repeat,
                    "setup_seconds": round(setup_seconds, 1),
                    "enrichments": enrichments}  # fmt: skip
    try:
        with connect(url) as conn:
            params = check_scope(conn, AnalysisScope(design))
            conn.execute(SCAN_SQL).fetchone()  # warm the cache
            conn.rollback()
            load_before = os.getloadavg()
            scans: list[float] = []
            suites: list[float] = []  # bench/analysis.py's descriptive + network suite
            seconds: dict[str, list[float]] = {a.name: [] for a in analyses}
            steps: dict[str, list[dict[str, float]]] = {a.name: [] for a in analyses}
            outputs: dict[str, dict] = {}
            for _ in range(args.repeat):  # interleaved, so load changes hit all alike
                scans += analysis_bench._timed(lambda: conn.execute(SCAN_SQL).fetchone(), 1)[0]
                conn.rollback()
                suites += analysis_bench._timed(lambda: analysis_bench.suite(conn, design), 1)[0]
                conn.rollback()
                for analysis in analyses:
                    took, outputs[analysis.name], split = time_analysis(conn, analysis, params)
                    seconds[analysis.name].append(took)
                    steps[analysis.name].append(split)
                    print(json.dumps({analysis.name: round(took, 3)}), file=sys.stderr)
            load_after = os.getloadavg()
        scan, suite = statistics.median(scans), statistics.median(suites)
        result.update(
            scan_seconds=round(scan, 3),
            scan=analysis_bench._stats(scans),
            suite_seconds=round(suite, 3),
            suite=analysis_bench._stats(suites),
            suite_vs_scan=round(suite / scan, 2),
            analyses={
                name: {
                    **analysis_bench._stats(runs),
                    "vs_scan": round(statistics.median(runs) / scan, 2),
                    # issue 19: each analysis within 3x the suite
                    "vs_suite": round(statistics.median(runs) / suite, 2),
                    # median seconds of each step over the runs, slowest first
                    "steps": dict(
                        sorted(
                            (
                                (
                                    step,
                                    round(
                                        statistics.median(r.get(step, 0.0) for r in steps[name]), 3
                                    ),
                                )
                                for step in steps[name][0]
                            ),
                            key=lambda item: -item[1],
                        )
                    ),
                    "outputs": outputs[name],
                }
                for name, runs in seconds.items()
            },
            total_seconds=round(sum(statistics.median(r) for r in seconds.values()), 3),
            load_average_before=[round(x, 2) for x in load_before],
            load_average_after=[round(x, 2) for x in load_after],
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            machine=f"{platform.machine()}, {platform.python_implementation()} "
            f"{platform.python_version()}, {os.cpu_count()} CPUs (shared)",
        )
        result["total_vs_scan"] = round(result["total_seconds"] / scan, 2)
        result["total_vs_suite"] = round(result["total_seconds"] / suite, 2)
    finally:
        if not args.keep:  # a reused database is kept
            drop_database(server, urls.parse_database_url(url).database)
    # --only: its own file, so a partial run never replaces the whole suite's figures
    suffix = "".join(f".{name}" for name in sorted(args.only or []))
    out = ROOT / "bench" / "results" / f"research{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
