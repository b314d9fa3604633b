"""Excel workbooks (contract register exports): the first sheet, first row as header."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

from spendkoll.errors import FileRejected
from spendkoll.loaders.pipeline import Prepared
from spendkoll.loaders.tabular import check_mapping, read_header
from spendkoll.sources import SourceConfig


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 2)) if value != int(value) else str(int(value))
    return str(value)


def prepare_xlsx(path: Path, cfg: SourceConfig, work_dir: Path) -> Prepared:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileRejected(f"not a readable .xlsx workbook ({exc})") from exc
    try:
        ws = wb.worksheets[0]
        out = work_dir / (path.name + ".csv")
        rows = 0
        with out.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
            for sheet_row, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if rows and all(v is None for v in row):
                    continue
                w.writerow([_cell(v) for v in row] + ["__line" if rows == 0 else str(sheet_row)])
                rows += 1
    finally:
        wb.close()
    if rows == 0:
        raise FileRejected("the first sheet is empty")
    header = read_header(out, ";")
    check_mapping(header, cfg, header)
    return Prepared(csv_path=out, delimiter=";", columns=dict(cfg.columns), encoding="xlsx",
                    header=header, line_column="__line",
                    notes=[f"sheet {ws.title!r}; line numbers are sheet rows"])
