"""Delimited text files (CSV, semicolon, tab) in any of the encodings met in practice."""

from __future__ import annotations

import csv
from pathlib import Path

from spendkoll.errors import FileRejected
from spendkoll.loaders.pipeline import Prepared, _norm_header
from spendkoll.sources import REQUIRED, SourceConfig
from spendkoll.textio import check_utf8, sniff, to_utf8


def read_header(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        row = next(csv.reader(f, delimiter=delimiter), None)
    if not row:
        raise FileRejected("line 1: expected a header row, found nothing")
    return [_norm_header(h) for h in row]


def check_mapping(header: list[str], cfg: SourceConfig, source_header: list[str]) -> None:
    """Every required field's column must be in the header; duplicate names are ambiguous."""
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            raise FileRejected(f"line 1: column name {h!r} appears twice in the header")
        seen.add(h)
    for fieldname in REQUIRED[cfg.kind]:
        rule = cfg.columns.get(fieldname)
        if rule is None:
            continue
        if _norm_header(rule.column) not in seen:
            raise FileRejected(
                f"line 1: expected a column {rule.column!r} (for {fieldname}) in the header; "
                f"found: {', '.join(source_header)}"
            )


def prepare_tabular(path: Path, cfg: SourceConfig, work_dir: Path) -> Prepared:
    layout = sniff(path, cfg.encoding, cfg.delimiter)
    assert layout.delimiter is not None
    # A UTF-8 file with one kind of line ending goes to DuckDB as it is; mixed
    # endings (CR, LF and CRLF in one file) are normalised first.
    endings = check_utf8(path) if layout.is_plain_utf8 else None
    if endings is not None and len(endings) <= 1 and "\r" not in endings:
        csv_path = path
    else:
        csv_path = work_dir / (path.name + ".utf8.csv")
        to_utf8(path, csv_path, layout)
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        raw_header = next(csv.reader(f, delimiter=layout.delimiter), [])
    header = read_header(csv_path, layout.delimiter)
    check_mapping(header, cfg, raw_header)
    return Prepared(
        csv_path=csv_path,
        delimiter=layout.delimiter,
        columns=dict(cfg.columns),
        encoding=layout.encoding,
        header=header,
    )
