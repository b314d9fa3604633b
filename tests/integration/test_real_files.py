"""Real published files: Örebro kommun's supplier invoices and public SIE 4 examples."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, KEY, ROOT, shared_file

from spendkoll.errors import LoadFailed
from spendkoll.loaders.run import load_source
from spendkoll.sources import load_sources


def orebro_cfg():
    return load_sources(ROOT / "include" / "sources" / "orebro.toml")["orebro_ledger"]


def land(data_dir, source_name: str, *files: Path) -> None:
    folder = data_dir.landing_for(source_name)
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, folder / f.name)


def test_orebro_full_month_loads_every_row_to_the_ore(data_dir):
    land(
        data_dir,
        "orebro_ledger",
        shared_file("real", "orebro-2016-03", "leverantorsfakturor_2016-03.csv"),
    )
    [r] = load_source(orebro_cfg(), data_dir, KEY)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (68_021, 68_021, 0)
    assert r.amount_loaded == Decimal("450187283.39")
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    n, total, period, day = con.execute(
        "select count(*), sum(amount), min(period), max(posting_date)::varchar from raw.ledger_line"
    ).fetchone()
    assert (n, total, period, day) == (68_021, Decimal("450187283.39"), "2016-03", "2016-03-31")
    # Bad supplier ids are flagged, not dropped: SAKNAS and blanks are missing,
    # numbers failing the Luhn check are invalid.
    flagged = dict(
        con.execute(
            "select supplier_id_status, count(*) from raw.ledger_line "
            "where supplier_id_status in ('missing', 'invalid') group by 1"
        ).fetchall()
    )
    assert flagged["missing"] >= 4 and flagged["invalid"] >= 1
    assert r.rows_flagged == sum(flagged.values())
    assert con.execute(
        "select count(*) from raw.ledger_line where supplier_id_raw = 'SAKNAS'"
    ).fetchone() == (4,)
    # Account "46362 Köp medicinskt färdigbeh" is split into number and text.
    assert con.execute(
        "select account, account_text from raw.ledger_line where source_line = 2"
    ).fetchone() == ("46362", "Köp medicinskt färdigbeh")


def test_orebro_fixture_sample(data_dir):
    """The committed 200-row sample: hand-summed with awk, 200 rows."""
    sample = FIXTURES / "orebro" / "leverantorsfakturor_2016-03_first200.csv"
    land(data_dir, "orebro_ledger", sample)
    [r] = load_source(orebro_cfg(), data_dir, KEY)
    assert (r.rows_in, r.rows_loaded) == (200, 200)


EXPECTED_SIE = {
    # file: (status, reason fragment or None)
    "BL0001_typ4.SE": ("loaded", None),
    "MAMUT_SIE4_EXPORT.SE": ("loaded", None),
    "SIE4_Exempelfil_med_underdim.SE": ("loaded", None),
    "SIE_exempelfil.se": ("loaded", None),
    "Sie4.se": ("loaded", None),
    "transaktioner_ovnbolag.se": ("loaded", None),
    "XE_SIE_4_20151125095119.SE": ("rejected", "voucher 1-1 does not balance"),
}


def test_every_sie_example_loads_or_is_rejected_with_a_reason(data_dir):
    files = sorted(shared_file("sie").iterdir())
    assert {f.name for f in files} == set(EXPECTED_SIE)
    land(data_dir, "sie_ledger", *files)
    cfg = load_sources(ROOT / "include" / "sources" / "sie_examples.toml")["sie_ledger"]
    with pytest.raises(LoadFailed) as exc:
        load_source(cfg, data_dir, KEY)
    results = {r.file_name: r for r in exc.value.results}
    for name, (status, reason) in EXPECTED_SIE.items():
        assert results[name].status == status, name
        if reason:
            assert reason in (results[name].message or "")
        else:
            assert results[name].rows_loaded > 0
            assert results[name].rows_in == results[name].rows_loaded + results[name].rows_skipped
    assert "declares #FORMAT PC8 but is UTF-8" in results["SIE4_Exempelfil_med_underdim.SE"].message
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    # MAMUT: the supplier (dim 9) on the payables line reaches the cost lines.
    assert (
        con.execute(
            "select count(*) from raw.ledger_line l join raw.load_batch b using (batch_id) "
            "where b.file_name = 'MAMUT_SIE4_EXPORT.SE' and supplier_id_raw is not null"
        ).fetchone()[0]
        > 0
    )


def test_sie_golden_file(data_dir):
    land(data_dir, "sie_ledger", FIXTURES / "sie" / "golden.se")
    cfg = load_sources(ROOT / "include" / "sources" / "sie_examples.toml")["sie_ledger"]
    [r] = load_source(cfg, data_dir, KEY)
    # 8 #TRANS (RTRANS/BTRANS not counted); 4 on cost accounts; 4 skipped.
    assert (r.rows_in, r.rows_loaded, r.rows_skipped) == (8, 4, 4)
    assert r.amount_loaded == Decimal("975.75")
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    rows = con.execute(
        "select verification_id, posting_date::varchar, account, account_text, amount, "
        "invoice_number, supplier_key, supplier_name, cost_centre from raw.ledger_line "
        "order by source_line"
    ).fetchall()
    assert rows == [
        (
            "A-1",
            "2024-01-15",
            "4010",
            "Läkemedel",
            Decimal("1000.00"),
            "1001",
            "556036-0793",
            "Apoteksbolaget AB",
            "HSV01",
        ),
        (
            "A-1",
            "2024-01-15",
            "6410",
            "Kontorsmaterial",
            Decimal("200.50"),
            "1001",
            "556036-0793",
            "Apoteksbolaget AB",
            "HSV01",
        ),
        (
            "A-2",
            "2024-01-20",
            "4010",
            "Läkemedel",
            Decimal("-300.00"),
            "1002",
            "556036-0793",
            "Apoteksbolaget AB",
            "HSV01",
        ),
        ("A-3", "2024-01-31", "6410", "Kontorsmaterial", Decimal("75.25"), None, None, None, None),
    ]


def test_unbalanced_sie_rejected_nothing_loaded(data_dir, tmp_path):
    bad = tmp_path / "bad.se"
    text = (FIXTURES / "sie" / "golden.se").read_bytes().replace(b"-300.00", b"-299.00")
    bad.write_bytes(text)
    land(data_dir, "sie_ledger", bad)
    cfg = load_sources(ROOT / "include" / "sources" / "sie_examples.toml")["sie_ledger"]
    with pytest.raises(LoadFailed, match=r"bad.se: line 22: voucher A-2 does not balance"):
        load_source(cfg, data_dir, KEY)
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    assert con.execute("select count(*) from raw.ledger_line").fetchone() == (0,)
