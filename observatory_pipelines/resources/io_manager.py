"""The default ``io_manager``: asset outputs as objects in the outputs bucket.

Formats by type: pandas DataFrame → Parquet (pyarrow, dtypes and index kept),
dict/list/tuple → JSON, bytes → as-is, str → UTF-8 text. Keys:

    <asset path joined by '/'>.<ext>                  unpartitioned asset
    <asset path>/<partition key>.<ext>                partitioned asset
    <asset path>/<dimension value>/....<ext>          multi-partitioned (dimensions by name)
    runs/<run id>/<step>/<output>.<ext>               op output without an asset

Everything a later run needs is in the store itself: loading lists
``<base>.`` and takes the known extension present (newest wins; writing a new
format removes the other one), so a run in another process finds its inputs.
"""

import json
import shutil
import tempfile
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import dagster as dg
import pandas as pd

from observatory_pipelines.logs import get_logger
from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.storage.object_store import ObjectInfo, ObjectNotFound, ObjectStore

log = get_logger("observatory.io_manager")

CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
    "bin": "application/octet-stream",
    "txt": "text/plain; charset=utf-8",
}
_SPOOL = 64 * 1024 * 1024  # serialized outputs past this size spill to a temp file
_SAFE = "-_.=+@,:~"


def _segment(value: str) -> str:
    """A partition value as one key segment: '/' and unusual characters percent-encoded."""
    return quote(str(value), safe=_SAFE) or "%00"


def _header_value(value: str) -> str:
    """S3 metadata must be ASCII: percent-encode the rest, keep it readable."""
    return quote(str(value), safe=_SAFE + "/|")


def partition_segments(partition_key: str) -> str:
    if isinstance(partition_key, dg.MultiPartitionKey):
        dims = sorted(partition_key.keys_by_dimension.items())
        return "/".join(_segment(value) for _name, value in dims)
    return _segment(partition_key)


def object_base(
    asset_path: Iterable[str] | None, partition_key: str | None, identifier=None
) -> str:
    """The key without its extension (see the module docstring)."""
    if asset_path is None:
        base = "runs/" + "/".join(_segment(part) for part in identifier)
    else:
        base = "/".join(_segment(part) for part in asset_path)
    if partition_key is not None:
        base = f"{base}/{partition_segments(partition_key)}"
    return base


