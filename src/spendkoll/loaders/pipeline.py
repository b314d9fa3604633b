"""The load pipeline every source format goes through.

A format reader (:mod:`.tabular`, :mod:`.xlsx`, :mod:`.sie4`) turns a landing
file into a UTF-8 CSV plus a column mapping (:class:`Prepared`).  This module
then does the same for every format, in DuckDB and so in bounded memory:

1. read every column as text (structural errors, e.g. a wrong column count, are
   caught by DuckDB's reject table with their line numbers);
2. cast each mapped field to its type; a value that does not parse sends the
   row to ``raw.quarantine`` with file, line, column and reason;
3. normalise and check supplier ids (personnummer pseudonymised here: they
   never reach a table in clear text);
4. in one transaction: delete what this delivery replaces (its months, days, or
   the earlier delivery of the same file name), insert the rows, record the
   batch.  A file whose checksum was loaded before changes nothing.

A file that cannot be read at all, or whose share of unparseable rows is above
the source's ``max_bad_row_share``, is rejected whole: nothing of it is loaded,
it is moved to ``rejected/<source>/`` with a ``.reason.txt`` beside it.
"""

from __future__ import annotations

import calendar
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from spendkoll.errors import FileRejected
from spendkoll.faults import fault_point
from spendkoll.ids import classify_supplier_id
from spendkoll.pii import SQL_CANDIDATE, hide_numbers, mask_personnummer
from spendkoll.sources import ColumnRule, SourceConfig
from spendkoll.textio import blank_lines, sha256_of
from spendkoll.warehouse import RAW_TABLES, next_batch_id

FIELD_TYPES = {
    "posting_date": "date",
    "invoice_date": "date",
    "start_date": "date",
    "end_date": "date",
    "latest_end_date": "date",
    "registered_date": "date",
    "order_date": "date",
    "amount": "money",
    "vat": "money",
    "estimated_annual_value": "money",
    "line_number": "int",
    "from_catalogue": "bool",
}
ROW_REQUIRED = {
    "ledger": ("account", "amount", "posting_date"),
    "contracts": ("contract_id", "start_date", "end_date"),
    "ecommerce": ("order_id", "order_date", "amount"),
}
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y")
TRUE_WORDS = ("1", "true", "t", "ja", "j", "yes", "y", "x", "sant")
FALSE_WORDS = ("0", "false", "f", "nej", "n", "no", "falskt")
SOLE_TRADER_NAME = "Enskild firma (namn dolt)"
ERROR_SEP = "\x1f"


@dataclass
class Prepared:
    """A landing file made ready for the generic pipeline."""

    csv_path: Path
    delimiter: str
    columns: dict[str, ColumnRule]
    encoding: str
    header: list[str]
    rows_skipped: int = 0
    line_column: str | None = None  # a column holding the original line numbers
    # a column the reader fills with "column<ERROR_SEP>value<ERROR_SEP>reason" for a
    # row to quarantine (e.g. an Excel formula without a stored value)
    error_column: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    source: str
    file_name: str
    status: str  # loaded | unchanged | rejected | ignored (name matches no pattern)
    batch_id: int | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    rows_flagged: int = 0
    amount_loaded: Decimal | None = None
    replaced_batches: list[int] = field(default_factory=list)
    message: str | None = None


def reject_if_too_many_bad(
    con: duckdb.DuckDBPyConnection,
    bad_table: str,
    rows_bad: int,
    data_rows: int,
    cfg: SourceConfig,
    question: str,
) -> None:
    """Reject the whole file when more than the source's ``max_bad_row_share`` of its
    rows could not be parsed (almost always the wrong file or mapping), naming the
    first three bad lines and columns."""
    if not data_rows or rows_bad / data_rows <= cfg.max_bad_row_share:
        return
    top = con.execute(
        f"select line, column_name, reason from {bad_table} order by line nulls last limit 3"
    ).fetchall()
    examples = "; ".join(f"line {ln}, column {c!r}: {r}" for ln, c, r in top)
    raise FileRejected(
        f"{rows_bad:,} of {data_rows:,} rows cannot be parsed (more than "
        f"{cfg.max_bad_row_share:.0%}): {question} First: {examples}"
    )


