"""Where the database is, how to reach it, and how to bring its schema to head."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from observatory_pipelines import settings
from observatory_pipelines.db import urls

# Every session the project opens runs in UTC: a day bucket, an exported timestamp or a
# timestamptz written without an offset must never depend on the server's or the database's
# own TimeZone. Set at connection start-up (libpq ``options``), so no transaction rollback
# or pool reset can undo it; appended after any options the URL already carries.
UTC_SESSION_OPTION = "-c TimeZone=UTC"


def _utc_options(existing: str | None) -> str:
    return f"{existing} {UTC_SESSION_OPTION}" if existing else UTC_SESSION_OPTION


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A psycopg connection to ``url`` (any accepted spelling) whose session runs in UTC."""
    libpq = urls.libpq_url(url)
    options = _utc_options(conninfo_to_dict(libpq).get("options"))
    return psycopg.connect(libpq, options=options, **kwargs)


def create_utc_engine(url: str, **kwargs) -> Engine:
    """A SQLAlchemy engine (psycopg 3) to ``url`` whose every connection runs in UTC."""
    resolved = urls.sqlalchemy_url(url)
    options = _utc_options(make_url(resolved).query.get("options"))
    return create_engine(resolved, connect_args={"options": options}, **kwargs)


# A new connection refused while the server restarts (a failover, `docker compose restart
# postgres`, a minor upgrade) is tried again for about 7 s before the error reaches the
# caller; a server that stays away still fails the step, and run retries take it from there.
CONNECT_ATTEMPTS = 5
CONNECT_BACKOFF_SECONDS = 0.5


def _connect_with_retry(dialect, _connection_record, cargs, cparams):
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            return dialect.connect(*cargs, **cparams)
        except psycopg.OperationalError:
            if attempt == CONNECT_ATTEMPTS:
                raise
            time.sleep(CONNECT_BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class DatabaseUnreachable(RuntimeError):
    """One line naming the host and what was tried; never the password."""


def resolve_database_url(explicit: str | None = None) -> str:
    """``DATABASE_URL`` (any spelling) as a SQLAlchemy URL, else the embedded server.

    A configured URL that does not answer is an error, never a silent fallback.
    """
    raw = explicit or settings.database_url()
    if raw:
        return urls.sqlalchemy_url(raw)
    from observatory_pipelines.db.embedded import EmbeddedPostgres

    return EmbeddedPostgres().ensure_running()


def check_reachable(url: str, timeout: int = 5) -> None:
    try:
        with connect(url, connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        reason = lines[0] if lines else type(exc).__name__
        raise DatabaseUnreachable(
            f"cannot reach PostgreSQL at {urls.describe(url)} "
            f"(tried a psycopg connection with a {timeout}s timeout): {reason}"
        ) from None


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    """The pooled engine of long-lived processes (code server: sensors; run workers).

    ``pool_pre_ping``: a pooled connection the server dropped (it restarted) is replaced
    before use instead of failing the next query; ``pool_recycle``: none is older than
    30 minutes, so an idle-connection timeout in between never bites either.
    """
    engine = create_utc_engine(
        url, pool_pre_ping=True, pool_recycle=1800, pool_size=5, max_overflow=10
    )
    event.listen(engine, "do_connect", _connect_with_retry)
    return engine


def get_engine(url: str | None = None) -> Engine:
    return _engine_for(resolve_database_url(url))


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for services: commits on success, rolls back on error."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(settings.project_root() / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", urls.sqlalchemy_url(url).replace("%", "%%"))
    return config


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrade to ``revision``; a database already there is left untouched."""
    from alembic import command

    resolved = resolve_database_url(url)
    check_reachable(resolved)
    command.upgrade(alembic_config(resolved), revision)
