"""What the pipelines wrote, for operators: list, download and presign objects.

    python -m observatory_pipelines.storage.cli list [PREFIX] [--bucket backups]
    python -m observatory_pipelines.storage.cli get KEY [-o FILE]
    python -m observatory_pipelines.storage.cli presign KEY [--expires-hours 1]

Same configuration as the pipelines (MINIO_* variables, else the local folder).
Exit codes: 0 ok, 1 object store error (one line on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import timedelta

from observatory_pipelines.storage.config import object_store_from_env
from observatory_pipelines.storage.object_store import (
    ObjectNotFound,
    ObjectStoreUnavailable,
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
