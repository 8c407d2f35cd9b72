"""The one Postgres resource every asset, job, sensor and check uses."""

from __future__ import annotations

import dagster as dg
from sqlalchemy import Engine

from observatory_pipelines.db.engine import get_engine, resolve_database_url


class PostgresResource(dg.ConfigurableResource):
    """``database_url`` from ``DATABASE_URL`` in any spelling; unset means the embedded server."""

    database_url: str | None = None

    def url(self) -> str:
        return resolve_database_url(self.database_url)

    def engine(self) -> Engine:
        return get_engine(self.database_url)
