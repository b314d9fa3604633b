"""``make bench``: the nightly run on the command line and through Airflow, timed.

Generates the demo region at a given size into a throw-away data directory,
measures the **floor** (DuckDB alone reading the same ledger files into a table
once), then runs the night twice on the same files:

* **on the command line** (``cli``): load, the dbt night (``spendkoll transform``:
  freshness and build in one dbt process), validation, the controller's report,
  publication, each its own process;
* **through Airflow** (``airflow``): the DAGs users schedule, the three load DAGs
  and the transform DAG, one after the other in one Airflow process
  (``local_airflow.run_night``: ``DAG.test()`` per DAG, what ``airflow dags
  test`` runs, on a SQLite metadata database), so Airflow starts and warms up
  once a night as a running deployment does. Per DAG: its wall time in that
  process and its run's duration as Airflow records it (start to end in the
  metadata database: what the UI shows); the process's start-up is a stage of
  its own.

Each path runs a full night and then an incremental one: one new day of about
30,000 ledger lines on top of the history. Every stage's wall time and peak
resident memory (``wait4``) are printed and appended to ``BENCHMARKS.md`` with
the machine's cores and memory.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from spendkoll.paths import project_root
from spendkoll.runtime import disable_telemetry

GIB = 1024**3
# Issue 15's targets at 10 M lines on 2 cores, through Airflow.
TARGET_FULL_OVER_FLOOR = 10.0
TARGET_INCREMENTAL_SHARE = 0.05
TARGET_AIRFLOW_OVER_CLI = 1.2
TARGET_PEAK_BYTES = 4 * GIB


@dataclass
class Stage:
    run: str  # full | incremental | floor | generate
    name: str
    seconds: float
    peak_bytes: int
    rows: int | None = None
    run_seconds: float | None = None  # Airflow's own record of the DAG run's duration

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds else None


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def timed(
    run: str,
    name: str,
    cmd: list[str],
    env: dict[str, str],
    rows: int | None = None,
    cwd: Path | None = None,
) -> Stage:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"stage {run}/{name} failed ({proc.returncode}): {' '.join(cmd)}\n" + output[-4000:]
        )
    return Stage(run, name, seconds, usage.ru_maxrss * 1024, rows)


FLOOR_SCRIPT = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("create table ledger as select * from read_csv(?, delim=';', header=true, "
            "all_varchar=true, ignore_errors=true)", [sys.argv[2]])
print(con.execute("select count(*) from ledger").fetchone()[0])
"""


def new_day(landing: Path, archive: Path, lines: int) -> tuple[Path, int]:
    """One new day of ledger lines after the history: the last month's lines, re-dated."""
    files = sorted(archive.glob("*ledger_*.csv"))
    source = files[-1]
    last_month = source.name.rsplit("ledger_", 1)[1][:7]
    y, m = int(last_month[:4]), int(last_month[5:7])
    day = date(y + (m == 12), m % 12 + 1, 2)
    out = landing / "ledger" / f"ledger_{day:%Y-%m-%d}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with (
        source.open(encoding="utf-8", newline="") as src,
        out.open("w", encoding="utf-8", newline="") as dst,
    ):
        reader = csv.DictReader(src, delimiter=";")
        assert reader.fieldnames is not None
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames, delimiter=";")
        writer.writeheader()
        for row in reader:
            if n >= lines:
                break
            if not row.get("posting_date", "").startswith(last_month):
                continue  # a malformed planted row
            row["posting_date"] = day.isoformat()
            row["invoice_date"] = (day - timedelta(days=3)).isoformat()
            row["verification_id"] = f"N{day:%Y%m%d}-{n:06d}"
            row["invoice_number"] = f"N{row['invoice_number']}"
            writer.writerow(row)
            n += 1
    return out, n


AIRFLOW_DAGS = (
    "spendkoll_load_ledger",
    "spendkoll_load_contracts",
    "spendkoll_load_ecommerce",
    # `spendkoll load` on the command line loads every source, the register too
    "spendkoll_load_supplier_register",
    "spendkoll_transform",
)


