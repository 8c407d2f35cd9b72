"""Benchmark: the collection ingest path vs a plain COPY of the same rows.

Both phases write ``--rows`` synthetic records into the same partitioned
``content_records`` (monthly partitions 2026_02..04 + default, every index and foreign key of
the migrations incl. the Danish full-text GIN) of a fresh database on the embedded server (or
TEST_DATABASE_URL's server), emptied and checkpointed before every phase:

- ``ingest``: ``NormalizedRecord`` objects through the real path — clean (normalize.py) →
  enrich (terms, content hash, URL normalisation, HMAC pseudonym, actor lookup) → COPY into
  the temp staging table → one deduplicating ``INSERT … SELECT`` per batch (stored keys
  probed, no ON CONFLICT unless a batch meets a concurrent copy) that also links every
  inserted record to the design and run
  (content_record_collections), for a real design and a new collection run each time;
- ``plain_copy``: the rows the first ingest stored, byte for byte (every column: ids, content
  hashes, pseudonyms, matched terms, run and design), in the order the records arrived,
  streamed from a binary dump file in one binary COPY into content_records (no cleaning, no
  enrichment, no dedup, no links; the client only copies bytes).

The phases alternate (ingest, COPY, ingest, COPY, …; the COPY needs the first ingest's rows),
``--runs`` pairs; each pair gives a ratio, and the result is the median, best and worst of
them. Wall time and CPU seconds are measured per phase: the client process (all threads) and
the server backend of the connection that writes (from /proc, when the server is local), the
backend's CPU also per tenth of the rows (approximate: the ingest's marks lag one batch, and a
COPY runs its rows' foreign-key checks at the end of the statement, so they land in its last
tenth), and the backend's WAL records, full-page images, WAL bytes and buffer reads, hits and
write-outs (PostgreSQL 18's per-backend statistics: other sessions do not count; checkpoints,
which decide how many full-page images a phase writes, are the server's, so other sessions'
WAL moves them). Record ids are the ingest's time-ordered ones; ``--record-ids uuid4`` gives
random ones instead, to compare with how the ingest made them before.
Records are news articles of the synthetic corpus (``observatory_pipelines.demo.corpus``,
the generator the offline demo collects): a pool of ``POOL_SIZE`` articles is drawn once,
before anything is timed, and cycled, each record made unique by its number. Records are
produced lazily, so memory is the batch, not the source; RSS is sampled after every batch to
show it stays flat. Load average is read before and after every phase; a run whose load
exceeded the core count is marked ``loaded``. Prints one JSON line and writes
bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PSEUDONYMIZATION_KEY", "bench-only-key")

from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm  # noqa: E402
from observatory_pipelines.collection import enrich  # noqa: E402
from observatory_pipelines.collection.enrich import Enricher  # noqa: E402
from observatory_pipelines.collection.ingest import BulkIngester  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.engine import get_engine, migrate  # noqa: E402
from observatory_pipelines.db.scratch import (  # noqa: E402
    create_database,
    drop_database,
    server_url,
    unique_name,
)
from observatory_pipelines.demo.corpus import Corpus, CorpusConfig, Item  # noqa: E402

RESULT_PATH = ROOT / "bench" / "results" / "ingest.json"
START = datetime(2026, 2, 1, tzinfo=UTC)
SPAN_SECONDS = 89 * 24 * 3600  # Feb..Apr: the three monthly partitions
# Feb..Apr 2026 (the three monthly partitions); 5,000 bylines as the hand-written rows had.
CORPUS = CorpusConfig(seed=2026, end=date(2026, 4, 29), days=88, scale=10, news_authors=5000)
POOL_SIZE = 5000
# Two keywords and a phrase, as before: the matching work per record stays the same.
TERMS = [
    SearchTerm("grønland"),
    SearchTerm("klimaforandringer"),
    SearchTerm("grøn omstilling", "phrase"),
]
TARGET_RATIO = 1.3
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The stored rows in arrival order (record number n is the platform id's suffix), as the
# ingest received them; COPY of a partitioned table's rows needs a query.
DUMP_ROWS = (
    "COPY (SELECT * FROM content_records ORDER BY split_part(platform_id, '#', 2)::int) "
    "TO STDOUT (FORMAT BINARY)"
)
COPY_ROWS = "COPY content_records FROM STDIN (FORMAT BINARY)"
CHUNK_BYTES = 1 << 20


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a server backend, or None when the server is not on this host."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# What the writing backend did in a phase, from PostgreSQL 18's per-backend statistics (so other
# sessions on a shared server do not count): WAL records, full-page images (the first change of
# a page after a checkpoint logs the whole page: random-key btree inserts touch many pages) and
# WAL volume; shared-buffer misses (reads from the OS), hits and pages the backend had to write
# out itself to free a buffer; temp-buffer misses and write-outs (the seen-content table).
BACKEND_STATS = """
SELECT w.wal_records, w.wal_fpi, w.wal_bytes::bigint,
       coalesce(sum(i.reads) FILTER (WHERE i.object = 'relation'), 0)::bigint,
       coalesce(sum(i.hits) FILTER (WHERE i.object = 'relation'), 0)::bigint,
       coalesce(sum(i.writes) FILTER (WHERE i.object = 'relation'), 0)::bigint,
       coalesce(sum(i.reads) FILTER (WHERE i.object = 'temp relation'), 0)::bigint,
       coalesce(sum(i.writes) FILTER (WHERE i.object = 'temp relation'), 0)::bigint
