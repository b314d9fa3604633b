"""The supplier register: Bolagsverket's and SCB's bulk files and SCB's size classes.

Three formats of the source kind ``supplier_register``, each delivery a snapshot
that replaces the previous one of its source (one transaction, only when the new
file loads):

``bolagsverket``
    Bolagsverket's bulk file ``bolagsverket_bulkfil.txt`` (or the published
    ``bolagsverket_bulkfil.zip`` holding it): UTF-8, ``;``-separated, every field
    in double quotes, a header of 11 names, a row per registration (identity +
    ``namnskyddslopnummer``) into ``raw.register_bolagsverket``.
``scb_je``
    SCB's bulk file of legal units ``scb_bulkfil_JE_<date>T<time>_<nn>.txt`` (or
    ``scb_bulkfil.zip``): ISO-8859-1, TAB-separated, no quoting, a header of 34
    names and a trailing TAB on every line, into ``raw.register_scb``.
``size_class``
    SCB's size classes as an organisation buys them: an org number column
    (``organisationsnummer``, ``orgnr`` or ``PeOrgNr``) and ``storleksklass``
    (0-16), ``;``, ``,`` or TAB, UTF-8 or CP1252, into ``raw.register_size_class``.

What every row goes through:

* the identity becomes the ledger's supplier key (:func:`classify_supplier_id`):
  an org number ``NNNNNN-NNNN``, or a sole trader's pseudonym; a personnummer
  never reaches DuckDB, and a sole trader's name and address are not stored;
* coded suffixes are stripped (``5560360793$ORGNR-IDORG`` -> identity type
  ``ORGNR``, ``AB-ORGFO`` -> ``AB``, ``KKAV-AVORG`` -> ``KKAV``, procedures
  ``|KK-AVOMFO$2024-06-05`` -> ``KK:2024-06-05``);
* a value that does not parse (a date, a size class, an identity) sends the
  row to ``raw.quarantine`` with file, line, column and reason; a row with the
  wrong number of fields too (a truncated row), its text kept only when it
  cannot hold personal data;
* a code the publisher's code list does not have (a new legal form,
  deregistration reason, procedure, JurForm) loads as written and is reported:
  logged, counted in the result (``rows_unknown_code``, ``warnings``) and kept
  in the batch's message;
* a second row for the same unit (the same registration in Bolagsverket's
  file, the same PeOrgNr in SCB's) is quarantined, so each raw table has one
  row per unit (Bolagsverket: per identity and namnskyddslöpnummer).

What rejects a file whole (moved to ``rejected/<source>/``, the previous snapshot
kept): a header without one of the columns the loader reads (a renamed or
missing column: line 1, the column expected and what was found), a file in
neither the published encoding nor one told apart from it without doubt (UTF-16,
UTF-8 mixed with single-byte text), more than ``max_bad_row_share`` unparseable
rows, or a delivery removing more than ``max_change_share`` of the register (held
until confirmed, as for every snapshot source).

Encodings: the published one is expected (UTF-8 for Bolagsverket, ISO-8859-1 for
SCB). A delivery in the other one is recognised from its first megabyte (valid
UTF-8 with non-ASCII characters, or single-byte text that is not UTF-8), read
correctly and reported with a warning; a file mixing the two is rejected at its
first inconsistent line. Never mojibake in silence.

Memory: files are read line by line and handed to DuckDB in chunks of
:data:`CHUNK_ROWS` rows (parsed in SQL); only the typed rows are staged, so the
full files (about 3 and 1.8 million rows) load in bounded memory.
``python -m spendkoll.loaders.register --bench DIR`` writes full-size synthetic
files and measures the load.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import json
import logging
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa

from spendkoll.errors import FileRejected
from spendkoll.faults import fault_point
from spendkoll.ids import IdStatus, classify_supplier_id
from spendkoll.loaders.pipeline import (
    LoadResult,
    _hold_large_change,
    mask_free_text,
    mask_quarantine,
    reject_if_too_many_bad,
    unchanged_result,
)
from spendkoll.pii import find_personnummer, hide_numbers
from spendkoll.sources import SourceConfig
from spendkoll.textio import SAMPLE_BYTES, UTF8_CHAR, sha256_of, sniff, to_utf8
from spendkoll.warehouse import RAW_TABLES, next_batch_id

log = logging.getLogger(__name__)

CHUNK_ROWS = 100_000

# ----------------------------------------------------------------------------- layouts

# Bolagsverket, "Nedladdningsbara filer" (bolagsverket.se, värdefulla datamängder).
BOLAGSVERKET_HEADER = (
    "organisationsidentitet",
    "namnskyddslopnummer",
    "registreringsland",
    "organisationsnamn",
    "organisationsform",
    "avregistreringsdatum",
    "avregistreringsorsak",
    "pagandeAvvecklingsEllerOmstruktureringsforfarande",
    "registreringsdatum",
    "verksamhetsbeskrivning",
    "postadress",
)
# the columns read; the others (country, always SE-LAND, and the free-text
# description) may go without rejecting the file
BOLAGSVERKET_READ = (
    "organisationsidentitet",
    "namnskyddslopnummer",
    "organisationsnamn",
    "organisationsform",
    "avregistreringsdatum",
    "avregistreringsorsak",
    "pagandeAvvecklingsEllerOmstruktureringsforfarande",
    "registreringsdatum",
    "postadress",
)
# SCB's bulk file of legal units, as published (34 names; every line ends with a TAB).
SCB_HEADER = (
    "ForAndrTyp",
    "COAdress",
    "Foretagsnamn",
    "FtgStat",
    "Gatuadress",
    "JEStat",
    "JurForm",
    "Namn",
    "Ng1",
    "Ng2",
    "Ng3",
    "Ng4",
    "Ng5",
    "PeOrgNr",
    "PostNr",
    "PostOrt",
    "RegDatKtid",
    "Reklamsparrtyp",
    "mCOAdress",
    "mForetagsnamn",
    "mFtgStat",
    "mGatuadress",
    "mJEStat",
    "mJurForm",
    "mNamn",
    "mNg1",
    "mNg2",
    "mNg3",
    "mNg4",
    "mNg5",
    "mPostNr",
    "mPostOrt",
    "mRegDatKtid",
    "mReklamsparrtyp",
)
SCB_READ = (
    "PeOrgNr",
    "Namn",
    "JurForm",
    "FtgStat",
    "JEStat",
    "Ng1",
    "Ng2",
    "Ng3",
    "Ng4",
    "Ng5",
    "PostNr",
    "PostOrt",
    "RegDatKtid",
)
# The size-class file's columns, found by any of these names (case ignored), or mapped.
SIZE_ID_COLUMNS = ("organisationsnummer", "orgnr", "org_nr", "peorgnr", "organisationsnr")
SIZE_CLASS_COLUMNS = ("storleksklass",)

PUBLISHED = {
    "bolagsverket": ("utf-8", ";", "Bolagsverket's bulk file (bolagsverket_bulkfil.txt)"),
    "scb_je": ("latin-1", "\t", "SCB's bulk file of legal units (scb_bulkfil_JE_*.txt)"),
}

# ------------------------------------------------------------------------- code lists
# Bolagsverket's code lists (section 1-3 and 5 of the file description); the
# identity types GDNR, SAMORDNR and DODSBO and the ended procedures
# (-AVSLAVOMFO) are not in the list but are in the real file.
LEGAL_FORMS = {
    "AB": "Aktiebolag",
    "BAB": "Bankaktiebolag",
    "BF": "Bostadsförening",
    "BFL": "Utländsk banks filial",
    "BRF": "Bostadsrättsförening",
    "E": "Enskild näringsverksamhet",
    "EB": "Enkla bolag",
    "EEIG": "Europeisk ekonomisk intressegruppering",
    "EGTS": "Europeisk gruppering för territoriellt samarbete",
    "EK": "Ekonomisk förening",
    "FAB": "Försäkringsaktiebolag",
    "FF": "Försäkringsförmedlare",
    "FL": "Filial",
    "FOF": "Försäkringsförening",
    "HB": "Handelsbolag",
    "I": "Ideell förening som bedriver näringsverksamhet",
    "KB": "Kommanditbolag",
    "KHF": "Kooperativ hyresrättsförening",
    "MB": "Medlemsbank",
    "OFB": "Ömsesidigt försäkringsbolag",
    "OTPB": "Ömsesidigt tjänstepensionsbolag",
    "S": "Stiftelse som bedriver näringsverksamhet",
    "SB": "Sparbank",
    "SCE": "Europakooperativ",
    "SE": "Europabolag",
    "SF": "Sambruksförening",
    "TPAB": "Tjänstepensionsaktiebolag",
    "TPF": "Tjänstepensionsförening",
    "TSF": "Trossamfund som bedriver näringsverksamhet",
}
DEREGISTRATION_REASONS = {
    "AKEJH": "Aktiekapitalet inte höjts",
    "ARSEED": "Årsredovisning saknas",
    "AVREG": "Avregistrerad",
    "BABAKEJH": "Ombildat till bankaktiebolag eller aktiekapitalet inte höjts",
    "DELAV": "Delning",
    "DOM": "Beslut av instans",
    "FUAV": "Fusion",
    "GROMAV": "Gränsöverskridande ombildning",
    "KKAV": "Konkurs",
    "LIAV": "Likvidation",
    "NYINN": "Ny innehavare",
    "OMAV": "Ombildning",
    "OMBAB": "Ombildat till bankaktiebolag",
    "OVERK": "Overksamhet",
    "UTLKKLI": "Det utländska företagets likvidation eller konkurs",
    "VDSAK": "Verkställande direktör saknas",
    "VERKUPP": "Verksamheten har upphört",
}
PROCEDURES = {
    "AC": "Ackordsförhandling",
    "DEOL": "Överlåtande vid delning",
    "DEOT": "Övertagande vid delning",
    "FR": "Företagsrekonstruktion",
    "FUOL": "Överlåtande i fusion",
    "FUOT": "Övertagande i fusion",
    "GROM": "Gränsöverskridande ombildning",
    "KK": "Konkurs",
    "LI": "Likvidation",
    "OM": "Ombildning",
    "RES": "Resolution",
}
# -AVSLAVOMFO: a procedure that has ended (seen in the real file, not in the code list)
ENDED_PROCEDURES = (
    "FRUHOR",
    "KKAVOV",
    "LIUHOR",
    "ACUHOR",
    "KKUHAVD",
    "LIUHAVD",
    "ACUHAVD",
    "FRUHAVD",
)
IDENTITY_TYPES = ("ORGNR", "PERSON", "GDNR", "SAMORDNR", "DODSBO")
PERSONAL_IDENTITY_TYPES = ("PERSON", "SAMORDNR", "DODSBO")
# SCB's JurForm, FtgStat and JEStat codes.
SCB_LEGAL_FORMS = {
    "10": "Fysiska personer",
    "21": "Enkla bolag",
    "22": "Partrederier",
    "23": "Värdepappersfonder",
    "31": "Handelsbolag, kommanditbolag",
    "32": "Gruvbolag",
    "41": "Bankaktiebolag",
    "42": "Försäkringsaktiebolag",
    "43": "Europabolag",
    "49": "Övriga aktiebolag",
    "51": "Ekonomiska föreningar",
    "53": "Bostadsrättsföreningar",
    "54": "Kooperativa hyresrättsföreningar",
    "61": "Ideella föreningar",
    "62": "Samfälligheter",
    "63": "Registrerade trossamfund",
    "71": "Familjestiftelser",
    "72": "Övriga stiftelser och fonder",
    "81": "Statliga enheter",
    "82": "Kommuner",
    "83": "Kommunalförbund",
    "84": "Regioner",
    "85": "Allmänna försäkringskassor",
    "87": "Offentliga korporationer och anstalter",
    "88": "Hypoteksföreningar",
    "89": "Regionala statliga myndigheter",
    "91": "Oskiftade dödsbon",
    "92": "Ömsesidiga försäkringsbolag",
    "93": "Sparbanker",
    "94": "Understödsföreningar, försäkringsföreningar",
    "95": "Arbetslöshetskassor",
    "96": "Utländska juridiska personer",
    "98": "Övriga svenska juridiska personer bildade enligt särskild lagstiftning",
    "99": "Juridisk form ej utredd",
}
SCB_COMPANY_STATUS = {
    "0": "Har aldrig varit verksam",
    "1": "Är verksam",
    "9": "Ej verksam",
}
SCB_UNIT_STATUS = {
    "1": "I populationen, i Skatteverkets organisationsnummerregister",
    "2": "I populationen, registrerad på annat sätt",
    "9": "Ingår inte längre i populationen",
}
SIZE_CLASSES = {
    0: "Uppgift saknas",
    1: "0 anställda",
    2: "1-4",
    3: "5-9",
    4: "10-19",
    5: "20-49",
    6: "50-99",
    7: "100-199",
    8: "200-499",
    9: "500-999",
    10: "1000-1499",
    11: "1500-1999",
    12: "2000-2999",
    13: "3000-3999",
    14: "4000-4999",
    15: "5000-9999",
    16: "10000-",
}

# ------------------------------------------------------------------------------ result


@dataclass
class RegisterLoadResult(LoadResult):
    # codes not in the publisher's lists, loaded as written (and other notes)
    warnings: list[str] = field(default_factory=list)
    rows_unknown_code: int = 0
    rows_duplicate: int = 0


# ---------------------------------------------------------------------------- reading


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes; a ``.zip`` as published (one file inside) read without unpacking."""
    if path.suffix.lower() != ".zip":
        with path.open("rb", buffering=1 << 20) as f:
            yield f
        return
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                raise FileRejected(
                    f"expected a zip holding one file (as published), found {len(members)}: "
                    + ", ".join(i.filename for i in members[:5])
                )
            with zf.open(members[0]) as member:  # buffered: read line by line
                yield member
    except zipfile.BadZipFile as exc:
        raise FileRejected(f"not a readable zip file ({exc})") from exc


