"""The production deployment, run for real (issue 16): PostgreSQL as Airflow's
metadata database, Redis as the Celery broker, Airflow's api-server, scheduler,
dag-processor and triggerer, and two Celery workers, all started from Debian's
packages with the compose file's environment (spendkoll.orchestration.stack).

Three demo organisations (include/organisations/demo.toml) get their landing
files; the test then only unpauses the DAGs and waits. Nothing is triggered by
hand and nothing runs through ``dags test``: the loads run on their schedule,
each organisation's transform starts on its loads' assets, publication starts
the monthly report and the comparison.

On the way the test

* SIGKILLs the worker running Region Norr's ledger load, in the middle of it,
  and later the worker running Region Norr's dbt build, in the middle of it
  (with its dbt process): the scheduler fails each task after the heartbeat
  timeout and the retry runs on the other worker; a replacement worker starts
  in between, as a restarted container would;
* drops a file that must be rejected into Östra kommun's ledger landing: that
  organisation's load fails and its transform does not run, the others go on.

Then it checks that nothing was lost or counted twice (raw and mart counts and
amounts equal the landing files), that no two tasks ever wrote one warehouse
at the same time (the per-organisation pools, across workers), the published
snapshots, the reports, the comparison (and that no organisation's rows reach
another's pages), and that everything started was stopped.

``make test-deployment`` runs this file alone; ``make test`` runs it with the
rest. It takes about six minutes on two cores.
"""

from __future__ import annotations

import csv
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import ROOT

from spendkoll.orchestration.stack import Stack, postgres_bin, redis_bin
from spendkoll.organisations import load_organisations

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("deployment")]

ORGS_FILE = ROOT / "include" / "organisations" / "demo.toml"
KILLED_ORG = "region_norr"  # its ledger load and its dbt build lose their worker
REJECTING_ORG = "kommun_ost"  # a file in its landing area is rejected
NIGHT_TIMEOUT = 1200


def _services_installed() -> bool:
    try:
        postgres_bin("initdb")
        redis_bin()
    except RuntimeError:
        return False
    return True


@dataclass
class Night:
    base: Path
    expected: dict[str, dict[str, Any]]
    runs: list[tuple[str, str, str]] = field(default_factory=list)
    tries: list[tuple[str, str, str, int, str, Any, Any, str]] = field(default_factory=list)
    kills: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_pids: list[int] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)