R = TypeVar("R", bound=LoadResult)


def unchanged_result(
    con: duckdb.DuckDBPyConnection, path: Path, cfg: SourceConfig, digest: str, kind: type[R]
) -> R | None:
    """A file whose checksum a batch of the source loaded before (still loaded or since
    replaced) changes nothing: the landing file is removed and `unchanged` returned."""
    seen = con.execute(
        "select batch_id from raw.load_batch where source_name = ? and sha256 = ? "
        "and status in ('loaded', 'replaced') order by batch_id limit 1",
        [cfg.name, digest],
    ).fetchone()
    if not seen:
        return None
    path.unlink()
    return kind(
        cfg.name,
        path.name,
        "unchanged",
        batch_id=seen[0],
        message=f"identical to batch {seen[0]}; nothing changed",
    )


Reader = Callable[[Path, SourceConfig, Path], Prepared]


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_expr(rule: ColumnRule, index: int) -> str:
    col = f"c{index}"
    if rule.pattern is None:
        return col
    group = 1 if rule.pattern.groups else 0
    return f"regexp_extract({col}, {_q(rule.pattern.pattern)}, {group})"


def _money_exprs(raw: str, decimal: str) -> tuple[str, str, str]:
    cleaned = f"regexp_replace(trim({raw}), '[\\s\\x{{00a0}}\\x{{202f}}'']', '', 'g')"
    if decimal == ",":
        ok = r"[-+]?\d{1,3}(\.\d{3})+(,\d{1,2})?|[-+]?\d+(,\d{1,2})?"
        value = f"try_cast(replace(replace({cleaned}, '.', ''), ',', '.') as decimal(18, 2))"
        expected = "an amount with decimal comma and at most 2 decimals, e.g. -1234,50"
    else:
        ok = r"[-+]?\d{1,3}(,\d{3})+(\.\d{1,2})?|[-+]?\d+(\.\d{1,2})?"
        value = f"try_cast(replace({cleaned}, ',', '') as decimal(18, 2))"
        expected = "an amount with decimal point and at most 2 decimals, e.g. -1234.50"
    guarded = f"case when regexp_full_match({cleaned}, {_q(ok)}) then {value} end"
    return cleaned, guarded, expected


def _field_sql(
    fieldname: str,
    raw: str,
    decimal: str,
    date_format: str | None,
    required: bool,
    date_range: tuple[str, str] = ("1980-01-01", "2100-12-31"),
) -> tuple[str, str]:
    """(value expression, error expression) for one mapped field."""
    present = f"nullif(trim({raw}), '')"
    kind = FIELD_TYPES.get(fieldname, "text")
    if kind == "text":
        value = present
        bad = "false"
        expected = ""
    elif kind == "date":
        fmts = (date_format,) if date_format else DATE_FORMATS
        tries = ", ".join(f"try_strptime({present}, {_q(f)})" for f in fmts)
        value = f"cast(coalesce({tries}, null) as date)"
        bad = f"{present} is not null and {value} is null"
        expected = "a date as " + (date_format or "YYYY-MM-DD or YYYYMMDD")
    elif kind == "money":
        _, value, expected = _money_exprs(raw, decimal)
        bad = f"{present} is not null and {value} is null"
    elif kind == "int":
        value = f"try_cast({present} as integer)"
        bad = f"{present} is not null and {value} is null"
        expected = "a whole number"
    elif kind == "bool":
        low = f"lower({present})"
        true_list = ", ".join(_q(w) for w in TRUE_WORDS)
        false_list = ", ".join(_q(w) for w in FALSE_WORDS)
        value = (
            f"case when {low} in ({true_list}) then true "
            f"when {low} in ({false_list}) then false end"
        )
        bad = f"{present} is not null and {value} is null"
        expected = "yes/no (1/0, ja/nej, true/false)"
    else:  # pragma: no cover - FIELD_TYPES is closed
        raise AssertionError(kind)
    err_parts = []
    if required:
        err_parts.append(f"when {present} is null then 'required value is empty'")
    if kind != "text":
        err_parts.append(f"when {bad} then {_q('expected ' + expected)}")
    if kind == "date":
        low, high = date_range
        err_parts.append(
            f"when {value} < date {_q(low)} or {value} > date {_q(high)} then "
            f"'expected a date between {low} and {high} (source setting date_range); read as ' "
            f"|| strftime({value}, '%Y-%m-%d')"
        )
    err = f"case {' '.join(err_parts)} end" if err_parts else "null::varchar"
    return value, err