FROM pg_stat_get_backend_wal(%(pid)s) AS w
LEFT JOIN pg_stat_get_backend_io(%(pid)s) AS i ON true
GROUP BY w.wal_records, w.wal_fpi, w.wal_bytes
"""
BACKEND_STAT_NAMES = (
    "wal_records", "wal_fpi", "wal_bytes", "shared_reads", "shared_hits", "shared_writes",
    "temp_reads", "temp_writes",
)  # fmt: skip
DECILES = 10


def backend_stats(libpq: str, pid: int) -> dict[str, int]:
    """The backend's cumulative WAL and buffer I/O counters (flushed at its last commit)."""
    with psycopg.connect(libpq, autocommit=True) as conn:
        row = conn.execute(BACKEND_STATS, {"pid": pid}).fetchone()
    return dict(zip(BACKEND_STAT_NAMES, row or (0,) * len(BACKEND_STAT_NAMES), strict=True))


class Meter:
    """Wall, client CPU (this process, all threads), server-backend CPU (in total and per tenth
    of the phase's rows, to show how it grows with the table) and the backend's WAL and buffer
    I/O of one phase."""

    def __init__(self, libpq: str, backend_pid: int):
        self.libpq = libpq
        self.backend_pid = backend_pid
        self.stats = backend_stats(libpq, backend_pid)
        self.load_before = os.getloadavg()[0]
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.server = backend_cpu_seconds(backend_pid)
        self.marks: list[float] = []
        self._last_mark = self.server

    def mark_tenth(self) -> None:
        """Call when another tenth of the phase's rows went to the server."""
        server = backend_cpu_seconds(self.backend_pid)
        if server is not None and self._last_mark is not None:
            self.marks.append(round(server - self._last_mark, 2))
            self._last_mark = server

    def result(self) -> dict:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        server = backend_cpu_seconds(self.backend_pid)
        self.mark_tenth()
        stats = backend_stats(self.libpq, self.backend_pid)
        return {
            "wall_s": round(wall, 2),
            "client_cpu_s": round(cpu, 2),
            "server_cpu_s": None if server is None else round(server - self.server, 2),
            "server_cpu_s_per_tenth": self.marks[:DECILES],
            "backend": {name: stats[name] - self.stats[name] for name in BACKEND_STAT_NAMES},
            "load_before": round(self.load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }


def add_record_ids_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record-ids",
        choices=("uuid7", "uuid4"),
        default="uuid7",
        help="uuid4: random record ids, as before the time-ordered ones (for comparison)",
    )


def use_record_ids(kind: str) -> None:
    """``uuid4``: the enricher makes random ids instead of its time-ordered ones. It is the
    only id source, so both phases get them (the COPY copies the ingest's rows)."""
    if kind == "uuid4":
        enrich.new_record_id = uuid.uuid4


def article_pool() -> list[Item]:
    return list(islice(Corpus(CORPUS).iter_items(("news",)), POOL_SIZE))


