"""Collection test harness: a JSON server on 127.0.0.1, fake collectors that call it, seed helpers.

The fakes are real HTTP clients of a real local server, registered in the arena
registry like any collector, so runs, credentials, credits and ingest are
exercised end to end without the internet.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas import registry
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    NormalizedRecord,
    Page,
)

PSEUDO_KEY = "test-pseudonymization-key"
FERNET_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", PSEUDO_KEY)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", FERNET_KEY)


class JsonServer:
    """``pages[name]`` is a list of (status, body) served for GET /<name>?page=N (N from 0)."""

    def __init__(self) -> None:
        self.pages: dict[str, list[tuple[int, Any]]] = {}
        self.auth_seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                name = parts.path.strip("/")
                page = int(parse_qs(parts.query).get("page", ["0"])[0])
                server.auth_seen.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") == "Bearer spent-key":
                    status, body = 403, {"error": "quotaExceeded"}
                elif name not in server.pages or page >= len(server.pages[name]):
                    status, body = 404, {"error": f"no page {page} of {name}"}
                else:
                    status, body = server.pages[name][page]
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def feed(self, name: str, pages: list[list[dict]] | list[tuple[int, Any]]) -> str:
        """Serve ``pages`` (lists of items, or raw (status, body)) under /<name>; returns its URL."""
        served = []
        for index, page in enumerate(pages):
            if isinstance(page, tuple):
                served.append(page)
            else:
                more = index + 1 < len(pages)
                served.append((200, {"items": page, "next": index + 1 if more else None}))
        self.pages[name] = served
        return f"{self.url}/{name}"


@pytest.fixture(scope="session")
def json_server() -> Iterator[JsonServer]:
    server = JsonServer()
    yield server
    server.httpd.shutdown()


def _parse_date(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class _FakeBase(Collector):
    """GETs ``<api_url>/<feed>?page=N`` until ``next`` is null; 100 quota units per request.

    ``api_url`` is the operator's setting (the json server); a design only names the feed.
    """

    units_per_request = 100
    design_options = frozenset({"feed", "estimated_units"})
    api_url = ""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.units_spent = 0

    def estimate_units(self, request: CollectionRequest) -> int:
        return int(request.options.get("estimated_units", 300))

    def _headers(self) -> dict[str, str]:
        return {}

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        page: int | None = 0
        with httpx.Client(timeout=10) as client:
            while page is not None:
                response = client.get(
                    f"{self.api_url}/{request.options['feed']}",
                    params={"page": page},
                    headers=self._headers(),
                )
                self.units_spent += self.units_per_request
                self.rate_limit_state = {"requests": self.rate_limit_state.get("requests", 0) + 1}
                if response.status_code == 403 and "quotaExceeded" in response.text:
                    raise ArenaQuotaExceeded(f"quota exceeded for {self.platform}")
                if response.status_code in (401, 403):
                    raise ArenaAuthError(
                        f"{self.platform} refused the credential ({response.status_code})"
                    )
                if response.status_code >= 400:
                    raise ArenaError(
                        f"{self.platform} answered HTTP {response.status_code} on page {page}"
                    )
                try:
                    body = response.json()
                except ValueError:
                    raise ArenaError(
                        f"{self.platform} sent malformed JSON on page {page}"
                    ) from None
                records, rejected = [], 0
                for item in body.get("items", []):
                    if not isinstance(item, dict):
                        rejected += 1
                        continue
                    records.append(self.to_record(item))
                yield Page(records=records, rejected=rejected)
                page = body.get("next")

    def to_record(self, item: dict) -> NormalizedRecord:
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type=item.get("type", "post"),
            platform_id=item.get("id"),
            published_at=_parse_date(item.get("published")),
            url=item.get("url"),
            title=item.get("title"),
            text_content=item.get("text"),
            language=item.get("lang", "da"),
            author_platform_id=item.get("author"),
            author_display_name=item.get("author_name"),
            likes_count=item.get("likes"),
            raw_metadata={"item": item},
            media_urls=item.get("media", []),
            hash_source=item.get("text") or item.get("title"),
        )


class FakeNews(_FakeBase):
    platform = "fake_news"
    arena = "news_media"
    supported_tiers = ("free", "medium", "premium")


class FakeSocial(_FakeBase):
    platform = "fake_social"
    arena = "social_media"
    needs_credentials = True
    supported_tiers = ("free", "medium", "premium")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials['api_key']}"}


@pytest.fixture(scope="module", autouse=True)
def fake_collectors(json_server):
    _FakeBase.api_url = json_server.url
    registry.register(FakeNews)
    registry.register(FakeSocial)
    yield {"fake_news": FakeNews, "fake_social": FakeSocial}
    # Other test folders in the same session must see only the real arenas.
    for cls in (FakeNews, FakeSocial):
        registry._collectors.pop(cls.platform, None)


# -- seed data -------------------------------------------------------------------------------


def make_user(engine, credits: int = 0) -> str:
    with engine.begin() as conn:
        user = conn.execute(
            text("INSERT INTO users (email, is_active) VALUES (:e, true) RETURNING id"),
            {"e": f"{uuid.uuid4().hex[:8]}@example.org"},
        ).scalar_one()
        if credits:
            conn.execute(
                text(
                    "INSERT INTO credit_allocations (user_id, credits_amount, valid_from)"
                    " VALUES (:u, :c, :d)"
                ),
                {"u": user, "c": credits, "d": date.today() - timedelta(days=1)},
            )
    return str(user)


def make_design(
    engine,
    owner: str,
    arenas_config: dict,
    terms: list[tuple[str, str]] = (),
    name: str = "design",
    created_at: datetime | None = None,
) -> str:
    with engine.begin() as conn:
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config, created_at)"
                " VALUES (:o, :n, CAST(:c AS jsonb), COALESCE(:t, now())) RETURNING id"
            ),
            {"o": owner, "n": name, "c": json.dumps(arenas_config), "t": created_at},
        ).scalar_one()
        for term, kind in terms:
            conn.execute(
                text(
                    "INSERT INTO search_terms (query_design_id, term, term_type) VALUES (:d, :t, :k)"
                ),
                {"d": design, "t": term, "k": kind},
            )
    return str(design)


def item(n: int, **over) -> dict:
    base = {
        "id": f"p{n}",
        "published": datetime(2026, 3, 2, 12, tzinfo=UTC).isoformat(),
        "url": f"https://www.example.dk/nyheder/{n}?utm_source=feed&fbclid=zz",
        "title": f"Overskrift {n}",
        "text": f"Tekst nummer {n} om grønlandspolitik og #klima",
        "author": f"user{n % 3}",
        "author_name": f"Bruger {n % 3}",
        "likes": n,
    }
    base.update(over)
    return base


@pytest.fixture()
def log_lines():
    """Every log line the project writes while the test runs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("observatory")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def materialize_collection(
    design: str, postgres, object_store_resource, date_from: str, date_to: str
) -> dict[str, Any]:
    """``collected_content`` of one design partition, in process on a fresh test instance:
    the materialization's metadata (the run must succeed)."""
    import dagster as dg

    from observatory_pipelines.collection.assets import collected_content
    from observatory_pipelines.resources.partitions import query_designs_partitions

    window = {"date_from": date_from, "date_to": date_to}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(query_designs_partitions.name, [design])
        result = dg.materialize(
            [collected_content], partition_key=design, instance=instance,
            resources={"postgres": postgres, "object_store": object_store_resource},
            run_config={"ops": {"collected_content": {"config": window}}},
        )  # fmt: skip
    assert result.success
    (materialization,) = result.asset_materializations_for_node("collected_content")
    return {k: v.value for k, v in materialization.metadata.items()}


def rows(engine, sql: str, **params) -> list:
    """The rows of ``sql`` (bound ``params``) as mappings, on a fresh connection."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().all()


def task_of(engine, run_id, platform: str):
    """The collection task of ``platform`` in run ``run_id``: status, errors, state."""
    return rows(
        engine,
        "SELECT status, error_message, skipped_sources, rate_limit_state, credential_id"
        " FROM collection_tasks WHERE collection_run_id = :r AND platform = :p",
        r=run_id,
        p=platform,
    )[0]
