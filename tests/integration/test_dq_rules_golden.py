"""Golden cases of the invoice rule catalogue (dbt model marts.dq_invoice_exceptions)
with the rules together on one warehouse.

tests/fixtures/dq/ledger_2024.csv: 75 hand-made lines; each line's description
says which rule must fire on it, or must not. Each rule alone has its own
folder in tests/fixtures/dq_rules/ (test_dq_rule_fixtures.py); here the rules
share the supplier, account and invoice profiles, so a case of one rule is
profile for another. Thresholds are the seed's (dbt_project/seeds/dq_rules.csv,
column thresholds). The expected set, worked out by hand:

  P11 DQ02  Papper AB 14 lines, KA-KO 13/14 = 0.93 >= 0.5, VM-MF 1 line, account 4110
            once; of the 8 suppliers with 5+ lines and KA-KO dominant (Papper,
            Kvalitet, Rörliga, Utrustning, K1-K4) only Papper has VM-MF: 1/8 <= 0.2
  Q10 --    Kvalitet AB freight (TR-TR): 3 of the 8 (Kvalitet, K1, K2) have freight
            = 0.375 > category_affinity_max 0.2; the same for K15, K25
  U03 DQ02  Utrustning AB 12 lines, KA-KO 11/12 = 0.92, INV-INV 1 line, 1220 once,
            affinity 1/8 (DQ02 and DQ05 agree on the same line)
  U03 DQ05  5000 < 28650 on 1220, 12 lines >= 5, investment share 1/12 = 0.083 <= 0.1
  T03 DQ04  150000 >= 100000 on 4130, Teknikinvest investment share 2/3 >= 0.15
  R04 DQ14  150000: Rörliga AB 5 lines < min_history 8 -> account 6410, 63 lines >= 30,
            median 1150, MAD of the logs 0.338 -> spread 0.50, z = ln(130)/0.50 = 9.7
            >= 3.5; not DQ04 (Rörliga has no investment lines)
  V01 DQ06  public body on 6410: 63 lines >= 20, public 1/63 = 0.016 <= 0.05
  V02 --    public body on 4990: internal by the account
  P12 DQ07  invoice P-1 (1001.00, P01) again on voucher P12, the same line
  P13 --    two equal lines of one invoice on one voucher: one posting
  R02 DQ08  R-2401 and R-2402 both one line of 1234.00, 4 days apart, similarity 0.93,
            2 invoices of 1234 <= 2
  R06 --    R-2403 and R-2406 both 1500.00, 36 days apart > window_days 21
  R02 DQ12  222.12 on 1234.00 = 18 %, 74.04 off 12 %
  Z01 DQ12  360.00 on 2000.00 = 18 % (a sole trader: no personnummer in the marts)
  S02 DQ03  contract AVT-S covers office supplies, the line is consultants
  S03 DQ13  AVT-S ended 2024-03-31, the line is 2024-04-10
  Y01 DQ01  account 9999 has no rule
  X01 DQ09, X02 DQ11 (GmbH), X04 DQ10 (Luhn); X03 has a valid Danish VAT id
"""

from __future__ import annotations

import csv
import re

import duckdb
import pytest
from conftest import ROOT, build_fixture_warehouse

from spendkoll.paths import DataDir

pytestmark = pytest.mark.slow

EXPECTED = {
    ("P11", "DQ02"),
    ("U03", "DQ02"),
    ("P12", "DQ07"),
    ("R02", "DQ08"),
    ("R02", "DQ12"),
    ("Z01", "DQ12"),
    ("Y01", "DQ01"),
    ("S02", "DQ03"),
    ("S03", "DQ13"),
    ("T03", "DQ04"),
    ("U03", "DQ05"),
    ("V01", "DQ06"),
    ("X01", "DQ09"),
    ("X02", "DQ11"),
    ("X04", "DQ10"),
    ("R04", "DQ14"),
}


# rules that read the supplier register (issue 17): silent without register rows
REGISTER_RULES = {"DQ15", "DQ16", "DQ17"}


def seed_rules() -> dict[str, dict[str, str]]:
    with (ROOT / "dbt_project" / "seeds" / "dq_rules.csv").open(encoding="utf-8", newline="") as f:
        return {r["rule_id"]: r for r in csv.DictReader(f)}


