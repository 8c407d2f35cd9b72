"""Benchmark: the analysis suite and the exports on N records (default 1,000,000).

    .venv/bin/python bench/analysis.py [--rows N] [--formats csv,ndjson,parquet,xlsx] [--keep]

A fresh database on the embedded server is migrated and filled with N records of one
query design (5 platforms, 3 months, 20,000 authors, 20 terms, ~250 chars of Danish
text each). Measured in the same process, warm cache, --repeat runs each (median and best reported;
the targets are judged on the medians; exports --export-repeat runs each, XLSX once):

- suite: every SQL model (descriptive + network) plus building the four networks with
  metrics, vs one sequential scan ``SELECT count(*), sum(length(text_content))``;
- each export (into a folder object store) vs ``COPY (<export rows>) TO STDOUT`` of the
  same rows, each export in its own subprocess so its peak RSS is its own.

Targets: suite <= 5x scan; CSV, NDJSON, Parquet <= 1.3x COPY (issue 20); XLSX reported;
export peak RSS < 250 MB. The exports run interleaved with their own COPY baseline runs
(copy, csv, ndjson, parquet, copy, ...), and the load average before and after is recorded.
``--database-url URL --design ID`` measures an existing database (kept) instead of a fresh one.
Writes bench/results/analysis.json and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The export workers import only what an export needs (networkx etc. are loaded by suite()).
from bench.memory import status_mb  # noqa: E402
from observatory_pipelines.analysis.exports import (  # noqa: E402
    copy_stream,
    export_records,
    export_sql,
)
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.scratch import (
    create_database,
    drop_database,
    server_url,
    unique_name,
)

TERMS = [
    "klima", "energi", "grøn omstilling", "skat", "sundhed", "forsvar", "indvandring",
    "landbrug", "elbil", "vindmøller", "inflation", "bolig", "skole", "ældre", "psykiatri",
    "transport", "natur", "co2-afgift", "arbejdsløshed", "eu",
]  # fmt: skip

FILL_SQL = """
INSERT INTO content_records (
    published_at, platform, arena, platform_id, content_type, url, text_content, title,
    language, author_platform_id, author_display_name, pseudonymized_author_id,
    views_count, likes_count, shares_count, comments_count, engagement_score,
    collection_run_id, query_design_id, search_terms_matched, collection_tier,
    raw_metadata, content_hash)
SELECT timestamptz '2026-02-01 00:00+00' + ((b * 7919) %% 7603200) * interval '1 second',
       (ARRAY['bluesky','reddit','rss_feeds','gdelt','youtube'])[1 + g %% 5],
       CASE WHEN g %% 5 IN (2, 3) THEN 'news_media' ELSE 'social_media' END,
       'p' || g, 'post', 'https://example.org/post/' || g,
       repeat('Grøn omstilling, klimaet og "energien" i Danmark; æøå. ', 4 + g %% 3) || g,
       'Overskrift nummer ' || g,
       CASE WHEN g %% 10 = 0 THEN 'en' ELSE 'da' END,
       'u' || (g %% 20000), 'Forfatter ' || (g %% 20000),
       md5('author' || (g %% 20000)),
       CASE WHEN g %% 3 = 0 THEN NULL ELSE (g * 7) %% 10000 END,
       (g * 13) %% 500, (g * 17) %% 50, (g * 19) %% 80, ((g * 23) %% 1000) / 10.0,
       %(run)s, %(design)s,
       CASE WHEN g %% 4 = 0
            THEN ARRAY[(%(terms)s::text[])[1 + g %% 20], (%(terms)s::text[])[1 + (g / 20) %% 20],
                       (%(terms)s::text[])[1 + (g / 400) %% 20]]
            ELSE ARRAY[(%(terms)s::text[])[1 + g %% 20], (%(terms)s::text[])[1 + (g / 20) %% 20]]
       END,
       'free',
       CASE WHEN g %% 100 = 0 THEN '{"duplicate_of": "x"}'::jsonb ELSE '{}'::jsonb END,
       md5(g::text)
FROM generate_series(CAST(%(start)s AS bigint), CAST(%(stop)s AS bigint)) AS s(b)
CROSS JOIN LATERAL (SELECT CAST(s.b AS integer) AS g) AS x
"""

LINK_SQL = """
INSERT INTO content_record_collections (
    query_design_id, content_record_id, published_at, first_collection_run_id,
    collection_run_ids, search_terms_matched)
SELECT query_design_id, id, published_at, collection_run_id, ARRAY[collection_run_id],
       search_terms_matched
