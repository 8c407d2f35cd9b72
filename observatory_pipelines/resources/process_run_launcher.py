"""A run launcher that starts every run as its own OS process and can tell whether it lives.

Dagster's ``DefaultRunLauncher`` hands a run to the code server, which starts the worker;
it cannot say whether that worker is still alive, so run monitoring cannot fail a run
whose worker was killed (OOM, ``kill -9``, a daemon restart taking its children along):
the run stays STARTED and the collection run behind it keeps its credits.

This launcher runs ``<python> -m dagster api execute_run`` itself — the command the
``DockerRunLauncher`` runs in a container, with the run's code origin's interpreter — as a new
session (its own process group, so the worker and its step processes live and die
together, and a signal to the launching process does not reach them). It records the
worker's pid, its kernel start time and the host in the run's tags; ``check_run_worker_health``
answers RUNNING while that very process (same pid *and* same start time, so a recycled pid
is not mistaken for it) is alive and not a zombie, FAILED once it is gone. Run monitoring
(``run_monitoring`` in dagster.yaml) then fails the run within its poll interval.

For one host: the deployment without containers (and the end-to-end test of the
production topology). Production on compose uses ``DockerRunLauncher``, on Kubernetes
``K8sRunLauncher``; both have their own health checks. Liveness is read from ``/proc``
(Linux). A run whose worker was started on another host is reported UNKNOWN (the
monitoring daemon would then fail it: use this launcher only with one daemon host).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import _check as check
from dagster._core.launcher.base import (
    CheckRunHealthResult,
    LaunchRunContext,
    RunLauncher,
    WorkerStatus,
)
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClass, serialize_value
from dagster._serdes.config_class import ConfigurableClassData

PID_TAG = "observatory/worker_pid"
START_TICKS_TAG = "observatory/worker_start_ticks"
HOST_TAG = "observatory/worker_host"

_GONE_STATES = frozenset({"Z", "X", "x"})  # zombie, dead: exited but not (yet) reaped


def process_start_ticks(pid: int) -> int | None:
    """The kernel start time of ``pid`` (clock ticks since boot), None if it is gone.

    ``/proc/<pid>/stat``: the command name (field 2) may hold spaces and parentheses, so
    fields are counted after its closing parenthesis; state is field 3, starttime field 22.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in _GONE_STATES:
        return None
    return int(fields[19])


def worker_alive(pid: int, start_ticks: int) -> bool:
    """Whether the process started as ``pid`` at ``start_ticks`` still runs."""
    return process_start_ticks(pid) == start_ticks


class ProcessRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run as a local ``dagster api execute_run`` process with health checks."""

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        self._inst_data = inst_data
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> ProcessRunLauncher:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        job_code_origin = check.not_none(
            context.job_code_origin, "ProcessRunLauncher needs the run's code origin"
        )
        args = ExecuteRunArgs(
            job_origin=job_code_origin, run_id=run.run_id, instance_ref=self._instance.get_ref()
        )
        # The code's own interpreter (the code server's, recorded in the origin), not a
        # `dagster` looked up on this process's PATH: the run sees the code it was built from.
        python = job_code_origin.repository_origin.executable_path
        command = [python, "-m", "dagster", "api", "execute_run", serialize_value(args)]
        worker = subprocess.Popen(  # noqa: S603 - Dagster's own command, from the run's origin
            command, start_new_session=True, stdin=subprocess.DEVNULL
        )
        # Reap the worker when it exits, so a finished worker never lingers as a zombie of
        # the launching process (liveness treats zombies as gone anyway).
        threading.Thread(target=worker.wait, name=f"reap-{run.run_id[:8]}", daemon=True).start()
        start_ticks = process_start_ticks(worker.pid)
        tags = {PID_TAG: str(worker.pid), HOST_TAG: socket.gethostname()}
        if start_ticks is not None:
            tags[START_TICKS_TAG] = str(start_ticks)
        self._instance.add_run_tags(run.run_id, tags)
        self._instance.report_engine_event(
            f"Run worker started as process {worker.pid} on {tags[HOST_TAG]}",
            run,
            cls=self.__class__,
        )

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        pid, start_ticks = run.tags.get(PID_TAG), run.tags.get(START_TICKS_TAG)
        if not pid or not start_ticks:
            return CheckRunHealthResult(WorkerStatus.NOT_FOUND, msg="no worker process recorded")
        host = run.tags.get(HOST_TAG)
        if host != socket.gethostname():
            return CheckRunHealthResult(
                WorkerStatus.UNKNOWN, msg=f"worker runs on host {host}, not on this one"
            )
        if worker_alive(int(pid), int(start_ticks)):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=pid)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, msg=f"worker process {pid} is gone", run_worker_id=pid
        )

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        pid, start_ticks = run.tags.get(PID_TAG), run.tags.get(START_TICKS_TAG)
        if not pid or not start_ticks or not worker_alive(int(pid), int(start_ticks)):
            self._instance.report_engine_event(
                "No live worker process to send the termination request to.",
                run,
                cls=self.__class__,
            )
            return False
        # SIGTERM to the worker only, as `docker stop` does: Dagster's run worker turns it
        # into an interrupt, stops its steps and reports the run CANCELED.
        os.kill(int(pid), signal.SIGTERM)
        return True