def choose_encoding(sample: bytes, published: str, declared: str | None) -> tuple[str, str | None]:
    """(codec, note) of a bulk file from its first megabyte. The source's ``encoding``
    wins; else the published encoding, unless the sample shows without doubt that the
    file is in the other one (then a note says so). UTF-16 and a sample mixing UTF-8
    with single-byte text are rejected."""
    if declared:
        try:
            return codecs.lookup(declared).name, None
        except LookupError as exc:
            raise FileRejected(f"unknown encoding {declared!r} in the source config") from exc
    expected = "UTF-8" if published == "utf-8" else "ISO-8859-1"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        sample[:200].count(b"\x00") > 20
    ):
        raise FileRejected(
            f"the file is in UTF-16, not {expected} as published: export or download it again"
        )
    body = sample.removeprefix(codecs.BOM_UTF8)
    if body.isascii():
        return published, None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
        is_utf8 = True
    except UnicodeDecodeError as exc:
        is_utf8 = False
        bad_at = exc.start
    if is_utf8:
        if published == "utf-8":
            return "utf-8", None
        return "utf-8", (
            f"the file is in UTF-8, not {expected} as published: read as UTF-8 "
            "(set encoding in the source config to silence this)"
        )
    if UTF8_CHAR.search(body):
        line = body[:bad_at].count(b"\n") + 1
        raise FileRejected(
            f"line {line}: byte 0x{body[bad_at]:02X} is not UTF-8, but the file also holds "
            "UTF-8 characters: it mixes encodings (download or export it again)"
        )
    if published != "utf-8":
        return published, None
    single = "latin-1" if any(b in body for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D)) else "cp1252"
    return single, (
        f"the file is not UTF-8 as published but single-byte text: read as {single} "
        "(set encoding in the source config to silence this)"
    )


