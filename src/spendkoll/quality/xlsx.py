"""A fast XLSX writer for the controller's exception list.

DuckDB renders each row of the sheet as its XML (one string per row,
vectorised) and Python only streams the strings into the zip. openpyxl, which
builds every cell as a Python object, needed about 20 s for the 100,000
warning rows of a 10-million-line ledger; this takes a few. The file holds
what an accountant needs: a bold, frozen header row, a filter on every column,
numbers as numbers and dates as dates, and small extra sheets (totals).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import duckdb

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLE_DATE, STYLE_HEADER = 1, 2
# Characters XML 1.0 does not allow, taken out of text cells.
XML_INVALID = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"

STYLES = HEAD + f"""<styleSheet {NS}>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill>
<fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

NUMERIC = ("DECIMAL", "INTEGER", "BIGINT", "DOUBLE", "FLOAT", "SMALLINT", "HUGEINT", "TINYINT")


def col_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell_sql(column: str, duck_type: str, letter: str) -> str:
    ref = f"'<c r=\"{letter}' || rn || '\"'"
    quoted = f'"{column}"'
    if duck_type.startswith(NUMERIC):
        body = f"{ref} || '><v>' || cast({quoted} as varchar) || '</v></c>'"
    elif duck_type == "DATE":
        body = (f"{ref} || ' s=\"{STYLE_DATE}\"><v>' || "
                f"cast(date_diff('day', date '1899-12-30', {quoted}) as varchar) || '</v></c>'")
    else:
        text = (f"replace(replace(replace(regexp_replace(cast({quoted} as varchar), "
                f"'{XML_INVALID}', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;')")
        body = (f"{ref} || ' t=\"inlineStr\"><is><t xml:space=\"preserve\">' || {text} "
                "|| '</t></is></c>'")
    return f"case when {quoted} is null then '' else {body} end"


def _text_cell(ref: str, value: Any, style: int | None = None) -> str:
    s = f' s="{style}"' if style is not None else ""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    return (f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">'
            f"{escape(str(value))}</t></is></c>")


def _row(n: int, values: Sequence[Any], style: int | None = None) -> str:
    cells = "".join(_text_cell(f"{col_letter(i)}{n}", v, style)
                    for i, v in enumerate(values, start=1))
    return f'<row r="{n}">{cells}</row>'


def _sheet_start(frozen_header: bool) -> str:
    view = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            if frozen_header else "")
    return HEAD + f"<worksheet {NS} {NS_R}>{view}<sheetData>"


def write_xlsx(con: duckdb.DuckDBPyConnection, sql: str, order_by: str, sheet: str, path: Path,
               max_rows: int, extra_sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]] = (),
               columns: Sequence[str] | None = None) -> int:
    """Write the first `max_rows` rows of `sql`, ordered by `order_by`, as sheet
    `sheet` of a new workbook at `path` (atomically), with `extra_sheets`
    (name, rows; the first row bold) after it. `columns`: the columns of `sql`
    to write (default all; others may serve the order). Returns the data rows
    written."""
    described = con.execute(f"select * from ({sql}) limit 0").description
    types = {d[0]: str(d[1]).upper() for d in described}
    names = list(columns or types)
    cells = " || ".join(_cell_sql(c, types[c], col_letter(i))
                        for i, c in enumerate(names, start=1))
    render = (f"select '<row r=\"' || rn || '\">' || {cells} || '</row>' as xml from ("
              f"select *, row_number() over (order by {order_by}) + 1 as rn from ({sql})) "
              f"where rn <= {max_rows + 1} order by rn")
    last = col_letter(len(names))
    tmp = path.with_suffix(".xlsx.tmp")
    n = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(_sheet_start(True).encode())
            f.write(_row(1, names, STYLE_HEADER).encode())
            reader = con.execute(render).to_arrow_reader(50_000)
            for batch in reader:
                rows = batch.column(0).to_pylist()
                n += len(rows)
                f.write(("".join(rows)).encode())
            f.write(f'</sheetData><autoFilter ref="A1:{last}{max(n + 1, 2)}"/></worksheet>'
                    .encode())
        names = [sheet, *(name for name, _ in extra_sheets)]
        for i, (_, rows) in enumerate(extra_sheets, start=2):
            body = "".join(_row(r, values, STYLE_HEADER if r == 1 else None)
                           for r, values in enumerate(rows, start=1))
            zf.writestr(f"xl/worksheets/sheet{i}.xml",
                        _sheet_start(False) + body + "</sheetData></worksheet>")
        sheets = "".join(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(names, start=1))
        quoted_sheet = escape(sheet.replace("'", "''"))
        zf.writestr("xl/workbook.xml", HEAD + f"<workbook {NS} {NS_R}><sheets>{sheets}</sheets>"
                    '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
                    f"hidden=\"1\">'{quoted_sheet}'!$A$1:${last}${max(n + 1, 2)}</definedName>"
                    "</definedNames></workbook>")
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1))
        styles_id = len(names) + 1
        zf.writestr("xl/_rels/workbook.xml.rels", HEAD + '<Relationships xmlns="http://schemas.'
                    f'openxmlformats.org/package/2006/relationships">{rels}<Relationship Id="rId'
                    f'{styles_id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships/styles" Target="styles.xml"/></Relationships>')
        zf.writestr("xl/styles.xml", STYLES)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(names) + 1))
        zf.writestr("[Content_Types].xml", HEAD + '<Types xmlns="http://schemas.openxmlformats.'
                    'org/package/2006/content-types"><Default Extension="rels" ContentType='
                    '"application/vnd.openxmlformats-package.relationships+xml"/><Default '
                    'Extension="xml" ContentType="application/xml"/><Override PartName='
                    '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
                    '"/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
                    f'officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>')
        zf.writestr("_rels/.rels", HEAD + '<Relationships xmlns="http://schemas.openxmlformats.'
                    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
                    'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
    tmp.replace(path)
    return n
