"""The contract controller's decisions on the exceptions list, fed back as a source.

The controller gets the list of suspected mis-coded lines (one row per
exception, ``exception_id`` = ``E`` + 16 hex digits) and returns it, as XLSX or
CSV, with a decision per exception. Columns are found by their English or
Swedish names (any other column of the exported list is ignored), or mapped
with ``[source.columns]``:

=============  ================  =======================================================
field          column            value
=============  ================  =======================================================
exception_id   ``exception_id``  required; ``E`` + 16 hexadecimal digits
decision       ``decision``,     ``confirmed``/``bekräftad``/``felkonterad``,
               ``beslut``        ``dismissed``/``false alarm``/``falsklarm``/``ej fel``,
                                 ``corrected``/``rättad``/``korrigerad``; any case.
                                 Empty: no decision yet, the row is skipped.
comment        ``comment``,      free text (personnummer masked)
               ``kommentar``
initials       ``initials``,     required with a decision
               ``signatur``
decided_on     ``decided_on``,   a date; empty: the file's delivery date (its
               ``beslutsdatum``  modification time in the landing folder)
=============  ================  =======================================================

Bad rows are quarantined, not the whole file: a row with an unknown decision,
a malformed exception id, no initials or a bad date goes to
``raw.dq_decision_rejected`` with file, line, column, value and what was
expected; the good rows load. A file without an exception id or decision
column is the wrong file and is rejected whole. Like every source: one batch
per file in ``raw.load_batch``, the same file twice loads once, archived.
Decisions are never replaced; the latest decision on an exception wins
(``stg_controller__dq_decisions``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from spendkoll.errors import FileRejected
from spendkoll.faults import fault_point
from spendkoll.loaders.pipeline import LoadResult, unchanged_result
from spendkoll.pii import hide_numbers, mask_personnummer
from spendkoll.sources import SourceConfig
from spendkoll.textio import sha256_of, sniff, to_utf8
from spendkoll.warehouse import next_batch_id

DECISIONS = ("confirmed", "dismissed", "corrected")
# Accepted words per decision, compared case-insensitively with blanks,
# hyphens and underscores read as one space.
DECISION_WORDS: dict[str, tuple[str, ...]] = {
    "confirmed": ("confirmed", "bekräftad", "felkonterad"),
    "dismissed": ("dismissed", "false alarm", "falsklarm", "ej fel"),
    "corrected": ("corrected", "rättad", "korrigerad"),
}
_WORD_TO_DECISION = {w: d for d, words in DECISION_WORDS.items() for w in words}
# The file's column names per field (normalised: lower case, blanks as _).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "exception_id": ("exception_id",),
    "decision": ("decision", "beslut"),
    "comment": ("comment", "kommentar"),
    "initials": ("initials", "signatur"),
    "decided_on": ("decided_on", "beslutsdatum"),
}
EXCEPTION_ID = re.compile(r"[Ee]([0-9A-Fa-f]{16})")
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
SHEET_NAMES = ("undantag", "exceptions")
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is allowed

EXPECTED_DECISION = (
    "expected a decision: confirmed, bekräftad or felkonterad (a confirmed mis-coding); "
    "dismissed, false alarm, falsklarm or ej fel (a false alarm); corrected, rättad or "
    "korrigerad (corrected); case does not matter, empty = no decision yet"
)
EXPECTED_ID = (
    "expected an exception id: E and 16 hexadecimal digits, as in the "
    "exceptions list (e.g. E0123456789abcdef)"
)
EXPECTED_INITIALS = "expected the initials of whoever decided: required with a decision"


def normalise_word(text: str) -> str:
    folded = unicodedata.normalize("NFC", text).casefold()
    return re.sub(r"[\s_\-]+", " ", folded).strip()


def parse_decision(value: object) -> str | None:
    """``confirmed``, ``dismissed`` or ``corrected`` for an accepted word (English or
    Swedish, any case); None for an empty cell (no decision yet). Raises
    ValueError for anything else."""
    if value is None or not str(value).strip():
        return None
    try:
        return _WORD_TO_DECISION[normalise_word(str(value))]
    except KeyError:
        raise ValueError(EXPECTED_DECISION) from None


def parse_exception_id(value: object) -> str:
    """The id in its canonical form (``E`` + 16 lower-case hex digits); ValueError
    for anything else."""
    m = EXCEPTION_ID.fullmatch(str(value or "").strip())
    if not m:
        raise ValueError(EXPECTED_ID)
    return "E" + m.group(1).lower()


def parse_date(value: object, date_format: str | None = None) -> dt.date | None:
    """A date cell (XLSX) or text; None when empty. ValueError when unreadable."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for fmt in (date_format,) if date_format else DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(
        "expected a date as "
        + (date_format or "YYYY-MM-DD (or YYYYMMDD, DD/MM/YYYY, DD.MM.YYYY)")
        + "; empty = the file's delivery date"
    )


