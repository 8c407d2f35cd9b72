"""``make run``: the local stack under one supervisor that always stops it, and stops it clean.

Starts ``setup_local`` (embedded PostgreSQL, migrations, demo), then ``dg dev`` (webserver,
daemon, code server) in a session of its own, and waits. On Ctrl-C (SIGINT) or a
supervisor's SIGTERM, or when ``dg dev`` ends by itself, it

1. asks the webserver which Dagster runs are in flight (its GraphQL API, also every few
   seconds while serving, in case it is gone by then; no Dagster import) and terminates
   them as the UI's Terminate button does, waiting up to ``--stop-grace`` seconds for them
   to end (CANCELED; the stragglers are marked so);
2. sends SIGINT to ``dg dev``'s whole process group — what a terminal's Ctrl-C does — so
   every process is interrupted, not only ``dg dev``;
3. waits up to ``--stop-grace`` seconds more for every process of the tree to end, then
   kills what is left (the group, and any process that carries this run's marker in its
   environment, e.g. one that moved to a session of its own);
4. fails the collection runs of the runs that were in flight and releases their credits
   (``collection.sweep``'s heal, the one the settlement job uses);
5. stops the demo's feed replay and, when it is the embedded one, the PostgreSQL server.

Before it starts ``dg dev`` it kills what an earlier ``make run`` on the same DAGSTER_HOME
left when it was killed itself (``kill -9`` reaches no cleanup): processes whose marker
names a supervisor that is gone.

Why not just signal ``dg dev``: it shuts the webserver and the daemon down, but the code
server's gRPC server only stops "once executions finish", and a run worker (a child of the
gRPC server) never hears of the shutdown, so ``dg dev`` waits for a collection that can run
for hours; killed, it leaves the code server and the gRPC server orphaned. A worker that is
interrupted may not get to record its own failure (the multiprocess executor forwards a
second interrupt into the step while it releases credits), hence step 4.

Plain Python: Dagster is reached only as the ``dg`` command and over HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psutil

from observatory_pipelines import settings
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

# Set in ``dg dev``'s environment, inherited by every process it starts (code servers, run
# workers, even one that calls setsid): how leftovers are found after the group is gone.
MARKER_VARIABLE = "OBSERVATORY_LOCAL_RUN"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_SECONDS = 0.25
UI_WAIT_SECONDS = 300
IN_FLIGHT_POLL_SECONDS = 5.0
# Dagster run states in which a worker may be working on a collection run.
IN_FLIGHT_STATUSES = ("STARTING", "STARTED", "CANCELING")
IN_FLIGHT_QUERY = """
query InFlightRuns($statuses: [RunStatus!]) {
  runsOrError(filter: {statuses: $statuses}) {
    __typename
    ... on Runs { results { runId status } }
    ... on PythonError { message }
  }
}
"""
TERMINATE_MUTATION = """
mutation TerminateRuns($runIds: [String!]!, $policy: TerminateRunPolicy) {
  terminateRuns(runIds: $runIds, terminatePolicy: $policy) {
    __typename
    ... on PythonError { message }
  }
}
"""


class LocalRun:
    def __init__(self, host: str, port: int, stop_grace: float, dagster_home: Path):
        self.host = host
        self.port = port
        self.stop_grace = stop_grace
        self.dagster_home = dagster_home
        self.marker = f"{os.getpid()}-{secrets.token_hex(8)}"
        self.signal_received: int | None = None
        self.signals_counted = 0  # a second Ctrl-C: kill what is left without the grace
        self.process: subprocess.Popen | None = None
        self.in_flight: set[str] = set()

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- signals -------------------------------------------------------------
    def _on_signal(self, signum: int, _frame) -> None:
        self.signals_counted += 1
        if self.signal_received is None:
            log.info("local_run.stop_requested", signal=signal.Signals(signum).name)
            self.signal_received = signum
        elif self.signals_counted == 2:
            log.info("local_run.stop_hurried", signal=signal.Signals(signum).name)

    def install_signal_handlers(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    # -- run -----------------------------------------------------------------
    def run(self) -> int:
        self.install_signal_handlers()
        exit_code = 0
        try:
            exit_code = self._setup()
            if exit_code == 0 and self.signal_received is None:
                exit_code = self._serve()
        finally:
            self._stop()
        return exit_code

    def _setup(self) -> int:
        """``setup_local`` as a child: a Ctrl-C reaches it from the terminal; a SIGTERM is
        passed on. Its exit status is ``make run``'s when it fails."""
        setup = subprocess.Popen([sys.executable, "-m", "observatory_pipelines.setup_local"])
        passed_on = False
        while setup.poll() is None:
            if self.signal_received == signal.SIGTERM and not passed_on:
                with contextlib.suppress(ProcessLookupError):
                    setup.send_signal(signal.SIGTERM)
                passed_on = True
            time.sleep(POLL_SECONDS)
        return setup.returncode

    def _serve(self) -> int:
        self._stop_orphans_of_earlier_runs()
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        if not config.exists():  # an instance without one prints a warning and a notice
            config.write_text("telemetry:\n  enabled: false\n")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(self.dagster_home),
            MARKER_VARIABLE: self.marker,
        }
        command = [str(Path(sys.executable).with_name("dg")), "dev"]
        command += ["--host", self.host, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            cwd=settings.project_root(),
            env=env,
            start_new_session=True,  # its own group: we decide who is signalled, and when
            preexec_fn=_default_stop_signals,
        )
        log.info("local_run.started", pid=self.process.pid, ui=self.ui_url)
        announced = False
        deadline = time.monotonic() + UI_WAIT_SECONDS
        next_look = 0.0
        while self.signal_received is None and self.process.poll() is None:
            if not announced and time.monotonic() < deadline and self._ui_answers():
                announced = True
                print(f"Dagster UI: {self.ui_url}   (Ctrl-C stops everything)", flush=True)
            if announced and time.monotonic() >= next_look:
                # Kept in case the webserver cannot answer at the stop (dg dev died first).
                self.in_flight |= self._in_flight_runs(quiet=True) or set()
                next_look = time.monotonic() + IN_FLIGHT_POLL_SECONDS
            time.sleep(POLL_SECONDS)
        if self.process.poll() is not None and self.signal_received is None:
            log.error("local_run.dg_dev_exited", returncode=self.process.returncode)
            return self.process.returncode or 1
        return 0

    def _stop_orphans_of_earlier_runs(self) -> None:
        """Processes an earlier ``make run`` on this DAGSTER_HOME left when it was killed
        itself (``kill -9``): its marker names a supervisor that is gone. They would hold
        the ports and run on unsupervised; their runs are healed at this run's stop (they
        are still in flight in the instance)."""
        orphans = []
        for process in psutil.process_iter():
            try:
                environ = process.environ()
            except (psutil.Error, OSError):
                continue
            marker = environ.get(MARKER_VARIABLE)
            if not marker or environ.get("DAGSTER_HOME") != str(self.dagster_home):
                continue
            if not _supervisor_alive(marker) and _alive(process):
                orphans.append(process)
        if not orphans:
            return
        log.warning("local_run.orphans_killed", processes=[_describe(p) for p in orphans])
        for process in orphans:
            _send(process, signal.SIGKILL)
        psutil.wait_procs(orphans, timeout=10)

    # -- stop ----------------------------------------------------------------
    def _stop(self) -> None:
        started = time.monotonic()
        healed = 0
        if self.process is not None:
            self._terminate_runs()
            self._stop_tree()
            healed = self._heal_interrupted_runs()
        self._stop_demo_replay()
        self._stop_embedded_postgres()
        log.info(
            "local_run.stopped",
            seconds=round(time.monotonic() - started, 1),
            runs_in_flight=len(self.in_flight),
            collection_runs_healed=healed,
        )

    def _stop_tree(self) -> None:
        assert self.process is not None
        group = self.process.pid
        self._signal_group(group, signal.SIGINT)
        for process in self._marked_processes():
            if _pgid(process) != group:
                _send(process, signal.SIGINT)
        deadline = time.monotonic() + self.stop_grace
        while time.monotonic() < deadline and self.signals_counted < 2:
            self.process.poll()  # reap dg dev, or its zombie counts as alive
            if not self._tree_alive(group):
                log.info("local_run.tree_ended", within_grace=True)
                return
            time.sleep(POLL_SECONDS)
        left = [_describe(p) for p in self._tree_members(group)]
        log.warning("local_run.killing_leftovers", processes=left, grace_seconds=self.stop_grace)
        self._signal_group(group, signal.SIGKILL)
        for process in self._marked_processes():
            _send(process, signal.SIGKILL)
        self.process.wait()
        psutil.wait_procs(self._tree_members(group), timeout=10)

    @staticmethod
    def _signal_group(group: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signum)

    def _tree_members(self, group: int) -> list[psutil.Process]:
        members = {p.pid: p for p in self._marked_processes()}
        for process in psutil.process_iter():
            if _pgid(process) == group and _alive(process):
                members[process.pid] = process
        return list(members.values())

    def _tree_alive(self, group: int) -> bool:
        return bool(self._tree_members(group))

    def _marked_processes(self) -> list[psutil.Process]:
        """Live processes whose environment carries this run's marker (not this one)."""
        found = []
        for process in psutil.process_iter():
            if process.pid == os.getpid():
                continue
            if _carries(process, MARKER_VARIABLE, self.marker) and _alive(process):
                found.append(process)
        return found

    def _ui_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.ui_url}/server_info", timeout=2) as response:  # noqa: S310 (our own URL)
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _graphql(self, query: str, variables: dict, quiet: bool = False) -> dict | None:
        """The ``data`` of one query to the webserver's GraphQL API; None when it cannot
        answer (gone, busy, an error)."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.ui_url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (our own URL)
                data = json.load(response)["data"]
            (answer,) = data.values()
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
            if not quiet:
                log.warning("local_run.webserver_unanswered", error=f"{type(exc).__name__}: {exc}")
            return None
        if answer.get("__typename") == "PythonError":
            if not quiet:
                log.warning("local_run.webserver_error", error=str(answer.get("message")))
            return None
        return answer

    def _in_flight_runs(self, quiet: bool = False) -> set[str] | None:
        """Dagster runs a worker may be on; None when the webserver cannot say (then no
        collection run is failed here: the settlement job judges them later)."""
        answer = self._graphql(IN_FLIGHT_QUERY, {"statuses": list(IN_FLIGHT_STATUSES)}, quiet=quiet)
        if answer is None or answer.get("__typename") != "Runs":
            return None
        return {run["runId"] for run in answer["results"]}

    def _terminate_runs(self) -> None:
        """Terminate the runs in flight the way the UI's Terminate does, while the webserver
        and the code server are still up: each worker gets one interrupt, records its
        collection run as failed and its credits released, and its Dagster run ends
        CANCELED. Runs that have not ended within the grace are marked CANCELED."""
        running = self._in_flight_runs()
        if not running:
            return
        self.in_flight |= running
        terminate = {"runIds": sorted(running), "policy": "SAFE_TERMINATE"}
        self._graphql(TERMINATE_MUTATION, terminate)
        deadline = time.monotonic() + self.stop_grace
        left: set[str] | None = running
        while time.monotonic() < deadline and self.signals_counted < 2:
            time.sleep(POLL_SECONDS * 2)
            now = self._in_flight_runs(quiet=True)
            if now is None:
                break  # the webserver went away (dg dev died): the tree is stopped next
            left = now & running
            if not left:
                log.info("local_run.runs_terminated", runs=len(running))
                return
        if left:
            log.warning("local_run.runs_marked_canceled", runs=sorted(left))
            mark = {"runIds": sorted(left), "policy": "MARK_AS_CANCELED_IMMEDIATELY"}
            self._graphql(TERMINATE_MUTATION, mark, quiet=True)

    def _heal_interrupted_runs(self) -> int:
        """Fail and settle the open collection runs of the Dagster runs that were in flight:
        their workers are gone (the whole tree is), so their reservations can be closed now."""
        if not self.in_flight:
            return 0
        from observatory_pipelines.collection.sweep import find_stale_runs, heal_stale_run
        from observatory_pipelines.credits.ledger import CreditLedger
        from observatory_pipelines.db.engine import get_engine

        try:
            ledger = CreditLedger(get_engine())
            stopped = self.in_flight

            def status(dagster_run_id: str) -> str | None:
                # Ended by this stop; any other is not ours to judge (unknown = no verdict).
                return "FAILURE" if dagster_run_id in stopped else None

            grace = timedelta(hours=settings.collection_stale_run_hours())
            how = signal.Signals(self.signal_received).name if self.signal_received else "exit"
            healed = 0
            for stale in find_stale_runs(ledger, status, grace):
                ours = sorted(set(stale.dagster_run_ids) & stopped)
                if not ours:
                    continue
                reason = (
                    f"interrupted: make run was stopped ({how}) while Dagster run "
                    f"{', '.join(ours)} was collecting"
                )
                done = heal_stale_run(ledger, replace(stale, reason=reason))
                if done is not None:
                    healed += 1
                    released = sum(done.settlement.refunded.values()) if done.settlement else 0
                    log.info(
                        "local_run.run_healed",
                        collection_run_id=str(done.collection_run_id),
                        dagster_run_ids=ours,
                        credits_released=released,
                    )
            return healed
        except Exception as exc:  # the database is gone: the settlement job heals them later
            log.error("local_run.heal_failed", error=f"{type(exc).__name__}: {exc}")
            return 0

    @staticmethod
    def _stop_demo_replay() -> None:
        from observatory_pipelines.demo import replay

        try:
            replay.stop()
        except Exception as exc:
            log.error("local_run.replay_stop_failed", error=f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _stop_embedded_postgres() -> None:
        if settings.database_url():
            return  # a configured server is not ours to stop
        from observatory_pipelines.db.embedded import EmbeddedPostgres

        try:
            EmbeddedPostgres().stop()
        except Exception as exc:
            log.error("local_run.postgres_stop_failed", error=f"{type(exc).__name__}: {exc}")


def _default_stop_signals() -> None:
    """In the child, before exec: SIGINT/SIGTERM back to their defaults. A shell starts
    background jobs with SIGINT ignored, and Dagster maps SIGTERM to SIGINT's handler, so an
    inherited 'ignore' would make ``dg dev`` deaf to both."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)