@dataclass
class _Lines:
    """The data lines of a bulk file after its header, decoded; counts what it met."""

    encoding: str
    single_byte: bool
    blank: int = 0
    nul_lines: int = 0

    def iterate(self, f: IO[bytes], first: int) -> Iterator[tuple[int, str | None, str]]:
        """(line number, text or None when undecodable, reason when undecodable)."""
        enc = self.encoding
        for n, raw in enumerate(f, start=first):
            raw = raw.rstrip(b"\r\n")
            if not raw:
                self.blank += 1
                continue
            if b"\x00" in raw:
                raw = raw.replace(b"\x00", b"")
                self.nul_lines += 1
            if self.single_byte and not raw.isascii() and (m := UTF8_CHAR.search(raw)):
                raise FileRejected(
                    f"line {n}: bytes {m.group(0).hex(' ').upper()} are a UTF-8 character in a "
                    f"file read as {enc}: the file mixes encodings (download or export it again)"
                )
            try:
                yield n, raw.decode(enc), ""
            except UnicodeDecodeError as exc:
                yield n, None, f"bytes that are not valid {enc} at position {exc.start + 1}"


def _header_index(
    found: list[str], published: Sequence[str], read: Sequence[str], what: str, delimiter: str
) -> tuple[dict[str, int], list[str]]:
    """Column positions by published name (case ignored); notes for unread
    differences. A column the loader reads that is missing rejects the file."""
    lower = {h.lower(): i for i, h in reversed(list(enumerate(found)))}
    missing = [c for c in read if c.lower() not in lower]
    if missing:
        published_lower = {c.lower() for c in published}
        unexpected = [h for h in found if h.lower() not in published_lower]
        detail = ""
        if len(found) == len(published):
            pos = published.index(missing[0])
            detail = (
                f"; column {pos + 1} is {_cell(found[pos])} where the layout has {missing[0]!r}"
                if found[pos].lower() != missing[0].lower()
                else ""
            )
        elif unexpected:
            detail = f"; names not in the layout: {', '.join(_cell(u) for u in unexpected[:5])}"
        hint = ""
        if len(found) <= 1:
            sep = "TAB" if delimiter == "\t" else repr(delimiter)
            hint = f" (one column only: {what} is separated by {sep})"
        raise FileRejected(
            f"line 1: expected the column {missing[0]!r} of {what}, not found"
            + (f" (nor {', '.join(repr(m) for m in missing[1:4])})" if len(missing) > 1 else "")
            + f"{detail}{hint}; {_shown_header(found, delimiter)}"
        )
    notes = []
    gone = [c for c in published if c.lower() not in lower]
    if gone:
        notes.append(
            f"the header lacks the published column(s) {', '.join(gone)} (not read by spendkoll)"
        )
    published_lower = {c.lower() for c in published}
    new = [h for h in found if h.lower() not in published_lower]
    if new:
        notes.append(f"the header has column(s) not in the published layout: {', '.join(new)}")
    return {c: lower[c.lower()] for c in published if c.lower() in lower}, notes


HEADER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")


def _cell(value: str) -> str:
    """A header cell for a message: a name as written; anything else (a first line
    that is a data row: a name, an address, an identity) only by its length."""
    v = value.strip().strip('"')
    return repr(v) if HEADER_NAME.fullmatch(v) else f"(a value of {len(v)} characters)"


def _shown_header(found: list[str], delimiter: str) -> str:
    """The header line for a message, without echoing data: when the first line is a
    data row (no header), its cells would be a company's or a person's details."""
    names = [_cell(c) for c in found]
    if found and not any(HEADER_NAME.fullmatch(c.strip().strip('"')) for c in found):
        return f"the first line has {len(found)} field(s) and no column names (no header?)"
    return f"the header found ({len(found)} fields): {', '.join(names[:40])}"


def _personal_text(text: str) -> bool:
    """A broken row's text that may hold personal data (a personnummer or a
    sole trader's registration): not kept in the quarantine."""
    return (
        "PERSON-IDORG" in text
        or "SAMORDNR-IDORG" in text
        or "DODSBO-IDORG" in text
        or bool(re.search(r"(?<!\d)(19|20)\d{10}(?!\d)", text))
        or bool(find_personnummer(text))
    )


# ----------------------------------------------------------------------- identities


