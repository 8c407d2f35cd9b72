"""The process launcher's health check: a run's worker is alive while that very process runs
(same pid and start time), gone once it died — killed, exited, or a zombie not yet reaped.
Real processes; the launch itself is exercised by the end-to-end test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
from dagster import DagsterRun
from dagster._core.launcher import WorkerStatus

from observatory_pipelines.resources.process_run_launcher import (
    HOST_TAG,
    PID_TAG,
    START_TICKS_TAG,
    ProcessRunLauncher,
    process_start_ticks,
    worker_alive,
)


@pytest.fixture()
def sleeper():
    # SIGTERM's default action and unblocked whatever this process inherited: a worker sets
    # its own handling, and one clean-clone suite saw the sleeper outlive SIGTERM.
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_DFL); "
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM}); time.sleep(120)"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def _run_of(pid: int, ticks: int | None, host: str | None = None) -> DagsterRun:
    tags = {PID_TAG: str(pid), HOST_TAG: host or socket.gethostname()}
    if ticks is not None:
        tags[START_TICKS_TAG] = str(ticks)
    return DagsterRun(job_name="some_job", run_id="r" * 8, tags=tags)


def test_a_live_worker_is_running_and_a_killed_one_failed(sleeper):
    launcher = ProcessRunLauncher()
    ticks = process_start_ticks(sleeper.pid)
    assert ticks is not None and worker_alive(sleeper.pid, ticks)
    assert launcher.check_run_worker_health(_run_of(sleeper.pid, ticks)).status == (
        WorkerStatus.RUNNING
    )

    os.kill(sleeper.pid, signal.SIGKILL)
    os.waitid(os.P_PID, sleeper.pid, os.WEXITED | os.WNOWAIT)  # dead, still a zombie
    assert process_start_ticks(sleeper.pid) is None
    health = launcher.check_run_worker_health(_run_of(sleeper.pid, ticks))
    assert health.status == WorkerStatus.FAILED
    assert f"worker process {sleeper.pid} is gone" in health.msg

    sleeper.wait()  # reaped: no /proc entry at all
    assert launcher.check_run_worker_health(_run_of(sleeper.pid, ticks)).status == (
        WorkerStatus.FAILED
    )


def test_a_recycled_pid_is_not_the_worker(sleeper):
    """Another process under the worker's pid has another start time."""
    ticks = process_start_ticks(sleeper.pid)
    assert not worker_alive(sleeper.pid, ticks + 1)
    health = ProcessRunLauncher().check_run_worker_health(_run_of(sleeper.pid, ticks + 1))
    assert health.status == WorkerStatus.FAILED


def test_a_run_without_a_recorded_worker_or_from_another_host(sleeper):
    launcher = ProcessRunLauncher()
    ticks = process_start_ticks(sleeper.pid)
    assert launcher.check_run_worker_health(_run_of(sleeper.pid, None)).status == (
        WorkerStatus.NOT_FOUND
    )
    other = launcher.check_run_worker_health(_run_of(sleeper.pid, ticks, host="elsewhere"))
    assert other.status == WorkerStatus.UNKNOWN and "elsewhere" in other.msg


def test_a_command_name_with_spaces_and_parentheses_is_read_right(tmp_path):
    """/proc/<pid>/stat's second field is the command name, which may hold ') ('."""
    odd = tmp_path / "odd) (name"
    odd.symlink_to(sys.executable)
    process = subprocess.Popen([str(odd), "-c", "import time; time.sleep(60)"])
    try:
        ticks = process_start_ticks(process.pid)
        # Counted from the wrong parenthesis, field 22 would be itrealvalue (always 0).
        assert ticks is not None and ticks > 0 and worker_alive(process.pid, ticks)
    finally:
        process.kill()
        process.wait()


def test_terminate_sends_sigterm_to_the_live_worker_only(sleeper):
    """As `docker stop` does: SIGTERM to the worker, the run reported CANCELING; a worker
    that is already gone gets nothing and the answer is False."""
    from dagster import DagsterRunStatus, instance_for_test

    ticks = process_start_ticks(sleeper.pid)
    with instance_for_test() as instance:
        launcher = ProcessRunLauncher()
        launcher.register_instance(instance)
        run = instance.add_run(_run_of(sleeper.pid, ticks).with_status(DagsterRunStatus.STARTED))

        assert launcher.terminate(run.run_id) is True
        assert sleeper.wait(timeout=60) == -signal.SIGTERM
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.CANCELING

        assert launcher.terminate(run.run_id) is False  # nothing alive to stop any more