def _pgid(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _carries(process: psutil.Process, name: str, value: str) -> bool:
    try:
        return process.environ().get(name) == value
    except (psutil.Error, OSError):  # gone, a zombie, or not ours to read
        return False


def _supervisor_alive(marker: str) -> bool:
    """Is the ``local_run`` that set ``marker`` (``<pid>-<token>``) still running?"""
    try:
        process = psutil.Process(int(marker.split("-", 1)[0]))
        return _alive(process) and "observatory_pipelines.local_run" in process.cmdline()
    except (ValueError, psutil.Error):
        return False


def _describe(process: psutil.Process) -> str:
    """pid and the start of the command line (Dagster's carry a long serialized config)."""
    try:
        return f"{process.pid} {' '.join(process.cmdline()[:4])[:100]}"
    except psutil.Error:
        return str(process.pid)


def _send(process: psutil.Process, signum: int) -> None:
    with contextlib.suppress(psutil.Error):
        process.send_signal(signum)


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m observatory_pipelines.local_run",
        description="Run the local stack (setup_local, then dg dev) and stop all of it on "
        "Ctrl-C or SIGTERM: interrupted collection runs failed, their credits released, the "
        "embedded PostgreSQL stopped, no process left behind.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="UI interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="UI port (default 3000)")
    parser.add_argument(
        "--stop-grace",
        type=float,
        default=20.0,
        help="seconds the interrupted processes get to end before they are killed (default 20)",
    )
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir() / "dagster_home")
    return LocalRun(args.host, args.port, args.stop_grace, home.resolve()).run()


if __name__ == "__main__":
    raise SystemExit(main())
