"""One DATABASE_URL, every common spelling, two dialects out.

The application and Alembic need a SQLAlchemy URL for psycopg 3; pg_dump and
psql need a plain libpq URL. Both are derived from whatever the operator wrote.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_ACCEPTED_SCHEMES = {
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+asyncpg",
    "postgresql+pg8000",
}

# asyncpg spells the libpq ``sslmode`` as ``ssl``.
_ASYNCPG_QUERY_RENAMES = {"ssl": "sslmode"}


class DatabaseUrlError(ValueError):
    pass


def parse_database_url(raw: str) -> URL:
    """Parse any accepted spelling into a ``postgresql+psycopg`` SQLAlchemy URL."""
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in _ACCEPTED_SCHEMES:
        raise DatabaseUrlError(
            f"DATABASE_URL must start with one of {sorted(_ACCEPTED_SCHEMES)}, got {scheme or raw[:20]!r}"
        )
    url = make_url("postgresql" + raw[len(scheme) :])
    query = dict(url.query)
    if scheme == "postgresql+asyncpg":
        query = {_ASYNCPG_QUERY_RENAMES.get(k, k): v for k, v in query.items()}
    return url.set(drivername="postgresql+psycopg", query=query)


def sqlalchemy_url(raw: str) -> str:
    return parse_database_url(raw).render_as_string(hide_password=False)


def libpq_url(raw: str) -> str:
    """A URL for pg_dump/psql/psycopg.connect: no driver suffix."""
    return (
        parse_database_url(raw).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def describe(raw: str) -> str:
    """Host, port and database for messages: never the password."""
    url = parse_database_url(raw)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def with_database(raw: str, database: str) -> str:
    return parse_database_url(raw).set(database=database).render_as_string(hide_password=False)