def run_airflow(data: Path, landing: Path, incremental_lines: int) -> list[Stage]:
    """The same night through the DAGs, on a copy of the generated landing files:
    each night's DAGs in one Airflow process (local_airflow.run_night)."""
    from spendkoll.orchestration.local_airflow import (
        airflow_env,
        latest_run,
        run_night,
        run_seconds,
        setup_airflow,
    )
    from spendkoll.paths import DataDir

    shutil.copytree(landing, data / "landing", copy_function=os.link)
    from spendkoll.demo.generator import with_demo_dbt_vars

    env = airflow_env(DataDir(data).ensure(), project_root() / "include" / "sources" / "demo.toml")
    with_demo_dbt_vars(env)
    env.update(
        {
            "SPENDKOLL_TASK_RETRIES": "0",
            "SPENDKOLL_PSEUDONYM_KEY": env.get("SPENDKOLL_PSEUDONYM_KEY")
            or "benchmark-pseudonym-key-0123456789",
        }
    )
    start = time.perf_counter()
    setup_airflow(env)
    stages = [
        Stage("prepare", "airflow: metadata database and DAGs", time.perf_counter() - start, 0)
    ]
    day = date.today()
    for run, rows in (("airflow full", None), ("airflow incremental", None)):
        if run == "airflow incremental":
            _, rows = new_day(data / "landing", data / "archive" / "ledger", incremental_lines)
            day += timedelta(days=1)
        started = time.perf_counter()
        done = run_night(env, day.isoformat(), AIRFLOW_DAGS)
        wall = time.perf_counter() - started
        peak = done.peak_bytes
        night = []
        for r in done.runs:
            if r.state != "success":
                raise RuntimeError(f"{run}: {r.dag_id} ended {r.state}; see {env['AIRFLOW_HOME']}")
            stage = Stage(run, r.dag_id.removeprefix("spendkoll_"), r.seconds, peak, rows)
            stage.run_seconds = run_seconds(latest_run(env, r.dag_id, day.isoformat()))
            night.append(stage)
        # Airflow's import, the DAG folder, and what the runs' own clocks did not see
        start_up = wall - sum(s.seconds for s in night)
        stages += [Stage(run, "start-up (Airflow process)", start_up, peak), *night]
    return stages


def run_bench(
    size: int, workdir: Path, incremental_lines: int = 30_000, airflow: bool = True
) -> list[Stage]:
    data = workdir / "var"
    env = dict(os.environ)
    disable_telemetry(env)
    env.update(
        {
            "SPENDKOLL_DATA_DIR": str(data),
            "SPENDKOLL_PSEUDONYM_KEY": env.get(
                "SPENDKOLL_PSEUDONYM_KEY", "benchmark-pseudonym-key-0123456789"
            ),
            "SPENDKOLL_SOURCES": str(project_root() / "include" / "sources" / "demo.toml"),
        }
    )
    from spendkoll.demo.generator import with_demo_dbt_vars

    with_demo_dbt_vars(env)
    spendkoll = _bin("spendkoll")
    stages = [
        timed("prepare", "generate demo region", [spendkoll, "generate", "--lines", str(size)], env)
    ]
    if airflow:  # the same files for the Airflow night (hard links: the loads move them)
        shutil.copytree(data / "landing", workdir / "landing.generated", copy_function=os.link)
    ledger_glob = str(data / "landing" / "ledger" / "*.csv")
    stages.append(
        timed(
            "floor",
            "DuckDB reads the ledger files",
            [sys.executable, "-c", FLOOR_SCRIPT, str(workdir / "floor.duckdb"), ledger_glob],
            env,
            rows=size,
        )
    )
    (workdir / "floor.duckdb").unlink(missing_ok=True)
    for run, rows in (("full", size), ("incremental", None)):
        if run == "incremental":
            _, rows = new_day(data / "landing", data / "archive" / "ledger", incremental_lines)
        stages += [
            timed(run, "load", [spendkoll, "load"], env, rows=rows),
            timed(run, "dbt build", [spendkoll, "transform"], env, rows=rows),
            timed(run, "validation", [spendkoll, "validate", "all"], env, rows=rows),
            timed(run, "controller's report", [spendkoll, "dq-report"], env, rows=rows),
            timed(run, "publish", [spendkoll, "publish"], env, rows=rows),
        ]
    if airflow:
        stages += run_airflow(
            workdir / "airflow" / "var", workdir / "landing.generated", incremental_lines
        )
    return stages


def machine() -> dict[str, object]:
    mem = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def verdict(stages: list[Stage]) -> list[str]:
    """The targets of issue 15, on the Airflow figures where the night ran through Airflow."""

    def total(run: str, recorded: bool = False) -> float:
        return sum(
            (s.run_seconds or 0.0) if recorded else s.seconds for s in stages if s.run == run
        )

    floor = total("floor")
    full, incr = total("full"), total("incremental")
    af_full, af_incr = total("airflow full", True), total("airflow incremental", True)
    lines = []
    if af_full:
        for label, af, af_proc, cli in (
            ("full", af_full, total("airflow full"), full),
            ("incremental", af_incr, total("airflow incremental"), incr),
        ):
            ok = "met" if af <= TARGET_AIRFLOW_OVER_CLI * cli else "MISSED"
            lines.append(
                f"Airflow {label} night / command line = {af:.1f} s / {cli:.1f} s = "
                f"{af / cli:.2f} (DAG runs as Airflow records them; with the night's "
                f"Airflow process and its start-up {af_proc:.1f} s = "
                f"{af_proc / cli:.2f}) (target <= {TARGET_AIRFLOW_OVER_CLI}): {ok}"
            )
        base_full, base_incr, where = af_full, af_incr, "through Airflow"
    else:
        base_full, base_incr, where = full, incr, "on the command line"
    ok = "met" if base_full <= TARGET_FULL_OVER_FLOOR * floor else "MISSED"
    lines.append(
        f"full run {where} / floor = {base_full:.1f} s / {floor:.1f} s = "
        f"{base_full / floor:.1f} (target <= {TARGET_FULL_OVER_FLOOR:.0f}): {ok}"
    )
    ok = "met" if base_incr <= TARGET_INCREMENTAL_SHARE * base_full else "MISSED"
    lines.append(
        f"incremental night / full run {where} = {base_incr:.1f} s / "
        f"{base_full:.1f} s = {base_incr / base_full:.1%} "
        f"(target <= {TARGET_INCREMENTAL_SHARE:.0%} at 10 M lines): {ok}"
    )
    peak = max(s.peak_bytes for s in stages if s.run not in ("prepare", "floor"))
    ok = "met" if peak <= TARGET_PEAK_BYTES else "MISSED"
    lines.append(f"peak memory of any process = {peak / GIB:.2f} GiB (target <= 4 GiB): {ok}")
    return lines