def template_pattern(template: str) -> re.Pattern[str]:
    """A seed template as a pattern: the text as written, any {placeholder} filled."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile("(?s)" + "(.+?)".join(re.escape(p) for p in parts))


@pytest.fixture(scope="module")
def dq(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    data = DataDir(tmp_path_factory.mktemp("dq") / "var").ensure()
    build_fixture_warehouse(data, "dq")
    con = duckdb.connect(str(data.warehouse), read_only=True)
    yield con
    con.close()


def test_each_rule_fires_on_its_case_and_nowhere_else(dq):
    got = set(
        dq.execute("select verification_id, rule_id from marts.dq_invoice_exceptions").fetchall()
    )
    assert got == EXPECTED, (
        f"unexpected: {sorted(got - EXPECTED)}, missing: {sorted(EXPECTED - got)}"
    )
    # every enabled rule of the catalogue has its firing case here, but the rules on
    # the supplier register: this fixture has no register rows, so they must not fire
    # (their cases: tests/fixtures/dq_rules/DQ15..DQ17, and the golden_register build
    # of test_kpi_golden.py)
    enabled = {r for r, row in seed_rules().items() if row["enabled"] == "true"}
    assert {r for _, r in EXPECTED} == enabled - REGISTER_RULES


def test_suggestions_and_explanations(dq):
    rows = {
        (v, r): (acc, cat, sv, en, sev, f, line)
        for v, r, acc, cat, sv, en, sev, f, line in dq.execute("""select verification_id, rule_id, suggested_account,
                                 suggested_category_id, explanation_sv, explanation_en, severity,
                                 source_file, source_line
                          from marts.dq_invoice_exceptions""").fetchall()
    }
    # dominant category: Papper AB is office supplies (6410, KA-KO)
    assert rows[("P11", "DQ02")][:2] == ("6410", "KA-KO")
    assert "14 rader" in rows[("P11", "DQ02")][2] and "14 lines" in rows[("P11", "DQ02")][3]
    # contract covers office supplies
    assert rows[("S02", "DQ03")][1] == "KA-KO" and "AVT-S" in rows[("S02", "DQ03")][2]
    # investment supplier's investment account; operating supplier's operating account
    assert rows[("T03", "DQ04")][:2] == ("1220", "INV-INV")
    assert rows[("U03", "DQ05")][:2] == ("6410", "KA-KO")
    # two rules on one line agree
    assert rows[("U03", "DQ02")][:2] == ("6410", "KA-KO")
    # public body: the internal account of the rule set
    assert rows[("V01", "DQ06")][:2] == ("4990", "IN-IK")
    assert "where 1.6 % of 63 lines are public-sector suppliers" in rows[("V01", "DQ06")][3]
    assert "18.0 %" in rows[("R02", "DQ12")][2]
    assert "R-2401" in rows[("R02", "DQ08")][3] and "4 days apart" in rows[("R02", "DQ08")][3]
    assert "2024-03-31" in rows[("S03", "DQ13")][3]
    assert "P01" in rows[("P12", "DQ07")][3]
    assert "account's lines" in rows[("R04", "DQ14")][3]
    assert "median is SEK 1150" in rows[("R04", "DQ14")][3]
    # severity from the dq_rules seed; the controller finds the line in the delivered file
    seed = seed_rules()
    assert all(v[4] == seed[k[1]]["severity"] for k, v in rows.items())
    assert rows[("S02", "DQ03")][4] == rows[("S03", "DQ13")][4] == "info"
    assert rows[("P12", "DQ07")][5:] == ("ledger_2024.csv", 13)


def test_explanations_are_the_seeds_templates_filled(dq):
    seed = seed_rules()
    for rule_id, name, sv, en in dq.execute(
        "select rule_id, rule_name, explanation_sv, explanation_en from marts.dq_invoice_exceptions"
    ).fetchall():
        assert name == seed[rule_id]["rule_name"]
        for text, column in ((sv, "explanation_sv"), (en, "explanation_en")):
            assert template_pattern(seed[rule_id][column]).fullmatch(text), (rule_id, text)
            assert "{" not in text and "}" not in text, (rule_id, text)


def test_exception_ids_scores_and_impact(dq):
    rows = dq.execute("""select verification_id, rule_id, exception_id, score, amount_at_stake,
                                impact, amount
                         from marts.dq_invoice_exceptions""").fetchall()
    ids: dict[str, set[str]] = {}
    for v, rule, eid, score, at_stake, impact, amount in rows:
        # a line-level id: E and 16 hex digits, shared by every rule on the line
        assert re.fullmatch(r"E[0-9a-f]{16}", eid), eid
        ids.setdefault(v, set()).add(eid)
        assert 0 < score <= 1, (v, rule, score)
        assert float(impact) == pytest.approx(score * float(at_stake), abs=0.006), (
            v,
            rule,
            score,
            at_stake,
            impact,
        )
        if rule != "DQ12":  # DQ12: the distance to the nearest VAT rate
            assert at_stake == abs(amount), (v, rule, at_stake, amount)
    assert all(len(e) == 1 for e in ids.values()), ids
    assert len({next(iter(e)) for e in ids.values()}) == len(ids)
    # two rules on one line, one exception id
    both = {r: e for v, r, e, *_ in rows if v == "U03"}
    assert set(both) == {"DQ02", "DQ05"} and len(set(both.values())) == 1
    by_key = {(v, r): (s, a) for v, r, _e, s, a, *_ in rows}
    assert by_key[("P12", "DQ07")][0] == 1.0  # re-posted with the same lines
    assert float(by_key[("R02", "DQ12")][1]) == pytest.approx(74.04)  # 222.12 vs 12 % = 148.08


def test_no_personnummer_in_the_exceptions(dq):
    rows = dq.execute("select * from marts.dq_invoice_exceptions").fetchall()
    text = " ".join(str(c) for row in rows for c in row)
    # the sole trader's line is there (Z01, DQ12), under a pseudonym
    assert (
        dq.execute(
            "select count(*) from marts.dq_invoice_exceptions "
            "where verification_id = 'Z01' and supplier_key like 'PNR-%'"
        ).fetchone()[0]
        == 1
    )
    assert "811218" not in text and "Anna Berg" not in text