def _landing_figures(root: Path) -> dict[str, Any]:
    """What the landing files hold: ledger lines and amount (the planted malformed
    rows, which go to the quarantine, left out) and contract rows."""
    with (root / "demo" / "answers" / "quarantine_expected.csv").open(encoding="utf-8") as f:
        bad = {(r["file"], int(r["line"])) for r in csv.DictReader(f, delimiter=";")}
    lines, amount = 0, Decimal(0)
    for path in sorted((root / "landing" / "ledger").glob("ledger_*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for n, row in enumerate(csv.DictReader(f, delimiter=";"), start=2):
                if (path.name, n) in bad:
                    continue
                lines += 1
                amount += Decimal(row["amount_excl_vat"])
    return {"ledger_lines": lines, "ledger_amount": amount, "quarantined": len(bad)}


def _running(stack: Stack, dag_id: str, task_id: str) -> tuple[int, int] | None:
    rows = stack.query(
        "select pid, try_number from task_instance where dag_id = %s and task_id = %s "
        "and state = 'running' and pid is not null",
        dag_id,
        task_id,
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else None


def _kill_worker_running(
    stack: Stack, dag_id: str, task_id: str, ready: Any, timeout: float = 600
) -> dict[str, Any]:
    """Wait for the task to run and ``ready(pid)`` to hold, then SIGKILL its worker."""
    found: dict[str, Any] = {}

    def in_the_middle() -> bool:
        running = _running(stack, dag_id, task_id)
        if not running:
            return False
        pid, try_number = running
        worker = stack.worker_of(pid)
        if worker and ready(pid):
            found.update(pid=pid, try_number=try_number, worker=worker)
            return True
        return False

    stack.wait_for(f"{dag_id}.{task_id} to be running", in_the_middle, timeout, every=0.25)
    found["killed_pids"] = stack.kill_service(found["worker"])
    return found


def _has_child(pid: int, needle: str) -> bool:
    import psutil

    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for kid in kids:
        try:
            if needle in " ".join(kid.cmdline()):
                return True
        except psutil.NoSuchProcess:
            continue
    return False


def _holds_warehouse(pid: int) -> bool:
    """The task's process (or a child) has the warehouse open: it is writing it."""
    import psutil

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for proc in procs:
        try:
            if any(f.path.endswith("spendkoll.duckdb") for f in proc.open_files()):
                return True
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return False


def _retry_worker(stack: Stack, dag_id: str, task_id: str, after_try: int) -> str | None:
    """The worker running the retry (None until it runs)."""
    rows = stack.query(
        "select pid, try_number, state from task_instance where dag_id = %s and task_id = %s",
        dag_id,
        task_id,
    )
    if not rows or rows[0][1] is None or int(rows[0][1]) <= after_try:
        return None
    pid, _, state = rows[0]
    if state == "running" and pid:
        return stack.worker_of(int(pid)) or ""
    if state in ("success", "failed"):
        return ""  # finished before we looked
    return None


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    if not _services_installed():
        pytest.fail("PostgreSQL and Redis are needed: `make services` installs them")
    work = tmp_path_factory.mktemp("deployment")
    base = work / "data"
    spendkoll = str(Path(sys.executable).with_name("spendkoll"))
    subprocess.run(
        [spendkoll, "--data-dir", str(base), "generate", "--organisations", str(ORGS_FILE)],
        check=True,
        capture_output=True,
    )
    orgs = load_organisations(ORGS_FILE)
    expected = {o.id: _landing_figures(base / "orgs" / o.id) for o in orgs}
    # a file that is not a ledger export at all: rejected whole, after the good ones load
    (base / "orgs" / REJECTING_ORG / "landing" / "ledger" / "ledger_broken.csv").write_text(
        "this;is;not;a;ledger\n1;2;3;4;5\n", encoding="utf-8"
    )
    keys = {o.pseudonym_key_secret: secrets.token_hex(32) for o in orgs}
    stack = Stack(
        workdir=work / "stack",
        data_dir=base,
        organisations=ORGS_FILE,
        pseudonym_keys=keys,
        # the .env values the compose file reads, shortened so that a lost worker's
        # task is failed and retried within the test
        overrides={
            "SPENDKOLL_WORKER_CONCURRENCY": "2",
            "SPENDKOLL_HEARTBEAT_TIMEOUT_SECONDS": "20",
            "SPENDKOLL_RETRY_DELAY_SECONDS": "5",
            "SPENDKOLL_TASK_RETRIES": "2",
        },
    )
    result = Night(base=base, expected=expected)
    try:
        stack.start(workers=2)
        result.ports = [stack.pg_port, stack.redis_port, stack.api_port]
        ids = {o.id for o in orgs}
        wanted = {
            f"spendkoll_{d}__{o}"
            for o in ids
            for d in (
                "load_ledger",
                "load_contracts",
                "load_ecommerce",
                "transform",
                "monthly_report",
            )
        } | {"spendkoll_comparison"}
        stack.wait_for("the DAGs to be parsed", lambda: wanted <= stack.dag_ids(), 300)
        started = time.monotonic()
        stack.unpause("^spendkoll_")

        # 1. a worker dies in the middle of Region Norr's ledger load
        load = f"spendkoll_load_ledger__{KILLED_ORG}"
        result.kills["load"] = _kill_worker_running(stack, load, "load_ledger", _holds_warehouse)
        first = result.kills["load"]["try_number"]
        result.kills["load"]["retry_worker"] = stack.wait_for(
            "the ledger load's retry",
            lambda: _retry_worker(stack, load, "load_ledger", first),
            300,
        )
        stack.start_worker("w3")  # the replacement, as a restarted container

        # 2. a worker dies in the middle of Region Norr's dbt build (dbt is running)
        transform = f"spendkoll_transform__{KILLED_ORG}"
        result.kills["dbt_build"] = _kill_worker_running(
            stack,
            transform,
            "dbt_build",
            lambda pid: _has_child(pid, "spendkoll.transform.night"),
        )
        first = result.kills["dbt_build"]["try_number"]
        result.kills["dbt_build"]["retry_worker"] = stack.wait_for(
            "the dbt build's retry",
            lambda: _retry_worker(stack, transform, "dbt_build", first),
            300,
        )

        # 3. wait: the published organisations' reports, then the comparison of both
        published = sorted(ids - {REJECTING_ORG})

        def finished() -> bool:
            runs = stack.runs("spendkoll_%")
            if any(state not in ("success", "failed") for _, state, _ in runs):
                return False
            done = {(d, s, t) for d, s, t in runs}
            need = {
                (f"spendkoll_{d}__{o}", "success", t)
                for o in published
                for d, t in (
                    ("transform", "asset_triggered"),
                    ("monthly_report", "asset_triggered"),
                )
            }
            if not need <= done:
                return False
            return set(published) <= _compared(base)

        stack.wait_for("the night to finish", finished, NIGHT_TIMEOUT, every=2)
        result.seconds = time.monotonic() - started
        result.runs = stack.runs("spendkoll_%")
        result.tries = [
            (d, t, s or "", int(n), p or "", a, b, h or "")
            for d, t, s, n, p, a, b, h in stack.query(
                "select dag_id, task_id, state, try_number, pool, start_date, end_date, hostname "
                "from task_instance_history union all "
                "select dag_id, task_id, state, try_number, pool, start_date, end_date, hostname "
                "from task_instance"
            )
        ]
    finally:
        pids = [s.proc.pid for s in stack.services.values()]
        stack.stop()
        result.stopped_pids = pids
    return result


def _compared(base: Path) -> set[str]:
    """The organisations in the comparison mart (written whole, then renamed)."""
    path = base / "comparison" / "comparison.duckdb"
    if not path.exists():
        return set()
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            r[0]
            for r in con.execute(
                "select distinct org_id from marts.cmp_organisation_kpis"
            ).fetchall()
        }
    finally:
        con.close()


def _warehouse(base: Path, org: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(
        str(base / "orgs" / org / "warehouse" / "spendkoll.duckdb"), read_only=True
    )


def test_the_scheduler_ran_the_night_without_a_manual_trigger(night: Night) -> None:
    types = {t for _, _, t in night.runs}
    assert types <= {"scheduled", "asset_triggered"}, types
    states = {(d, s) for d, s, _ in night.runs}
    for org in ("region_norr", "kommun_vast"):
        assert (f"spendkoll_transform__{org}", "success") in states
        assert (f"spendkoll_monthly_report__{org}", "success") in states
    print(f"the night of three organisations under the scheduler: {night.seconds:.0f} s")


def test_a_killed_worker_s_tasks_are_retried_on_another_worker(night: Night) -> None:
    for task, kill in night.kills.items():
        assert kill["retry_worker"] != kill["worker"], (task, kill)
        assert len(kill["killed_pids"]) >= 3, kill  # the worker, its pool process, the task
    history = {(d, t, n): s for d, t, s, n, *_ in night.tries}
    load = f"spendkoll_load_ledger__{KILLED_ORG}"
    build = f"spendkoll_transform__{KILLED_ORG}"
    first_load = night.kills["load"]["try_number"]
    first_build = night.kills["dbt_build"]["try_number"]
    assert history[(load, "load_ledger", first_load)] in ("failed", "up_for_retry")
    assert history[(build, "dbt_build", first_build)] in ("failed", "up_for_retry")
    last = {(d, t): s for d, t, s, n, *_ in sorted(night.tries, key=lambda r: r[3])}
    assert last[(load, "load_ledger")] == "success"
    assert last[(build, "dbt_build")] == "success"


def test_nothing_lost_or_twice_raw_and_marts_equal_the_landing_files(night: Night) -> None:
    for org, want in night.expected.items():
        con = _warehouse(night.base, org)
        try:
            lines, amount = con.execute(
                "select count(*), coalesce(sum(amount), 0) from raw.ledger_line"
            ).fetchone()
            assert (lines, Decimal(amount)) == (want["ledger_lines"], want["ledger_amount"]), org
            quarantined = con.execute(
                "select count(*) from raw.quarantine where source_name = 'ledger'"
            ).fetchone()[0]
            assert quarantined == want["quarantined"], org
            if org == REJECTING_ORG:
                continue
            spend = con.execute("select count(*), sum(amount) from marts.fct_spend").fetchone()
            assert (spend[0], Decimal(spend[1])) == (want["ledger_lines"], want["ledger_amount"])
        finally:
            con.close()


def test_published_snapshots_equal_the_warehouses(night: Night) -> None:
    for org in ("region_norr", "kommun_vast"):
        snap = night.base / "orgs" / org / "published" / "spendkoll_marts.duckdb"
        con = duckdb.connect(str(snap), read_only=True)
        try:
            got = con.execute("select count(*), sum(amount) from marts.fct_spend").fetchone()
        finally:
            con.close()
        want = night.expected[org]
        assert (got[0], Decimal(got[1])) == (want["ledger_lines"], want["ledger_amount"]), org


def test_one_organisation_s_rejected_file_stops_only_that_organisation(night: Night) -> None:
    states = {(d, s) for d, s, _ in night.runs}
    assert (f"spendkoll_load_ledger__{REJECTING_ORG}", "failed") in states
    assert not any(d == f"spendkoll_transform__{REJECTING_ORG}" for d, _, _ in night.runs)
    rejected = night.base / "orgs" / REJECTING_ORG / "rejected"
    assert any("ledger_broken" in p.name for p in rejected.rglob("*"))
    assert not (night.base / "orgs" / REJECTING_ORG / "published" / "current").exists()


def test_one_writer_per_warehouse_across_workers(night: Night) -> None:
    """No two tries of tasks in one organisation's pool overlap in time, whichever
    worker ran them (a killed try holds its slot until it is failed)."""
    by_pool: dict[str, list[tuple[Any, Any, str]]] = {}
    for dag, task, _state, _n, pool, start, end, _host in night.tries:
        if pool.startswith("spendkoll_warehouse__") and start is not None and end is not None:
            by_pool.setdefault(pool, []).append((start, end, f"{dag}.{task}"))
    assert set(by_pool) == {f"spendkoll_warehouse__{o}" for o in night.expected}
    for pool, spans in by_pool.items():
        spans.sort()
        for (s1, e1, a), (s2, _e2, b) in zip(spans, spans[1:], strict=False):
            assert s2 >= e1, f"{pool}: {a} ({s1}-{e1}) overlaps {b} (from {s2})"
    # and the organisations did run side by side
    starts = sorted((s, p) for p, spans in by_pool.items() for s, e, _ in spans)
    assert len({p for _, p in starts[:6]}) > 1


def test_reports_and_comparison_pages_in_each_organisation_s_language(night: Night) -> None:
    norr = night.base / "orgs" / "region_norr" / "reports"
    vast = night.base / "orgs" / "kommun_vast" / "reports"
    assert list((norr / "monthly").glob("*/index.html"))
    assert list((vast / "monthly").glob("*/index.en.html"))
    norr_pages = sorted((norr / "comparison").glob("*.html"))
    vast_pages = sorted((vast / "comparison").glob("*.en.html"))
    assert norr_pages and vast_pages
    assert (night.base / "comparison" / "comparison.duckdb").exists()
    # nothing of one organisation's rows on the other's pages
    con = _warehouse(night.base, "region_norr")
    try:
        invoices = {
            r[0]
            for r in con.execute(
                "select distinct invoice_number from marts.fct_spend where length(invoice_number) >= 6"
            ).fetchall()
        }
    finally:
        con.close()
    text = " ".join(p.read_text(encoding="utf-8") for p in vast_pages)
    assert "Region Norr" not in text
    assert not [i for i in invoices if i in text][:5]


def test_everything_started_was_stopped(night: Night) -> None:
    import psutil

    alive = [
        p
        for p in night.stopped_pids
        if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == []
    for port in night.ports:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, port
