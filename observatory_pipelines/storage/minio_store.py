"""The MinIO/S3 backend, over the ``minio`` client's public API only.

Uploads of unknown length go through ``Minio.put_object(length=-1, part_size=...)``,
which sends one PUT when the data fits one part and S3 multipart otherwise, one part
at a time (``num_parallel_uploads=1``: memory stays at a part or two), and aborts the
multipart upload when anything fails, so nothing appears under the key. Two things
are added around it (``_PartReader``): each ``read(n)`` returns ``n`` bytes at once,
because the client joins a part from its reads with ``bytes +=`` (quadratic in the
number of small source chunks); and the caller's own error is what ``put`` raises,
even when the client's abort fails after it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ComposeSource
from minio.error import InvalidResponseError, S3Error, ServerError

from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import (
    MIN_PART_SIZE,
    ObjectInfo,
    ObjectNotFound,
    ObjectStoreUnavailable,
    check_bucket,
    check_expiry,
    check_key,
    check_metadata,
    iter_chunks,
)

log = get_logger("observatory.object_store")

_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"}
_DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
}
_META_PREFIX = "x-amz-meta-"
# Buckets this process already made sure of, so "create on first use" costs one request.
_known_buckets: set[tuple[str, str]] = set()


@functools.lru_cache(maxsize=16)
def _client(
    endpoint: str, access_key: str, secret_key: str, secure: bool, region: str | None
) -> Minio:
    # Fewer retries than minio's default (5), one for connecting: a down endpoint fails fast.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=10, read=300),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=3, connect=1, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
        ),
    )
    return Minio(
        endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
        http_client=http,
    )


def _one_line(text: str, limit: int = 200) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _connection_reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 prefixes the connection object's repr; the errno part is what a person needs.
    if "[Errno" in text:
        text = text[text.index("[Errno") :]
    return _one_line(f"{type(reason).__name__}: {text}")


class _ResponseReader(io.RawIOBase):
    """A streamed GET as a raw file; closing it returns the connection to the pool."""

    def __init__(self, response, describe):
        self._response = response
        self._describe = describe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            return self._response.readinto(buffer)
        except urllib3.exceptions.HTTPError as exc:
            raise ObjectStoreUnavailable(
                self._describe(f"download interrupted: {_connection_reason(exc)}")
            ) from None

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


class _SourceFailed(Exception):
    """Stands in for a source's BaseException (e.g. KeyboardInterrupt) so that the client,
    which aborts on ``Exception`` only, still aborts the multipart upload."""


class _PartReader:
    """The caller's data (bytes, file or chunks) as a file whose ``read(n)`` returns ``n``
    bytes (fewer only at the end), remembering the source's own error."""

    def __init__(self, data: bytes | BinaryIO | Iterable[bytes]):
        self._chunks = iter_chunks(data)
        self._buffer = bytearray()
        self.size = 0
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            while size < 0 or len(self._buffer) < size:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer += chunk
                self.size += len(chunk)
        except BaseException as exc:
            self.error = exc
            if isinstance(exc, Exception):
                raise
            raise _SourceFailed(type(exc).__name__) from exc
        if size < 0 or size >= len(self._buffer):
            out = bytes(self._buffer)
            self._buffer.clear()
        else:
            with memoryview(self._buffer) as view:  # one copy, not slice-then-bytes
                out = bytes(view[:size])
            del self._buffer[:size]
        return out


