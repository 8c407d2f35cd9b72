"""Backup → restore round trips, naming, manifest, refusals, corrupt objects."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text

from observatory_pipelines.backups import catalog
from observatory_pipelines.backups.backup import run_backup
from observatory_pipelines.backups.restore import (
    RestoreFailed,
    RestoreRefused,
    VerificationFailed,
    restore,
    target_contents,
)
from observatory_pipelines.db import urls

from .conftest import content_facts as _facts


def test_backup_restores_into_a_fresh_database_with_equal_content(
    seeded, database_url, scratch_database, store
):
    source_counts, source_checksum, revision = _facts(database_url)
    assert source_counts["content_records"] == 120 and source_counts["users"] == 2

    result = run_backup(store, database_url)
    assert result.manifest.row_counts == source_counts
    assert result.manifest.schema_revision == revision

    restore(store, result.key, scratch_database)

    restored_counts, restored_checksum, restored_revision = _facts(scratch_database)
    assert restored_counts == source_counts
    assert restored_checksum == source_checksum
    assert restored_revision == revision
    # Partitions came back as partitions, with their rows where they were.
    with psycopg.connect(urls.libpq_url(scratch_database)) as conn:
        per_partition = dict(
            conn.execute(
                "SELECT tableoid::regclass::text, count(*) FROM content_records GROUP BY 1"
            ).fetchall()
        )
    assert per_partition == {
        "content_records_2026_02": 30,
        "content_records_2026_03": 30,
        "content_records_2026_04": 30,
        "content_records_default": 30,
    }


def test_key_manifest_and_checksum_follow_the_convention(seeded, database_url, store):
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    result = run_backup(store, database_url, now=when, prune_after=False)

    assert result.key == "postgres/2026/03/04/observatory_20260304_050607.sql.gz"
    assert result.manifest_key == result.key + ".manifest.json"
    body = store.get_bytes(result.key)
    assert hashlib.sha256(body).hexdigest() == result.sha256
    assert len(body) == result.size == store.stat(result.key).size
    assert store.stat(result.key).metadata["sha256"] == result.sha256
    sql = gzip.decompress(body).decode()
    assert "PostgreSQL database dump" in sql
    assert "OWNER TO" not in sql and "GRANT " not in sql  # --no-owner --no-privileges

    manifest = json.loads(store.get_bytes(result.manifest_key))
    assert manifest["key"] == result.key
    assert manifest["sha256"] == result.sha256
    assert manifest["size"] == len(body)
    assert manifest["uncompressed_size"] == len(sql.encode())
    assert manifest["server_version"].startswith("18")
    assert manifest["pg_dump_version"].startswith("pg_dump (PostgreSQL) 18")
    # The embedded server is 18, like the bundled client: a matching dump, nothing to skip.
    assert (manifest["server_major"], manifest["pg_dump_major"]) == (18, 18)
    assert manifest["pg_dump_source"] == "bundled"
    assert "transaction_timeout" in sql
    assert manifest["row_counts"]["content_records"] == 120
    assert manifest["created_at"] == "2026-03-04T05:06:07+00:00"
    assert [b.key for b in catalog.list_backups(store)] == [result.key]


def test_restore_into_a_non_empty_database_needs_force_and_says_what_it_replaces(
    seeded, database_url, scratch_database, store
):
    result = run_backup(store, database_url)
    with psycopg.connect(urls.libpq_url(scratch_database), autocommit=True) as conn:
        conn.execute("CREATE TABLE leftovers (x int)")
        conn.execute("INSERT INTO leftovers SELECT generate_series(1, 7)")

    with pytest.raises(RestoreRefused, match=r"leftovers \(7 rows\)") as refused:
        restore(store, "latest", scratch_database)
    assert "--force" in str(refused.value)
    assert target_contents(scratch_database) == {"leftovers": 7}  # untouched

    restore(store, "latest", scratch_database, force=True)
    counts, checksum, _ = _facts(scratch_database)
    assert "leftovers" not in counts
    assert counts == result.manifest.row_counts
    assert checksum == _facts(database_url)[1]


def _corrupt_flip(body: bytes) -> bytes:
    middle = len(body) // 2
    return body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_corrupt_flip, "checksum mismatch|not a valid gzip"),
        (lambda body: body[: len(body) // 2], "truncated|checksum mismatch"),
    ],
    ids=["flipped-byte", "truncated"],
)
def test_corrupt_backup_is_refused_before_the_target_is_touched(
    seeded, database_url, scratch_database, store, damage, message
):
    result = run_backup(store, database_url)
    store.put(result.key, damage(store.get_bytes(result.key)))

    with pytest.raises(VerificationFailed, match=message):
        restore(store, result.key, scratch_database)
    assert target_contents(scratch_database) == {}


def test_truncated_backup_without_any_checksum_is_still_refused(
    seeded, database_url, scratch_database, store
):
    result = run_backup(store, database_url)
    store.remove(result.manifest_key)  # no manifest, no metadata: only gzip framing is left
    store.put(result.key, store.get_bytes(result.key)[:-100])

    with pytest.raises(VerificationFailed, match="truncated|not a valid gzip"):
        restore(store, result.key, scratch_database)
    assert target_contents(scratch_database) == {}


def test_backup_and_restore_through_s3(seeded, database_url, scratch_database, s3_store):
    result = run_backup(s3_store, database_url)
    assert [b.key for b in catalog.list_backups(s3_store)] == [result.key]
    assert hashlib.sha256(s3_store.get_bytes(result.key)).hexdigest() == result.sha256

    restore(s3_store, "latest", scratch_database)
    assert _facts(scratch_database)[:2] == _facts(database_url)[:2]


def test_restore_of_unknown_key_names_the_problem(store, scratch_database):
    with pytest.raises(catalog.BackupNotFound, match="no backups"):
        restore(store, "latest", scratch_database)
    with pytest.raises(catalog.BackupNotFound, match="not a backup key"):
        restore(store, "postgres/nope.sql", scratch_database)


def test_source_database_is_unchanged_by_its_own_backup(seeded, database_url, store):
    before = _facts(database_url)
    run_backup(store, database_url)
    assert _facts(database_url) == before
    with seeded.connect() as conn:  # no session left in the snapshot's transaction
        idle = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND state = 'idle in transaction'"
            )
        ).scalar_one()
    assert idle == 0


def test_multipart_backup_on_s3_round_trips(seeded, database_url, scratch_database, s3_store):
    # ~7 MiB of dump at gzip level 0: more than one 5 MiB part.
    with seeded.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, collection_tier, text_content) "
                "SELECT '2026-03-01', 'bench', 'news_media', 'big-' || n, 'article', 'free', "
                "repeat(md5(n::text), 32) FROM generate_series(1, 7000) AS n"
            )
        )
    result = run_backup(s3_store, database_url, gzip_level=0)
    assert result.size > 6 * 2**20
    assert hashlib.sha256(s3_store.get_bytes(result.key)).hexdigest() == result.sha256

    restore(s3_store, result.key, scratch_database)
    assert _facts(scratch_database)[:2] == _facts(database_url)[:2]


def test_a_forced_restore_that_fails_leaves_the_old_content(scratch_database, store):
    with psycopg.connect(urls.libpq_url(scratch_database), autocommit=True) as conn:
        conn.execute("CREATE TABLE leftovers (x int)")
        conn.execute("INSERT INTO leftovers SELECT generate_series(1, 3)")
    key = catalog.backup_key(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    broken_sql = b"CREATE TABLE fresh (y int);\nINSERT INTO fresh VALUES (1);\nSELECT 1/0;\n"
    store.put(key, gzip.compress(broken_sql))  # valid gzip, no checksum: replays until 1/0

    with pytest.raises(RestoreFailed, match="psql exited with 3: .*division by zero"):
        restore(store, key, scratch_database, force=True)

    assert target_contents(scratch_database) == {"leftovers": 3}


def test_long_dumps_report_progress_in_the_log(seeded, database_url, store, monkeypatch, capfd):
    from observatory_pipelines.backups import pgclient

    monkeypatch.setattr(pgclient, "PROGRESS_EVERY", 1)  # every emitted chunk counts as progress
    monkeypatch.setattr(pgclient, "OUT_CHUNK", 1)
    run_backup(store, database_url, prune_after=False)
    events = [json.loads(line) for line in capfd.readouterr().err.splitlines() if '"event"' in line]
    progress = [e for e in events if e["event"] == "backup_progress"]
    assert progress and progress[-1]["compressed_bytes"] > 0
    sizes = [e["compressed_bytes"] for e in progress]
    assert sizes == sorted(sizes)
