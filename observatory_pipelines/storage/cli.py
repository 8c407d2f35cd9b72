"""What the pipelines wrote, for operators: list, download and presign objects.

    python -m observatory_pipelines.storage.cli list [PREFIX] [--bucket backups]
    python -m observatory_pipelines.storage.cli get KEY [-o FILE]
    python -m observatory_pipelines.storage.cli presign KEY [--expires-hours 1]
    python -m observatory_pipelines.storage.cli init [BUCKET ...]

``init`` is the deployment's one-shot step (docker-compose's ``storage-init``): it makes
sure the backups and outputs buckets exist, and any bucket named after it (the compute-log
bucket). In production it refuses to run without ``MINIO_ENDPOINT`` or without a credential
instead of falling back to a folder or to ``minioadmin``.

Same configuration as the pipelines (MINIO_* variables, else the local folder).
Exit codes: 0 ok, 1 object store error (one line on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from datetime import timedelta

from observatory_pipelines import settings
from observatory_pipelines.storage.config import ObjectStoreConfig, object_store_from_env
from observatory_pipelines.storage.minio_store import MinioObjectStore
from observatory_pipelines.storage.object_store import (
    ObjectNotFound,
    ObjectStoreUnavailable,
    check_bucket,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m observatory_pipelines.storage.cli", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--bucket",
        choices=["outputs", "backups"],
        default="outputs",
        help="outputs (analysis results, exports) or backups; default outputs",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="objects under a prefix, with size and time")
    listing.add_argument("prefix", nargs="?", default="")
    get = commands.add_parser("get", help="download an object (streamed)")
    get.add_argument("key")
    get.add_argument("-o", "--output", help="file to write; default standard output")
    presign = commands.add_parser("presign", help="a time-limited download URL")
    presign.add_argument("key")
    presign.add_argument("--expires-hours", type=float, default=1.0)
    init = commands.add_parser(
        "init", help="create the backups and outputs buckets (and those named) unless they exist"
    )
    init.add_argument("buckets", nargs="*", metavar="BUCKET", help="further buckets to create")
    return parser


class _ErrorsOnly(logging.Filter):
    """``init`` reports a failure as its one line: the store's own warning about the same
    failure would be a second (JSON) line in the init container's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


def _check_production_config() -> None:
    if settings.deployment() != "production":
        return
    if not settings.minio_endpoint():
        raise ValueError(
            "OBSERVATORY_ENV=production and MINIO_ENDPOINT is not set: "
            "objects would go to a folder inside the container"
        )
    if not (settings.env("MINIO_ACCESS_KEY") or settings.env("MINIO_ROOT_USER")) or not (
        settings.env("MINIO_SECRET_KEY") or settings.env("MINIO_ROOT_PASSWORD")
    ):
        raise ValueError(
            "OBSERVATORY_ENV=production and no MinIO credential is set: set MINIO_ACCESS_KEY "
            "and MINIO_SECRET_KEY (or MINIO_ROOT_USER and MINIO_ROOT_PASSWORD)"
        )


def init_buckets(config: ObjectStoreConfig, extra: list[str]) -> list[str]:
    """Create each bucket that does not exist yet; returns one line per bucket."""
    names = [
        config.backup_bucket or settings.minio_backup_bucket(),
        config.outputs_bucket or settings.minio_outputs_bucket(),
        *extra,
    ]
    lines = []
    for name in dict.fromkeys(check_bucket(n) for n in names):
        store = config.bucket(name)
        if isinstance(store, MinioObjectStore):
            store.ensure_bucket()
        else:
            store.base.mkdir(parents=True, exist_ok=True)
        lines.append(f"bucket {name} ready at {config.describe()}")
    return lines


def _init(extra: list[str]) -> int:
    quiet = _ErrorsOnly()
    library_log = logging.getLogger("observatory")
    library_log.addFilter(quiet)
    try:
        _check_production_config()
        for line in init_buckets(object_store_from_env(), extra):
            print(line)
    except (ObjectStoreUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        library_log.removeFilter(quiet)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "init":
        return _init(args.buckets)
    config = object_store_from_env()
    store = config.outputs() if args.bucket == "outputs" else config.backups()
    try:
        if args.command == "list":
            for info in store.list(args.prefix):
                print(f"{info.last_modified:%Y-%m-%d %H:%M:%S}Z  {info.size:>14,}  {info.key}")
        elif args.command == "get":
            with store.open(args.key) as source:
                if args.output:
                    with open(args.output, "wb") as target:
                        shutil.copyfileobj(source, target, 1 << 20)
                else:
                    shutil.copyfileobj(source, sys.stdout.buffer, 1 << 20)
        else:
            print(store.presign(args.key, timedelta(hours=args.expires_hours)))
    except (ObjectNotFound, ObjectStoreUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