def code_version() -> str:
    """The git commit of the code measured ("unknown" outside a checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # the benchmark's own record does not count as a change of the code
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!BENCHMARKS.md",
                ":!BENCHMARKS.json",
            ],
            cwd=project_root(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out + ("+changes" if dirty else "")


def linearity(
    size: int, stages: list[Stage], history: list[dict[str, object]], version: str
) -> list[str]:
    """Compare each stage's time with the latest run at another size of the same code."""
    others = [h for h in history if h["size"] != size and h.get("code") == version]
    if not others:
        return [f"growth: no run at another size recorded yet for this code ({version})"]
    other = others[-1]
    o_size = int(str(other["size"]))
    o_stages = {(s["run"], s["name"]): float(s["seconds"]) for s in other["stages"]}  # type: ignore[attr-defined]
    out = [f"growth from {o_size:,} to {size:,} lines (x{size / o_size:g}), per stage:"]
    for s in stages:
        if s.run in ("prepare",) or (s.run, s.name) not in o_stages:
            continue
        before = o_stages[(s.run, s.name)]
        small, big = (before, s.seconds) if o_size < size else (s.seconds, before)
        ratio = big / small if small else float("inf")
        scale = max(size, o_size) / min(size, o_size)
        ok = "linear or better" if ratio <= scale * 1.1 else "FASTER THAN LINEAR"
        if s.run.endswith("incremental"):
            # the same new lines at both sizes: what grows comes from the history
            ok += ", same new lines"
        out.append(f"  {s.run:<12}{s.name:<28} x{ratio:6.1f}  ({ok})")
    return out


def report(size: int, stages: list[Stage], out: Path) -> str:
    m = machine()
    version = code_version()
    history_file = out.with_suffix(".json")
    history: list[dict[str, object]] = (
        json.loads(history_file.read_text(encoding="utf-8")) if history_file.exists() else []
    )
    lines = [
        f"## {datetime.now():%Y-%m-%d %H:%M}: {size:,} ledger lines",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['platform']}. Code: {version}.",
        "",
        "| run | stage | seconds | Airflow's run s | rows/s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for s in stages:
        rps = "" if s.rows_per_second is None else f"{s.rows_per_second:,.0f}"
        recorded = "" if s.run_seconds is None else f"{s.run_seconds:,.1f}"
        lines.append(
            f"| {s.run} | {s.name} | {s.seconds:,.1f} | {recorded} | {rps} | "
            f"{s.peak_bytes / 2**20:,.0f} |"
        )
    for run in ("full", "incremental", "airflow full", "airflow incremental"):
        mine = [s for s in stages if s.run == run]
        if mine:
            t = sum(s.seconds for s in mine)
            run_total = sum(s.run_seconds or 0.0 for s in mine)
            lines.append(
                f"| **{run}** | **total** | **{t:,.1f}** | "
                f"{f'**{run_total:,.1f}**' if run_total else ''} | | |"
            )
    lines += [
        "",
        *("* " + v for v in verdict(stages)),
        *(
            "* " + g if not g.startswith("  ") else "  *" + g[1:]
            for g in linearity(size, stages, history, version)
        ),
        "",
    ]
    text = "\n".join(lines)
    if not out.exists():
        out.write_text(
            "# Benchmarks\n\nAppended by `make bench` (see README).\n\n", encoding="utf-8"
        )
    with out.open("a", encoding="utf-8") as f:
        f.write(text + "\n")
    history.append(
        {
            "size": size,
            "at": datetime.now().isoformat(),
            "machine": m,
            "code": version,
            "stages": [asdict(s) for s in stages],
        }
    )
    history_file.write_text(json.dumps(history, indent=1), encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shutil
    import tempfile

    p = argparse.ArgumentParser(prog="spendkoll-bench", description=__doc__)
    p.add_argument("--size", type=int, default=1_000_000)
    p.add_argument("--incremental-lines", type=int, default=30_000)
    p.add_argument("--workdir", help="keep the run here (default: a temporary directory)")
    p.add_argument(
        "--no-airflow", action="store_true", help="the command line only (not the night users run)"
    )
    p.add_argument("--out", default=str(project_root() / "BENCHMARKS.md"))
    args = p.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="spendkoll-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        stages = run_bench(args.size, work, args.incremental_lines, airflow=not args.no_airflow)
        print(report(args.size, stages, Path(args.out)))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
