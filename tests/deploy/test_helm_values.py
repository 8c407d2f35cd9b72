"""deploy/helm/values.yaml for Dagster's Helm chart (issue 15.6): real keys, and the same
deployment as compose (deploy/dagster.yaml).

No registry package ships the chart or its values.schema.json, and no Helm runs here. The
keys allowed below are the chart's own schema (its pydantic models under
helm/dagster/schema/ in dagster-io/dagster, Dagster 1.13): every key the values file uses
must be one of them, so a misspelt key (which Helm would silently ignore) fails here. Where
the chart hands a section to a Dagster class (K8sRunLauncher, S3ComputeLogManager), the
keys are also checked against that class's config schema in the installed dagster-k8s /
dagster-aws, which is what the rendered dagster.yaml must satisfy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "deploy" / "helm"
ANY = object()  # a free-form mapping in the chart's schema (Kubernetes objects, labels, env)

IMAGE = {"repository": ANY, "tag": ANY, "pullPolicy": ANY}
ENV_SOURCES = ANY
POD = {
    "image": IMAGE,
    "env": ANY,
    "envConfigMaps": ENV_SOURCES,
    "envSecrets": ENV_SOURCES,
    "annotations": ANY,
    "nodeSelector": ANY,
    "affinity": ANY,
    "tolerations": ANY,
    "podSecurityContext": ANY,
    "securityContext": ANY,
    "resources": ANY,
    "livenessProbe": ANY,
    "readinessProbe": ANY,
    "startupProbe": ANY,
    "labels": ANY,
    "volumeMounts": ANY,
    "volumes": ANY,
    "schedulerName": ANY,
}
TAG_LIMITS = ANY  # a list of {key, value, limit}; checked against dagster.yaml below
CHART = {
    "global": {
        "postgresqlSecretName": ANY,
        "dagsterHome": ANY,
        "serviceAccountName": ANY,
        "celeryConfigSecretName": ANY,
        "dagsterInstanceConfigMap": ANY,
    },
    "generatePostgresqlPasswordSecret": ANY,
    "generateCeleryConfigSecret": ANY,
    "postgresql": {
        "image": ANY,
        "enabled": ANY,
        "postgresqlHost": ANY,
        "postgresqlUsername": ANY,
        "postgresqlPassword": ANY,
        "postgresqlDatabase": ANY,
        "postgresqlParams": ANY,
        "postgresqlScheme": ANY,
        "service": {"port": ANY},
    },
    "dagsterWebserver": {
        **POD,
        "replicaCount": ANY,
        "nameOverride": ANY,
        "pathPrefix": ANY,
        "service": ANY,
        "workspace": ANY,
        "deploymentLabels": ANY,
        "enableReadOnly": ANY,
        "dbStatementTimeout": ANY,
        "dbPoolRecycle": ANY,
        "logLevel": ANY,
    },
    "dagster-user-deployments": {
        "enabled": ANY,
        "enableSubchart": ANY,
        "imagePullSecrets": ANY,
        "deployments": [
            {
                **POD,
                "name": ANY,
                "dagsterApiGrpcArgs": ANY,
                "codeServerArgs": ANY,
                "includeConfigInLaunchedRuns": {"enabled": ANY},
                "port": ANY,
            }
        ],
    },
    "runLauncher": {
        "type": ANY,
        "config": {
            "k8sRunLauncher": {
                "image": IMAGE,
                "imagePullPolicy": ANY,
                "jobNamespace": ANY,
                "loadInclusterConfig": ANY,
                "kubeconfigFile": ANY,
                "envConfigMaps": ENV_SOURCES,
                "envSecrets": ENV_SOURCES,
                "envVars": ANY,
                "volumeMounts": ANY,
                "volumes": ANY,
                "labels": ANY,
                "failPodOnRunFailure": ANY,
                "resources": ANY,
                "schedulerName": ANY,
                "securityContext": ANY,
                "runK8sConfig": {
                    "containerConfig": ANY,
                    "podSpecConfig": ANY,
                    "podTemplateSpecMetadata": ANY,
                    "jobSpecConfig": ANY,
                    "jobMetadata": ANY,
                },
            },
        },
    },
    "computeLogManager": {
        "type": ANY,
        "config": {
            "s3ComputeLogManager": {
                "bucket": ANY,
                "localDir": ANY,
                "prefix": ANY,
                "useSsl": ANY,
                "verify": ANY,
                "verifyCertPath": ANY,
                "endpointUrl": ANY,
                "skipEmptyFiles": ANY,
                "uploadInterval": ANY,
                "uploadExtraArgs": ANY,
                "showUrlOnly": ANY,
                "region": ANY,
            }
        },
    },
    "dagsterDaemon": {
        **POD,
        "enabled": ANY,
        "heartbeatTolerance": ANY,
        "deploymentLabels": ANY,
        "runCoordinator": {
            "enabled": ANY,
            "type": ANY,
            "config": {
                "queuedRunCoordinator": {
                    "maxConcurrentRuns": ANY,
                    "tagConcurrencyLimits": TAG_LIMITS,
                    "dequeueIntervalSeconds": ANY,
                    "dequeueNumWorkers": ANY,
                    "dequeueUseThreads": ANY,
                }
            },
        },
        # A free mapping in the schema; these are the keys the chart's instance template reads.
        "runMonitoring": {
            "enabled": ANY,
            "startTimeoutSeconds": ANY,
            "cancelTimeoutSeconds": ANY,
            "maxResumeRunAttempts": ANY,
            "pollIntervalSeconds": ANY,
            "freeSlotsAfterRunEndSeconds": ANY,
        },
        "runRetries": {"enabled": ANY, "maxRetries": ANY},
        "sensors": ANY,
        "schedules": ANY,
    },
    "migrate": {"enabled": ANY},
    "telemetry": {"enabled": ANY},
    "retention": ANY,
    "pythonLogs": ANY,
    "imagePullSecrets": ANY,
    "serviceAccount": ANY,
    "ingress": ANY,
    "scheduler": ANY,
    "additionalInstanceConfig": ANY,
}


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((HELM / "values.yaml").read_text())


@pytest.fixture(scope="module")
def instance() -> dict:
    return yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())


def unknown_keys(node, schema, path="") -> list[str]:
    if schema is ANY:
        return []
    if isinstance(schema, list):
        assert isinstance(node, list), path
        return [
            k for i, item in enumerate(node) for k in unknown_keys(item, schema[0], f"{path}[{i}]")
        ]
    assert isinstance(node, dict), f"{path} should be a mapping"
    found = []
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key not in schema:
            found.append(where)
        else:
            found += unknown_keys(value, schema[key], where)
    return found


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_key_is_one_of_the_charts(values):
    assert unknown_keys(values, CHART) == []


def test_the_check_catches_a_misspelt_key(values):
    wrong = {**values, "dagsterDaemon": {**values["dagsterDaemon"], "runMonitor": {}}}
    assert unknown_keys(wrong, CHART) == ["dagsterDaemon.runMonitor"]


def test_one_pinned_image_of_ours_everywhere(values):
    images = [
        values["dagsterWebserver"]["image"],
        values["dagsterDaemon"]["image"],
        *(d["image"] for d in values["dagster-user-deployments"]["deployments"]),
    ]
    assert len({(i["repository"], i["tag"]) for i in images}) == 1
    tag = images[0]["tag"]
    compose = (ROOT / "docker-compose.yml").read_text()
    assert f"observatory-pipelines:${{OBSERVATORY_VERSION:-{tag}}}" in compose
    assert tag != "latest" and re.fullmatch(r"\d+\.\d+\.\d+", tag)
    init_job = (HELM / "observatory-init-job.yaml").read_text()
    assert set(re.findall(r"image: (\S+)", init_job)) == {f"{images[0]['repository']}:{tag}"}


def test_the_user_code_deployment_is_our_code_server(values):
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] is True
    assert deployment["codeServerArgs"] == ["-m", "observatory_pipelines.definitions"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    for pod in (deployment, values["dagsterWebserver"], values["dagsterDaemon"]):
        assert pod["podSecurityContext"]["runAsUser"] == 10001  # the image's user
        assert {s["name"] for s in pod["envSecrets"]} == {"observatory-secrets"}
        assert {c["name"] for c in pod["envConfigMaps"]} == {"observatory-config"}


def test_runs_are_kubernetes_jobs_with_keys_the_launcher_knows(values):
    from dagster_k8s import K8sRunLauncher

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    config = values["runLauncher"]["config"]["k8sRunLauncher"]
    fields = K8sRunLauncher.config_type()
    assert {snake(k) for k in config} <= set(fields)
    run_k8s = fields["run_k8s_config"].config_type.fields
    assert {snake(k) for k in config["runK8sConfig"]} <= set(run_k8s)


def test_compute_logs_mirror_compose_with_keys_the_manager_knows(values, instance):
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager

    helm = values["computeLogManager"]
    assert helm["type"] == "S3ComputeLogManager"
    s3 = helm["config"]["s3ComputeLogManager"]
    assert {snake(k) for k in s3} <= set(S3ComputeLogManager.config_type())
    compose = instance["compute_logs"]["config"]
    assert instance["compute_logs"]["class"] == "S3ComputeLogManager"
    for key in ("prefix", "skip_empty_files", "upload_interval"):
        helm_key = re.sub(r"_(\w)", lambda m: m.group(1).upper(), key)
        assert s3[helm_key] == compose[key], key
    config_map = yaml.safe_load((HELM / "observatory-config.yaml").read_text())["data"]
    assert s3["bucket"] == config_map["DAGSTER_COMPUTE_LOG_BUCKET"]


def test_concurrency_and_monitoring_mirror_deploy_dagster_yaml(values, instance):
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator = instance["run_coordinator"]
    assert daemon["runCoordinator"]["type"] == coordinator["class"] == "QueuedRunCoordinator"
    assert queued["maxConcurrentRuns"] == coordinator["config"]["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == coordinator["config"]["tag_concurrency_limits"]
    for key, value in instance["run_monitoring"].items():
        helm_key = re.sub(r"_(\w)", lambda m: m.group(1).upper(), key)
        assert daemon["runMonitoring"][helm_key] == value, key
    assert daemon["runRetries"]["enabled"] == instance["run_retries"]["enabled"]
    assert daemon["runRetries"]["maxRetries"] == instance["run_retries"]["max_retries"]


def test_dagsters_storage_is_the_external_postgres_by_secret(values):
    postgres = values["postgresql"]
    assert postgres["enabled"] is False
    assert "postgresqlPassword" not in postgres  # the password lives in a Secret only
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert postgres["postgresqlDatabase"] == "dagster"
    config_map = yaml.safe_load((HELM / "observatory-config.yaml").read_text())["data"]
    assert postgres["postgresqlHost"] == config_map["POSTGRES_HOST"]
    assert postgres["service"]["port"] == int(config_map["POSTGRES_PORT"])


def test_the_config_map_holds_no_secret_and_matches_compose_names():
    config_map = yaml.safe_load((HELM / "observatory-config.yaml").read_text())["data"]
    secret_like = re.compile(r"PASSWORD|SECRET|KEY|TOKEN", re.IGNORECASE)
    assert not [name for name in config_map if secret_like.search(name)]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    compose_env = set(compose["x-observatory-env"])
    assert set(config_map) <= compose_env  # the same variables, for the cluster's hosts


def test_the_webserver_listens_and_is_probed_on_an_unprivileged_port(values):
    webserver = values["dagsterWebserver"]
    port = webserver["service"]["port"]  # the chart runs `dagster-webserver -p <this>`
    assert port >= 1024  # the image's user cannot bind below 1024
    for probe in ("readinessProbe", "livenessProbe"):
        assert webserver[probe]["httpGet"] == {"path": "/server_info", "port": port}


def test_config_map_and_secret_give_every_pod_the_production_environment():
    """What compose gives each service, the ConfigMap and Secret give each pod — except what
    only compose needs (its Docker launcher, its Dagster storage; the chart renders its own)."""
    config_map = yaml.safe_load((HELM / "observatory-config.yaml").read_text())["data"]
    secret = {}
    for line in (HELM / "observatory-secrets.example.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            secret[name] = value
    assert set(secret).isdisjoint(config_map)
    assert all(value == "" for value in secret.values())  # an example, never a secret
    compose_env = set(
        yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-observatory-env"]
    )
    compose_only = {
        "OBSERVATORY_IMAGE",
        "OBSERVATORY_DOCKER_NETWORK",
        "DAGSTER_POSTGRES_DB",
        "DAGSTER_COMPUTE_LOG_ENDPOINT_URL",
    }
    assert set(config_map) | set(secret) == compose_env - compose_only
