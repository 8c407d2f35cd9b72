"""GDPR erasure of one person: database rows, then the outputs computed from them, then the log.

1. One transaction (``database.erase_rows``): the person's records in every partition, every
   design's links to them, the actor and its presences, aliases and list memberships, and a
   log row (status ``outputs_pending``) — committed together, or not at all.
2. The output objects of every affected design (``outputs.output_keys``) are deleted; the log
   row becomes ``completed`` with the keys. If the object store fails, the rows stay erased
   and the log row stays ``outputs_pending`` with the error; ``finish_pending`` (run first by
   every erasure, or alone) deletes what is left.
3. The log row is mirrored as JSON to the backups bucket (``erasure-log/``), outside the
   database, so that after restoring a backup older than the erasure the officer can see which
   erasures to carry out again (docs/erasure.md).

The standard analysis of each affected design is recomputed afterwards by the Dagster sensor
``erasure_reanalysis``, which reads completed log rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from observatory_pipelines.erasure import database
from observatory_pipelines.erasure.outputs import delete_outputs, output_keys
from observatory_pipelines.erasure.person import ErasureRequest
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectStore

log = get_logger("observatory.erasure")
MIRROR_PREFIX = "erasure-log/"


@dataclass
class ErasureReport:
    """What an erasure did (or, dry run, would do). Holds no personal data."""

    dry_run: bool
    identified_by: str
    resolved_to_actor: bool
    rows_deleted: dict[str, int]
    rows_by_partition: dict[str, int]
    affected_designs: list[str]
    object_keys: list[str]  # deleted, or (dry run) to be deleted
    log_id: int | None = None
    status: str = "dry_run"
    object_errors: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.status == "completed"


def mirror_key(log_id: int, erased_at: datetime) -> str:
    """By time first: a database restored from an older backup hands out log ids again."""
    return f"{MIRROR_PREFIX}{erased_at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{log_id}.json"


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
        for name, value in entry.items()
    }


def _mirror(engine: Engine, mirror: ObjectStore | None, log_id: int) -> None:
    """Best effort: the database row is the record; a failed mirror is a warning."""
    if mirror is None:
        return
    try:
        [entry] = database.log_entries(engine, log_id=log_id)
        mirror.put(
            mirror_key(log_id, entry["erased_at"]),
            json.dumps(_jsonable(entry), sort_keys=True, indent=1).encode(),
            content_type="application/json",
        )
    except Exception as exc:
        log.warning("erasure.log_mirror_failed", log_id=log_id, reason=type(exc).__name__)


def _delete_outputs(
    engine: Engine,
    outputs: ObjectStore,
    log_id: int,
    design_owners: dict[str, str],
    mirror: ObjectStore | None,
) -> tuple[str, list[str], dict[str, str]]:
    try:
        keys = output_keys(outputs, design_owners)
    except Exception as exc:
        error = f"listing outputs failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        database.mark_outputs_failed(engine, log_id, [], error)
        log.error("erasure.outputs_pending", log_id=log_id, reason=error)
        _mirror(engine, mirror, log_id)
        return "outputs_pending", [], {"*": error}
    result = delete_outputs(outputs, keys)
    if result.failed:
        error = f"{len(result.failed)} object(s) not deleted, first: " + next(
            f"{key}: {reason}" for key, reason in result.failed.items()
        )
        database.mark_outputs_failed(engine, log_id, result.deleted, error)
        log.error("erasure.outputs_pending", log_id=log_id, failed=len(result.failed))
        _mirror(engine, mirror, log_id)
        return "outputs_pending", result.deleted, result.failed
    database.mark_outputs_deleted(engine, log_id, result.deleted)
    _mirror(engine, mirror, log_id)
    return "completed", result.deleted, {}


def finish_pending(
    engine: Engine, outputs: ObjectStore, mirror: ObjectStore | None = None
) -> list[int]:
    """Delete the outputs of every erasure left ``outputs_pending``; the ids now completed."""
    done = []
    for entry in database.log_entries(engine, status="outputs_pending"):
        designs = list(entry["affected_design_ids"])
        owners = database.design_owners(engine, designs)
        status, _keys, _failed = _delete_outputs(engine, outputs, entry["id"], owners, mirror)
        if status == "completed":
            done.append(entry["id"])
            log.info("erasure.pending_completed", log_id=entry["id"])
    return done


def erase(
    engine: Engine,
    outputs: ObjectStore,
    request: ErasureRequest,
    *,
    dry_run: bool = False,
    mirror: ObjectStore | None = None,
    key: bytes | None = None,
) -> ErasureReport:
    """Erase the person of ``request`` (see the module docstring); ``UnknownPerson`` when no
    actor and no record matched (nothing changed). ``key``: the pseudonymization key
    (default: the configured one, as the collection uses)."""
    if not dry_run:
        finish_pending(engine, outputs, mirror)
    rows = database.erase_rows(engine, request, dry_run=dry_run, key=key)
    report = ErasureReport(
        dry_run=dry_run,
        identified_by=request.identified_by,
        resolved_to_actor=rows.resolved_to_actor,
        rows_deleted=rows.rows_deleted,
        rows_by_partition=rows.rows_by_partition,
        affected_designs=rows.affected_designs,
        object_keys=[],
        log_id=rows.log_id,
    )
    if dry_run:
        report.object_keys = output_keys(outputs, rows.design_owners)
        log.info(
            "erasure.dry_run",
            identified_by=request.identified_by,
            rows_deleted=rows.rows_deleted,
            affected_designs=len(rows.design_owners),
            objects=len(report.object_keys),
        )
        return report
    assert rows.log_id is not None
    log.info(
        "erasure.rows_erased",
        log_id=rows.log_id,
        identified_by=request.identified_by,
        rows_deleted=rows.rows_deleted,
        affected_designs=report.affected_designs,
    )
    report.status, report.object_keys, report.object_errors = _delete_outputs(
        engine, outputs, rows.log_id, rows.design_owners, mirror
    )
    log.info(
        "erasure.completed" if report.complete else "erasure.outputs_pending",
        log_id=rows.log_id,
        objects_deleted=len(report.object_keys),
        objects_failed=len(report.object_errors),
    )
    return report