FROM content_records
"""


# The yardstick of the suite (issue 20, target 3): one sequential scan of the records.
SCAN_SQL = "SELECT count(*), sum(length(text_content)) FROM content_records"


def _timed(fn, repeat: int) -> tuple[list[float], object]:
    """Seconds of each of ``repeat`` runs of ``fn`` and its last value."""
    seconds, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        seconds.append(time.perf_counter() - started)
    return seconds, value


def _stats(seconds: list[float]) -> dict:
    return {
        "median": round(statistics.median(seconds), 3),
        "best": round(min(seconds), 3),
        "runs": [round(s, 3) for s in seconds],
    }


def setup_database(rows: int) -> tuple[str, str, str]:
    server = server_url()
    name = unique_name("bench_analysis")
    url = create_database(server, name)
    try:
        design = _fill(url, rows)
    except BaseException:
        drop_database(server, name)
        raise
    return server, url, design


def _fill(url: str, rows: int) -> str:
    from observatory_pipelines.db.engine import migrate

    migrate(url)
    owner, design, run = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(urls.libpq_url(url)) as conn:
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'bench@example.org')", [owner])
        conn.execute(
            "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, 'Benchmark')",
            [design, owner],
        )
        conn.execute(
            "INSERT INTO collection_runs (id, query_design_id, initiated_by, status) "
            "VALUES (%s, %s, %s, 'completed')",
            [run, design, owner],
        )
        step = 200_000
        for start in range(1, rows + 1, step):
            conn.execute(
                FILL_SQL,
                {
                    "run": run,
                    "design": design,
                    "terms": TERMS,
                    "start": start,
                    "stop": min(rows, start + step - 1),
                },
            )
            conn.commit()
        # The design's records are its links, as the ingest writes them (one per record).
        conn.execute(LINK_SQL)
        conn.commit()
    with psycopg.connect(urls.libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE content_records")
        conn.execute("VACUUM ANALYZE content_record_collections")
    return design


def drain(name: str, lines) -> None:
    """run_models' ``publish`` for the benchmarks: the JSON of the models the asset streams to
    the object store (``returns: stream``) is produced and received, then dropped."""
    for _ in lines:
        pass


def suite(conn, design: str, *, from_records: bool = False) -> dict:
    """Every SQL model and the four networks with metrics, as the assets run them: over the
    design's stored facets (brought up to date first; built on the first run), or
    ``from_records``: the models' own SQL folding every record (the filtered scopes' path)."""
    from observatory_pipelines.analysis.network import NETWORK_MODELS, build_network
    from observatory_pipelines.analysis.sql_models import load_models, run_models

    params = check_scope(conn, AnalysisScope(design, granularity="day"))
    names = [n for n in load_models() if n != "stg_content"]
    models = load_models() if from_records else None
    results = run_models(conn, params, names, models=models, publish=drain)
    graphs = {name: build_network(name, results[model]) for name, model in NETWORK_MODELS.items()}
    return {name: g["metrics"] for name, g in graphs.items()}


def suite_only(url: str, design: str, repeat: int) -> dict:
    """Target 3 alone (--suite-only): ``repeat`` interleaved rounds of one scan, the suite over
    the stored facets (what the assets run after a collection; a warm-up run first builds or
    refreshes them, so every timed run reads them) and the suite from the records."""
    load_before = os.getloadavg()
    with psycopg.connect(urls.libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM content_record_collections WHERE query_design_id = %s", [design]
        ).fetchone()[0]
        conn.execute(SCAN_SQL).fetchone()  # warm the cache
        suite(conn, design)  # the stored facets up to date
        conn.commit()
        scans, suites, from_records = [], [], []
        for _ in range(repeat):
            scans += _timed(lambda: conn.execute(SCAN_SQL).fetchone(), 1)[0]
            seconds, metrics = _timed(lambda: suite(conn, design), 1)
            suites += seconds
            conn.commit()
            seconds, record_metrics = _timed(lambda: suite(conn, design, from_records=True), 1)
            from_records += seconds
            conn.commit()
            assert record_metrics == metrics, "stored facets and records give other networks"
    load_after = os.getloadavg()
    scan, suite_seconds, records_seconds = (
        statistics.median(x) for x in (scans, suites, from_records)
    )
    cores = os.cpu_count() or 1
    return {
        "rows": rows,
        "scan_seconds": round(scan, 3),
        "scan": _stats(scans),
        "suite_seconds": round(suite_seconds, 3),
        "suite": _stats(suites),
        "suite_vs_scan": round(suite_seconds / scan, 2),
        "suite_vs_scan_each_run": [round(a / b, 2) for a, b in zip(suites, scans, strict=True)],
        "suite_from_records": _stats(from_records),
        "suite_from_records_vs_scan": round(records_seconds / scan, 2),
        "network_metrics": metrics,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "loaded": max(load_before[0], load_after[0]) > cores,
        "targets": {
            "suite_le_3x_scan": suite_seconds / scan <= 3,
            "suite_from_records_le_3x_scan": records_seconds / scan <= 3,
        },
        "machine": _machine(),
    }


def copy_baseline(conn, design: str) -> int:
    """The target's yardstick: ``COPY (<export rows>) TO STDOUT`` read and dropped."""
    params = AnalysisScope(design).params()
    total = 0
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        with (
            conn.cursor() as cur,
            cur.copy("COPY (" + export_sql("export_rows") + ") TO STDOUT", params) as copy,
        ):
            for data in copy:
                total += len(data)
    return total


