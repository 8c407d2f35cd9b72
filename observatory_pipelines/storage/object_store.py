"""The object-store interface: ``ObjectStore``, its errors and the rules both backends share.

This is the bottom of the storage package: the backends (``folder_store.py``,
``minio_store.py``) import it, ``config.py`` picks one of them from settings, and
nothing here imports a backend or Dagster. Callers never branch on the backend:
both implement ``ObjectStore`` with the same keys and the same behaviour
(streamed put/get, stat, list, remove, presign); docs/storage.md describes keys
and variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol, runtime_checkable


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
