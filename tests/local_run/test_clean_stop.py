"""``make run`` stops clean while a collection is running (issue 16.4).

The real local run — ``make run``: the supervisor, ``setup_local``, ``dg dev`` with its
webserver, daemon, code server and run workers, the embedded PostgreSQL, the demo's feed
replay — on private ports, a private DAGSTER_HOME and data folder. A query design collects
from a local platform (YouTube's API on a server here) that accepts every request and
never answers, so the collection holds credits and runs until it is stopped. Then the stop
a process supervisor sends (SIGTERM to ``make``) or a terminal's Ctrl-C (SIGINT to the
whole foreground process group), and what must hold afterwards: no process of the run
left (none whose command line or environment names this test's folder), the UI and
PostgreSQL ports closed, the collection run failed with every task failed, no reservation
open and the owner's balance whole, the Dagster run no longer in flight.

Time bounds here are liveness bounds (something hangs), generous for a loaded machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.db.embedded import EmbeddedPostgres
from observatory_pipelines.db.engine import create_utc_engine

ROOT = Path(__file__).resolve().parents[2]
ALLOCATION = 5_000
START_BOUND = 420  # seconds until the UI answers and the collection holds its request
STOP_BOUND = 120  # seconds until make has returned after the signal
GONE_BOUND = 30  # seconds until no process of the run is left after make returned
CASES = {
    # case: (signal, sent to, first port of the case). Below the kernel's ephemeral range
    # (32768-60999 here): any client socket of the test session (a pooled database
    # connection, say) can hold a fixed port inside it, and the case's PostgreSQL then cannot listen on it.
    "sigterm_to_make": (signal.SIGTERM, "make", 31710),  # what a process supervisor does
    "ctrl_c_to_the_group": (signal.SIGINT, "group", 31720),  # what a terminal does on Ctrl-C
    # dg dev dies (OOM killer, kill -9): its webserver, daemon, code servers and runs stay
    "kill_9_dg_dev": (signal.SIGKILL, "dg dev", 31730),
}


class HangingPlatform:
    """Accepts every request, notes it, and answers only when the test ends."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.release = threading.Event()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                platform.paths.append(self.path.split("?")[0])
                platform.release.wait(600)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class LocalRunCase:
    root: Path
    pg_port: int
    ui_port: int
    env: dict[str, str]
    log: Path
    make: subprocess.Popen | None = None
    design_id: str = ""
    owner_id: str = ""
    seen: list[str] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/observatory"

    def server(self) -> EmbeddedPostgres:
        return EmbeddedPostgres(root=self.root / "data", port=self.pg_port)


def _default_stop_signals() -> None:
    # A test runner may start us with SIGINT ignored; make and its children must not inherit it.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _processes_of(root: Path) -> list[str]:
    """Live processes whose command line or environment names the case's folder."""
    found = []
    needle = str(root)
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(process.cmdline())
            environ = process.environ()
        except (psutil.Error, OSError):
            continue
        if needle in cmdline or any(needle in value for value in environ.values()):
            found.append(f"{process.pid} {cmdline[:120]}")
    return found


def _wait_for(what: str, check, bound: float, case: LocalRunCase) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if check():
            return
        if case.make is not None and case.make.poll() is not None:
            pytest.fail(f"make run ended ({case.make.returncode}) before {what}:\n{_tail(case)}")
        time.sleep(1)
    pytest.fail(f"no {what} within {bound} s:\n{_tail(case)}")


def _tail(case: LocalRunCase) -> str:
    """The supervisor's own lines, then the end of the log."""
    if not case.log.exists():
        return ""
    text_ = case.log.read_text(errors="replace")
    own = [line for line in text_.splitlines() if '"local_run.' in line]
    return "\n".join(own) + "\n...\n" + text_[-3000:]


def _cmdline(process: psutil.Process) -> list[str]:
    """A child's command line; [] for one that has just exited (a zombie, or gone)."""
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _dg_dev(make: subprocess.Popen) -> psutil.Process:
    (dg_dev,) = [
        p for p in psutil.Process(make.pid).children(recursive=True) if "dev" in _cmdline(p)
    ]
    return dg_dev


