"""Design files → ``query_designs``, ``search_terms``, ``actor_lists`` (+ actors, their accounts).

``sync_folder(engine, folder)`` is what the ``design_files_sensor`` runs on the operator's
``DESIGNS_DIR`` (``sync_prefix`` on ``DESIGNS_PREFIX`` in the outputs bucket, when set);
``apply_files`` is ``observatory design apply FILE...``. All of them:

1. read and validate every file (``files.py``, ``schema.py``); a file with any error is
   refused whole — nothing of it is written — and its errors are returned;
2. refuse a name held by two files (both are named), a name already held by another design
   file that still exists ("two files for one design"), and an owner no users row has;
3. write each remaining design in **one transaction of its own**: new → created; the same file
   with the same bytes (SHA-256 in ``source_hash``) → untouched; otherwise updated. When what
   the design collects changed (terms, actor lists, arenas and options, mode, window, language:
   ``collection_fingerprint``), ``collection_revised_at`` is set and the collection sensor
   requests the design's window again — the one place that starts runs stays
   ``collection/scheduling.py``;
4. (folder, prefix) deactivate designs synced from files under it whose file is gone;
   their rows, terms, runs and records stay.

Running it again over the same files changes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from observatory_pipelines.designs.files import (
    MAX_FILE_BYTES,
    SUFFIXES,
    DesignError,
    DesignFileInvalid,
    content_hash,
    design_files,
    parse_text,
)
from observatory_pipelines.designs.schema import DesignDoc, TermRow, validate
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectInfo, ObjectNotFound, ObjectStore

log = get_logger(__name__)
_SQL_DIR = Path(__file__).parent / "sql"
SQL = {p.stem: p.read_text() for p in _SQL_DIR.glob("*.sql")}


@dataclass
class SyncReport:
    """What one sync did, by design name; ``errors`` are the refused files' problems."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)  # updated and collecting something new
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    errors: list[DesignError] = field(default_factory=list)
    folder_missing: bool = False  # the folder synced does not exist: nothing was done

    @property
    def refused_files(self) -> list[str]:
        return sorted({e.file for e in self.errors})

    def summary(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "revised": len(self.revised),
            "unchanged": len(self.unchanged),
            "deactivated": len(self.deactivated),
            "refused_files": len(self.refused_files),
        }


def source_of(path: str | Path) -> str:
    """How a file is recorded in ``query_designs.source_file``: its absolute path."""
    return str(Path(path).resolve())


STORE_SCHEME = "store://"  # source_file of a design read from the object store


def object_source(bucket: str, key: str) -> str:
    return f"{STORE_SCHEME}{bucket}/{key}"


@dataclass(frozen=True)
class RawFile:
    """A design file's bytes, before parsing: shown in errors as ``shown``, stored as ``source``."""

    shown: str
    source: str
    raw: bytes


def _read_path(path: Path) -> RawFile:
    try:
        return RawFile(str(path), source_of(path), path.read_bytes())
    except OSError as exc:
        raise DesignFileInvalid(
            [DesignError(str(path), 1, 1, "(file)", f"cannot read: {exc.strerror}")]
        ) from None


def _read_object(store: ObjectStore, info: ObjectInfo) -> RawFile:
    shown = f"{store.bucket}/{info.key}"
    if info.size > MAX_FILE_BYTES:
        raise DesignFileInvalid(
            [DesignError(shown, 1, 1, "(file)", f"larger than {MAX_FILE_BYTES} bytes")]
        )
    try:
        raw = store.get_bytes(info.key)
    except ObjectNotFound:
        raise DesignFileInvalid(
            [DesignError(shown, 1, 1, "(file)", "removed while read")]
        ) from None
    return RawFile(shown, object_source(store.bucket, info.key), raw)


def _read_all(readers: Sequence[Callable[[], RawFile]]) -> tuple[list[RawFile], list[DesignError]]:
    files, errors = [], []
    for read in readers:
        try:
            files.append(read())
        except DesignFileInvalid as exc:
            errors += exc.errors
    return files, errors


