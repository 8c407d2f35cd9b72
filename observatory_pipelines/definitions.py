"""The one Definitions object: resources, and each domain's assets, jobs, schedules, sensors."""

import dagster as dg

from observatory_pipelines.analysis import assets as analysis
from observatory_pipelines.backups import assets as backups
from observatory_pipelines.collection import assets as collection
from observatory_pipelines.credits import assets as credits
from observatory_pipelines.demo import assets as demo
from observatory_pipelines.designs import assets as designs
from observatory_pipelines.enrichments import assets as enrichments
from observatory_pipelines.erasure import assets as erasure
from observatory_pipelines.logs import configure_logging
from observatory_pipelines.partitions import assets as partitions
from observatory_pipelines.research import assets as research
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

# Dagster's implicit automation sensor starts STOPPED (someone would have to switch it on in
# the UI before any eager asset refreshes); this one is defined here, running by default, and
# evaluates every asset that carries an automation condition (today: the analysis group,
# re-analysing a design after each collection of it).
automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the automation conditions of every asset (eager analyses after a "
    "collection); running by default.",
)

defs = dg.Definitions.merge(
    dg.Definitions(resources=resources, sensors=[automation_sensor]),
    status.defs,
    credits.defs,
    collection.defs,
    designs.defs,
    erasure.defs,
    partitions.defs,
    backups.defs,
    analysis.defs,
    enrichments.defs,
    research.defs,
    demo.defs,
)
