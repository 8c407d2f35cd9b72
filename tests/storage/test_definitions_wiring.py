"""The resources Definitions uses, configured from environment variables as deployed."""

import io
import uuid

import dagster as dg
import pandas as pd

from observatory_pipelines.resources.io_manager import ObjectStoreIOManager
from observatory_pipelines.resources.object_store import (
    ObjectStoreResource,
    dagster_object_store,
)


@dg.asset
def wired_frame() -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2]})


@dg.asset
def wired_check(context: dg.AssetExecutionContext, object_store: ObjectStoreResource) -> dict:
    return {"backups": object_store.backups().bucket, "where": object_store.describe()}


def _clear(monkeypatch):
    for name in (
        "MINIO_ENDPOINT",
        "MINIO_ACCESS_KEY",
        "MINIO_SECRET_KEY",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "MINIO_SECURE",
        "MINIO_REGION",
        "MINIO_BUCKET",
        "MINIO_OUTPUTS_BUCKET",
        "OBJECT_STORE_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


def _run(resource):
    return dg.materialize(
        [wired_frame, wired_check],
        resources={
            "object_store": resource,
            "io_manager": ObjectStoreIOManager(object_store=resource),
        },
    )


def test_env_vars_select_s3_with_root_credentials(s3_server, monkeypatch):
    _clear(monkeypatch)
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("MINIO_ENDPOINT", s3_server)
    monkeypatch.setenv("MINIO_ROOT_USER", "root")
    monkeypatch.setenv("MINIO_ROOT_PASSWORD", "root-password")
    monkeypatch.setenv("MINIO_BUCKET", f"wired-backups-{suffix}")
    monkeypatch.setenv("MINIO_OUTPUTS_BUCKET", f"wired-outputs-{suffix}")

    resource = dagster_object_store()
    assert isinstance(resource.secret_key, dg.EnvVar)  # the UI shows the name, not the value
    result = _run(resource)

    assert result.output_for_node("wired_check") == {
        "backups": f"wired-backups-{suffix}",
        "where": f"http://{s3_server}",
    }
    reader = ObjectStoreResource(
        endpoint=s3_server, access_key="x", secret_key="y", outputs_bucket=f"wired-outputs-{suffix}"
    )
    data = io.BytesIO(reader.outputs().get_bytes("wired_frame.parquet"))
    assert pd.read_parquet(data)["n"].tolist() == [1, 2]


def test_without_endpoint_outputs_go_to_the_folder(tmp_path, monkeypatch):
    _clear(monkeypatch)
    monkeypatch.setenv("OBJECT_STORE_DIR", str(tmp_path))

    result = _run(dagster_object_store())

    assert result.output_for_node("wired_check")["backups"] == "observatory-backups"
    assert (tmp_path / "observatory-outputs" / "wired_frame.parquet").is_file()


def test_definitions_default_io_manager_is_the_object_store():
    from observatory_pipelines.definitions import resources

    assert isinstance(resources["io_manager"], ObjectStoreIOManager)
    assert isinstance(resources["object_store"], ObjectStoreResource)
