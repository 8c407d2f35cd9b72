"""The ObjectStore contract, run against the folder backend and a real S3 server."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from datetime import timedelta

import pytest

from observatory_pipelines.storage.object_store import (
    MIB,
    ObjectNotFound,
    ObjectStore,
)


def test_both_backends_implement_the_protocol(store):
    assert isinstance(store, ObjectStore)


@pytest.mark.parametrize(
    "make_data",
    [
        lambda payload: payload,
        lambda payload: io.BytesIO(payload),
        lambda payload: (payload[i : i + 7] for i in range(0, len(payload), 7)),
    ],
    ids=["bytes", "file", "chunks"],
)
def test_round_trip_with_metadata(store, make_data):
    payload = "Økonomi og klima i Folketinget\n".encode() * 50
    digest = hashlib.sha256(payload).hexdigest()

    info = store.put(
        "debates/2026/04/one.txt",
        make_data(payload),
        content_type="text/plain",
        metadata={"SHA256": digest, "source": "rss"},
    )

    assert (info.key, info.size, info.bucket) == (
        "debates/2026/04/one.txt",
        len(payload),
        store.bucket,
    )
    assert store.get_bytes("debates/2026/04/one.txt") == payload
    with store.open("debates/2026/04/one.txt") as handle:
        assert handle.read(10) == payload[:10]
        assert handle.read() == payload[10:]
    stat = store.stat("debates/2026/04/one.txt")
    assert stat.metadata == {"sha256": digest, "source": "rss"}
    assert stat.content_type == "text/plain"
    assert stat.size == len(payload)
    assert stat.last_modified.utcoffset() == timedelta(0)
    assert store.exists("debates/2026/04/one.txt")


def test_overwrite_replaces_data_and_metadata(store):
    store.put("k.bin", b"first", metadata={"sha256": "aaa", "old": "x"})
    store.put("k.bin", b"second", metadata={"sha256": "bbb"})
    assert store.get_bytes("k.bin") == b"second"
    assert store.stat("k.bin").metadata == {"sha256": "bbb"}


def test_empty_object(store):
    store.put("empty", b"")
    assert store.get_bytes("empty") == b""
    assert store.stat("empty").size == 0


def test_multipart_upload_streamed_from_generator(backend, store):
    chunk = 256 * 1024
    total = 5 * MIB + 3 * chunk + 11  # more than one 5 MiB part, odd tail

    def generate():
        sent = 0
        n = 0
        while sent < total:
            size = min(chunk, total - sent)
            yield bytes([n % 251]) * size
            sent += size
            n += 1

    expected = hashlib.sha256(b"".join(generate())).hexdigest()
    info = store.put("backups/big.dump.gz", generate(), metadata={"sha256": expected})

    assert info.size == total
    digest = hashlib.sha256()
    with store.open("backups/big.dump.gz") as handle:
        while block := handle.read(MIB):
            digest.update(block)
    assert digest.hexdigest() == expected
    assert store.stat("backups/big.dump.gz").metadata["sha256"] == expected
    if backend == "s3":
        assert info.etag.endswith("-2")  # S3 marks multipart ETags with their part count


def test_list_by_prefix(store):
    keys = ["a/1.txt", "a/2.txt", "a/b/3.txt", "ab/4.txt", "b/5.txt", "top.txt"]
    for key in reversed(keys):
        store.put(key, key.encode(), metadata={"k": "v"})

    assert [o.key for o in store.list("a/")] == ["a/1.txt", "a/2.txt", "a/b/3.txt"]
    assert [o.key for o in store.list("a")] == ["a/1.txt", "a/2.txt", "a/b/3.txt", "ab/4.txt"]
    assert [o.key for o in store.list("a/b")] == ["a/b/3.txt"]
    assert [o.key for o in store.list("a/2")] == ["a/2.txt"]
    assert [o.key for o in store.list()] == sorted(keys)
    assert list(store.list("zzz/")) == []
    listed = {o.key: o for o in store.list()}
    assert listed["a/b/3.txt"].size == len(b"a/b/3.txt")
    assert all(o.last_modified.utcoffset() == timedelta(0) for o in listed.values())


def test_list_of_a_bucket_never_written_is_empty(resource):
    assert list(resource.backups().list()) == []


def test_remove(store):
    store.put("x/y.txt", b"1")
    store.put("x/z.txt", b"2")
    store.remove("x/y.txt")
    assert not store.exists("x/y.txt")
    assert [o.key for o in store.list("x/")] == ["x/z.txt"]
    store.remove("x/y.txt")  # removing what is gone is not an error, as on S3


def test_presigned_url_fetches_the_object(store):
    store.put("exports/report.csv", b"a,b\n1,2\n", content_type="text/csv")
    url = store.presign("exports/report.csv", expires=timedelta(minutes=5))
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"a,b\n1,2\n"
    with pytest.raises(ValueError, match="7 days"):
        store.presign("exports/report.csv", expires=timedelta(days=8))


def test_missing_object_names_bucket_and_key(store):
    for call in (store.stat, store.get_bytes, store.open, store.presign):
        with pytest.raises(ObjectNotFound) as caught:
            call("nowhere/missing.parquet")
        message = str(caught.value)
        assert "nowhere/missing.parquet" in message and store.bucket in message
        assert (caught.value.bucket, caught.value.key) == (store.bucket, "nowhere/missing.parquet")
    assert not store.exists("nowhere/missing.parquet")


def test_failed_upload_leaves_nothing_under_the_key(backend, resource, store):
    store.put("kept.bin", b"old version", metadata={"sha256": "old"})

    def broken():
        yield b"x" * (3 * MIB)
        yield b"y" * (3 * MIB)  # the first 5 MiB part is already on the server now
        raise RuntimeError("source died midway")

    for key in ("fresh.bin", "kept.bin"):
        with pytest.raises(RuntimeError, match="source died midway"):
            store.put(key, broken(), metadata={"sha256": "new"})

    assert not store.exists("fresh.bin")
    assert [o.key for o in store.list()] == ["kept.bin"]
    assert store.get_bytes("kept.bin") == b"old version"
    assert store.stat("kept.bin").metadata == {"sha256": "old"}
    if backend == "s3":
        assert _pending_multipart_uploads(resource, store.bucket) == []  # aborted, not left over
    else:
        assert list((resource.folder() / ".tmp").iterdir()) == []


def _pending_multipart_uploads(resource, bucket: str) -> list[str]:
    """Incomplete multipart uploads, asked of the server through boto3's public API."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{resource.endpoint}",
        aws_access_key_id=resource.access_key,
        aws_secret_access_key=resource.secret_key,
        region_name=resource.region or "us-east-1",
    )
    return [upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_interrupted_source_aborts_and_reraises(backend, resource, store):
    """A KeyboardInterrupt (not an Exception) in the source still aborts the upload."""

    def interrupted():
        yield b"x" * (6 * MIB)  # one part on the server before the interrupt
        yield b"y" * MIB
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.put("interrupted.bin", interrupted())

    assert not store.exists("interrupted.bin")
    if backend == "s3":
        assert _pending_multipart_uploads(resource, store.bucket) == []
    else:
        assert list((resource.folder() / ".tmp").iterdir()) == []


@pytest.mark.parametrize(
    "key", ["", "/abs", "trailing/", "a//b", "a/../b", "./a", "back\\slash", "tab\tkey"]
)
def test_invalid_keys_rejected_alike(store, key):
    with pytest.raises(ValueError, match="invalid object key"):
        store.put(key, b"1")


def test_non_bytes_data_rejected(store):
    with pytest.raises(TypeError, match="not str"):
        store.put("s.txt", "text")
    with pytest.raises(TypeError, match="chunks must be bytes"):
        store.put("s.txt", ["text"])
    assert not store.exists("s.txt")


def test_buckets_are_separate_and_created_on_first_use(resource):
    backups, outputs = resource.backups(), resource.outputs()
    assert backups.bucket != outputs.bucket
    backups.put("postgres/2026/04/01/db.dump.gz", b"dump")
    assert [o.key for o in backups.list()] == ["postgres/2026/04/01/db.dump.gz"]
    assert list(outputs.list()) == []


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"with_underscore": "x"}, "invalid metadata name"),
        ({"sha256": "Ø"}, "one-line ASCII"),
        ({"note": "two\nlines"}, "one-line ASCII"),
        ({"big": "x" * 3000}, "exceeds"),
    ],
)
def test_bad_metadata_rejected_alike_and_nothing_stored(store, metadata, problem):
    with pytest.raises(ValueError, match=problem):
        store.put("m.bin", b"1", metadata=metadata)
    assert not store.exists("m.bin")


def test_update_metadata_merges_after_a_streamed_upload(store):
    chunks = (bytes([i]) * (1024 * 1024) for i in range(6))  # > 5 MiB: multipart on S3
    store.put("dumps/x.gz", chunks, content_type="application/gzip", metadata={"level": "6"})
    info = store.update_metadata("dumps/x.gz", {"sha256": "ab" * 32})
    assert info.metadata == {"level": "6", "sha256": "ab" * 32}
    assert store.stat("dumps/x.gz").metadata == {"level": "6", "sha256": "ab" * 32}
    assert store.stat("dumps/x.gz").content_type == "application/gzip"
    assert store.stat("dumps/x.gz").size == 6 * 1024 * 1024
    assert store.get_bytes("dumps/x.gz")[-1:] == bytes([5])


def test_update_metadata_of_missing_object_names_it(store):
    with pytest.raises(ObjectNotFound, match="nothing/here"):
        store.update_metadata("nothing/here", {"sha256": "00"})