def _seed_slow_design(case: LocalRunCase) -> None:
    """An owner with credits, a YouTube key, and a design collecting YouTube at a paid tier
    (its run reserves credits) from the hanging platform."""
    engine = create_utc_engine(case.database_url)
    today = datetime.now(UTC).date()
    config = {
        "mode": "batch",
        "date_from": (today - timedelta(days=3)).isoformat(),
        "date_to": today.isoformat(),
        "arenas": {"youtube": {"tier": "medium"}},
    }
    with engine.begin() as conn:
        case.owner_id = str(
            conn.execute(
                text(
                    "INSERT INTO users (email, display_name, is_active) "
                    "VALUES (:email, 'Stop Test', true) RETURNING id"
                ),
                {"email": f"stop-{uuid.uuid4().hex[:8]}@observatory.local"},
            ).scalar_one()
        )
        conn.execute(
            text(
                "INSERT INTO credit_allocations (user_id, credits_amount, valid_from, memo) "
                "VALUES (:user, :amount, :since, 'clean stop test')"
            ),
            {"user": case.owner_id, "amount": ALLOCATION, "since": date.today() - timedelta(1)},
        )
        case.design_id = str(
            conn.execute(
                text(
                    "INSERT INTO query_designs (owner_id, name, arenas_config) "
                    "VALUES (:owner, 'clean stop: a collection that hangs', CAST(:config AS jsonb)) "
                    "RETURNING id"
                ),
                {"owner": case.owner_id, "config": json.dumps(config)},
            ).scalar_one()
        )
        conn.execute(
            text(
                "INSERT INTO search_terms (query_design_id, term, term_type) "
                "VALUES (:design, 'klima', 'keyword')"
            ),
            {"design": case.design_id},
        )
    add_credential(engine, "youtube", "stop test key", {"api_key": "hanging-key"}, tier="medium")
    engine.dispose()


def _collection_run(case: LocalRunCase) -> dict | None:
    engine = create_utc_engine(case.database_url)
    try:
        with engine.connect() as conn:
            row = (
                conn.execute(
                    text(
                        "SELECT r.id, r.status, r.error_log, "
                        "  (SELECT array_agg(t.status) FROM collection_tasks t "
                        "   WHERE t.collection_run_id = r.id) AS task_statuses, "
                        "  (SELECT array_agg(DISTINCT t.dagster_run_id) FROM collection_tasks t "
                        "   WHERE t.collection_run_id = r.id) AS dagster_run_ids "
                        "FROM collection_runs r WHERE r.query_design_id = :design"
                    ),
                    {"design": case.design_id},
                )
                .mappings()
                .one_or_none()
            )
            if row is None:
                return None
            ledger = CreditLedger(engine)
            return {
                **row,
                "open_reservations": ledger.open_reservations(row["id"]),
                "balance": ledger.get_balance(case.owner_id),
            }
    finally:
        engine.dispose()


def _holds_credits(case: LocalRunCase) -> bool:
    run = _collection_run(case)
    return (
        run is not None
        and run["status"] == "running"
        and bool(run["open_reservations"])
        and run["balance"].available < ALLOCATION
    )


