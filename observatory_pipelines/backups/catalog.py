"""Where backups live in the bucket, what their manifests say, and how to find them.

Naming (seed convention): ``postgres/YYYY/MM/DD/observatory_YYYYMMDD_HHMMSS.sql.gz``
(UTC), so listing a day is a prefix listing and lexical order is time order.
The manifest sits beside its dump as ``<dump key>.manifest.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from observatory_pipelines.storage.object_store import ObjectInfo, ObjectNotFound, ObjectStore

PREFIX = "postgres/"
DUMP_SUFFIX = ".sql.gz"
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "observatory-backup-manifest/1"
_DUMP_KEY = re.compile(
    r"^postgres/(\d{4})/(\d{2})/(\d{2})/observatory_(\d{4})(\d{2})(\d{2})_(\d{6})\.sql\.gz$"
)


class BackupNotFound(LookupError):
    pass


def backup_key(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{PREFIX}{at:%Y/%m/%d}/observatory_{at:%Y%m%d_%H%M%S}{DUMP_SUFFIX}"


def manifest_key(dump_key: str) -> str:
    return dump_key + MANIFEST_SUFFIX


def is_backup_key(key: str) -> bool:
    match = _DUMP_KEY.match(key)
    return bool(match) and match.group(1, 2, 3) == match.group(4, 5, 6)


def taken_at(dump_key: str) -> datetime:
    match = _DUMP_KEY.match(dump_key)
    if not match:
        raise ValueError(f"{dump_key!r} is not a backup key")
    stamp = "".join(match.group(4, 5, 6)) + match.group(7)
    return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def list_backups(store: ObjectStore) -> list[ObjectInfo]:
    """Every dump (not manifests, not strays), newest first."""
    dumps = [info for info in store.list(PREFIX) if is_backup_key(info.key)]
    return sorted(dumps, key=lambda info: info.key, reverse=True)


def latest(store: ObjectStore) -> ObjectInfo | None:
    backups = list_backups(store)
    return backups[0] if backups else None


def resolve(store: ObjectStore, key: str) -> ObjectInfo:
    """``latest`` or a dump key; the object's info (with metadata)."""
    if key == "latest":
        newest = latest(store)
        if newest is None:
            raise BackupNotFound(f"no backups under {PREFIX} in bucket {store.bucket!r}")
        key = newest.key
    if not is_backup_key(key):
        raise BackupNotFound(
            f"{key!r} is not a backup key (expected {PREFIX}YYYY/MM/DD/"
            f"observatory_YYYYMMDD_HHMMSS{DUMP_SUFFIX}); use --list"
        )
    try:
        return store.stat(key)
    except ObjectNotFound:
        raise BackupNotFound(f"no backup {key!r} in bucket {store.bucket!r}; use --list") from None


@dataclass
class Manifest:
    key: str
    created_at: str
    size: int
    sha256: str
    gzip_level: int
    server_version: str
    pg_dump_version: str
    schema_revision: str | None
    row_counts: dict[str, int] = field(default_factory=dict)
    uncompressed_size: int | None = None
    duration_seconds: float | None = None
    # Which server major and which pg_dump made the dump (the restore picks its psql by them);
    # absent in manifests written before they were recorded.
    server_major: int | None = None
    pg_dump_major: int | None = None
    pg_dump_source: str | None = None  # PG_BIN_DIR_<major>, PG_BIN_SEARCH_PATH or bundled
    format: str = MANIFEST_FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def read_manifest(store: ObjectStore, dump_key: str) -> Manifest | None:
    try:
        return Manifest.from_json(store.get_bytes(manifest_key(dump_key)))
    except ObjectNotFound:
        return None


def metadata_sha256(info: ObjectInfo) -> str | None:
    """The checksum from object metadata, whatever prefix/case the backend reports."""
    for name, value in (info.metadata or {}).items():
        if name.lower().endswith("sha256") and value:
            return value.strip().lower()
    return None


def expected_sha256(info: ObjectInfo, manifest: Manifest | None) -> str | None:
    return metadata_sha256(info) or (manifest.sha256 if manifest else None)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_age(then: datetime, now: datetime | None = None) -> str:
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
