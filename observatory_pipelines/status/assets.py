"""A first look at the database from the UI: schema revision and rows per table."""

import dagster as dg

from observatory_pipelines.db.introspect import schema_revision, server_version, table_row_counts
from observatory_pipelines.resources.postgres import PostgresResource


@dg.asset(group_name="status", description="Schema revision, server version and rows per table.")
def database_status(context: dg.AssetExecutionContext, postgres: PostgresResource) -> None:
    engine = postgres.engine()
    counts = table_row_counts(engine)
    revision = schema_revision(engine)
    context.log.info(f"schema at {revision}; {sum(counts.values())} rows in {len(counts)} tables")
    context.add_output_metadata(
        {
            "schema_revision": revision or "unmigrated",
            "server_version": server_version(engine),
            "total_rows": sum(counts.values()),
            "row_counts": dg.TableMetadataValue(
                records=[dg.TableRecord({"table": t, "rows": n}) for t, n in counts.items()],
                schema=dg.TableSchema(
                    columns=[
                        dg.TableColumn("table", "string"),
                        dg.TableColumn("rows", "int"),
                    ]
                ),
            ),
        }
    )


defs = dg.Definitions(assets=[database_status])