def check_files(paths: Sequence[Path]) -> tuple[list[DesignDoc], list[DesignError]]:
    """Read and validate files, refusing every file of a name that two of them use."""
    files, errors = _read_all([lambda p=p: _read_path(p) for p in paths])
    docs, invalid = _validate_all(files)
    return docs, errors + invalid


def _validate_all(files: Sequence[RawFile]) -> tuple[list[DesignDoc], list[DesignError]]:
    """Parse and validate each file, refusing every file of a name two of them use."""
    docs: list[DesignDoc] = []
    errors: list[DesignError] = []
    for file in files:
        try:
            docs.append(validate(parse_text(file.shown, file.raw, source=file.source)))
        except DesignFileInvalid as exc:
            errors += exc.errors
    by_name: dict[str, list[DesignDoc]] = {}
    for doc in docs:
        by_name.setdefault(doc.name.lower(), []).append(doc)
    valid = []
    for doc in docs:
        twins = [d for d in by_name[doc.name.lower()] if d is not doc]
        if twins:
            others = ", ".join(d.file.path for d in twins)
            errors.append(
                doc.file.error(("name",), f"{doc.name!r} is also the name in {others}; "
                               "one design, one file (design names are unique)")
            )  # fmt: skip
        else:
            valid.append(doc)
    return valid, errors


def _still_there(source: str, store: ObjectStore | None) -> bool:
    """Does the file (or object) a design was synced from still exist? Unknown = yes."""
    if source.startswith(STORE_SCHEME):
        bucket, _, key = source.removeprefix(STORE_SCHEME).partition("/")
        if store is None or store.bucket != bucket:
            return True  # another store's object: cannot tell, so it is not taken over
        return store.exists(key)
    return os.path.exists(source)


def check_database(
    engine: Engine, docs: Sequence[DesignDoc], store: ObjectStore | None = None
) -> list[DesignError]:
    """Errors only the database can find (owner, a name another existing file holds)."""
    errors = []
    with engine.connect() as conn:
        for doc in docs:
            errors += _database_errors(conn, doc, store)
    return errors


def _database_errors(
    conn: Connection, doc: DesignDoc, store: ObjectStore | None
) -> list[DesignError]:
    errors = []
    owner = conn.execute(text(SQL["owner"]), {"owner": doc.owner}).scalars().all()
    if len(owner) != 1:
        errors.append(
            doc.file.error(("owner",), f"no user {doc.owner!r} (an e-mail or id in users)")
        )
    else:
        doc.owner_id = str(owner[0])
    row = conn.execute(text(SQL["design_by_name"]), {"name": doc.name})
    existing = row.mappings().first()
    if existing is not None:
        held_by = existing["source_file"]
        if held_by != doc.file.source and _still_there(held_by, store):
            errors.append(
                doc.file.error(("name",), f"design {doc.name!r} is already defined by {held_by}; "
                               "one design, one file (remove or rename one of them)")
            )  # fmt: skip
    return errors


def apply_files(engine: Engine, paths: Iterable[Path]) -> SyncReport:
    """Apply design files (no deactivation: files not named are left as they are)."""
    return _sync(engine, [lambda p=p: _read_path(p) for p in paths], store=None)


def _sync(
    engine: Engine, readers: Sequence[Callable[[], RawFile]], store: ObjectStore | None
) -> SyncReport:
    """Read every source; skip those whose bytes are what was applied last; apply the rest."""
    files, errors = _read_all(readers)
    with engine.connect() as conn:
        applied = {
            r.source_file: (r.name, r.source_hash) for r in conn.execute(text(SQL["applied"]))
        }
    unchanged = [f for f in files if applied.get(f.source, ("", None))[1] == content_hash(f.raw)]
    docs, invalid = _validate_all([f for f in files if f not in unchanged])
    report = SyncReport(errors=errors + invalid)
    report.unchanged += [applied[f.source][0] for f in unchanged]
    for doc in docs:
        _apply_one(engine, doc, report, store)
    report.errors.sort(key=lambda e: (e.file, e.line, e.column))
    return report


