"""Benchmark: incremental analyses (issue 20, target 2) — a day's new records into a big design.

    .venv/bin/python bench/incremental.py [--rows 1000000] [--new 10000] [--repeat 3] [--keep]

A fresh database on the embedded server holds ``--rows`` records of one design
(bench/analysis.py's generator); the persisted facets are built once. Then, ``--repeat``
times, interleaved: ``--new`` new records (and their links, as the ingest writes them) are
added (not timed), the whole suite (every SQL model plus the four networks with metrics,
bench/analysis.py's ``suite``) is refreshed incrementally, and the same suite is recomputed in
full from the records as before the stored facets (the denominator), and rebuilt
(``full_recompute=True``: the full fold, also written to the stored facets). Timed apart: the
``stg_content`` step alone both ways (the fold the facets replace), and a refresh with
nothing new.

Each round also times one sequential scan of the records (bench/analysis.py's yardstick), for
target 3: the full suite from the records <= 3x the scan.

Target: incremental / full <= 5 % (medians). Prints one JSON line and writes
bench/results/incremental.json, with the load average before and after (a run whose load is
above the core count is marked ``loaded``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import analysis as analysis_bench  # noqa: E402  (bench/analysis.py: generator and suite)

from observatory_pipelines.analysis.network import NETWORK_MODELS, build_network  # noqa: E402
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope  # noqa: E402
from observatory_pipelines.analysis.sql_models import load_models, run_models  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.scratch import drop_database  # noqa: E402

NEW_LINKS_SQL = """
INSERT INTO content_record_collections (
    query_design_id, content_record_id, published_at, first_collection_run_id,
    collection_run_ids, search_terms_matched)
SELECT query_design_id, id, published_at, collection_run_id, ARRAY[collection_run_id],
       search_terms_matched
