"""Migration 008 (issue 13.1): records stored before it keep their design, through a link each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
from alembic import command

from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import alembic_config

BEFORE = "007_feed_sources"


def _seed(conn) -> dict[str, str]:
    ids = {k: str(uuid.uuid4()) for k in ("owner", "design", "run")}
    conn.execute("INSERT INTO users (id, email) VALUES (%s, 'm@example.org')", [ids["owner"]])
    conn.execute(
        "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, 'old')",
        [ids["design"], ids["owner"]],
    )
    conn.execute(
        "INSERT INTO collection_runs (id, query_design_id, initiated_by) VALUES (%s, %s, %s)",
        [ids["run"], ids["design"], ids["owner"]],
    )
    # p1, p2 by the run; p3 by the design with its run deleted (NULL); p4 of no design.
    for n, run, design in (
        (1, ids["run"], ids["design"]),
        (2, ids["run"], ids["design"]),
        (3, None, ids["design"]),
        (4, None, None),
    ):
        conn.execute(
            "INSERT INTO content_records (published_at, platform, arena, platform_id, "
            "content_type, collection_run_id, query_design_id, search_terms_matched, "
            "collection_tier, collected_at) VALUES (%s, 'bluesky', 'social_media', %s, 'post', "
            "%s, %s, ARRAY['klima'], 'free', %s)",
            [
                datetime(2026, 3, n, tzinfo=UTC),
                f"p{n}",
                run,
                design,
                datetime(2026, 3, 9, tzinfo=UTC),
            ],
        )
    conn.commit()
    return ids


def test_upgrade_links_every_existing_record_and_downgrade_removes_the_table(scratch_database):
    config = alembic_config(scratch_database)
    command.upgrade(config, BEFORE)
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        ids = _seed(conn)

    command.upgrade(config, "008_record_attribution")
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        links = conn.execute(
            "SELECT c.platform_id, l.query_design_id::text, l.first_collection_run_id::text, "
            "l.collection_run_ids::text[], l.search_terms_matched, l.first_collected_at, "
            "l.published_at = c.published_at FROM content_record_collections AS l "
            "JOIN content_records AS c ON c.id = l.content_record_id ORDER BY 1"
        ).fetchall()
    collected = datetime(2026, 3, 9, tzinfo=UTC)
    assert links == [
        ("p1", ids["design"], ids["run"], [ids["run"]], ["klima"], collected, True),
        ("p2", ids["design"], ids["run"], [ids["run"]], ["klima"], collected, True),
        ("p3", ids["design"], None, [], ["klima"], collected, True),
    ]  # p4 had no design: nothing to attribute

    command.downgrade(config, BEFORE)
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        assert conn.execute("SELECT to_regclass('content_record_collections')").fetchone() == (
            None,
        )
        assert conn.execute("SELECT count(*) FROM content_records").fetchone() == (4,)
    command.upgrade(config, "head")
