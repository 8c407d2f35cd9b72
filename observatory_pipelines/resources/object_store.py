"""The Dagster resource ``object_store``: a thin wrapper over ``storage.config.ObjectStoreConfig``.

The object-store library (interface, folder and MinIO backends, the factory) is plain
Python in ``observatory_pipelines/storage/``; this module only gives Dagster a
configurable resource with the same fields, filled from EnvVars so the UI shows
where values come from and secrets stay out of run config.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import dagster as dg

from observatory_pipelines.resources.env import optional_env
from observatory_pipelines.storage.config import ObjectStoreConfig
from observatory_pipelines.storage.object_store import ObjectStore


class ObjectStoreResource(dg.ConfigurableResource):
    """The fields of ``ObjectStoreConfig`` (see there); ``endpoint=None`` means the folder."""

    endpoint: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    secure: bool | None = None
    region: str | None = None
    backup_bucket: str | None = None
    outputs_bucket: str | None = None
    local_dir: str | None = None
    part_size_mib: int = 16

    def store_config(self) -> ObjectStoreConfig:
        return ObjectStoreConfig(
            **{f.name: getattr(self, f.name) for f in fields(ObjectStoreConfig)}
        )

    def backups(self) -> ObjectStore:
        return self.store_config().backups()

    def outputs(self) -> ObjectStore:
        return self.store_config().outputs()

    def bucket(self, name: str) -> ObjectStore:
        return self.store_config().bucket(name)

    def folder(self) -> Path:
        return self.store_config().folder()

    def describe(self) -> str:
        return self.store_config().describe()


def dagster_object_store() -> ObjectStoreResource:
    """The resource for ``Definitions``. Only variables that are set become EnvVars (an unset
    one fails the run); the rest resolve at run time (no endpoint → the project folder,
    credentials → minioadmin, MINIO_SECURE)."""
    return ObjectStoreResource(
        endpoint=optional_env("MINIO_ENDPOINT"),
        access_key=optional_env("MINIO_ACCESS_KEY") or optional_env("MINIO_ROOT_USER"),
        secret_key=optional_env("MINIO_SECRET_KEY") or optional_env("MINIO_ROOT_PASSWORD"),
        region=optional_env("MINIO_REGION"),
        backup_bucket=optional_env("MINIO_BUCKET"),
        outputs_bucket=optional_env("MINIO_OUTPUTS_BUCKET"),
        local_dir=optional_env("OBJECT_STORE_DIR"),
    )
