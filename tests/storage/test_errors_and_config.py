"""Faults that only S3 has (credentials, network), and configuration from the environment."""

from __future__ import annotations

import socket
import uuid

import moto.settings
import pytest

from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.storage.config import object_store_from_env
from observatory_pipelines.storage.object_store import ObjectStoreUnavailable

SECRET = "s3cr3t-" + uuid.uuid4().hex


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_clean(message: str, endpoint: str, capfd) -> None:
    assert "\n" not in message
    assert endpoint in message
    assert SECRET not in message
    out, err = capfd.readouterr()
    assert "object store unavailable" in err and endpoint in err  # the failure was logged...
    assert SECRET not in out and SECRET not in err  # ...without the secret


def test_unreachable_endpoint_is_one_line_naming_it(capfd):
    endpoint = f"127.0.0.1:{_closed_port()}"
    store = ObjectStoreResource(
        endpoint=endpoint, access_key="someone", secret_key=SECRET, outputs_bucket="never-made"
    ).outputs()

    for call in (
        lambda: store.put("a.bin", b"1"),
        lambda: store.stat("a.bin"),
        lambda: list(store.list()),
    ):
        with pytest.raises(ObjectStoreUnavailable) as caught:
            call()
        assert "unreachable" in str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        _assert_clean(str(caught.value), endpoint, capfd)


def test_wrong_credentials_are_one_line_without_the_secret(s3_server, monkeypatch, capfd):
    # moto checks signatures and keys only once its auth is switched on (process-wide).
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    store = ObjectStoreResource(
        endpoint=s3_server,
        access_key="AKIAWRONGWRONGWRONG1",
        secret_key=SECRET,
        outputs_bucket=f"denied-{uuid.uuid4().hex[:8]}",
    ).outputs()

    for call in (lambda: store.put("a.bin", b"1"), lambda: store.get_bytes("a.bin")):
        with pytest.raises(ObjectStoreUnavailable) as caught:
            call()
        assert "access denied" in str(caught.value)
        _assert_clean(str(caught.value), s3_server, capfd)


def test_endpoint_with_scheme_is_accepted(s3_server):
    resource = ObjectStoreResource(
        endpoint=f"http://{s3_server}/",
        access_key="testing",
        secret_key="testing-secret",
        outputs_bucket=f"scheme-{uuid.uuid4().hex[:8]}",
    )
    assert resource.describe() == f"http://{s3_server}"
    resource.outputs().put("k", b"v")
    assert resource.outputs().get_bytes("k") == b"v"


def test_bad_bucket_name_is_rejected(object_store_resource):
    with pytest.raises(ValueError, match="invalid bucket name 'Bad_Bucket'"):
        object_store_resource.bucket("Bad_Bucket")


def test_from_env_without_endpoint_is_the_project_folder(tmp_path, monkeypatch):
    for name in ("MINIO_ENDPOINT", "MINIO_BUCKET", "MINIO_OUTPUTS_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OBJECT_STORE_DIR", str(tmp_path / "objects"))

    resource = object_store_from_env()
    resource.backups().put("postgres/x.gz", b"1")
    resource.outputs().put("analysis/y.json", b"{}")

    assert (tmp_path / "objects/observatory-backups/postgres/x.gz").read_bytes() == b"1"
    assert (tmp_path / "objects/observatory-outputs/analysis/y.json").read_bytes() == b"{}"


def test_from_env_with_endpoint_uses_s3_and_root_credentials(s3_server, tmp_path, monkeypatch):
    bucket = f"env-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MINIO_ENDPOINT", s3_server)
    monkeypatch.delenv("MINIO_ACCESS_KEY", raising=False)
    monkeypatch.delenv("MINIO_SECRET_KEY", raising=False)
    monkeypatch.setenv("MINIO_ROOT_USER", "root-user")
    monkeypatch.setenv("MINIO_ROOT_PASSWORD", SECRET)
    monkeypatch.setenv("MINIO_BUCKET", bucket)
    monkeypatch.setenv("OBJECT_STORE_DIR", str(tmp_path / "unused"))

    resource = object_store_from_env()
    assert (resource.access_key, resource.secret_key) == ("root-user", SECRET)
    resource.backups().put("postgres/x.gz", b"dump")

    direct = ObjectStoreResource(
        endpoint=s3_server, access_key="testing", secret_key="x", backup_bucket=bucket
    )
    assert direct.backups().get_bytes("postgres/x.gz") == b"dump"
    assert not (tmp_path / "unused").exists()


def test_credentials_fall_back_to_minioadmin(monkeypatch):
    for name in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    resource = object_store_from_env()
    assert (resource.access_key, resource.secret_key) == ("minioadmin", "minioadmin")
    monkeypatch.setenv("MINIO_ROOT_USER", "root")
    monkeypatch.setenv("MINIO_ACCESS_KEY", "explicit")
    assert object_store_from_env().access_key == "explicit"
