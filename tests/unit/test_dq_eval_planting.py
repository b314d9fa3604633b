"""`spendkoll dq-eval`: the planting functions and the scoring arithmetic (no warehouse).

The planting runs on the committed 200-row sample of Örebro kommun's file
(tests/fixtures/orebro/), so these tests need neither shared/ nor dbt."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import FIXTURES
from stdnum.se import orgnr, personnummer

from spendkoll.quality import evaluation as ev

SAMPLE = FIXTURES / "orebro" / "leverantorsfakturor_2016-03_first200.csv"
RULES = ev.load_account_rules("kommun_bas")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


@pytest.mark.parametrize("valid", ["232100-0164", "556036-0793", "5560129206", "802000-0000"])
def test_invalid_org_numbers_fail_the_check(valid):
    if not orgnr.is_valid(valid):  # 802000-0000: make the example valid first
        valid = valid[:-1] + next(d for d in "0123456789" if orgnr.is_valid(valid[:-1] + d))
    rng = random.Random(7)
    for _ in range(300):
        bad = ev.invalid_orgnr(valid, rng)
        assert bad != valid
        assert not orgnr.is_valid(bad)
        assert not personnummer.is_valid(bad)  # never a sole trader's number either
        assert int(bad.replace("-", "")[2]) >= 2
        assert not ev.valid_orgnr(bad)
        assert ("-" in bad) == ("-" in valid)


def test_unknown_accounts_match_no_kommun_bas_rule():
    rng = random.Random(3)
    used = {"64400", "46362", "40233"}
    for account in ["64400", "46362", "40233", "74500", "57100"] * 40:
        new = ev.unknown_account(account, rng, RULES, used)
        assert RULES.match(new) is None, new
        assert new not in used and new.isdigit() and 4 <= len(new) <= 6
        assert not new.startswith("0")


def test_account_rules_longest_prefix_wins():
    assert RULES.match("40233") == ("investment", "INV-INV")
    assert RULES.match("40300") == ("investment", "INV-BY")
    assert RULES.match("64400") == ("addressable", "LI-LI")
    assert RULES.match("64501") == ("addressable", "VM-HM")
    assert RULES.match("67100") is None


@pytest.mark.parametrize("rate", [Decimal(6), Decimal(12), Decimal(25)])
def test_off_rate_vat_is_at_least_a_point_from_every_swedish_rate(rate):
    rng = random.Random(11)
    for _ in range(200):
        amount = Decimal(rng.randint(1_000, 5_000_000)) / 100 * rng.choice([1, -1])
        vat, _how = ev.off_rate_vat(amount, rate, rng)
        implied = vat / amount * 100
        assert all(abs(implied - legal) >= 1 for legal in (0, 6, 12, 25)), (amount, vat)
        assert ev.is_off_rate(amount, vat)
    assert not ev.is_off_rate(Decimal("100"), Decimal("25"))
    assert not ev.is_off_rate(Decimal("100.03"), ev.vat_at(Decimal("100.03"), Decimal(12)))


def test_plausible_vat_rates():
    assert ev.plausible_vat_rate("64400", "556036-0793") == 12
    assert ev.plausible_vat_rate("64301", "556036-0793") == 6
    assert ev.plausible_vat_rate("70500", "556036-0793") == 6
    assert ev.plausible_vat_rate("74500", "556036-0793") == 25
    assert ev.plausible_vat_rate("74500", "232100-0164") == 0  # public body
    assert ev.plausible_vat_rate("74500", "DK78479310") == 0  # reverse charge
    assert ev.plausible_vat_rate("45200", "556036-0793") == 0  # grant


def test_investment_amounts_vary_within_the_range():
    rng = random.Random(5)
    amounts = {ev.investment_amount(rng) for _ in range(200)}
    assert len(amounts) > 150
    assert all(Decimal(150_000) <= a <= Decimal(2_000_000) for a in amounts)


def planted(tmp_path: Path, variant: str, seed: int, n: int = 3) -> tuple[ev.Planting, Path]:
    p = ev.plant(SAMPLE, variant, seed, n, rules=RULES)
    return p, ev.write_planted(p, tmp_path / f"{variant}-{seed}")


@pytest.mark.parametrize("variant", ["mapped", "spec"])
def test_counts_truth_and_one_planting_per_line(tmp_path, variant):
    p, path = planted(tmp_path, variant, 1)
    assert p.planted_counts() == {f: 3 for f in p.families}
    real = ev.read_real_file(SAMPLE)
    touched = [ln.origin for ln in p.lines if ln.family and ln.copy_group is None]
    assert len(touched) == len(set(touched))  # never two plantings on one line
    partners = {ln.origin for ln in p.lines if ln.partner}
    assert not partners & set(touched)
    assert all(p.lines[o].partner for o in {ln.origin for ln in p.lines if ln.copy_group})
    file_rows = rows(path)
    assert len(file_rows) == len(p.lines) == len(real) + (6 if variant == "spec" else 0)
    truth = p.truth()
    assert sorted(truth) == list(range(2, len(file_rows) + 2))
    if variant == "mapped":
        with SAMPLE.open(encoding="utf-8") as f:
            original = f.read().splitlines()
        with path.open(encoding="utf-8") as f:
            written = f.read().splitlines()
        for line, family in truth.items():  # untouched lines are the real lines, byte for byte
            assert (written[line - 1] == original[line - 1]) == (family is None), line
    else:
        for line, family in truth.items():
            ln, row = p.lines[line - 2], file_rows[line - 2]
            assert row["konto_nr"] == ln.account and row["leverantor_id"] == ln.supplier_id
            if family is None and not ln.partner:
                r = real[line - 2]
                assert (row["leverantor_id"], row["fakturanummer"], row["konto_nr"]) == (
                    r.supplier_id,
                    r.invoice_number,
                    r.account,
                )
                assert Decimal(row["nettobelopp"].replace(",", ".")) == r.amount


def test_the_planted_values_are_what_the_truth_says(tmp_path):
    p, path = planted(tmp_path, "spec", 2)
    file_rows = rows(path)
    real = ev.read_real_file(SAMPLE)
    for i, ln in enumerate(p.lines):
        row = file_rows[i]
        if ln.family == "unknown_account":
            assert RULES.match(row["konto_nr"]) is None and row["konto_text"] == ""
        elif ln.family == "invalid_supplier_id":
            assert not orgnr.is_valid(row["leverantor_id"])
            assert orgnr.is_valid(real[i].supplier_id)
        elif ln.family == "category_deviation":
            assert RULES.category(row["konto_nr"]) != RULES.category(real[i].account)
        elif ln.family == "operating_as_investment":
            assert RULES.spend_class(row["konto_nr"]) == "investment"
            assert RULES.spend_class(real[i].account) == "addressable"
        elif ln.family == "investment_as_operating":
            amount = Decimal(row["nettobelopp"].replace(",", "."))
            assert 150_000 <= amount <= 2_000_000
            assert RULES.spend_class(row["konto_nr"]) == "addressable"
        elif ln.family == "public_supplier_external_account":
            assert ev.is_public_body(row["leverantor_id"])
            assert not ev.is_public_body(real[i].supplier_id)
        elif ln.family == "vat_off_rate":
            net = Decimal(row["nettobelopp"].replace(",", "."))
            assert ev.is_off_rate(net, Decimal(row["moms"].replace(",", ".")))
        elif ln.family in ("duplicate_invoice", "near_duplicate"):
            orig = file_rows[ln.origin]
            assert (row["leverantor_id"], row["nettobelopp"], row["konto_nr"]) == (
                orig["leverantor_id"],
                orig["nettobelopp"],
                orig["konto_nr"],
            )
            assert row["verifikationsnummer"] != orig["verifikationsnummer"]
            assert row["bokforingsdatum"] != orig["bokforingsdatum"]
            same_number = row["fakturanummer"] == orig["fakturanummer"]
            assert same_number == (ln.family == "duplicate_invoice")
        if ln.family != "vat_off_rate":  # every other line carries VAT at a Swedish rate
            net = Decimal(row["nettobelopp"].replace(",", "."))
            rate = ev.plausible_vat_rate(row["konto_nr"], row["leverantor_id"])
            assert Decimal(row["moms"].replace(",", ".")) == ev.vat_at(net, rate)


def test_spec_rewrite_has_one_voucher_and_one_date_per_invoice(tmp_path):
    p, path = planted(tmp_path, "spec", 4)
    file_rows = rows(path)
    assert list(file_rows[0]) == ev.SPEC_HEADER
    per_invoice: dict[tuple[str, ...], set[tuple[str, str]]] = defaultdict(set)
    per_voucher: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ln, row in zip(p.lines, file_rows, strict=True):
        group = (str(ln.copy_group),) if ln.copy_group else ()
        per_invoice[(*group, row["leverantor"], row["fakturanummer"])].add(
            (row["verifikationsnummer"], row["bokforingsdatum"])
        )
        per_voucher[row["verifikationsnummer"]].add((row["leverantor"], row["fakturanummer"]))
        assert row["bokforingsdatum"][:7] == "2016-03" or ln.copy_group
    assert all(len(v) == 1 for v in per_invoice.values())
    assert all(len(v) == 1 for v in per_voucher.values())
    # vouchers are numbered in date order, from 1 without gaps
    first = sorted({next(iter(v)) for v in per_invoice.values()}, key=lambda vd: int(vd[0]))
    assert [int(v) for v, _ in first] == list(range(1, len(first) + 1))
    assert [d for _, d in first] == sorted(d for _, d in first)
    # dates spread over the weekdays of the month
    march = {d for _, d in first if d.startswith("2016-03")}
    assert len(march) > 10


def test_reproducible_per_seed(tmp_path):
    for variant in ("mapped", "spec"):
        _, a = planted(tmp_path / "a", variant, 9)
        _, b = planted(tmp_path / "b", variant, 9)
        _, c = planted(tmp_path / "c", variant, 10)
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()
    # the families both variants have are planted on the same lines
    m = {ln.origin: ln.family for ln in ev.plant(SAMPLE, "mapped", 9, 3, rules=RULES).lines}
    s = {
        ln.origin: ln.family
        for ln in ev.plant(SAMPLE, "spec", 9, 3, rules=RULES).lines
        if ln.copy_group is None
    }
    assert {o: f for o, f in s.items() if f in ev.LINE_FAMILIES} == {
        o: f for o, f in m.items() if f
    }


def test_scoring_arithmetic_on_a_hand_built_case():
    truth = {
        2: "unknown_account",
        3: "unknown_account",
        4: "duplicate_invoice",
        5: None,
        6: None,
        7: None,
        8: None,
        9: None,
    }
    partners = {9}
    flags = {
        2: [("DQ01", "warning"), ("DQ02", "warning")],  # caught
        3: [("DQ03", "info")],  # info only: not caught
        4: [("DQ07", "blocking")],  # caught
        5: [("DQ02", "warning")],  # untouched on the list
        6: [("DQ03", "info")],  # untouched, info only
        9: [("DQ07", "warning")],  # a partner: neither planted nor untouched
        99: [("DQ01", "warning")],  # not a line of the file: ignored
    }
    s = ev.score(
        truth,
        flags,
        partners,
        on_list={2, 5, 9},
        eligible={"unknown_account": 10, "duplicate_invoice": 5},
        families=["unknown_account", "duplicate_invoice", "vat_off_rate"],
    )
    ua, dup, vat = (s.families[f] for f in ("unknown_account", "duplicate_invoice", "vat_off_rate"))
    assert (ua.planted, ua.caught, ua.recall, ua.eligible) == (2, 1, 0.5, 10)
    assert ua.by_rule == {"DQ01": 1, "DQ02": 1, "DQ03": 1}
    assert (dup.planted, dup.caught, dup.recall, dup.by_rule) == (1, 1, 1.0, {"DQ07": 1})
    assert (vat.planted, vat.recall) == (0, None)
    assert (s.planted, s.caught) == (3, 2) and s.recall == pytest.approx(2 / 3)
    assert s.untouched == 4 and s.untouched_listed == 1 and s.list_share == 0.25
    assert s.untouched_by_rule == {"DQ02": 1, "DQ03": 1}
    assert s.untouched_by_severity == {"info": 1, "warning": 1}
    assert s.rule_share("DQ02") == 0.25 and s.rule_share("DQ07") == 0
    assert (s.partners, s.partners_listed) == (1, 1)
    assert s.untouched_on_list == 1 and s.on_list_share == 0.25
    assert (ua.on_list, dup.on_list) == (1, 0) and s.recall_on_list == pytest.approx(1 / 3)
    checks = {c.name: c.ok for c in ev.target_checks(s)}
    assert checks["recall overall"] is False
    assert checks["recall duplicate_invoice"] is True
    assert checks["untouched lines flagged by DQ02"] is False
    assert "untouched lines flagged by DQ03" not in checks  # info rules are not on the list
    # without marts.dq_accounting_list nothing about on_list is claimed
    s2 = ev.score(truth, flags, partners)
    assert s2.untouched_on_list is None and s2.recall_on_list is None
    # pooling two runs adds the counts
    both = ev.pool([s, s])
    assert (both.planted, both.caught, both.untouched, both.untouched_listed) == (6, 4, 8, 2)
    assert both.families["unknown_account"].by_rule["DQ01"] == 2
    assert both.recall == s.recall and both.list_share == s.list_share
