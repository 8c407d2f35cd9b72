"""Benchmark: the collection ingest path vs a plain COPY of the same rows.

Both phases write ``--rows`` synthetic records into the same partitioned
``content_records`` (monthly partitions 2026_02..04 + default, every index of
migration 001 incl. the Danish full-text GIN) of a fresh database on the embedded
server (or TEST_DATABASE_URL's server), emptied between phases:

- ``plain_copy``: rows already in final column form, one binary COPY straight
  into content_records (no cleaning, no enrichment, no dedup);
- ``ingest``: ``NormalizedRecord`` objects through the real path — clean
  (normalize.py) → enrich (terms, content hash, URL normalisation (collection/url_normalize.py), HMAC pseudonym,
  actor lookup) → COPY into the temp staging table → one deduplicating
  ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per batch, then one ``INSERT … SELECT`` that
  attributes every staged row to the design and run (content_record_collections).

Records are news articles of the synthetic corpus (``observatory_pipelines.demo.corpus``,
the generator the offline demo collects): a pool of ``POOL_SIZE`` articles is drawn once,
before either phase is timed, and cycled, each record made unique by its number, so the
per-record cost of producing a record is what it was with the hand-written rows (see
docs/benchmarks/ingest.md). Records are produced lazily in both phases, so memory is the
batch, not the source; RSS is sampled after every batch to show it stays flat. Prints one
JSON line and writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PSEUDONYMIZATION_KEY", "bench-only-key")

from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm  # noqa: E402
from observatory_pipelines.collection.enrich import Enricher  # noqa: E402
from observatory_pipelines.collection.ingest import BulkIngester  # noqa: E402
from observatory_pipelines.db import urls  # noqa: E402
from observatory_pipelines.db.engine import get_engine, migrate  # noqa: E402
from observatory_pipelines.db.scratch import (
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
PLAIN_COLUMNS = (
    "published_at, platform, arena, platform_id, content_type, url, text_content, title, "
    "language, collected_at, author_platform_id, author_display_name, pseudonymized_author_id, "
    "likes_count, shares_count, comments_count, search_terms_matched, collection_tier, "
    "raw_metadata, media_urls, content_hash"
)
PLAIN_TYPES = (
    ["timestamptz"] + ["text"] * 8 + ["timestamptz"] + ["text"] * 3 + ["int8"] * 3
    + ["text[]", "text", "jsonb", "text[]", "text"]
)  # fmt: skip


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def article_pool() -> list[Item]:
    return list(islice(Corpus(CORPUS).iter_items(("news",)), POOL_SIZE))


def records(rows: int, pool: list[Item]) -> Iterator[NormalizedRecord]:
    size = len(pool)
    for n in range(rows):
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


def plain_rows(rows: int, pool: list[Item], collected_at: datetime) -> Iterator[tuple]:
    """The same records in final column form (what the ingest path would end up storing)."""
    for r in records(rows, pool):
        yield (
            r.published_at, r.platform, r.arena, r.platform_id, r.content_type, r.url,
            r.text_content, r.title, r.language, collected_at, r.author_platform_id,
            r.author_display_name, None, r.likes_count, None, None, None, "free",
            json.dumps(r.raw_metadata), r.media_urls, None,
        )  # fmt: skip


def phase_plain_copy(libpq: str, rows: int, pool: list[Item], samples: list[float]) -> float:
    collected_at = datetime.now(UTC)
    with psycopg.connect(libpq) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            sql = f"COPY content_records ({PLAIN_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            with cur.copy(sql) as copy:
                copy.set_types(PLAIN_TYPES)
                for n, row in enumerate(plain_rows(rows, pool, collected_at)):
                    copy.write_row(row)
                    if n % 10_000 == 0:
                        samples.append(rss_mb())
        conn.commit()
        return time.perf_counter() - started


def make_run(libpq: str) -> tuple[str, str]:
    """A real design and collection run, so the within-run content-hash dedup and the
    attribution of every record to the design (content_record_collections) are timed."""
    with psycopg.connect(libpq) as conn:
        user = conn.execute(
            "INSERT INTO users (email) VALUES ('bench@example.org') RETURNING id"
        ).fetchone()[0]
        design = conn.execute(
            "INSERT INTO query_designs (owner_id, name) VALUES (%s, 'bench') RETURNING id",
            (user,),
        ).fetchone()[0]
        run = conn.execute(
            "INSERT INTO collection_runs (initiated_by, query_design_id) VALUES (%s, %s) "
            "RETURNING id",
            (user, design),
        ).fetchone()[0]
    return str(design), str(run)


def phase_ingest(
    engine,
    design_id: str,
    run_id: str,
    rows: int,
    pool: list[Item],
    batch: int,
    samples: list[float],
) -> tuple[float, dict]:
    enricher = Enricher(engine, TERMS)
    source = records(rows, pool)
    started = time.perf_counter()
    with BulkIngester(engine, run_id=run_id, query_design_id=design_id, tier="free") as ingester:
        while chunk := list(islice(source, batch)):
            ingester.submit(enricher.rows(chunk, datetime.now(UTC)))
            samples.append(rss_mb())
        counts = ingester.drain()
    elapsed = time.perf_counter() - started
    return elapsed, {
        "staged": counts.staged,
        "inserted": counts.inserted,
        "attributed": counts.attributed,
        "skipped": counts.skipped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    pool = article_pool()  # before anything is timed
    server = server_url()
    name = unique_name("bench_ingest")
    url = create_database(server, name)
    try:
        migrate(url)
        engine = get_engine(url)
        libpq = urls.libpq_url(url)
        copy_samples: list[float] = []
        copy_seconds = phase_plain_copy(libpq, args.rows, pool, copy_samples)
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute("TRUNCATE content_records")
            conn.execute("CHECKPOINT")
        ingest_samples: list[float] = []
        design_id, run_id = make_run(libpq)
        ingest_seconds, counts = phase_ingest(
            engine, design_id, run_id, args.rows, pool, args.batch, ingest_samples
        )
        engine.dispose()
    finally:
        if not args.keep:
            drop_database(server, name)

    tenth = ingest_samples[max(0, len(ingest_samples) // 10 - 1)]
    result = {
        "benchmark": "ingest",
        "rows": args.rows,
        "batch": args.batch,
        "plain_copy_seconds": round(copy_seconds, 2),
        "ingest_seconds": round(ingest_seconds, 2),
        "ratio": round(ingest_seconds / copy_seconds, 3),
        "target_ratio": 2.0,
        "plain_copy_rows_per_second": round(args.rows / copy_seconds),
        "ingest_rows_per_second": round(args.rows / ingest_seconds),
        "ingest_counts": counts,
        "records": f"demo corpus news articles (seed {CORPUS.seed}, pool of {POOL_SIZE})",
        "rss_mb_at_10pct": round(tenth, 1),
        "rss_mb_at_end": round(ingest_samples[-1], 1),
        "rss_mb_max_during_ingest": round(max(ingest_samples), 1),
        "peak_rss_mb_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1
        ),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULT_PATH.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
