"""Streamed upload of unknown length: MinioObjectStore.put vs minio's put_object(length=-1).

The source is a generator of 64 KiB chunks (what a gzip'd pg_dump pipe yields). Against
a real S3 server (moto, in a child process on 127.0.0.1, so its copy of the data is not
counted in this process's heap), timed phases per repeat:

* baseline: ``Minio.put_object(length=-1, part_size=16 MiB, num_parallel_uploads=1)`` over
  a file-like that hands out the generator's chunks (minio concatenates each part from them);
* store: ``MinioObjectStore.put(key, generator)`` (the same public ``put_object``, fed by a
  reader that hands out whole parts, abort on failure);
* folder_baseline / folder_store: a plain ``open().write`` loop vs ``FolderObjectStore.put``
  (temp file, fsync, rename, sidecar) — the price of atomicity on the local backend.

Peak Python heap (tracemalloc) is measured in a separate, untimed pass of each S3 phase.
Prints one JSON line and writes bench/results/object_store_upload.json.

    .venv/bin/python bench/object_store_upload.py [--mib 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from observatory_pipelines.logs import configure_logging  # noqa: E402

configure_logging(logging.WARNING)  # one JSON result line, not one log line per upload

from observatory_pipelines.storage.folder_store import FolderObjectStore  # noqa: E402
from observatory_pipelines.storage.minio_store import MinioObjectStore  # noqa: E402

RESULT = Path(__file__).with_name("results") / "object_store_upload.json"
CHUNK = 64 * 1024
PART = 16 * 1024 * 1024
TARGET_RATIO = 1.0  # the store must be at least as fast as the client's own streamed put


def chunks(mib: int):
    block = os.urandom(CHUNK)
    for _ in range(mib * 1024 * 1024 // CHUNK):
        yield block


class PipeReader:
    """A pipe-like file: each read returns at most one source chunk, like os.read on a pipe."""

    def __init__(self, source):
        self._source = source
        self._rest = b""

    def read(self, size: int = -1) -> bytes:
        if not self._rest:
            self._rest = next(self._source, b"")
        data, self._rest = self._rest[:size], self._rest[size:]
        return data


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"moto server did not start on port {port}")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", "--rows", type=int, default=64, help="upload size in MiB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        store = MinioObjectStore(
            endpoint=f"127.0.0.1:{port}",
            bucket=f"bench-{uuid.uuid4().hex[:8]}",
            access_key="bench",
            secret_key="bench-secret",
            region="us-east-1",
            part_size=PART,
        )
        store.put("warmup", b"x")
        client = store._client

        def baseline():
            client.put_object(
                store.bucket,
                "baseline.bin",
                PipeReader(chunks(args.mib)),
                length=-1,
                part_size=PART,
                num_parallel_uploads=1,
            )

        def ours():
            store.put("store.bin", chunks(args.mib))

        with tempfile.TemporaryDirectory() as tmp:
            folder = FolderObjectStore(tmp, "bench")
            plain = Path(tmp) / "plain.bin"

            def folder_baseline():
                with plain.open("wb") as out:
                    for chunk in chunks(args.mib):
                        out.write(chunk)

            def folder_store():
                folder.put("store.bin", chunks(args.mib))

            times: dict[str, list[float]] = {
                "baseline": [],
                "store": [],
                "folder_baseline": [],
                "folder_store": [],
            }
            for _ in range(args.repeat):
                times["baseline"].append(timed(baseline))
                times["store"].append(timed(ours))
                times["folder_baseline"].append(timed(folder_baseline))
                times["folder_store"].append(timed(folder_store))
        assert store.stat("store.bin").size == args.mib * 1024 * 1024
        peak_baseline = peak_mib(baseline)
        peak_store = peak_mib(ours)
    finally:
        server.terminate()
        server.wait(timeout=30)

    best = {name: min(values) for name, values in times.items()}
    mib_s = {name: round(args.mib / seconds, 1) for name, seconds in best.items()}
    ratio = best["baseline"] / best["store"]
    result = {
        "bench": "object_store_upload",
        "mib": args.mib,
        "chunk_kib": CHUNK // 1024,
        "part_mib": PART // 1024 // 1024,
        "repeat": args.repeat,
        "best_seconds": {k: round(v, 3) for k, v in best.items()},
        "mib_per_s": mib_s,
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "folder_overhead": round(best["folder_store"] / best["folder_baseline"], 2),
        "peak_heap_mib": {"baseline": round(peak_baseline, 1), "store": round(peak_store, 1)},
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, python {platform.python_version()}",
    }
    line = json.dumps(result)
    print(line)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(line + "\n")


if __name__ == "__main__":
    main()
