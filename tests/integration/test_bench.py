"""`make bench` end to end at a small size (20,000 lines: the planted malformed rows stay
under the 1 % that rejects a file): every stage runs and the report is written."""

from __future__ import annotations

import json

import duckdb
import pytest

from spendkoll.bench import report, run_bench

pytestmark = pytest.mark.slow


def test_bench_runs_every_stage_and_records_them(tmp_path):
    stages = run_bench(20_000, tmp_path / "work", incremental_lines=300)
    names = [(s.run, s.name) for s in stages]
    assert names == [
        ("prepare", "generate demo region"),
        ("floor", "DuckDB reads the ledger files"),
        *[
            (run, stage)
            for run in ("full", "incremental")
            for stage in ("load", "dbt build", "validation", "controller's report", "publish")
        ],
        ("prepare", "airflow: metadata database and DAGs"),
        *[
            (run, dag)
            for run in ("airflow full", "airflow incremental")
            for dag in (
                "start-up (Airflow process)",
                "load_ledger",
                "load_contracts",
                "load_ecommerce",
                "load_supplier_register",
                "transform",
            )
        ],
    ]
    assert all(
        s.seconds > 0 and s.peak_bytes > 10 * 2**20
        for s in stages
        if s.run != "prepare" or s.name.startswith("generate")
    )
    # Airflow's record of every DAG run: no longer than DAG.test() that ran it in
    # the night's one Airflow process
    airflow = [
        s for s in stages if s.run.startswith("airflow") and s.name != "start-up (Airflow process)"
    ]
    for s in airflow:
        assert s.run_seconds and 0 < s.run_seconds <= s.seconds, (s, s.run_seconds)
    # the same files through both paths: the Airflow warehouse holds what the CLI loaded
    cli_wh = tmp_path / "work" / "var" / "warehouse" / "spendkoll.duckdb"
    af_wh = tmp_path / "work" / "airflow" / "var" / "warehouse" / "spendkoll.duckdb"
    totals = []
    for wh in (cli_wh, af_wh):
        with duckdb.connect(str(wh), read_only=True) as c:
            totals.append(c.execute("select count(*), sum(amount) from marts.fct_spend").fetchone())
    assert totals[0] == totals[1]
    incremental_load = next(s for s in stages if s.run == "incremental" and s.name == "load")
    assert incremental_load.rows == 300
    # the incremental night rebuilt the new day's lines, not the history
    con = duckdb.connect(
        str(tmp_path / "work" / "var" / "warehouse" / "spendkoll.duckdb"), read_only=True
    )
    rebuilt, total = con.execute(
        "select count(*) filter (where built_at = (select max(built_at) from marts.fct_spend)), "
        "count(*) from marts.fct_spend"
    ).fetchone()
    assert rebuilt == 300 and total > 20_000
    assert con.execute(
        "select reason, count(*) from intermediate.int_spend_build_scope group by 1"
    ).fetchall() == [("batch", 1)]
    con.close()
    out = tmp_path / "BENCHMARKS.md"
    text = report(20_000, stages, out)
    assert "full run through Airflow / floor" in text
    assert "incremental night / full run through Airflow" in text
    assert "Airflow full night / command line" in text
    assert "peak memory of any process" in text and "cores" in text
    # a second size gives the growth check per stage
    text2 = report(40_000, stages, out)
    assert "growth from 20,000 to 40,000 lines" in text2
    history = json.loads(out.with_suffix(".json").read_text())
    assert [h["size"] for h in history] == [20_000, 40_000]
