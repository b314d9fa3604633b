"""Supplier identifiers: Swedish organisationsnummer, personnummer, VAT numbers.

A supplier cell in a real export may hold an org number with or without hyphen,
its 12-digit form (``16`` in front), its VAT form (``SE`` + number + ``01``), a
sole trader's personnummer (personal data), a foreign VAT id, two numbers, or
text such as ``SAKNAS``.  :func:`classify_supplier_id` turns any of these into a
:class:`SupplierId` whose ``key`` is safe to store outside the raw layer:
personnummer are replaced by a keyed hash (HMAC-SHA256) and never kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class IdStatus(StrEnum):
    ORGNR = "orgnr"  # valid organisationsnummer (legal person)
    SOLE_TRADER = "sole_trader"  # valid personnummer, pseudonymised here
    SOLE_TRADER_MASKED = "sole_trader_masked"  # already masked upstream (PNR-<hash>)
    FOREIGN = "foreign"  # foreign VAT id: kept, not checked
    MISSING = "missing"  # empty, SAKNAS, 0000...
    INVALID = "invalid"  # present but not a valid identifier


# Statuses a data-quality report should flag: the money is kept, the id is not usable.
FLAGGED_STATUSES = frozenset({IdStatus.MISSING, IdStatus.INVALID})

LEGAL_FORMS = {
    "1": "dödsbo",
    "2": "public",  # stat, region, kommun, församling
    "3": "foreign_company",
    "5": "aktiebolag",
    "6": "enkelt_bolag",
    "7": "ekonomisk_forening",
    "8": "ideell_forening_stiftelse",
    "9": "handelsbolag",
}

_MISSING_WORDS = {
    "",
    "saknas",
    "-",
    "okänt",
    "okand",
    "okänd",
    "null",
    "none",
    "n/a",
    "na",
    "ejangivet",
    "ej_angivet",
    "uppgiftsaknas",
}
_UPSTREAM_MASK = re.compile(r"^PNR-[0-9a-fA-F]{6,64}$")
_FOREIGN_VAT = re.compile(r"^(?!SE)[A-Z]{2}[0-9A-Z+*.]{2,13}$")
_SPLIT = re.compile(r"[/,&]|\s+(?=\d)|\s+och\s+")
PSEUDONYM_PREFIX = "PNR-"


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits, as used for Swedish numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _valid_birth_date(yymmdd: str, century: int | None) -> bool:
    month = int(yymmdd[2:4])
    day = int(yymmdd[4:6])
    if day > 60:  # samordningsnummer
        day -= 60
    year = int(yymmdd[0:2])
    # Without a century any leap-year ambiguity is resolved permissively.
    years = [century * 100 + year] if century is not None else [1900 + year, 2000 + year]
    for y in years:
        try:
            date(y, month, day)
            return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True)
class SupplierId:
    """A supplier identifier as spendkoll stores it.

    ``key`` is the join key for suppliers (``NNNNNN-NNNN`` for an org number, a
    pseudonym for a sole trader, the VAT id for a foreign supplier, ``None`` when
    missing).  ``raw_safe`` is the original cell, or ``None`` when the cell held
    personal data.
    """

    key: str | None
    status: IdStatus
    legal_form: str | None = None
    note: str | None = None
    raw_safe: str | None = None

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED_STATUSES

    @property
    def is_public_sector(self) -> bool:
        return self.legal_form == "public"


def pseudonymise(personnummer12: str, key: bytes) -> str:
    """Keyed, stable pseudonym for a 12-digit personnummer (``YYYYMMDDNNNC``)."""
    if not key:
        raise ValueError("pseudonymisation key is empty")
    digest = hmac.new(key, personnummer12.encode("ascii"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:16]


def _century_for(yymmdd: str, plus: bool, today: date) -> int:
    """Century of a 10-digit personnummer: the latest one not in the future (+ = 100 years more)."""
    yy = int(yymmdd[:2])
    century = today.year // 100
    if century * 100 + yy > today.year:
        century -= 1
    if plus:
        century -= 1
    return century


def foreign_vat_ok(text: str) -> bool:
    """A foreign VAT number with a valid check (python-stdnum): an EU member state's
    (stdnum.eu.vat), Norway's MVA number, the United Kingdom's or Switzerland's."""
    from stdnum.ch import vat as ch_vat
    from stdnum.eu import vat as eu_vat
    from stdnum.gb import vat as gb_vat
    from stdnum.no import mva as no_mva

    country = text[:2]
    if country == "NO":
        return bool(no_mva.is_valid(text))
    if country == "GB":
        return bool(gb_vat.is_valid(text))
    if country == "CH":
        return bool(ch_vat.is_valid(text))
    return bool(eu_vat.is_valid(text))


