"""The local-folder backend: ``<root>/<bucket>/<key>``, so the tree reads like the bucket.

Uploads go to ``<root>/.tmp/`` first and are renamed into place (``os.replace``
is atomic on one filesystem), so a failed upload never shows under its key.
User metadata and the content type live in a sidecar JSON file under
``<root>/.meta/<bucket>/<key>.json``, outside the bucket folder, so listing the
bucket never sees it. Dot-folders cannot collide with buckets: bucket names
start with a letter or digit.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import (
    ObjectInfo,
    ObjectNotFound,
    check_bucket,
    check_expiry,
    check_key,
    check_metadata,
    iter_chunks,
)

log = get_logger("observatory.object_store")


class FolderObjectStore:
    def __init__(self, root: Path | str, bucket: str):
        self.root = Path(root)
        self.bucket = check_bucket(bucket)
        self.base = self.root / bucket

    def __repr__(self) -> str:
        return f"FolderObjectStore({str(self.base)!r})"

    # paths

    def _path(self, key: str) -> Path:
        return self.base.joinpath(*check_key(key).split("/"))

    def _sidecar(self, key: str) -> Path:
        *folders, name = key.split("/")
        return self.root.joinpath(".meta", self.bucket, *folders, name + ".json")

    def _file(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(self.bucket, key)
        return path

    # writes

    def put(
        self,
        key: str,
        data: bytes | BinaryIO | Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        path = self._path(key)
        meta = check_metadata(metadata)
        tmp_dir = self.root / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        tmp = Path(tmp_name)
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in iter_chunks(data):
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise ValueError(
                    f"object key {key!r} in bucket {self.bucket!r} runs through an existing "
                    "object; the folder backend cannot hold both 'a' and 'a/b'"
                ) from None
            if path.is_dir():
                raise ValueError(
                    f"object key {key!r} in bucket {self.bucket!r} is a prefix of other objects"
                )
            self._write_sidecar(key, {"content_type": content_type, "metadata": meta})
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        log.info("object stored", backend="folder", bucket=self.bucket, key=key, size=size)
        return self.stat(key)

    def _write_sidecar(self, key: str, content: dict) -> None:
        sidecar = self._sidecar(key)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root / ".tmp", prefix="meta-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(content, out)
            os.replace(tmp_name, sidecar)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def update_metadata(self, key: str, metadata: dict[str, str]) -> ObjectInfo:
        current = self.stat(key)
        merged = check_metadata({**current.metadata, **metadata})
        self._write_sidecar(key, {"content_type": current.content_type, "metadata": merged})
        return self.stat(key)

    def remove(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink()
        self._sidecar(key).unlink(missing_ok=True)
        self._prune(path.parent, self.base)
        self._prune(self._sidecar(key).parent, self.root / ".meta" / self.bucket)

    @staticmethod
    def _prune(folder: Path, stop: Path) -> None:
        """Drop folders the removal emptied, like S3 where prefixes vanish with their objects."""
        while folder != stop and stop in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # reads

    def open(self, key: str) -> BinaryIO:
        try:
            return self._file(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(self.bucket, key) from None

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def _read_sidecar(self, key: str) -> dict:
        try:
            return json.loads(self._sidecar(key).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def stat(self, key: str) -> ObjectInfo:
        path = self._file(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ObjectNotFound(self.bucket, key) from None
        sidecar = self._read_sidecar(key)
        return ObjectInfo(
            bucket=self.bucket,
            key=key,
            size=st.st_size,
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            metadata=dict(sidecar.get("metadata") or {}),
            content_type=sidecar.get("content_type"),
        )

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Sorted by key like S3. Metadata is left empty here, as on S3: use ``stat``."""
        if prefix.startswith("/") or "\\" in prefix:
            raise ValueError(f"invalid prefix {prefix!r}")
        # Walk only the deepest folder the prefix names fully, then filter by string.
        start = self.base.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.base
        if not start.is_dir():
            return
        found: list[tuple[str, os.stat_result]] = []
        for folder, dirs, files in os.walk(start):
            rel = Path(folder).relative_to(self.base).as_posix()
            # Descend only where keys can still start with the prefix.
            dirs[:] = [
                d
                for d in dirs
                if (sub := d + "/" if rel == "." else f"{rel}/{d}/").startswith(prefix)
                or prefix.startswith(sub)
            ]
            for name in files:
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):
                        found.append((key, (Path(folder) / name).stat()))
        for key, st in sorted(found, key=lambda item: item[0].encode("utf-8")):
            yield ObjectInfo(
                bucket=self.bucket,
                key=key,
                size=st.st_size,
                last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            )

    def presign(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        """A ``file://`` URL; the expiry is checked for parity with S3 but cannot be enforced."""
        check_expiry(expires)
        return self._file(key).resolve().as_uri()
