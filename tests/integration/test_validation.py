"""Great Expectations validation, publication and the controller's report."""

from __future__ import annotations

import csv
from datetime import datetime

import duckdb
import pytest
from conftest import FIXTURES, KEY, build_fixture_warehouse
from openpyxl import load_workbook
from test_dq_rules_golden import EXPECTED

from spendkoll.demo.generator import DemoSpec, generate
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir
from spendkoll.publish import parquet_path, publish, published_path
from spendkoll.quality import validation
from spendkoll.quality.report import build_report
from spendkoll.quality.validation import Validator
from spendkoll.sources import load_sources
from spendkoll.transform.dbt import run_dbt

# The hand-made fixture of the rule catalogue (tests/fixtures/dq): its lines, and
# the exceptions test_dq_rules_golden works out by hand (one per line and rule).
DQ_LINES = sum(1 for _ in (FIXTURES / "dq" / "ledger_2024.csv").open(encoding="utf-8")) - 1

pytestmark = pytest.mark.slow


def build_dq_fixture(data: DataDir) -> None:
    build_fixture_warehouse(data, "dq")


def failed(report):
    return {(o.suite, o.expectation, o.column, o.severity) for o in report.failures}


def test_clean_data_passes_and_only_new_batches_are_validated(data_dir):
    build_dq_fixture(data_dir)
    v = Validator(data_dir, build_docs=True)
    raw = v.validate_raw()
    assert raw.passed, raw.summary()
    targets = {(o.suite, o.target) for o in raw.outcomes}
    assert ("raw_ledger_line", "ledger_2024.csv") in targets
    assert ("raw_contract", "contracts.csv") in targets
    # the fixture's missing supplier ids are a reported warning, not a blocker
    assert failed(raw) == {
        ("raw_ledger_line", "expect_column_values_to_not_be_null", "supplier_key", "warning")
    }
    ledger_null = next(
        o
        for o in raw.outcomes
        if o.column == "supplier_key" and o.expectation == "expect_column_values_to_not_be_null"
    )
    assert (ledger_null.element_count, ledger_null.unexpected_count) == (DQ_LINES, 3)
    marts = v.validate_marts()
    # Y01 (account 9999) is unclassified: a warning, the run goes on.
    assert marts.passed, marts.summary()
    assert failed(marts) == {
        ("marts_dataset", "expect_column_values_to_be_between", "unclassified_lines", "warning")
    }
    observed = {o.column: o.observed for o in marts.outcomes}
    assert observed["personnummer_in_marts"] == "0"
    assert raw.docs_index is not None and raw.docs_index.exists()
    # A second night with no new files reads no batch again: only the table checks.
    again = Validator(data_dir, build_docs=False).validate_raw()
    assert {o.suite for o in again.outcomes} == {"raw_dataset"}
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    assert con.execute(
        "select count(distinct run_id) from quality.validation_result"
    ).fetchone() == (3,)


def test_blocking_failures(data_dir, monkeypatch):
    build_dq_fixture(data_dir)
    # Posting dates outside the open fiscal years block.
    monkeypatch.setenv("SPENDKOLL_LAST_FISCAL_YEAR", "2023")
    raw = Validator(data_dir, build_docs=False).validate_raw()
    assert not raw.passed
    assert (
        "raw_ledger_line",
        "expect_column_values_to_be_between",
        "posting_year",
        "blocking",
    ) in failed(raw)
    assert "posting_year" in raw.summary() and "ledger_2024.csv" in raw.summary()
    # A personnummer in a mart blocks publication; a date-shaped number that fails
    # the check digit is not a personnummer. A line missing from fct_spend fails
    # dbt's reconciliation test (inside the build, so nothing is published either).
    with duckdb.connect(str(data_dir.warehouse)) as con:
        con.execute(
            "create table marts.leak as select 'Anna 811218-9876' as note "
            "union all select 'ref 2403151235' "
            # a pseudonym whose hex holds a valid-looking personnummer (seen at 1M lines)
            "union all select 'PNR-2604834676c6d966'"
        )
        con.execute("delete from marts.fct_spend where verification_id = 'X01'")
    marts = Validator(data_dir, build_docs=False).validate_marts()
    observed = {o.column: o.observed for o in marts.outcomes}
    assert observed["personnummer_in_marts"] == "1"
    assert {o.column for o in marts.blocking} == {"personnummer_in_marts"}
    proc = run_dbt(
        [
            "test",
            "--select",
            "assert_fct_spend_reconciles_to_raw",
            "assert_kpi_monthly_reconciles_to_raw",
        ],
        data_dir,
    )
    assert proc.returncode != 0
    # the period the line was taken from, with its count and its 300 kr, named in the failure
    assert "FAIL 1 assert_fct_spend_reconciles_to_raw" in proc.stdout, proc.stdout[-3000:]
    with duckdb.connect(str(data_dir.warehouse), read_only=True) as con:
        raw_lines, fct_lines, raw_amount, fct_amount = con.execute(
            "with r as (select period, count(*) n, sum(amount) a from raw.ledger_line "
            "group by 1), f as (select period, count(*) n, sum(amount) a from "
            "marts.fct_spend group by 1) select r.n, f.n, r.a, f.a from r join f using "
            "(period) where r.n <> f.n"
        ).fetchone()
    assert raw_lines - fct_lines == 1 and raw_amount - fct_amount == 300