def serialize(obj: Any) -> tuple[str, Any, int | None]:
    """(extension, bytes or a rewound binary file, row count or None)."""
    if isinstance(obj, pd.DataFrame):
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)
        obj.to_parquet(spool, engine="pyarrow")
        spool.seek(0)
        return "parquet", spool, len(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return "bin", bytes(obj), None
    if isinstance(obj, str):
        return "txt", obj.encode("utf-8"), None
    if isinstance(obj, dict | list | tuple):
        try:
            text = json.dumps(obj, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"output is not JSON-serializable: {exc}") from None
        return "json", text.encode("utf-8"), (len(obj) if not isinstance(obj, dict) else None)
    raise TypeError(
        f"ObjectStoreIOManager cannot store a {type(obj).__name__}: return a pandas DataFrame, "
        "a dict/list (JSON), bytes or str, or annotate the asset '-> None' and write it yourself"
    )


def deserialize(store: ObjectStore, info: ObjectInfo) -> Any:
    ext = info.key.rsplit(".", 1)[-1]
    with store.open(info.key) as handle:
        if ext == "parquet":
            if handle.seekable():
                return pd.read_parquet(handle, engine="pyarrow")
            # Parquet reads its footer first; a network stream has to land somewhere seekable.
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
                shutil.copyfileobj(handle, spool, 1 << 20)
                spool.seek(0)
                return pd.read_parquet(spool, engine="pyarrow")
        if ext == "json":
            return json.load(handle)
        data = handle.read()
        return data.decode("utf-8") if ext == "txt" else data


def find_output(store: ObjectStore, base: str) -> ObjectInfo:
    candidates = [
        info for info in store.list(base + ".") if info.key[len(base) + 1 :] in CONTENT_TYPES
    ]
    if not candidates:
        raise ObjectNotFound(store.bucket, f"{base}.({'|'.join(CONTENT_TYPES)})")
    return max(candidates, key=lambda info: info.last_modified)


def write_output(
    store: ObjectStore, base: str, obj: Any, metadata: dict[str, str]
) -> tuple[ObjectInfo, int | None]:
    ext, payload, rows = serialize(obj)
    try:
        info = store.put(
            f"{base}.{ext}",
            payload,
            content_type=CONTENT_TYPES[ext],
            metadata={**metadata, "format": ext},
        )
    finally:
        if hasattr(payload, "close"):
            payload.close()
    # A format change (e.g. a dict that became a DataFrame) must not leave the old one loadable.
    for other in CONTENT_TYPES:
        if other != ext:
            store.remove(f"{base}.{other}")
    return info, rows


class ObjectStoreIOManager(dg.ConfigurableIOManager):
    """Stores asset outputs in ``object_store.outputs()``; see the module docstring for keys."""

    object_store: dg.ResourceDependency[ObjectStoreResource]

    def _store(self) -> ObjectStore:
        return self.object_store.outputs()

    @staticmethod
    def _asset_path(context) -> list[str] | None:
        return list(context.asset_key.path) if context.has_asset_key else None

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            # Assets that write elsewhere (Postgres) and return nothing leave no object.
            return
        store = self._store()
        path = self._asset_path(context)
        identifier = None if path is not None else context.get_identifier()
        if context.has_asset_partitions:
            keys = list(context.asset_partition_keys)
            if len(keys) > 1:
                if not (isinstance(obj, dict) and set(obj) == set(keys)):
                    raise ValueError(
                        f"{'/'.join(path)}: a run over {len(keys)} partitions must return a dict "
                        "keyed by partition key (or launch the backfill one run per partition)"
                    )
                items = [(key, obj[key]) for key in keys]
            else:
                items = [(keys[0], obj)]
        else:
            items = [(None, obj)]

        entries = []
        for partition_key, value in items:
            base = object_base(path, partition_key, identifier)
            tags = {"dagster-run-id": context.run_id or ""}
            if path is not None:
                tags["dagster-asset"] = _header_value("/".join(path))
            if partition_key is not None:
                tags["dagster-partition"] = _header_value(partition_key)
            info, rows = write_output(store, base, value, tags)
            entries.append((info, rows))
            log.info("output stored", bucket=store.bucket, key=info.key, size=info.size, rows=rows)

        metadata: dict[str, Any] = {
            "object_key": entries[0][0].key if len(entries) == 1 else [e[0].key for e in entries],
            "bucket": store.bucket,
            "size_bytes": dg.MetadataValue.int(sum(e[0].size for e in entries)),
            "location": dg.MetadataValue.text(
                f"{self.object_store.describe()}/{store.bucket}/{entries[0][0].key}"
            ),
        }
        if all(rows is not None for _info, rows in entries):
            total = sum(rows for _info, rows in entries)
            metadata["row_count"] = dg.MetadataValue.int(total)
            metadata["dagster/row_count"] = dg.MetadataValue.int(total)
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> Any:
        upstream = context.upstream_output
        store = self._store()
        path = self._asset_path(context)
        identifier = None if path is not None else upstream.get_identifier()
        if path is None or not context.has_asset_partitions:
            return deserialize(store, find_output(store, object_base(path, None, identifier)))
        keys = list(context.asset_partition_keys)
        loaded = {
            key: deserialize(store, find_output(store, object_base(path, key))) for key in keys
        }
        # Dagster's convention: one partition → the object, several → {partition key: object}.
        return loaded[keys[0]] if len(keys) == 1 else loaded