def _norm_header(name: object) -> str:
    text = str(name or "").strip().lstrip("\ufeff").strip('"').strip()
    return re.sub(r"[\s\-]+", "_", text.casefold())


@dataclass
class Row:
    line: int
    cells: dict[str, object]  # field -> value
    formula_cells: dict[str, str] = field(default_factory=dict)  # field -> cell ref


@dataclass
class Table:
    header: list[str]  # the file's own column names
    columns: dict[str, str]  # field -> the file's column name
    rows: list[Row]
    encoding: str
    delimiter: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class DecisionLoadResult(LoadResult):
    # "file line N, column 'x', value 'y': expected ..." per quarantined value
    rejected_rows: list[str] = field(default_factory=list)


def _field_columns(
    header: list[str], cfg: SourceConfig, where: str
) -> tuple[dict[str, int], dict[str, str]]:
    """Field -> column index, and field -> the pattern-free column name; a mapped
    column ([source.columns]) replaces the default names."""
    index: dict[str, int] = {}
    for fieldname, names in COLUMN_NAMES.items():
        rule = cfg.columns.get(fieldname)
        wanted = (_norm_header(rule.column),) if rule else names
        hits = [i for i, h in enumerate(header) if _norm_header(h) in wanted]
        if len(hits) > 1:
            raise FileRejected(
                f"{where}: columns {', '.join(repr(header[i]) for i in hits)} all name the "
                f"{fieldname}: keep one"
            )
        if hits:
            index[fieldname] = hits[0]
    return index, {f: header[i] for f, i in index.items()}


def _require_columns(
    header: list[str], index: dict[str, int], cfg: SourceConfig, where: str
) -> None:
    for fieldname in ("exception_id", "decision"):
        if fieldname not in index:
            rule = cfg.columns.get(fieldname)
            names = (rule.column,) if rule else COLUMN_NAMES[fieldname]
            raise FileRejected(
                f"{where}: expected a column {' or '.join(repr(n) for n in names)} (the "
                f"{fieldname.replace('_', ' ')}) in the header; found: "
                f"{', '.join(str(h) for h in header if str(h).strip()) or 'nothing'}. "
                "Is this the returned exceptions list?"
            )


def _header_at(rows: list[tuple[int, list[object]]], cfg: SourceConfig) -> int:
    """Position (in ``rows``) of the header: the first row naming the exception id
    column among the first few non-empty rows; else the first row."""
    rule = cfg.columns.get("exception_id")
    wanted = (_norm_header(rule.column),) if rule else COLUMN_NAMES["exception_id"]
    for pos, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(_norm_header(v) in wanted for v in values):
            return pos
    return 0


def _apply_pattern(cfg: SourceConfig, fieldname: str, value: object) -> object:
    rule = cfg.columns.get(fieldname)
    if rule is None or rule.pattern is None or value is None or isinstance(value, dt.date):
        return value
    m = rule.pattern.search(str(value))
    if not m:
        return None
    return m.group(1) if rule.pattern.groups else m.group(0)


def _table(
    lines: Iterator[tuple[int, list[object], list[object] | None]],
    cfg: SourceConfig,
    encoding: str,
    delimiter: str | None,
    notes: list[str],
) -> Table:
    """Rows (line, values, written formulas or None) into a Table."""
    head: list[tuple[int, list[object]]] = []
    formulas_head: list[list[object] | None] = []
    rest = iter(lines)
    for line, values, written in rest:
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        head.append((line, values))
        formulas_head.append(written)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not head:
        raise FileRejected("the file is empty")
    pos = _header_at(head, cfg)
    header_line, header_values = head[pos]
    header = ["" if v is None else str(v).strip() for v in header_values]
    where = f"line {header_line}"
    index, columns = _field_columns(header, cfg, where)
    _require_columns(header, index, cfg, where)

    def make(line: int, values: list[object], written: list[object] | None) -> Row | None:
        if all(v is None or str(v).strip() == "" for v in values):
            return None
        cells: dict[str, object] = {}
        formula_cells: dict[str, str] = {}
        for fieldname, i in index.items():
            value = values[i] if i < len(values) else None
            if isinstance(value, str):
                value = value.strip() or None
            cells[fieldname] = _apply_pattern(cfg, fieldname, value)
            source = written[i] if written is not None and i < len(written) else None
            if value is None and isinstance(source, str) and source.startswith("="):
                from openpyxl.utils import get_column_letter

                formula_cells[fieldname] = f"{get_column_letter(i + 1)}{line}"
        return Row(line, cells, formula_cells)

    rows: list[Row] = []
    for (line, values), written in list(zip(head, formulas_head, strict=True))[pos + 1 :]:
        if (row := make(line, values, written)) is not None:
            rows.append(row)
    for line, values, written in rest:
        if (row := make(line, values, written)) is not None:
            rows.append(row)
    return Table(header, columns, rows, encoding, delimiter, notes)


