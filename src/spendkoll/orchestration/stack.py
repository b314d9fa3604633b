"""The production stack on this machine: PostgreSQL, Redis, Airflow's services and
Celery workers, started from Debian's packages with the compose file's environment.

The deployment test (``tests/integration/test_deployment_stack.py``, ``make
test-deployment``) and the benchmark of a night under the real scheduler
(``python -m spendkoll.orchestration.stack``) use it. Nothing here is a
scheduler of its own: the services are Airflow's, configured by
:data:`spendkoll.deployment.COMPOSE_ENVIRONMENT` rendered with this machine's
hosts, ports and throwaway secrets, exactly as docker compose renders it with
``.env``. What differs from the compose file is only where the services live
(one machine, free ports, a temporary directory) and, where the caller asks,
the timing variables the compose file reads from ``.env``
(``SPENDKOLL_HEARTBEAT_TIMEOUT_SECONDS``, ``SPENDKOLL_RETRY_DELAY_SECONDS``).

PostgreSQL is a throwaway cluster (``initdb`` in a temporary directory, run as
the ``postgres`` user when this process is root, since ``initdb`` refuses
root); Redis runs with persistence off. :meth:`Stack.stop` stops everything
that was started, also after a failure.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spendkoll.deployment import render_environment
from spendkoll.paths import project_root
from spendkoll.runtime import disable_telemetry

AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin(name: str) -> Path:
    """A PostgreSQL server program from Debian's package (the newest installed)."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
    )
    if found:
        return Path(found[-1])
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    raise StackError(
        f"PostgreSQL's {name} is not installed: `make services` installs Debian's "
        "postgresql and redis-server packages"
    )


