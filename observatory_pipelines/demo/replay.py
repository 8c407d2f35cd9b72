"""A local replay of recorded RSS feeds: the offline demo's news arena, on 127.0.0.1.

Serves every ``<key>.xml`` of a folder (``demo.files.write_feeds``) at ``/feeds/<key>.xml``
as a feed server does: ``application/rss+xml``, an ``ETag`` and ``Last-Modified``, and
``304 Not Modified`` to a conditional GET that still matches, so the collector's HTTP cache
is exercised too. ``/health`` answers ``observatory-demo-replay`` (how ``start`` recognises
a server of its own already on the port).

Host and port are the operator's (``DEMO_REPLAY_HOST``, ``DEMO_REPLAY_PORT``); the demo
design's custom feed URLs are built from them when it is seeded. ``make run`` starts it
through ``setup_local`` (``start``: a child process, its pid in ``<DEMO_DIR>/replay.pid``,
its log in ``replay.log``) and stops it with ``python -m observatory_pipelines.demo.replay
stop``. Tests run ``ReplayServer`` in a thread on a free port.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from observatory_pipelines import settings
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

HEALTH_BODY = b"observatory-demo-replay\n"
START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0


class ReplayServer:
    """The feeds of ``folder`` over HTTP; ``requests`` lists every path asked for."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0):
        self.folder = Path(folder)
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                if self.path == "/health":
                    return self._send(200, HEALTH_BODY, "text/plain")
                name = self.path.removeprefix("/feeds/")
                path = server.folder / name
                if (
                    name == self.path
                    or "/" in name
                    or not name.endswith(".xml")
                    or not path.is_file()
                ):
                    return self._send(404, f"no feed {self.path}\n".encode(), "text/plain")
                body = path.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                modified = formatdate(path.stat().st_mtime, usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, etag, modified)
                return self._send(200, body, "application/rss+xml; charset=utf-8", etag, modified)

            def _send(self, status, body, content_type, etag=None, modified=None):
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass  # one line per request is noise; ``requests`` keeps them

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.host, self.port = host, self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join()


def base_url() -> str:
    """Where the replay serves, from the operator's settings."""
    return f"http://{settings.demo_replay_host()}:{settings.demo_replay_port()}"


def feed_url(root: str, key: str) -> str:
    return f"{root}/feeds/{key}.xml"


def feeds_dir() -> Path:
    return settings.demo_dir() / "feeds"


def _pid_file() -> Path:
    return settings.demo_dir() / "replay.pid"


def _answers(url: str) -> bool:
    try:
        with urlopen(f"{url}/health", timeout=1) as response:  # noqa: S310 (our own URL)
            return response.read() == HEALTH_BODY
    except (URLError, OSError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recorded_pid() -> int | None:
    try:
        return int(_pid_file().read_text().strip())
    except (OSError, ValueError):
        return None


def start() -> str:
    """Start the replay as a child process unless one already answers; returns its URL.

    The child stays in the caller's process group, so Ctrl-C on ``make run`` ends it with
    the rest; a supervisor stops it with ``stop()`` (the pid file says which process)."""
    url = base_url()
    if _answers(url):
        return url
    folder = feeds_dir()
    folder.mkdir(parents=True, exist_ok=True)
    logfile = (settings.demo_dir() / "replay.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 (our own module, no shell)
        [sys.executable, "-m", "observatory_pipelines.demo.replay", "serve"],
        stdin=subprocess.DEVNULL,
        stdout=logfile,
        stderr=logfile,
    )
    logfile.close()
    _pid_file().write_text(f"{process.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _answers(url):
            log.info("demo.replay.started", url=url, pid=process.pid)
            return url
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(
        f"the demo feed replay did not start on {url} (DEMO_REPLAY_HOST/DEMO_REPLAY_PORT; is "
        f"the port taken?): see {settings.demo_dir() / 'replay.log'}"
    )


def stop() -> bool:
    """Stop the replay ``start`` left running; False when there was none."""
    pid = _recorded_pid()
    if pid is None or not _alive(pid):
        _pid_file().unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        try:  # our own child when called from the process that started it
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _pid_file().unlink(missing_ok=True)
    log.info("demo.replay.stopped", pid=pid)
    return True


def serve() -> None:
    server = ReplayServer(feeds_dir(), settings.demo_replay_host(), settings.demo_replay_port())
    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    log.info("demo.replay.serving", url=server.base_url, folder=str(server.folder))
    while not stopping.wait(0.5):
        pass
    server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m observatory_pipelines.demo.replay",
        description="Replay the offline demo's recorded RSS feeds on DEMO_REPLAY_HOST:PORT.",
    )
    parser.add_argument("command", choices=("serve", "start", "stop"))
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve()
    elif args.command == "start":
        print(start())
    else:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