def _detect_decimal(con: duckdb.DuckDBPyConnection, raw: str) -> str:
    comma, point = con.execute(
        f"select count(*) filter (where regexp_matches(trim({raw}), ',\\d{{1,2}}$')), "
        f"count(*) filter (where regexp_matches(trim({raw}), '\\.\\d{{1,2}}$')) from src"
    ).fetchone() or (0, 0)
    return "," if comma > point else "."


def _period_of_file(cfg: SourceConfig, file_name: str) -> str | None:
    if cfg.period:
        return cfg.period
    if cfg.period_from_filename:
        m = cfg.period_from_filename.search(file_name)
        if not m:
            raise FileRejected(
                f"file name does not match period_from_filename "
                f"{cfg.period_from_filename.pattern!r}; cannot tell which month it holds"
            )
        try:
            year, month = int(m.group("year")), int(m.group("month"))
        except (IndexError, ValueError) as exc:
            raise FileRejected("period_from_filename needs groups 'year' and 'month'") from exc
        if not 1 <= month <= 12:
            raise FileRejected(f"file name gives month {month}, expected 01 to 12")
        return f"{year:04d}-{month:02d}"
    return None


def _mask(value: str | None) -> str | None:
    """Never store a personnummer, nor a number shaped like one, in the quarantine."""
    masked = hide_numbers(value)
    return None if masked is None else masked[:500]


# Columns of the raw tables that hold codes spendkoll wrote itself, not text
# from the file (the supplier id is pseudonymised by classify_supplier_id).
NOT_FREE_TEXT = {
    "source_name",
    "period",
    "supplier_key",
    "supplier_id_status",
    "supplier_legal_form",
    "supplier_id_note",
    "supplier_id_raw",
}


def mask_free_text(con: duckdb.DuckDBPyConnection, table: str, batch_id: int, key: bytes) -> int:
    """Mask every personnummer in every free-text column of a batch's rows
    (names, descriptions, titles, ids, ...): the pseudonym replaces it, as for
    supplier ids. Candidates are found in SQL, checked in Python. Returns the
    number of values changed."""
    schema, name = table.split(".")
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and "
            "table_name = ? and data_type = 'VARCHAR' order by ordinal_position",
            [schema, name],
        ).fetchall()
        if c not in NOT_FREE_TEXT
    ]
    changed = 0
    for column in columns:
        for (value,) in con.execute(
            f'select distinct "{column}" from {table} where batch_id = ? and '
            f'regexp_matches("{column}", ?)',
            [batch_id, SQL_CANDIDATE],
        ).fetchall():
            masked = mask_personnummer(value, key)
            if masked != value:
                con.execute(
                    f'update {table} set "{column}" = ? where batch_id = ? and "{column}" = ?',
                    [masked, batch_id, value],
                )
                changed += 1
    return changed


