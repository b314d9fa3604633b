"""The deployment files follow the tested configuration (issue 16): docker-compose.yml
and the Helm values hold `spendkoll.deployment.COMPOSE_ENVIRONMENT`, the environment
the deployment test starts PostgreSQL, Redis, the Airflow services and the Celery
workers with, and `render_environment` renders it as docker compose does."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from conftest import GOOD_ENV, ROOT

from spendkoll.deployment import COMPOSE_ENVIRONMENT, REQUIRED, SECRETS, render_environment
from spendkoll.errors import ConfigError

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
HELM_VALUES = ROOT / "deploy" / "helm" / "values.yaml"
# Not Airflow: their own images, environments and healthchecks.
NOT_AIRFLOW = {"postgres", "redis"}
# One-shot: the other services wait for it to complete, not to be healthy.
ONE_SHOT = {"airflow-init"}
# ${NAME}, ${NAME:-default} or ${NAME:?message}; $${...} is compose's escaped `$`.
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:-|:\?)?")
# What the Helm chart sets itself, and the value it sets it from (() when it is
# always the chart's: the api-server Service it creates).
CHART_MANAGED: dict[str, tuple[str, ...]] = {
    "AIRFLOW__CORE__EXECUTOR": ("executor",),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": ("data", "metadataSecretName"),
    "AIRFLOW__CELERY__RESULT_BACKEND": ("data", "metadataSecretName"),
    "AIRFLOW__CELERY__BROKER_URL": ("redis", "enabled"),
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (),
    "AIRFLOW__CORE__FERNET_KEY": ("fernetKeySecretName",),
    "AIRFLOW__API_AUTH__JWT_SECRET": ("jwtSecretName",),
    "AIRFLOW__API__SECRET_KEY": ("apiSecretKeySecretName",),
}


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def helm_values() -> dict[str, Any]:
    return yaml.safe_load(HELM_VALUES.read_text(encoding="utf-8"))


def airflow_services() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in compose()["services"].items() if k not in NOT_AIRFLOW}


def env_example_names() -> set[str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"[A-Z_][A-Z0-9_]*=", line)}


def variables(text: str) -> list[tuple[str, str]]:
    """(name, operator) of every interpolated variable in ``text``."""
    return [(m["name"], m["op"] or "") for m in VARIABLE.finditer(text)]


def compose_default(key: str) -> str:
    """What the compose environment gives ``key`` when .env does not set it."""
    return render_environment({}, {key: COMPOSE_ENVIRONMENT[key]})[key]


# --- docker-compose.yml ---------------------------------------------------------------


def test_compose_common_environment_is_the_tested_one() -> None:
    common = compose()["x-spendkoll-common"]["environment"]
    assert common == COMPOSE_ENVIRONMENT
    assert list(common) == list(COMPOSE_ENVIRONMENT)


def test_every_airflow_service_merges_the_common_anchor() -> None:
    # On the YAML graph: an alias is the very node its anchor names.
    root = {k.value: v for k, v in yaml.compose(COMPOSE.read_text(encoding="utf-8")).value}
    common = root["x-spendkoll-common"]
    common_env = {k.value: v for k, v in common.value}["environment"]
    for key, node in root["services"].value:
        merged = [v for k, v in node.value if k.value == "<<"]
        if key.value in NOT_AIRFLOW:
            assert not merged, key.value
            continue
        assert merged and merged[0] is common, key.value
        own_env = [v for k, v in node.value if k.value == "environment"]
        if own_env:  # its own environment must merge the common one
            assert [v for k, v in own_env[0].value if k.value == "<<"] == [common_env]
    for name, service in airflow_services().items():
        env = dict(service["environment"])
        if name == "worker":
            assert env.pop("DUMB_INIT_SETSID") == "0"
        assert env == COMPOSE_ENVIRONMENT, name
        assert service["env_file"] == ".env", name
        assert service["build"] == "." and service["image"] == "spendkoll:latest", name
        assert "spendkoll-data:/data" in service["volumes"], name
        assert "airflow-logs:/opt/airflow/logs" in service["volumes"], name


def test_every_service_has_a_healthcheck() -> None:
    for name, service in compose()["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        assert service.get("healthcheck", {}).get("test"), name
    services = compose()["services"]
    for name in ("api-server", "scheduler", "dag-processor", "triggerer", "worker"):
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name


def test_the_executor_is_celery_with_a_redis_service() -> None:
    doc = compose()
    assert COMPOSE_ENVIRONMENT["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert doc["x-spendkoll-common"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert COMPOSE_ENVIRONMENT["AIRFLOW__CELERY__BROKER_URL"].startswith(
        "redis://${REDIS_HOST:-redis}"
    )
    redis = doc["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "postgres" in doc["services"]


def test_the_worker_service_scales() -> None:
    worker = compose()["services"]["worker"]
    assert worker["command"] == "airflow celery worker"
    # `docker compose up --scale worker=N` needs no fixed name and no host port
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"
    check = " ".join(worker["healthcheck"]["test"])
    assert "celery --app airflow.providers.celery.executors.celery_executor.app" in check
    assert 'inspect ping -d "celery@$${HOSTNAME}"' in check


def test_airflow_init_creates_the_warehouse_pools_with_spendkoll() -> None:
    init = compose()["services"]["airflow-init"]["command"][1]
    steps = [line.strip() for line in init.splitlines() if line.strip()]
    assert steps[:2] == ["set -e", "spendkoll check-deployment"]
    assert steps[-1] == 'su airflow -c "spendkoll airflow-pools"'
    assert "airflow pools set" not in init


# --- render_environment ------------------------------------------------------------------


def test_render_environment_gives_concrete_values() -> None:
    env = render_environment(GOOD_ENV)
    assert set(env) == set(COMPOSE_ENVIRONMENT)
    assert not [k for k, v in env.items() if "${" in v]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(
        "://airflow:a-database-password@postgres:5432/airflow"
    )
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == GOOD_ENV["AIRFLOW_JWT_SECRET"]
    assert env["AIRFLOW__API__SECRET_KEY"] == GOOD_ENV["AIRFLOW_JWT_SECRET"]
    assert env["AIRFLOW__CORE__FERNET_KEY"] == GOOD_ENV["AIRFLOW_FERNET_KEY"]
    assert env["SPENDKOLL_PSEUDONYM_KEY"] == GOOD_ENV["SPENDKOLL_PSEUDONYM_KEY"]
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "4"
    assert env["SPENDKOLL_ORGANISATIONS"] == ""
    # what .env sets wins; an empty value counts as unset, as in docker compose
    moved = render_environment(
        {**GOOD_ENV, "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "16379", "SPENDKOLL_RULE_SET": ""}
    )
    assert moved["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:16379/0"
    assert moved["SPENDKOLL_RULE_SET"] == "kommun_bas"


REQUIRED_IN_COMPOSE = sorted(
    {name for v in COMPOSE_ENVIRONMENT.values() for name, op in variables(v) if op == ":?"}
)


@pytest.mark.parametrize("name", REQUIRED_IN_COMPOSE)
@pytest.mark.parametrize("value", [None, ""])
def test_render_environment_names_a_missing_required_variable(name: str, value: str | None) -> None:
    env = {k: v for k, v in GOOD_ENV.items() if k != name}
    if value is not None:
        env[name] = value
    with pytest.raises(ConfigError, match=rf"^{name} is not set"):
        render_environment(env)


def test_every_variable_has_a_default_or_is_in_env_example() -> None:
    documented = env_example_names()
    texts = [*COMPOSE_ENVIRONMENT.values(), COMPOSE.read_text(encoding="utf-8")]
    for text in texts:
        for name, op in variables(text):
            assert op == ":-" or name in documented, name
    # what the compose file requires is what `spendkoll check-deployment` checks
    assert set(REQUIRED_IN_COMPOSE) == set(REQUIRED)
    assert set(REQUIRED) <= documented
    for name in SECRETS:
        used = [op for v in COMPOSE_ENVIRONMENT.values() for n, op in variables(v) if n == name]
        assert used and set(used) == {":?"}, name


# --- deploy/helm/values.yaml ----------------------------------------------------------


def _get(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        values = values[key]
    return values


def test_helm_values_use_celery_with_two_workers() -> None:
    values = helm_values()
    assert values["executor"] == "CeleryExecutor"
    assert values["workers"]["celery"]["replicas"] == 2
    assert values["workers"]["replicas"] == 2
    assert values["redis"]["enabled"] is True
    assert "NOT TESTED HERE" in HELM_VALUES.read_text(encoding="utf-8")


def test_helm_values_set_the_compose_environment() -> None:
    values = helm_values()
    env = {e["name"]: e["value"] for e in values["env"]}
    from_secrets = {s["envName"] for s in values["secret"]}
    config = values["config"]
    for key, path in CHART_MANAGED.items():
        assert key in COMPOSE_ENVIRONMENT, key
        assert key not in env and key not in from_secrets, key
        if path:
            assert _get(values, path), (key, path)
    for key in COMPOSE_ENVIRONMENT:
        if not key.startswith(("SPENDKOLL_", "AIRFLOW__")) or key in CHART_MANAGED:
            continue
        template = COMPOSE_ENVIRONMENT[key]
        secret = any(op == ":?" for _, op in variables(template))
        if secret:
            assert key in from_secrets and key not in env, key
        elif key in env:
            assert str(env[key]) == compose_default(key), key
        else:
            _, section, option = key.lower().split("__")
            assert option in config.get(section, {}), f"{key} is not set in the Helm values"
            assert str(config[section][option]) == compose_default(key), key
    # nothing in `env` the compose environment does not have
    assert set(env) <= set(COMPOSE_ENVIRONMENT)
    assert "AIRFLOW_ADMIN_PASSWORD" in from_secrets


def test_helm_values_take_secrets_from_kubernetes_secrets() -> None:
    values = helm_values()
    for plain in ("fernetKey", "jwtSecret", "apiSecretKey", "webserverSecretKey"):
        assert not values.get(plain), plain
    assert values["data"].get("metadataConnection") is None
    for entry in values["secret"]:
        assert entry["secretName"] and entry["secretKey"], entry
    # the organisations' keys, AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_<ID>, from a secret
    assert "secretRef" in values["extraEnvFrom"]
    assert "$AIRFLOW_ADMIN_PASSWORD" in " ".join(values["createUserJob"]["args"])


def test_helm_values_share_data_and_create_the_pools() -> None:
    values = helm_values()
    mounts = {m["mountPath"]: m["name"] for m in values["volumeMounts"]}
    volumes = {v["name"]: v for v in values["volumes"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"]
    assert "ReadWriteMany" in HELM_VALUES.read_text(encoding="utf-8")
    assert "spendkoll airflow-pools" in " ".join(values["migrateDatabaseJob"]["args"])
    assert values["images"]["useDefaultImageForMigration"] is False
    assert values["images"]["airflow"]["repository"].endswith("spendkoll")
