"""file_import reading a bucket prefix: folder store and S3 (moto), through a run and the asset."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest
from sqlalchemy import text

from observatory_pipelines.collection.assets import collected_content, query_designs_partitions
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger

from .conftest import make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)
PREFIX = "imports/valg-2026/"

CSV = (
    "platform,id,url,published_at,title,text,author_id,author_name,likes\n"
    "facebook,fb-1,https://www.facebook.com/dr.dk/posts/1,2026-03-02T09:00:00+00:00,"
    'DR på Facebook,"Grønland, Færøerne og Åbenrå: æøå ÆØÅ",fb-dr,DR Nyheder,12\n'
    "facebook,,,2026-03-02T10:00:00+00:00,,,,,\n"  # no id, url or text: rejected
    "facebook,fb-2,https://www.facebook.com/tv2/posts/2,2026-03-03T08:30:00+00:00,"
    "TV 2,Vejret i morgen,fb-tv2,TV 2,3\n"
).encode()
NDJSON = b"".join(
    json.dumps(row, ensure_ascii=False).encode() + b"\n"
    for row in [
        {
            "platform": "telegram",
            "id": "t-1",
            "url": "https://t.me/kanal/1",
            "date": "2026-03-04T12:00:00Z",
            "text": "Debat om grønlandspolitik i kanalen",
        },
        {
            "platform": "telegram",
            "id": "t-2",
            "url": "https://t.me/kanal/2",
            "date": "2026-03-05T12:00:00Z",
            "text": "Noget helt andet",
        },
    ]
)


def fill(store) -> None:
    store.put(f"{PREFIX}facebook.csv", CSV, content_type="text/csv")
    store.put(f"{PREFIX}kanal.ndjson", NDJSON, content_type="application/x-ndjson")
    store.put(f"{PREFIX}LÆS MIG.txt", b"not an import file")  # wrong suffix: ignored
    store.put("imports/andet/other.csv", CSV)  # another prefix: not imported


class TrackingStore:
    """The real store, noting every object opened and whether earlier ones were closed by then."""

    def __init__(self, store):
        self.store = store
        self.opened: list = []
        self.open_at_once = 0

    def list(self, prefix: str = ""):
        return self.store.list(prefix)

    def open(self, key: str):
        handle = self.store.open(key)
        self.opened.append((key, handle))
        self.open_at_once = max(self.open_at_once, sum(not h.closed for _, h in self.opened))
        return handle


def rows(db):
    with db.connect() as conn:
        return conn.execute(
            text(
                "SELECT platform, platform_id, text_content, search_terms_matched,"
                " raw_metadata ->> 'source_file' AS source FROM content_records"
                " ORDER BY platform, platform_id"
            )
        ).all()


def task(db):
    with db.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT status, records_collected, records_rejected, duplicates_skipped,"
                    " error_message FROM collection_tasks ORDER BY started_at DESC LIMIT 1"
                )
            )
            .mappings()
            .one()
        )


@pytest.mark.parametrize("backend", ["object_store_resource", "s3_object_store_resource"])
def test_prefix_import_streams_each_file_and_reruns_add_nothing(db, request, backend):
    store = request.getfixturevalue(backend).outputs()
    fill(store)
    user = make_user(db, credits=10)
    config = {"arenas": {"file_import": {"prefix": PREFIX}}}
    design = make_design(db, user, config, terms=[("grønland", "keyword")])
    tracking = TrackingStore(store)

    report = start_run(db, design, FROM, TO, object_store=tracking)

    (arena,) = report.arenas
    assert (report.status, arena.status) == ("completed", "completed"), arena.error
    assert (arena.records_collected, arena.records_rejected) == (4, 1)
    assert [k for k, _ in tracking.opened] == [f"{PREFIX}facebook.csv", f"{PREFIX}kanal.ndjson"]
    assert tracking.open_at_once == 1 and all(h.closed for _, h in tracking.opened)
    stored = rows(db)
    assert [(r.platform, r.platform_id) for r in stored] == [
        ("facebook", "fb-1"),
        ("facebook", "fb-2"),
        ("telegram", "t-1"),
        ("telegram", "t-2"),
    ]
    assert stored[0].text_content == "Grønland, Færøerne og Åbenrå: æøå ÆØÅ"
    assert stored[0].source == f"{PREFIX}facebook.csv"
    assert [r.search_terms_matched for r in stored] == [["grønland"], None, ["grønland"], None]
    first = task(db)
    assert (first["records_collected"], first["records_rejected"]) == (4, 1)

    again = start_run(db, design, FROM, TO, object_store=store)
    (arena,) = again.arenas
    assert (arena.status, arena.records_collected, arena.duplicates_skipped) == ("completed", 0, 4)
    assert len(rows(db)) == 4
    rerun = task(db)
    assert (rerun["records_collected"], rerun["records_rejected"]) == (0, 1)
    assert CreditLedger(db).get_balance(user).available == 10  # file import is free


def test_collection_asset_reads_the_prefix_from_the_object_store_resource(
    db, postgres, s3_object_store_resource
):
    fill(s3_object_store_resource.outputs())
    user = make_user(db)
    design = make_design(db, user, {"arenas": {"file_import": {"prefix": PREFIX}}})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(query_designs_partitions.name, [design])
        result = dg.materialize(
            [collected_content],
            partition_key=design,
            instance=instance,
            resources={"postgres": postgres, "object_store": s3_object_store_resource},
            run_config={
                "ops": {
                    "collected_content": {
                        "config": {"date_from": "2026-03-01", "date_to": "2026-03-07"}
                    }
                }
            },
        )
        (mat,) = result.asset_materializations_for_node("collected_content")
        assert mat.metadata["records_collected"].value == 4
        assert mat.metadata["records_rejected"].value == 1
    assert len(rows(db)) == 4


@pytest.mark.parametrize(
    ("prefix", "store", "message"),
    [
        (PREFIX, False, "SourceError: file_import prefix is set but no object store was given"),
        ("/etc/", True, "SourceError: file_import prefix must be a non-empty key prefix"),
        (["imports/"], True, "SourceError: file_import prefix must be a non-empty key prefix"),
    ],
)
def test_unusable_prefix_fails_the_task_readably(db, object_store_resource, prefix, store, message):
    user = make_user(db)
    design = make_design(db, user, {"arenas": {"file_import": {"prefix": prefix}}})
    report = start_run(
        db, design, FROM, TO, object_store=object_store_resource.outputs() if store else None
    )
    (arena,) = report.arenas
    assert report.status == "failed" and arena.error.startswith(message)
    assert task(db)["error_message"].startswith(message)


def test_empty_prefix_completes_with_nothing(db, object_store_resource):
    user = make_user(db)
    design = make_design(db, user, {"arenas": {"file_import": {"prefix": "imports/none/"}}})
    report = start_run(db, design, FROM, TO, object_store=object_store_resource.outputs())
    (arena,) = report.arenas
    assert (arena.status, arena.records_collected) == ("completed", 0)
