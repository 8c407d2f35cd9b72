"""Dagster's Postgres storage, with the webserver's pooled connections checked before use.

dagster-postgres (0.29.27) opens a fresh connection per operation everywhere (NullPool)
except in ``dagster-webserver``, whose ``optimize_for_webserver`` swaps each storage's engine
for a pooled one — without ``pool_pre_ping``, and with no option to ask for it. After
PostgreSQL restarts, every pooled connection is dead; the first query on each of the three
storages fails, so the first ``launchRun`` calls answer HTTP 500 and one of them can leave a
run created but never started (issue 15).

These subclasses add SQLAlchemy's pessimistic disconnect handling to that pool: every
checkout runs ``SELECT 1`` first, and a connection that fails it is discarded and replaced
(``DisconnectionError`` makes the pool retry with a new connection). Everything else —
schema, migrations (``dagster instance migrate``), configuration — is dagster-postgres's own.
``deploy/dagster.yaml`` names them as ``run_storage``, ``event_log_storage`` and
``schedule_storage``.
"""

from __future__ import annotations

from typing import Any

from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy import Engine, event, exc


def _ping_on_checkout(
    dbapi_connection: Any, _connection_record: Any, _connection_proxy: Any
) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as error:  # the server closed it: let the pool open a new one
        raise exc.DisconnectionError(f"stale pooled connection: {error}") from error
    finally:
        try:
            cursor.close()
        except Exception:  # noqa: S110 - a dead connection's cursor may refuse to close
            pass


def ping_before_use(engine: Engine) -> Engine:
    """Check each pooled connection of ``engine`` on checkout (idempotent)."""
    if not event.contains(engine, "checkout", _ping_on_checkout):
        event.listen(engine, "checkout", _ping_on_checkout)
    return engine


def _from_config(cls, inst_data, config_value):
    return cls(
        inst_data=inst_data,
        postgres_url=pg_url_from_config(config_value),
        should_autocreate_tables=config_value.get("should_autocreate_tables", True),
        token_provider=get_token_provider_from_config(config_value),
    )


class PrePingPostgresRunStorage(PostgresRunStorage):
    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return _from_config(cls, inst_data, config_value)

    def optimize_for_webserver(self, statement_timeout, pool_recycle, max_overflow) -> None:
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)
        ping_before_use(self._engine)


class PrePingPostgresEventLogStorage(PostgresEventLogStorage):
    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return _from_config(cls, inst_data, config_value)

    def optimize_for_webserver(self, statement_timeout, pool_recycle, max_overflow) -> None:
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)
        ping_before_use(self._engine)


class PrePingPostgresScheduleStorage(PostgresScheduleStorage):
    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return _from_config(cls, inst_data, config_value)

    def optimize_for_webserver(self, statement_timeout, pool_recycle, max_overflow) -> None:
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)
        ping_before_use(self._engine)
