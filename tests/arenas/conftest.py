"""A local replay server on 127.0.0.1 serving recorded-style responses to the collectors.

Routes are matched by method, path and (optionally) a subset of query parameters;
each route holds a queue of responses served in order, the last one repeating.
Every request is logged so tests can assert on what the collector sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import text

RESPONSES = Path(__file__).with_name("responses")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **headers})


def file_reply(name: str, status: int = 200, content_type: str | None = None, **headers) -> Reply:
    if content_type is None:
        content_type = "application/json" if name.endswith(".json") else "application/rss+xml"
    return Reply(status, (RESPONSES / name).read_bytes(), {"Content-Type": content_type, **headers})


def load_json(name: str) -> Any:
    return json.loads((RESPONSES / name).read_text(encoding="utf-8"))


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ReplayServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, str, dict[str, str], list[Reply]]] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                seen = Seen(self.command, unquote(parts.path), query, dict(self.headers), body)
                reply = server._reply(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.body and self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, *replies: Reply, method: str = "GET", **match: str) -> None:
        self.routes.append((method, path, match, list(replies)))

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def _reply(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            for method, path, match, queue in self.routes:
                if method != seen.method or path != seen.path:
                    continue
                if any(seen.query.get(k) != v for k, v in match.items()):
                    continue
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return json_reply({"error": "NotFound", "message": f"no route for {seen.path}"}, 404)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def used_just_now(engine, credential_id: str) -> None:
    """Mark a pooled credential as used a moment ago: the pool tries the others first (tests
    of key rotation put the spent key in front this way)."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE api_credentials SET last_used_at = now() WHERE id = :i"),
            {"i": credential_id},
        )


API_HOST_SETTINGS = ("BLUESKY_API_URL", "REDDIT_API_URL", "GDELT_API_URL", "YOUTUBE_API_URL")


@pytest.fixture
def replay(monkeypatch):
    """The replay server, configured the way an operator points the collectors at a host."""
    server = ReplayServer()
    for name in API_HOST_SETTINGS:
        monkeypatch.setenv(name, server.url)
    yield server
    server.close()


@pytest.fixture(autouse=True)
def fast_http(monkeypatch):
    """Small retry waits and no request spacing: the suite must stay fast."""
    monkeypatch.setenv("ARENA_HTTP_MAX_RETRIES", "3")
    monkeypatch.setenv("ARENA_HTTP_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("ARENA_HTTP_MAX_WAIT", "0.2")
    monkeypatch.setenv("ARENA_RATE_LIMIT_SCALE", "0")
