"""A failing task records (and raises) its own error, never a secondary one: not the run log's,
not the writes that fail after it because the database is gone. Real Postgres, a real TCP
proxy in front of it that the test cuts, a run log that raises."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import make_url, text

from observatory_pipelines import logs
from observatory_pipelines.arenas import registry
from observatory_pipelines.arenas.base import CollectionRequest, Page
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.collection.tasks import TaskFailed
from observatory_pipelines.db.engine import create_utc_engine

from .conftest import FakeSocial, item, make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)
# psycopg's OperationalError for a terminated backend is its subclass AdminShutdown.
TERMINATED = "AdminShutdown: terminating connection due to administrator command"


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def terminated_connection_error() -> psycopg.OperationalError:
    """A real OperationalError: a connection whose backend another connection terminated."""
    url = libpq_url(os.environ["DATABASE_URL"])
    with psycopg.connect(url, autocommit=True) as victim, psycopg.connect(url) as killer:
        pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        try:
            victim.execute("SELECT 1")
        except psycopg.OperationalError as exc:
            return exc
    raise AssertionError("the terminated connection still answered")


class Proxy:
    """A TCP forwarder to the test server; ``cut()`` makes the database vanish for its clients
    (open connections reset, new ones refused)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class FailingSocial(FakeSocial):
    """Hands over its first page, then (``before_failing``) raises ``error()``."""

    platform = "failing_social"
    before_failing = None
    error = staticmethod(terminated_connection_error)

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        for page in super().collect(request):
            yield page
            if FailingSocial.before_failing is not None:
                FailingSocial.before_failing()
            raise FailingSocial.error()


@pytest.fixture()
def failing(fake_collectors):
    registry.register(FailingSocial)
    yield FailingSocial
    FailingSocial.before_failing = None
    FailingSocial.error = staticmethod(terminated_connection_error)
    registry._collectors.pop(FailingSocial.platform, None)


@pytest.fixture()
def broken_run_log():
    """The run log of a step whose storage is the database that went away."""

    class BrokenRunLog:
        def __getattr__(self, _level):
            def write(_message):
                raise RuntimeError("DagsterPostgresException: too many retries")

            return write

    broken = BrokenRunLog()

    def finder():
        return broken

    logs.route_to_run_log(finder)
    yield
    logs._run_log_finders.remove(finder)


def seed(db, feed: str) -> str:
    user = make_user(db, credits=10)
    add_credential(db, "failing_social", "key", {"api_key": "very-secret-key"})
    config = {"arenas": {"failing_social": {"tier": "premium", "feed": feed}}}
    return make_design(db, user, config)


def test_task_records_the_operational_error_its_work_raised(
    db, json_server, failing, broken_run_log
):
    json_server.feed("cause-a", [[item(1)], [item(2)]])
    design = seed(db, "cause-a")

    report = start_run(db, design, FROM, TO)

    (arena,) = report.arenas
    assert arena.status == "failed"
    assert arena.error == TERMINATED
    with db.connect() as conn:
        task = conn.execute(text("SELECT * FROM collection_tasks")).mappings().one()
        run = conn.execute(text("SELECT * FROM collection_runs")).mappings().one()
        cred = conn.execute(text("SELECT error_count FROM api_credentials")).scalar_one()
    assert task["status"] == "failed" and task["error_message"] == arena.error
    assert "DagsterPostgres" not in task["error_message"]
    assert task["records_collected"] == run["records_collected"] == 1  # page 1 kept
    assert run["status"] == "failed" and TERMINATED in run["error_log"]
    assert cred == 1  # the credential's error was recorded too


def test_secrets_in_the_error_are_redacted(db, json_server, failing):
    json_server.feed("cause-b", [[item(1)]])
    design = seed(db, "cause-b")
    failing.error = staticmethod(
        lambda: psycopg.OperationalError(
            "connection to postgresql://observatory:pa55word@db:5432/obs failed"
            " while sending very-secret-key"
        )
    )
    report = start_run(db, design, FROM, TO)
    (arena,) = report.arenas
    assert arena.error == (
        "OperationalError: connection to postgresql://observatory:***@db:5432/obs failed"
        " while sending ***"
    )
    with db.connect() as conn:
        stored = conn.execute(text("SELECT error_message FROM collection_tasks")).scalar_one()
    assert stored == arena.error


def test_when_the_database_is_gone_the_tasks_own_error_propagates(
    db, database_url, json_server, failing, broken_run_log, log_lines
):
    """The database vanishes while the task works (its source then fails too): recording the
    credential error, the counters, the last batch and the failure all fail afterwards. What
    the run raises, and what the log says the task failed with, is the task's own error."""
    json_server.feed("cause-c", [[item(1)], [item(2)]])
    design = seed(db, "cause-c")
    url = make_url(database_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    engine = create_utc_engine(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        pool_pre_ping=True,
    )
    failing.before_failing = proxy.cut
    try:
        with pytest.raises(TaskFailed) as raised:
            start_run(engine, design, FROM, TO)
    finally:
        proxy.cut()
        engine.dispose()

    assert str(raised.value) == TERMINATED
    joined = "\n".join(log_lines)
    assert "task.failure_not_recorded" in joined
    not_recorded = next(line for line in log_lines if "task.failure_not_recorded" in line)
    assert TERMINATED in not_recorded
    assert "very-secret-key" not in joined
    with db.connect() as conn:  # nothing could be written: the sweep heals it later
        task = conn.execute(text("SELECT status, error_message FROM collection_tasks")).one()
        run = conn.execute(text("SELECT status FROM collection_runs")).scalar_one()
    assert (task.status, task.error_message, run) == ("running", None, "running")
