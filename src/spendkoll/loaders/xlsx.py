"""Excel workbooks (contract register exports): the first sheet, first row as header."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

from spendkoll.errors import FileRejected
from spendkoll.loaders.pipeline import ERROR_SEP, Prepared, _norm_header
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


def open_workbook(path: Path) -> tuple[Any, Any]:
    """The workbook twice, read-only: with the values Excel stored, and with the
    formulas (a formula whose value was never stored reads as empty in the
    first). An unreadable file is rejected."""
    from openpyxl import load_workbook

    try:
        return (
            load_workbook(path, read_only=True, data_only=True),
            load_workbook(path, read_only=True, data_only=False),
        )
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileRejected(f"not a readable .xlsx workbook ({exc})") from exc


def prepare_xlsx(path: Path, cfg: SourceConfig, work_dir: Path) -> Prepared:
    """The first sheet as CSV, with its row numbers (``__line``) and, per row, the
    cells the pipeline must quarantine (``__error``): a formula whose value was
    never stored (a file written by a program, not saved by Excel) reads as
    empty, and would load as a missing value."""
    from openpyxl.utils import get_column_letter

    wb, formulas = open_workbook(path)
    try:
        ws = wb.worksheets[0]
        out = work_dir / (path.name + ".csv")
        rows = 0
        header: list[str] = []
        mapped = {_norm_header(rule.column) for rule in cfg.columns.values()}
        with out.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
            pairs = zip(
                ws.iter_rows(values_only=True),
                formulas.worksheets[0].iter_rows(values_only=True),
                strict=False,
            )
            for sheet_row, (row, written) in enumerate(pairs, start=1):
                if rows and all(v is None for v in row):
                    continue
                if rows == 0:
                    header = [_cell(v) for v in row]
                    w.writerow([*header, "__line", "__error"])
                    rows += 1
                    continue
                error = ""
                for i, (value, source) in enumerate(zip(row, written, strict=False)):
                    name = header[i] if i < len(header) else ""
                    if (
                        value is None
                        and isinstance(source, str)
                        and source.startswith("=")
                        and _norm_header(name) in mapped
                    ):
                        error = ERROR_SEP.join(
                            [
                                name,
                                source[:200],
                                f"cell {get_column_letter(i + 1)}{sheet_row} holds a formula "
                                "without a stored value: open and save the workbook in Excel, "
                                "or export values",
                            ]
                        )
                        break
                w.writerow([_cell(v) for v in row] + [str(sheet_row), error])
                rows += 1
    finally:
        wb.close()
        formulas.close()
    if rows == 0:
        raise FileRejected("the first sheet is empty")
    header = read_header(out, ";")
    check_mapping(header, cfg, header)
    return Prepared(
        csv_path=out,
        delimiter=";",
        columns=dict(cfg.columns),
        encoding="xlsx",
        header=header,
        line_column="__line",
        error_column="__error",
        notes=[f"sheet {ws.title!r}; line numbers are sheet rows"],
    )
