"""`spendkoll demo` end to end: generate, the three load DAGs and the transform DAG."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run_demo(data: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("spendkoll")
    return subprocess.run(
        [str(exe), "--data-dir", str(data), "demo", "--lines", "20000"],
        capture_output=True,
        text=True,
        timeout=900,
    )


def counts(stdout: str) -> dict[str, tuple[int, ...]]:
    out = {}
    for line in stdout.splitlines():
        m = re.match(
            r"(ledger|contracts|ecommerce)\s+(\d+)\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+"
            r"([\d,]+)",
            line,
        )
        if m:
            out[m.group(1)] = tuple(int(g.replace(",", "")) for g in m.groups()[1:])
    return out


def test_demo_runs_the_dags_and_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.delenv("SPENDKOLL_PSEUDONYM_KEY")  # the demo makes its own, in the data dir
    data = tmp_path / "var"
    first = run_demo(data)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    c1 = counts(first.stdout)
    assert set(c1) == {"ledger", "contracts", "ecommerce"}
    files, rejected, rows_in, loaded, quarantined = c1["ledger"]
    assert (files, rejected) == (24, 0)
    assert rows_in == loaded + quarantined and loaded >= 20_000
    assert (data / "secrets" / "pseudonym.key").stat().st_mode & 0o077 == 0
    # The night's DAGs ran in one Airflow process, the transform DAG (one dbt
    # process) built the marts; headline figures printed.
    assert re.search(r"spendkoll_transform: success in \d+\.\d s", first.stdout)
    assert "Supplier loyalty (leverantörstrohet)" in first.stdout
    # Validation ran before and after dbt, the controller's report was written and the
    # marts were published (no blocking finding on the demo).
    assert "Data quality:" in first.stdout and "0 blocking" in first.stdout
    for path in (
        "reports/quality/index.html",
        "reports/quality/exceptions.csv",
        "reports/quality/exceptions.xlsx",
        "published/spendkoll_marts.duckdb",
        "gx/gx/uncommitted/data_docs/local_site/index.html",
        "docs/dbt/index.html",
        "published/parquet",
        "reports/monthly/2025-12/index.html",
    ):
        assert (data / path).exists(), path
        assert str(data / path) in first.stdout, path
    # The report DAG wrote the organisation's report and one per org unit.
    units = {p.stem for p in (data / "reports" / "monthly" / "2025-12").glob("*.html")}
    assert {"index", "HSV", "PRIM"} <= units and len(units) >= 8
    # Landing files were archived, and a second run loads the same files again:
    # nothing changes.
    assert not list((data / "landing" / "ledger").glob("*.csv"))
    second = run_demo(data)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert counts(second.stdout) == c1
