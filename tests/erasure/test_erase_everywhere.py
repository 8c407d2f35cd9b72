"""The person is gone from the database, the outputs bucket and the next backup; nothing else
changed. Outputs are made by the real analysis and export assets on a moto S3 server."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from observatory_pipelines.analysis import assets as analysis
from observatory_pipelines.backups.backup import run_backup
from observatory_pipelines.erasure import database
from observatory_pipelines.erasure.person import check_request
from observatory_pipelines.erasure.service import MIRROR_PREFIX, erase, finish_pending
from observatory_pipelines.resources.object_store import ObjectStoreResource

from .conftest import JENS_MARKER, mentions, object_hashes, row_hashes, tables_mentioning

ANALYSIS = [analysis.analysis_sql_models, analysis.descriptive_statistics, *analysis.NETWORK_ASSETS]
ANALYSIS_KEYS = [key.to_user_string() for a in ANALYSIS for key in a.keys]


def materialize(instance, design, postgres, resource, selection, **scope):
    result = dg.materialize(
        [*ANALYSIS, *analysis.EXPORT_ASSETS],
        selection=selection,
        partition_key=design,
        instance=instance,
        resources={
            "postgres": postgres,
            "object_store": resource,
            "analysis_scope": analysis.AnalysisScopeResource(**scope),
        },
    )
    assert result.success
    return result


def analyse_and_export(corpus, postgres, resource) -> None:
    """Standard analysis of every design, a filtered one of D1, exports of D1, D2 and D3."""
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", corpus.designs)
        for design, formats in (
            (corpus.d1, ("csv", "ndjson")),
            (corpus.d2, ("xlsx",)),
            (corpus.d3, ("csv", "parquet")),
        ):
            exports = [f"content_export_{fmt}" for fmt in formats]
            materialize(instance, design, postgres, resource, [*ANALYSIS_KEYS, *exports])
        filtered = ["stg_content", "actors_in_scope", "top_actors"]
        materialize(instance, corpus.d1, postgres, resource, filtered, platforms=["bluesky"])


def outputs_of(keys, corpus, design: str) -> set[str]:
    owner = corpus.owner_of(design)
    return {
        key for key in keys if key.startswith((f"analysis/{design}/", f"exports/{owner}/{design}/"))
    }


def backup_text(store, key: str) -> str:
    return gzip.decompress(store.get_bytes(key)).decode("utf-8", errors="replace").casefold()


@pytest.fixture()
def resource(s3_object_store_resource) -> ObjectStoreResource:
    return s3_object_store_resource


def test_the_person_is_gone_from_database_bucket_and_next_backup(
    corpus, db, postgres, database_url, resource
):
    outputs, backups = resource.outputs(), resource.backups()
    analyse_and_export(corpus, postgres, resource)
    outputs.put("imports/valg/posts.csv", b"author,text\nsomeone,klima\n")  # not an output
    needles = corpus.jens_needles()
    before_objects = object_hashes(outputs)
    before_rows = row_hashes(db)

    exports = {
        design: {
            key
            for key in before_objects
            if key.startswith("exports/")
            and key.count("/") == 2
            and outputs.stat(key).metadata["query-design"] == design
        }
        for design in corpus.designs
    }
    assert [len(exports[d]) for d in corpus.designs] == [2, 1, 2]
    # The outputs held him before (so the checks below can fail): his name in D1's report,
    # his pseudonym in D2's networks and in D1's CSV export.
    d1_report = f"analysis/{corpus.d1}/standard/descriptive.json"
    assert mentions(outputs.get_bytes(d1_report), d1_report, needles)
    d2_network = f"analysis/{corpus.d2}/standard/networks/actor_cooccurrence.json"
    assert corpus.jens_pseudonyms[0] in outputs.get_bytes(d2_network).decode()
    [d1_csv] = [k for k in exports[corpus.d1] if k.endswith(".csv")]
    assert JENS_MARKER in outputs.get_bytes(d1_csv).decode("utf-8-sig")
    # ... and D3's never did.
    for key in outputs_of(before_objects, corpus, corpus.d3) | exports[corpus.d3]:
        assert not mentions(outputs.get_bytes(key), key, needles), key
    # Backup keys name the second (the store refuses to overwrite one): on a fast machine
    # the erasure between the two backups takes less than a second.
    old_backup = run_backup(
        backups, database_url, now=datetime.now(UTC) - timedelta(seconds=2), prune_after=False
    )
    assert [n for n in needles if n.casefold() in backup_text(backups, old_backup.key)]

    report = erase(
        db,
        outputs,
        check_request(
            requested_by="Dorte DPO", reference="DPO-2026-017", actor_id=corpus.jens_actor
        ),
        mirror=backups,
    )

    assert report.complete
    expected_gone = (
        outputs_of(before_objects, corpus, corpus.d1)
        | outputs_of(before_objects, corpus, corpus.d2)
        | exports[corpus.d1]
        | exports[corpus.d2]
    )
    assert sorted(report.object_keys) == sorted(expected_gone)
    # Every standard and filtered analysis of D1/D2 went (models, report, networks, GEXF).
    assert len(outputs_of(expected_gone, corpus, corpus.d1)) > len(
        outputs_of(expected_gone, corpus, corpus.d2)
    )
    # The bucket: exactly those objects gone, every other object byte for byte as it was.
    after_objects = object_hashes(outputs)
    assert after_objects == {k: v for k, v in before_objects.items() if k not in expected_gone}
    for key in after_objects:
        assert not mentions(outputs.get_bytes(key), key, needles), key

    # The database: not in any column of any table; other rows unchanged.
    assert tables_mentioning(db, needles) == {}
    after_rows = row_hashes(db)
    for table, rows in before_rows.items():
        if table in {"erasure_log"}:
            continue
        kept = {digest: n for digest, n in rows.items() if after_rows[table].get(digest)}
        assert after_rows[table] == kept, table  # nothing changed, nothing added
    assert {t: sum(r.values()) for t, r in before_rows.items()}["content_records"] - 4 == sum(
        after_rows["content_records"].values()
    )

    # The next backup has no trace of him; the log went into it and holds none either.
    new_backup = run_backup(backups, database_url, prune_after=False)
    dump = backup_text(backups, new_backup.key)
    assert [n for n in needles if n.casefold() in dump] == []
    assert "dpo-2026-017" in dump

    # The log's mirror in the backups bucket (for re-applying after a restore): no personal data.
    [mirrored] = [info.key for info in backups.list(MIRROR_PREFIX)]
    entry = json.loads(backups.get_bytes(mirrored))
    assert entry["id"] == report.log_id and entry["status"] == "completed"
    assert sorted(entry["object_keys_deleted"]) == sorted(expected_gone)
    assert not mentions(backups.get_bytes(mirrored), mirrored, [*needles, corpus.jens_actor])


def test_outputs_left_when_the_store_fails_are_deleted_by_finish_pending(corpus, db, resource):
    outputs = resource.outputs()
    report_key = f"analysis/{corpus.d1}/standard/descriptive.json"
    outputs.put(report_key, b'{"top_actors": ["Jens Testesen"]}')
    unreachable = ObjectStoreResource(
        endpoint="127.0.0.1:9",  # nothing listens on the discard port
        access_key="testing",
        secret_key="testing-secret",
        secure=False,
        region="us-east-1",
        outputs_bucket=outputs.bucket,
    ).outputs()

    report = erase(
        db,
        unreachable,
        check_request(requested_by="Dorte DPO", reference="DPO-9", actor_id=corpus.jens_actor),
    )

    # The rows are erased and committed; the log says the outputs are pending, and why.
    assert report.status == "outputs_pending" and report.object_errors
    assert tables_mentioning(db, corpus.jens_needles()) == {}
    [entry] = database.log_entries(db)
    assert (
        entry["status"] == "outputs_pending" and "listing outputs failed" in entry["outputs_error"]
    )
    assert outputs.exists(report_key)

    assert finish_pending(db, outputs) == [report.log_id]
    assert not outputs.exists(report_key)
    [entry] = database.log_entries(db)
    assert entry["status"] == "completed" and entry["outputs_error"] is None
    assert entry["object_keys_deleted"] == [report_key]
