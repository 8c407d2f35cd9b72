"""Every object in the outputs bucket computed from a design's records, by the analysis keys.

The layout is the analysis domain's (docs/analysis_outputs.md "Keys"):

    analysis/{design}/{scope}/...                       models, report, graph JSON: every scope
    exports/{owner}/{design}/{scope}/{network}.gexf     networks
    exports/{owner}/{export_id}.{csv,xlsx,ndjson,parquet}   record exports; the object's
                                                        metadata ``query-design`` names it

An erasure deletes all of them for each design that held an erased record, rather than
editing them: a model, report or network is a function of every record (counts, ranks,
communities), so taking one person out means recomputing it, and the standard analysis is
recomputed by the ``erasure_reanalysis`` sensor; filtered analyses and exports are asked
for again by whoever needs them. tests/erasure materializes the real analysis assets, so a key
that moves without this module following fails there.

Objects under ``imports/`` (files a researcher uploaded for file_import) are source material,
not outputs: they are never touched here (docs/erasure.md says what the officer does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from observatory_pipelines.storage.object_store import ObjectNotFound, ObjectStore

EXPORT_FORMATS = ("csv", "xlsx", "ndjson", "parquet")
EXPORT_DESIGN_METADATA = "query-design"


@dataclass
class OutputsDeleted:
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _is_record_export(key: str, owner: str) -> bool:
    name = key[len(f"exports/{owner}/") :]
    return "/" not in name and name.rsplit(".", 1)[-1] in EXPORT_FORMATS


def output_keys(store: ObjectStore, design_owners: dict[str, str]) -> list[str]:
    """Every object computed from the records of these designs (design id → owner id)."""
    designs = set(design_owners)
    keys: set[str] = set()
    for design, owner in sorted(design_owners.items()):
        keys.update(info.key for info in store.list(f"analysis/{design}/"))
        keys.update(info.key for info in store.list(f"exports/{owner}/{design}/"))
    for owner in sorted(set(design_owners.values())):
        for info in store.list(f"exports/{owner}/"):
            if not _is_record_export(info.key, owner):
                continue
            try:
                exported = store.stat(info.key).metadata.get(EXPORT_DESIGN_METADATA)
            except ObjectNotFound:
                continue  # deleted meanwhile
            # An export that does not say its design may hold any of the owner's designs:
            # privacy first, it goes too (docs/erasure.md).
            if exported is None or exported in designs:
                keys.add(info.key)
    return sorted(keys)


def delete_outputs(store: ObjectStore, keys: Iterable[str]) -> OutputsDeleted:
    """Delete each key; a failure is kept per key (the rest still go)."""
    result = OutputsDeleted()
    for key in keys:
        try:
            store.remove(key)
        except Exception as exc:  # one unreachable object must not keep the others
            result.failed[key] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        else:
            result.deleted.append(key)
    return result