class MinioObjectStore:
    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        secure: bool = False,
        region: str | None = None,
        part_size: int = 16 * 1024 * 1024,
    ):
        self.bucket = check_bucket(bucket)
        self.endpoint = endpoint
        self.url = f"{'https' if secure else 'http'}://{endpoint}"
        self.part_size = max(part_size, MIN_PART_SIZE)
        self._client = _client(endpoint, access_key, secret_key, secure, region)

    def __repr__(self) -> str:
        return f"MinioObjectStore({self.url!r}, bucket={self.bucket!r})"

    # errors

    def _describe(self, problem: str) -> str:
        return f"object store at {self.url} (bucket {self.bucket!r}): {problem}"

    @contextlib.contextmanager
    def _guard(self, key: str = ""):
        """Translate client errors into the contract's; ``from None`` keeps the client's
        request details (URLs, headers) out of tracebacks."""
        try:
            yield
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(self.bucket, key) from None
            detail = _one_line(f"{exc.code}: {exc.message}")
            if exc.code in _DENIED:
                problem = f"access denied ({detail}); check MINIO_ACCESS_KEY / MINIO_SECRET_KEY"
            else:
                problem = f"request failed ({detail})"
            raise self._unavailable(problem) from None
        except (ServerError, InvalidResponseError) as exc:
            status = getattr(exc, "status_code", None) or getattr(exc, "_code", "?")
            raise self._unavailable(
                f"unexpected response (HTTP {status}); is this an S3 server?"
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self._unavailable(f"unreachable ({_connection_reason(exc)})") from None

    def _unavailable(self, problem: str) -> ObjectStoreUnavailable:
        log.warning(
            "object store unavailable", endpoint=self.url, bucket=self.bucket, problem=problem
        )
        return ObjectStoreUnavailable(self._describe(problem))

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (the deployment's init step; ``put`` does the
        same on first use). Raises ``ObjectStoreUnavailable`` naming a refused credential."""
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        marker = (self.url, self.bucket)
        if marker in _known_buckets:
            return
        with self._guard():
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    # Another process may have made it between the check and the create.
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
                log.info("bucket created", endpoint=self.url, bucket=self.bucket)
        _known_buckets.add(marker)

    # writes

    def put(
        self,
        key: str,
        data: bytes | BinaryIO | Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        check_key(key)
        meta = {_META_PREFIX + k: v for k, v in check_metadata(metadata).items()}
        self._ensure_bucket()
        reader = _PartReader(data)
        try:
            with self._guard(key):
                self._client.put_object(
                    self.bucket,
                    key,
                    reader,
                    length=-1,
                    part_size=self.part_size,
                    num_parallel_uploads=1,
                    content_type=content_type or "application/octet-stream",
                    metadata=meta,
                )
        except Exception as exc:
            if reader.error is None or exc is reader.error:
                raise
            if not isinstance(exc, _SourceFailed):
                # The client's abort failed after the source did: the source's error matters
                # more; an incomplete upload is never visible, the server's lifecycle drops it.
                log.error(
                    "multipart abort failed",
                    endpoint=self.url,
                    bucket=self.bucket,
                    key=key,
                    error=type(exc).__name__,
                )
            raise reader.error from None
        log.info(
            "object stored",
            backend="s3",
            endpoint=self.url,
            bucket=self.bucket,
            key=key,
            size=reader.size,
            parts=max(1, -(-reader.size // self.part_size)),
        )
        return self.stat(key)

    def update_metadata(self, key: str, metadata: dict[str, str]) -> ObjectInfo:
        current = self.stat(key)
        merged = check_metadata({**current.metadata, **metadata})
        # S3 metadata is immutable: copy the object onto itself with REPLACE.
        # compose_object does a multipart copy, so objects over 5 GiB work too.
        with self._guard(key):
            self._client.compose_object(
                self.bucket,
                key,
                [ComposeSource(self.bucket, key)],
                metadata={
                    "Content-Type": current.content_type or "application/octet-stream",
                    **{_META_PREFIX + k: v for k, v in merged.items()},
                },
            )
        return self.stat(key)

    def remove(self, key: str) -> None:
        check_key(key)
        with contextlib.suppress(ObjectNotFound), self._guard(key):
            self._client.remove_object(self.bucket, key)

    # reads

    def open(self, key: str) -> BinaryIO:
        check_key(key)
        with self._guard(key):
            response = self._client.get_object(self.bucket, key)
        return io.BufferedReader(_ResponseReader(response, self._describe), buffer_size=1 << 20)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        with self._guard(key):
            obj = self._client.stat_object(self.bucket, key)
        metadata = {
            name.lower()[len(_META_PREFIX) :]: value
            for name, value in (obj.metadata or {}).items()
            if name.lower().startswith(_META_PREFIX)
        }
        return ObjectInfo(
            bucket=self.bucket,
            key=key,
            size=obj.size or 0,
            last_modified=obj.last_modified,
            metadata=metadata,
            etag=obj.etag,
            content_type=obj.content_type,
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Sorted by key (S3 order). Metadata is left empty: S3 listings do not carry it."""
        try:
            with self._guard():
                for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                    if obj.is_dir:
                        continue
                    yield ObjectInfo(
                        bucket=self.bucket,
                        key=obj.object_name,
                        size=obj.size or 0,
                        last_modified=obj.last_modified,
                        etag=obj.etag,
                    )
        except ObjectNotFound:
            return  # no bucket yet: nothing stored

    def presign(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        check_expiry(expires)
        self.stat(key)
        with self._guard(key):
            return self._client.presigned_get_object(self.bucket, key, expires=expires)
