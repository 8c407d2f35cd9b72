"""Read-only facts about the database: schema revision, tables and their row counts."""

from __future__ import annotations

from sqlalchemy import Engine, text

# Partitions are counted through their parent; alembic's own table is bookkeeping.
_TABLES_SQL = text(
    """
    SELECT c.relname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND c.relname <> 'alembic_version'
    ORDER BY c.relname
    """
)


def application_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(_TABLES_SQL).scalars())


def table_row_counts(engine: Engine) -> dict[str, int]:
    """Exact ``count(*)`` per application table (partitioned tables as one)."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in conn.execute(_TABLES_SQL).scalars():
            counts[table] = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    return counts


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('alembic_version')")).scalar()
        if exists is None:
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def server_version(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW server_version")).scalar_one()