def redis_bin() -> Path:
    found = shutil.which("redis-server")
    if not found:
        raise StackError(
            "redis-server is not installed: `make services` installs Debian's "
            "postgresql and redis-server packages"
        )
    return Path(found)


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Stack:
    """A throwaway deployment: ``with Stack(...) as stack: ...`` stops it at the end."""

    workdir: Path
    data_dir: Path
    organisations: Path | None = None
    sources: Path | None = None
    pseudonym_keys: dict[str, str] = field(default_factory=dict)  # Airflow Variable -> key
    overrides: dict[str, str] = field(default_factory=dict)  # .env values (timing knobs)
    services: dict[str, Service] = field(default_factory=dict)
    pg_dir: Path | None = None
    pg_port: int = 0
    redis_port: int = 0
    api_port: int = 0
    _env: dict[str, str] = field(default_factory=dict)

    # -- life cycle -----------------------------------------------------------------
    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, workers: int = 2) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.start_postgres()
        self.start_redis()
        self.api_port = free_port()
        self._env = self.environment()
        self.init_airflow()
        for name in AIRFLOW_SERVICES:
            self.start_service(name)
        for i in range(1, workers + 1):
            self.start_worker(f"w{i}")
        self.wait_for_api()

    def stop(self) -> None:
        for name in list(self.services):
            self.stop_service(name)
        if self.redis_port:
            with contextlib.suppress(Exception):
                subprocess.run(
                    ["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"],
                    capture_output=True,
                    timeout=20,
                    check=False,
                )
            self.redis_port = 0
        if self.pg_dir is not None:
            with contextlib.suppress(Exception):
                self._as_postgres(
                    [
                        str(postgres_bin("pg_ctl")),
                        "-D",
                        str(self.pg_dir / "data"),
                        "-m",
                        "immediate",
                        "stop",
                    ],
                    timeout=60,
                )
            shutil.rmtree(self.pg_dir, ignore_errors=True)
            self.pg_dir = None

    # -- PostgreSQL and Redis -------------------------------------------------------
    def _as_postgres(
        self, cmd: list[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise StackError(
                f"`{' '.join(cmd)}` failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
        return proc

    def start_postgres(self) -> None:
        # not under the caller's directory: /tmp/pytest-of-root is closed to the postgres user
        self.pg_dir = Path(tempfile.mkdtemp(prefix="spendkoll-pg-"))
        self.pg_dir.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        data = self.pg_dir / "data"
        self._as_postgres(
            [
                str(postgres_bin("initdb")),
                "-D",
                str(data),
                "-U",
                "airflow",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        self.pg_port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.pg_port} -k {self.pg_dir} "
            "-c fsync=off -c max_connections=200"
        )
        self._as_postgres(
            [
                str(postgres_bin("pg_ctl")),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.pg_dir / "postgres.log"),
                "-w",
                "start",
            ]
        )
        self._as_postgres(
            [
                str(postgres_bin("createdb")),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "airflow",
                "airflow",
            ]
        )

    def start_redis(self) -> None:
        self.redis_port = free_port()
        log = self.workdir / "logs" / "redis.log"
        proc = subprocess.Popen(
            [
                str(redis_bin()),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.services["redis"] = Service("redis", proc, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.redis_port), 1),
            ):
                return
            time.sleep(0.2)
        raise StackError(f"redis did not start: {log.read_text()[-2000:]}")

    # -- Airflow --------------------------------------------------------------------
    @property
    def sql_url(self) -> str:
        return f"postgresql://airflow@127.0.0.1:{self.pg_port}/airflow"

    def environment(self) -> dict[str, str]:
        """The compose file's environment for this machine, plus where things live."""
        jwt = secrets.token_hex(32)
        from cryptography.fernet import Fernet

        dotenv = {
            "POSTGRES_USER": "airflow",
            "POSTGRES_PASSWORD": "trust-auth-throwaway",
            "POSTGRES_DB": "airflow",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(self.pg_port),
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis_port),
            "API_SERVER_HOST": "127.0.0.1",
            "API_SERVER_PORT": str(self.api_port),
            "AIRFLOW_JWT_SECRET": jwt,
            "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW_ADMIN_USER": "admin",
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_hex(12),
            "SPENDKOLL_PSEUDONYM_KEY": secrets.token_hex(32),
            "SPENDKOLL_DATA_DIR": str(self.data_dir),
            "SPENDKOLL_SOURCES": str(self.sources or project_root() / "include/sources/demo.toml"),
            "SPENDKOLL_ORGANISATIONS": str(self.organisations or ""),
            "SPENDKOLL_RULE_SET": "demo_region",
            # the demo data are historical: a stale source warns, it does not block
            "SPENDKOLL_FRESHNESS_BLOCKING": "false",
            **self.overrides,
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SPENDKOLL_"))}
        disable_telemetry(env)
        env.update(dotenv)  # compose's `env_file: .env`
        env.update(render_environment(dotenv))  # then its `environment:`
        root = project_root()
        env.update(
            {
                # what the image bakes in (Dockerfile): the project's DAGs and plugins
                "AIRFLOW_HOME": str(self.workdir / "airflow"),
                "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.workdir / "airflow" / "logs"),
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "SPENDKOLL_HOME": str(root),
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            }
        )
        # each organisation's key: the Airflow Variable its config names, from the environment
        for name, key in self.pseudonym_keys.items():
            env[f"AIRFLOW_VAR_{name.upper()}"] = key
        return env

    @property
    def env(self) -> dict[str, str]:
        return dict(self._env)

    def airflow(self, *args: str, timeout: float = 600) -> str:
        cmd = [str(Path(sys.executable).with_name("airflow")), *args]
        proc = subprocess.run(
            cmd, env=self._env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise StackError(
                f"`airflow {' '.join(args)}` failed: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
            )
        return proc.stdout

    def init_airflow(self) -> None:
        """The compose file's airflow-init: check, migrate, the admin user, the pools."""
        spendkoll = str(Path(sys.executable).with_name("spendkoll"))
        check = subprocess.run(
            [spendkoll, "check-deployment"],
            env=self._env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise StackError(f"spendkoll check-deployment: {check.stderr}")
        Path(self._env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate")
        self.airflow(
            "users",
            "create",
            "--username",
            self._env["AIRFLOW_ADMIN_USER"],
            "--password",
            self._env["AIRFLOW_ADMIN_PASSWORD"],
            "--role",
            "Admin",
            "--firstname",
            "spendkoll",
            "--lastname",
            "admin",
            "--email",
            "admin@localhost",
        )
        pools = subprocess.run(
            [spendkoll, "airflow-pools"], env=self._env, capture_output=True, text=True, check=False
        )
        if pools.returncode != 0:
            raise StackError(f"spendkoll airflow-pools: {pools.stdout}{pools.stderr}")

    def start_service(
        self, name: str, *args: str, extra_env: dict[str, str] | None = None
    ) -> Service:
        log = self.workdir / "logs" / f"{name}.log"
        cmd = [str(Path(sys.executable).with_name("airflow")), *(args or (name,))]
        proc = subprocess.Popen(
            cmd,
            env={**self._env, **(extra_env or {})},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() takes its children too
        )
        service = Service(name, proc, log)
        self.services[name] = service
        return service

    def start_worker(self, name: str) -> Service:
        """``airflow celery worker`` as the compose file's worker service runs it."""
        return self.start_service(
            name,
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@%h",
            "--queues",
            "default",
            extra_env={"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
        )

    def kill_service(self, name: str) -> list[int]:
        """SIGKILL a service and every process under it (a worker with its task
        processes), as a machine that dies would; returns the pids killed."""
        import psutil

        service = self.services.pop(name)
        try:
            root = psutil.Process(service.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.proc.pid, signal.SIGKILL)
        service.proc.wait(timeout=30)
        return [p.pid for p in procs]

    def stop_service(self, name: str) -> None:
        service = self.services.pop(name, None)
        if service is None or service.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.proc.pid, signal.SIGTERM)
        try:
            service.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.proc.pid, signal.SIGKILL)
            service.proc.wait(timeout=30)

    def worker_of(self, pid: int) -> str | None:
        """The worker whose process tree holds ``pid`` (a task's process)."""
        import psutil

        for name, service in self.services.items():
            if not name.startswith("w"):
                continue
            with contextlib.suppress(psutil.NoSuchProcess):
                tree = {p.pid for p in psutil.Process(service.proc.pid).children(recursive=True)}
                if pid in tree or pid == service.proc.pid:
                    return name
        return None

    def wait_for_api(self, timeout: float = 180) -> None:
        import urllib.request

        url = f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(Exception), urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310
                if r.status == 200:
                    return
            time.sleep(1)
        raise StackError(f"the api-server did not answer on {url} within {timeout:.0f} s")

    def check_alive(self) -> None:
        for service in self.services.values():
            code = service.proc.poll()
            if code is not None:
                tail = service.log.read_text(errors="replace")[-3000:]
                raise StackError(f"{service.name} exited ({code}):\n{tail}")

    # -- the metadata database ------------------------------------------------------
    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        con = psycopg2.connect(self.sql_url)
        try:
            with con, con.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description else []
        finally:
            con.close()

    def wait_for(
        self,
        what: str,
        condition: Callable[[], Any],
        timeout: float,
        every: float = 1.0,
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            result = condition()
            if result:
                return result
            time.sleep(every)
        raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.diagnosis()}")

    def diagnosis(self) -> str:
        rows = self.query(
            "select dag_id, task_id, state, try_number from task_instance order by dag_id, task_id"
        )
        return "\n".join(f"  {d} {t} {s} try {n}" for d, t, s, n in rows)

    def dag_ids(self) -> set[str]:
        return {r[0] for r in self.query("select dag_id from dag where is_stale is not true")}

    def unpause(self, pattern: str) -> None:
        self.airflow("dags", "unpause", "--treat-dag-id-as-regex", "-y", pattern)

    def runs(self, dag_id_like: str) -> list[tuple[str, str, str]]:
        return [
            (d, s, str(t))
            for d, s, t in self.query(
                "select dag_id, state, run_type from dag_run where dag_id like %s order by id",
                dag_id_like,
            )
        ]


@contextlib.contextmanager
def running_stack(**kwargs: Any) -> Iterator[Stack]:
    stack = Stack(**kwargs)
    with stack:
        yield stack


# -- a night under the real scheduler (the benchmark) --------------------------------
def night_dag_ids(org_ids: Sequence[str]) -> list[str]:
    names = ["load_ledger", "load_contracts", "load_ecommerce", "transform"]
    return [f"spendkoll_{n}__{o}" for o in org_ids for n in names]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spendkoll.orchestration.stack --organisations FILE --workers N``:
    generate the organisations' demo files, start the stack, unpause the DAGs and
    time the night until every organisation's marts are published."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument(
        "--organisations", default=str(project_root() / "include/organisations/demo.toml")
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--workdir", default=None)
    p.add_argument("--timeout", type=float, default=3600)
    args = p.parse_args(argv)
    from spendkoll.organisations import load_organisations

    work = Path(args.workdir or tempfile.mkdtemp(prefix="spendkoll-stack-"))
    data = work / "data"
    orgs = load_organisations(Path(args.organisations))
    subprocess.run(
        [
            str(Path(sys.executable).with_name("spendkoll")),
            "--data-dir",
            str(data),
            "generate",
            "--organisations",
            args.organisations,
        ],
        check=True,
    )
    keys = {o.pseudonym_key_secret: secrets.token_hex(32) for o in orgs}
    result = run_night_on_stack(
        work, data, Path(args.organisations), keys, [o.id for o in orgs], args.workers, args.timeout
    )
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


def run_night_on_stack(
    work: Path,
    data: Path,
    organisations: Path,
    keys: dict[str, str],
    org_ids: Sequence[str],
    workers: int,
    timeout: float,
) -> dict[str, Any]:
    """Start the stack, unpause the night's DAGs, wait for every transform: the figures."""
    stack = Stack(
        workdir=work / "stack",
        data_dir=data,
        organisations=organisations,
        pseudonym_keys=keys,
        overrides={"SPENDKOLL_WORKER_CONCURRENCY": "4"},
    )
    try:
        started = time.monotonic()
        stack.start(workers=workers)
        up = time.monotonic() - started
        expected = set(night_dag_ids(org_ids))
        stack.wait_for("the DAGs to be parsed", lambda: expected <= stack.dag_ids(), 300)
        t0 = time.monotonic()
        stack.unpause("^spendkoll_(load_(ledger|contracts|ecommerce)|transform)__")
        transforms = [f"spendkoll_transform__{o}" for o in org_ids]

        def done() -> bool:
            rows = stack.query(
                "select dag_id, state from dag_run where dag_id = any(%s)", transforms
            )
            finished = {d for d, s in rows if s in ("success", "failed")}
            return set(transforms) <= finished

        sampler = _MemorySampler(stack)
        sampler.start()
        try:
            stack.wait_for("every organisation's transform", done, timeout, every=2)
        finally:
            sampler.stop()
        night = time.monotonic() - t0
        runs = stack.query(
            "select dag_id, state, extract(epoch from end_date - start_date) from dag_run "
            "where dag_id like 'spendkoll_%%' order by dag_id"
        )
        disk = {o: _du(data / "orgs" / o) for o in org_ids}
        return {
            "ok": all(s == "success" for d, s, _ in runs),
            "workers": workers,
            "worker_concurrency": int(stack.env["AIRFLOW__CELERY__WORKER_CONCURRENCY"]),
            "peak_workers_rss_gib": round(sampler.peak / 2**30, 2),
            "disk_per_organisation_mib": {o: round(b / 2**20, 1) for o, b in disk.items()},
            "organisations": list(org_ids),
            "stack_start_seconds": round(up, 1),
            "night_seconds": round(night, 1),
            "runs": {d: {"state": s, "seconds": float(sec or 0)} for d, s, sec in runs},
        }
    finally:
        stack.stop()


class _MemorySampler:
    """The peak of the workers' resident memory, their task and dbt processes included."""

    def __init__(self, stack: Stack, every: float = 0.5) -> None:
        import threading

        self.stack, self.every, self.peak = stack, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for name, service in list(self.stack.services.items()):
                if not name.startswith("w"):
                    continue
                with contextlib.suppress(psutil.NoSuchProcess):
                    root = psutil.Process(service.proc.pid)
                    for p in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.NoSuchProcess):
                            total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


if __name__ == "__main__":
    raise SystemExit(main())
