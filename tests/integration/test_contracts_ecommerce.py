"""Contract register (CSV and XLSX) and e-commerce statistics loaders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from conftest import KEY, source
from openpyxl import Workbook

from spendkoll.errors import LoadFailed
from spendkoll.loaders.run import load_source

CONTRACT_HEADER = [
    "contract_id",
    "title",
    "supplier_org_number",
    "supplier_name",
    "category",
    "start_date",
    "end_date",
    "latest_end_date",
    "contract_type",
    "procured_by",
    "registered_date",
    "estimated_annual_value",
]
CONTRACTS = [
    [
        "AVT-1",
        "Kontorsmaterial",
        "556036-0793",
        "Åhléns AB",
        "Kontor",
        dt.date(2023, 1, 15),
        dt.date(2025, 1, 14),
        dt.date(2027, 1, 14),
        "ramavtal",
        "Upphandlingsenheten",
        dt.date(2022, 12, 1),
        1_500_000,
    ],
    [
        "AVT-2",
        "Konsult",
        "811218-9876",
        "Anna Berg",
        "Konsult",
        dt.date(2024, 3, 1),
        dt.date(2024, 8, 31),
        None,
        "direktupphandling",
        "Verksamheten",
        dt.date(2024, 4, 2),
        300_000.5,
    ],
]


def contracts_cfg(**kw):
    return source(name="contracts", kind="contracts", format="contracts", **kw)


def test_contract_register_xlsx(data_dir):
    wb = Workbook()
    ws = wb.active
    ws.append(CONTRACT_HEADER)
    for r in CONTRACTS:
        ws.append(r)
    folder = data_dir.landing_for("contracts")
    folder.mkdir(parents=True)
    wb.save(folder / "avtal.xlsx")
    [r] = load_source(contracts_cfg(), data_dir, KEY)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (2, 2, 0)
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    rows = con.execute(
        "select contract_id, supplier_key, supplier_id_status, supplier_name, start_date, "
        "end_date, latest_end_date, registered_date, estimated_annual_value, source_line "
        "from raw.contract order by contract_id"
    ).fetchall()
    assert rows[0] == (
        "AVT-1",
        "556036-0793",
        "orgnr",
        "Åhléns AB",
        dt.date(2023, 1, 15),
        dt.date(2025, 1, 14),
        dt.date(2027, 1, 14),
        dt.date(2022, 12, 1),
        Decimal("1500000.00"),
        2,
    )
    assert rows[1][1].startswith("PNR-") and rows[1][2] == "sole_trader"
    assert rows[1][3] == "Enskild firma (namn dolt)"
    assert rows[1][6] is None and rows[1][8] == Decimal("300000.50")


def test_contract_register_csv_snapshot_replaces_previous(data_dir):
    folder = data_dir.landing_for("contracts")
    folder.mkdir(parents=True)

    def csv_text(rows):
        lines = [";".join(CONTRACT_HEADER)]
        for r in rows:
            lines.append(";".join("" if v is None else str(v) for v in r))
        return "\n".join(lines) + "\n"

    (folder / "avtal_1.csv").write_text(csv_text(CONTRACTS), encoding="utf-8")
    load_source(contracts_cfg(pattern="*.csv"), data_dir, KEY)
    (folder / "avtal_2.csv").write_text(csv_text(CONTRACTS[:1]), encoding="utf-8")
    load_source(contracts_cfg(pattern="*.csv"), data_dir, KEY)
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    assert con.execute("select contract_id from raw.contract").fetchall() == [("AVT-1",)]


def test_contract_with_bad_end_date_is_quarantined(data_dir):
    folder = data_dir.landing_for("contracts")
    folder.mkdir(parents=True)
    rows = [
        ";".join(CONTRACT_HEADER),
        "AVT-1;t;556036-0793;A;K;2023-01-01;2025-13-01;;;;;",
        "AVT-2;t;556036-0793;A;K;2023-01-01;2025-12-31;;;;;",
    ]
    (folder / "a.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    [r] = load_source(contracts_cfg(pattern="*.csv", max_bad_row_share=0.5), data_dir, KEY)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    assert con.execute("select line, column_name from raw.quarantine").fetchall() == [
        (2, "end_date")
    ]


def test_ecommerce_cp1252_decimal_comma(data_dir):
    folder = data_dir.landing_for("ecommerce")
    folder.mkdir(parents=True)
    text = (
        "order_id;order_date;supplier_org_number;cost_centre;amount;from_catalogue;"
        "invoice_number\r\n"
        "E1;2024-03-02;556036-0793;Förråd;1 234,50;Ja;F100\r\n"
        "E2;2024-03-03;556036-0793;Förråd;-34,50;Nej;\r\n"
    )
    (folder / "ehandel_2024-03.csv").write_bytes(text.encode("cp1252"))
    [r] = load_source(
        source(name="ecommerce", kind="ecommerce", format="ecommerce", replace="file"),
        data_dir,
        KEY,
    )
    assert r.amount_loaded == Decimal("1200.00")
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    assert con.execute(
        "select cost_centre, from_catalogue, invoice_number from "
        "raw.ecommerce_order order by order_id"
    ).fetchall() == [("Förråd", True, "F100"), ("Förråd", False, None)]


def test_not_an_xlsx_is_rejected(data_dir):
    folder = data_dir.landing_for("contracts")
    folder.mkdir(parents=True)
    (folder / "avtal.xlsx").write_text("not a workbook")
    with pytest.raises(LoadFailed, match="not a readable .xlsx workbook"):
        load_source(contracts_cfg(), data_dir, KEY)
