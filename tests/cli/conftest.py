"""The real ``observatory`` entry point against the real test database, and a small seed.

Seed (hand-countable; the answers are in the tests):

- users ana@example.org (1000 credits) and bo@example.org (500);
- design "Klima og energi" of ana, with one completed run: rss_feeds completed with 3
  records and two skipped feeds (timeout, http_error), bluesky failed ("HTTP 401 ...");
  the ledger reserved 40 (rss_feeds) + 30 (bluesky), settled rss_feeds at 25, released
  bluesky: ana has 1000 - 25 = 975 available;
- four records of the design (two authors; terms klima, energi, skat), run the run.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.db import urls

ENTRY_POINT = Path(sys.executable).with_name("observatory")
DESIGN_NAME = "Klima og energi"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture()
def observatory(database_url, tmp_path):
    """Run the installed console script (``make setup`` installs it) in ``tmp_path``."""
    assert ENTRY_POINT.exists(), f"{ENTRY_POINT} is missing: run `make setup`"

    def run(*argv: str, cwd: Path | None = None) -> Result:
        env = {**os.environ, "DATABASE_URL": database_url}
        done = subprocess.run(
            [str(ENTRY_POINT), *argv],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=env,
            timeout=300,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture()
def cli(database_url, tmp_path, monkeypatch, capsys):
    """The same ``main`` in this process (a subprocess costs seconds on a loaded machine):
    for the many refusals and formats; the flows themselves run through ``observatory``."""
    from observatory_pipelines import logs
    from observatory_pipelines.cli.main import main

    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: --help and usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    yield run
    # main() quiets stderr logging for its process; the other tests here read log lines.
    logs.set_stderr_level(logging.INFO)


@dataclass
class Seed:
    ana: str
    bo: str
    design: str
    run: str


def _t(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture()
def seed(db, database_url) -> Seed:
    ids = {k: str(uuid.uuid4()) for k in ("ana", "bo", "design", "run")}
    today = datetime.now(UTC).date()
    with psycopg.connect(urls.libpq_url(database_url)) as conn, conn.transaction():
        for key, credits in (("ana", 1000), ("bo", 500)):
            conn.execute(
                "INSERT INTO users (id, email, display_name) VALUES (%s, %s, %s)",
                [ids[key], f"{key}@example.org", key.title()],
            )
            conn.execute(
                "INSERT INTO credit_allocations (user_id, credits_amount, valid_from) "
                "VALUES (%s, %s, %s)",
                [ids[key], credits, today - timedelta(days=10)],
            )
        conn.execute(
            "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, %s)",
            [ids["design"], ids["ana"], DESIGN_NAME],
        )
        conn.execute(
            "INSERT INTO collection_runs (id, query_design_id, initiated_by, status, date_from, "
            "date_to, started_at, completed_at, estimated_credits, credits_spent, "
            "records_collected, records_attributed) "
            "VALUES (%s, %s, %s, 'completed', %s, %s, %s, %s, 70, 25, 3, 3)",
            [ids["run"], ids["design"], ids["ana"], _t(1, 0), _t(8, 0), _t(8, 1), _t(8, 2)],
        )
        skipped = [
            {"source": "dr_indland", "reason": "timeout", "url": "dr.dk/rss", "detail": "x"},
            {"source": "tv2_nyheder", "reason": "http_error", "url": "tv2.dk/rss", "detail": "y"},
        ]
        conn.execute(
            "INSERT INTO collection_tasks (collection_run_id, arena, platform, status, "
            "records_collected, records_attributed, duplicates_skipped, credits_spent, "
            "skipped_sources) VALUES (%s, 'news_media', 'rss_feeds', 'completed', 3, 3, 1, 25, "
            "%s::jsonb)",
            [ids["run"], json.dumps(skipped)],
        )
        conn.execute(
            "INSERT INTO collection_tasks (collection_run_id, arena, platform, status, "
            "error_message) VALUES (%s, 'social_media', 'bluesky', 'failed', %s)",
            [ids["run"], "HTTP 401 from bluesky createSession"],
        )
        records = (
            (1, "pa_anna", "Anna", _t(2, 9), ["klima", "energi"], 10),
            (2, "pa_anna", "Anna", _t(3, 9), ["klima", "skat"], 4),
            (3, "pb_bo", "Bo", _t(4, 9), ["klima", "energi"], 6),
            (4, "pb_bo", "Bo", _t(5, 9), ["energi"], 0),
        )
        for n, pseudonym, name, published, terms, likes in records:
            conn.execute(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, url, text_content, title, language, author_platform_id, "
                "author_display_name, pseudonymized_author_id, likes_count, engagement_score, "
                "collection_run_id, query_design_id, search_terms_matched, collection_tier, "
                "content_hash) VALUES (%s, 'rss_feeds', 'news_media', %s, 'article', %s, %s, "
                "%s, 'da', %s, %s, %s, %s, %s, %s, %s, %s, 'free', %s)",
                [
                    published,
                    f"p{n}",
                    f"https://example.dk/{n}",
                    f"Tekst {n}: grøn omstilling, æøå",
                    f"Titel {n}",
                    f"author:{pseudonym}",
                    name,
                    pseudonym,
                    likes,
                    likes / 2,
                    ids["run"],
                    ids["design"],
                    terms,
                    f"{n:064d}",
                ],
            )
        conn.execute(
            "INSERT INTO content_record_collections (query_design_id, content_record_id, "
            "published_at, first_collection_run_id, collection_run_ids, search_terms_matched) "
            "SELECT query_design_id, id, published_at, collection_run_id, "
            "ARRAY[collection_run_id], search_terms_matched FROM content_records"
        )
    ledger = CreditLedger(db)
    rss = LedgerKey(ids["ana"], ids["run"], "news_media", "rss_feeds", "free")
    bluesky = LedgerKey(ids["ana"], ids["run"], "social_media", "bluesky", "free")
    ledger.reserve(rss, 40)
    ledger.reserve(bluesky, 30)
    ledger.settle(rss, 25)
    ledger.release(bluesky)
    return Seed(**ids)
