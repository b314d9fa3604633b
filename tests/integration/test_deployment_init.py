"""The compose file's airflow-init steps, run for real on a throwaway SQLite
metadata database: the settings check refuses the placeholders, then the FAB
auth manager's database and admin user are created (issue 13, deployment
defaults) and the warehouse pools, one per organisation served (issue 16). The
full stack on PostgreSQL and Celery is issue 16's test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GOOD_ENV, ROOT

pytestmark = pytest.mark.slow


def run(step: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        ["bash", "-c", step],
        env={**env, "PATH": f"{bin_dir}:{env['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_airflow_init_refuses_placeholders_then_creates_the_fab_admin(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    common = compose["x-spendkoll-common"]["environment"]
    init = compose["services"]["airflow-init"]["command"][1]
    # the init steps that run as the airflow user, without su (no root here)
    steps = [line.strip() for line in init.splitlines() if line.strip().startswith("su airflow")]
    steps = [s.split(" -c ", 1)[1].strip()[1:-1].replace("$$", "$") for s in steps]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRFLOW") and k != "SPENDKOLL_ORGANISATIONS"
    }
    env.update(
        {
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__CORE__AUTH_MANAGER": common["AIRFLOW__CORE__AUTH_MANAGER"],
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        }
    )
    placeholders = {
        **env,
        **GOOD_ENV,
        **{
            k: "CHANGE_ME"
            for k in (
                "POSTGRES_PASSWORD",
                "AIRFLOW_JWT_SECRET",
                "AIRFLOW_FERNET_KEY",
                "AIRFLOW_ADMIN_PASSWORD",
                "SPENDKOLL_PSEUDONYM_KEY",
            )
        },
    }
    refused = run("spendkoll check-deployment", placeholders)
    assert refused.returncode == 1
    assert "AIRFLOW_FERNET_KEY is still the placeholder CHANGE_ME" in refused.stderr
    assert "nothing was started" in refused.stderr
    good = dict(env, **GOOD_ENV, AIRFLOW__CORE__FERNET_KEY=GOOD_ENV["AIRFLOW_FERNET_KEY"])
    assert run("spendkoll check-deployment", good).returncode == 0
    for step in steps:
        proc = run(step, good)
        assert proc.returncode == 0, (step, proc.stdout[-2000:], proc.stderr[-2000:])
    users = run("airflow users list -o plain", good)
    assert "admin" in users.stdout and "Admin" in users.stdout
    assert "spendkoll airflow-pools" in steps
    assert "spendkoll_warehouse" in run("airflow pools list -o plain", good).stdout.split()
    # a second init (a restart) leaves the admin as it is
    for step in steps:
        assert run(step, good).returncode == 0, step
    # with an organisations file, one one-slot pool per organisation
    orgs = dict(good, SPENDKOLL_ORGANISATIONS=str(ROOT / "include" / "organisations" / "demo.toml"))
    proc = run("spendkoll airflow-pools", orgs)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pools = {p["pool"]: p for p in json.loads(run("airflow pools list -o json", good).stdout)}
    for org in ("region_norr", "kommun_ost", "kommun_vast"):
        assert int(pools[f"spendkoll_warehouse__{org}"]["slots"]) == 1, org
