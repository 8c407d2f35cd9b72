"""The production topology end to end, without Docker (issue 15).

As separate processes: a PostgreSQL server this test starts (its own data folder and port)
handed to everything as the POSTGRES_* parts, an S3 server (moto) on 127.0.0.1, the
production ``deploy/dagster.yaml`` (Postgres run/event/schedule storage, queued runs, run
monitoring, retries) with only ``run_launcher`` swapped for the process launcher, a code
server, ``dagster-webserver`` and ``dagster-daemon``. Everything is driven through the
webserver's GraphQL API, as an operator's UI would, and checked in the databases and the
bucket. One test, in stages, because starting the topology is the expensive part.

The waits are upper bounds against a hang (a loaded machine may be slow), never timing
assertions: each stage asserts an outcome (a status, rows, an object, a balance).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import psycopg
import pytest
import yaml
from cryptography.fernet import Fernet
from dagster import DagsterEventType
from moto.server import ThreadedMotoServer
from sqlalchemy import text

from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.db.engine import get_engine, migrate
from observatory_pipelines.definitions import defs
from tests.deploy.topology import (
    PROCESS_LAUNCHER_BLOCK,
    PRODUCTION_YAML,
    Topology,
    free_ports,
    instance_yaml,
    kill_group,
    top_level_block,
    wait_for,
)

BACKUP_BUCKET, OUTPUTS_BUCKET, LOGS_BUCKET = "e2e-backups", "e2e-outputs", "e2e-compute-logs"
PSEUDONYMIZATION_KEY = "e2e-pseudonymization-key"
CREDENTIALS_KEY = Fernet.generate_key().decode()
USER_CREDITS = 1000
# As stored in event_logs.dagster_event_type (runs were "pipelines" once).
RUN_START, RUN_SUCCESS = DagsterEventType.RUN_START.value, DagsterEventType.RUN_SUCCESS.value
MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION.value

LOCATION_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError {
          __typename
          ... on RepositoryLocation {
            repositories { name jobs { name } schedules { name } sensors { name } }
          }
          ... on PythonError { message }
        }
      }
    }
  }
}
"""

LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status jobName tags { key value } }
  }
}
"""

RUNS_QUERY = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""


class HangingApi:
    """An API on 127.0.0.1 that accepts every request and answers none (for minutes): a
    collection that calls it stays mid-run, holding its reservation, until killed."""

    def __init__(self, port: int) -> None:
        self.requests = 0
        self.release = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                api.requests += 1
                api.release.wait(300)
                self.send_response(503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def topology():
    # Ports of this test's range (56300-56399) that are free now.
    pg_port, code_port, web_port, s3_port, api_port = free_ports(5)
    access_log = logging.getLogger("werkzeug")
    previous_level = access_log.level
    access_log.setLevel(logging.ERROR)
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    api = HangingApi(api_port)
    topo = Topology(
        pg_port,
        code_port,
        web_port,
        extra_env={
            "MINIO_ENDPOINT": f"127.0.0.1:{s3_port}",
            "MINIO_ACCESS_KEY": "e2e-access",
            "MINIO_SECRET_KEY": "e2e-secret-key",
            "MINIO_SECURE": "false",
            "MINIO_REGION": "us-east-1",
            "MINIO_BUCKET": BACKUP_BUCKET,
            "MINIO_OUTPUTS_BUCKET": OUTPUTS_BUCKET,
            # deploy/dagster.yaml's S3 compute logs, on the same S3 server
            "DAGSTER_COMPUTE_LOG_BUCKET": LOGS_BUCKET,
            "DAGSTER_COMPUTE_LOG_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "AWS_ACCESS_KEY_ID": "e2e-access",
            "AWS_SECRET_ACCESS_KEY": "e2e-secret-key",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PSEUDONYMIZATION_KEY": PSEUDONYMIZATION_KEY,
            "CREDENTIALS_ENCRYPTION_KEY": CREDENTIALS_KEY,
            "YOUTUBE_API_URL": f"http://127.0.0.1:{api_port}",
            "COLLECTION_SENSOR_INTERVAL_SECONDS": "5",
        },
    )
    s3.start()
    try:
        _s3(topo).create_bucket(Bucket=LOGS_BUCKET)  # compose's init service makes it there
        topo.start_postgres()
        migrate(topo.app_url)
        topo.start_dagster()
        yield topo
    finally:
        try:
            topo.stop()
        finally:
            get_engine(topo.app_url).dispose()
            api.stop()
            s3.stop()
            access_log.setLevel(previous_level)


def _s3(topo: Topology):
    return boto3.client(
        "s3",
        endpoint_url=f"http://{topo.extra_env['MINIO_ENDPOINT']}",
        aws_access_key_id="e2e-access",
        aws_secret_access_key="e2e-secret-key",
        region_name="us-east-1",
    )


def _keys(topo: Topology, bucket: str) -> list[str]:
    return [o["Key"] for o in _s3(topo).list_objects_v2(Bucket=bucket).get("Contents", [])]


def _expected_definitions() -> tuple[set[str], set[str], set[str]]:
    repo = defs.get_repository_def()
    return (
        {job.name for job in repo.get_all_jobs()},
        {s.name for s in repo.schedule_defs},
        {s.name for s in repo.sensor_defs},
    )


def _launch(topo: Topology, job: str) -> str:
    params = {
        "selector": {
            "repositoryLocationName": "observatory_pipelines",
            "repositoryName": "__repository__",
            "jobName": job,
        },
        "runConfigData": {},
    }
    result = topo.graphql(LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def _run(topo: Topology, run_id: str) -> dict:
    run = topo.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
    return run


def _finished(topo: Topology, run_id: str, timeout: float = 240) -> str:
    def probe():
        status = _run(topo, run_id)["status"]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    return wait_for(f"run {run_id} finishing", probe, timeout, 2, topology=topo)


def _dagster_events(topo: Topology, run_id: str) -> set[str]:
    with psycopg.connect(topo.dagster_url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT DISTINCT dagster_event_type FROM event_logs WHERE run_id = %s", (run_id,)
        ).fetchall()
    return {r[0] for r in rows if r[0]}


def _seed_collection(engine) -> tuple[str, str]:
    """A user with credits, a medium-tier YouTube key and a new design calling the hanging
    API: its estimate reserves credits before the first (unanswered) request."""
    add_credential(engine, "youtube", "e2e key", {"api_key": "e2e-api-key"}, tier="medium")
    with engine.begin() as conn:
        user = conn.execute(
            text(
                "INSERT INTO users (email, is_active) VALUES ('e2e@example.org', true) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO credit_allocations (user_id, credits_amount, valid_from)"
                " VALUES (:u, :c, :d)"
            ),
            {"u": user, "c": USER_CREDITS, "d": date.today() - timedelta(days=1)},
        )
        today = datetime.now(UTC).date()
        config = {
            "mode": "batch",
            "date_from": (today - timedelta(days=3)).isoformat(),
            "date_to": (today - timedelta(days=1)).isoformat(),
            "arenas": {"youtube": {"tier": "medium"}},
        }
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config)"
                " VALUES (:o, 'e2e design', CAST(:c AS jsonb)) RETURNING id"
            ),
            {"o": user, "c": json.dumps(config)},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO search_terms (query_design_id, term, term_type)"
                " VALUES (:d, 'folketinget', 'keyword')"
            ),
            {"d": design},
        )
    return str(user), str(design)


def _collection_run(engine, design_id: str):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT id, status, error_log FROM collection_runs WHERE query_design_id = :d"
                " ORDER BY created_at DESC LIMIT 1"
            ),
            {"d": design_id},
        ).one_or_none()


def test_instance_yaml_is_production_but_for_the_run_launcher():
    production = PRODUCTION_YAML.read_text()
    swapped = instance_yaml()
    start, end = top_level_block(production, "run_launcher")
    assert swapped == production[:start] + PROCESS_LAUNCHER_BLOCK + production[end:]
    assert production[start:end] != PROCESS_LAUNCHER_BLOCK
    config = yaml.safe_load(swapped)
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        # Postgres storage, never the implicit default (SQLite under DAGSTER_HOME)
        assert config[storage]["class"].startswith("PrePingPostgres"), config[storage]
        assert config[storage]["config"]["postgres_db"]["db_name"] == {"env": "DAGSTER_POSTGRES_DB"}


def test_production_topology(topology, monkeypatch):
    topo = topology
    # The key the topology's processes decrypt credentials with, for the one seeded here.
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY)
    engine = get_engine(topo.app_url)

    # 1. The location loads with every job, schedule and sensor of the Definitions.
    def loaded():
        data = topo.graphql(LOCATION_QUERY)["workspaceOrError"]
        entry = data["locationEntries"][0]["locationOrLoadError"]
        return entry if entry and entry["__typename"] == "RepositoryLocation" else None

    location = wait_for("the code location loading", loaded, 180, 2, topology=topo)
    (repo,) = location["repositories"]
    jobs, schedules, sensors = _expected_definitions()
    assert {j["name"] for j in repo["jobs"]} == jobs
    assert {s["name"] for s in repo["schedules"]} == schedules
    assert {s["name"] for s in repo["sensors"]} == sensors

    # 2. partition_maintenance and nightly_backup succeed; their events are in Dagster's
    #    database; the dump is in the bucket. (The design of stage 3 is added now, so its
    #    collection runs beside them, as it would in production.)
    maintenance = _launch(topo, "partition_maintenance")
    backup = _launch(topo, "nightly_backup")
    user_id, design_id = _seed_collection(engine)
    assert _finished(topo, maintenance) == "SUCCESS", topo.diagnostics()
    assert _finished(topo, backup) == "SUCCESS", topo.diagnostics()
    for run_id in (maintenance, backup):
        events = _dagster_events(topo, run_id)
        assert {RUN_START, RUN_SUCCESS, MATERIALIZATION} <= events, events
        assert _run(topo, run_id)["tags"]["observatory/worker_pid"].isdigit()
    keys = _keys(topo, BACKUP_BUCKET)
    assert any(k.endswith(".gz") for k in keys), keys
    # The steps' logs are in the object store, where the webserver reads them.
    assert any(k.startswith("compute-logs/") for k in _keys(topo, LOGS_BUCKET))

    # 3. A new query design: the daemon's sensor launches its collection by itself.

    def collection_started():
        runs = topo.graphql(RUNS_QUERY, {"filter": {"pipelineName": "collect_query_design"}})
        for run in runs["runsOrError"]["results"]:
            tags = {t["key"]: t["value"] for t in run["tags"]}
            if tags.get("observatory/query_design") == design_id and run["status"] == "STARTED":
                return run["runId"], tags
        return None

    collect_run_id, tags = wait_for("the sensor's collection run", collection_started, 180, 2)
    assert tags["observatory/platform-youtube"] == "true"  # the per-platform limit's tag
    ledger = CreditLedger(engine)

    def reserved():
        row = _collection_run(engine, design_id)
        held = row is not None and row.status == "running" and ledger.open_reservations(row.id)
        return row if held else None

    wait_for("the collection holding its reservation", reserved, 180, 1, topology=topo)
    assert ledger.get_balance(user_id).available < USER_CREDITS  # held by the reservation

    # 4. The daemon and the run's worker die at once (the daemon's and the worker's whole
    #    process groups, as stopping their containers would) and, while the daemon is down,
    #    PostgreSQL restarts: every pooled connection of the webserver and the code server
    #    is now dead.
    worker_pid = int(_run(topo, collect_run_id)["tags"]["observatory/worker_pid"])
    topo.worker_pids.add(worker_pid)
    topo.kill_daemon()
    kill_group(worker_pid)
    assert _run(topo, collect_run_id)["status"] == "STARTED"  # nobody told Dagster
    topo.restart_postgres()

    # 5. The next launch works: no HTTP 500 from the webserver, and its run, started by the
    #    new daemon, succeeds.
    topo.start_daemon()
    after_restart = _launch(topo, "partition_maintenance")

    # 6. The new daemon's run monitoring finds the killed worker gone and fails its run; the
    #    failure sensor (in the code server, through the restarted database) fails the
    #    collection run and gives every reserved credit back.
    assert _finished(topo, collect_run_id, timeout=180) == "FAILURE"

    def healed():
        row = _collection_run(engine, design_id)
        return row if row.status == "failed" and not ledger.open_reservations(row.id) else None

    row = wait_for("the collection run healed", healed, 120, 2, topology=topo)
    assert "worker lost" in row.error_log
    balance = ledger.get_balance(user_id)
    assert balance.refunded == balance.reserved > 0 and balance.settled == 0
    assert balance.available == USER_CREDITS

    assert _finished(topo, after_restart) == "SUCCESS", topo.diagnostics()
    stuck = topo.graphql(RUNS_QUERY, {"filter": {"statuses": ["NOT_STARTED"]}})
    assert stuck["runsOrError"]["results"] == []  # no launch was left half-done