def records(rows: int, pool: list[Item], start: int = 0) -> Iterator[NormalizedRecord]:
    size = len(pool)
    for n in range(start, start + rows):
        article, following = pool[n % size], pool[(n + 1) % size]
        title = f"{article.title} ({n})"
        # One article's body and the start of the next: the ~340 characters of text the
        # hand-written rows had, so the full-text index does the same work per record.
        text = f"{article.text} {following.text[:130]} {n}"
        yield NormalizedRecord(
            platform="rss_feeds",
            arena="news_media",
            content_type="article",
            platform_id=f"{article.url}#{n}",
            published_at=START + timedelta(seconds=(n * 7919) % SPAN_SECONDS),
            url=f"{article.url}?n={n}&utm_source=rss&utm_medium=feed",
            title=title,
            text_content=text,
            language="da",
            author_platform_id=article.author.user_id,
            author_display_name=article.author.display_name,
            likes_count=n % 100,
            raw_metadata={
                "feed_key": article.outlet_key,
                "outlet_name": article.outlet_key.split("_")[0],
                "tags": article.tags,
            },
            media_urls=[f"{article.url}/image-{n}.jpg"],
            hash_source=title,
        )


def empty_tables(libpq: str) -> None:
    """Both phases start from empty tables and a fresh checkpoint (same WAL position)."""
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("TRUNCATE content_records, content_record_collections")
        conn.execute("CHECKPOINT")


def make_design(libpq: str) -> tuple[str, str]:
    with psycopg.connect(libpq) as conn:
        user = conn.execute(
            "INSERT INTO users (email) VALUES ('bench@example.org') RETURNING id"
        ).fetchone()[0]
        design = conn.execute(
            "INSERT INTO query_designs (owner_id, name) VALUES (%s, 'bench') RETURNING id",
            (user,),
        ).fetchone()[0]
    return str(user), str(design)


def make_run(libpq: str, user_id: str, design_id: str) -> str:
    """A real collection run of the design, so the within-run content-hash dedup and the
    attribution of every record to the design (content_record_collections) are timed."""
    with psycopg.connect(libpq) as conn:
        return str(
            conn.execute(
                "INSERT INTO collection_runs (initiated_by, query_design_id) VALUES (%s, %s) "
                "RETURNING id",
                (user_id, design_id),
            ).fetchone()[0]
        )


