"""Research-analysis test harness: a design with hand-made records, their enrichments run
for real, and the research assets materialized in process against Postgres and a bucket.

Each test builds the few records its answers need (``DesignCorpus.add``) and asserts every
figure exactly; ``enrich`` runs the real enrichment service (URLs, tags, near-duplicates …)
over them, so an analysis reads the same tables it reads in production.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import psycopg
import pytest

from observatory_pipelines.db.engine import connect
from observatory_pipelines.enrichments.catalog import ENRICHMENTS
from observatory_pipelines.enrichments.service import enrich as run_enrichment

BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


@pytest.fixture()
def conn(db, database_url):
    with connect(database_url, autocommit=True) as connection:
        yield connection


@dataclass
class DesignCorpus:
    conn: psycopg.Connection
    design: str
    owner: str
    run: str
    records: list[uuid.UUID] = field(default_factory=list)

    def add(
        self,
        minutes: float = 0,
        *,
        platform: str = "bluesky",
        arena: str = "social_media",
        author: str | None = "author_a",
        text: str | None = None,
        terms: list[str] | None = None,
        published_at: datetime | None = None,
        design: str | None = None,
        **fields: Any,
    ) -> uuid.UUID:
        """One record published ``minutes`` after BASE (or at ``published_at``), linked to
        the design (or ``design``) with ``terms`` matched; its id. ``author`` is the
        pseudonym (None: no author). Other columns of content_records by keyword."""
        record_id = fields.pop("id", uuid.uuid4())
        published = published_at or BASE + timedelta(minutes=minutes)
        row = {
            "id": record_id,
            "published_at": published,
            "platform": platform,
            "arena": arena,
            "platform_id": f"{platform}-{record_id}",
            "content_type": "post",
            "collection_tier": "free",
            "text_content": text,
            "pseudonymized_author_id": author,
            "author_display_name": author and f"Name of {author}",
            "collection_run_id": self.run,
            "query_design_id": design or self.design,
            "search_terms_matched": terms or [],
            "raw_metadata": {},
            **fields,
        }
        row["raw_metadata"] = json.dumps(row["raw_metadata"])
        columns = ", ".join(row)
        placeholders = ", ".join(f"%({c})s" for c in row)
        self.conn.execute(f"INSERT INTO content_records ({columns}) VALUES ({placeholders})", row)
        self.link(record_id, published, design=design, terms=terms)
        self.records.append(record_id)
        return record_id

    def link(self, record_id, published_at, *, design=None, terms=None) -> None:
        """``record_id`` also collected by ``design`` (attribution, as collection writes it)."""
        self.conn.execute(
            "INSERT INTO content_record_collections (query_design_id, content_record_id, "
            "published_at, first_collection_run_id, collection_run_ids, search_terms_matched) "
            "VALUES (%s, %s, %s, %s, ARRAY[%s]::uuid[], %s) ON CONFLICT DO NOTHING",
            [design or self.design, record_id, published_at, self.run, self.run, terms or []],
        )

    def new_design(self, name: str = "Another design") -> str:
        design = str(uuid.uuid4())
        self.conn.execute(
            "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, %s)",
            [design, self.owner, name],
        )
        return design


@pytest.fixture()
def corpus(conn) -> DesignCorpus:
    owner, design, run = (str(uuid.uuid4()) for _ in range(3))
    conn.execute("INSERT INTO users (id, email) VALUES (%s, 'researcher@example.org')", [owner])
    conn.execute(
        "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, 'Klima')", [design, owner]
    )
    conn.execute(
        "INSERT INTO collection_runs (id, query_design_id, initiated_by, status) "
        "VALUES (%s, %s, %s, 'completed')",
        [run, design, owner],
    )
    return DesignCorpus(conn=conn, design=design, owner=owner, run=run)


def enrich(database_url: str, *names: str) -> None:
    """Run the named enrichments (all when none named) over every record, for real."""
    for enrichment in ENRICHMENTS:
        if not names or enrichment.name in names:
            run_enrichment(database_url, enrichment)


def materialize_research(
    names: list[str], design: str, postgres, object_store_resource, instance=None, **scope
) -> dg.ExecuteInProcessResult:
    """The named research assets of ``design``, in process; ``scope`` = analysis_scope config."""
    from observatory_pipelines.analysis.assets import AnalysisScopeResource
    from observatory_pipelines.research import assets

    selected = [a for a in assets.research_assets if a.key.path[-1] in names]
    missing = set(names) - {a.key.path[-1] for a in selected}
    assert not missing, f"no research asset named {sorted(missing)}"
    instance = instance or dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("query_designs", [design])
    return dg.materialize(
        selected,
        partition_key=design,
        instance=instance,
        resources={
            "postgres": postgres,
            "object_store": object_store_resource,
            "analysis_scope": AnalysisScopeResource(**scope),
        },
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}
