"""Personnummer in free text: found in every written form and masked before
any text is stored, logged or reported.

A personnummer (or samordningsnummer, day + 60) can hide in any field a person
typed: a supplier name ("Anna Berg 811218-9876"), an invoice description, a
contract title, a value the loader quarantines, a rejection reason. The forms
met: 10 or 12 digits, with ``-``, ``+`` (over 100 years old), a space or
nothing between the date and the last four digits. The check digit (Luhn) and
the date decide: an invoice number that only looks like one is kept.

:func:`mask_personnummer` replaces each one with the supplier pseudonym
(``PNR-`` + keyed hash, as for supplier ids) when a key is given, so a masked
name still links to the supplier, or with ``[personnummer]`` where no key is at
hand (logs, alerts). :data:`SQL_CANDIDATE` is the DuckDB regular expression
that finds the rows worth looking at, so millions of rows are scanned in SQL
and only the few candidates in Python.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from spendkoll.ids import _century_for, _valid_birth_date, luhn_ok, pseudonymise

MASK = "[personnummer]"

# (century)(YYMMDD)(separator)(NNNC), not inside a longer run of digits
_PATTERN = re.compile(r"(?<!\d)(19|20)?(\d{6})([-+ ]?)(\d{4})(?!\d)")

# Rows that may hold one (a superset: the Python check decides).
SQL_CANDIDATE = r"(^|[^0-9])(19|20)?[0-9]{6}[-+ ]?[0-9]{4}([^0-9]|$)"


def _is_personnummer(century: str | None, yymmdd: str, last4: str) -> bool:
    if not luhn_ok(yymmdd + last4):
        return False
    return _valid_birth_date(yymmdd, int(century) if century else None)


def find_personnummer(text: str) -> list[str]:
    """The personnummer written in ``text``, as written."""
    return [
        m.group(0)
        for m in _PATTERN.finditer(text)
        if _is_personnummer(m.group(1), m.group(2), m.group(4))
    ]


def mask_personnummer(text: str, key: bytes | None = None, today: date | None = None) -> str:
    """``text`` with every personnummer replaced by its pseudonym (with ``key``) or
    by ``[personnummer]``."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    today = today or date.today()

    def replace(m: re.Match[str]) -> str:
        century, yymmdd, sep, last4 = m.group(1), m.group(2), m.group(3), m.group(4)
        if not _is_personnummer(century, yymmdd, last4):
            # a 12-digit run whose first two digits are not a century may still
            # hold a 10-digit personnummer after them: leave it (not one)
            return m.group(0)
        if key is None:
            return MASK
        full = century or str(_century_for(yymmdd, sep == "+", today))
        return pseudonymise(f"{full}{yymmdd}{last4}", key)

    return _PATTERN.sub(replace, text)


_NUMBER_RUN = re.compile(r"(?<!\d)(?:19|20)?\d{6}[-+ ]?\d{4}(?!\d)")
HIDDEN = "<hidden number>"


def hide_numbers(text: str | None) -> str | None:
    """For messages and broken values (quarantine, rejection reasons, alerts):
    every personnummer masked, and every other run shaped like one hidden too
    (a broken value may be a personnummer with a typo)."""
    if text is None:
        return None
    return _NUMBER_RUN.sub(HIDDEN, mask_personnummer(text))


_installed = False


def install_log_masking() -> None:
    """Mask personnummer in every log record this process creates, whichever
    logger writes it (spendkoll's, Airflow's task log, dbt's): the message is
    formatted and masked when the record is made. Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string stays as it is
            return record
        if any(ch.isdigit() for ch in message):
            masked = mask_personnummer(message)
            if masked != message:
                record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
