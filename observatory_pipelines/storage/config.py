"""Which backend, which buckets: MinIO/S3 when an endpoint is set, a local folder otherwise.

``ObjectStoreConfig`` is the plain-Python factory every caller uses (CLIs, plain
code, the Dagster resource in ``resources/object_store.py``, which only maps
EnvVars onto these fields). It hands out one ``ObjectStore`` per bucket:
``.backups()`` and ``.outputs()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from observatory_pipelines import settings
from observatory_pipelines.storage.folder_store import FolderObjectStore
from observatory_pipelines.storage.minio_store import MinioObjectStore
from observatory_pipelines.storage.object_store import MIB, MIN_PART_SIZE, ObjectStore, check_bucket


@dataclass(frozen=True)
class ObjectStoreConfig:
    """MinIO/S3 when ``endpoint`` is set, else one sub-folder per bucket under ``local_dir``.

    ``endpoint=None`` always means the folder (never a silent fallback to the
    environment): ``object_store_from_env()`` and the Dagster resource read the
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

    def __repr__(self) -> str:  # the dataclass default would print the secret
        return f"ObjectStoreConfig({self.describe()!r})"

    def backups(self) -> ObjectStore:
        return self.bucket(self.backup_bucket or settings.minio_backup_bucket())

    def outputs(self) -> ObjectStore:
        return self.bucket(self.outputs_bucket or settings.minio_outputs_bucket())

    def bucket(self, name: str) -> ObjectStore:
        check_bucket(name)
        if not self.endpoint:
            return FolderObjectStore(self.folder(), name)
        endpoint, secure = self._endpoint()
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
            endpoint, secure = self._endpoint()
            return f"{'https' if secure else 'http'}://{endpoint}"
        return self.folder().as_uri()

    def _endpoint(self) -> tuple[str, bool]:
        secure = settings.minio_secure() if self.secure is None else self.secure
        return split_endpoint(self.endpoint or "", secure)


def split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """Accept ``host:port`` (the minio client's form) and ``http(s)://host:port``."""
    text = endpoint.strip().rstrip("/")
    for scheme, is_secure in (("https://", True), ("http://", False)):
        if text.lower().startswith(scheme):
            return text[len(scheme) :], is_secure
    if "/" in text:
        raise ValueError(f"MINIO_ENDPOINT must be host:port, got {endpoint!r}")
    return text, secure


def object_store_from_env() -> ObjectStoreConfig:
    """The configuration from the environment, for CLIs and plain code outside Dagster."""
    return ObjectStoreConfig(
        endpoint=settings.minio_endpoint(),
        access_key=settings.minio_access_key(),
        secret_key=settings.minio_secret_key(),
        secure=settings.minio_secure(),
        region=settings.minio_region(),
        backup_bucket=settings.minio_backup_bucket(),
        outputs_bucket=settings.minio_outputs_bucket(),
        local_dir=str(settings.object_store_dir()),
    )
