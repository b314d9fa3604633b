"""Fault injection: `kill -9` at chosen moments of the load, the transform and
the publication, then a plain rerun (issue 13).

Every run goes through the real `spendkoll` command in its own process. The
load and the publication are killed at their fault points (spendkoll.faults:
the process SIGKILLs itself where SPENDKOLL_FAULT_POINT names the point); the
transform is killed from outside while dbt builds a chosen model. After each
kill the test asserts what a data engineer needs before the next night:

* no stale lock: another writer gets the warehouse at once;
* the last published version intact and consistent (snapshot and Parquet show
  the same version) until the next good publication;
* after a plain rerun: 0 rows lost and 0 twice (raw tables equal a load that was
  never interrupted, each file one batch, no orphan archive copy), the marts equal
  a build that was never interrupted, and no leftovers of the dead run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import KEY, drop_planted_malformed_rows
from test_incremental_build import marts
from test_incremental_build import query as rows

from spendkoll.bench import new_day

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fault_injection")]

DEMO_LINES = 3000


def spendkoll(
    root: Path, *args: str, fault: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = _env(fault)
    cmd = [str(Path(sys.executable).with_name("spendkoll")), "--data-dir", str(root), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, (
            f"spendkoll {' '.join(args)} exited {proc.returncode}:\n"
            + proc.stdout[-4000:]
            + proc.stderr[-3000:]
        )
    return proc


def _env(fault: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SPENDKOLL_PSEUDONYM_KEY"] = KEY.decode()
    for name in (
        "SPENDKOLL_DATA_DIR",
        "SPENDKOLL_SOURCES",
        "SPENDKOLL_RULE_SET",
        "SPENDKOLL_FAULT_POINT",
    ):
        env.pop(name, None)
    if fault:
        env["SPENDKOLL_FAULT_POINT"] = fault
    return env


def killed(proc: subprocess.CompletedProcess[str]) -> bool:
    return proc.returncode == -signal.SIGKILL


def warehouse(root: Path) -> Path:
    return root / "warehouse" / "spendkoll.duckdb"


def lock_holders(root: Path) -> list[str]:
    """The processes holding the warehouse's writer lock file open."""
    lock = str(warehouse(root)) + ".writer.lock"
    out = []
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) == lock:
                cmd = (Path("/proc") / fd.parts[2] / "cmdline").read_bytes().replace(b"\0", b" ")
                out.append(f"{fd.parts[2]}: {cmd.decode()[:200]}")
        except OSError:
            continue
    return out


def assert_lock_free(root: Path) -> None:
    """Another writer gets the warehouse (within a few seconds: the kernel releases a
    killed process's lock as it tears the process down)."""
    from spendkoll.warehouse import WarehouseBusy, writer_lock

    try:
        with writer_lock(warehouse(root), wait_seconds=5):
            pass
    except WarehouseBusy:
        pytest.fail(f"stale writer lock, held by: {lock_holders(root)}")


RAW = """
select 'ledger', count(*), sum(amount), count(distinct (source_name, batch_id, source_line))
from raw.ledger_line
union all select 'contracts', count(*), null, count(distinct (batch_id, source_line))
from raw.contract
union all select 'ecommerce', count(*), sum(amount), count(distinct (batch_id, source_line))
from raw.ecommerce_order
union all select 'quarantine', count(*), null, null from raw.quarantine
order by 1"""


def raw_state(root: Path) -> list[tuple[object, ...]]:
    """Rows and amounts per raw table, and the loaded files (each once)."""
    batches = rows(
        warehouse(root),
        """
        select source_name, file_name, count(*) from raw.load_batch where status = 'loaded'
        group by all order by all""",
    )
    assert all(n == 1 for *_, n in batches), f"a file loaded twice: {batches}"
    return [*rows(warehouse(root), RAW), *batches]


def assert_no_orphans(root: Path) -> None:
    archived = {
        Path(p).name
        for (p,) in rows(
            warehouse(root),
            "select archived_path from raw.load_batch where status in ('loaded', 'replaced')",
        )
    }
    on_disk = {p.name for p in (root / "archive").rglob("*") if p.is_file()}
    assert on_disk == archived, f"orphan archive copies: {sorted(on_disk - archived)}"


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo region's landing files (the three planted malformed rows
    dropped: at this size they would reject May whole)."""
    root = tmp_path_factory.mktemp("fault-landing") / "var"
    spendkoll(root, "generate", "--lines", str(DEMO_LINES), "--years", "1")
    drop_planted_malformed_rows(root)
    return root / "landing"


def fresh(landing: Path, tmp_path: Path, name: str = "var") -> Path:
    root = tmp_path / name
    shutil.copytree(landing, root / "landing")
    return root


@pytest.fixture(scope="module")
def clean(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same files loaded and built without interruption: the reference."""
    root = fresh(landing, tmp_path_factory.mktemp("fault-clean"))
    spendkoll(root, "load")
    spendkoll(root, "transform")
    return root