def copy_into_store(conn, design: str, store) -> int:
    """The same COPY written into the exports' object store in the exports' chunks: what storing
    that many bytes costs there (disk writes and the fsync of the folder backend), which
    the plain COPY does not pay. Reported beside the target, not instead of it."""

    params = AnalysisScope(design).params()
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        chunks = copy_stream(conn, export_sql("export_rows"), params, "")
        with closing(chunks):
            info = store.put("exports/bench/copy.txt", chunks, content_type="text/plain")
    store.remove(info.key)
    return info.size


def worker(args) -> None:
    """One export in this process; prints seconds, rows, bytes and peak RSS."""
    from observatory_pipelines.resources.object_store import ObjectStoreResource

    store = ObjectStoreResource(local_dir=args.store_dir, outputs_bucket="bench-outputs").outputs()
    with psycopg.connect(urls.libpq_url(args.database_url)) as conn:
        params = check_scope(conn, AnalysisScope(args.design))
        before = status_mb("VmRSS") or 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        result = export_records(conn, params, args.worker, store, f"exports/bench/x.{args.worker}")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    store.remove(result.key)
    peak = status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "client_cpu_seconds": round(cpu_seconds, 2),  # this process, all threads
                "rows": result.rows,
                "bytes": result.size,
                "sheets": result.sheets,
                "rss_before_export_mb": round(before, 1),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )


def run_worker(fmt: str, url: str, design: str, store_dir: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            fmt,
            "--database-url",
            url,
            "--design",
            design,
            "--store-dir",
            store_dir,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_exports(
    url: str, design: str, formats: list[str], repeat: int, store_root: str | None = None
) -> dict:
    """Each export in its own worker, interleaved with COPY baseline runs in this process
    (copy, copy into the store, csv, ndjson, parquet, copy, ...: load changes hit the
    baselines and the exports alike); XLSX once, after the rounds. Ratios are of the
    medians. The folder store lives under ``store_root`` (default: the system's temporary
    directory), so the cost of its disk can be told from the exports' own."""
    from observatory_pipelines.resources.object_store import ObjectStoreResource

    load_before = os.getloadavg()
    copies: list[float] = []
    stored_copies: list[float] = []
    runs: dict[str, list[dict]] = {fmt: [] for fmt in formats}
    with (
        psycopg.connect(urls.libpq_url(url)) as conn,
        tempfile.TemporaryDirectory(prefix="bench-analysis-", dir=store_root) as store_dir,
    ):
        store = ObjectStoreResource(local_dir=store_dir, outputs_bucket="bench-outputs").outputs()
        for _ in range(repeat):
            copies += _timed(lambda: copy_baseline(conn, design), 1)[0]
            stored_copies += _timed(lambda: copy_into_store(conn, design, store), 1)[0]
            for fmt in formats:
                if fmt != "xlsx":
                    runs[fmt].append(run_worker(fmt, url, design, store_dir))
        if "xlsx" in formats:
            runs["xlsx"].append(run_worker("xlsx", url, design, store_dir))
    load_after = os.getloadavg()
    copy_seconds = statistics.median(copies)
    stored_copy_seconds = statistics.median(stored_copies)
    exports = {}
    for fmt, measured_runs in runs.items():
        measured = dict(measured_runs[0])
        measured["seconds"] = round(statistics.median(r["seconds"] for r in measured_runs), 3)
        measured["runs"] = [r["seconds"] for r in measured_runs]
        measured["peak_rss_mb"] = max(r["peak_rss_mb"] for r in measured_runs)
        measured["vs_copy"] = round(measured["seconds"] / copy_seconds, 2)
        measured["vs_copy_into_store"] = round(measured["seconds"] / stored_copy_seconds, 2)
        exports[fmt] = measured
        print(json.dumps({fmt: measured}), file=sys.stderr)
    cores = os.cpu_count() or 1
    return {
        "exports": exports,
        "export_copy": _stats(copies),
        "export_copy_into_store": _stats(stored_copies),
        "export_store": {
            "root": store_root or tempfile.gettempdir(),
            "filesystem": _filesystem(store_root or tempfile.gettempdir()),
        },
        "export_load": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
            "above_core_count": max(load_before[0], load_after[0]) > cores,
        },
    }


