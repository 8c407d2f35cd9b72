"""Dagster edge of the per-record enrichments: one asset and one check per enrichment.

The assets are not partitioned: an enrichment belongs to a record, whichever designs
collected it, and each run enriches only the records without a result of the current
version. ``code_version`` is the enrichment's method version, so the UI shows which
version a materialization computed and when code or parameters changed since.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from observatory_pipelines.analysis.plots import markdown_image
from observatory_pipelines.enrichments.catalog import ENRICHMENTS
from observatory_pipelines.enrichments.framework import Enrichment
from observatory_pipelines.enrichments.service import check_coverage, enrich
from observatory_pipelines.resources.postgres import PostgresResource

# Declared by key: the collection edge defines the asset, and edges never import each other.
COLLECTED_CONTENT = dg.AssetKey("collected_content")
GROUP = "enrichments"
# A new collection of any design requests the enrichment. Not ``eager()``: that also waits
# for every partition of the parent to exist, and a design never collected would then
# hold every enrichment back for good.
AFTER_ANY_COLLECTION = (
    dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
).since_last_handled() & ~dg.AutomationCondition.in_progress()


def _shown(name: str, value: Any) -> dg.MetadataValue:
    """A report entry as metadata: PNG bytes as an inline picture, anything else as JSON."""
    if isinstance(value, bytes):
        return dg.MetadataValue.md(markdown_image(value, name.replace("_", " ")))
    return dg.MetadataValue.json(value)


def _asset(enrichment: Enrichment) -> dg.AssetsDefinition:
    @dg.asset(
        name=enrichment.name,
        group_name=GROUP,
        deps=[COLLECTED_CONTENT],
        # code and parameters; a data-dependent part (the actor gazetteer) is added at run time
        code_version=enrichment.method_version,
        description=enrichment.description,
        kinds={"postgres", "python"},
        automation_condition=AFTER_ANY_COLLECTION,
    )
    def _enrichment_asset(postgres: PostgresResource) -> dg.MaterializeResult:
        result = enrich(postgres.url(), enrichment)
        return dg.MaterializeResult(
            metadata={
                "method_version": dg.MetadataValue.text(result["method_version"]),
                "recomputed_all": dg.MetadataValue.bool(result["recomputed_all"]),
                "records_enriched_now": dg.MetadataValue.int(result["records_enriched_now"]),
                "records": dg.MetadataValue.int(result["records"]),
                "records_enriched": dg.MetadataValue.int(result["enriched"]),
                "rows_written": dg.MetadataValue.json(result["rows_written"]),
                "rows_pruned": dg.MetadataValue.int(result["rows_pruned"]),
                "seconds": dg.MetadataValue.float(result["seconds"]),
                **{name: _shown(name, value) for name, value in result["report"].items()},
            }
        )

    return _enrichment_asset


def _check(enrichment: Enrichment) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=enrichment.name,
        name=f"{enrichment.name}_complete",
        description="Every record has a result of the current method version.",
    )
    def _complete(postgres: PostgresResource) -> dg.AssetCheckResult:
        found = check_coverage(postgres.url(), enrichment)
        return dg.AssetCheckResult(
            passed=found["missing"] == 0 and found["stored_version"] == found["current_version"],
            description=f"{found['missing']} of {found['records']} records without a result "
            f"of version {found['current_version']}",
            metadata={name: dg.MetadataValue.text(str(value)) for name, value in found.items()},
        )

    return _complete


enrichment_assets = [_asset(e) for e in ENRICHMENTS]
enrichment_checks = [_check(e) for e in ENRICHMENTS]

defs = dg.Definitions(assets=enrichment_assets, asset_checks=enrichment_checks)