# --------------------------------------------------------------------------- load


@pytest.mark.parametrize("point", ["load.archived", "load.in_transaction", "load.committed"])
@pytest.mark.parametrize("source", ["ledger", "contracts"])
def test_load_killed_recovers_on_rerun(
    point: str, source: str, landing: Path, clean: Path, tmp_path: Path
) -> None:
    root = fresh(landing, tmp_path)
    if source == "ledger":
        # the first file commits, the second is killed at the point
        spendkoll(root, "load", "contracts", "ecommerce")
        first = sorted((root / "landing" / "ledger").glob("*.csv"))[0]
        held = tmp_path / "held"
        held.mkdir()
        for other in sorted((root / "landing" / "ledger").glob("*.csv"))[1:]:
            other.rename(held / other.name)
        spendkoll(root, "load", "ledger")
        assert not first.exists()
        for other in held.iterdir():
            other.rename(root / "landing" / "ledger" / other.name)
    else:
        spendkoll(root, "load", "ledger", "ecommerce")
    proc = spendkoll(root, "load", source, fault=point, check=False)
    assert killed(proc), (proc.returncode, proc.stderr[-2000:])
    assert_lock_free(root)
    # a plain rerun: everything loaded once, nothing lost, no orphan archive copy
    spendkoll(root, "load")
    assert raw_state(root) == raw_state(clean)
    assert_no_orphans(root)
    assert not any((root / "landing").rglob("*.csv")) and not any(
        (root / "landing").rglob("*.xlsx")
    )
    # batch ids stay unique after DuckDB replayed its WAL, for every later load
    ids = rows(warehouse(root), "select batch_id from raw.load_batch")
    assert len(ids) == len(set(ids))
    spendkoll(root, "transform")
    assert marts_without_ids(warehouse(root)) == marts_without_ids(warehouse(clean))


def test_load_killed_after_recording_a_rejection_rejects_it_again(tmp_path: Path) -> None:
    """Killed between logging a rejection and moving the file aside: the file is
    still in landing, and the rerun rejects it again (nothing moved untraced)."""
    root = tmp_path / "var"
    folder = root / "landing" / "ledger"
    folder.mkdir(parents=True)
    broken = folder / "ledger_broken.csv"
    broken.write_text("this;is;not;a;ledger\n1;2;3;4;5\n", encoding="utf-8")
    proc = spendkoll(root, "load", "ledger", fault="reject.recorded", check=False)
    assert killed(proc), (proc.returncode, proc.stderr[-2000:])
    assert broken.exists() and not any((root / "rejected").rglob("*ledger_broken.csv"))
    assert_lock_free(root)
    proc = spendkoll(root, "load", "ledger", check=False)
    assert proc.returncode != 0 and "ledger_broken.csv" in proc.stdout + proc.stderr
    assert not broken.exists()
    assert len(list((root / "rejected" / "ledger").glob("*_ledger_broken.csv"))) == 1
    assert rows(
        warehouse(root), "select status, file_name from raw.load_batch order by batch_id"
    ) == [("rejected", "ledger_broken.csv"), ("rejected", "ledger_broken.csv")]


# Batch ids follow the order files were loaded in, which the test changed on
# purpose; a line's id and the ids made of it name its batch.
IDS = ("ledger_line_id", "batch_id", "exception_id", "contract_exception_id", "built_at")


def marts_without_ids(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = "
            "'marts' order by 1"
        ).fetchall():
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in IDS
            ]
            out[table] = sorted(
                con.execute(
                    f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from marts."{table}"'
                ).fetchall(),
                key=repr,
            )
        return out
    finally:
        con.close()


