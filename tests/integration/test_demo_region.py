"""The demo region: deterministic, calibrated to the review's figures, bounded in memory."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import duckdb
import pytest
from conftest import KEY

from spendkoll.demo.generator import DemoSpec, generate
from spendkoll.loaders.run import load_source
from spendkoll.sources import load_sources

pytestmark = pytest.mark.slow


def digest(folder):
    h = hashlib.sha256()
    for p in sorted([*folder.rglob("*.csv"), *folder.rglob("*.xlsx")]):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_files(tmp_path):
    spec = DemoSpec(lines=5_000, seed=11)
    generate(tmp_path / "a", tmp_path / "a_ans", spec)
    generate(tmp_path / "b", tmp_path / "b_ans", spec)
    generate(tmp_path / "c", tmp_path / "c_ans", DemoSpec(lines=5_000, seed=12))
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert (tmp_path / "a_ans" / "miscoded.csv").read_bytes() == (
        tmp_path / "b_ans" / "miscoded.csv"
    ).read_bytes()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    import os

    from spendkoll.paths import DataDir

    root = tmp_path_factory.mktemp("demo")
    data = DataDir(root / "var").ensure()
    summary = generate(data.landing, data.demo_answers, DemoSpec(lines=100_000))
    os.environ["SPENDKOLL_DATA_DIR"] = str(data.root)
    sources = load_sources()
    for name in ("ledger", "contracts", "ecommerce"):
        load_source(sources[name], data, KEY)
    con = duckdb.connect(str(data.warehouse), read_only=True)
    yield con, summary, data
    con.close()


NON_ADDRESSABLE = "('5831', '7690', '8410', '4990', '1220', '1230', '1110')"


def test_calibration_to_the_review(demo_db):
    """Bands around the review's figures (94 % / 20 %, 79 %, 90 %, 5 %, 400-500)."""
    con, summary, _ = demo_db
    assert 400 <= summary["contracts"] <= 500
    small = con.execute("""
        with inv as (select supplier_key, invoice_number, sum(amount) a
                     from raw.ledger_line group by all)
        select avg(case when a < 10000 then 1.0 else 0 end) from inv""").fetchone()[0]
    assert 0.74 <= small <= 0.84
    tail = con.execute("""
        with s as (select supplier_key, sum(amount) a from raw.ledger_line
                   where supplier_key is not null group by 1),
        r as (select a, row_number() over (order by a) rn, count(*) over () n from s)
        select sum(a) filter (where rn <= 0.94 * n) / sum(a) from r""").fetchone()[0]
    assert 0.14 <= tail <= 0.26
    loyalty = con.execute(f"""
        with l as (select * from raw.ledger_line where account not in {NON_ADDRESSABLE})
        select sum(amount) filter (where exists (
            select 1 from raw.contract c where c.supplier_key = l.supplier_key
            and l.posting_date between c.start_date and c.end_date)) / sum(amount) from l
    """).fetchone()[0]
    assert 0.84 <= loyalty <= 0.95
    ecom = con.execute(
        "select (select sum(amount) from raw.ecommerce_order) / "
        "(select sum(amount) from raw.ledger_line)"
    ).fetchone()[0]
    assert 0.03 <= ecom <= 0.07


def test_demo_has_the_cases_later_work_needs(demo_db):
    con, summary, data = demo_db
    counts = dict(
        con.execute("""
        select 'late', count(*) from raw.contract where registered_date > start_date
        union all select 'business', count(*) from raw.contract where procured_by = 'Verksamheten'
        union all select 'expired', count(*) from raw.contract where end_date < date '2025-12-31'
        union all select 'sole', count(*) from raw.ledger_line where supplier_id_status = 'sole_trader'
        union all select 'public', count(*) from raw.ledger_line where supplier_legal_form = 'public'
        union all select 'investment', count(*) from raw.ledger_line where account like '1%'
        union all select 'grants', count(*) from raw.ledger_line where account = '5831'
        union all select 'credit', count(*) from raw.ledger_line where amount < 0
        union all select 'missing_id', count(*) from raw.ledger_line where supplier_id_status = 'missing'
    """).fetchall()
    )
    assert all(v > 0 for v in counts.values()), counts
    answers = (data.demo_answers / "miscoded.csv").read_text().splitlines()
    kinds = {line.split(";")[3] for line in answers[1:]}
    assert {
        "wrong_category",
        "operating_as_investment",
        "investment_as_operating",
        "internal_on_external_account",
        "vat_rate",
        "duplicate",
    } <= kinds
    # Every planted line is in the loaded ledger.
    planted = {(a.split(";")[1], int(a.split(";")[2])) for a in answers[1:]}
    found = set(con.execute("select verification_id, line_number from raw.ledger_line").fetchall())
    assert planted <= found


def test_a_million_lines_stream_in_bounded_memory(tmp_path):
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from spendkoll.demo.generator import DemoSpec, generate\n"
        f"generate(Path(r'{tmp_path}') / 'l', Path(r'{tmp_path}') / 'a', DemoSpec(lines=1_000_000))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    peak_mib = int(out.strip().splitlines()[-1]) / 1024
    print(f"peak RSS generating 1M lines: {peak_mib:.0f} MiB")
    # A month of 1M/24 lines at a time; the whole ledger would be several GB.
    assert peak_mib < 1024
    lines = sum(1 for p in (tmp_path / "l" / "ledger").glob("*.csv") for _ in p.open()) - 24
    assert lines >= 1_000_000


def test_demo_malformed_rows_are_quarantined_where_the_answer_file_says(demo_db):
    con, summary, data = demo_db
    expected = [
        line.split(";")
        for line in (data.demo_answers / "quarantine_expected.csv").read_text().splitlines()[1:]
    ]
    assert summary["malformed_rows"] == len(expected) == 3
    got = con.execute(
        "select file_name, line, coalesce(column_name, '') from raw.quarantine order by line"
    ).fetchall()
    assert [(f, str(ln), c) for f, ln, c in got] == [(f, ln, c) for f, ln, c, _ in expected]