class _Identities:
    """The supplier key of an identity cell. An org number (10 digits, third digit at
    least 2, so never a personnummer) is checked and formatted in SQL (Luhn); every
    other value is classified here, in Python, and never reaches DuckDB."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.cache: dict[str, tuple[str | None, bool, str | None]] = {}

    @staticmethod
    def org_digits(value: str) -> str | None:
        v = value.strip()
        if len(v) == 11 and v[6] == "-":
            v = v[:6] + v[7:]
        elif len(v) == 12 and v.startswith("16"):
            v = v[2:]
        if len(v) == 10 and v.isdigit() and v[2] >= "2":
            return v
        return None

    def classify(self, value: str) -> tuple[str | None, bool, str | None]:
        """(key, personal, why not) of a value that is not a plain org number."""
        hit = self.cache.get(value)
        if hit is None:
            sid = classify_supplier_id(value, self.key)
            personal = sid.status in (IdStatus.SOLE_TRADER, IdStatus.SOLE_TRADER_MASKED)
            why = None
            expected = "expected an organisationsnummer or a personnummer"
            if sid.status == IdStatus.MISSING:
                why = f"{expected}: the value is empty or a placeholder"
            elif sid.status == IdStatus.FOREIGN:
                why = f"{expected}, not a foreign VAT number"
            elif sid.key is None:
                why = f"{expected}: {sid.note or 'not one'}"
            hit = (sid.key if why is None else None, personal, why)
            if len(self.cache) < 500_000:  # bounded: most identities occur once
                self.cache[value] = hit
        return hit


def _luhn_sql(col: str) -> str:
    """SQL: true when the 10 digits in ``col`` pass the Luhn check."""
    terms = []
    for i in range(10):
        d = f"(ascii(substr({col}, {i + 1}, 1)) - 48)"
        terms.append(f"(case when {d} >= 5 then 2 * {d} - 9 else 2 * {d} end)" if i % 2 == 0 else d)
    return f"(({' + '.join(terms)}) % 10 = 0)"


# computed once per row in the inner query of a chunk (see _Format.pre)
LUHN_OK_SQL = f"case when org_digits is not null then {_luhn_sql('org_digits')} end"
KEY_SQL = (
    "coalesce(py_key, case when luhn_ok then "
    "substr(org_digits, 1, 6) || '-' || substr(org_digits, 7, 4) end)"
)
KEY_CHECK = (
    "py_key is null and org_digits is not null and not luhn_ok",
    "'expected an organisationsnummer: it fails the Luhn check'",
)


def _date_sql(raw: str, fmt: str) -> tuple[str, str]:
    """(value, is-bad) of a date column; empty or a literal null is no date."""
    present = f"nullif(nullif(lower(trim({raw})), 'null'), '')"
    value = f"cast(try_strptime({present}, '{fmt}') as date)"
    return value, f"({present} is not null and {value} is null)"


# ------------------------------------------------------------------------ the formats


@dataclass
class _Check:
    column: str  # the file's column
    value: str  # SQL of the raw value
    bad: str  # SQL predicate
    reason: str  # SQL text expression


@dataclass
class _Format:
    table: str
    stage_columns: tuple[tuple[str, str], ...]  # (name, type) of the staged (= raw) columns
    select: dict[str, str]  # staged column -> SQL over the chunk
    checks: list[_Check]  # each evaluated once per row; a row failing one is quarantined
    id_column: str
    unit_key: tuple[str, ...]  # a unit's key in the raw table (duplicates quarantined)
    unknown: list[tuple[str, str, str]]  # (what, SQL of a code per row or list, known codes)
    pre: dict[str, str] = field(default_factory=dict)  # intermediate values (inner query)


def _codes(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::varchar[]"


_ENTRIES = "list_filter(string_split(coalesce({c}, ''), '|'), lambda e: trim(e) <> '')"
_LAST_PART = r"regexp_extract(e, '\$([^$]*)$', 1)"


def _bolagsverket() -> _Format:
    chosen = (
        "coalesce(list_filter(names, lambda e: split_part(e, '$', 2) = "
        "'FORETAGSNAMN-ORGNAM')[1], names[1])"
    )
    proc_text = (
        "nullif(array_to_string(list_transform(procs, lambda e: "
        "regexp_replace(trim(split_part(e, '$', 1)), '-(AVOMFO|AVSLAVOMFO)$', '') || ':' || "
        f"trim({_LAST_PART})), '|'), '')"
    )
    proc_bad = (
        "len(list_filter(procs, lambda e: "
        f"try_strptime(trim({_LAST_PART}), '%Y-%m-%d') is null)) > 0"
    )
    parts = "string_split(coalesce(postadress, ''), '$')"
    p3, p4 = "p3", "p4"
    c3, c4 = f"replace({p3}, ' ', '')", f"replace({p4}, ' ', '')"
    is3, is4 = f"regexp_full_match({c3}, '\\d{{5}}')", f"regexp_full_match({c4}, '\\d{{5}}')"

    def town(p: str) -> str:
        return f"(regexp_matches({p}, '\\p{{L}}') and not regexp_matches({p}, '-LAND$'))"

    reg, reg_bad = _date_sql("registreringsdatum", "%Y-%m-%d")
    dereg, dereg_bad = _date_sql("avregistreringsdatum", "%Y-%m-%d")
    nsl = "nullif(trim(namnskyddslopnummer), '')"
    return _Format(
        table=RAW_TABLES["bolagsverket"],
        stage_columns=(
            ("source_line", "bigint"),
            ("supplier_key", "varchar"),
            ("identity_type", "varchar"),
            ("name_protection_no", "integer"),
            ("legal_form", "varchar"),
            ("name", "varchar"),
            ("registration_date", "date"),
            ("deregistration_date", "date"),
            ("deregistration_reason", "varchar"),
            ("procedures", "varchar"),
            ("postal_code", "varchar"),
            ("postal_town", "varchar"),
        ),
        select={
            "source_line": "line",
            "supplier_key": KEY_SQL,
            "identity_type": "identity_type",
            "name_protection_no": f"try_cast({nsl} as integer)",
            "legal_form": "nullif(regexp_replace(trim(organisationsform), '-ORGFO$', ''), '')",
            "name": f"nullif(trim(split_part({chosen}, '$', 1)), '')",
            "registration_date": reg,
            "deregistration_date": dereg,
            "deregistration_reason": (
                "nullif(regexp_replace(trim(avregistreringsorsak), '-AVORG$', ''), '')"
            ),
            "procedures": proc_text,
            "postal_code": f"case when {is3} then {c3} when {is4} then {c4} end",
            "postal_town": (
                f"case when {is3} then nullif({p4}, '') when {is4} then nullif({p3}, '') "
                f"when {town(p4)} then {p4} when {town(p3)} then {p3} end"
            ),
        },
        checks=[
            _Check("organisationsidentitet", "org_digits", *KEY_CHECK),
            _Check(
                "namnskyddslopnummer",
                nsl,
                f"{nsl} is not null and try_cast({nsl} as integer) is null",
                "'expected a whole number (namnskyddslöpnummer) or nothing'",
            ),
            _Check(
                "registreringsdatum",
                "registreringsdatum",
                reg_bad,
                "'expected a date YYYY-MM-DD'",
            ),
            _Check(
                "avregistreringsdatum",
                "avregistreringsdatum",
                dereg_bad,
                "'expected a date YYYY-MM-DD, or nothing (active)'",
            ),
            _Check(
                "pagandeAvvecklingsEllerOmstruktureringsforfarande",
                "procedures_raw",
                proc_bad,
                "'expected procedures as |CODE-AVOMFO$YYYY-MM-DD, each ending with its date'",
            ),
        ],
        id_column="organisationsidentitet",
        unit_key=("supplier_key", "name_protection_no"),
        pre={
            "names": _ENTRIES.format(c="organisationsnamn"),
            "procs": _ENTRIES.format(c="procedures_raw"),
            "p3": f"trim(coalesce(({parts})[3], ''))",
            "p4": f"trim(coalesce(({parts})[4], ''))",
        },
        unknown=[
            ("legal form code", "legal_form", _codes(list(LEGAL_FORMS))),
            (
                "deregistration reason",
                "deregistration_reason",
                _codes(list(DEREGISTRATION_REASONS)),
            ),
            (
                "procedure code",
                "unnest(list_transform(string_split(procedures, '|'), "
                "lambda e: split_part(e, ':', 1)))",
                _codes([*PROCEDURES, *ENDED_PROCEDURES]),
            ),
            ("identity type", "identity_type", _codes(IDENTITY_TYPES)),
        ],
    )


def _scb() -> _Format:
    reg, reg_bad = _date_sql("RegDatKtid", "%Y%m%d")
    select = {
        "source_line": "line",
        "supplier_key": KEY_SQL,
        "is_sole_trader": "personal",
        "legal_form_code": "nullif(trim(JurForm), '')",
        "company_status": "nullif(trim(FtgStat), '')",
        "unit_status": "nullif(trim(JEStat), '')",
    }
    for i in range(1, 6):
        select[f"sni_{i}"] = f"nullif(trim(Ng{i}), '')"
    select |= {
        "name": "nullif(trim(Namn), '')",
        "postal_code": "nullif(regexp_replace(PostNr, '\\s', '', 'g'), '')",
        "postal_town": "nullif(trim(PostOrt), '')",
        "registered_date": reg,
    }
    return _Format(
        table=RAW_TABLES["scb_je"],
        stage_columns=(
            ("source_line", "bigint"),
            ("supplier_key", "varchar"),
            ("is_sole_trader", "boolean"),
            ("legal_form_code", "varchar"),
            ("company_status", "varchar"),
            ("unit_status", "varchar"),
            ("sni_1", "varchar"),
            ("sni_2", "varchar"),
            ("sni_3", "varchar"),
            ("sni_4", "varchar"),
            ("sni_5", "varchar"),
            ("name", "varchar"),
            ("postal_code", "varchar"),
            ("postal_town", "varchar"),
            ("registered_date", "date"),
        ),
        select=select,
        checks=[
            _Check("PeOrgNr", "org_digits", *KEY_CHECK),
            _Check("RegDatKtid", "RegDatKtid", reg_bad, "'expected a date YYYYMMDD'"),
        ],
        id_column="PeOrgNr",
        unit_key=("supplier_key",),
        unknown=[
            ("JurForm code", "legal_form_code", _codes(list(SCB_LEGAL_FORMS))),
            ("FtgStat code", "company_status", _codes(list(SCB_COMPANY_STATUS))),
            ("JEStat code", "unit_status", _codes(list(SCB_UNIT_STATUS))),
            (
                "SNI code not of 5 digits",
                "unnest(list_filter([sni_1, sni_2, sni_3, sni_4, sni_5], "
                "lambda s: s is not null and not regexp_full_match(s, '\\d{5}')))",
                "[]",
            ),
        ],
    )


def _size() -> _Format:
    raw = "nullif(trim(storleksklass), '')"
    value = f"try_cast({raw} as smallint)"
    return _Format(
        table=RAW_TABLES["size_class"],
        stage_columns=(
            ("source_line", "bigint"),
            ("supplier_key", "varchar"),
            ("size_class", "smallint"),
        ),
        select={"source_line": "line", "supplier_key": KEY_SQL, "size_class": value},
        checks=[
            _Check("organisationsnummer", "org_digits", *KEY_CHECK),
            _Check(
                "storleksklass",
                "storleksklass",
                f"{value} is null or {value} not between 0 and 16",
                "'expected SCB''s size class, a whole number 0-16 (0 unknown, 1 = 0 employees, "
                "2 = 1-4, ..., 16 = 10000 or more)'",
            ),
        ],
        id_column="organisationsnummer",
        unit_key=("supplier_key",),
        unknown=[],
    )


FORMAT_SPECS = {"bolagsverket": _bolagsverket, "scb_je": _scb, "size_class": _size}


# --------------------------------------------------------------------------- staging


class _Stager:
    """Parsed chunks into the temp tables ``reg_stage`` (typed rows) and ``reg_bad``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spec: _Format, raw_columns: list[str]):
        self.con = con
        self.spec = spec
        self.raw_columns = raw_columns  # the chunk's text columns, by SQL name
        self.bad_rows: list[tuple[int, str | None, str | None, str]] = []
        for t in ("reg_stage", "reg_bad", "reg_chunk"):
            con.execute(f"drop table if exists {t}")
        cols = ", ".join(f"{n} {t}" for n, t in spec.stage_columns)
        con.execute(f"create temp table reg_stage ({cols})")
        con.execute(
            "create temp table reg_bad (line bigint, column_name varchar, value varchar, "
            "reason varchar not null, duplicate boolean not null default false)"
        )

    def bad(self, line: int, column: str | None, value: str | None, reason: str) -> None:
        self.bad_rows.append((line, column, value, reason))

    def flush_bad(self) -> None:
        if self.bad_rows:
            lines, cols, values, reasons = zip(*self.bad_rows, strict=True)
            arrow = pa.table(
                {
                    "line": pa.array(lines, pa.int64()),
                    "column_name": pa.array(cols, pa.string()),
                    "value": pa.array(
                        [None if v is None else hide_numbers(v[:500]) for v in values], pa.string()
                    ),
                    "reason": pa.array(reasons, pa.string()),
                }
            )
            self.con.register("reg_bad_arrow", arrow)
            self.con.execute(
                "insert into reg_bad select line, column_name, value, reason, false "
                "from reg_bad_arrow"
            )
            self.con.unregister("reg_bad_arrow")
            self.bad_rows = []

    def chunk(self, rows: list[tuple[object, ...]]) -> None:
        """``rows``: (line, org_digits, py_key, personal, *raw_columns) per row."""
        self.flush_bad()
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        arrays: dict[str, pa.Array] = {
            "line": pa.array(columns[0], pa.int64()),
            "org_digits": pa.array(columns[1], pa.string()),
            "py_key": pa.array(columns[2], pa.string()),
            "personal": pa.array(columns[3], pa.bool_()),
        }
        for name, values in zip(self.raw_columns, columns[4:], strict=True):
            arrays[name] = pa.array(values, pa.string())
        self.con.register("reg_arrow", pa.table(arrays))
        spec = self.spec
        selects = ", ".join(f"{expr} as {name}" for name, expr in spec.select.items())
        errors = ", ".join(
            f"case when {c.bad} then {c.reason} end as err_{i}, {c.value} as value_{i}"
            for i, c in enumerate(spec.checks)
        )
        pre = ", ".join(
            f"{expr} as {name}" for name, expr in ({"luhn_ok": LUHN_OK_SQL} | spec.pre).items()
        )
        self.con.execute(
            f"create or replace temp table reg_chunk as select {selects}, {errors} "
            f"from (select *, {pre} from reg_arrow)"
        )
        self.con.unregister("reg_arrow")
        parts = [
            f"select source_line, '{c.column}', value_{i}, err_{i}, false from reg_chunk "
            f"where err_{i} is not null"
            for i, c in enumerate(spec.checks)
        ]
        self.con.execute(f"insert into reg_bad {' union all '.join(parts)}")
        names = ", ".join(n for n, _ in spec.stage_columns)
        any_error = ", ".join(f"err_{i}" for i in range(len(spec.checks)))
        self.con.execute(
            f"insert into reg_stage select {names} from reg_chunk "
            f"where coalesce({any_error}) is null"
        )
        self.con.execute("drop table reg_chunk")


