"""Every session the project opens runs in UTC, whatever the database's own time zone.

The corpus is seeded into a database set to a zone east of Greenwich (Copenhagen, +01:00
in February) and one west of it (New York, -05:00): the day buckets of volume_over_time,
the exported timestamps and every kind of connection the project opens still say UTC.
"""

from __future__ import annotations

import json

import dagster as dg
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from observatory_pipelines.analysis import assets
from observatory_pipelines.backups.restore import target_contents
from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import connect, create_utc_engine, get_engine, migrate
from observatory_pipelines.resources.postgres import PostgresResource

ZONES = ["Europe/Copenhagen", "America/New_York"]
UTC_DAYS = [
    "2026-02-03T00:00:00+00:00",
    "2026-02-10T00:00:00+00:00",
    "2026-02-20T00:00:00+00:00",
    "2026-03-01T00:00:00+00:00",
    "2026-03-05T00:00:00+00:00",
    "2026-03-15T00:00:00+00:00",
    "2026-03-20T00:00:00+00:00",
]


@pytest.fixture(params=ZONES)
def zoned_url(request, scratch_database) -> str:
    """A migrated database whose default TimeZone is not UTC."""
    migrate(scratch_database)
    name = make_url(scratch_database).database
    with psycopg.connect(urls.libpq_url(scratch_database), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE \"{name}\" SET timezone = '{request.param}'")
        # a plain connection (libpq defaults) really gets the database's zone
        with psycopg.connect(urls.libpq_url(scratch_database)) as plain:
            assert plain.execute("SHOW TimeZone").fetchone()[0] == request.param
    return scratch_database


@pytest.fixture()
def conn(zoned_url):
    """The corpus fixture seeds through this connection: into the zoned database."""
    with psycopg.connect(urls.libpq_url(zoned_url)) as connection:
        yield connection


def test_every_kind_of_session_runs_in_utc(zoned_url):
    with connect(zoned_url) as raw:
        assert raw.execute("SHOW TimeZone").fetchone()[0] == "UTC"
    with get_engine(zoned_url).connect() as pooled:
        assert pooled.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
    engine = create_utc_engine(zoned_url)
    try:
        with engine.connect() as single:
            assert single.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
    finally:
        engine.dispose()
    # a URL that already carries libpq options keeps them, and still gets UTC
    with_options = f"{urls.libpq_url(zoned_url)}?options=-cstatement_timeout%3D12345"
    with connect(with_options) as raw:
        assert raw.execute("SHOW TimeZone").fetchone()[0] == "UTC"
        assert raw.execute("SHOW statement_timeout").fetchone()[0] == "12345ms"
    assert "alembic_version" in target_contents(zoned_url)  # the restore's target probe


def test_day_buckets_and_exports_are_utc(corpus, zoned_url, object_store_resource):
    postgres = PostgresResource(database_url=zoned_url)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design])
        result = dg.materialize(
            [assets.analysis_sql_models, *assets.EXPORT_ASSETS],
            selection=["stg_content", "volume_over_time", "content_export_ndjson"],
            partition_key=corpus.design,
            instance=instance,
            resources={
                "postgres": postgres,
                "object_store": object_store_resource,
                "analysis_scope": assets.AnalysisScopeResource(),
            },
        )
    assert result.success
    store = object_store_resource.outputs()
    volume = json.loads(
        store.get_bytes(f"analysis/{corpus.design}/standard/models/volume_over_time.json")
    )
    assert [row["period"] for row in volume["rows"]] == UTC_DAYS
    assert [row["count"] for row in volume["rows"]] == [1, 2, 1, 1, 2, 1, 1]

    [export] = [
        e.materialization.metadata["object_key"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("content_export_ndjson")
    ]
    lines = [json.loads(line) for line in store.get_bytes(export).decode().splitlines()]
    first = min(line["published_at"] for line in lines)
    assert first.startswith("2026-02-03") and "10:00:00" in first
    assert all(line["published_at"].endswith(("+00:00", "+00", "Z")) for line in lines)
