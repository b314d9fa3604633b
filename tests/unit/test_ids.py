from datetime import date

import pytest
from stdnum.se import orgnr as std_orgnr
from stdnum.se import personnummer as std_pnr

from spendkoll.ids import IdStatus, classify_supplier_id, luhn_ok, pseudonymise

KEY = b"k" * 32
TODAY = date(2026, 11, 24)


def c(cell: str | None):
    return classify_supplier_id(cell, KEY, TODAY)


@pytest.mark.parametrize(
    "cell",
    [
        "556036-0793",
        "5560360793",
        "165560360793",
        "SE556036079301",
        " 556036-0793 ",
        "SE 556036-0793 01",
    ],
)
def test_org_number_forms_give_one_key(cell):
    sid = c(cell)
    assert sid.status is IdStatus.ORGNR
    assert sid.key == "556036-0793"
    assert sid.legal_form == "aktiebolag"


def test_public_sector_supplier_is_recognised():
    # Region Örebro län, from the Örebro file.
    sid = c("232100-0164")
    assert sid.status is IdStatus.ORGNR and sid.is_public_sector


def test_luhn_failure_is_invalid_and_flagged():
    sid = c("556036-0794")
    assert sid.status is IdStatus.INVALID and sid.flagged
    assert "Luhn" in (sid.note or "")


@pytest.mark.parametrize("cell", ["", "SAKNAS", "saknas", "0000000000", "-"])
def test_missing(cell):
    sid = c(cell)
    assert sid.status is IdStatus.MISSING and sid.key is None and sid.flagged


def test_none_is_missing():
    assert c(None).status is IdStatus.MISSING


def test_personnummer_is_pseudonymised_never_kept():
    # 811218-9876 is the Skatteverket-style test number (valid Luhn).
    assert luhn_ok("8112189876")
    sid = c("811218-9876")
    assert sid.status is IdStatus.SOLE_TRADER
    assert sid.key is not None and sid.key.startswith("PNR-")
    assert "8112189876" not in sid.key and "811218" not in sid.key
    assert sid.raw_safe is None
    # Stable across forms (10 digits, 12 digits) and calls, different under another key.
    assert c("198112189876").key == sid.key == c("8112189876").key
    assert classify_supplier_id("811218-9876", b"x" * 32, TODAY).key != sid.key


def test_plus_sign_moves_century_back():
    # Born 1881: the + form and the 12-digit form with 18 are the same person.
    assert c("811218+9876").key == c("188112189876").key != c("811218-9876").key


def test_samordningsnummer_is_personal_data():
    # day + 60: 811278-xxxx; complete the Luhn digit.
    nine = "811278987"
    full = next(nine + d for d in "0123456789" if luhn_ok(nine + d))
    sid = c(full)
    assert sid.status is IdStatus.SOLE_TRADER


def test_personnummer_with_typo_is_not_kept_in_clear():
    sid = c("811218-9877")
    assert sid.status is IdStatus.INVALID
    assert sid.raw_safe is None and sid.key is None


def test_foreign_vat():
    sid = c("DK78479310")
    assert sid.status is IdStatus.FOREIGN and sid.key == "DK78479310" and not sid.flagged


def test_two_numbers_in_one_cell_take_the_first_valid():
    sid = c("556036-0794/556036-0793")
    assert sid.key == "556036-0793"
    assert "2 identifiers" in (sid.note or "")


def test_upstream_masked_sole_trader_kept_as_is():
    sid = c("PNR-aa9c999f99")
    assert sid.status is IdStatus.SOLE_TRADER_MASKED and sid.key == "PNR-aa9c999f99"


def test_text_is_invalid():
    sid = c("AB")
    assert sid.status is IdStatus.INVALID and sid.raw_safe == "AB"


def test_pseudonymise_needs_a_key():
    with pytest.raises(ValueError):
        pseudonymise("198112189876", b"")


def test_agrees_with_python_stdnum_on_generated_numbers():
    import random

    rnd = random.Random(3)
    for _ in range(2000):
        digits = "".join(str(rnd.randint(0, 9)) for _ in range(10))
        sid = c(digits)
        # stdnum checks only the Luhn digit for org numbers; the third digit >= 2
        # rule (domain brief) is what tells them from personnummer.
        if std_orgnr.is_valid(digits) and int(digits[2]) >= 2:
            assert sid.status is IdStatus.ORGNR, digits
        elif std_pnr.is_valid(digits):
            assert sid.status is IdStatus.SOLE_TRADER, digits
        elif sid.status is IdStatus.SOLE_TRADER:
            # stdnum rejects samordningsnummer (day + 60); they are personal data too.
            assert int(digits[4:6]) > 60 and luhn_ok(digits), digits
        else:
            assert sid.status is IdStatus.INVALID, digits
