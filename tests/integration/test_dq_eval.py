"""`spendkoll dq-eval` end to end on the real Örebro file: one seed, both variants.

The planted file goes through the real load and `dbt build` (kommun_bas). The
test checks the planting and the mapping back to the truth, not the rules'
recall or flag rate: the rules are being reworked, and the targets are what
`spendkoll dq-eval` reports (the scoring arithmetic is unit-tested in
tests/unit/test_dq_eval_planting.py)."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import pytest
from conftest import shared_file

from spendkoll.paths import DataDir
from spendkoll.quality import evaluation as ev

pytestmark = pytest.mark.slow

PER_FAMILY = 25
SEED = 1


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ev.RunResult]:
    real_file = shared_file(*ev.REAL_FILE_PARTS[2:])
    work = tmp_path_factory.mktemp("dq-eval")
    out = {}
    for variant in ev.VARIANTS:
        t = time.perf_counter()
        out[variant] = ev.evaluate_one(real_file, variant, SEED, PER_FAMILY, work_dir=work)
        print(
            f"dq-eval {variant} seed {SEED}: {time.perf_counter() - t:.1f}s {out[variant].seconds}"
        )
    return out


@pytest.mark.parametrize("variant", ev.VARIANTS)
def test_every_line_of_the_planted_file_is_in_fct_spend(runs, variant):
    r = runs[variant]
    assert r.dbt_ok, r.notes
    assert r.planting is not None and r.data_root is not None
    loaded, _flags, _on_list = ev.read_results(DataDir(r.data_root), r.file_name)
    truth = r.planting.truth()
    assert set(loaded) == set(truth)  # nothing planted was quarantined, nothing else loaded
    assert len(truth) == 68_021 + (2 * PER_FAMILY if variant == "spec" else 0)


@pytest.mark.parametrize("variant", ev.VARIANTS)
def test_planted_counts_per_family_are_what_was_planted(runs, variant):
    r = runs[variant]
    assert r.planting is not None
    families = ev.FAMILIES if variant == "spec" else ev.LINE_FAMILIES
    assert r.planted_counts == {f: PER_FAMILY for f in families}
    assert {f: fs.planted for f, fs in r.score.families.items()} == r.planted_counts
    truth = r.planting.truth()
    assert Counter(f for f in truth.values() if f) == Counter(r.planted_counts)
    # untouched lines are the rest
    partners = r.planting.partners()
    assert r.score.partners == len(partners)
    assert r.score.untouched == len(truth) - sum(r.planted_counts.values()) - len(partners)
    if variant == "spec":  # the originals of the 2 x PER_FAMILY copied lines
        assert len(partners) == 2 * PER_FAMILY
    assert all(0 <= fs.caught <= fs.planted for fs in r.score.families.values())
    assert r.score.untouched_listed <= r.score.untouched


@pytest.mark.parametrize("variant", ev.VARIANTS)
def test_the_truth_maps_exactly_to_the_loaded_lines(runs, variant):
    r = runs[variant]
    assert r.planting is not None and r.data_root is not None
    loaded, _, _ = ev.read_results(DataDir(r.data_root), r.file_name)
    real = ev.read_real_file(r.planting.real_file)
    rules = ev.load_account_rules()
    seen: Counter[str] = Counter()
    for i, ln in enumerate(r.planting.lines):
        row = loaded[r.planting.source_line(i)]
        seen[ln.family or ("partner" if ln.partner else "untouched")] += 1
        assert row["account"] == ln.account
        assert Decimal(row["amount"]) == ln.amount
        assert row["invoice_number"] == ln.invoice_number
        if ln.family is None and not ln.partner:  # an untouched line is the real line
            orig = real[i]
            assert (row["account"], Decimal(row["amount"]), row["invoice_number"]) == (
                orig.account,
                orig.amount,
                orig.invoice_number,
            )
        if variant == "spec":
            assert row["posting_date"] == ln.posting_date
            assert row["verification_id"] == ln.voucher
            assert Decimal(row["vat"]) == ln.vat
        else:
            assert row["vat"] is None
        if ln.family == "unknown_account":
            assert rules.match(row["account"]) is None
            assert row["account"] != real[ln.origin].account
        elif ln.family == "invalid_supplier_id":
            assert row["supplier_id_status"] in ("invalid", "missing")
            assert row["supplier_id_raw"] in (ln.supplier_id, None)
            assert ev.valid_orgnr(real[ln.origin].supplier_id)
        elif ln.family == "public_supplier_external_account":
            assert row["supplier_id_raw"] == ln.supplier_id and ev.is_public_body(ln.supplier_id)
            assert row["supplier_id_status"] == "orgnr"
        elif ln.family == "operating_as_investment":
            assert rules.spend_class(row["account"]) == "investment"
        elif ln.family == "category_deviation":
            assert rules.category(row["account"]) != rules.category(real[ln.origin].account)
        elif ln.family == "investment_as_operating":
            assert Decimal(150_000) <= Decimal(row["amount"]) <= Decimal(2_000_000)
        elif ln.family == "vat_off_rate":
            assert ev.is_off_rate(Decimal(row["amount"]), Decimal(row["vat"]))
        elif ln.family in ("duplicate_invoice", "near_duplicate"):
            orig = loaded[r.planting.source_line(ln.origin)]
            assert orig["verification_id"] != row["verification_id"]
            assert orig["posting_date"] != row["posting_date"]
            assert (orig["invoice_number"] == row["invoice_number"]) == (
                ln.family == "duplicate_invoice"
            )
            assert orig["amount"] == row["amount"] and orig["account"] == row["account"]
    assert seen["untouched"] == r.score.untouched


def test_both_variants_plant_the_line_families_on_the_same_lines(runs):
    def where(variant: str) -> dict[int, str]:
        p = runs[variant].planting
        assert p is not None
        return {ln.origin: ln.family for ln in p.lines if ln.family in ev.LINE_FAMILIES}

    assert where("mapped") == where("spec")