def phase_ingest(
    engine, libpq: str, design_id: str, run_id: str, rows: int, pool: list[Item], batch: int
) -> tuple[dict, dict, list[float]]:
    enricher = Enricher(engine, TERMS)
    source = records(rows, pool)
    samples: list[float] = []
    tenth = max(1, rows // DECILES)
    with BulkIngester(engine, run_id=run_id, query_design_id=design_id, tier="free") as ingester:
        meter = Meter(libpq, ingester.conn.info.backend_pid)
        submitted = 0
        while chunk := list(islice(source, batch)):
            ingester.submit(enricher.rows(chunk, datetime.now(UTC)))
            samples.append(rss_mb())
            before, submitted = submitted, submitted + len(chunk)
            if submitted // tenth > before // tenth and submitted < rows:
                # the batch before this one is written (one in flight): close to a tenth
                meter.mark_tenth()
        counts = ingester.drain()
        measured = meter.result()
    return (
        measured,
        {
            "staged": counts.staged,
            "inserted": counts.inserted,
            "attributed": counts.attributed,
            "skipped": counts.skipped,
        },
        samples,
    )


def dump_rows(libpq: str, path: Path) -> None:
    with psycopg.connect(libpq) as conn, conn.cursor() as cur, path.open("wb") as out:
        with cur.copy(DUMP_ROWS) as copy:
            for data in copy:
                out.write(data)


def phase_plain_copy(libpq: str, path: Path) -> dict:
    tenth = max(1, path.stat().st_size // DECILES)
    with psycopg.connect(libpq) as conn, path.open("rb") as source:
        meter = Meter(libpq, conn.info.backend_pid)
        sent = 0
        with conn.cursor() as cur, cur.copy(COPY_ROWS) as copy:
            while data := source.read(CHUNK_BYTES):
                copy.write(data)
                before, sent = sent, sent + len(data)
                if sent // tenth > before // tenth and sent < tenth * DECILES:
                    meter.mark_tenth()  # the rows are of even size: a tenth of the bytes
        conn.commit()
        return meter.result()


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "best": round(min(values), 3),
        "worst": round(max(values), 3),
    }


def phase_summary(phases: list[dict]) -> dict:
    summary = {}
    for key in ("wall_s", "client_cpu_s", "server_cpu_s"):
        values = [p[key] for p in phases if p[key] is not None]
        summary[f"median_{key}"] = round(statistics.median(values), 2) if values else None
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="ingest/COPY pairs (median of)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--result", type=Path, default=RESULT_PATH, help="where the JSON goes")
    add_record_ids_option(parser)
    args = parser.parse_args()
    use_record_ids(args.record_ids)

    pool = article_pool()  # before anything is timed
    load_at_start = os.getloadavg()
    server = server_url()
    name = args.database_name = unique_name("bench_ingest")
    url = create_database(server, name)
    pairs: list[dict] = []
    rss_samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as scratch:
        dump = Path(scratch) / "rows.copy"
        try:
            migrate(url)
            engine = get_engine(url)
            libpq = urls.libpq_url(url)
            user_id, design_id = make_design(libpq)
            for number in range(args.runs):
                empty_tables(libpq)
                run_id = make_run(libpq, user_id, design_id)
                ingest, counts, samples = phase_ingest(
                    engine, libpq, design_id, run_id, args.rows, pool, args.batch
                )
                rss_samples = rss_samples or samples  # the first run's curve
                if number == 0:
                    dump_rows(libpq, dump)
                empty_tables(libpq)
                plain = phase_plain_copy(libpq, dump)
                ratio = ingest["wall_s"] / plain["wall_s"]
                pairs.append({"ingest": ingest, "plain_copy": plain, "ratio": round(ratio, 3)})
                print(json.dumps({"run": number + 1, **pairs[-1]}), file=sys.stderr)
                # A 1 M run takes long on a busy machine: what is measured so far is kept.
                record(args.result, summarise(args, pairs, counts, rss_samples, load_at_start))
            engine.dispose()
        finally:
            if not args.keep:
                drop_database(server, name)

    result = summarise(args, pairs, counts, rss_samples, load_at_start)
    record(args.result, result)
    print(json.dumps(result))


def summarise(
    args: argparse.Namespace,
    pairs: list[dict],
    counts: dict,
    rss_samples: list[float],
    load_at_start: tuple[float, ...],
) -> dict:
    load_now = os.getloadavg()
    loads = [load_at_start[0], load_now[0]] + [
        p[phase][key] for p in pairs for phase in ("ingest", "plain_copy")
        for key in ("load_before", "load_after")
    ]  # fmt: skip
    ratios = spread([p["ratio"] for p in pairs])
    return {
        "benchmark": "ingest",
        "rows": args.rows,
        "batch": args.batch,
        "record_ids": args.record_ids,
        "runs": len(pairs),
        "complete": len(pairs) == args.runs,
        "ratio": ratios,
        "target_ratio": TARGET_RATIO,
        "met": ratios["median"] <= TARGET_RATIO,
        "ingest": phase_summary([p["ingest"] for p in pairs]),
        "plain_copy": phase_summary([p["plain_copy"] for p in pairs]),
        "pairs": pairs,
        "ingest_counts": counts,
        "records": f"demo corpus news articles (seed {CORPUS.seed}, pool of {POOL_SIZE})",
        "baseline": "binary COPY of the rows the ingest stored (all columns), arrival order",
        "rss_mb_at_10pct": round(rss_samples[max(0, len(rss_samples) // 10 - 1)], 1),
        "rss_mb_at_end": round(rss_samples[-1], 1),
        "rss_mb_max_during_ingest": round(max(rss_samples), 1),
        "peak_rss_mb_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1
        ),
        "load_average_before": [round(x, 2) for x in load_at_start],
        "load_average_after": [round(x, 2) for x in load_now],
        "load_max_seen": round(max(loads), 2),
        "loaded": max(loads) > (os.cpu_count() or 1),
        "cpus": os.cpu_count(),
        "kept_database": args.database_name if args.keep else None,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def record(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
