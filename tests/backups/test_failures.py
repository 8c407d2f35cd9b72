"""A failed backup leaves nothing behind and says why; secrets never show."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from observatory_pipelines.backups import catalog
from observatory_pipelines.backups.backup import BackupFailed, run_backup
from observatory_pipelines.backups.pgclient import PgDumpStream
from observatory_pipelines.db import urls

from .conftest import fill_to_about, pending_uploads


def _objects(store) -> list[str]:
    return [info.key for info in store.list("")]


def test_unknown_database_fails_and_leaves_no_object(database_url, store):
    missing = urls.with_database(database_url, f"missing_{uuid.uuid4().hex[:8]}")
    with pytest.raises(BackupFailed, match="does not exist"):
        run_backup(store, missing)
    assert _objects(store) == []


def test_pg_dump_failure_leaves_no_object_and_reports_pg_dump_stderr(
    seeded, database_url, store, secret_role
):
    role_url, _password = secret_role
    with psycopg.connect(urls.libpq_url(database_url), autocommit=True) as conn:
        role = urls.parse_database_url(role_url).username
        conn.execute(f"REVOKE SELECT ON users FROM {role}")

    with pytest.raises(BackupFailed) as failed:
        run_backup(store, role_url)

    message = str(failed.value)
    assert message.startswith("pg_dump exited with 1: pg_dump: error:")
    assert "permission denied for table users" in message
    assert _objects(store) == []


def test_pg_dump_failure_on_s3_leaves_no_object(seeded, database_url, s3_store, secret_role):
    role_url, _password = secret_role
    with psycopg.connect(urls.libpq_url(database_url), autocommit=True) as conn:
        role = urls.parse_database_url(role_url).username
        conn.execute(f"REVOKE SELECT ON content_records FROM {role}")
    with pytest.raises(BackupFailed, match="pg_dump exited"):
        run_backup(s3_store, role_url)
    assert _objects(s3_store) == []


class BrokenUpload:
    """The real store, except that ``put`` of a dump fails after the first chunk."""

    def __init__(self, store):
        self._store = store
        self.bucket = store.bucket
        self.dump = None

    def put(self, key, data, **kwargs):
        if catalog.is_backup_key(key):
            self.dump = data
            next(iter(data))
            raise ConnectionResetError("connection reset by peer during UploadPart")
        return self._store.put(key, data, **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_upload_error_stops_pg_dump_and_leaves_no_object(seeded, database_url, store):
    broken = BrokenUpload(store)
    with pytest.raises(BackupFailed, match="upload of postgres/.* failed: ConnectionResetError"):
        run_backup(broken, database_url)
    assert _objects(store) == []
    assert broken.dump._proc.poll() is not None  # pg_dump is not left running


def test_password_never_reaches_argv_logs_or_errors(
    seeded, database_url, store, secret_role, log_lines
):
    role_url, password = secret_role
    asyncpg_url = role_url.replace("postgresql+psycopg://", "postgresql+asyncpg://")

    dump = PgDumpStream(urls.libpq_url(asyncpg_url), level=1)
    assert password not in " ".join(dump.argv())  # what ps would show

    result = run_backup(store, asyncpg_url)
    assert result.manifest.row_counts["content_records"] == 120
    with pytest.raises(BackupFailed) as failed:
        run_backup(
            store,
            urls.with_database(asyncpg_url, "no_such_db"),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )

    assert "no_such_db" in str(failed.value) and password not in str(failed.value)
    assert any('"event": "backup_failed"' in line for line in log_lines)
    assert any('"event": "backup_complete"' in line for line in log_lines)
    assert not [line for line in log_lines if password in line]
    assert password not in store.get_bytes(result.manifest_key).decode()


class LosesConnectionMidway:
    """The real store; after the first chunk of the dump, pg_dump's server session is killed."""

    def __init__(self, store, admin_dsn: str):
        self._store = store
        self.bucket = store.bucket
        self.admin_dsn = admin_dsn
        self.chunks_seen = 0

    def put(self, key, data, **kwargs):
        if not catalog.is_backup_key(key):
            return self._store.put(key, data, **kwargs)

        def chunks():
            for chunk in data:
                self.chunks_seen += 1
                if self.chunks_seen == 1:
                    with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                        conn.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'observatory-backups'"
                        )
                yield chunk

        return self._store.put(key, chunks(), **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_connection_lost_mid_dump_on_s3_leaves_no_object(seeded, database_url, s3_store):
    # ~30 MiB at level 0: far more than pipe and socket buffers hold when the session dies,
    # and more than one 5 MiB part already sent to S3 by then.
    with seeded.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, collection_tier, text_content) "
                "SELECT '2026-03-01', 'bench', 'news_media', 'big-' || n, 'article', 'free', "
                "repeat(md5(n::text), 32) FROM generate_series(1, 30000) AS n"
            )
        )
    losing = LosesConnectionMidway(s3_store, urls.libpq_url(database_url))

    with pytest.raises(BackupFailed, match="pg_dump exited with 1: pg_dump: error:") as failed:
        run_backup(losing, database_url, gzip_level=0)

    assert losing.chunks_seen >= 1
    assert "terminat" in str(failed.value) or "closed the connection" in str(failed.value)
    assert _objects(s3_store) == []


