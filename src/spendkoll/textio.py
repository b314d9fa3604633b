"""Detecting and normalising the text encodings and layouts met in real exports.

Real files come as UTF-8 with or without BOM, CP1252/Latin-1, UTF-16 with BOM,
CP437 (SIE), with ``;``, ``,`` or tab separators and ``\\n``, ``\\r\\n`` or bare
``\\r`` line endings.  :func:`sniff` decides from the first megabyte, and
:func:`to_utf8` streams a file into UTF-8 with ``\\n`` line endings so that the
bulk reader (DuckDB) only ever sees one layout.  Both work in bounded memory.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from spendkoll.errors import FileRejected

SAMPLE_BYTES = 1 << 20
CHUNK_BYTES = 1 << 22
DELIMITERS = (";", ",", "\t", "|")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A UTF-8 encoded character above ASCII. In a file read as CP1252, Latin-1 or
# CP437 it means a mixed encoding (Swedish text in those codepages practically
# never holds these byte pairs).
UTF8_CHAR = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF]{2}|"
    rb"[\xF0-\xF4][\x80-\xBF]{3}"
)
SINGLE_BYTE = ("cp1252", "latin-1", "iso8859-1", "cp437")
# Bytes CP1252 leaves undefined: a file with them is Latin-1, not CP1252.
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


@dataclass(frozen=True)
class TextLayout:
    encoding: str  # a Python codec name
    newline: str  # "\n", "\r\n" or "\r"
    delimiter: str | None = None

    @property
    def is_plain_utf8(self) -> bool:
        """True when the file can be handed to DuckDB as it is."""
        return self.encoding in ("utf-8", "utf-8-sig") and self.newline != "\r"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def detect_encoding(sample: bytes, declared: str | None = None) -> str:
    """The codec of a file from its first bytes; ``declared`` (from config) wins."""
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError as exc:
            raise FileRejected(f"unknown encoding {declared!r} in the source config") from exc
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if sample[:200].count(b"\x00") > 20:
        # UTF-16 without BOM: the zero bytes tell the byte order.
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        bad = exc.start
    if UTF8_CHAR.search(sample):
        # UTF-8 characters and bytes that are not UTF-8 in one file: whichever
        # encoding is chosen, part of the text would load garbled
        line = sample[:bad].count(b"\n") + 1
        raise FileRejected(
            f"line {line}: byte 0x{sample[bad]:02X} is not UTF-8, "
            "but the file also holds UTF-8 characters: it mixes encodings (export it again "
            "in one encoding)"
        )
    if any(b in _CP1252_UNDEFINED for b in sample):
        return "latin-1"
    return "cp1252"


def detect_newline(text: str) -> str:
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    if crlf and crlf >= max(cr, lf):
        return "\r\n"
    if cr > lf:
        return "\r"
    return "\n"


def detect_delimiter(header_line: str) -> str:
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise FileRejected(
            "line 1: could not find a column separator in the header "
            f"(looked for {', '.join(repr(d) for d in DELIMITERS)})"
        )
    return best


def _count_outside_quotes(line: str, delim: str) -> int:
    inside = False
    n = 0
    for ch in line:
        if ch == '"':
            inside = not inside
        elif ch == delim and not inside:
            n += 1
    return n


def read_sample_text(path: Path, encoding: str) -> str:
    with path.open("rb") as f:
        raw = f.read(SAMPLE_BYTES)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(raw, final=False)


def sniff(
    path: Path, encoding: str | None = None, delimiter: str | None = None, tabular: bool = True
) -> TextLayout:
    """Encoding, line ending and (for tabular files) column separator of a file."""
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample.strip():
        raise FileRejected("the file is empty")
    enc = detect_encoding(sample, encoding)
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(sample, final=False)
    newline = detect_newline(text)
    delim = None
    if tabular:
        first = text.lstrip("\ufeff").split(newline, 1)[0]
        delim = delimiter or detect_delimiter(first)
    return TextLayout(enc, newline, delim)


def to_utf8(src: Path, dest: Path, layout: TextLayout) -> None:
    """Stream ``src`` into UTF-8 with ``\\n`` line endings at ``dest``.

    Undecodable bytes reject the file with the line they are on.
    """
    decoder = codecs.getincrementaldecoder(layout.encoding)(errors="strict")
    line = 1
    pending_cr = False
    single_byte = codecs.lookup(layout.encoding).name in SINGLE_BYTE
    with src.open("rb") as fin, dest.open("w", encoding="utf-8", newline="") as fout:
        first = True
        while True:
            chunk = fin.read(CHUNK_BYTES)
            if single_byte and (m := UTF8_CHAR.search(chunk)):
                raise FileRejected(
                    f"line {line + _lines_before(chunk, m.start())}: bytes "
                    f"{m.group(0).hex(' ').upper()} are a UTF-8 character in a file read as "
                    f"{layout.encoding}: the file mixes encodings (export it again in one "
                    "encoding, or set encoding in the source config)"
                )
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise FileRejected(
                    f"line {line + _lines_before(chunk, exc.start)}: bytes that are not valid "
                    f"{layout.encoding} ({exc.reason})"
                ) from exc
            if first:
                text = text.lstrip("\ufeff")
                first = False
            if pending_cr:
                text = "\r" + text
                pending_cr = False
            if text.endswith("\r") and chunk:
                text = text[:-1]
                pending_cr = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            line += text.count("\n")
            fout.write(text)
            if not chunk:
                break


def _lines_before(chunk: bytes, offset: int) -> int:
    head = chunk[:offset]
    return head.count(b"\n") or head.count(b"\r")


def check_utf8(path: Path) -> set[str]:
    """Reject a file that claims UTF-8 but holds invalid bytes, naming the line.
    Returns the line endings the file uses (``\n``, ``\r\n``, bare ``\r``): a
    file mixing them must go through :func:`to_utf8` before DuckDB reads it."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    line = 1
    endings: set[str] = set()
    previous_cr = False
    with path.open("rb") as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            if previous_cr:
                endings.add("\r\n" if chunk.startswith(b"\n") else "\r")
            crlf = chunk.count(b"\r\n")
            trailing_cr = chunk.endswith(b"\r")
            if chunk.count(b"\r") - crlf - trailing_cr:
                endings.add("\r")
            if crlf:
                endings.add("\r\n")
            if chunk.count(b"\n") - crlf - (previous_cr and chunk.startswith(b"\n")):
                endings.add("\n")
            previous_cr = trailing_cr
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = line + chunk[: exc.start].count(b"\n")
                raise FileRejected(
                    f"line {at}: bytes that are not valid "
                    f"UTF-8 ({exc.reason}); set encoding in the source config if the file is "
                    "Latin-1/CP1252"
                ) from exc
            if not chunk:
                break
            line += chunk.count(b"\n")
    return endings


def blank_lines(path: Path) -> list[int]:
    """Numbers of the empty lines of a text file (the CSV reader skips them, so a
    record's line number must count them). A fast scan first; the lines are
    counted only in a file that has a blank one."""
    has_blank = False
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            data = tail + chunk
            if b"\n\n" in data or b"\n\r\n" in data:
                has_blank = True
                break
            tail = data[-2:]
    if not has_blank:
        return []
    with path.open("rb") as f:
        return [n for n, line in enumerate(f, start=1) if line in (b"\n", b"\r\n")]
