"""Running the DAGs on one machine: the demo, the benchmark and `airflow standalone`.

Airflow's home, its SQLite metadata database and its logs live under the data
directory (``var/airflow``); the DAGs folder is the project's ``dags/``.

:func:`run_night` runs a night's DAGs one after the other in **one** Airflow
process, each with ``DAG.test()`` (what ``airflow dags test`` calls), so
Airflow starts, and its in-process execution API warms up, once per night, as
in a running deployment whose scheduler and API server are up, rather than once
per DAG. ``python -m spendkoll.orchestration.local_airflow DATE DAG_ID...`` is
that process.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spendkoll.keys import ENV_VAR
from spendkoll.orchestration.assets import organisations_to_serve, warehouse_pool
from spendkoll.paths import DataDir, project_root
from spendkoll.runtime import disable_telemetry


def demo_key(data: DataDir) -> str:
    """A random pseudonymisation key for the demo, kept in the data directory (never in git)."""
    path = data.root / "secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def airflow_env(data: DataDir, sources: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    disable_telemetry(env)
    root = project_root()
    home = data.airflow_home
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get(
                "AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"
            ),
            "SPENDKOLL_DATA_DIR": str(data.root),
            "SPENDKOLL_HOME": str(root),
            "SPENDKOLL_TASK_RETRIES": env.get("SPENDKOLL_TASK_RETRIES", "0"),
            # `airflow standalone` starts its components as `airflow ...` through PATH.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    if sources is not None:
        env["SPENDKOLL_SOURCES"] = str(sources)
    if not env.get(ENV_VAR):
        env[ENV_VAR] = demo_key(data)
    return env


def airflow(env: dict[str, str], *args: str, quiet: bool = True) -> None:
    cmd = [str(Path(sys.executable).with_name("airflow")), *args]
    proc = subprocess.run(cmd, env=env, capture_output=quiet, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stdout or "")[-4000:] + (proc.stderr or "")[-4000:] if quiet else ""
        raise RuntimeError(f"`airflow {' '.join(args)}` failed ({proc.returncode})\n{detail}")


def setup_airflow(env: dict[str, str]) -> None:
    """Metadata database, the single-writer pool, and the DAGs serialised."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow(env, "db", "migrate")
    set_pools(env)
    airflow(env, "dags", "reserialize")


def warehouse_pools() -> dict[str, dict[str, Any]]:
    """One one-slot pool per warehouse (per organisation served), as `airflow pools
    import` reads them."""
    return {
        warehouse_pool(org): {
            "slots": 1,
            "description": "spendkoll: one DuckDB writer at a time"
            + (f" ({org.name})" if org else ""),
            "include_deferred": False,
        }
        for org in organisations_to_serve()
    }


def set_pools(env: dict[str, str]) -> None:
    """Create or update the warehouse pools in Airflow's metadata database."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(warehouse_pools(), f)
    try:
        airflow(env, "pools", "import", f.name)
    finally:
        Path(f.name).unlink(missing_ok=True)


class DagRunFailed(RuntimeError):
    pass


def run_dag(
    env: dict[str, str], dag_id: str, logical_date: str, conf: dict[str, str] | None = None
) -> dict[str, Any]:
    """`airflow dags test`, then the run as Airflow recorded it (the command exits 0
    either way; a run that did not succeed raises DagRunFailed)."""
    airflow(env, "dags", "test", dag_id, logical_date, *(["-c", json.dumps(conf)] if conf else []))
    return latest_run(env, dag_id, logical_date)


NIGHT_MARK = "spendkoll-night: "


@dataclass
class NightRun:
    dag_id: str
    state: str
    seconds: float  # wall time of DAG.test() inside the night's process


@dataclass
class Night:
    runs: list[NightRun]
    peak_bytes: int  # the process's peak resident memory


def run_night(
    env: dict[str, str],
    logical_date: str,
    dag_ids: Sequence[str],
    on_run: Callable[[NightRun], None] | None = None,
) -> Night:
    """The DAGs in order in one Airflow process (see the module's doc); a DAG whose
    run fails does not stop the ones after it. ``on_run`` sees each run as it
    ends. Airflow's own output is kept back unless the process fails."""
    cmd = [sys.executable, "-m", "spendkoll.orchestration.local_airflow", logical_date, *dag_ids]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    runs: list[NightRun] = []
    tail: list[str] = []
    for line in proc.stdout:
        if line.startswith(NIGHT_MARK):
            run = NightRun(**json.loads(line[len(NIGHT_MARK) :]))
            runs.append(run)
            if on_run is not None:
                on_run(run)
        else:
            tail = [*tail[-200:], line]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or len(runs) != len(dag_ids):
        raise RuntimeError(
            f"the night's Airflow process failed ({proc.returncode})\n" + "".join(tail)
        )
    return Night(runs, usage.ru_maxrss * 1024)


def _night_process(logical_date: str, dag_ids: Sequence[str]) -> int:
    import time

    from airflow.dag_processing.dagbag import DagBag

    when = datetime.fromisoformat(logical_date).replace(tzinfo=UTC)
    bag = DagBag()
    for dag_id in dag_ids:
        started = time.perf_counter()
        state = "failed"
        try:
            run = bag.get_dag(dag_id).test(logical_date=when)
            state = str(getattr(run.state, "value", run.state))
        except Exception as exc:  # noqa: BLE001 - the next DAG still runs, as in a scheduler
            print(f"{dag_id}: {type(exc).__name__}: {exc}", flush=True)
        record = {"dag_id": dag_id, "state": state, "seconds": time.perf_counter() - started}
        print(NIGHT_MARK + json.dumps(record), flush=True)
    return 0


def latest_run(env: dict[str, str], dag_id: str, logical_date: str) -> dict[str, Any]:
    """The latest run of ``dag_id`` for ``logical_date`` (YYYY-MM-DD), which must have
    succeeded."""
    cmd = [str(Path(sys.executable).with_name("airflow")), "dags", "list-runs", dag_id]
    proc = subprocess.run([*cmd, "-o", "json"], env=env, capture_output=True, text=True, check=True)
    # Warnings may come first; the JSON list is the last line that starts with '['.
    json_lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("[")]
    runs = json.loads(json_lines[-1]) if json_lines else []
    mine = [r for r in runs if str(r.get("logical_date", "")).startswith(logical_date)]
    if not mine:
        raise DagRunFailed(f"{dag_id}: no run for {logical_date} found after `dags test`")
    latest: dict[str, Any] = max(mine, key=lambda r: str(r.get("run_after") or ""))
    if latest["state"] != "success":
        raise DagRunFailed(
            f"{dag_id} run {latest['run_id']} ended {latest['state']}; see the task log under "
            f"{env['AIRFLOW_HOME']}/logs"
        )
    return latest


def run_seconds(run: dict[str, Any]) -> float:
    """A run's duration as Airflow recorded it, from its start to its end date.
    `airflow dags test` records the logical date as the start date, so the start is
    the later of that and the run's creation (run_after) that is not after the end
    (a logical date in the future is no start)."""
    end = datetime.fromisoformat(str(run["end_date"]))
    starts = [
        datetime.fromisoformat(str(run[k])) for k in ("start_date", "run_after") if run.get(k)
    ]
    return (end - max(t for t in starts if t <= end)).total_seconds()


if __name__ == "__main__":
    sys.exit(_night_process(sys.argv[1], sys.argv[2:]))
