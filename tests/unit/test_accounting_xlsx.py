"""The list to accounting (exceptions.xlsx) opened as accounting opens it: every
text cell is text, never a formula; the decision columns are ready to fill in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from spendkoll.quality.accounting_xlsx import (
    DECISION_HEADERS,
    DECISION_VALUES,
    SOURCE_COLUMNS,
    write_accounting_list,
)

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def row(i: int, supplier: str, explanation: str = "Konto 6410 men leverantören ...") -> tuple:
    values = {
        "exception_id": f"EX-{i:04d}",
        "org_unit_id": "HSV",
        "org_unit_name": "Hälso- och sjukvård",
        "period": "2025-12",
        "posting_date": date(2025, 12, 3),
        "supplier_name": supplier,
        "verification_id": f"V{i}",
        "invoice_number": "=1+2",
        "account": "6410",
        "amount": Decimal("12345.67"),
        "rule_ids": "DQ14,DQ02",
        "explanation": explanation,
        "suggested_account": "4010",
        "suggested_category": "VM-MF Medicinska förbrukningsartiklar",
        "amount_at_stake": Decimal("-500.00"),
        "score": Decimal("0.875"),
        "status": "new",
    }
    return tuple(values[c] for c in SOURCE_COLUMNS)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_text_that_looks_like_a_formula_stays_text(tmp_path, lang):
    rows = [row(i, s, explanation=s) for i, s in enumerate(HOSTILE)]
    path = tmp_path / "exceptions.xlsx"
    assert write_accounting_list(iter(rows), path, lang) == len(HOSTILE)
    wb = load_workbook(path)
    assert wb.sheetnames == [{"sv": "Undantag", "en": "Exceptions"}[lang]]
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[0] == "exception_id"
    assert header[-4:] == list(DECISION_HEADERS[lang])
    col = {name: i for i, name in enumerate(SOURCE_COLUMNS)}
    for r, supplier in enumerate(HOSTILE, start=2):
        for name in ("supplier_name", "explanation", "invoice_number"):
            cell = ws.cell(r, col[name] + 1)
            want = "=1+2" if name == "invoice_number" else supplier
            # exactly the value, stored as a string (not a formula), marked as text
            assert cell.data_type == "s", (name, cell.value)
            # (a carriage return is stored escaped, _x000D_, as the format wants;
            # Excel shows it unescaped, openpyxl does not unescape it)
            assert cell.value == want.replace("\r", "_x000D_")
            assert cell.quotePrefix, (name, cell.value)
        assert ws.cell(r, 1).value == f"EX-{r - 2:04d}"
        assert ws.cell(r, col["amount"] + 1).value == pytest.approx(12345.67)
        assert ws.cell(r, col["amount_at_stake"] + 1).value == -500
        assert isinstance(ws.cell(r, col["posting_date"] + 1).value, datetime)
    # no cell anywhere holds a formula
    assert not [c.coordinate for line in ws.iter_rows() for c in line if c.data_type == "f"]
    # a filter on every column, the header frozen
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(HOSTILE) + 1}"
    assert ws.freeze_panes == "A2"
    # the decision drop-down over the decision column of every row
    decision_col = ws.cell(1, len(header) - 3).column_letter
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1
    assert str(lists[0].sqref) == f"{decision_col}2:{decision_col}{len(HOSTILE) + 1}"
    assert lists[0].formula1 == '"' + ",".join(DECISION_VALUES[lang]) + '"'
    dates = [dv for dv in ws.data_validations.dataValidation if dv.type == "date"]
    assert len(dates) == 1


def test_an_empty_list_still_has_its_header_and_dropdown(tmp_path):
    path = tmp_path / "exceptions.xlsx"
    assert write_accounting_list([], path) == 0
    ws = load_workbook(path).active
    assert ws.max_row == 1 and ws["A1"].value == "exception_id"
    assert any(dv.type == "list" for dv in ws.data_validations.dataValidation)
    assert not list(tmp_path.glob("*.tmp.xlsx"))