def exports_only(url: str, design: str, args) -> dict:
    """The export rounds alone (--exports-only), judged like the full run."""
    formats = [f for f in args.formats.split(",") if f]
    result = measure_exports(url, design, formats, args.export_repeat, args.store_root)
    result["targets"] = _export_targets(result["exports"])
    result["machine"] = _machine()
    return result


def _export_targets(exports: dict) -> dict:
    return {
        **{
            f"{fmt}_le_1.3x_copy": exports[fmt]["vs_copy"] <= 1.3
            for fmt in ("csv", "ndjson", "parquet")
            if fmt in exports
        },
        "export_rss_lt_250mb": all(e["peak_rss_mb"] < 250 for e in exports.values()),
    }


def _filesystem(path: str) -> str:
    """The filesystem type a path is on, from /proc/mounts (longest matching mount point)."""
    real = os.path.realpath(path)
    best, kind = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and (real == fields[1] or real.startswith(fields[1].rstrip("/") + "/")):
            if len(fields[1]) > len(best):
                best, kind = fields[1], fields[2]
    return kind


def _machine() -> str:
    return (
        f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs (shared)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export-repeat", type=int, default=3)
    parser.add_argument("--formats", default="csv,ndjson,parquet,xlsx")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--exports-only",
        action="store_true",
        help="only the exports and their COPY baseline (bench/results/analysis_exports.json)",
    )
    parser.add_argument(
        "--suite-only",
        action="store_true",
        help="only the suite vs the scan, over the stored facets and from the records "
        "(bench/results/analysis_suite.json)",
    )
    parser.add_argument(
        "--store-root",
        help="folder the exports' object store is made in (default: the system's temporary "
        "directory; /dev/shm to take the disk out of the measurement)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--design", help=argparse.SUPPRESS)
    parser.add_argument("--store-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    started = time.perf_counter()
    if args.database_url and args.design:  # an existing database, kept
        server, url, design, args.keep = None, args.database_url, args.design, True
    else:
        server, url, design = setup_database(args.rows)
    setup_seconds = time.perf_counter() - started
    result: dict = {
        "benchmark": "analysis",
        "rows": args.rows,
        "setup_seconds": round(setup_seconds, 1),
    }
    # A part alone (--suite-only, --exports-only): its own result file, the database dropped
    # unless kept.
    part = None
    if args.suite_only:
        part = ("analysis_suite.json", lambda: suite_only(url, design, args.repeat))
    elif args.exports_only:
        part = ("analysis_exports.json", lambda: exports_only(url, design, args))
    if part is not None:
        name, measure = part
        try:
            result.update(measure())
        finally:
            if not args.keep:
                drop_database(server, urls.parse_database_url(url).database)
        out = ROOT / "bench" / "results" / name
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(json.dumps(result, ensure_ascii=False))
        return
    try:
        with psycopg.connect(urls.libpq_url(url)) as conn:
            scan_sql = SCAN_SQL
            conn.execute(scan_sql).fetchone()  # warm the cache
            scans, suites, copies = [], [], []
            for _ in range(args.repeat):  # interleaved, so load changes hit all three alike
                scans += _timed(lambda: conn.execute(scan_sql).fetchone(), 1)[0]
                seconds, metrics = _timed(lambda: suite(conn, design), 1)
                suites += seconds
                copies += _timed(lambda: copy_baseline(conn, design), 1)[0]
            copy_bytes = copy_baseline(conn, design)
        scan, suite_seconds, copy_seconds = (statistics.median(x) for x in (scans, suites, copies))
        result.update(
            scan_seconds=round(scan, 3),
            scan=_stats(scans),
            suite_seconds=round(suite_seconds, 3),
            suite=_stats(suites),
            suite_vs_scan=round(suite_seconds / scan, 2),
            suite_vs_scan_each_run=[round(a / b, 2) for a, b in zip(suites, scans, strict=True)],
            network_metrics=metrics,
            copy_seconds=round(copy_seconds, 3),
            copy=_stats(copies),
            copy_bytes=copy_bytes,
            exports={},
        )
        formats = [f for f in args.formats.split(",") if f]
        result.update(measure_exports(url, design, formats, args.export_repeat, args.store_root))
        exports = result["exports"]
        result["targets"] = {
            "suite_le_5x_scan": result["suite_vs_scan"] <= 5,
            **_export_targets(exports),
        }
        result["machine"] = _machine()
    finally:
        if not args.keep:
            drop_database(server, urls.parse_database_url(url).database)
    out = ROOT / "bench" / "results" / "analysis.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
