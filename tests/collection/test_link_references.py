"""content_record_collections' design and run references (migration 018): checked once per
statement by triggers instead of per row by foreign keys, with the keys' guarantees kept.

A link naming a design or run that does not exist is refused (inserted directly, updated, or
attributed by the ingest when every row was stored before, where only the link protects it);
deleting a design deletes its links, deleting a run unsets their first run; a delete that
waits for an ingest holding the design still sees that ingest's links, and an ingest that waits
for a delete is refused.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.errors import ForeignKeyViolation, ObjectNotInPrerequisiteState

from observatory_pipelines.arenas.base import NormalizedRecord
from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.db import urls

from .conftest import make_design, make_user, rows

WHEN = datetime(2026, 3, 2, 12, tzinfo=UTC)
LINK = (
    "INSERT INTO content_record_collections (query_design_id, content_record_id, published_at,"
    " first_collection_run_id, collection_run_ids) VALUES (%s, %s, %s, %s, %s)"
)


def user_design_and_run(engine, name: str = "design") -> tuple[str, str, str]:
    user = make_user(engine)
    design = make_design(engine, user, {"mode": "batch", "arenas": {}}, name=name)
    with engine.begin() as conn:
        run = conn.exec_driver_sql(
            "INSERT INTO collection_runs (initiated_by, query_design_id) VALUES (%s, %s)"
            " RETURNING id",
            (user, design),
        ).scalar_one()
    return user, design, str(run)


@pytest.fixture()
def design_and_run(db):
    return user_design_and_run(db)


def connect(engine) -> psycopg.Connection:
    return psycopg.connect(urls.libpq_url(engine.url.render_as_string(hide_password=False)))


def link_count(engine, design: str) -> int:
    sql = "SELECT count(*) AS n FROM content_record_collections WHERE query_design_id = :d"
    return rows(engine, sql, d=design)[0]["n"]


def record(n: int) -> NormalizedRecord:
    return NormalizedRecord(
        platform="rss_feeds", arena="news_media", content_type="article",
        platform_id=f"p{n}", published_at=WHEN, url=f"https://example.dk/{n}",
        title=f"Overskrift {n}", text_content=f"Tekst {n}",
    )  # fmt: skip


def ingest(engine, design, run, numbers) -> None:
    with BulkIngester(engine, run_id=run, query_design_id=design) as ingester:
        ingester.write(Enricher(engine).rows([record(n) for n in numbers], WHEN))


def test_a_link_to_a_missing_design_or_run_is_refused(db, design_and_run):
    _user, design, run = design_and_run
    missing = str(uuid.uuid4())
    with connect(db) as conn:
        with pytest.raises(ForeignKeyViolation) as refused:
            conn.execute(LINK, (missing, uuid.uuid4(), WHEN, run, [run]))
        assert refused.value.diag.constraint_name == (
            "content_record_collections_query_design_id_fkey"
        )
        assert missing in refused.value.diag.message_detail
        conn.rollback()
        with pytest.raises(ForeignKeyViolation) as refused:
            conn.execute(LINK, (design, uuid.uuid4(), WHEN, missing, []))
        assert refused.value.diag.constraint_name == (
            "content_record_collections_first_collection_run_id_fkey"
        )
        conn.rollback()
        # one bad row among good ones is enough
        with pytest.raises(ForeignKeyViolation):
            conn.execute(
                "INSERT INTO content_record_collections (query_design_id, content_record_id,"
                " published_at) SELECT CASE WHEN n = 3 THEN %s ELSE %s END::uuid,"
                " gen_random_uuid(), %s FROM generate_series(1, 5) AS n",
                (missing, design, WHEN),
            )
        conn.rollback()
        conn.execute(LINK, (design, uuid.uuid4(), WHEN, None, []))  # no first run: allowed
        conn.commit()
        with pytest.raises(ForeignKeyViolation):
            conn.execute(
                "UPDATE content_record_collections SET first_collection_run_id = %s", (missing,)
            )
        conn.rollback()
    assert link_count(db, design) == 1


def test_the_ingest_refuses_links_to_a_missing_design_or_run(db, design_and_run):
    user, design, run = design_and_run
    ingest(db, design, run, [1, 2, 3])
    other = make_design(db, user, {"mode": "batch", "arenas": {}}, name="other")
    # Rows stored before: the batch inserts no record, only links (staging_attribute.sql),
    # so the links' own check is what refuses them.
    for bad_design, bad_run in ((str(uuid.uuid4()), None), (other, str(uuid.uuid4()))):
        with pytest.raises(ForeignKeyViolation):
            ingest(db, bad_design, bad_run, [1, 2, 3])
    # New records: the insert's links (and the records' own keys) refuse them too.
    with pytest.raises(ForeignKeyViolation):
        ingest(db, other, str(uuid.uuid4()), [4, 5])
    assert link_count(db, design) == 3
    assert rows(db, "SELECT count(*) AS n FROM content_record_collections")[0]["n"] == 3


def test_deleting_a_design_or_run_deletes_or_unsets_its_links(db, design_and_run):
    user, design, run = design_and_run
    ingest(db, design, run, [1, 2])
    with connect(db) as conn:
        conn.execute("DELETE FROM collection_runs WHERE id = %s", (run,))
        conn.commit()
    firsts = rows(db, "SELECT first_collection_run_id AS r FROM content_record_collections")
    assert [r["r"] for r in firsts] == [None, None]
    with connect(db) as conn:
        conn.execute("DELETE FROM query_designs WHERE id = %s", (design,))
        conn.commit()
    assert link_count(db, design) == 0


def test_changing_a_linked_id_is_refused(db, design_and_run):
    user, design, run = design_and_run
    ingest(db, design, run, [1])
    with connect(db) as conn:
        for table in ("query_designs", "collection_runs"):
            key = design if table == "query_designs" else run
            with pytest.raises(ForeignKeyViolation):
                conn.execute(f"UPDATE {table} SET id = gen_random_uuid() WHERE id = %s", (key,))
            conn.rollback()
        conn.execute("UPDATE collection_runs SET status = 'completed' WHERE id = %s", (run,))
        conn.commit()


def test_a_delete_outside_read_committed_is_refused(db, design_and_run):
    _user, design, _run = design_and_run
    with connect(db) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with pytest.raises(ObjectNotInPrerequisiteState):
            conn.execute("DELETE FROM query_designs WHERE id = %s", (design,))
        conn.rollback()
    assert rows(db, "SELECT count(*) AS n FROM query_designs")[0]["n"] == 1


def wait_until_blocked(engine, pid: int) -> None:
    """Until backend ``pid`` waits for a lock (no time limit: the test fails by hanging)."""
    with connect(engine) as watcher:
        while not watcher.execute(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()[0]:
            watcher.rollback()


def in_thread(work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run():
        try:
            outcome.append(work())
        except Exception as exc:  # reported to the test below
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_delete_that_waits_for_an_ingest_deletes_its_links(db, design_and_run):
    _user, design, run = design_and_run
    with connect(db) as ingesting, connect(db) as deleting:
        ingesting.execute(LINK, (design, uuid.uuid4(), WHEN, run, [run]))  # not committed
        thread, outcome = in_thread(
            lambda: (
                deleting.execute("DELETE FROM query_designs WHERE id = %s", (design,)),
                deleting.commit(),
            )
        )
        wait_until_blocked(db, deleting.info.backend_pid)
        ingesting.commit()
        thread.join()
    assert not any(isinstance(x, Exception) for x in outcome), outcome
    assert link_count(db, design) == 0


def test_an_ingest_that_waits_for_a_delete_is_refused(db, design_and_run):
    _user, design, run = design_and_run
    with connect(db) as ingesting, connect(db) as deleting:
        deleting.execute("DELETE FROM query_designs WHERE id = %s", (design,))  # not committed
        thread, outcome = in_thread(
            lambda: ingesting.execute(LINK, (design, uuid.uuid4(), WHEN, None, []))
        )
        wait_until_blocked(db, ingesting.info.backend_pid)
        deleting.commit()
        thread.join()
    assert isinstance(outcome[0], ForeignKeyViolation), outcome
    assert rows(db, "SELECT count(*) AS n FROM content_record_collections")[0]["n"] == 0
