"""Moving rows out of the default partition vs a plain INSERT … SELECT of the same rows.

Creates a fresh database on the embedded server, migrates it, runs maintenance once (so
only one month is left to create), puts ``--rows`` content records for January 2026 into
the default partition, then times:

* baseline: ``INSERT INTO t SELECT * FROM content_records_default`` where ``t`` is an empty
  table ``LIKE content_records INCLUDING ALL`` (same columns, same eleven indexes);
* move: one maintenance run, which creates ``content_records_2026_01``, moves the rows out
  of the default in one transaction and attaches the month (building its indexes).

Prints one JSON line and writes ``bench/results/partitions.json``. The database is dropped.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from observatory_pipelines.db.engine import get_engine, migrate
from observatory_pipelines.db.scratch import (
    create_database,
    drop_database,
    server_url,
    unique_name,
)
from observatory_pipelines.partitions.manager import PartitionManager, Policy

TARGET_RATIO = 1.5
MONTH = "2026-01"
RESULT = Path(__file__).with_name("results") / "partitions.json"

GENERATE = text(
    """
    INSERT INTO content_records (published_at, platform, arena, platform_id, content_type,
        url, text_content, title, language, author_platform_id, author_display_name,
        pseudonymized_author_id, likes_count, collection_tier, raw_metadata,
        search_terms_matched, content_hash)
    SELECT timestamptz '2026-01-01 00:00+00' + (i % 2678400) * interval '1 second',
           (ARRAY['rss', 'bluesky', 'reddit', 'gdelt'])[1 + i % 4],
           'news_media', 'bench-' || i, 'article',
           'https://example.dk/artikel/' || i,
           'Folketinget debatterer ' || (ARRAY['klimaloven', 'skattereformen', 'sundhedsvæsenet',
               'forsvarsforliget', 'boligpolitik'])[1 + i % 5]
               || ' i dag. Ordføreren siger ' || md5(i::text) || ' og oppositionen svarer '
               || md5((i + 1)::text) || '.',
           'Debat ' || (i % 1000), 'da', 'author-' || (i % 50000), 'Forfatter ' || (i % 50000),
           md5('author-' || (i % 50000)), i % 500, 'free',
           jsonb_build_object('feed', 'feed-' || (i % 40), 'rank', i % 100),
           ARRAY['klima', 'skat'], md5('content-' || i)
    FROM generate_series(1, :rows) AS i
    """
)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(rows: int) -> dict:
    server = server_url()
    name = unique_name("bench_partitions")
    url = create_database(server, name)
    try:
        migrate(url)
        engine = get_engine(url)
        manager = PartitionManager(engine, today=date(2026, 11, 15), policy=Policy())
        assert manager.run().ok  # everything but January 2026 exists now
        with engine.begin() as conn:
            conn.execute(GENERATE, {"rows": rows})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE content_records_default")
            conn.exec_driver_sql("CREATE TABLE baseline (LIKE content_records INCLUDING ALL)")
            conn.exec_driver_sql("CHECKPOINT")
            baseline = timed(
                lambda: conn.exec_driver_sql(
                    "INSERT INTO baseline SELECT * FROM content_records_default"
                )
            )
            copied = conn.exec_driver_sql("SELECT count(*) FROM baseline").scalar_one()
            conn.exec_driver_sql("DROP TABLE baseline")
            conn.exec_driver_sql("CHECKPOINT")
            total_before = conn.exec_driver_sql("SELECT count(*) FROM content_records").scalar_one()
        report = None

        def move():
            nonlocal report
            report = manager.run()

        moving = timed(move)
        with engine.connect() as conn:
            total_after = conn.execute(text("SELECT count(*) FROM content_records")).scalar_one()
            in_default = conn.execute(
                text("SELECT count(*) FROM content_records_default")
            ).scalar_one()
        assert report.ok, report.failed
        assert copied == rows and total_before == total_after == rows and in_default == 0
        engine.dispose()
        ratio = moving / baseline
        return {
            "benchmark": "partitions",
            "rows": rows,
            "baseline_insert_select_s": round(baseline, 3),
            "move_out_of_default_s": round(moving, 3),
            "ratio": round(ratio, 3),
            "target_ratio": TARGET_RATIO,
            "meets_target": ratio <= TARGET_RATIO,
            "moved_rows": report.moved_rows,
            "rows_before": total_before,
            "rows_after": total_after,
            "machine": f"{platform.machine()} {platform.system()} python {platform.python_version()}",
        }
    finally:
        get_engine(url).dispose()
        drop_database(server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    result = run(args.rows)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
