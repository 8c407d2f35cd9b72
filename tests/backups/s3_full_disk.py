"""An S3 server whose disk fills up: a small HTTP proxy in front of moto on 127.0.0.1.

moto has no quotas, so the proxy plays MinIO with a full drive: it forwards every
request to moto untouched (moto does not check signatures, so the client's own
``Host`` stays valid) until the object data written reaches ``capacity`` bytes.
From then on every write (PutObject, UploadPart, copies) is answered as MinIO
answers on a full drive: HTTP 507 with ``<Code>XMinioStorageFull</Code>``,
nothing forwarded. Reads, listings and deletes (AbortMultipartUpload included)
still go through, as they do on a full MinIO. ``requests`` records what came in.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STORAGE_FULL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>XMinioStorageFull</Code>'
    b"<Message>Storage backend has reached its minimum free drive threshold. "
    b"Please delete a few objects to proceed.</Message>"
    b"<Resource>%s</Resource><RequestId>full-disk-proxy</RequestId></Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body_bytes: int
    status: int

    @property
    def is_write(self) -> bool:
        # A PUT to an object (not to the bucket itself) stores data.
        return self.method == "PUT" and self.path.strip("/").count("/") >= 1


class FullDiskS3:
    """``with FullDiskS3(upstream, capacity=...) as proxy:``; ``proxy.endpoint`` is ``host:port``."""

    def __init__(self, upstream: str, *, capacity: int):
        self.upstream = upstream
        self.capacity = capacity
        self.written = 0
        self.full = False  # once a write was refused, every later one is too
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> FullDiskS3:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def refused(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.status == 507]

    def _admit(self, size: int) -> bool:
        with self._lock:
            if self.full or self.written + size > self.capacity:
                self.full = True
                return False
            self.written += size
            return True

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: one line per request otherwise
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                seen = SeenRequest(self.command, url.path, parse_qs(url.query), len(body), 0)
                if seen.is_write and not proxy._admit(len(body)):
                    payload = STORAGE_FULL % url.path.encode()
                    seen.status = 507
                    proxy.requests.append(seen)
                    self.send_response(507, "Insufficient Storage")
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    seen.status = response.status
                    proxy.requests.append(seen)
                    self.send_response(response.status, response.reason)
                    for name, value in response.getheaders():
                        if name.lower() not in _HOP_BY_HOP:
                            self.send_header(name, value)
                    if self.command == "HEAD":
                        self.send_header(
                            "Content-Length", response.getheader("Content-Length", "0")
                        )
                    else:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        return Handler
