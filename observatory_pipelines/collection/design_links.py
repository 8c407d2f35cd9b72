"""The links a design's collected records hold, handed to a collector that crawls them.

A collector opts in with ``uses_design_links = True`` (domain_crawler). Before it collects,
``load_design_links`` gives it ``design_links``: one ``{"url", "platform", "platform_id"}``
per distinct page (by ``url_key``) that the design's records of the task's window link to,
at most ``MAX_LINKS``, without the pages already stored by that collector (a page's id is
sha256 of its ``url_key``, as ingest derives it), and ``design_links_known``: how many were
left out for that reason. The collector never touches the database itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines.arenas.base import Collector
from observatory_pipelines.collection.url_normalize import url_key

MAX_LINKS = 5000
_SQL = (Path(__file__).parent / "sql" / "design_links.sql").read_text()
_KNOWN = (
    "SELECT platform_id FROM content_records WHERE platform = :platform AND platform_id = ANY(:ids)"
)


def page_id(url: str) -> str | None:
    """The id ingest gives a page record without one: sha256 of the URL's key."""
    key = url_key(url)
    return hashlib.sha256(key.encode()).hexdigest() if key else None


def load_design_links(engine: Engine, collector: Collector, spec: Any) -> None:
    if not getattr(collector, "uses_design_links", False):
        return
    links: dict[str, dict[str, Any]] = {}
    if spec.query_design_id is not None:
        params = {
            "design_id": str(spec.query_design_id),
            "date_from": spec.date_from,
            "date_to": spec.date_to,
            "limit": MAX_LINKS,
        }
        with engine.connect() as conn:
            for row in conn.execute(text(_SQL), params):
                pid = page_id(row.url)
                if pid is not None and pid not in links:
                    links[pid] = {
                        "url": row.url,
                        "platform": row.platform,
                        "platform_id": row.platform_id,
                    }
            known = set()
            if links:
                known = set(
                    conn.execute(
                        text(_KNOWN), {"platform": collector.platform, "ids": list(links)}
                    ).scalars()
                )
    else:
        known = set()
    collector.design_links = [link for pid, link in links.items() if pid not in known]
    collector.design_links_known = len(known)