def sync_folder(engine: Engine, folder: Path) -> SyncReport:
    """Apply every design file under ``folder`` and deactivate those whose file is gone."""
    if not folder.is_dir():
        # Not "every file was removed": an unmounted or mistyped folder must not deactivate
        # every design it held.
        log.info("designs.folder_missing", folder=str(folder))
        return SyncReport(folder_missing=True)
    paths = design_files(folder)
    report = apply_files(engine, paths)
    present = [source_of(p) for p in paths]  # invalid files too: a typo is not a removal
    _deactivate_missing(engine, report, source_of(folder) + os.sep, present)
    _log(report, folder=str(folder))
    return report


def sync_prefix(engine: Engine, store: ObjectStore, prefix: str) -> SyncReport:
    """``sync_folder`` for the objects under ``prefix`` in ``store`` (``DESIGNS_PREFIX``)."""
    objects = [
        info
        for info in store.list(prefix)
        if info.key.endswith(SUFFIXES)
        and not any(part.startswith(".") for part in info.key[len(prefix) :].split("/"))
    ]
    report = _sync(engine, [lambda info=info: _read_object(store, info) for info in objects], store)
    present = [object_source(store.bucket, info.key) for info in objects]
    _deactivate_missing(engine, report, object_source(store.bucket, prefix), present)
    _log(report, bucket=store.bucket, prefix=prefix)
    return report


def _deactivate_missing(engine: Engine, report: SyncReport, scope: str, present: list[str]) -> None:
    with engine.begin() as conn:
        gone = conn.execute(
            text(SQL["deactivate_missing"]),
            {"folder_prefix": _like_prefix(scope), "present": present},
        ).scalars()
        report.deactivated += sorted(gone)


def _log(report: SyncReport, **where: str) -> None:
    for error in report.errors:
        log.warning("designs.file_refused", error=str(error))
    log.info("designs.synced", **where, **report.summary())


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _apply_one(
    engine: Engine, doc: DesignDoc, report: SyncReport, store: ObjectStore | None
) -> None:
    """One design in one transaction; a refusal rolls back everything of it."""
    try:
        with engine.begin() as conn:
            # Two syncs of one name (the sensor and a CLI apply) wait for each other.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('design-file:' || lower(:name)))"),
                {"name": doc.name},
            )
            errors = _database_errors(conn, doc, store)
            if errors:
                report.errors += errors
                return
            outcome = _write(conn, doc)
    except IntegrityError:
        # Another writer took the name between our check and write (the unique index held):
        # nothing of this file was written; the next sync sees who holds it.
        report.errors.append(
            doc.file.error(("name",), f"design {doc.name!r} was written by another sync "
                           "meanwhile; nothing of this file written (the next sync retries)")
        )  # fmt: skip
        return
    getattr(report, outcome).append(doc.name)
    if outcome == "revised":
        report.updated.append(doc.name)


def _params(doc: DesignDoc) -> dict[str, Any]:
    return {
        "owner_id": doc.owner_id,
        "name": doc.name,
        "description": doc.description,
        "is_active": doc.active,
        "tier": doc.tier,
        "language": doc.language,
        "locale_country": doc.locale_country,
        "arenas_config": json.dumps(doc.arenas_config(), ensure_ascii=False),
        "source_file": doc.file.source,
        "source_hash": doc.file.sha256,
        "fingerprint": doc.fingerprint(),
    }


def _write(conn: Connection, doc: DesignDoc) -> str:
    """Create or update the design; returns created | revised | updated | unchanged."""
    params = _params(doc)
    existing = conn.execute(text(SQL["design_by_name"]), {"name": doc.name}).mappings().first()
    if existing is None:
        # The name changed in its file: the file's design is renamed, not doubled.
        by_source = {"source_file": params["source_file"]}
        existing = conn.execute(text(SQL["design_by_source"]), by_source).mappings().first()
    if existing is None:
        design_id = str(conn.execute(text(SQL["design_insert"]), params).scalar_one())
        _write_terms(conn, design_id, doc.terms)
        _write_actor_lists(conn, design_id, doc)
        log.info("designs.created", query_design_id=design_id, name=doc.name)
        return "created"
    design_id = str(existing["id"])
    if (
        existing["source_hash"] == params["source_hash"]
        and existing["source_file"] == params["source_file"]
    ):
        return "unchanged"
    revised = existing["collection_fingerprint"] != params["fingerprint"]
    conn.execute(text(SQL["design_update"]), {**params, "id": design_id})
    if revised:
        current = [
            TermRow(r.term, r.term_type, r.term_group)
            for r in conn.execute(text(SQL["terms_active"]), {"id": design_id})
        ]
        if current != doc.terms:
            # Old terms are kept, inactive: what a past run searched for stays readable.
            conn.execute(
                text("UPDATE search_terms SET is_active = false WHERE query_design_id = :id"),
                {"id": design_id},
            )
            _write_terms(conn, design_id, doc.terms)
        conn.execute(text("DELETE FROM actor_lists WHERE query_design_id = :id"), {"id": design_id})
        _write_actor_lists(conn, design_id, doc)
    log.info("designs.updated", query_design_id=design_id, name=doc.name, revised=revised)
    return "revised" if revised else "updated"


