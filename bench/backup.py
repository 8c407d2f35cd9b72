"""Benchmark: our streamed backup vs ``pg_dump | gzip > /dev/null``, and its peak RSS.

Builds a fresh database on the embedded server (or the server of
TEST_DATABASE_URL), migrated to head, filled with synthetic ``content_records``
until the database is ``--gb`` GiB (or exactly ``--rows`` rows). The full-text
and GIN indexes are dropped first so that generating a gigabyte takes minutes,
not an hour; a plain dump carries index definitions, never index data, so this
does not change the work a dump does.

Then, alternating, ``--repeat`` times each:

- baseline: ``pg_dump --format=plain --no-owner --no-privileges | gzip -L > /dev/null``
  (same server-matching pg_dump, same options, same level L);
- ours: ``python -m observatory_pipelines.backups.backup`` as a subprocess, with the
  folder backend as the sink (a real file write + fsync, which the baseline does not
  pay); its peak RSS comes from ``os.wait4`` (the largest of the process and the
  children it reaped, i.e. pg_dump). CPU seconds (user+sys, the process tree) are
  reported too: on a shared machine they move less than wall time.

Prints one JSON line and writes bench/results/backup.json. The database is
dropped afterwards unless ``--keep``; ``--reuse NAME`` benchmarks an existing one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from observatory_pipelines import settings  # noqa: E402
from observatory_pipelines.backups import catalog  # noqa: E402
from observatory_pipelines.backups.pgclient import binary, client_target  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.engine import migrate  # noqa: E402
from observatory_pipelines.db.scratch import (
    create_database,
    drop_database,
    server_url,
    unique_name,
)

RESULT_PATH = ROOT / "bench" / "results" / "backup.json"
ROWS_SQL = (ROOT / "bench" / "sql" / "backup_rows.sql").read_text()
BATCH = 50_000
SLOW_INDEXES = ("idx_content_fulltext", "idx_content_terms", "idx_content_metadata")


def database_bytes(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def fill(url: str, *, target_bytes: int | None, rows: int | None) -> int:
    """Insert batches until the database reaches ``target_bytes`` (or ``rows`` rows)."""
    dsn = urls.libpq_url(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for index in SLOW_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
    done = 0
    started = time.monotonic()
    while True:
        if rows is not None and done >= rows:
            break
        if rows is None and database_bytes(dsn) >= target_bytes:
            break
        size = BATCH if rows is None else min(BATCH, rows - done)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(ROWS_SQL, {"lo": done + 1, "hi": done + size})
        done += size
        if done % (BATCH * 4) == 0:
            print(
                f"  {done} rows, {database_bytes(dsn) / 2**20:.0f} MiB, "
                f"{time.monotonic() - started:.0f}s",
                file=sys.stderr,
            )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE content_records")
    return done


def run_baseline(url: str, level: int) -> tuple[float, float]:
    """Wall seconds and CPU seconds (bash, pg_dump and gzip together)."""
    conninfo, env = client_target(urls.libpq_url(url))
    dump = [binary("pg_dump"), "--format=plain", "--no-owner", "--no-privileges"]
    env = env | {"BENCH_DSN": conninfo}
    script = f'set -o pipefail; {" ".join(dump)} --dbname="$BENCH_DSN" | gzip -{level} > /dev/null'
    started = time.monotonic()
    proc = subprocess.Popen(["bash", "-c", script], env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"baseline exited with {os.waitstatus_to_exitcode(status)}")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime


def run_ours(url: str, level: int, sink: Path) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (with pg_dump), peak RSS in bytes, and the key it wrote."""
    shutil.rmtree(sink, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIO_")}
    env |= {
        "DATABASE_URL": url,
        "OBJECT_STORE_DIR": str(sink),
        "BACKUP_GZIP_LEVEL": str(level),
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "observatory_pipelines.backups.backup"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    out = proc.stdout.read().decode()
    proc.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"backup exited with {os.waitstatus_to_exitcode(status)}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss * 1024, out.split()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="database size in GiB (default 1)")
    parser.add_argument("--rows", type=int, help="exactly this many rows instead of --gb")
    parser.add_argument("--level", type=int, default=settings.backup_gzip_level())
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--reuse", metavar="DB", help="benchmark an existing database")
    args = parser.parse_args(argv)

    server = server_url()
    name = args.reuse or unique_name("bench_backup")
    url = urls.with_database(server, name)
    sink = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    try:
        if not args.reuse:
            create_database(server, name)
            migrate(url)
            print(f"filling {name} ...", file=sys.stderr)
            started = time.monotonic()
            rows = fill(url, target_bytes=int(args.gb * 2**30), rows=args.rows)
            fill_seconds = round(time.monotonic() - started, 1)
        else:
            rows, fill_seconds = None, None
        db_bytes = database_bytes(urls.libpq_url(url))
        baseline, ours, baseline_cpu, ours_cpu, rss = [], [], [], [], []
        for _ in range(args.repeat):
            wall, cpu = run_baseline(url, args.level)
            baseline.append(wall)
            baseline_cpu.append(cpu)
            wall, cpu, peak, key = run_ours(url, args.level, sink)
            ours.append(wall)
            ours_cpu.append(cpu)
            rss.append(peak)
        store_file = sink / settings.minio_backup_bucket() / key
        manifest_file = Path(str(store_file) + catalog.MANIFEST_SUFFIX)
        manifest = json.loads(manifest_file.read_text())
        result = {
            "bench": "backup",
            "database_bytes": db_bytes,
            "rows": rows if rows is not None else manifest["row_counts"].get("content_records"),
            "fill_seconds": fill_seconds,
            "gzip_level": args.level,
            "repeat": args.repeat,
            "sink": "folder backend (local file + fsync)",
            "dump_uncompressed_bytes": manifest["uncompressed_size"],
            "dump_compressed_bytes": store_file.stat().st_size,
            "baseline_seconds": [round(x, 2) for x in baseline],
            "ours_seconds": [round(x, 2) for x in ours],
            "ratio": round(statistics.median(ours) / statistics.median(baseline), 3),
            "baseline_cpu_seconds": [round(x, 2) for x in baseline_cpu],
            "ours_cpu_seconds": [round(x, 2) for x in ours_cpu],
            "cpu_ratio": round(statistics.median(ours_cpu) / statistics.median(baseline_cpu), 3),
            "peak_rss_mb": round(max(rss) / 2**20, 1),
            "targets": {"ratio_max": 1.2, "peak_rss_mb_max": 150},
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        result["meets_targets"] = result["ratio"] <= 1.2 and result["peak_rss_mb"] < 150
    finally:
        shutil.rmtree(sink, ignore_errors=True)
        if not args.keep and not args.reuse:
            drop_database(server, name)
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULT_PATH.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