def _one(cell: str, key: bytes, today: date) -> SupplierId:
    text = cell.strip().upper().replace(" ", "")
    if text.lower() in _MISSING_WORDS or set(text) <= {"0", "-"}:
        return SupplierId(None, IdStatus.MISSING, raw_safe=cell.strip() or None)
    if _UPSTREAM_MASK.match(cell.strip()):
        return SupplierId(cell.strip(), IdStatus.SOLE_TRADER_MASKED, legal_form="enskild_firma")
    if text.startswith("SE") and len(text) == 14 and text[2:].isdigit() and text.endswith("01"):
        text = text[2:12]
    plus = "+" in text
    digits = text.replace("-", "").replace("+", "")
    if digits.isdigit():
        century: int | None = None
        if len(digits) == 12:
            prefix = digits[:2]
            if prefix == "16":
                digits = digits[2:]
            elif prefix in ("18", "19", "20"):
                century = int(prefix)
                digits = digits[2:]
        if len(digits) == 10:
            if int(digits[2]) >= 2:
                if luhn_ok(digits):
                    return SupplierId(
                        f"{digits[:6]}-{digits[6:]}",
                        IdStatus.ORGNR,
                        legal_form=LEGAL_FORMS.get(digits[0]),
                        raw_safe=cell.strip(),
                    )
                return SupplierId(
                    None,
                    IdStatus.INVALID,
                    note="organisationsnummer fails the Luhn check",
                    raw_safe=cell.strip(),
                )
            if _valid_birth_date(digits[:6], century):
                c = century if century is not None else _century_for(digits[:6], plus, today)
                pnr12 = f"{c:02d}{digits}"
                if luhn_ok(digits):
                    return SupplierId(
                        pseudonymise(pnr12, key), IdStatus.SOLE_TRADER, legal_form="enskild_firma"
                    )
                # Looks like a personnummer with a typo: still personal data, never kept in clear.
                return SupplierId(
                    None,
                    IdStatus.INVALID,
                    note="personnummer-like number fails the Luhn check (value not kept)",
                )
            return SupplierId(
                None,
                IdStatus.INVALID,
                note="third digit below 2 and no valid birth date: neither an "
                "organisationsnummer nor a personnummer",
                raw_safe=_safe_text(cell),
            )
        return SupplierId(
            None,
            IdStatus.INVALID,
            note=f"expected 10 or 12 digits, found {len(digits)}",
            raw_safe=_safe_text(cell),
        )
    if _FOREIGN_VAT.match(text):
        if foreign_vat_ok(text):
            return SupplierId(text, IdStatus.FOREIGN, legal_form="foreign", raw_safe=cell.strip())
        # "EJ ANGIVET", "ABC123", a VAT number with a typo: no usable identity
        return SupplierId(
            None,
            IdStatus.MISSING,
            note="not a valid VAT number (python-stdnum: EU, Norway, United Kingdom, "
            "Switzerland); treated as missing",
            raw_safe=_safe_text(cell),
        )
    return SupplierId(
        None,
        IdStatus.INVALID,
        note="not an organisationsnummer, personnummer or VAT id",
        raw_safe=_safe_text(cell),
    )


_DIGIT_RUN = re.compile(r"\d{6}[-+]?\d{4}")


def _safe_text(cell: str) -> str | None:
    """The cell itself unless it may hide a personnummer (a 10-digit run)."""
    s = cell.strip()
    return None if _DIGIT_RUN.search(s) else (s or None)


def classify_supplier_id(cell: str | None, key: bytes, today: date | None = None) -> SupplierId:
    """Normalise and check one supplier identifier cell.

    Two numbers in one cell (``556811-9357/556168-8523``) give the first valid
    one, with a note.  ``key`` is the pseudonymisation key for personnummer.
    """
    if cell is None:
        return SupplierId(None, IdStatus.MISSING)
    today = today or date.today()
    parts = [p for p in _SPLIT.split(cell.strip()) if p and p.strip()]
    if len(parts) > 1:
        results = [_one(p, key, today) for p in parts]
        usable = [r for r in results if r.key is not None]
        if usable:
            first = usable[0]
            return SupplierId(
                first.key,
                first.status,
                first.legal_form,
                note=f"{len(parts)} identifiers in one cell; the first valid one is used",
                raw_safe=None
                if any(
                    r.status == IdStatus.SOLE_TRADER
                    or (r.status == IdStatus.INVALID and r.raw_safe is None)
                    for r in results
                )
                else cell.strip(),
            )
    return _one(cell, key, today)
