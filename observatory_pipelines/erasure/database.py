"""The erasure's one transaction: the person's records, links and actor rows, and the log row.

Everything the database holds of the person goes in one transaction, or nothing does:

- ``content_records``: every record whose ``author_id`` is the actor or whose pseudonym is
  one of the person's, deleted through the parent table (every monthly partition and the
  default), and the same in partitions that retention detached;
- ``content_record_collections``: every design's link to those records (no foreign key
  cascades them: see migration 008);
- ``actor_list_members``, ``actor_aliases``, ``actor_platform_presences``, ``actors``: the
  actor and everything naming it;
- ``erasure_log``: one row saying what went (counts, designs), no personal data.

A dry run does all of it and rolls back, so its counts are the real ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from observatory_pipelines.erasure.person import ErasureRequest, Person, UnknownPerson, resolve

SQL_DIR = Path(__file__).with_name("sql")

# Rows naming the actor, deleted explicitly (not by cascade) so that each is counted.
_ACTOR_TABLES = (
    ("actor_list_members", "DELETE FROM actor_list_members WHERE actor_id = CAST(:a AS uuid)"),
    ("actor_aliases", "DELETE FROM actor_aliases WHERE actor_id = CAST(:a AS uuid)"),
    (
        "actor_platform_presences",
        "DELETE FROM actor_platform_presences WHERE actor_id = CAST(:a AS uuid)",
    ),
    ("actors", "DELETE FROM actors WHERE id = CAST(:a AS uuid)"),
)


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class DatabaseErasure:
    """What the transaction deleted; ``log_id`` is None for a dry run."""

    rows_deleted: dict[str, int]
    rows_by_partition: dict[str, int]
    design_owners: dict[str, str]  # affected design id → its owner's user id
    resolved_to_actor: bool
    log_id: int | None = None

    @property
    def affected_designs(self) -> list[str]:
        return sorted(self.design_owners)


def _delete_records(conn: Connection, person: Person) -> dict[str, int]:
    params = {"actor_id": person.actor_id, "pseudonyms": list(person.pseudonyms)}
    conn.execute(text(load_sql("erased_create.sql")))
    conn.execute(text(load_sql("delete_records.sql")), params)
    for table in conn.execute(text(load_sql("detached_tables.sql"))).scalars():
        statement = load_sql("delete_detached.sql").format(table=quote_ident(table))
        conn.execute(text(statement), {**params, "table_name": table})
    # The planner needs the erased set's size to probe the links' key rather than scan them.
    conn.execute(text("ANALYZE erased_records"))
    counts = conn.execute(
        text("SELECT partition, count(*) FROM erased_records GROUP BY partition")
    ).all()
    return {partition: int(n) for partition, n in sorted(counts)}


def _delete_actor(conn: Connection, actor_id: str) -> dict[str, int]:
    return {
        table: conn.execute(text(statement), {"a": actor_id}).rowcount
        for table, statement in _ACTOR_TABLES
    }


def _erase_in(conn: Connection, request: ErasureRequest, key: bytes | None) -> DatabaseErasure:
    person = resolve(conn, request, key)
    by_partition = _delete_records(conn, person)
    links = {design: int(n) for design, n in conn.execute(text(load_sql("delete_links.sql"))).all()}
    actor_rows = _delete_actor(conn, person.actor_id) if person.actor_id else {}
    rows = {
        "content_records": sum(by_partition.values()),
        "content_record_collections": sum(links.values()),
        **{table: actor_rows.get(table, 0) for table, _ in _ACTOR_TABLES},
    }
    if not any(rows.values()):
        raise UnknownPerson(
            f"no records or actor for {request.describe()}; nothing was changed",
            f"no records or actor for {request.describe_safely()}; nothing was changed",
        )
    owners = dict(
        conn.execute(text(load_sql("affected_designs.sql")), {"linked": sorted(links)}).all()
    )
    return DatabaseErasure(
        rows_deleted=rows,
        rows_by_partition=by_partition,
        design_owners=owners,
        resolved_to_actor=rows["actors"] > 0,
    )


def erase_rows(
    engine: Engine, request: ErasureRequest, *, dry_run: bool, key: bytes | None = None
) -> DatabaseErasure:
    """Delete the person's rows and write the log row in one transaction (rolled back when
    ``dry_run``). ``UnknownPerson`` when nothing matched: nothing changed."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            result = _erase_in(conn, request, key)
            if dry_run:
                transaction.rollback()
                return result
            log_id = conn.execute(
                text(load_sql("insert_log.sql")),
                {
                    "requested_by": request.requested_by,
                    "reference": request.reference,
                    "identified_by": request.identified_by,
                    "rows_deleted": json.dumps(result.rows_deleted, sort_keys=True),
                    "rows_by_partition": json.dumps(result.rows_by_partition, sort_keys=True),
                    "designs": result.affected_designs,
                },
            ).scalar_one()
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    result.log_id = log_id
    return result


def design_owners(engine: Engine, designs: list[str]) -> dict[str, str]:
    """Owner of each design that still exists (a pending erasure's outputs are found by it)."""
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT id::text, owner_id::text FROM query_designs "
                    "WHERE id = ANY (CAST(:ids AS uuid[]))"
                ),
                {"ids": designs},
            ).all()
        )


def log_entries(
    engine: Engine,
    *,
    status: str | None = None,
    since: datetime | None = None,
    log_id: int | None = None,
) -> Iterator[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(load_sql("log_entries.sql")), {"status": status, "since": since, "log_id": log_id}
        ).mappings()
        for row in rows.all():
            yield dict(row)


def mark_outputs_deleted(engine: Engine, log_id: int, keys: list[str]) -> datetime:
    with engine.begin() as conn:
        return conn.execute(
            text(load_sql("complete_log.sql")), {"log_id": log_id, "keys": keys}
        ).scalar_one()


def mark_outputs_failed(engine: Engine, log_id: int, keys: list[str], error: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(load_sql("outputs_failed.sql")), {"log_id": log_id, "keys": keys, "error": error}
        )
