"""A partition that retention detached still holds records (and goes into backups): erased too.

In a scratch database, so that detaching a month never disturbs the shared test database."""

from __future__ import annotations

from sqlalchemy import text

from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.db.engine import get_engine, migrate
from observatory_pipelines.erasure.person import check_request
from observatory_pipelines.erasure.service import erase

from .conftest import COLLECTED_AT, QUINN_BLUESKY, karl, quinn, tables_mentioning


def test_records_in_a_detached_partition_are_erased(scratch_database, object_store_resource):
    migrate(scratch_database)
    engine = get_engine(scratch_database)
    with BulkIngester(engine) as ingester:
        ingester.write(Enricher(engine).rows([quinn(1, 2), quinn(2, 3), karl(3, 2)], COLLECTED_AT))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE content_records DETACH PARTITION content_records_2026_02"))
        conn.execute(
            text("ALTER TABLE content_records_2026_02 RENAME TO content_records_2026_02_detached")
        )
    needles = [QUINN_BLUESKY, "Quinn Qvist"]
    assert tables_mentioning(engine, needles) == {
        "content_records": 1,
        "content_records_2026_02_detached": 1,
    }

    report = erase(
        engine,
        object_store_resource.outputs(),
        check_request(
            requested_by="Dorte",
            reference="DPO-6",
            platform="bluesky",
            platform_user_id=QUINN_BLUESKY,
        ),
    )

    assert report.rows_by_partition == {
        "content_records_2026_02_detached": 1,
        "content_records_2026_03": 1,
    }
    assert report.rows_deleted["content_records"] == 2
    assert tables_mentioning(engine, needles) == {}
    with engine.connect() as conn:  # Karl's February post, detached with it, is still there
        assert (
            conn.execute(text("SELECT count(*) FROM content_records_2026_02_detached")).scalar_one()
            == 1
        )
