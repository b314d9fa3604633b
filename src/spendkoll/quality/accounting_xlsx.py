"""The list to accounting: an XLSX of the exceptions on the list, with the
decision columns ready to fill in and send back.

Written with XlsxWriter in ``constant_memory`` mode (each row is flushed to disk
as it is written, so a long list costs no memory), one sheet, ``Undantag``
(Swedish) or ``Exceptions`` (English):

* ``exception_id`` first and never translated: the decisions loader (source
  kind ``dq_decisions``) keys the returned file on it;
* what accounting needs to find and judge the line (org unit, supplier, voucher,
  invoice, account, amount, the rules that agree, the explanation, the
  suggested account or category, the amount at stake, score and status), with a
  filter on every column and the header row frozen;
* the decision columns, empty: ``beslut``/``decision`` (a drop-down list:
  ``bekräftad``, ``falsklarm``, ``rättad`` in Swedish; ``confirmed``,
  ``dismissed``, ``corrected`` in English), ``kommentar``/``comment``,
  ``signatur``/``initials`` and ``beslutsdatum``/``decided_on`` (a date). The
  decisions loader accepts exactly these header names, in either language, and
  these values.

**Formula injection.** A supplier name, an explanation or any other text is
written with ``write_string``, never ``write``, so XlsxWriter never turns it
into a formula; and every text cell carries the *quote prefix* cell style
(``quotePrefix="1"``, what Excel sets when a user types a leading apostrophe),
so that Excel keeps ``=HYPERLINK(...)``, ``+1+1``, ``-2`` or ``@SUM(A1)`` as
text even when the cell is edited and confirmed again. The value itself is
kept exactly as it is (no apostrophe is added to it), so the file round-trips
through the decisions loader unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

# The mart columns the list is written from (marts.dq_accounting_list, the
# suggested category's name joined in), in the order the caller selects them.
SOURCE_COLUMNS = (
    "exception_id",
    "org_unit_id",
    "org_unit_name",
    "period",
    "posting_date",
    "supplier_name",
    "verification_id",
    "invoice_number",
    "account",
    "amount",
    "rule_ids",
    "explanation",
    "suggested_account",
    "suggested_category",
    "amount_at_stake",
    "score",
    "status",
)

HEADERS: dict[str, dict[str, str]] = {
    "sv": {
        "exception_id": "exception_id",
        "org_unit_id": "enhet",
        "org_unit_name": "enhetsnamn",
        "period": "period",
        "posting_date": "bokföringsdatum",
        "supplier_name": "leverantör",
        "verification_id": "verifikation",
        "invoice_number": "fakturanummer",
        "account": "konto",
        "amount": "belopp",
        "rule_ids": "regler",
        "explanation": "förklaring",
        "suggested_account": "föreslaget konto",
        "suggested_category": "föreslagen kategori",
        "amount_at_stake": "belopp i fråga",
        "score": "poäng",
        "status": "status",
    },
    "en": {
        "exception_id": "exception_id",
        "org_unit_id": "org_unit",
        "org_unit_name": "org_unit_name",
        "period": "period",
        "posting_date": "posting_date",
        "supplier_name": "supplier",
        "verification_id": "voucher",
        "invoice_number": "invoice",
        "account": "account",
        "amount": "amount",
        "rule_ids": "rules",
        "explanation": "explanation",
        "suggested_account": "suggested_account",
        "suggested_category": "suggested_category",
        "amount_at_stake": "amount_at_stake",
        "score": "score",
        "status": "status",
    },
}

# The columns accounting fills in; the decisions loader reads exactly these.
DECISION_HEADERS: dict[str, tuple[str, str, str, str]] = {
    "sv": ("beslut", "kommentar", "signatur", "beslutsdatum"),
    "en": ("decision", "comment", "initials", "decided_on"),
}
DECISION_VALUES: dict[str, tuple[str, str, str]] = {
    "sv": ("bekräftad", "falsklarm", "rättad"),
    "en": ("confirmed", "dismissed", "corrected"),
}
SHEET = {"sv": "Undantag", "en": "Exceptions"}
STATUS = {
    "sv": {"new": "ny", "open": "öppen", "confirmed": "bekräftad"},
    "en": {"new": "new", "open": "open", "confirmed": "confirmed"},
}
HELP = {
    "sv": (
        "Beslut",
        "Välj bekräftad (felkonterad, rättas), falsklarm (inget fel) eller "
        "rättad (redan omkonterad). Fyll i signatur och beslutsdatum och skicka "
        "tillbaka filen.",
    ),
    "en": (
        "Decision",
        "Choose confirmed (mis-coded, to be corrected), dismissed (a false "
        "alarm) or corrected (already recoded). Fill in initials and the date, and send "
        "the file back.",
    ),
}

# Text a spreadsheet may read as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

WIDTHS = {
    "exception_id": 26,
    "org_unit_id": 8,
    "org_unit_name": 22,
    "period": 8,
    "posting_date": 11,
    "supplier_name": 28,
    "verification_id": 12,
    "invoice_number": 14,
    "account": 8,
    "amount": 14,
    "rule_ids": 12,
    "explanation": 60,
    "suggested_account": 10,
    "suggested_category": 24,
    "amount_at_stake": 14,
    "score": 7,
    "status": 10,
}
MONEY = {"amount", "amount_at_stake"}
DATES = {"posting_date"}


def is_formula_like(text: str) -> bool:
    """True for text a spreadsheet would evaluate when typed or imported."""
    return text.startswith(FORMULA_START)


def headers(lang: str) -> list[str]:
    """The sheet's header row in `lang`."""
    return [HEADERS[lang][c] for c in SOURCE_COLUMNS] + list(DECISION_HEADERS[lang])


