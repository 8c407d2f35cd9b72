"""The one Definitions object: resources, and each domain's assets, jobs, schedules, sensors."""

import dagster as dg

from observatory_pipelines.analysis import assets as analysis
from observatory_pipelines.backups import assets as backups
from observatory_pipelines.collection import assets as collection
from observatory_pipelines.credits import assets as credits
from observatory_pipelines.logs import configure_logging
from observatory_pipelines.partitions import assets as partitions
from observatory_pipelines.resources.env import optional_env
from observatory_pipelines.resources.io_manager import ObjectStoreIOManager
from observatory_pipelines.resources.object_store import dagster_object_store
from observatory_pipelines.resources.postgres import PostgresResource
from observatory_pipelines.status import assets as status

configure_logging()

object_store = dagster_object_store()

resources = {
    "postgres": PostgresResource(database_url=optional_env("DATABASE_URL")),
    "object_store": object_store,
    "io_manager": ObjectStoreIOManager(object_store=object_store),
}

defs = dg.Definitions.merge(
    dg.Definitions(resources=resources),
    status.defs,
    credits.defs,
    collection.defs,
    partitions.defs,
    backups.defs,
    analysis.defs,
)
