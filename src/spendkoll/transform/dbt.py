"""Running dbt (dbt-duckdb) on the warehouse, as the single writer.

dbt's target and log directories live under the data directory
(``var/dbt/``), so the project folder stays read-only.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import functools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb

from spendkoll.paths import DataDir, project_root
from spendkoll.runtime import disable_telemetry
from spendkoll.warehouse import RAW_DDL, writer_lock


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def dbt_env(data: DataDir) -> dict[str, str]:
    env = dict(os.environ)
    disable_telemetry(env)
    env.update(
        {
            "DBT_PROFILES_DIR": str(dbt_project_dir()),
            "DBT_PROJECT_DIR": str(dbt_project_dir()),
            "DBT_TARGET_PATH": str(data.root / "dbt" / "target"),
            "DBT_LOG_PATH": str(data.root / "dbt" / "logs"),
            "SPENDKOLL_WAREHOUSE": str(data.warehouse),
        }
    )
    seeds = seed_dir(data)
    if seeds is not None:
        env["SPENDKOLL_SEED_DIR"] = str(seeds)
    else:
        env.pop("SPENDKOLL_SEED_DIR", None)
    return env


def seed_dir(data: DataDir) -> Path | None:
    """The seeds dbt loads when ``SPENDKOLL_SEEDS`` replaces some (None: the project's).

    The project's seed files with the organisation's files of the same name put
    in their place, copied to ``<data>/dbt/seeds`` (dbt reads one seed path: two
    files of one name would be two seeds). A file with no project seed of its
    name is refused, so a misspelt override does not pass unnoticed.
    """
    import shutil

    from spendkoll.errors import ConfigError
    from spendkoll.settings import settings

    overrides = settings().seeds
    if overrides is None:
        return None
    project = dbt_project_dir() / "seeds"
    names = {p.name for p in project.glob("*.csv")}
    given = sorted(overrides.glob("*.csv"))
    unknown = [p.name for p in given if p.name not in names]
    if unknown:
        raise ConfigError(
            f"{overrides}: {', '.join(unknown)}: no seed of that name in the project "
            f"(expected some of {', '.join(sorted(names))})"
        )
    out = data.root / "dbt" / "seeds"
    staging = out.with_name("seeds.new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(project, staging)
    for p in given:
        shutil.copyfile(p, staging / p.name)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def run_dbt(
    args: list[str],
    data: DataDir | None = None,
    rule_set: str | None = None,
    capture: bool = True,
    dbt_vars: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``dbt <args>`` in the project, holding the warehouse's writer lock."""
    data = (data or DataDir.from_env()).ensure()
    cmd = [str(Path(sys.executable).with_name("dbt")), *args]
    all_vars = dict(dbt_vars or {})
    if rule_set:
        all_vars["spendkoll_rule_set"] = rule_set
    if all_vars:
        cmd += ["--vars", json.dumps(all_vars)]
    with _as_writer(data) as lock_fd:
        return subprocess.run(
            cmd,
            cwd=dbt_project_dir(),
            env=dbt_env(data),
            capture_output=capture,
            text=True,
            check=False,
            pass_fds=(lock_fd,),
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )


def run_in_project(cmd: list[str], data: DataDir, stream: bool = True) -> tuple[int, str]:
    """Run ``cmd`` (a dbt process) in the project as the warehouse's writer.

    Its output is printed line by line as it comes when ``stream`` (the Airflow
    task log, the terminal); the exit code and the last 8,000 characters are
    returned either way."""
    tail: collections.deque[str] = collections.deque(maxlen=400)
    with _as_writer(data) as lock_fd:
        proc = subprocess.Popen(
            cmd,
            cwd=dbt_project_dir(),
            env=dbt_env(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=(lock_fd,),
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line)
            if stream:
                print(line, end="", flush=True)
        code = proc.wait()
    return code, "".join(tail)[-8000:]


@contextlib.contextmanager
def _as_writer(data: DataDir) -> Iterator[int]:
    with writer_lock(data.warehouse) as lock_fd:
        if data.warehouse.exists():
            # raw tables added since the warehouse was created (dbt's sources must
            # exist before their first file is loaded, e.g. raw.dq_decision)
            with duckdb.connect(str(data.warehouse)) as con:
                con.execute(RAW_DDL)
        # dbt holds the writer lock too (the descriptor is inherited) and dies with
        # this process: killing `spendkoll transform` cannot leave dbt writing to
        # the warehouse while another writer takes the lock.
        yield lock_fd


def die_with_parent(parent: int) -> None:
    """In a child before exec: SIGKILL the child when its parent dies (Linux
    prctl PR_SET_PDEATHSIG); exit at once if the parent is already gone."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def generate_docs(data: DataDir | None = None, rule_set: str | None = None) -> Path:
    """The dbt docs site as one self-contained file, ``<data>/docs/dbt/index.html``."""
    data = (data or DataDir.from_env()).ensure()
    proc = run_dbt(["docs", "generate", "--static"], data, rule_set=rule_set)
    static = data.root / "dbt" / "target" / "static_index.html"
    if proc.returncode != 0 or not static.exists():
        raise RuntimeError("dbt docs generate failed:\n" + (proc.stdout or "")[-3000:])
    out = data.docs / "dbt" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(static.read_bytes())
    tmp.replace(out)
    return out
