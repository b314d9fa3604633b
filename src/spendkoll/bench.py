"""``make bench``: the nightly run outside the scheduler, timed stage by stage.

Generates the demo region at a given size into a throw-away data directory,
measures the **floor** (DuckDB alone reading the same ledger files into a table
once), runs the full pipeline (load, dbt build, validation, controller's report,
publish), then an incremental night: one new day of about 30,000 ledger lines
on top of the history, through the same stages. Every stage runs as its own
process; its wall time and peak resident memory (``wait4``) are printed and
appended to ``BENCHMARKS.md`` with the machine's cores and memory.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from spendkoll.paths import project_root
from spendkoll.runtime import disable_telemetry

GIB = 1024**3
TARGET_FULL_OVER_FLOOR = 3.0
TARGET_INCREMENTAL_SHARE = 0.10
TARGET_PEAK_BYTES = 4 * GIB


@dataclass
class Stage:
    run: str  # full | incremental | floor | generate
    name: str
    seconds: float
    peak_bytes: int
    rows: int | None = None

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds else None


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def timed(run: str, name: str, cmd: list[str], env: dict[str, str],
          rows: int | None = None, cwd: Path | None = None) -> Stage:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"stage {run}/{name} failed ({proc.returncode}): {' '.join(cmd)}\n"
                           + output[-4000:])
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
    with source.open(encoding="utf-8", newline="") as src, \
            out.open("w", encoding="utf-8", newline="") as dst:
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


def run_bench(size: int, workdir: Path, incremental_lines: int = 30_000) -> list[Stage]:
    data = workdir / "var"
    env = dict(os.environ)
    disable_telemetry(env)
    env.update({"SPENDKOLL_DATA_DIR": str(data),
                "SPENDKOLL_PSEUDONYM_KEY": env.get("SPENDKOLL_PSEUDONYM_KEY",
                                                   "benchmark-pseudonym-key-0123456789"),
                "SPENDKOLL_SOURCES": str(project_root() / "include" / "sources" / "demo.toml")})
    from spendkoll.paths import DataDir
    from spendkoll.transform.dbt import dbt_env

    dbt = dbt_env(DataDir(data).ensure())
    dbt.update({k: v for k, v in env.items() if k.startswith("SPENDKOLL_")})
    dbt_cmd = [_bin("dbt"), "build", "--vars", json.dumps({"spendkoll_rule_set": "demo_region"})]
    spendkoll = _bin("spendkoll")
    stages = [timed("prepare", "generate demo region", [spendkoll, "generate", "--lines",
                                                         str(size)], env)]
    ledger_glob = str(data / "landing" / "ledger" / "*.csv")
    stages.append(timed("floor", "DuckDB reads the ledger files", [
        sys.executable, "-c", FLOOR_SCRIPT, str(workdir / "floor.duckdb"), ledger_glob],
        env, rows=size))
    (workdir / "floor.duckdb").unlink(missing_ok=True)
    for run, rows in (("full", size), ("incremental", None)):
        if run == "incremental":
            _, rows = new_day(data / "landing", data / "raw" / "ledger", incremental_lines)
        stages += [
            timed(run, "load", [spendkoll, "load"], env, rows=rows),
            timed(run, "dbt build", dbt_cmd, dbt, rows=rows, cwd=project_root() / "dbt_project"),
            timed(run, "validation", [spendkoll, "validate", "all"], env, rows=rows),
            timed(run, "controller's report", [spendkoll, "dq-report"], env, rows=rows),
            timed(run, "publish", [spendkoll, "publish"], env, rows=rows),
        ]
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
    return {"cores": os.cpu_count(), "memory_gib": round(mem / GIB, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def verdict(stages: list[Stage]) -> list[str]:
    def total(run: str) -> float:
        return sum(s.seconds for s in stages if s.run == run)

    floor = total("floor")
    full, incr = total("full"), total("incremental")
    peak = max(s.peak_bytes for s in stages if s.run in ("full", "incremental"))
    ok = "met" if full <= TARGET_FULL_OVER_FLOOR * floor else "MISSED"
    lines = [f"full run / floor = {full:.1f} s / {floor:.1f} s = {full / floor:.1f} "
             f"(target <= {TARGET_FULL_OVER_FLOOR:.0f}): {ok}"]
    ok = "met" if incr <= TARGET_INCREMENTAL_SHARE * full else "MISSED"
    lines.append(f"incremental night / full run = {incr:.1f} s / {full:.1f} s = "
                 f"{incr / full:.1%} (target <= {TARGET_INCREMENTAL_SHARE:.0%}): {ok}")
    ok = "met" if peak <= TARGET_PEAK_BYTES else "MISSED"
    lines.append(f"peak memory of any stage = {peak / GIB:.2f} GiB (target <= 4 GiB): {ok}")
    return lines


def code_version() -> str:
    """The git commit of the code measured ("unknown" outside a checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project_root(),
                             capture_output=True, text=True, check=True).stdout.strip()
        # the benchmark's own record does not count as a change of the code
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":!BENCHMARKS.md", ":!BENCHMARKS.json"],
                               cwd=project_root(), capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out + ("+changes" if dirty else "")


