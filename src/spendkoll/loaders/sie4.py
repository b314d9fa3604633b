"""SIE 4 files (the Swedish accounting interchange format, type 4: transactions).

Each ``#VER`` voucher is followed by a ``{ ... }`` block of ``#TRANS`` lines::

    #VER serie vernr verdatum [vertext] [regdatum] [sign]
    {
    #TRANS kontonr {dim objekt ...} belopp [transdat] [transtext] [kvantitet] [sign]
    }

What spendkoll takes: every ``#TRANS`` on an account whose number starts with
one of the source's ``sie_accounts`` prefixes (default the cost classes 4-8; the
other lines - bank, VAT, payables, revenue - are counted as skipped).
Supplier and invoice come from the reserved dimensions 9 and 10 where present,
cost centre from dimension 1.  ``#RTRANS`` (added later) is followed by an
identical ``#TRANS`` and so is not counted twice; ``#BTRANS`` (removed) is
ignored.  A voucher that does not balance rejects the file, naming its line.
"""

from __future__ import annotations

import codecs
import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from spendkoll.errors import FileRejected
from spendkoll.loaders.pipeline import Prepared
from spendkoll.sources import ColumnRule, SourceConfig
from spendkoll.textio import UTF8_CHAR

OUT_COLUMNS = (
    "source_line",
    "verification_id",
    "line_number",
    "posting_date",
    "invoice_number",
    "supplier_id",
    "supplier_name",
    "account",
    "account_text",
    "cost_centre",
    "amount",
    "description",
)
DIM_COST_CENTRE = "1"
DIM_SUPPLIER = "9"
DIM_INVOICE = "10"


class Unclosed(Exception):
    pass


