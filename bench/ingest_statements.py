"""Per-statement server CPU of an ingest batch vs a plain COPY of its rows, at a table's size.

``bench/ingest.py`` gives whole phases; this says what one batch costs the server once the
table holds what it holds — how the ingest's extra over a COPY changes as the table grows.
Each round takes a fresh batch of the benchmark's records (numbers past the table's), and:

- ingest: the real statements on a ``BulkIngester``'s connection — the binary COPY into the
  staging table, then ``staging_insert.sql`` (dedup, insert, links, seen keys) — each timed by
  its backend's CPU (``/proc``); the rows it stored are read back (binary, in id order) and
  the transaction rolled back;
- plain COPY: those rows, byte for byte, in one binary COPY into ``content_records`` on a
  connection of its own, timed the same way, rolled back.

So both see the same table, round after round. A rolled-back insert leaves its index entries
until a vacuum, which the next insert of the same keys checks once: rounds alternate between
ingest then COPY, and an untimed ingest (for the rows), the COPY, then the timed ingest, so
each meets one earlier attempt's entries on average. The GIN
pending lists are flushed (``gin_clean_pending_list``, untimed) before every timed statement,
so no statement pays for another's entries (a rolled-back insert leaves its pending entries).
With ``--explain`` one more round runs the ingest statement under ``EXPLAIN (ANALYZE,
BUFFERS)`` and prints its insert nodes' buffer counts (shared reads: pages not in the cache).

The table comes from ``--rows N`` (ingested first, untimed, into a fresh database that is
dropped afterwards) or from ``--database NAME``, a database ``bench/ingest.py --keep`` left
(its tables hold the last COPY's rows, and no links). One JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PSEUDONYMIZATION_KEY", "bench-only-key")

from bench.ingest import (  # noqa: E402
    COPY_ROWS,
    TERMS,
    add_record_ids_option,
    article_pool,
    backend_cpu_seconds,
    make_design,
    make_run,
    phase_ingest,
    records,
    use_record_ids,
)
from observatory_pipelines.collection.enrich import Enricher  # noqa: E402
from observatory_pipelines.collection.ingest import (  # noqa: E402
    COPY_STAGING,
    INSERT_FROM_STAGING,
    BulkIngester,
)
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.engine import get_engine, migrate  # noqa: E402
from observatory_pipelines.db.scratch import (  # noqa: E402
    create_database,
    drop_database,
    server_url,
    unique_name,
)

GIN_INDEXES = """
SELECT i.indexrelid::regclass::text
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_am AS a ON a.oid = c.relam
JOIN pg_inherits AS h ON h.inhrelid = i.indrelid
WHERE a.amname = 'gin' AND h.inhparent = 'content_records'::regclass
"""
STORED_ROWS = (
    "COPY (SELECT c.* FROM content_records AS c JOIN collection_staging AS s ON s.id = c.id"
    " AND s.published_at = c.published_at ORDER BY c.id) TO STDOUT (FORMAT BINARY)"
)
# The records past the table's: no batch meets a stored copy (as in the benchmark's phases).
FIRST_NEW_RECORD = 50_000_000


def flush_pending_lists(conn: psycopg.Connection, indexes: list[str]) -> None:
    for index in indexes:
        conn.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,))


def cpu_ms(pid: int, work: Callable[[], object]) -> float:
    before = backend_cpu_seconds(pid)
    work()
    return round((backend_cpu_seconds(pid) - before) * 1000, 1)


def ingest_round(ingester: BulkIngester, rows: list[tuple], explain: bool) -> tuple[dict, bytes]:
    conn, pid = ingester.conn, ingester.conn.info.backend_pid
    data, staged = ingester._encode(rows)
    timed: dict = {}
    with conn.cursor() as cur:

        def stage() -> None:
            with cur.copy(COPY_STAGING) as copy:
                copy.write(data)

        timed["staging_copy_ms"] = cpu_ms(pid, stage)
        cur.execute("SET LOCAL work_mem = '64MB'")
        if explain:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + INSERT_FROM_STAGING, ingester.params)
            timed["plan"] = [line for (line,) in cur.fetchall()]
        else:
            timed["insert_ms"] = cpu_ms(
                pid, lambda: cur.execute(INSERT_FROM_STAGING, ingester.params)
            )
            inserted, _ = cur.fetchone()
            if inserted != staged:
                raise RuntimeError(f"{staged - inserted} of the fresh batch's rows not inserted")
        stored = bytearray()
        with cur.copy(STORED_ROWS) as copy:
            for chunk in copy:
                stored += chunk
    conn.rollback()
    return timed, bytes(stored)


def copy_round(conn: psycopg.Connection, stored: bytes) -> float:
    def copy_rows() -> None:
        with conn.cursor() as cur, cur.copy(COPY_ROWS) as copy:
            copy.write(stored)

    spent = cpu_ms(conn.info.backend_pid, copy_rows)
    conn.rollback()
    return spent


def bench_design(libpq: str) -> tuple[str, str]:
    """The benchmark's design (a kept database has one), else a new one."""
    with psycopg.connect(libpq) as conn:
        found = conn.execute(
            "SELECT owner_id, id FROM query_designs WHERE name = 'bench' LIMIT 1"
        ).fetchone()
    return (str(found[0]), str(found[1])) if found else make_design(libpq)


