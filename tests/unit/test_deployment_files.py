"""The shipped deployment files keep telemetry off and hold no secret."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT

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
    assert common["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert {"postgres", "airflow-init", "api-server", "scheduler", "dag-processor",
            "triggerer"} <= set(compose["services"])


def test_no_default_password_in_the_repository():
    text = (ROOT / "docker-compose.yml").read_text()
    # Every secret is required from .env: ${VAR:?...}, never ${VAR:-default}.
    for var in ("POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY",
                "SPENDKOLL_PSEUDONYM_KEY"):
        assert re.search(rf"\$\{{{var}:\?", text), var
        assert not re.search(rf"\$\{{{var}:-", text), var
    example = (ROOT / ".env.example").read_text()
    for line in example.splitlines():
        if re.match(r"(POSTGRES_PASSWORD|AIRFLOW_JWT_SECRET|AIRFLOW_FERNET_KEY|"
                    r"SPENDKOLL_PSEUDONYM_KEY)=", line):
            assert line.endswith("=CHANGE_ME"), line
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_importing_spendkoll_turns_telemetry_off():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    out = subprocess.run(
        [sys.executable, "-c", "import os, spendkoll; print(os.environ['DO_NOT_TRACK'], "
         "os.environ['DBT_SEND_ANONYMOUS_USAGE_STATS'], os.environ['GX_ANALYTICS_ENABLED'])"],
        env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", "False", "False"]