# -- a full disk on the backup bucket (S3 protocol: moto behind a proxy playing a full MinIO) --
def test_full_bucket_mid_multipart_aborts_the_upload_and_keeps_the_catalog(
    seeded, database_url, full_disk
):
    proxy, through_proxy, on_moto = full_disk
    earlier = run_backup(
        on_moto.backups(), database_url, now=datetime.now(UTC) - timedelta(hours=30)
    )
    fill_to_about(seeded, 12)  # ~12 MiB at level 0: three 5 MiB parts
    proxy.capacity = 6 * 2**20  # room for the first part only

    with pytest.raises(BackupFailed) as failed:
        run_backup(through_proxy.backups(), database_url, gzip_level=0)

    message = str(failed.value)
    assert message.startswith("upload of postgres/") and "XMinioStorageFull" in message
    assert "minimum free drive threshold" in message
    # The upload really was multipart and really hit the full disk on its second part …
    parts = [r for r in proxy.requests if "partNumber" in r.query]
    assert [(r.query["partNumber"], r.status) for r in parts] == [(["1"], 200), (["2"], 507)]
    # … and the client aborted it: no half object, no pending upload, no manifest.
    [abort] = [r for r in proxy.requests if r.method == "DELETE" and "uploadId" in r.query]
    assert abort.status == 204
    assert pending_uploads(on_moto) == []
    assert _objects(on_moto.backups()) == [earlier.key, earlier.manifest_key]
    assert catalog.latest(on_moto.backups()).key == earlier.key  # the catalog is unchanged


def test_bucket_already_full_fails_a_single_part_backup_with_nothing_written(
    seeded, database_url, full_disk, log_lines
):
    proxy, through_proxy, on_moto = full_disk  # capacity 0: not even the small dump fits

    with pytest.raises(BackupFailed, match="upload of postgres/.* failed: .*XMinioStorageFull"):
        run_backup(through_proxy.backups(), database_url)

    assert [r.status for r in proxy.requests if r.is_write] == [507]
    assert _objects(on_moto.backups()) == [] and pending_uploads(on_moto) == []
    assert any('"event": "backup_failed"' in line and "XMinioStorageFull" in line
               for line in log_lines)  # fmt: skip


def test_full_bucket_at_the_manifest_removes_the_dump_it_belongs_to(
    seeded, database_url, full_disk
):
    proxy, through_proxy, on_moto = full_disk
    # Same data, level 0: the same dump size (only \restrict's random key differs).
    probe = run_backup(on_moto.backups(), database_url, gzip_level=0, prune_after=False)
    for key in (probe.key, probe.manifest_key):
        on_moto.backups().remove(key)
    proxy.capacity = probe.size  # the dump fits exactly; its manifest does not

    with pytest.raises(BackupFailed, match="manifest for postgres/.* failed: .*XMinioStorageFull"):
        run_backup(through_proxy.backups(), database_url, gzip_level=0, prune_after=False)

    [stored, refused] = [r for r in proxy.requests if r.is_write and r.body_bytes]
    assert (stored.status, stored.body_bytes) == (200, probe.size)
    assert refused.status == 507 and refused.path.endswith(".manifest.json")
    # The dump without its manifest was deleted again: the catalog shows nothing.
    assert any(r.method == "DELETE" and r.path.endswith(".sql.gz") for r in proxy.requests)
    assert _objects(on_moto.backups()) == [] and catalog.latest(on_moto.backups()) is None