def write_accounting_list(rows: Iterable[Sequence[Any]], path: Path, lang: str = "sv") -> int:
    """Write `rows` (tuples in SOURCE_COLUMNS order, already in the order the
    list should have) to a new workbook at `path`, atomically. Returns the rows
    written."""
    if lang not in HEADERS:
        raise ValueError(f"language {lang!r}: use sv or en")
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    wb = xlsxwriter.Workbook(
        str(tmp),
        {
            "constant_memory": True,
            # write() is never used on data, but keep every implicit conversion off
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": str(path.parent),
        },
    )
    header = wb.add_format(
        {"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"}
    )
    header_fill = wb.add_format(
        {"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True, "valign": "top"}
    )
    text = wb.add_format({"quote_prefix": True, "valign": "top"})
    wrapped = wb.add_format({"quote_prefix": True, "valign": "top", "text_wrap": True})
    money = wb.add_format({"num_format": "#,##0.00", "valign": "top"})
    score = wb.add_format({"num_format": "0.00", "valign": "top"})
    day = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    to_fill = wb.add_format(
        {
            "bg_color": "#FFFBEA",
            "border": 1,
            "border_color": "#D9D9D9",
            "quote_prefix": True,
            "valign": "top",
        }
    )
    to_fill_day = wb.add_format(
        {
            "bg_color": "#FFFBEA",
            "border": 1,
            "border_color": "#D9D9D9",
            "num_format": "yyyy-mm-dd",
            "valign": "top",
        }
    )
    ws = wb.add_worksheet(SHEET[lang])
    names = headers(lang)
    n_source = len(SOURCE_COLUMNS)
    for c, name in enumerate(SOURCE_COLUMNS):
        ws.set_column(c, c, WIDTHS[name])
    ws.set_column(n_source, n_source, 12)
    ws.set_column(n_source + 1, n_source + 1, 40)
    ws.set_column(n_source + 2, n_source + 3, 12)
    ws.freeze_panes(1, 0)
    for c, name in enumerate(names):
        ws.write_string(0, c, name, header_fill if c >= n_source else header)
    statuses = STATUS[lang]
    n = 0
    for n, row in enumerate(rows, start=1):
        for c, (name, value) in enumerate(zip(SOURCE_COLUMNS, row, strict=True)):
            if value is None:
                continue
            if name in MONEY:
                ws.write_number(n, c, float(value), money)
            elif name == "score":
                ws.write_number(n, c, float(value), score)
            elif name in DATES and isinstance(value, date | datetime):
                ws.write_datetime(n, c, _as_datetime(value), day)
            else:
                s = statuses.get(str(value), str(value)) if name == "status" else _text(value)
                ws.write_string(n, c, s, wrapped if name == "explanation" else text)
        for c in range(n_source, n_source + 4):
            ws.write_blank(n, c, None, to_fill_day if c == n_source + 3 else to_fill)
    last_row = max(n, 1)
    ws.autofilter(0, 0, n, len(names) - 1)
    title, message = HELP[lang]
    ws.data_validation(
        1,
        n_source,
        last_row,
        n_source,
        {
            "validate": "list",
            "source": list(DECISION_VALUES[lang]),
            "input_title": title,
            "input_message": message,
            "error_title": title,
            "error_message": ", ".join(DECISION_VALUES[lang]),
        },
    )
    ws.data_validation(
        1,
        n_source + 3,
        last_row,
        n_source + 3,
        {
            "validate": "date",
            "criteria": "between",
            "minimum": datetime(2000, 1, 1),
            "maximum": datetime(2100, 12, 31),
            "error_title": DECISION_HEADERS[lang][3],
            "error_message": "ÅÅÅÅ-MM-DD" if lang == "sv" else "YYYY-MM-DD",
        },
    )
    wb.close()
    tmp.replace(path)
    return n


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)