def linearity(size: int, stages: list[Stage], history: list[dict[str, object]],
              version: str) -> list[str]:
    """Compare each stage's time with the latest run at another size of the same code."""
    others = [h for h in history if h["size"] != size and h.get("code") == version]
    if not others:
        return [f"growth: no run at another size recorded yet for this code ({version})"]
    other = others[-1]
    o_size = int(str(other["size"]))
    o_stages = {(s["run"], s["name"]): float(s["seconds"])
                for s in other["stages"]}  # type: ignore[attr-defined]
    out = [f"growth from {o_size:,} to {size:,} lines (x{size / o_size:g}), per stage:"]
    for s in stages:
        if s.run not in ("full", "floor", "incremental") or (s.run, s.name) not in o_stages:
            continue
        before = o_stages[(s.run, s.name)]
        small, big = (before, s.seconds) if o_size < size else (s.seconds, before)
        ratio = big / small if small else float("inf")
        scale = max(size, o_size) / min(size, o_size)
        ok = "linear or better" if ratio <= scale * 1.1 else "FASTER THAN LINEAR"
        if s.run == "incremental":
            # the same new lines at both sizes: what grows comes from the history
            ok += ", same new lines"
        out.append(f"  {s.run:<12}{s.name:<28} x{ratio:6.1f}  ({ok})")
    return out


def report(size: int, stages: list[Stage], out: Path) -> str:
    m = machine()
    version = code_version()
    history_file = out.with_suffix(".json")
    history: list[dict[str, object]] = (json.loads(history_file.read_text(encoding="utf-8"))
                                        if history_file.exists() else [])
    lines = [f"## {datetime.now():%Y-%m-%d %H:%M}: {size:,} ledger lines",
             "", f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
             f"{m['platform']}. Code: {version}.", "",
             "| run | stage | seconds | rows/s | peak RSS MiB |", "|---|---|---:|---:|---:|"]
    for s in stages:
        rps = "" if s.rows_per_second is None else f"{s.rows_per_second:,.0f}"
        lines.append(f"| {s.run} | {s.name} | {s.seconds:,.1f} | {rps} | "
                     f"{s.peak_bytes / 2**20:,.0f} |")
    for run in ("full", "incremental"):
        t = sum(s.seconds for s in stages if s.run == run)
        lines.append(f"| **{run}** | **total** | **{t:,.1f}** | | |")
    lines += ["", *("* " + v for v in verdict(stages)),
              *("* " + g if not g.startswith("  ") else "  *" + g[1:]
                for g in linearity(size, stages, history, version)), ""]
    text = "\n".join(lines)
    if not out.exists():
        out.write_text("# Benchmarks\n\nAppended by `make bench` (see README). Targets at 10 "
                       "million lines: full run <= 3 x floor, incremental night <= 10 % of the "
                       "full run, peak memory <= 4 GiB per process, no stage growing faster "
                       "than linearly from 1 to 10 million lines.\n\n", encoding="utf-8")
    with out.open("a", encoding="utf-8") as f:
        f.write(text + "\n")
    history.append({"size": size, "at": datetime.now().isoformat(), "machine": m, "code": version,
                    "stages": [asdict(s) for s in stages]})
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
    p.add_argument("--out", default=str(project_root() / "BENCHMARKS.md"))
    args = p.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="spendkoll-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        stages = run_bench(args.size, work, args.incremental_lines)
        print(report(args.size, stages, Path(args.out)))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