def mask_quarantine(con: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """Quarantined values and reasons of a batch (a broken line is quoted whole):
    every run shaped like a personnummer hidden."""
    for line, col, value, why in con.execute(
        "select line, column_name, value, reason from raw.quarantine where batch_id = ? "
        "and (regexp_matches(value, ?) or regexp_matches(reason, ?))",
        [batch_id, SQL_CANDIDATE, SQL_CANDIDATE],
    ).fetchall():
        con.execute(
            "update raw.quarantine set value = ?, reason = ? where batch_id = ? "
            "and line is not distinct from ? and column_name is not distinct from ?",
            [_mask(value), hide_numbers(why), batch_id, line, col],
        )


def stage_file(
    con: duckdb.DuckDBPyConnection, prep: Prepared, cfg: SourceConfig, file_name: str, key: bytes
) -> dict[str, object]:
    """Read, type and check a prepared file into temp tables ``good`` and ``bad``."""
    ncols = len(prep.header)
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols))
    for t in ("src", "typed", "good", "bad", "rej_errors", "rej_scans", "idmap"):
        con.execute(f"drop table if exists {t}")
    con.execute(
        f"""create temp table src as
        select row_number() over () as rn, *
        from read_csv({_q(str(prep.csv_path))}, delim={_q(prep.delimiter)}, header=true,
                      columns={{{cols}}}, auto_detect=false, quote='"', escape='"',
                      strict_mode=true, null_padding=false, store_rejects=true,
                      rejects_table='rej_errors', rejects_scan='rej_scans',
                      max_line_size=1048576)"""
    )
    index = {name: i for i, name in enumerate(prep.header)}
    mapped: dict[str, tuple[int, ColumnRule]] = {}
    for fieldname, rule in prep.columns.items():
        key_name = _norm_header(rule.column)
        if key_name in index:
            mapped[fieldname] = (index[key_name], rule)
    decimal = cfg.decimal
    if decimal is None:
        money = [f for f in mapped if FIELD_TYPES.get(f) == "money"]
        decimal = (
            _detect_decimal(con, _raw_expr(mapped[money[0]][1], mapped[money[0]][0]))
            if money
            else "."
        )

    # Line numbers: given by the reader (SIE), or record number + header + the
    # lines the CSV reader did not make a record of before it (structurally
    # rejected lines, once each, and blank lines).
    if prep.line_column is not None:
        line_expr = f"cast(c{index[_norm_header(prep.line_column)]} as bigint)"
    else:
        con.execute("drop table if exists skipped_lines")
        con.execute(
            "create temp table skipped_lines as select distinct cast(line as bigint) "
            "as line from rej_errors"
        )
        blanks = blank_lines(prep.csv_path)
        if blanks:
            con.register("blank_arrow", pa.table({"line": pa.array(blanks, pa.int64())}))
            con.execute(
                "insert into skipped_lines select line from blank_arrow "
                "except select line from skipped_lines"
            )
            con.unregister("blank_arrow")
        line_expr = (
            "rn + 1 + (select count(*) from (select line, row_number() over (order by line) "
            "as k from skipped_lines) r where r.line - 1 - r.k < rn)"
        )
    kind_required = ROW_REQUIRED[cfg.kind]
    selects = [f"{line_expr} as source_line"]
    errs = []
    for fieldname, (i, rule) in mapped.items():
        raw = _raw_expr(rule, i)
        value, err = _field_sql(
            fieldname, raw, decimal, cfg.date_format, fieldname in kind_required, cfg.date_range
        )
        selects.append(f"{value} as {fieldname}")
        selects.append(f"{raw} as raw__{fieldname}")
        selects.append(f"{err} as err__{fieldname}")
        errs.append(fieldname)
    reader_error = None
    if prep.error_column is not None:
        reader_error = f"nullif(c{index[_norm_header(prep.error_column)]}, '')"
        selects.append(f"{reader_error} as err__reader")
        errs.append("reader")
    con.execute(f"create temp table typed as select {', '.join(selects)} from src")

    any_err = " or ".join(f"err__{f} is not null" for f in errs) or "false"
    con.execute(f"create temp table good as select * from typed where not ({any_err})")
    bad_parts = [
        f"select source_line as line, {_q(prep.columns[f].column)} as column_name, "
        f"raw__{f} as value, err__{f} as reason from typed where err__{f} is not null"
        for f in errs
        if f != "reader"
    ]
    if reader_error is not None:
        sep = _q(ERROR_SEP)
        bad_parts.append(
            f"select source_line as line, split_part(err__reader, {sep}, 1) as column_name, "
            f"split_part(err__reader, {sep}, 2) as value, split_part(err__reader, {sep}, 3) "
            "as reason from typed where err__reader is not null"
        )
    # A structurally broken line once, naming the file's own columns (DuckDB
    # names them c0, c1, ... and reports a missing column per row).
    con.execute("drop table if exists header_names")
    con.execute("create temp table header_names (idx bigint, name varchar)")
    con.executemany("insert into header_names values (?, ?)", list(enumerate(prep.header)))
    bad_parts.append(
        "select e.line, string_agg(h.name, ', ' order by h.idx) as column_name, "
        "any_value(e.csv_line) as value, "
        "any_value(e.error_type || ': ' || e.error_message) as reason "
        "from rej_errors e left join header_names h on h.idx = e.column_idx "
        "group by e.line"
    )
    con.execute(f"create temp table bad as {' union all '.join(bad_parts)}")

    rows_parsed = con.execute("select count(*) from src").fetchone()[0]  # type: ignore[index]
    rows_rejected_struct = con.execute("select count(distinct line) from rej_errors").fetchone()[0]  # type: ignore[index]
    rows_bad = con.execute(f"select count(*) from typed where {any_err}").fetchone()[0]  # type: ignore[index]

    # Supplier ids: classify each distinct value once, in Python.
    con.execute(
        "create temp table idmap (raw varchar, supplier_key varchar, supplier_id_status varchar,"
        " supplier_legal_form varchar, supplier_id_note varchar, supplier_id_raw varchar)"
    )
    if "supplier_id" in mapped:
        distinct = [
            r[0] for r in con.execute("select distinct raw__supplier_id from good").fetchall()
        ]
        ids = [classify_supplier_id(raw_id, key) for raw_id in distinct]
        idmap_arrow = pa.table(
            {
                "raw": pa.array(distinct, pa.string()),
                "supplier_key": pa.array([i.key for i in ids], pa.string()),
                "supplier_id_status": pa.array([i.status.value for i in ids], pa.string()),
                "supplier_legal_form": pa.array([i.legal_form for i in ids], pa.string()),
                "supplier_id_note": pa.array([i.note for i in ids], pa.string()),
                "supplier_id_raw": pa.array([i.raw_safe for i in ids], pa.string()),
            }
        )
        con.register("idmap_arrow", idmap_arrow)
        con.execute("insert into idmap select * from idmap_arrow")
        con.unregister("idmap_arrow")
    return {
        "mapped": mapped,
        "decimal": decimal,
        "rows_in": rows_parsed + rows_rejected_struct + prep.rows_skipped,
        "rows_bad": rows_bad + rows_rejected_struct,
    }