# --------------------------------------------------------------------------- transform


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def published(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Loaded, built and published once; then a new day is loaded (the night's
    work). Tests copy it before they kill anything."""
    root = fresh(landing, tmp_path_factory.mktemp("fault-published"))
    spendkoll(root, "load")
    spendkoll(root, "transform")
    spendkoll(root, "publish")
    new_day(root / "landing", root / "archive" / "ledger", 300)
    spendkoll(root, "load", "ledger")
    return root


def copy_of(published: Path, tmp_path: Path) -> Path:
    root = tmp_path / "var"
    shutil.copytree(published, root, symlinks=True)
    return root


def published_version(root: Path) -> tuple[object, ...]:
    """(published_at, fct_spend rows) of the snapshot, and the Parquet's fct_spend
    rows, as a reader sees them now."""
    snap = root / "published" / "spendkoll_marts.duckdb"
    at, n = rows(
        snap, "select (select published_at from published), (select count(*) from marts.fct_spend)"
    )[0]
    parquet = root / "published" / "parquet"
    pq = duckdb.connect()
    try:
        (m,) = pq.execute(
            f"select count(*) from read_parquet('{parquet}/fct_spend/*/*.parquet')"
        ).fetchone()  # type: ignore[misc]
    finally:
        pq.close()
    return at, n, m


@pytest.mark.parametrize(
    "model", ["int_spend_build_scope", "fct_spend", "kpi_monthly", "dq_invoice_exceptions"]
)
def test_transform_killed_leaves_no_writer_and_reruns(
    model: str, published: Path, tmp_path: Path
) -> None:
    root = copy_of(published, tmp_path)
    before = published_version(root)
    cmd = [str(Path(sys.executable).with_name("spendkoll")), "--data-dir", str(root), "transform"]
    proc = subprocess.Popen(
        cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if re.search(rf"START .*model \w+\.{model}\b", line):
            break
    else:
        pytest.fail(f"dbt never started {model}:\n" + "".join(seen[-40:]))
    dbt = _children(proc.pid)
    assert dbt, "dbt runs as a child of spendkoll transform"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in dbt) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in dbt), "dbt outlived the killed transform"
    assert_lock_free(root)
    # the unfinished build is not published; the published version is untouched
    refused = spendkoll(root, "publish", check=False)
    assert refused.returncode == 1 and "did not finish" in refused.stderr
    assert published_version(root) == before
    # a plain rerun recovers: it rebuilds everything, since the killed build's
    # snapshots may have taken in changes the line marts never saw, and the
    # marts equal a full rebuild of the same data
    rerun = spendkoll(root, "transform")
    assert "the previous build did not finish" in rerun.stdout + rerun.stderr
    after_rerun = marts(warehouse(root))
    spendkoll(root, "transform", "--full-refresh")
    assert after_rerun == marts(warehouse(root))
    spendkoll(root, "publish")
    assert (
        published_version(root)[1]
        == rows(warehouse(root), "select count(*) from marts.fct_spend")[0][0]
    )


# --------------------------------------------------------------------------- publish


@pytest.mark.parametrize(
    "point",
    [
        "publish.snapshot_written",
        "publish.parquet_written",
        "publish.version_ready",
        "publish.switched",
    ],
)
def test_publish_killed_shows_one_version_and_cleans_up(
    point: str, published: Path, tmp_path: Path
) -> None:
    root = copy_of(published, tmp_path)
    before = published_version(root)
    assert before[1] == before[2]
    spendkoll(root, "transform")
    proc = spendkoll(root, "publish", fault=point, check=False)
    assert killed(proc), (proc.returncode, proc.stderr[-2000:])
    assert_lock_free(root)
    now = published_version(root)
    assert now[1] == now[2], "the snapshot and the Parquet files show different versions"
    if point == "publish.switched":
        assert now[0] != before[0]  # the switch is the moment readers see the new one
    else:
        assert now == before
    spendkoll(root, "publish")
    after = published_version(root)
    built = rows(warehouse(root), "select count(*) from marts.fct_spend")[0][0]
    assert after[1] == after[2] == built and after[0] != now[0]
    base = root / "published"
    leftovers = [p.name for p in [*base.glob(".*"), *(base / "versions").glob(".*")]]
    assert leftovers == []
    versions = [p for p in (base / "versions").iterdir()]
    assert len(versions) == 2 and (base / "current").resolve() == max(versions)
    assert marts(base / "spendkoll_marts.duckdb") == marts(warehouse(root))


# --------------------------------------------------------------------------- readers


def test_readers_during_a_build_answer_clearly(published: Path, tmp_path: Path) -> None:
    """`status` and `kpis` while a writer holds the warehouse: a clear message, and
    the KPIs from the published snapshot; never DuckDB's lock error."""
    root = copy_of(published, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(60)",
            str(warehouse(root)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        status = spendkoll(root, "status", check=False)
        assert status.returncode == 1 and "Traceback" not in status.stderr
        assert "is being written right now" in status.stderr
        kpis = spendkoll(root, "kpis")
        assert "A build is running: the figures below are the published snapshot's" in kpis.stdout
        assert "Supplier loyalty" in kpis.stdout
    finally:
        holder.kill()
        holder.wait()
