"""Object storage contract: MinIO/S3 when MINIO_ENDPOINT is set, a local folder otherwise.

Callers never branch on the backend: both implement ``ObjectStore`` with the
same keys and the same behaviour (streamed put/get, stat, list, remove,
presign). ``ObjectStoreResource`` (Dagster resource key ``object_store``) hands
out one store per bucket: ``.backups()`` and ``.outputs()``. The folder backend
lives in ``folder_store.py``, the S3 one in ``minio_store.py``; docs/storage.md
describes keys and variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.resources.env import optional_env


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    last_modified: datetime  # timezone-aware, UTC
    metadata: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    content_type: str | None = None


class ObjectNotFound(KeyError):
    def __init__(self, bucket: str, key: str):
        super().__init__(f"no object {key!r} in bucket {bucket!r}")
        self.bucket = bucket
        self.key = key

    def __str__(self) -> str:
        return self.args[0]


class ObjectStoreUnavailable(RuntimeError):
    """One line naming the endpoint and the failure; never the secret."""


@runtime_checkable
class ObjectStore(Protocol):
    bucket: str

    def put(
        self,
        key: str,
        data: bytes | BinaryIO | Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Store ``data`` (bytes, a readable binary file, or an iterable of chunks of
        unknown total length, streamed as multipart). Visible under ``key`` only once
        complete: a failure leaves no object there."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A streamed, readable binary file over the object (use as a context manager)."""
        ...

    def get_bytes(self, key: str) -> bytes: ...

    def stat(self, key: str) -> ObjectInfo: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (recursive), with last-modified."""
        ...

    def update_metadata(self, key: str, metadata: dict[str, str]) -> ObjectInfo:
        """Merge ``metadata`` into a stored object's user metadata (for facts, like a
        checksum, that are known only once a streamed upload is complete)."""
        ...

    def remove(self, key: str) -> None: ...

    def presign(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        """A GET URL valid for ``expires`` (``file://`` for the folder backend)."""
        ...


# --- rules both backends share, so a key valid on one is valid on the other ---

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last
MAX_PRESIGN = timedelta(days=7)  # S3's ceiling for a presigned URL
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# No '_': proxies in front of MinIO (nginx by default) drop headers with underscores.
_META_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_METADATA_BYTES = 2048  # S3's limit on all user metadata of one object


def check_bucket(bucket: str) -> str:
    if not isinstance(bucket, str) or not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise ValueError(
            f"invalid bucket name {bucket!r}: 3-63 characters of a-z, 0-9, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return bucket


def check_key(key: str) -> str:
    """Keys are '/'-separated relative paths: they must map onto a folder tree as well."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"invalid object key {key!r}: must be a non-empty string")
    problem = None
    if len(key.encode("utf-8")) > 1024:
        problem = "longer than 1024 bytes"
    elif key.startswith("/") or key.endswith("/"):
        problem = "must not start or end with '/'"
    elif "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        problem = "must not contain backslashes or control characters"
    elif any(part in ("", ".", "..") for part in key.split("/")):
        problem = "must not contain empty, '.' or '..' segments"
    if problem:
        raise ValueError(f"invalid object key {key!r}: {problem}")
    return key


def check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """S3 user metadata travels in HTTP headers: lowercase names, ASCII values, 2 KiB in all."""
    clean: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        low = str(name).lower()
        if not _META_KEY_RE.match(low):
            raise ValueError(f"invalid metadata name {name!r}: use a-z, 0-9 and '-'")
        if not isinstance(value, str) or not value.isascii() or "\n" in value or "\r" in value:
            raise ValueError(f"metadata {name!r} must be a one-line ASCII string, got {value!r}")
        clean[low] = value
    if sum(len(k) + len(v) for k, v in clean.items()) > MAX_METADATA_BYTES:
        raise ValueError(f"object metadata exceeds S3's {MAX_METADATA_BYTES} bytes")
    return clean


def check_expiry(expires: timedelta) -> timedelta:
    if not timedelta(seconds=1) <= expires <= MAX_PRESIGN:
        raise ValueError(f"presign expiry must be between 1 second and 7 days, got {expires}")
    return expires


def iter_chunks(data: bytes | BinaryIO | Iterable[bytes], chunk_size: int = MIB) -> Iterator[bytes]:
    """One shape for every kind of input: an iterator of non-empty byte chunks."""
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data):
            yield bytes(data)
        return
    if isinstance(data, str):
        raise TypeError("object data must be bytes, a binary file or an iterable of bytes, not str")
    read = getattr(data, "read", None)
    if callable(read):
        while chunk := read(chunk_size):
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError("object data file must be opened in binary mode")
            yield bytes(chunk)
        return
    for chunk in data:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"object data chunks must be bytes, got {type(chunk).__name__}")
        if len(chunk):
            yield bytes(chunk)


def split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """Accept ``host:port`` (the minio client's form) and ``http(s)://host:port``."""
    text = endpoint.strip().rstrip("/")
    for scheme, is_secure in (("https://", True), ("http://", False)):
        if text.lower().startswith(scheme):
            return text[len(scheme) :], is_secure
    if "/" in text:
        raise ValueError(f"MINIO_ENDPOINT must be host:port, got {endpoint!r}")
    return text, secure


# --- the Dagster resource ---


class ObjectStoreResource(dg.ConfigurableResource):
    """MinIO/S3 when ``endpoint`` is set, else one sub-folder per bucket under ``local_dir``.

    ``endpoint=None`` always means the folder (never a silent fallback to the
    environment): ``definitions.py`` and ``object_store_from_env()`` read the
    variables. Unset credentials follow the seed's chain MINIO_ACCESS_KEY →
    MINIO_ROOT_USER → minioadmin; unset buckets and folder take settings' defaults.
    """

    endpoint: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    secure: bool | None = None
    region: str | None = None
    backup_bucket: str | None = None
    outputs_bucket: str | None = None
    local_dir: str | None = None
    part_size_mib: int = 16

    def backups(self) -> ObjectStore:
        return self.bucket(self.backup_bucket or settings.minio_backup_bucket())

    def outputs(self) -> ObjectStore:
        return self.bucket(self.outputs_bucket or settings.minio_outputs_bucket())

    def bucket(self, name: str) -> ObjectStore:
        check_bucket(name)
        if not self.endpoint:
            from observatory_pipelines.resources.folder_store import FolderObjectStore

            return FolderObjectStore(self.folder(), name)
        from observatory_pipelines.resources.minio_store import MinioObjectStore

        endpoint, secure = split_endpoint(
            self.endpoint, settings.minio_secure() if self.secure is None else self.secure
        )
        return MinioObjectStore(
            endpoint=endpoint,
            bucket=name,
            access_key=self.access_key or settings.minio_access_key(),
            secret_key=self.secret_key or settings.minio_secret_key(),
            secure=secure,
            region=self.region,
            part_size=max(self.part_size_mib * MIB, MIN_PART_SIZE),
        )

    def folder(self) -> Path:
        return Path(self.local_dir) if self.local_dir else settings.object_store_dir()

    def describe(self) -> str:
        """Where objects go, for logs and metadata (never includes credentials)."""
        if self.endpoint:
            endpoint, secure = split_endpoint(
                self.endpoint, settings.minio_secure() if self.secure is None else self.secure
            )
            return f"{'https' if secure else 'http'}://{endpoint}"
        return self.folder().as_uri()


def object_store_from_env() -> ObjectStoreResource:
    """The resource configured from the environment, for CLIs and scripts outside Dagster."""
    return ObjectStoreResource(
        endpoint=settings.minio_endpoint(),
        access_key=settings.minio_access_key(),
        secret_key=settings.minio_secret_key(),
        secure=settings.minio_secure(),
        region=settings.minio_region(),
        backup_bucket=settings.minio_backup_bucket(),
        outputs_bucket=settings.minio_outputs_bucket(),
        local_dir=str(settings.object_store_dir()),
    )


def dagster_object_store() -> ObjectStoreResource:
    """The resource for ``Definitions``: the same variables as EnvVars, so the UI shows where
    values come from and secrets stay out of run config. Only variables that are set become
    EnvVars (an unset one fails the run); the resource resolves the rest at run time (no
    endpoint → the project folder, credentials → minioadmin, MINIO_SECURE)."""
    return ObjectStoreResource(
        endpoint=optional_env("MINIO_ENDPOINT"),
        access_key=optional_env("MINIO_ACCESS_KEY") or optional_env("MINIO_ROOT_USER"),
        secret_key=optional_env("MINIO_SECRET_KEY") or optional_env("MINIO_ROOT_PASSWORD"),
        region=optional_env("MINIO_REGION"),
        backup_bucket=optional_env("MINIO_BUCKET"),
        outputs_bucket=optional_env("MINIO_OUTPUTS_BUCKET"),
        local_dir=optional_env("OBJECT_STORE_DIR"),
    )