def read_xlsx(path: Path, cfg: SourceConfig) -> Table:
    """The sheet named Undantag or Exceptions (any case), else the first sheet;
    line numbers are sheet rows."""
    from spendkoll.loaders.xlsx import open_workbook

    wb, formulas = open_workbook(path)
    try:
        names = [ws.title for ws in wb.worksheets]
        chosen = next((n for n in names if n.strip().casefold() in SHEET_NAMES), names[0])
        ws, wf = wb[chosen], formulas[chosen]

        def lines() -> Iterator[tuple[int, list[object], list[object] | None]]:
            pairs = zip(
                ws.iter_rows(values_only=True), wf.iter_rows(values_only=True), strict=False
            )
            for sheet_row, (row, written) in enumerate(pairs, start=1):
                yield sheet_row, list(row), list(written)

        return _table(
            lines(), cfg, "xlsx", None, [f"sheet {chosen!r}; line numbers are sheet rows"]
        )
    finally:
        wb.close()
        formulas.close()


def read_csv(path: Path, cfg: SourceConfig, work_dir: Path) -> Table:
    """A delimited file in any encoding the other loaders detect; line numbers are
    the file's lines (the header is line 1 when it comes first)."""
    layout = sniff(path, cfg.encoding, cfg.delimiter)
    assert layout.delimiter is not None
    work_dir.mkdir(parents=True, exist_ok=True)
    utf8 = work_dir / (path.name + ".utf8.csv")
    to_utf8(path, utf8, layout)

    def lines() -> Iterator[tuple[int, list[object], list[object] | None]]:
        with utf8.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=layout.delimiter or ";")
            end = 0
            for record in reader:
                start, end = end + 1, reader.line_num
                yield start, list(record), None

    return _table(lines(), cfg, layout.encoding, layout.delimiter, [])


@dataclass
class Checked:
    decisions: list[tuple[Any, ...]]  # (line, exception_id, decision, as written, comment,
    #                                    initials, decided_on, date given)
    rejected: list[tuple[Any, ...]]  # (line, column, value, expected, exception_id)
    skipped: int


def check_rows(table: Table, cfg: SourceConfig, delivered: dt.date, key: bytes) -> Checked:
    """Each row: a decision, skipped (no decision), or its problems quarantined."""
    low, high = (dt.date.fromisoformat(d) for d in cfg.date_range)
    latest = max(delivered, dt.date.today())
    out = Checked([], [], 0)

    def column(fieldname: str) -> str:
        return table.columns.get(fieldname, COLUMN_NAMES[fieldname][0])

    def formula(fieldname: str, ref: str) -> tuple[str, object, str]:
        return (
            fieldname,
            None,
            f"expected a value: cell {ref} holds a formula without a "
            "stored value (open and save the workbook in Excel, or export values)",
        )

    for row in table.rows:
        problems: list[tuple[str, object, str]] = []
        raw_decision = row.cells.get("decision")
        decision = None
        if "decision" in row.formula_cells:
            problems.append(formula("decision", row.formula_cells["decision"]))
        else:
            try:
                decision = parse_decision(raw_decision)
            except ValueError as exc:
                problems.append(("decision", raw_decision, str(exc)))
            if decision is None and not problems:
                out.skipped += 1  # the controller left it: not a decision
                continue
        problems.extend(formula(f, ref) for f, ref in row.formula_cells.items() if f != "decision")
        raw_id = row.cells.get("exception_id")
        exception_id = None
        if "exception_id" not in row.formula_cells:
            try:
                exception_id = parse_exception_id(raw_id)
            except ValueError as exc:
                problems.append(
                    (
                        "exception_id",
                        raw_id,
                        ("required value is empty; " if raw_id is None else "") + str(exc),
                    )
                )
        initials = row.cells.get("initials")
        if initials is None and "initials" not in row.formula_cells:
            problems.append(("initials", None, EXPECTED_INITIALS))
        raw_date = row.cells.get("decided_on")
        decided_on = None
        try:
            decided_on = parse_date(raw_date, cfg.date_format)
        except ValueError as exc:
            problems.append(("decided_on", raw_date, str(exc)))
        if decided_on is not None and not low <= decided_on <= high:
            problems.append(
                (
                    "decided_on",
                    raw_date,
                    f"expected a date between {low} and {high} (source setting "
                    f"date_range); read as {decided_on}",
                )
            )
        elif decided_on is not None and decided_on > latest:
            problems.append(
                (
                    "decided_on",
                    raw_date,
                    f"expected a date no later than {latest} (the delivery date "
                    f"is {delivered}); read as {decided_on}",
                )
            )
        if problems:
            out.rejected.extend(
                (row.line, column(f), v, why, exception_id) for f, v, why in problems
            )
            continue
        assert decision is not None and exception_id is not None
        comment = row.cells.get("comment")
        out.decisions.append(
            (
                row.line,
                exception_id,
                decision,
                mask_personnummer(str(raw_decision).strip(), key)[:100],
                None if comment is None else mask_personnummer(str(comment), key)[:4000],
                mask_personnummer(str(initials), key)[:100],
                decided_on or delivered,
                decided_on is not None,
            )
        )
    return out


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        text = value.isoformat(" ")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    masked = hide_numbers(text)
    return None if masked is None else masked[:500]