# ---------------------------------------------------------------------- the readers


@dataclass
class _Read:
    rows_in: int
    skipped: int
    encoding: str
    delimiter: str
    column_map: dict[str, str]
    warnings: list[str]  # reported: a delivery unlike the published layout
    notes: list[str] = field(default_factory=list)  # kept in the batch's message


def _read_header(f: IO[bytes], encoding: str) -> str:
    raw = f.readline()
    if not raw.strip():
        raise FileRejected("the file is empty, or its first line is: expected the header")
    raw = raw.removeprefix(codecs.BOM_UTF8).rstrip(b"\r\n").replace(b"\x00", b"")
    if b"\r" in raw:
        raise FileRejected(
            "line 1: the lines end with a bare CR (\\r), not LF or CRLF as published"
        )
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileRejected(f"line 1: bytes that are not valid {encoding} ({exc.reason})") from exc


def _bulk(path: Path, cfg: SourceConfig, stager: _Stager, ids: _Identities, fmt: str) -> _Read:
    """Bolagsverket's or SCB's bulk file, line by line, into the stager."""
    published, delimiter, what = PUBLISHED[fmt]
    with open_binary(path) as f:
        sample = f.read(SAMPLE_BYTES)
    encoding, note = choose_encoding(sample, published, cfg.encoding)
    notes = [note] if note else []
    single = codecs.lookup(encoding).name in ("cp1252", "iso8859-1", "latin-1", "cp437")
    lines = _Lines(encoding, single)
    with open_binary(path) as f:
        text = _read_header(f, encoding)
        if fmt == "bolagsverket":
            found = [h.strip().strip('"').strip() for h in text.split(";")]
            index, header_notes = _header_index(
                found, BOLAGSVERKET_HEADER, BOLAGSVERKET_READ, what, ";"
            )
        else:
            found = [h.strip() for h in text.split("\t")]
            while found and found[-1] == "":
                found.pop()
            index, header_notes = _header_index(found, SCB_HEADER, SCB_READ, what, "\t")
        notes += header_notes
        ncols = len(found)
        rows_in = 0
        rows: list[tuple[object, ...]] = []
        for n, line, undecodable in lines.iterate(f, 2):
            rows_in += 1
            if line is None:
                stager.bad(n, None, None, undecodable)
                continue
            if fmt == "bolagsverket":
                row = _bolagsverket_row(n, line, ncols, index, found, stager, ids)
            else:
                row = _scb_row(n, line, ncols, index, found, stager, ids)
            if row is not None:
                rows.append(row)
                if len(rows) >= CHUNK_ROWS:
                    stager.chunk(rows)
                    rows = []
        stager.chunk(rows)
        stager.flush_bad()
    read = BOLAGSVERKET_READ if fmt == "bolagsverket" else SCB_READ
    return _Read(
        rows_in,
        lines.blank,
        encoding,
        delimiter,
        {c: found[index[c]] for c in read},
        notes,
        [f"NUL bytes removed from {lines.nul_lines:,} line(s)"] if lines.nul_lines else [],
    )


def _split_bolagsverket(line: str, ncols: int) -> tuple[list[str], bool] | None:
    """(the fields of a line, whether doubled quotes are still to be undone): every
    field in double quotes, split at ``";"`` (a stray quote inside a field is kept as
    text); else by the CSV rules (a ``;`` inside quotes)."""
    if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
        fields = line[1:-1].split('";"')
        if len(fields) == ncols:
            return fields, True
    try:
        fields = next(csv.reader([line], delimiter=";", strict=True))
    except (csv.Error, StopIteration):
        return None
    return (fields, False) if len(fields) == ncols else None


