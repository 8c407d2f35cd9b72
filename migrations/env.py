"""Alembic environment: one URL source for the app, Alembic and the backup tools."""

from alembic import context
from sqlalchemy import pool

from observatory_pipelines.db.engine import create_utc_engine, resolve_database_url
from observatory_pipelines.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or resolve_database_url()
    engine = create_utc_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: content_records DDL needs a database")
run_migrations_online()
