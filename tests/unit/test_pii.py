"""Personnummer in free text, in every written form, with the check digit deciding."""

from __future__ import annotations

from datetime import date

import pytest

from spendkoll.ids import classify_supplier_id
from spendkoll.pii import MASK, find_personnummer, mask_personnummer

KEY = b"test-pseudonym-key-0123456789"
TODAY = date(2026, 11, 25)
# 811218-9876: a valid personnummer (Luhn), in every form a person writes it.
FORMS = [
    "811218-9876",
    "8112189876",
    "811218 9876",
    "19811218-9876",
    "198112189876",
    "19811218 9876",
    "811218+9876",
]


@pytest.mark.parametrize("form", FORMS)
def test_every_written_form_is_found_and_masked(form: str) -> None:
    text = f"Anna Berg {form}, konsult"
    assert find_personnummer(text) == [form]
    assert mask_personnummer(text) == f"Anna Berg {MASK}, konsult"
    masked = mask_personnummer(text, KEY, TODAY)
    assert form not in masked and "PNR-" in masked


def test_pseudonym_in_text_equals_the_supplier_key() -> None:
    """A masked name links to the supplier: the same pseudonym as the supplier id."""
    key = classify_supplier_id("811218-9876", KEY, TODAY).key
    for form in ("811218-9876", "19811218-9876", "8112189876", "811218 9876"):
        assert mask_personnummer(f"x {form} y", KEY, TODAY) == f"x {key} y"


def test_samordningsnummer_is_masked() -> None:
    from stdnum import luhn

    base = "811278987"  # day 18 + 60
    number = base + luhn.calc_check_digit(base)
    text = f"Jan {number[:6]}-{number[6:]}"
    assert mask_personnummer(text) == f"Jan {MASK}"


@pytest.mark.parametrize(
    "text",
    [
        "Faktura 811218-9875",  # check digit wrong: not a personnummer
        "Org 556036-0793",  # an organisationsnummer (month 60: no date)
        "Order 1234567890123",  # a longer run of digits
        "Belopp 100000-2000",  # no valid date
        "",
    ],
)
def test_numbers_that_only_look_alike_are_kept(text: str) -> None:
    assert find_personnummer(text) == []
    assert mask_personnummer(text, KEY, TODAY) == text


def test_several_in_one_text() -> None:
    text = "811218-9876 och 19811218 9876; 556036-0793"
    assert mask_personnummer(text) == f"{MASK} och {MASK}; 556036-0793"


def test_log_records_are_masked_whichever_logger_writes_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    import spendkoll  # noqa: F401 - importing installs the masking

    with caplog.at_level(logging.INFO):
        logging.getLogger("airflow.task").info("rejected %s: line 3 %s", "x.csv", "811218-9876")
        logging.getLogger("spendkoll.loaders.run").warning("name 19811218 9876 here")
        logging.getLogger("any").info("invoice 811218-9875 is not one")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        f"rejected x.csv: line 3 {MASK}",
        f"name {MASK} here",
        "invoice 811218-9875 is not one",
    ]