def _norm_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip('"').strip().lower()


def _insert_sql(
    kind: str,
    table: str,
    mapped: dict[str, tuple[int, ColumnRule]],
    batch_id: int,
    source: str,
    derived_date: str | None,
) -> str:
    def col(f: str) -> str:
        return f"g.{f}" if f in mapped else "null"

    ident = (
        "m.supplier_key, coalesce(m.supplier_id_status, 'missing'), m.supplier_legal_form, "
        "m.supplier_id_note, m.supplier_id_raw"
    )
    join = (
        "from good g left join idmap m on m.raw is not distinct from g.raw__supplier_id"
        if "supplier_id" in mapped
        else "from good g left join idmap m on false"
    )
    if kind == "ledger":
        if derived_date:
            posting, derived = f"date {_q(derived_date)}", "true"
        else:
            posting, derived = "g.posting_date", "false"
        name = (
            f"case when m.supplier_id_status = 'sole_trader' then {_q(SOLE_TRADER_NAME)} "
            f"else {col('supplier_name')} end"
        )
        return f"""insert into {table}
            select {batch_id}, {_q(source)}, g.source_line, {col("verification_id")},
                   {col("line_number")}, {posting}, {derived}, strftime({posting}, '%Y-%m'),
                   {col("invoice_date")}, {col("invoice_number")}, {ident}, {name},
                   {col("account")}, {col("account_text")}, {col("cost_centre")}, g.amount,
                   {col("vat")}, {col("description")}
            {join}"""
    if kind == "contracts":
        name = (
            f"case when m.supplier_id_status = 'sole_trader' then {_q(SOLE_TRADER_NAME)} "
            f"else {col('supplier_name')} end"
        )
        return f"""insert into {table}
            select {batch_id}, {_q(source)}, g.source_line, g.contract_id, {col("title")},
                   {ident}, {name}, {col("category")}, g.start_date, g.end_date,
                   {col("latest_end_date")}, {col("contract_type")}, {col("procured_by")},
                   {col("registered_date")}, {col("estimated_annual_value")}
            {join}"""
    return f"""insert into {table}
        select {batch_id}, {_q(source)}, g.source_line, g.order_id, g.order_date,
               strftime(g.order_date, '%Y-%m'), {ident}, {col("cost_centre")}, g.amount,
               {col("from_catalogue")}, {col("invoice_number")}
        {join}"""


