"""A hand-countable corpus: 3 platforms, 2 months, 5 actors, 4 terms (answers in test_*.py).

| # | platform  | author       | published (UTC)  | terms                 | likes shares comments views | run |
|---|-----------|--------------|------------------|-----------------------|-----------------------------|-----|
| 1 | bluesky   | A (actor X)  | 2026-02-03 10:00 | klima, energi         | 10 2 1 -                    | R1  |
| 2 | bluesky   | A (actor X)  | 2026-02-10 12:00 | klima                 | 4 0 0 -                     | R1  |
| 3 | bluesky   | B            | 2026-02-10 13:00 | klima, grøn           | 6 1 - -                     | R1  |
| 4 | reddit    | C (X by presence) | 2026-02-20 08:00 | energi, skat     | 20 - 5 100                  | R1  |
| 5 | reddit    | C            | 2026-03-01 09:00 | klima, energi, klima  | 2 0 3 50                    | R2  |
| 6 | reddit    | D            | 2026-03-05 10:00 | skat                  | - - - -       (language en-GB) | R2  |
| 7 | rss_feeds | E (name only)| 2026-03-05 11:00 | grøn, energi, klima   | - - - -                     | R2  |
| 8 | rss_feeds | (no author)  | 2026-03-15 12:00 | klima                 | - - - -                     | R2  |
| 9 | rss_feeds | E            | 2026-03-20 12:00 | energi, grøn          | - - - -                     | R2  |
| 10| bluesky   | A            | duplicate_of #1 (excluded)                                              |
| 11| bluesky   | A, other design (excluded)                                                     |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest

from observatory_pipelines.db import urls

A, B, C, D = "pa_anna", "pb_bo", "pc_carl", "pd_dorte"
E_NAME = "Jens Ærø"
E = f"name:rss_feeds:{E_NAME}"


@dataclass
class Corpus:
    design: str
    other_design: str
    empty_design: str
    run1: str
    run2: str
    other_run: str
    actor_x: str
    owner: str
    # author keys of the five actors (E has a display name only)
    A: str = A
    B: str = B
    C: str = C
    D: str = D
    E: str = E


def _t(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture()
def conn(db, database_url):
    with psycopg.connect(urls.libpq_url(database_url)) as connection:
        yield connection


@pytest.fixture()
def corpus(conn) -> Corpus:
    ids = {k: str(uuid.uuid4()) for k in ("owner", "d1", "d2", "d3", "r1", "r2", "r3", "x")}
    with conn.transaction():
        conn.execute(
            "INSERT INTO users (id, email) VALUES (%s, 'researcher@example.org')", [ids["owner"]]
        )
        for key, name in (("d1", "Klima og energi"), ("d2", "Andet"), ("d3", "Tomt")):
            conn.execute(
                "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, %s)",
                [ids[key], ids["owner"], name],
            )
        conn.execute(
            "INSERT INTO actors (id, canonical_name) VALUES (%s, 'Klimarådet')", [ids["x"]]
        )
        conn.execute(
            "INSERT INTO actor_platform_presences (actor_id, platform, platform_user_id) "
            "VALUES (%s, 'reddit', 'reddit_carl')",
            [ids["x"]],
        )
        runs = (
            ("r1", "d1", "completed", _t(2, 20, 10), _t(2, 20, 10).replace(minute=5), 3, 5, 4),
            ("r2", "d1", "running", _t(3, 20, 12), None, 0, 0, 5),
            ("r3", "d2", "completed", None, None, 0, 0, 1),
        )
        for key, design, status, started, completed, spent, estimated, collected in runs:
            conn.execute(
                "INSERT INTO collection_runs (id, query_design_id, initiated_by, status, "
                "started_at, completed_at, credits_spent, estimated_credits, records_collected) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    ids[key],
                    ids[design],
                    ids["owner"],
                    status,
                    started,
                    completed,
                    spent,
                    estimated,
                    collected,
                ],
            )
        tasks = (
            ("social_media", "bluesky", "completed", 3, 1, 0, None, 60),
            ("social_media", "reddit", "failed", 1, 0, 2, "HTTP 403 from reddit", 30),
            ("news_media", "rss_feeds", "completed", 0, 0, 0, None, 10),
        )
        for arena, platform, status, collected, dups, rejected, error, seconds in tasks:
            conn.execute(
                "INSERT INTO collection_tasks (collection_run_id, arena, platform, status, "
                "records_collected, duplicates_skipped, records_rejected, error_message, "
                "started_at, completed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s + make_interval(secs => %s))",
                [
                    ids["r1"],
                    arena,
                    platform,
                    status,
                    collected,
                    dups,
                    rejected,
                    error,
                    _t(2, 20, 10),
                    _t(2, 20, 10),
                    seconds,
                ],
            )
        conn.execute(
            "INSERT INTO credit_transactions (user_id, collection_run_id, arena, platform, "
            "credits_consumed, transaction_type) VALUES "
            "(%(u)s, %(r)s, 'social_media', 'bluesky', 5, 'reservation'), "
            "(%(u)s, %(r)s, 'social_media', 'bluesky', 3, 'settlement')",
            {"u": ids["owner"], "r": ids["r1"]},
        )
        # (n, platform, arena, pseudonym, name, author_id, author_platform_id, published,
        #  terms, likes, shares, comments, views, run, design, raw_metadata, language)
        x = ids["x"]
        rows = [
            (
                1,
                "bluesky",
                "social_media",
                A,
                "Anna",
                x,
                "did:a",
                _t(2, 3, 10),
                ["klima", "energi"],
                10,
                2,
                1,
                None,
                "r1",
                "d1",
                "{}",
                "da",
            ),
            (
                2,
                "bluesky",
                "social_media",
                A,
                "Anna",
                x,
                "did:a",
                _t(2, 10, 12),
                ["klima"],
                4,
                0,
                0,
                None,
                "r1",
                "d1",
                "{}",
                "da",
            ),
            (
                3,
                "bluesky",
                "social_media",
                B,
                "Bo",
                None,
                "did:b",
                _t(2, 10, 13),
                ["klima", "grøn"],
                6,
                1,
                None,
                None,
                "r1",
                "d1",
                "{}",
                "da",
            ),
            (
                4,
                "reddit",
                "social_media",
                C,
                "Carl",
                None,
                "reddit_carl",
                _t(2, 20, 8),
                ["energi", "skat"],
                20,
                None,
                5,
                100,
                "r1",
                "d1",
                "{}",
                "da",
            ),
            (
                5,
                "reddit",
                "social_media",
                C,
                "Carl",
                None,
                "reddit_carl",
                _t(3, 1, 9),
                ["klima", "energi", "klima"],
                2,
                0,
                3,
                50,
                "r2",
                "d1",
                "{}",
                "da",
            ),
            (
                6,
                "reddit",
                "social_media",
                D,
                "Dorte",
                None,
                "reddit_dorte",
                _t(3, 5, 10),
                ["skat"],
                None,
                None,
                None,
                None,
                "r2",
                "d1",
                "{}",
                "en-GB",
            ),
            (
                7,
                "rss_feeds",
                "news_media",
                None,
                E_NAME,
                None,
                None,
                _t(3, 5, 11),
                ["grøn", "energi", "klima"],
                None,
                None,
                None,
                None,
                "r2",
                "d1",
                "{}",
                "da",
            ),
            (
                8,
                "rss_feeds",
                "news_media",
                None,
                None,
                None,
                None,
                _t(3, 15, 12),
                ["klima"],
                None,
                None,
                None,
                None,
                "r2",
                "d1",
                "{}",
                "da",
            ),
            (
                9,
                "rss_feeds",
                "news_media",
                None,
                E_NAME,
                None,
                None,
                _t(3, 20, 12),
                ["energi", "grøn"],
                None,
                None,
                None,
                None,
                "r2",
                "d1",
                "{}",
                "da",
            ),
            (
                10,
                "bluesky",
                "social_media",
                A,
                "Anna",
                x,
                "did:a",
                _t(2, 3, 10),
                ["klima", "energi"],
                10,
                2,
                1,
                None,
                "r1",
                "d1",
                '{"duplicate_of": "00000000-0000-0000-0000-000000000001"}',
                "da",
            ),
            (
                11,
                "bluesky",
                "social_media",
                A,
                "Anna",
                x,
                "did:a",
                _t(2, 4, 10),
                ["klima"],
                99,
                99,
                99,
                None,
                "r3",
                "d2",
                "{}",
                "da",
            ),
        ]
        for (
            n,
            platform,
            arena,
            pseudonym,
            name,
            author_id,
            author_pid,
            published,
            terms,
            likes,
            shares,
            comments,
            views,
            run,
            design,
            raw,
            language,
        ) in rows:
            text = f'Post {n}: grøn omstilling, "æøå" og komma, ny linje\nslut'
            conn.execute(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, url, text_content, title, language, author_platform_id, "
                "author_display_name, author_id, pseudonymized_author_id, views_count, "
                "likes_count, shares_count, comments_count, engagement_score, "
                "collection_run_id, query_design_id, search_terms_matched, collection_tier, "
                "raw_metadata, content_hash) VALUES (%s, %s, %s, %s, 'post', %s, %s, %s, %s, "
                "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'free', %s, %s)",
                [
                    published,
                    platform,
                    arena,
                    f"p{n}",
                    f"https://example.org/{n}",
                    text,
                    f"Titel {n} – Ærø" if n != 3 else '=HYPERLINK("x")',
                    language,
                    author_pid,
                    name,
                    author_id,
                    pseudonym,
                    views,
                    likes,
                    shares,
                    comments,
                    n / 2,
                    ids[run],
                    ids[design],
                    terms,
                    raw,
                    f"{n:064d}",
                ],
            )
        # A design's records are its links (content_record_collections), as the ingest writes
        # them: here each record was collected by the design and run that stored it.
        conn.execute(
            "INSERT INTO content_record_collections (query_design_id, content_record_id, "
            "published_at, first_collection_run_id, collection_run_ids, search_terms_matched) "
            "SELECT query_design_id, id, published_at, collection_run_id, "
            "ARRAY[collection_run_id], search_terms_matched FROM content_records"
        )
    return Corpus(
        design=ids["d1"],
        other_design=ids["d2"],
        empty_design=ids["d3"],
        run1=ids["r1"],
        run2=ids["r2"],
        other_run=ids["r3"],
        actor_x=x,
        owner=ids["owner"],
    )