def _structure_error(
    stager: _Stager, n: int, line: str, count: int, found: list[str], what: str
) -> None:
    ncols = len(found)
    column = found[min(count, ncols - 1)] if count < ncols else found[-1]
    reason = f"expected {ncols} fields ({what}), found {count}: " + (
        "the row is cut short" if count < ncols else "the row has extra fields"
    )
    # A broken row cannot be told apart reliably (a line cut before PeOrgNr, or the
    # second half of a line split in two, may be a sole trader's name and address):
    # its text is never kept; the line number points into the archived file.
    stager.bad(n, column, None, reason + " (the row's text is not kept: see the archived file)")


def _bolagsverket_row(
    n: int,
    line: str,
    ncols: int,
    index: dict[str, int],
    found: list[str],
    stager: _Stager,
    ids: _Identities,
) -> tuple[object, ...] | None:
    split = _split_bolagsverket(line, ncols)
    if split is None:
        count = line.count('";"') + 1 if line.startswith('"') else line.count(";") + 1
        if count == ncols:  # every field begun, the last one not closed: cut short
            count = ncols - 1
        _structure_error(stager, n, line, count, found, "';'-separated, in double quotes")
        return None
    fields, doubled = split
    ident = fields[index["organisationsidentitet"]]
    value, _, typ = ident.partition("$")
    identity_type = typ.strip().removesuffix("-IDORG")
    if not identity_type:
        stager.bad(
            n,
            "organisationsidentitet",
            None if _personal_text(ident) else ident,
            "expected identity$type, e.g. 5560360793$ORGNR-IDORG",
        )
        return None
    personal_type = identity_type in PERSONAL_IDENTITY_TYPES
    digits = None if personal_type else ids.org_digits(value)
    py_key: str | None = None
    personal = personal_type
    if digits is None:
        py_key, personal_id, why = ids.classify(value)
        if why is not None:
            stager.bad(n, "organisationsidentitet", None if personal_type else value, why)
            return None
        personal = personal or personal_id
    g: list[str | None] = [fields[index[c]] for c in BOLAGSVERKET_READ[1:]]
    if personal:  # name and address of a person are not stored
        g[1] = g[7] = None
    elif doubled:  # "" inside a quoted field is one quote (the only text stored)
        for i in (1, 7):
            text = g[i]
            if text is not None and '""' in text:
                g[i] = text.replace('""', '"')
    return (n, digits, py_key, personal, identity_type, *g)


def _scb_row(
    n: int,
    line: str,
    ncols: int,
    index: dict[str, int],
    found: list[str],
    stager: _Stager,
    ids: _Identities,
) -> tuple[object, ...] | None:
    fields = line.split("\t")
    if len(fields) == ncols + 1 and fields[-1] == "":
        fields.pop()
    if len(fields) != ncols:
        _structure_error(stager, n, line, len(fields), found, "TAB-separated")
        return None
    value = fields[index["PeOrgNr"]].strip()
    digits = ids.org_digits(value)
    py_key: str | None = None
    personal = False
    if digits is None:
        py_key, personal, why = ids.classify(value)
        if why is not None:
            stager.bad(n, "PeOrgNr", None if _personal_text(value) else value, why)
            return None
    g: list[str | None] = [fields[index[c]] for c in SCB_READ[1:]]
    if personal:  # a sole trader: no name nor address
        g[0] = g[9] = g[10] = None
    return (n, digits, py_key, personal, *g)


SCB_RAW_COLUMNS = list(SCB_READ[1:])
BV_RAW_COLUMNS = ["identity_type", *BOLAGSVERKET_READ[1:]]
BV_RAW_COLUMNS[BV_RAW_COLUMNS.index("pagandeAvvecklingsEllerOmstruktureringsforfarande")] = (
    "procedures_raw"
)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip('"').strip().casefold())


def _size_file(
    path: Path, cfg: SourceConfig, stager: _Stager, ids: _Identities, work_dir: Path
) -> _Read:
    """The size-class file: any of ; , TAB, UTF-8 or CP1252 (detected), header first."""
    layout = sniff(path, cfg.encoding, cfg.delimiter)
    delimiter = layout.delimiter
    assert delimiter is not None
    work_dir.mkdir(parents=True, exist_ok=True)
    utf8 = work_dir / (path.name + ".utf8.csv")
    to_utf8(path, utf8, layout)
    notes: list[str] = []
    with utf8.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise FileRejected("the file is empty, or its first line is: expected the header")
        normed = [_norm(h) for h in header]

        def find(fieldname: str, names: tuple[str, ...], what: str) -> int:
            rule = cfg.columns.get(fieldname)
            wanted = (_norm(rule.column),) if rule else names
            for i, h in enumerate(normed):
                if h in wanted:
                    return i
            shown = rule.column if rule else " or ".join(repr(x) for x in names)
            raise FileRejected(
                f"line 1: expected a column {shown} ({what}); found: "
                f"{delimiter.join(header)[:1000]!r}"
            )

        i_id = find("supplier_id", SIZE_ID_COLUMNS, "the org number")
        i_size = find("size_class", SIZE_CLASS_COLUMNS, "SCB's size class 0-16")
        id_name, size_name = header[i_id].strip(), header[i_size].strip()
        checks = stager.spec.checks
        checks[0].column, checks[1].column = id_name, size_name
        stager.spec.id_column = id_name
        rows: list[tuple[object, ...]] = []
        rows_in = blank = 0
        end = 1
        for record in reader:
            start, end = end + 1, reader.line_num
            if not any(c.strip() for c in record):
                blank += 1
                continue
            rows_in += 1
            if len(record) <= max(i_id, i_size):
                stager.bad(
                    start,
                    header[min(len(record), len(header) - 1)],
                    None,
                    f"expected {len(header)} columns, found {len(record)}: the row is cut short",
                )
                continue
            value = record[i_id].strip()
            digits = ids.org_digits(value)
            py_key: str | None = None
            if digits is None:
                py_key, _, why = ids.classify(value)
                if why is not None:
                    stager.bad(start, id_name, None if _personal_text(value) else value, why)
                    continue
            rows.append((start, digits, py_key, False, record[i_size]))
            if len(rows) >= CHUNK_ROWS:
                stager.chunk(rows)
                rows = []
        stager.chunk(rows)
        stager.flush_bad()
    return _Read(
        rows_in,
        blank,
        layout.encoding,
        delimiter,
        {"supplier_id": id_name, "size_class": size_name},
        notes,
    )


# ---------------------------------------------------------------------------- loading


def _duplicates(con: duckdb.DuckDBPyConnection, spec: _Format) -> int:
    """Quarantine every row of a unit after its first (raw tables: one row per unit)."""
    key = ", ".join(spec.unit_key)
    con.execute("drop table if exists reg_dupes")
    con.execute(
        f"""create temp table reg_dupes as
        select source_line, first_line from (
            select source_line, min(source_line) over (partition by {key}) as first_line
            from reg_stage)
        where source_line <> first_line"""
    )
    n = con.execute("select count(*) from reg_dupes").fetchone()[0]  # type: ignore[index]
    if n:
        what = (
            "registration (identity and namnskyddslöpnummer)" if len(spec.unit_key) > 1 else "unit"
        )
        con.execute(
            f"insert into reg_bad select source_line, '{spec.id_column}', null, "
            f"'the same {what} is on line ' || first_line || ': the first row is kept', true "
            "from reg_dupes"
        )
        con.execute(
            "delete from reg_stage where source_line in (select source_line from reg_dupes)"
        )
    con.execute("drop table reg_dupes")
    return int(n)