def load_decision_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    cfg: SourceConfig,
    archive_dir: Path,
    work_dir: Path,
    key: bytes,
) -> DecisionLoadResult:
    """Load one returned exceptions list. Raises :class:`FileRejected` when the file
    as a whole cannot be taken (nothing of it is loaded)."""
    file_name = path.name
    digest = sha256_of(path)
    unchanged = unchanged_result(con, path, cfg, digest, DecisionLoadResult)
    if unchanged:
        return unchanged
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    delivered = dt.datetime.fromtimestamp(path.stat().st_mtime).date()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = read_xlsx(path, cfg)
    elif suffix in (".csv", ".txt", ".tsv"):
        table = read_csv(path, cfg, work_dir)
    else:
        raise FileRejected(
            f"expected the returned exceptions list as .xlsx or .csv, "
            f"not {suffix or 'a file without extension'}"
        )
    checked = check_rows(table, cfg, delivered, key)
    rows_in = len(table.rows)
    bad_lines = sorted({r[0] for r in checked.rejected})

    batch_id = next_batch_id(con)
    archive_dir.mkdir(parents=True, exist_ok=True)
    archived = archive_dir / f"{batch_id:06d}_{digest[:12]}_{file_name}"
    shutil.copy2(path, archived)
    fault_point("load.archived")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        con.execute("begin transaction")
        if checked.decisions:
            con.executemany(
                "insert into raw.dq_decision values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[batch_id, cfg.name, file_name, *d, now] for d in checked.decisions],
            )
        if checked.rejected:
            con.executemany(
                "insert into raw.dq_decision_rejected values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        batch_id,
                        cfg.name,
                        file_name,
                        line,
                        col,
                        _shown(value),
                        hide_numbers(why),
                        eid,
                    ]
                    for line, col, value, why, eid in checked.rejected
                ],
            )
        con.execute(
            "insert into raw.load_batch (batch_id, source_name, kind, file_name, "
            "archived_path, sha256, format, encoding, delimiter, rows_in, rows_loaded, "
            "rows_quarantined, rows_skipped, rows_flagged, scope_keys, status, message, "
            "started_at, finished_at, column_map) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'loaded', ?, ?, ?, ?)",
            [
                batch_id,
                cfg.name,
                cfg.kind,
                file_name,
                str(archived),
                digest,
                cfg.format,
                table.encoding,
                table.delimiter,
                rows_in,
                len(checked.decisions),
                len(bad_lines),
                checked.skipped,
                [],
                hide_numbers("; ".join(table.notes)) or None,
                started,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                json.dumps(table.columns, ensure_ascii=False),
            ],
        )
        fault_point("load.in_transaction")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        archived.unlink(missing_ok=True)
        raise
    fault_point("load.committed")
    path.unlink()
    details = [
        f"{file_name} line {line}, column {col!r}, value {_shown(value)!r}: {hide_numbers(why)}"
        for line, col, value, why, _ in checked.rejected
    ]
    return DecisionLoadResult(
        cfg.name,
        file_name,
        "loaded",
        batch_id,
        rows_in,
        len(checked.decisions),
        len(bad_lines),
        checked.skipped,
        0,
        None,
        [],
        "; ".join(table.notes) or None,
        rejected_rows=details,
    )