def measure(url: str, libpq: str, rounds: int, batch: int, explain: bool, record_ids: str) -> dict:
    engine = get_engine(url)
    with psycopg.connect(libpq, autocommit=True) as admin:
        indexes = [name for (name,) in admin.execute(GIN_INDEXES)]
        stored_count = admin.execute("SELECT count(*) FROM content_records").fetchone()[0]
        links = admin.execute("SELECT count(*) FROM content_record_collections").fetchone()[0]
    user_id, design_id = bench_design(libpq)
    run_id = make_run(libpq, user_id, design_id)
    enricher = Enricher(engine, TERMS)
    source = records(batch * (rounds + 1), article_pool(), start=FIRST_NEW_RECORD)
    per_round: list[dict] = []
    plan: dict = {}
    with (
        BulkIngester(engine, run_id=run_id, query_design_id=design_id) as ingester,
        psycopg.connect(libpq) as copier,
        psycopg.connect(libpq, autocommit=True) as admin,
    ):
        for number in range(rounds + (1 if explain else 0)):
            rows = enricher.rows(list(islice(source, batch)), datetime.now(UTC))
            flush_pending_lists(admin, indexes)
            if number == rounds:
                plan, _ = ingest_round(ingester, rows, explain=True)
                break
            copy_first = number % 2 == 1
            if copy_first:
                # the COPY needs the ingest's rows: make them (untimed), then time both
                _, stored = ingest_round(ingester, rows, explain=False)
                flush_pending_lists(admin, indexes)
                copy_ms = copy_round(copier, stored)
                flush_pending_lists(admin, indexes)
                ingest, _ = ingest_round(ingester, rows, explain=False)
            else:
                ingest, stored = ingest_round(ingester, rows, explain=False)
                flush_pending_lists(admin, indexes)
                copy_ms = copy_round(copier, stored)
            ingest["total_ms"] = round(ingest["staging_copy_ms"] + ingest["insert_ms"], 1)
            per_round.append({**ingest, "plain_copy_ms": copy_ms,
                              "ratio": round(ingest["total_ms"] / copy_ms, 3)})  # fmt: skip
            print(json.dumps(per_round[-1]), file=sys.stderr)
    engine.dispose()

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in per_round), 1)

    return {
        "benchmark": "ingest_statements",
        "records_stored": stored_count,
        "links_stored": links,
        "batch": batch,
        "record_ids": record_ids,
        "rounds": len(per_round),
        "median_ms": {
            key: median(key)
            for key in ("staging_copy_ms", "insert_ms", "total_ms", "plain_copy_ms")
        },
        "median_ratio": round(statistics.median(r["ratio"] for r in per_round), 3),
        "ratios": [r["ratio"] for r in per_round],
        "explain": plan.get("plan"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--rows", type=int, help="ingest this many records first (untimed)")
    source.add_argument("--database", help="a database bench/ingest.py --keep left")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--explain", action="store_true")
    add_record_ids_option(parser)
    args = parser.parse_args()
    use_record_ids(args.record_ids)

    server = server_url()
    if args.database:
        url = urls.with_database(server, args.database)
        measured = measure(
            url, urls.libpq_url(url), args.rounds, args.batch, args.explain, args.record_ids
        )
        print(json.dumps(measured))
        return
    name = unique_name("bench_ingest_statements")
    url = create_database(server, name)
    try:
        migrate(url)
        libpq = urls.libpq_url(url)
        engine = get_engine(url)
        user_id, design_id = make_design(libpq)
        run_id = make_run(libpq, user_id, design_id)
        phase_ingest(engine, libpq, design_id, run_id, args.rows, article_pool(), args.batch)
        engine.dispose()
        print(
            json.dumps(measure(url, libpq, args.rounds, args.batch, args.explain, args.record_ids))
        )
    finally:
        drop_database(server, name)


if __name__ == "__main__":
    main()