def _unknown_codes(con: duckdb.DuckDBPyConnection, spec: _Format) -> tuple[list[str], int]:
    """Warnings for codes the publisher's lists do not have, and the rows holding one."""
    warnings: list[str] = []
    flagged: list[str] = []
    for what, expr, known in spec.unknown:
        cond = f"not list_contains({known}, code)"
        rows = con.execute(
            f"""select code, count(*), min(source_line) from (
                    select source_line, {expr} as code from reg_stage) t
                where code is not null and {cond}
                group by code order by count(*) desc, code"""
        ).fetchall()
        if rows:
            shown = ", ".join(f"{c!r} ({k:,} rows, first on line {ln})" for c, k, ln in rows[:10])
            more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
            warnings.append(
                f"{what}(s) not in the publisher's code list, loaded as written: {shown}{more}"
            )
            flagged.append(
                f"source_line in (select source_line from (select source_line, {expr} as code "
                f"from reg_stage) t where code is not null and {cond})"
            )
    n = 0
    if flagged:
        n = con.execute(f"select count(*) from reg_stage where {' or '.join(flagged)}").fetchone()[
            0
        ]  # type: ignore[index]
    return warnings, int(n)


def load_register_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    cfg: SourceConfig,
    archive_dir: Path,
    work_dir: Path,
    key: bytes,
    confirmed: bool = False,
) -> RegisterLoadResult:
    """Load one delivery of a register source. Raises :class:`FileRejected` when nothing
    may be loaded (the previous snapshot stays)."""
    file_name = path.name
    digest = sha256_of(path)
    unchanged = unchanged_result(con, path, cfg, digest, RegisterLoadResult)
    if unchanged:
        return unchanged
    started = datetime.now(UTC).replace(tzinfo=None)
    spec = FORMAT_SPECS[cfg.format]()
    ids = _Identities(key)
    if cfg.format == "bolagsverket":
        stager = _Stager(con, spec, BV_RAW_COLUMNS)
        read = _bulk(path, cfg, stager, ids, "bolagsverket")
    elif cfg.format == "scb_je":
        stager = _Stager(con, spec, SCB_RAW_COLUMNS)
        read = _bulk(path, cfg, stager, ids, "scb_je")
    else:
        stager = _Stager(con, spec, ["storleksklass"])
        read = _size_file(path, cfg, stager, ids, work_dir)

    bad_lines = con.execute("select count(distinct line) from reg_bad").fetchone()[0]  # type: ignore[index]
    reject_if_too_many_bad(
        con,
        "reg_bad",
        bad_lines,
        read.rows_in,
        cfg,
        f"is it the right file for format {cfg.format!r}?",
    )
    if read.rows_in == 0 and not bad_lines:
        raise FileRejected(
            f"no rows after the header: a {cfg.format!r} register delivery is never empty "
            "(a cut-off download?); the previous snapshot stays"
        )
    duplicates = _duplicates(con, spec)
    warnings, unknown_rows = _unknown_codes(con, spec)
    warnings = read.warnings + warnings
    for w in warnings:
        log.warning("%s %s: %s", cfg.name, file_name, w)
    notes = warnings + read.notes
    quarantined = con.execute("select count(distinct line) from reg_bad").fetchone()[0]  # type: ignore[index]

    table = spec.table
    names = ", ".join(n for n, _ in spec.stage_columns)
    batch_id = next_batch_id(con)
    archive_dir.mkdir(parents=True, exist_ok=True)
    archived = archive_dir / f"{batch_id:06d}_{digest[:12]}_{file_name}"
    shutil.copy2(path, archived)
    fault_point("load.archived")
    src = "'" + cfg.name.replace("'", "''") + "'"
    where = f"source_name = {src} and batch_id <> {batch_id}"
    try:
        con.execute("begin transaction")
        con.execute(
            f"insert into {table} (batch_id, source_name, {names}) "
            f"select {batch_id}, {src}, {names} from reg_stage order by source_line"
        )
        if not confirmed:
            _hold_large_change(con, cfg, table, where, batch_id, file_name)
        # every current snapshot of the source, by its batch (not by its rows: a
        # snapshot may hold none, and must be replaced all the same)
        affected = [
            r[0]
            for r in con.execute(
                "select batch_id from raw.load_batch where source_name = ? "
                "and status = 'loaded' and batch_id <> ? order by batch_id",
                [cfg.name, batch_id],
            ).fetchall()
        ]
        con.execute(f"delete from {table} where {where}")
        replaced = []
        for old in affected:
            replaced.append(old)
            con.execute(
                "update raw.load_batch set status = 'replaced', replaced_by = ? where batch_id = ?",
                [batch_id, old],
            )
        con.execute(
            "insert into raw.quarantine select ?, ?, ?, line, column_name, value, reason "
            "from reg_bad order by line",
            [batch_id, cfg.name, file_name],
        )
        mask_free_text(con, table, batch_id, key)
        mask_quarantine(con, batch_id)
        loaded = con.execute(
            f"select count(*) from {table} where batch_id = ?", [batch_id]
        ).fetchone()[0]  # type: ignore[index]
        message = hide_numbers("; ".join(notes)) or None
        con.execute(
            "insert into raw.load_batch (batch_id, source_name, kind, file_name, archived_path, "
            "sha256, format, encoding, delimiter, decimal_separator, rows_in, rows_loaded, "
            "rows_quarantined, rows_skipped, rows_flagged, amount_loaded, scope_keys, status, "
            "message, replaced_by, started_at, finished_at, column_map) values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?, ?, ?, ?, null, ['snapshot'], 'loaded', ?, "
            "null, ?, ?, ?)",
            [
                batch_id,
                cfg.name,
                cfg.kind,
                file_name,
                str(archived),
                digest,
                cfg.format,
                read.encoding,
                read.delimiter,
                read.rows_in + read.skipped,
                loaded,
                quarantined,
                read.skipped,
                0,
                message,
                started,
                datetime.now(UTC).replace(tzinfo=None),
                json.dumps(read.column_map, ensure_ascii=False),
            ],
        )
        fault_point("load.in_transaction")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        archived.unlink(missing_ok=True)
        raise
    finally:
        for t in ("reg_stage", "reg_bad"):
            con.execute(f"drop table if exists {t}")
    fault_point("load.committed")
    path.unlink()
    return RegisterLoadResult(
        cfg.name,
        file_name,
        "loaded",
        batch_id,
        read.rows_in + read.skipped,
        int(loaded),
        int(quarantined),
        read.skipped,
        0,
        None,
        replaced,
        message,
        warnings=warnings,
        rows_unknown_code=unknown_rows,
        rows_duplicate=duplicates,
    )


# ------------------------------------------------------------------------- benchmark

BENCH_BOLAGSVERKET_ROWS = 3_000_000
BENCH_SCB_ROWS = 1_800_000
BENCH_SCB_FILE = "scb_bulkfil_JE_20260601T065839_01.txt"
_BENCH_TOWNS = (
    ("ÖSTERSUND", "831"),
    ("STOCKHOLM", "111"),
    ("GÖTEBORG", "411"),
    ("MALMÖ", "211"),
    ("UMEÅ", "903"),
    ("SUNDSVALL", "852"),
    ("ÅRE", "837"),
    ("KROKOM", "835"),
)
_BENCH_WORDS = ("Nord", "Fjäll", "Sjö", "Berg", "Data", "Vård", "Bygg", "Skog", "Lab", "Teknik")
_BENCH_TEXT = (
    "Bolaget ska bedriva konsultverksamhet inom teknik, bygg och förvaltning samt "
    "därmed förenlig verksamhet, äga och förvalta fast och lös egendom"
)


def _bench_orgnr(i: int) -> str:
    body = f"55{2 + i % 8}{i // 8:06d}"  # unique up to 8 million; third digit >= 2
    total = 0
    for k, ch in enumerate(body):
        d = ord(ch) - 48
        if k % 2 == 0:
            d = 2 * d - 9 if d >= 5 else 2 * d
        total += d
    return body + str((10 - total % 10) % 10)