def test_validation_streams_bounded_chunks(data_dir, monkeypatch):
    generate(data_dir.landing, data_dir.demo_answers, DemoSpec(lines=20_000))
    sources = load_sources()
    for name in ("ledger", "contracts", "ecommerce"):
        load_source(sources[name], data_dir, KEY)
    sizes: list[int] = []
    real_run = Validator._run

    def spy(self, suite_name, frame, run_name):
        sizes.append(len(frame))
        return real_run(self, suite_name, frame, run_name)

    monkeypatch.setattr(Validator, "_run", spy)
    report = Validator(data_dir, chunk_rows=500, build_docs=False).validate_raw()
    assert report.passed, report.summary()
    # No frame larger than a chunk, and the ledger came in many of them.
    assert max(sizes) <= 500 and len(sizes) > 40
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    per_file = dict(
        con.execute(
            "select b.file_name, count(*) from raw.ledger_line l join raw.load_batch b "
            "using (batch_id) group by 1"
        ).fetchall()
    )
    counted = {
        o.target: o.element_count
        for o in report.outcomes
        if o.suite == "raw_ledger_line" and o.column == "account"
    }
    assert counted == per_file  # chunk counts add up to each file's rows


def test_report_and_publication(data_dir):
    build_dq_fixture(data_dir)
    v = Validator(data_dir, build_docs=False)
    v.validate_raw()
    v.validate_marts()
    first = build_report(data_dir, ["x"])
    second = build_report(data_dir, ["x"])
    assert first.exceptions == second.exceptions == len(EXPECTED)
    with first.csv.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert len(rows) == len(EXPECTED) and {r["rule_id"] for r in rows} >= {"DQ02", "DQ07", "DQ12"}
    # The XLSX is the list to accounting: the lines on the list (marts.dq_accounting_list,
    # all months, newest first), exception_id first, the decision columns to fill in.
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    listed = con.execute(
        "select exception_id from marts.dq_accounting_list where on_list "
        "order by period desc, org_unit_id, rank_in_unit_month, "
        "exception_id"
    ).fetchall()
    con.close()
    assert listed and first.on_list == len(listed)
    wb = load_workbook(first.xlsx)
    assert wb.sheetnames == ["Undantag"]
    sheet = wb["Undantag"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "exception_id"
    assert header[-4:] == ["beslut", "kommentar", "signatur", "beslutsdatum"]
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == [x for (x,) in listed]
    last = sheet.cell(1, len(header)).column_letter
    assert sheet.auto_filter.ref == f"A1:{last}{len(listed) + 1}"  # a filter on every column
    assert sheet.freeze_panes == "A2"
    # typed cells: a date is a date, an amount a number, an account text
    row = dict(zip(header, next(sheet.iter_rows(min_row=2, values_only=True)), strict=True))
    assert isinstance(row["bokföringsdatum"], datetime)
    assert isinstance(row["belopp"], int | float) and isinstance(row["konto"], str)
    assert sheet["A1"].font.b
    page = first.index.read_text(encoding="utf-8")
    assert "<polyline" in page  # the trends, month by month
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert 'id="filter-unit"' in page and 'id="filter-rule"' in page
    assert 'class="exc" data-unit=' in page and 'href="validation.html"' in page
    assert (first.folder / "validation.html").exists()
    # Publication: a reader holding the old snapshot keeps it while a new one is swapped in.
    path = publish(data_dir)
    assert path == published_path(data_dir)
    old = duckdb.connect(str(path), read_only=True)
    stamp = old.execute("select published_at from published").fetchone()
    publish(data_dir)
    assert old.execute("select count(*) from marts.fct_spend").fetchone() == (DQ_LINES,)
    assert old.execute("select published_at from published").fetchone() == stamp
    old.close()  # (DuckDB shares one open database per path within a process)
    new = duckdb.connect(str(path), read_only=True)
    assert new.execute("select published_at from published").fetchone() != stamp
    assert new.execute("select count(*) from marts.dq_invoice_exceptions").fetchone() == (
        len(EXPECTED),
    )
    assert not list(path.parent.glob(".*.tmp"))
    # Parquet: one file per mart, the fact table partitioned by fiscal year, behind a
    # symlink switched atomically; the previous version stays for readers still on it.
    parquet = parquet_path(data_dir)
    assert parquet.is_symlink()
    assert (parquet / "kpi_monthly.parquet").exists()
    assert (parquet / "fct_spend" / "fiscal_year=2024").is_dir()
    pq = duckdb.connect()
    assert pq.execute(
        f"select count(*), sum(amount) from read_parquet('{parquet}/fct_spend/*/*.parquet', "
        "hive_partitioning = true)"
    ).fetchone() == (DQ_LINES, new.execute("select sum(amount) from marts.fct_spend").fetchone()[0])
    # one version folder holds both; `current` is switched once per publish
    versions = [p for p in (parquet.parent / "versions").iterdir() if p.is_dir()]
    assert len(versions) == 2 and parquet.resolve() == max(versions) / "parquet"
    assert path.resolve() == max(versions) / "spendkoll_marts.duckdb"


def test_suites_are_valid_gx_json():
    for name in (
        "raw_ledger_line",
        "raw_contract",
        "raw_ecommerce_order",
        "raw_dataset",
        "marts_dataset",
    ):
        spec = validation.load_suite_json(name)
        assert spec["name"] == name and spec["expectations"]
        for e in spec["expectations"]:
            assert e["severity"] in ("critical", "warning", "info")
            assert e["meta"]["notes"]


def test_a_pseudonym_is_not_a_personnummer():
    """The hex of a PNR- pseudonym may hold 10 digits shaped like a personnummer (the
    1-million-line benchmark met PNR-2604834676c6d966); only a clear-text one fails."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "supplier_key": ["PNR-2604834676c6d966", "556036-0793"],
            "supplier_id_raw": [None, "5560360793"],
        }
    )
    cfg = validation.load_suite_json("raw_ledger_line")
    checks = [
        e for e in cfg["expectations"] if e["type"] == "expect_column_values_to_not_match_regex"
    ]
    assert len(checks) == 2
    import re

    for e in checks:
        pattern = re.compile(e["kwargs"]["regex"])
        assert not any(pattern.search(str(x)) for x in frame[e["kwargs"]["column"]].dropna())
        assert pattern.search("811218-9876") and pattern.search("198112189876")


def test_personnummer_scan_reads_rows_built_since_the_last_clean_scan(data_dir):
    build_dq_fixture(data_dir)

    def pnr() -> str | None:
        report = Validator(data_dir, build_docs=False).validate_marts()
        return {o.column: o.observed for o in report.outcomes}["personnummer_in_marts"]

    assert pnr() == "0"
    with duckdb.connect(str(data_dir.warehouse)) as con:
        (clean_to,) = con.execute(
            "select clean_to from quality.pnr_scan where table_name = 'fct_spend'"
        ).fetchone()
        assert clean_to == con.execute("select max(built_at) from marts.fct_spend").fetchone()[0]
        # a line rebuilt by a later build, with a personnummer in clear text
        con.execute(
            "update marts.fct_spend set supplier_name = 'Anna 811218-9876', "
            "built_at = built_at + interval 1 day where verification_id = 'X01'"
        )
    assert pnr() == "1"
    assert pnr() == "1"  # a scan that finds one moves no mark
