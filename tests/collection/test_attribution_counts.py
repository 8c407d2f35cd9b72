"""A design's run reports the records it gained, not only the rows it stored (issue 13.1).

Design A collects entries 1-6 of a source, then design B collects entries 1-7 through the
Dagster asset (real runs: fake collector over HTTP on 127.0.0.1, real ledger, real ingest):
B stored one new row but gained seven records, and its task, run, asset metadata and run
summary say so; a rerun of B gains nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import dagster as dg
import psycopg
from alembic import command
from sqlalchemy import text

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import run_models
from observatory_pipelines.collection.assets import collected_content, query_designs_partitions
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import alembic_config

from .conftest import item, make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)
COUNTS = "records_collected, records_attributed, duplicates_skipped"


def design_config(feed: str) -> dict:
    return {
        "mode": "batch",
        "arenas": {"fake_news": {"tier": "premium", "feed": feed, "estimated_units": 900}},
    }


def counts(db, table: str, run_id: str) -> tuple:
    column = "id" if table == "collection_runs" else "collection_run_id"
    columns = COUNTS if table == "collection_tasks" else "records_collected, records_attributed"
    with db.connect() as conn:
        (row,) = conn.execute(
            text(f"SELECT {columns} FROM {table} WHERE {column} = :r"), {"r": run_id}
        ).all()
    return tuple(row)


def materialize(instance, design, postgres, object_store_resource) -> dict:
    result = dg.materialize(
        [collected_content], partition_key=design, instance=instance,
        resources={"postgres": postgres, "object_store": object_store_resource},
        run_config={"ops": {"collected_content": {"config": {
            "date_from": "2026-03-01", "date_to": "2026-03-07"}}}},
    )  # fmt: skip
    assert result.success
    (mat,) = result.asset_materializations_for_node("collected_content")
    return {k: v.value for k, v in mat.metadata.items()}


def test_runs_count_the_records_a_design_gained(db, database_url, json_server, postgres,
                                                object_store_resource):  # fmt: skip
    entries = [
        item(n, published=datetime(2026, 3, 2, n, tzinfo=UTC).isoformat()) for n in range(1, 8)
    ]
    json_server.feed("shared-a", [entries[:3], entries[3:6]])
    json_server.feed("shared-b", [entries[:4], entries[4:]])
    user = make_user(db, credits=100)
    a = make_design(db, user, design_config("shared-a"), [("grønland", "keyword")], name="A")
    b = make_design(db, user, design_config("shared-b"), [("klima", "hashtag")], name="B")

    run_a = start_run(db, a, FROM, TO)
    assert (run_a.status, run_a.records_collected, run_a.records_attributed) == ("completed", 6, 6)
    assert counts(db, "collection_tasks", run_a.run_id) == (6, 6, 0)
    assert counts(db, "collection_runs", run_a.run_id) == (6, 6)

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(query_designs_partitions.name, [b])
        meta = materialize(instance, b, postgres, object_store_resource)
    run_b = meta["collection_run_id"]
    # One new stored row, six rows A had stored, seven records new to B.
    assert counts(db, "collection_tasks", run_b) == (1, 7, 6)
    assert counts(db, "collection_runs", run_b) == (1, 7)
    assert (meta["records_collected"], meta["records_attributed"]) == (1, 7)
    assert meta["duplicates_skipped"] == 6
    news = meta["arenas"]["fake_news"]
    assert (news["records_collected"], news["records_attributed"]) == (1, 7)
    assert news["duplicates_skipped"] == 6

    again = start_run(db, b, FROM, TO)
    assert (again.records_collected, again.records_attributed) == (0, 0)
    assert counts(db, "collection_tasks", again.run_id) == (0, 0, 7)
    assert counts(db, "collection_runs", again.run_id) == (0, 0)

    # The run summary lists the counter for the run and per task.
    with psycopg.connect(urls.libpq_url(database_url)) as conn:
        params = check_scope(conn, AnalysisScope(b))
        summary = run_models(conn, params, ["run_summary"])["run_summary"]
    by_run = {str(r["run_id"]): r for r in summary}
    assert (by_run[run_b]["records_collected"], by_run[run_b]["records_attributed"]) == (1, 7)
    (task,) = by_run[run_b]["tasks"]
    assert (task["records_collected"], task["records_attributed"]) == (1, 7)
    assert by_run[again.run_id]["records_attributed"] == 0


def test_migration_gives_existing_tasks_and_runs_their_stored_rows_as_attributed(
    scratch_database,
):
    # Before attribution per design, a task's records were exactly the rows it stored.
    config = alembic_config(scratch_database)
    command.upgrade(config, "008_record_attribution")
    owner, run, empty_run = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'm@example.org')", [owner])
        for run_id, collected in ((run, 9), (empty_run, 0)):
            conn.execute(
                "INSERT INTO collection_runs (id, initiated_by, records_collected) "
                "VALUES (%s, %s, %s)",
                [run_id, owner, collected],
            )
        for platform, collected in (("rss_feeds", 4), ("bluesky", 5)):
            conn.execute(
                "INSERT INTO collection_tasks (collection_run_id, arena, platform, "
                "records_collected, duplicates_skipped) VALUES (%s, 'x', %s, %s, 3)",
                [run, platform, collected],
            )
        conn.commit()

    command.upgrade(config, "009_records_attributed")
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        tasks = conn.execute(
            "SELECT platform, records_collected, records_attributed FROM collection_tasks "
            "ORDER BY 1"
        ).fetchall()
        runs = dict(
            conn.execute("SELECT id::text, records_attributed FROM collection_runs").fetchall()
        )
    assert tasks == [("bluesky", 5, 5), ("rss_feeds", 4, 4)]
    assert runs == {run: 9, empty_run: 0}

    command.downgrade(config, "008_record_attribution")
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE column_name = 'records_attributed'"
        ).fetchone()
    assert left == (0,)
    command.upgrade(config, "head")