def _bench_personnummer(i: int) -> str:
    """A unique 12-digit personnummer (valid date and check digit) per ``i``."""
    from datetime import date, timedelta

    born = date(1940, 1, 1) + timedelta(days=i % 21_900)
    nine = f"{born:%y%m%d}{(i // 21_900) % 1000:03d}"
    total = 0
    for k, ch in enumerate(nine):
        d = ord(ch) - 48
        if k % 2 == 0:
            d = 2 * d - 9 if d >= 5 else 2 * d
        total += d
    return f"{born.year // 100}{nine}{(10 - total % 10) % 10}"


def write_bench_files(folder: Path, bv_rows: int, scb_rows: int) -> tuple[Path, Path]:
    """Full-size synthetic files in the published layouts (about 5 % sole traders,
    10 % deregistered, multi-name values, stray quotes), written in chunks."""
    folder.mkdir(parents=True, exist_ok=True)
    bv = folder / "bolagsverket_bulkfil.txt"
    with bv.open("w", encoding="utf-8", newline="\n") as f:
        f.write(";".join(BOLAGSVERKET_HEADER) + "\n")
        for start in range(0, bv_rows, CHUNK_ROWS):
            out = []
            for i in range(start, min(start + CHUNK_ROWS, bv_rows)):
                word = _BENCH_WORDS[i % 10] + _BENCH_WORDS[(i // 10) % 10].lower()
                reg = f"{1950 + i % 75}-{1 + i % 12:02d}-{1 + i % 28:02d}"
                town, pc = _BENCH_TOWNS[i % 8]
                desc = _BENCH_TEXT[: 60 + i % 90]
                if i % 100 == 7:
                    desc = f'Försäljning av "smarta" {desc}'  # a stray quote
                dereg = reason = proc = ""
                if i % 10 == 3:
                    dereg, reason = f"{2000 + i % 25}-06-30", ("KKAV", "LIAV", "FUAV")[i % 3]
                    reason += "-AVORG"
                if i % 100 == 11:
                    proc = f"|KKAVOV-AVSLAVOMFO$2025-03-11|KK-AVOMFO${2020 + i % 5}-06-05"
                if i % 20 == 5:  # a sole trader
                    ident, form, nsl = f"{_bench_personnummer(i)}$PERSON-IDORG", "E-ORGFO", "1"
                    name = f"{word} Konsult$FORETAGSNAMN-ORGNAM${reg}"
                else:
                    ident, form, nsl = f"{_bench_orgnr(i)}$ORGNR-IDORG", "AB-ORGFO", ""
                    name = f"{word} AB$FORETAGSNAMN-ORGNAM${reg}"
                    if i % 20 == 6:
                        name += f"|{word} Service$SARS_FORNAMN-ORGNAM${reg}$Service"
                addr = f"Storgatan {1 + i % 99}$${town}${pc}{i % 100:02d}$SE-LAND"
                out.append(
                    f'"{ident}";"{nsl}";"SE-LAND";"{name}";"{form}";"{dereg}";"{reason}";'
                    f'"{proc}";"{reg}";"{desc}";"{addr}"\n'
                )
            f.write("".join(out))
    scb = folder / BENCH_SCB_FILE
    with scb.open("w", encoding="latin-1", newline="") as f:
        f.write("\t".join(SCB_HEADER) + "\t\r\n")
        flags = "\t".join(["1"] * 16)
        for start in range(0, scb_rows, CHUNK_ROWS):
            out = []
            for i in range(start, min(start + CHUNK_ROWS, scb_rows)):
                word = _BENCH_WORDS[i % 10] + _BENCH_WORDS[(i // 10) % 10].lower()
                town, pc = _BENCH_TOWNS[i % 8]
                if i % 20 == 5:
                    pe, jf, fnamn, namn, je = _bench_personnummer(i), "10", word, "Berg, Anna", "2"
                else:
                    pe, jf, fnamn, namn, je = "16" + _bench_orgnr(i), "49", "", f"{word} AB", "1"
                ftg = "9" if i % 10 == 3 else "1"
                out.append(
                    f"1\t\t{fnamn}\t{ftg}\tStorgatan {1 + i % 99}\t{je}\t{jf}\t{namn}\t"
                    f"{(62010, 41200, 46460, 86211, 70220)[i % 5]:05d}\t\t\t\t\t{pe}\t"
                    f"{pc}{i % 100:02d}\t{town}\t{1970 + i % 55}{1 + i % 12:02d}{1 + i % 28:02d}\t"
                    f"{1 + i % 2}\t{flags}\t\r\n"
                )
            f.write("".join(out))
    return bv, scb


def _bench_load(root: Path) -> None:
    """(child process) load the bench files of ``root/files`` into a fresh warehouse."""
    import os

    from spendkoll.loaders.run import load_source
    from spendkoll.logs import configure
    from spendkoll.paths import DataDir
    from spendkoll.sources import parse_source

    configure()
    data_root = root / "var"
    shutil.rmtree(data_root, ignore_errors=True)
    data = DataDir(data_root).ensure()
    from spendkoll.settings import settings

    key = settings().pseudonym_key or "benchmark-pseudonym-key-0123456789"
    out = []
    for name, fmt, file in (
        ("register_bolagsverket", "bolagsverket", "bolagsverket_bulkfil.txt"),
        ("register_scb", "scb_je", BENCH_SCB_FILE),
    ):
        cfg = parse_source({"name": name, "kind": "supplier_register", "format": fmt}, "bench")
        landing = data.landing_for(name)
        landing.mkdir(parents=True, exist_ok=True)
        os.link(root / "files" / file, landing / file)  # the load removes its landing file
        t = time.perf_counter()
        [result] = load_source(cfg, data, key.encode())
        out.append(
            {
                "file": file,
                "status": result.status,
                "rows_in": result.rows_in,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "seconds": round(time.perf_counter() - t, 1),
            }
        )
    print(json.dumps(out))


def bench(root: Path, bv_rows: int, scb_rows: int) -> dict[str, object]:
    """Write full-size files (kept in ``root/files`` for a rerun) and load them into a
    fresh warehouse in a child process: its seconds and peak resident memory."""
    import resource
    import subprocess

    from spendkoll.settings import settings

    files = root / "files"
    marker = files / f".rows_{bv_rows}_{scb_rows}"
    if not marker.exists():
        t = time.perf_counter()
        shutil.rmtree(files, ignore_errors=True)
        write_bench_files(files, bv_rows, scb_rows)
        marker.touch()
        print(f"wrote the files in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "spendkoll.loaders.register", "--bench-load", str(root)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - t
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result: dict[str, object] = {
        "bolagsverket_rows": bv_rows,
        "scb_rows": scb_rows,
        "file_bytes": {p.name: p.stat().st_size for p in sorted(files.glob("*.txt"))},
        "files": json.loads(proc.stdout.strip().splitlines()[-1]),
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak_kib / 1024),
        "duckdb_memory_limit": settings().duckdb_memory_limit,
    }
    (root / "register_bench.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spendkoll.loaders.register",
        description="Benchmark the supplier-register loaders on full-size synthetic files.",
    )
    parser.add_argument(
        "--bench", metavar="DIR", type=Path, help="write the files in DIR/files and load them"
    )
    parser.add_argument("--bolagsverket-rows", type=int, default=BENCH_BOLAGSVERKET_ROWS)
    parser.add_argument("--scb-rows", type=int, default=BENCH_SCB_ROWS)
    parser.add_argument("--bench-load", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bench_load:
        _bench_load(args.bench_load.resolve())
        return 0
    if not args.bench:
        parser.error("--bench DIR is required")
    result = bench(args.bench.resolve(), args.bolagsverket_rows, args.scb_rows)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
