"""The controller's decision values, exception ids and dates as the decisions loader
reads them (spendkoll.loaders.decisions), and the source config of the kind."""

from __future__ import annotations

import datetime as dt

import pytest

from spendkoll.errors import ConfigError
from spendkoll.loaders.decisions import parse_date, parse_decision, parse_exception_id
from spendkoll.sources import parse_source


@pytest.mark.parametrize(
    ("written", "decision"),
    [
        ("confirmed", "confirmed"),
        ("Confirmed", "confirmed"),
        ("  CONFIRMED ", "confirmed"),
        ("bekräftad", "confirmed"),
        ("Bekräftad", "confirmed"),
        ("BEKRÄFTAD", "confirmed"),
        ("felkonterad", "confirmed"),
        ("Felkonterad", "confirmed"),
        ("dismissed", "dismissed"),
        ("false alarm", "dismissed"),
        ("False  Alarm", "dismissed"),
        ("false-alarm", "dismissed"),
        ("false_alarm", "dismissed"),
        ("falsklarm", "dismissed"),
        ("Falsklarm", "dismissed"),
        ("ej fel", "dismissed"),
        ("Ej fel", "dismissed"),
        ("EJ FEL", "dismissed"),
        ("corrected", "corrected"),
        ("rättad", "corrected"),
        ("Rättad", "corrected"),
        ("RÄTTAD", "corrected"),
        ("korrigerad", "corrected"),
        ("Korrigerad", "corrected"),
        # decomposed å/ä/ö (macOS, some exports) read as the composed letters
        ("ra\u0308ttad", "corrected"),
        ("bekra\u0308ftad", "confirmed"),
    ],
)
def test_accepted_decision_words(written, decision):
    assert parse_decision(written) == decision


@pytest.mark.parametrize("empty", [None, "", "   ", "\t"])
def test_an_empty_cell_is_no_decision(empty):
    assert parse_decision(empty) is None


@pytest.mark.parametrize(
    "bad",
    [
        "kanske",
        "ok",
        "ja",
        "confirm",
        "bekräfta",
        "rättat",
        "false",
        "fel",
        "dismissed!",
        "-",
        "0",
        "1",
    ],
)
def test_other_words_are_refused_naming_the_accepted_ones(bad):
    with pytest.raises(ValueError) as exc:
        parse_decision(bad)
    message = str(exc.value)
    for word in (
        "confirmed",
        "bekräftad",
        "felkonterad",
        "dismissed",
        "false alarm",
        "falsklarm",
        "ej fel",
        "corrected",
        "rättad",
        "korrigerad",
    ):
        assert word in message


def test_exception_ids_in_their_canonical_form():
    assert parse_exception_id("E0123456789abcdef") == "E0123456789abcdef"
    assert parse_exception_id(" e0123456789ABCDEF ") == "E0123456789abcdef"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "E123",
        "E0123456789abcdeg",
        "0123456789abcdef",
        "E0123456789abcdef0",
        "X0123456789abcdef",
        "E 0123456789abcdef",
        "DQ02:ledger:1:12",
    ],
)
def test_malformed_exception_ids(bad):
    with pytest.raises(ValueError, match="E and 16 hexadecimal digits"):
        parse_exception_id(bad)


def test_dates():
    assert parse_date(None) is None and parse_date("  ") is None
    assert parse_date("2025-03-04") == dt.date(2025, 3, 4)
    assert parse_date("20250304") == dt.date(2025, 3, 4)
    assert parse_date("04.03.2025") == dt.date(2025, 3, 4)
    assert parse_date("04/03/2025") == dt.date(2025, 3, 4)
    assert parse_date(dt.datetime(2025, 3, 4, 0, 0)) == dt.date(2025, 3, 4)  # an Excel date
    assert parse_date("04-03-2025", "%d-%m-%Y") == dt.date(2025, 3, 4)
    with pytest.raises(ValueError, match="expected a date"):
        parse_date("2025-13-01")
    with pytest.raises(ValueError, match="expected a date as %d-%m-%Y"):
        parse_date("2025-03-04", "%d-%m-%Y")


def test_the_source_kind_in_a_sources_file():
    cfg = parse_source(
        {
            "name": "beslut",
            "kind": "dq_decisions",
            "format": "dq_decisions",
            "pattern": "*.xlsx",
            "columns": {"decision": "Åtgärd"},
        },
        "test",
    )
    assert (cfg.kind, cfg.replace, cfg.columns["decision"].column) == (
        "dq_decisions",
        "none",
        "Åtgärd",
    )
    # the kind follows from the format
    assert parse_source({"name": "beslut", "format": "dq_decisions"}, "t").kind == "dq_decisions"
    with pytest.raises(ConfigError, match="never replaced"):
        parse_source({"name": "beslut", "format": "dq_decisions", "replace": "file"}, "t")
    with pytest.raises(ConfigError, match="not a dq_decisions field"):
        parse_source(
            {"name": "beslut", "format": "dq_decisions", "columns": {"amount": "belopp"}}, "t"
        )
    with pytest.raises(ConfigError, match="format 'dq_decisions'"):
        parse_source({"name": "beslut", "kind": "dq_decisions", "format": "canonical"}, "t")