def _scope(
    con: duckdb.DuckDBPyConnection,
    cfg: SourceConfig,
    table: str,
    derived_period: str | None,
    file_name: str,
    batch_id: int,
) -> tuple[list[str], str]:
    """(scope keys, where-clause on the raw table) of what this delivery replaces."""
    src = _q(cfg.name)
    if cfg.replace == "snapshot":
        return ["snapshot"], f"source_name = {src} and batch_id <> {batch_id}"
    if cfg.replace == "file" or cfg.kind == "contracts":
        return [file_name], (
            f"source_name = {src} and batch_id in (select batch_id from raw.load_batch "
            f"where source_name = {src} and file_name = {_q(file_name)} and status = 'loaded') "
            f"and batch_id <> {batch_id}"
        )
    date_col = "posting_date" if cfg.kind == "ledger" else "order_date"
    if cfg.replace == "day":
        keys = [
            str(r[0])
            for r in con.execute(
                f"select distinct {date_col} from {table} where batch_id = {batch_id} order by 1"
            ).fetchall()
        ]
        where_keys = ", ".join(f"date {_q(k)}" for k in keys) or "null"
        return keys, (
            f"source_name = {src} and {date_col} in ({where_keys}) and batch_id <> {batch_id}"
        )
    keys = [
        r[0]
        for r in con.execute(
            f"select distinct period from {table} where batch_id = {batch_id} order by 1"
        ).fetchall()
    ]
    if derived_period and derived_period not in keys:
        keys.append(derived_period)
    where_keys = ", ".join(_q(k) for k in keys) or "null"
    return keys, f"source_name = {src} and period in ({where_keys}) and batch_id <> {batch_id}"


# Kinds whose raw table has no amount: a delivery is compared by its row count only.
AMOUNTLESS_KINDS = ("contracts", "supplier_register")


