"""Files for the ``file_import`` arena from an object-store prefix.

``arenas_config["arenas"]["file_import"]["prefix"]`` names a key prefix in the
outputs bucket (``"imports/valg-2026/"``). Every ``.csv`` / ``.ndjson`` /
``.jsonl`` object under it, in key order, is handed to the collector as
``options["files"]``: ``(key, binary file)`` pairs opened one at a time, when the
collector asks for the next (it closes each before that), and streamed, so
memory stays flat whatever the size of the import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from observatory_pipelines.arenas.file_import import SUFFIXES
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectNotFound, ObjectStore

log = get_logger(__name__)

PLATFORM = "file_import"


class SourceError(ValueError):
    """The arena's source configuration cannot be used; the message names the problem."""


def object_files(store: ObjectStore, prefix: str) -> Iterator[tuple[str, BinaryIO]]:
    """(key, opened object) for each import file under ``prefix``, opened lazily in key order.

    An object deleted between the listing and its turn is skipped with a warning; an
    unreachable store raises (``ObjectStoreUnavailable``), failing the task.
    """
    found = 0
    for info in store.list(prefix):
        if not info.key.lower().endswith(SUFFIXES):
            continue
        try:
            handle = store.open(info.key)
        except ObjectNotFound:
            log.warning("file_import.object_vanished", key=info.key)
            continue
        found += 1
        yield info.key, handle
    if not found:
        log.warning("file_import.prefix_empty", prefix=prefix, suffixes=list(SUFFIXES))


def with_sources(
    platform: str, options: dict[str, Any], store: ObjectStore | None
) -> dict[str, Any]:
    """The collector's options, with ``files`` from the configured prefix (if any)."""
    if platform != PLATFORM or "prefix" not in options:
        return options
    prefix = options["prefix"]
    if not isinstance(prefix, str) or not prefix.strip() or prefix.startswith("/"):
        raise SourceError(
            f"file_import prefix must be a non-empty key prefix like 'imports/name/', got {prefix!r}"
        )
    if store is None:
        raise SourceError("file_import prefix is set but no object store was given to the run")
    return {**options, "files": object_files(store, prefix)}