def _write_terms(conn: Connection, design_id: str, terms: Sequence[TermRow]) -> None:
    conn.execute(
        text(SQL["term_insert"]),
        [
            {"id": design_id, "term": t.term, "term_type": t.term_type,
             "term_group": t.group, "position": i}
            for i, t in enumerate(terms)
        ],
    )  # fmt: skip


def _write_actor_lists(conn: Connection, design_id: str, doc: DesignDoc) -> None:
    for actor_list in doc.actor_lists:
        list_id = conn.execute(
            text(SQL["actor_list_insert"]),
            {"id": design_id, "name": actor_list.name, "description": actor_list.description,
             "owner_id": doc.owner_id, "sampling_method": actor_list.sampling_method},
        ).scalar_one()  # fmt: skip
        for actor in actor_list.actors:
            actor_id = _actor_id(conn, actor, doc.owner_id)
            conn.execute(text(SQL["member_insert"]), {"list_id": list_id, "actor_id": actor_id})


def _actor_id(conn: Connection, actor, owner_id: str | None) -> str:
    """The actor one of whose accounts is already known, else a new one; its accounts added."""
    actor_id = None
    for p in actor.presences:
        found = conn.execute(
            text(SQL["actor_by_presence"]),
            {"platform": p.platform, "user_id": p.platform_user_id,
             "username": p.platform_username},
        ).scalar()  # fmt: skip
        if found is not None:
            actor_id = str(found)
            break
    if actor_id is None:
        actor_id = str(
            conn.execute(
                text(SQL["actor_insert"]),
                {"name": actor.name, "actor_type": actor.actor_type, "owner_id": owner_id},
            ).scalar_one()
        )
    for p in actor.presences:
        conn.execute(
            text(SQL["presence_insert"]),
            {"actor_id": actor_id, "platform": p.platform, "user_id": p.platform_user_id,
             "username": p.platform_username},
        )  # fmt: skip
    return actor_id


def deactivate(engine: Engine, name: str) -> bool:
    """Deactivate the design(s) of ``name``; False when none was active."""
    with engine.begin() as conn:
        ids = conn.execute(text(SQL["design_deactivate"]), {"name": name}).scalars().all()
    if ids:
        log.info("designs.deactivated", name=name, query_design_ids=[str(i) for i in ids])
    return bool(ids)


def list_designs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(SQL["designs_list"])).mappings()]


def show_design(engine: Engine, name: str, runs: int = 20) -> list[dict[str, Any]]:
    """Every design of ``name`` with its terms, actor lists and latest ``runs`` runs."""
    out = []
    with engine.connect() as conn:
        for row in conn.execute(text(SQL["design_show"]), {"name": name}).mappings():
            design = dict(row)
            design_id = str(row["id"])
            design["terms"] = [
                dict(r)
                for r in conn.execute(text(SQL["terms_active"]), {"id": design_id}).mappings()
            ]
            design["actor_lists"] = [
                dict(r)
                for r in conn.execute(text(SQL["design_actor_lists"]), {"id": design_id}).mappings()
            ]
            design["runs"] = [
                dict(r)
                for r in conn.execute(
                    text(SQL["design_runs"]), {"id": design_id, "limit": runs}
                ).mappings()
            ]
            out.append(design)
    return out
