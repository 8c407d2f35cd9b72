"""The operator's CLI lists, downloads and presigns what the pipelines wrote (both backends)."""

from __future__ import annotations

import urllib.request

import pytest

from observatory_pipelines.storage import cli as object_store_cli


@pytest.fixture()
def configured(resource, monkeypatch):
    """Point the CLI's environment at the test store (folder or moto S3)."""
    if resource.endpoint:
        monkeypatch.setenv("MINIO_ENDPOINT", resource.endpoint)
        monkeypatch.setenv("MINIO_ACCESS_KEY", resource.access_key)
        monkeypatch.setenv("MINIO_SECRET_KEY", resource.secret_key)
        monkeypatch.setenv("MINIO_REGION", resource.region or "us-east-1")
    else:
        monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
        monkeypatch.setenv("OBJECT_STORE_DIR", resource.local_dir)
    monkeypatch.setenv("MINIO_OUTPUTS_BUCKET", resource.outputs_bucket or "observatory-outputs")
    monkeypatch.setenv("MINIO_BUCKET", resource.backup_bucket or "observatory-backups")
    return resource


def test_list_get_and_presign(configured, capsys, tmp_path):
    store = configured.outputs()
    store.put("exports/u1/a.csv", "æøå;1\n".encode())
    store.put("exports/u1/b.parquet", b"PAR1")
    store.put("analysis/x.json", b"{}")

    assert object_store_cli.main(["list", "exports/"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in listed] == ["exports/u1/a.csv", "exports/u1/b.parquet"]

    target = tmp_path / "a.csv"
    assert object_store_cli.main(["get", "exports/u1/a.csv", "-o", str(target)]) == 0
    assert target.read_bytes() == "æøå;1\n".encode()

    assert object_store_cli.main(["presign", "exports/u1/b.parquet"]) == 0
    url = capsys.readouterr().out.strip()
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"PAR1"


def test_missing_key_is_one_line_naming_it(configured, capsys):
    assert object_store_cli.main(["get", "exports/none.csv", "-o", "/dev/null"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "exports/none.csv" in err
    assert len(err.splitlines()) == 1