def tokenize(line: str, strict: bool = False) -> list[str | list[str]]:
    """Split a SIE line into fields; an object list ``{1 "A" 6 "P"}`` becomes a list.

    A quote left open at the end of the line (a truncated text, or a CP437 letter
    exported as ``"``) is closed there unless ``strict``; :func:`tokenize_checked`
    reports it.
    """
    tokens: list[str | list[str]] = []
    i, n = 0, len(line)
    stack: list[list[str]] = []
    while i < n:
        ch = line[i]
        if ch in " \t":
            i += 1
            continue
        if ch == "{":
            stack.append([])
            i += 1
            continue
        if ch == "}":
            if not stack:
                raise ValueError("'}' without '{'")
            done = stack.pop()
            tokens.append(done)
            i += 1
            continue
        if ch == '"':
            j = i + 1
            buf = []
            while j < n and line[j] != '"':
                if line[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(line[j])
                j += 1
            if j >= n and (strict or stack):
                raise ValueError("a quoted field is not closed")
            word = "".join(buf)
            i = j + 1
        else:
            j = i
            while j < n and line[j] not in ' \t{}"':
                j += 1
            word = line[i:j]
            i = j
        if stack:
            stack[-1].append(word)
        else:
            tokens.append(word)
    if stack:
        raise ValueError("an object list '{' is not closed")
    return tokens


def has_unclosed_quote(line: str) -> bool:
    inside = False
    i = 0
    while i < len(line):
        if line[i] == "\\" and inside:
            i += 2
            continue
        if line[i] == '"':
            inside = not inside
        i += 1
    return inside


# What a #FORMAT line declares. The SIE 4 specification knows only PC8 (CP437);
# programs also write ANSI, meaning Windows-1252.
SIE_FORMATS = {"PC8": "cp437", "ANSI": "cp1252", "UTF8": "utf-8", "UTF-8": "utf-8"}
_FORMAT_LINE = re.compile(rb"^#FORMAT\s+\"?([A-Za-z0-9-]+)", re.M)


def decode_sie(raw: bytes, declared: str | None) -> tuple[str, str, list[str]]:
    """Text, codec and notes. The file's #FORMAT decides (PC8 = CP437, ANSI =
    CP1252), except that a file which is valid UTF-8 is read as UTF-8 (some
    programs declare PC8 and write UTF-8). A file mixing UTF-8 characters with
    bytes that are not UTF-8 is rejected at its first such byte."""
    notes: list[str] = []
    if declared:
        return raw.decode(codecs.lookup(declared).name), declared, notes
    m = _FORMAT_LINE.search(raw[:4096])
    fmt = m.group(1).decode("ascii").upper() if m else "PC8"
    codec = SIE_FORMATS.get(fmt)
    if codec is None:
        raise FileRejected(f"#FORMAT {fmt}: expected PC8 (or ANSI, UTF8)")
    try:
        text = raw.decode("utf-8")
        if any(ord(c) > 127 for c in text):
            if codec != "utf-8":
                notes.append(f"declares #FORMAT {fmt} but is UTF-8; read as UTF-8")
            if "\ufffd" in text:
                notes.append(
                    "the file holds U+FFFD replacement characters: some text was "
                    "damaged before export (amounts and accounts are unaffected)"
                )
            return text, "utf-8", notes
        return text, "ascii", notes
    except UnicodeDecodeError as exc:
        if codec == "utf-8" or UTF8_CHAR.search(raw):
            line = raw[: exc.start].count(b"\n") + 1
            raise FileRejected(
                f"line {line}: byte 0x{raw[exc.start]:02X} is not UTF-8"
                + (
                    ", but the file also holds UTF-8 characters: it mixes encodings"
                    if codec != "utf-8"
                    else f" (the file declares #FORMAT {fmt})"
                )
            ) from None
    return raw.decode(codec), codec, notes


def _fill_from_voucher(
    rows: list[list[str]], dims: list[dict[str, str]], objects: dict[tuple[str, str], str]
) -> None:
    """Give cost lines the voucher's supplier and invoice when the voucher has just one.

    Accounting programs put dimension 9 (supplier) on the payables line (2440)
    and often dimension 10 (invoice) on every line; a cost line then inherits them.
    """
    suppliers = {d[DIM_SUPPLIER] for d in dims if d.get(DIM_SUPPLIER)}
    invoices = {d[DIM_INVOICE] for d in dims if d.get(DIM_INVOICE)}
    for row in rows:
        if not row[5] and len(suppliers) == 1:
            row[5] = next(iter(suppliers))
            row[6] = objects.get((DIM_SUPPLIER, row[5]), "")
        if not row[4] and len(invoices) == 1:
            row[4] = next(iter(invoices))


def _date(value: str, line_no: int, what: str) -> str:
    if len(value) != 8 or not value.isdigit():
        raise FileRejected(f"line {line_no}: expected {what} as YYYYMMDD, found {value!r}")
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


def prepare_sie4(path: Path, cfg: SourceConfig, work_dir: Path) -> Prepared:
    text, encoding, notes = decode_sie(path.read_bytes(), cfg.encoding)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    accounts: dict[str, str] = {}
    objects: dict[tuple[str, str], str] = {}
    sietyp: str | None = None
    out = work_dir / (path.name + ".csv")
    fout = out.open("w", encoding="utf-8", newline="")
    writer = csv.writer(fout, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(OUT_COLUMNS)
    has_supplier = False
    skipped = 0
    ver: dict[str, str] | None = None
    ver_line = 0
    ver_sum = Decimal(0)
    ver_rows: list[list[str]] = []
    in_block = False
    n_trans = 0
    unclosed: list[int] = []
    ver_dims: list[dict[str, str]] = []

    try:
        for line_no, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped == "{":
                if ver is None:
                    raise FileRejected(f"line {line_no}: '{{' without a #VER before it")
                in_block = True
                continue
            if stripped == "}":
                if not in_block or ver is None:
                    raise FileRejected(f"line {line_no}: '}}' without an open #VER block")
                if ver_sum != 0:
                    raise FileRejected(
                        f"line {ver_line}: voucher {ver['id']} does not balance (sum {ver_sum}); "
                        "every #VER must sum to zero"
                    )
                _fill_from_voucher(ver_rows, ver_dims, objects)
                writer.writerows(ver_rows)
                has_supplier = has_supplier or any(r[5] for r in ver_rows)
                ver, in_block, ver_rows, ver_sum, ver_dims = None, False, [], Decimal(0), []
                continue
            if not stripped.startswith("#"):
                raise FileRejected(f"line {line_no}: expected a #LABEL, found {stripped[:40]!r}")
            try:
                tokens = tokenize(stripped)
            except ValueError as exc:
                raise FileRejected(f"line {line_no}: {exc}") from exc
            if has_unclosed_quote(stripped):
                unclosed.append(line_no)
            label = str(tokens[0]).upper()
            args = tokens[1:]
            if label == "#SIETYP":
                sietyp = str(args[0]) if args else None
            elif label == "#KONTO" and len(args) >= 2:
                accounts[str(args[0])] = str(args[1])
            elif label == "#OBJEKT" and len(args) >= 3:
                objects[(str(args[0]), str(args[1]))] = str(args[2])
            elif label == "#VER":
                if in_block:
                    raise FileRejected(f"line {line_no}: #VER inside another voucher's block")
                if len(args) < 3:
                    raise FileRejected(f"line {line_no}: #VER needs series, number and date")
                serie, vernr = str(args[0]), str(args[1])
                ver = {
                    "id": f"{serie}-{vernr}" if serie else vernr,
                    "date": _date(str(args[2]), line_no, "the voucher date"),
                    "text": str(args[3]) if len(args) > 3 else "",
                }
                ver_line = line_no
            elif label == "#TRANS":
                if not in_block or ver is None:
                    raise FileRejected(f"line {line_no}: #TRANS outside a #VER block")
                if len(args) < 3 or not isinstance(args[1], list):
                    raise FileRejected(
                        f"line {line_no}: expected '#TRANS account {{objects}} amount ...'"
                    )
                account = str(args[0])
                objs = args[1]
                try:
                    amount = Decimal(str(args[2]))
                except InvalidOperation as exc:
                    raise FileRejected(
                        f"line {line_no}, column amount: expected a number, found {args[2]!r}"
                    ) from exc
                ver_sum += amount
                n_trans += 1
                dims = dict(zip(objs[0::2], objs[1::2], strict=False))
                ver_dims.append(dims)
                if not account.startswith(cfg.sie_accounts):
                    skipped += 1
                    continue
                transdat = str(args[3]) if len(args) > 3 and str(args[3]) else ""
                posting = (
                    _date(transdat, line_no, "the transaction date") if transdat else ver["date"]
                )
                supplier = dims.get(DIM_SUPPLIER, "")
                ver_rows.append(
                    [
                        str(line_no),
                        ver["id"],
                        str(len(ver_rows) + 1),
                        posting,
                        dims.get(DIM_INVOICE, ""),
                        supplier,
                        objects.get((DIM_SUPPLIER, supplier), "") if supplier else "",
                        account,
                        accounts.get(account, ""),
                        dims.get(DIM_COST_CENTRE, ""),
                        str(amount),
                        str(args[4]) if len(args) > 4 and args[4] else ver["text"],
                    ]
                )
            # #RTRANS is repeated by the #TRANS after it; #BTRANS is a removed line.
    finally:
        fout.close()
    if in_block:
        raise FileRejected(f"line {ver_line}: the block of voucher starting here is not closed")
    if sietyp is not None and sietyp != "4":
        raise FileRejected(f"#SIETYP {sietyp}: spendkoll needs SIE type 4 (with transactions)")
    if n_trans == 0:
        raise FileRejected("no #TRANS lines: nothing to load (is it a SIE 1-3 balance file?)")

    if unclosed:
        shown = ", ".join(str(n) for n in unclosed[:5])
        notes.append(
            f"{len(unclosed)} line(s) with a quote left open, closed at the line end "
            f"(line {shown}{', ...' if len(unclosed) > 5 else ''})"
        )
    if has_supplier:
        notes.append(
            "supplier ids come from dimension 9 (the company's own supplier numbers "
            "unless it exports org numbers there)"
        )
    return Prepared(
        csv_path=out,
        delimiter=";",
        columns={c: ColumnRule(c) for c in OUT_COLUMNS if c != "source_line"},
        encoding=encoding,
        header=list(OUT_COLUMNS),
        rows_skipped=skipped,
        line_column="source_line",
        notes=notes,
    )