def _hold_large_change(
    con: duckdb.DuckDBPyConnection,
    cfg: SourceConfig,
    table: str,
    where: str,
    batch_id: int,
    file_name: str,
) -> None:
    """Load-to-load stability: refuse (hold) a delivery that would remove or change
    more than ``cfg.max_change_share`` of the lines or the amount it replaces, per
    period (per day with replace = "day"; the whole register for a contract
    register). Almost always a wrong file: a corrected month holding one row, an
    empty register. Confirmed with ``spendkoll load --confirm FILE`` or the source
    setting ``confirm``."""
    share = cfg.max_change_share
    if cfg.kind in AMOUNTLESS_KINDS or cfg.replace in ("file", "snapshot"):
        unit, amount = (
            "'the delivery it replaces'",
            ("null" if cfg.kind in AMOUNTLESS_KINDS else "sum(amount)"),
        )
    elif cfg.replace == "day":
        unit, amount = (
            f"cast({'posting_date' if cfg.kind == 'ledger' else 'order_date'} as varchar)",
            "sum(amount)",
        )
    else:
        unit, amount = "period", "sum(amount)"
    old = {
        u: (n, a)
        for u, n, a in con.execute(
            f"select {unit}, count(*), {amount} from {table} where {where} group by 1"
        ).fetchall()
    }
    if not old:
        return  # nothing loaded before in this scope: a first delivery
    new = {
        u: (n, a)
        for u, n, a in con.execute(
            f"select {unit}, count(*), {amount} from {table} where batch_id = ? group by 1",
            [batch_id],
        ).fetchall()
    }
    what = "rows" if cfg.kind in AMOUNTLESS_KINDS else "lines"
    problems = []
    for u in sorted(old, key=str):
        old_n, old_a = old[u]
        new_n, new_a = new.get(u, (0, None))
        if new_n < old_n * (1 - share):
            problems.append(f"{u}: {old_n:,} {what} loaded, the delivery has {new_n:,}")
        elif (
            old_a is not None
            and old_a != 0
            and abs((new_a or 0) - old_a) > Decimal(str(share)) * abs(old_a)
        ):
            problems.append(
                f"{u}: SEK {old_a:,.2f} loaded, the delivery has SEK {(new_a or 0):,.2f}"
            )
    if problems:
        raise FileRejected(
            f"held: this delivery would remove or change more than {share:.0%} of what is "
            f"loaded ({'; '.join(problems[:6])}{'; ...' if len(problems) > 6 else ''}). "
            "Nothing was changed. If the delivery is right, confirm it: "
            f"`spendkoll load {cfg.name} --confirm {file_name}` (it is taken back from "
            f"rejected/{cfg.name}/), or list it in the source setting confirm"
        )


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    cfg: SourceConfig,
    reader: Reader,
    archive_dir: Path,
    work_dir: Path,
    key: bytes,
    confirmed: bool = False,
) -> LoadResult:
    """Load one landing file.  Raises :class:`FileRejected` when nothing may be loaded."""
    file_name = path.name
    digest = sha256_of(path)
    unchanged = unchanged_result(con, path, cfg, digest, LoadResult)
    if unchanged:
        return unchanged

    started = datetime.now(UTC).replace(tzinfo=None)
    work_dir.mkdir(parents=True, exist_ok=True)
    prep = reader(path, cfg, work_dir)
    # the fields whose column the file's header has
    present = {f for f, rule in prep.columns.items() if _norm_header(rule.column) in prep.header}
    derived_period = (
        _period_of_file(cfg, file_name)
        if (cfg.kind == "ledger" and "posting_date" not in present)
        else None
    )
    if cfg.kind == "ledger" and "posting_date" not in present and not derived_period:
        rule = prep.columns.get("posting_date")
        raise FileRejected(
            (
                f"line 1: expected a column {rule.column!r} (for posting_date) in the header"
                if rule
                else "the mapping has no posting date column"
            )
            + f"; found: {', '.join(prep.header)}. A file without posting dates needs "
            "'period' or 'period_from_filename' in the source config"
        )
    for fieldname in ROW_REQUIRED[cfg.kind]:
        if fieldname not in present and not (fieldname == "posting_date" and derived_period):
            rule = prep.columns.get(fieldname)
            raise FileRejected(
                f"line 1: expected a column {rule.column if rule else fieldname!r} (for "
                f"{fieldname}) in the header; found: {', '.join(prep.header)}"
            )
    derived_date = None
    if derived_period:
        y, m = map(int, derived_period.split("-"))
        derived_date = f"{derived_period}-{calendar.monthrange(y, m)[1]:02d}"

    info = stage_file(con, prep, cfg, file_name, key)
    rows_in = int(info["rows_in"])  # type: ignore[call-overload]
    rows_bad = int(info["rows_bad"])  # type: ignore[call-overload]
    data_rows = rows_in - prep.rows_skipped
    reject_if_too_many_bad(con, "bad", rows_bad, data_rows, cfg, "is the source config right?")

    batch_id = next_batch_id(con)
    table = RAW_TABLES[cfg.kind]
    archive_dir.mkdir(parents=True, exist_ok=True)
    archived = archive_dir / f"{batch_id:06d}_{digest[:12]}_{file_name}"
    shutil.copy2(path, archived)
    fault_point("load.archived")
    try:
        con.execute("begin transaction")
        con.execute(
            _insert_sql(
                cfg.kind,
                table,
                info["mapped"],  # type: ignore[arg-type]
                batch_id,
                cfg.name,
                derived_date,
            )
        )
        keys, where = _scope(con, cfg, table, derived_period, file_name, batch_id)
        if not confirmed:
            _hold_large_change(con, cfg, table, where, batch_id, file_name)
        affected = [
            r[0]
            for r in con.execute(f"select distinct batch_id from {table} where {where}").fetchall()
        ]
        con.execute(f"delete from {table} where {where}")
        replaced = []
        for old in affected:
            left = con.execute(
                f"select count(*) from {table} where batch_id = ?", [old]
            ).fetchone()[0]  # type: ignore[index]
            if left == 0:
                replaced.append(old)
                con.execute(
                    "update raw.load_batch set status = 'replaced', replaced_by = ? "
                    "where batch_id = ?",
                    [batch_id, old],
                )
        con.execute(
            "insert into raw.quarantine select ?, ?, ?, line, column_name, value, reason from bad",
            [batch_id, cfg.name, file_name],
        )
        # Personnummer in free text: masked before the commit, in every column.
        mask_free_text(con, table, batch_id, key)
        mask_quarantine(con, batch_id)
        loaded, flagged, amount = con.execute(
            f"select count(*), count(*) filter (where supplier_id_status in "
            f"('missing', 'invalid')), "
            f"{'null' if cfg.kind == 'contracts' else 'sum(amount)'} from {table} "
            "where batch_id = ?",
            [batch_id],
        ).fetchone()  # type: ignore[misc]
        amount_col = amount if cfg.kind != "contracts" else None
        quarantined = rows_bad
        con.execute(
            "insert into raw.load_batch values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, 'loaded', ?, null, ?, ?, ?)",
            [
                batch_id,
                cfg.name,
                cfg.kind,
                file_name,
                str(archived),
                digest,
                cfg.format,
                prep.encoding,
                prep.delimiter,
                info["decimal"],
                rows_in,
                loaded,
                quarantined,
                prep.rows_skipped,
                flagged,
                amount_col,
                keys,
                hide_numbers("; ".join(prep.notes)) or None,
                started,
                datetime.now(UTC).replace(tzinfo=None),
                json.dumps(
                    {f: rule.column for f, rule in prep.columns.items()}, ensure_ascii=False
                ),
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
    return LoadResult(
        cfg.name,
        file_name,
        "loaded",
        batch_id,
        rows_in,
        loaded,
        quarantined,
        prep.rows_skipped,
        flagged,
        amount_col,
        replaced,
        "; ".join(prep.notes) or None,
    )


def record_rejection(
    con: duckdb.DuckDBPyConnection, path: Path, cfg: SourceConfig, rejected_dir: Path, reason: str
) -> LoadResult:
    """Log the rejection, then move the rejected file aside with its reason.

    The row goes first: a crash before the move leaves the file in landing, and
    the rerun rejects it again; the other way round the file would have been
    moved aside without a trace the rerun could report."""
    digest = sha256_of(path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = rejected_dir / f"{stamp}_{path.name}"
    reason = hide_numbers(reason) or ""
    batch_id = next_batch_id(con)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "insert into raw.load_batch (batch_id, source_name, kind, file_name, archived_path, "
        "sha256, format, status, message, started_at, finished_at) "
        "values (?, ?, ?, ?, ?, ?, ?, 'rejected', ?, ?, ?)",
        [batch_id, cfg.name, cfg.kind, path.name, str(dest), digest, cfg.format, reason, now, now],
    )
    fault_point("reject.recorded")
    rejected_dir.mkdir(parents=True, exist_ok=True)
    dest.with_name(dest.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    shutil.move(str(path), dest)
    return LoadResult(cfg.name, path.name, "rejected", batch_id, message=reason)
