"""Object storage contract: MinIO/S3 when MINIO_ENDPOINT is set, a local folder otherwise.

Callers never branch on the backend: both implement ``ObjectStore`` with the
same keys and the same behaviour (streamed put/get, stat, list, remove,
presign). See issue 4 for the implementations and their shared test-suite.
"""

from __future__ import annotations

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

    def remove(self, key: str) -> None: ...

    def presign(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        """A GET URL valid for ``expires`` (``file://`` for the folder backend)."""
        ...