FROM content_records
WHERE platform_id = ANY (%(platform_ids)s)
"""


def add_new_records(conn, design: str, first: int, count: int) -> None:
    """``count`` more records g = first .. first + count - 1 and their links (one committed
    transaction, like one collection's batches)."""
    run = conn.execute(
        "SELECT id FROM collection_runs WHERE query_design_id = %s", [design]
    ).fetchone()[0]
    conn.execute(
        analysis_bench.FILL_SQL,
        {
            "run": run,
            "design": design,
            "terms": analysis_bench.TERMS,
            "start": first,
            "stop": first + count - 1,
        },
    )
    conn.execute(NEW_LINKS_SQL, {"platform_ids": [f"p{g}" for g in range(first, first + count)]})
    conn.commit()


def suite(conn, design: str, *, full: bool, from_records: bool = False) -> tuple[dict, list]:
    """The analysis suite. ``from_records``: today's full recompute (the models' own SQL over
    the records, the stored facets neither read nor written: the filtered scopes' path);
    ``full``: the same fold, stored as the design's facets (a rebuild). The models nothing
    reads are streamed as JSON (``drain``), as the asset streams them to the object store."""
    params = check_scope(conn, AnalysisScope(design, granularity="day"))
    refreshes: list = []
    names = [n for n in load_models() if n != "stg_content"]
    results = run_models(
        conn,
        params,
        names,
        models=load_models() if from_records else None,
        full_recompute=full,
        facet_refreshes=refreshes,
        publish=analysis_bench.drain,
    )
    graphs = {name: build_network(name, results[model]) for name, model in NETWORK_MODELS.items()}
    conn.commit()
    return {name: g["metrics"] for name, g in graphs.items()}, refreshes


def facets_only(conn, design: str, *, full: bool, from_records: bool = False) -> list:
    params = check_scope(conn, AnalysisScope(design))
    refreshes: list = []
    run_models(
        conn,
        params,
        ["stg_content"],
        models=load_models() if from_records else None,
        full_recompute=full,
        facet_refreshes=refreshes,
    )
    conn.commit()
    return refreshes


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def _stats(seconds: list[float]) -> dict:
    return {
        "median": round(statistics.median(seconds), 3),
        "best": round(min(seconds), 3),
        "worst": round(max(seconds), 3),
        "runs": [round(s, 3) for s in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--reuse",
        nargs=2,
        metavar=("DATABASE_URL", "DESIGN"),
        help="measure on a database kept by an earlier --keep run (implies --keep)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    if args.reuse:
        url, design = args.reuse
        server, args.keep = None, True
        with psycopg.connect(urls.libpq_url(url)) as conn:
            args.rows = conn.execute(
                "SELECT count(*) FROM content_record_collections WHERE query_design_id = %s",
                [design],
            ).fetchone()[0]
    else:
        server, url, design = analysis_bench.setup_database(args.rows)
    result: dict = {
        "benchmark": "incremental",
        "rows": args.rows,
        "new_rows_per_step": args.new,
        "setup_seconds": round(time.perf_counter() - started, 1),
    }
    load_before = os.getloadavg()
    try:
        with psycopg.connect(urls.libpq_url(url)) as conn:
            first_build, _ = _timed(lambda: suite(conn, design, full=False))  # builds the facets
            result["first_build_seconds"] = round(first_build, 3)
            suite(conn, design, full=False)  # warm
            rows = conn.execute("SELECT count(*) FROM content_records").fetchone()[0]
            timings: dict[str, list[float]] = {
                "suite_incremental": [],
                "suite_full": [],
                "suite_full_rebuild": [],
                "facets_incremental": [],
                "facets_full": [],
                "facets_rebuild": [],
                "suite_nothing_new": [],
                "scan": [],
            }
            folded = []
            conn.execute(analysis_bench.SCAN_SQL).fetchone()  # warm the cache
            for _ in range(args.repeat):  # interleaved, so load changes hit both alike
                # Target 3's yardstick: one sequential scan of the records.
                seconds, _ = _timed(lambda: conn.execute(analysis_bench.SCAN_SQL).fetchone())
                timings["scan"].append(seconds)
                add_new_records(conn, design, rows + 1, args.new)
                rows += args.new
                seconds, (metrics, refreshes) = _timed(lambda: suite(conn, design, full=False))
                assert refreshes[0].mode == "incremental", refreshes
                folded.append(refreshes[0].changes_folded)
                timings["suite_incremental"].append(seconds)
                seconds, (full_metrics, _) = _timed(
                    lambda: suite(conn, design, full=False, from_records=True)
                )
                assert full_metrics == metrics, "incremental and full networks differ"
                timings["suite_full"].append(seconds)
                seconds, _ = _timed(lambda: suite(conn, design, full=True))
                timings["suite_full_rebuild"].append(seconds)
                seconds, _ = _timed(lambda: suite(conn, design, full=False))
                timings["suite_nothing_new"].append(seconds)
                # The facet step alone: the fold of the new rows vs the fold of every record.
                add_new_records(conn, design, rows + 1, args.new)
                rows += args.new
                seconds, refreshes = _timed(lambda: facets_only(conn, design, full=False))
                assert refreshes[0].mode == "incremental", refreshes
                timings["facets_incremental"].append(seconds)
                seconds, _ = _timed(
                    lambda: facets_only(conn, design, full=False, from_records=True)
                )
                timings["facets_full"].append(seconds)
                seconds, _ = _timed(lambda: facets_only(conn, design, full=True))
                timings["facets_rebuild"].append(seconds)
            facet_rows = conn.execute(
                "SELECT count(*) FROM analysis_facets WHERE query_design_id = %s", [design]
            ).fetchone()[0]
    finally:
        load_after = os.getloadavg()
        if not args.keep:
            drop_database(server, urls.parse_database_url(url).database)
    medians = {name: statistics.median(seconds) for name, seconds in timings.items()}
    cores = os.cpu_count() or 1
    result.update(
        {name: _stats(seconds) for name, seconds in timings.items()},
        changes_folded=folded,
        stored_facet_rows=facet_rows,
        final_rows=rows,
        suite_incremental_vs_full=round(medians["suite_incremental"] / medians["suite_full"], 4),
        suite_nothing_new_vs_full=round(medians["suite_nothing_new"] / medians["suite_full"], 4),
        facets_incremental_vs_full=round(medians["facets_incremental"] / medians["facets_full"], 4),
        # Target 3 (full suite <= 3x one scan): the suite from the records, and the refresh.
        suite_full_vs_scan=round(medians["suite_full"] / medians["scan"], 2),
        suite_incremental_vs_scan=round(medians["suite_incremental"] / medians["scan"], 2),
        suite_incremental_vs_full_each_run=[
            round(a / b, 4)
            for a, b in zip(timings["suite_incremental"], timings["suite_full"], strict=True)
        ],
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in load_after],
        loaded=max(load_before[0], load_after[0]) > cores,
        machine=f"{os.uname().machine}, {cores} CPUs (shared)",
    )
    if args.keep:  # for --reuse; not part of the recorded result
        print(f"kept: {url} {design}", file=sys.stderr)
    result["targets"] = {
        "incremental_le_5pct_of_full": result["suite_incremental_vs_full"] <= 0.05,
        "full_suite_le_3x_scan": result["suite_full_vs_scan"] <= 3,
    }
    out = ROOT / "bench" / "results" / "incremental.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