@pytest.fixture(params=sorted(CASES))
def case(request, monkeypatch):
    signum, target, first_port = CASES[request.param]
    # Not tmp_path: another pytest session on this machine may prune old basetemp folders
    # while this test runs for minutes.
    tmp_path = Path(tempfile.mkdtemp(prefix=f"observatory-stop-{request.param}-"))
    platform = HangingPlatform()
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", key)  # add_credential encrypts with it
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "POSTGRES_HOST", "MINIO_ENDPOINT", "OBSERVATORY_ENV")
    }
    env.update(
        OBSERVATORY_DATA_DIR=str(tmp_path / "data"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        EMBEDDED_PG_PORT=str(first_port),
        DAGSTER_PORT=str(first_port + 1),
        DEMO_REPLAY_PORT=str(first_port + 2),
        YOUTUBE_API_URL=platform.url,
        CREDENTIALS_ENCRYPTION_KEY=key,
        PSEUDONYMIZATION_KEY="clean-stop-test-key",
        COLLECTION_SENSOR_INTERVAL_SECONDS="5",
        ARENA_RATE_LIMIT_SCALE="0",
    )
    state = LocalRunCase(
        root=tmp_path, pg_port=first_port, ui_port=first_port + 1, env=env,
        log=tmp_path / "make_run.log",
    )  # fmt: skip
    state.seen = platform.paths
    try:
        yield state, signum, target
    finally:
        if state.log.exists():  # shown by pytest when the test failed
            print(state.log.read_text(errors="replace")[-20000:])
        platform.close()
        for line in _processes_of(tmp_path):  # a failed test must not leave its run behind
            pid = int(line.split()[0])
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
        try:
            state.server().stop()
        except Exception:
            pass
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_stop_during_a_collection_ends_everything_and_refunds_it(case):
    state, signum, target = case
    # The database and the demo first, so the design below is collected at the first tick.
    setup = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "observatory_pipelines.setup_local"],
        cwd=ROOT, env=state.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr[-3000:]
    _seed_slow_design(state)

    with state.log.open("w") as log:
        state.make = subprocess.Popen(
            ["make", "-s", "-o", ".venv/.installed-stamp", "run"],
            cwd=ROOT, env=state.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_stop_signals,
        )  # fmt: skip
    _wait_for("UI", lambda: _port_open(state.ui_port), START_BOUND, state)
    _wait_for("request to the platform", lambda: "/search" in state.seen, START_BOUND, state)
    _wait_for("collection holding credits", lambda: _holds_credits(state), START_BOUND, state)
    assert _processes_of(state.root), "the run's processes name the case's folder"

    if target == "group":
        os.killpg(state.make.pid, signum)
    elif target == "make":
        os.kill(state.make.pid, signum)
    else:
        _dg_dev(state.make).send_signal(signum)
    try:
        state.make.wait(timeout=STOP_BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"make run still alive {STOP_BOUND} s after {signum!r}:\n{_tail(state)}")

    deadline = time.monotonic() + GONE_BOUND
    while _processes_of(state.root) and time.monotonic() < deadline:
        time.sleep(1)
    assert _processes_of(state.root) == [], _tail(state)
    assert not _port_open(state.ui_port)
    assert not _port_open(state.pg_port), "the embedded PostgreSQL was left running"
    assert "local_run.stopped" in state.log.read_text()

    # Look at what was recorded (the server is started again only to read).
    state.server().ensure_running()
    run = _collection_run(state)
    assert run is not None
    assert run["status"] == "failed", run
    assert set(run["task_statuses"]) == {"failed"}, run
    assert run["open_reservations"] == []
    assert run["balance"].available == ALLOCATION
    assert run["balance"].reserved == run["balance"].refunded > 0  # held, then all released
    (dagster_run_id,) = run["dagster_run_ids"]
    assert _dagster_run_status(state, dagster_run_id) in ("FAILURE", "CANCELED")


def _dagster_run_status(state: LocalRunCase, run_id: str) -> str:
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    with DagsterInstance.from_ref(InstanceRef.from_dir(state.env["DAGSTER_HOME"])) as instance:
        return instance.get_run_by_id(run_id).status.value


def test_processes_left_by_a_killed_earlier_run_are_stopped_and_others_are_not(tmp_path):
    """``kill -9`` of ``make run`` itself leaves its tree running; the next one stops it, and
    only it: not a process of a run on another DAGSTER_HOME, not one of a live supervisor."""
    from observatory_pipelines.local_run import MARKER_VARIABLE, LocalRun

    home = tmp_path / "dagster_home"
    gone = psutil.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid with no process behind it: the supervisor that was killed
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]

    def start(marker: str, dagster_home: Path) -> psutil.Popen:
        env = {**os.environ, MARKER_VARIABLE: marker, "DAGSTER_HOME": str(dagster_home)}
        return psutil.Popen(sleeper, env=env)

    orphan = start(f"{gone.pid}-dead", home)
    elsewhere = start(f"{gone.pid}-dead", tmp_path / "another_home")
    unmarked = psutil.Popen(sleeper, env={**os.environ, "DAGSTER_HOME": str(home)})
    try:
        LocalRun("127.0.0.1", 0, 1.0, home)._stop_orphans_of_earlier_runs()
        orphan.wait(timeout=10)  # reaped already if the stop waited for it (our child)
        assert not orphan.is_running()
        assert elsewhere.is_running() and unmarked.is_running()
    finally:
        for process in (orphan, elsewhere, unmarked):
            with contextlib.suppress(psutil.Error):
                process.kill()
                process.wait(timeout=10)
