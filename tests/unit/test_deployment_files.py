"""The shipped deployment files keep telemetry off and hold no secret."""

from __future__ import annotations

import re

import yaml
from conftest import GOOD_ENV, ROOT

from spendkoll.runtime import TELEMETRY_OFF

DEPLOY_SWITCHES = {k: v for k, v in TELEMETRY_OFF.items() if k != "AIRFLOW__CORE__LOAD_EXAMPLES"}


def test_dockerfile_turns_every_telemetry_switch_off():
    text = (ROOT / "Dockerfile").read_text()
    for key, value in DEPLOY_SWITCHES.items():
        assert re.search(rf"{key}={re.escape(value)}\b", text), key
    assert "requirements.lock" in text and "--require-hashes" in text


def test_compose_services_turn_telemetry_off_and_use_the_lock_built_image():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    common = compose["x-spendkoll-common"]
    for key, value in DEPLOY_SWITCHES.items():
        assert str(common["environment"][key]) == value, key
    assert common["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert {
        "postgres",
        "redis",
        "worker",
        "airflow-init",
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
    } <= set(compose["services"])


def test_no_default_password_in_the_repository():
    text = (ROOT / "docker-compose.yml").read_text()
    # Every secret is required from .env: ${VAR:?...}, never ${VAR:-default}.
    for var in (
        "POSTGRES_PASSWORD",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
        "SPENDKOLL_PSEUDONYM_KEY",
    ):
        assert re.search(rf"\$\{{{var}:\?", text), var
        assert not re.search(rf"\$\{{{var}:-", text), var
    example = (ROOT / ".env.example").read_text()
    for line in example.splitlines():
        if re.match(
            r"(POSTGRES_PASSWORD|AIRFLOW_JWT_SECRET|AIRFLOW_FERNET_KEY|"
            r"AIRFLOW_ADMIN_PASSWORD|SPENDKOLL_PSEUDONYM_KEY)=",
            line,
        ):
            assert line.endswith("=CHANGE_ME"), line
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_importing_spendkoll_turns_telemetry_off():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, spendkoll; print(os.environ['DO_NOT_TRACK'], "
            "os.environ['DBT_SEND_ANONYMOUS_USAGE_STATS'], os.environ['GX_ANALYTICS_ENABLED'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["1", "False", "False"]


def test_deployment_check_accepts_real_settings():
    from spendkoll.deployment import deployment_problems

    assert deployment_problems(GOOD_ENV) == []


def test_deployment_check_refuses_the_example_placeholders():
    from spendkoll.deployment import deployment_problems

    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    problems = deployment_problems(example)
    for name in (
        "POSTGRES_PASSWORD",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
        "SPENDKOLL_PSEUDONYM_KEY",
    ):
        assert any(p.startswith(f"{name} is still the placeholder CHANGE_ME") for p in problems)


def test_deployment_check_refuses_an_invalid_fernet_key_and_weak_secrets():
    from spendkoll.deployment import deployment_problems

    env = dict(
        GOOD_ENV,
        AIRFLOW_FERNET_KEY="not-a-fernet-key",
        AIRFLOW_JWT_SECRET="short",
        SPENDKOLL_PSEUDONYM_KEY="",
    )
    problems = deployment_problems(env)
    assert any("AIRFLOW_FERNET_KEY is not a valid Fernet key" in p for p in problems)
    assert "AIRFLOW_JWT_SECRET is shorter than 32 characters" in problems
    assert "SPENDKOLL_PSEUDONYM_KEY is not set (see .env.example)" in problems


def test_compose_uses_fab_and_checks_settings_before_anything_starts():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-spendkoll-common"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == (
        "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    )
    assert not any("SIMPLE_AUTH_MANAGER" in k for k in env)
    init = compose["services"]["airflow-init"]["command"][1]
    steps = [line.strip() for line in init.splitlines() if line.strip()]
    assert steps[:2] == ["set -e", "spendkoll check-deployment"]
    assert "airflow users create" in init and "--role Admin" in init
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        needs = compose["services"][name]["depends_on"]["airflow-init"]["condition"]
        assert needs == "service_completed_successfully"
    assert "apache-airflow-providers-fab" in (ROOT / "requirements.in").read_text()
