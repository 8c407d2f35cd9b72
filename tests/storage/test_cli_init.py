"""The deployment's bucket step (`storage.cli init`, docker-compose's `storage-init`): it
creates the buckets, and a wrong credential ends it with one line naming the problem and a
non-zero exit (compose then stops there instead of starting services that cannot write).

The S3 server is moto with authentication on (a separate process, so the switch does not
reach the session's shared moto server): only the IAM user's key is accepted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "observatory_pipelines.storage.cli", "init"]
ALLOW_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def authenticating_s3():
    """moto on 127.0.0.1 checking signatures; yields (endpoint, access key, secret key)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The first three requests (create the user, its key, its policy) are let through
    # unauthenticated; every request after them must be signed by a known key.
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        iam = boto3.client(
            "iam",
            endpoint_url=f"http://{endpoint}",
            region_name="us-east-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="observatory")
        key = iam.create_access_key(UserName="observatory")["AccessKey"]
        iam.put_user_policy(
            UserName="observatory", PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3)
        )
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def _env(tmp_path, **values) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "AWS_"))}
    env.update(OBSERVATORY_DATA_DIR=str(tmp_path / "data"), OBSERVATORY_ENV="production")
    env.update(values)
    return env


def _init(env, *buckets) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *buckets], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _buckets(endpoint, access_key, secret_key) -> set[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{endpoint}",
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    )
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def _s3_env(tmp_path, endpoint, access_key, secret_key, suffix):
    return _env(
        tmp_path,
        MINIO_ENDPOINT=endpoint,
        MINIO_ROOT_USER=access_key,
        MINIO_ROOT_PASSWORD=secret_key,
        MINIO_REGION="us-east-1",
        MINIO_BUCKET=f"backups-{suffix}",
        MINIO_OUTPUTS_BUCKET=f"outputs-{suffix}",
    )


def test_wrong_secret_fails_with_one_line_and_creates_nothing(authenticating_s3, tmp_path):
    endpoint, access_key, secret_key = authenticating_s3
    wrong = "not-the-secret-" + secret_key[:4]
    done = _init(_s3_env(tmp_path, endpoint, access_key, wrong, "wrong"), "logs-wrong")

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: object store at http://{endpoint}")
    assert "access denied" in lines[0] and "MINIO_ACCESS_KEY" in lines[0]
    assert wrong not in done.stderr and secret_key not in done.stderr
    assert not {"backups-wrong", "outputs-wrong", "logs-wrong"} & _buckets(*authenticating_s3)


def test_unknown_access_key_fails_with_one_line(authenticating_s3, tmp_path):
    endpoint, _, secret_key = authenticating_s3
    done = _init(_s3_env(tmp_path, endpoint, "AKIAUNKNOWNKEY000000", secret_key, "unknown"))
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert "access denied" in done.stderr and "Traceback" not in done.stderr


def test_right_credential_creates_every_bucket_and_is_repeatable(authenticating_s3, tmp_path):
    endpoint, access_key, secret_key = authenticating_s3
    env = _s3_env(tmp_path, endpoint, access_key, secret_key, "ok")

    first = _init(env, "compute-logs-ok")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"bucket {name} ready at http://{endpoint}"
        for name in ("backups-ok", "outputs-ok", "compute-logs-ok")
    ]
    assert {"backups-ok", "outputs-ok", "compute-logs-ok"} <= _buckets(*authenticating_s3)

    again = _init(env, "compute-logs-ok")  # a re-run of `docker compose up` finds them
    assert again.returncode == 0, again.stderr
    assert len(again.stdout.splitlines()) == 3


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, "OBSERVATORY_ENV=production and MINIO_ENDPOINT is not set"),
        (
            {"MINIO_ENDPOINT": "127.0.0.1:9", "MINIO_ROOT_USER": "observatory"},
            "OBSERVATORY_ENV=production and no MinIO credential is set",
        ),
        (
            {"MINIO_ENDPOINT": "127.0.0.1:9", "MINIO_ROOT_PASSWORD": "secret-only"},
            "OBSERVATORY_ENV=production and no MinIO credential is set",
        ),
    ],
    ids=["no-endpoint", "no-secret", "no-access-key"],
)
def test_production_refuses_a_folder_or_a_default_credential(tmp_path, values, problem):
    done = _init(_env(tmp_path, **values))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"error: {problem}")
    assert not (tmp_path / "data" / "object_store").exists()


def test_bad_bucket_name_is_named(tmp_path):
    done = _init(_env(tmp_path, OBSERVATORY_ENV="local"), "Bad_Bucket")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: invalid bucket name 'Bad_Bucket'")


def test_local_deployment_makes_the_bucket_folders(tmp_path):
    store_dir = tmp_path / "objects"
    env = _env(tmp_path, OBSERVATORY_ENV="local", OBJECT_STORE_DIR=str(store_dir))
    done = _init(env, "compute-logs")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in store_dir.iterdir()) == [
        "compute-logs",
        "observatory-backups",
        "observatory-outputs",
    ]
