"""Golden test of the KPI marts on a hand-made mini ledger (tests/fixtures/golden).

Every expected figure below was worked out by hand from the fixture files
before the KPI models existed. The working, line by line (L01..L22 are the
ledger lines in file order; their `description` names the edge case):

Line facts (spend class / category level 1 / contract flags), rule set demo_region:
  L01 A 2024-03-05  4,000 addressable Kontor  contract AVT-A starts 03-15: no contract
  L02 A 2024-03-20  6,000 addressable Kontor  AVT-A active, covers, on time; e-commerce
  L03 B 2024-03-10 12,000 addressable Konsult AVT-B active, covers, on time
  L04 C 2024-03-12 30,000 addressable Vård    AVT-C active, covers, registered 04-10: late
  L05 D 2024-03-14  8,000 addressable Kontor  AVT-D active, covers (level 1), business
  L06 D 2024-03-14  2,000 addressable Konsult AVT-D active, does not cover, business
  L07 E 2024-03-18 15,000 addressable Konsult sole trader, no contract
  L08 F 2024-03-20 50,000 internal (account 4990)
  L09 G 2024-03-25 450,000 addressable Konsult no contract
  L10 H 2024-03-28 80,000 investment
  L11 I 2024-03-29 20,000 non-addressable (grant)
  L12 - 2024-03-30    500 addressable Kontor  no supplier id
  L13 A 2024-04-02  3,000 addressable Kontor  AVT-A, covers, on time; e-commerce
  L14 A 2024-04-05   -500 addressable Kontor  credit note, AVT-A covers
  L15 B 2024-04-10  9,000 addressable Konsult AVT-B active (ends 04-15)
  L16 B 2024-04-20 11,000 addressable Konsult AVT-B ended: no contract
  L17 C 2024-04-15 25,000 addressable Vård    AVT-C, now registered: on time
  L18 G 2024-04-16 350,000 addressable Konsult no contract
  L19 F 2024-04-18  5,000 internal: public body on external account 6710
  L20 E 2024-04-22  7,000 addressable Konsult sole trader
  L21 D 2024-04-25  1,500 addressable Kontor  AVT-D
  L22 B 2024-04-30 -2,000 addressable Konsult credit on invoice B-202, no contract
Invoices (supplier + number, net of all lines): D-400 = 8,000 + 2,000 = 10,000 (not
under 10,000); B-202 = 11,000 - 2,000 = 9,000 (under); A-103 = -500 is a credit note.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import duckdb
import pytest
from conftest import KEY, build_fixture_warehouse

from spendkoll.ids import classify_supplier_id

pytestmark = pytest.mark.slow

KONTOR = "Kontor och administration"
KONSULT = "Konsulttjänster"
VARD = "Vård och medicin"
INTERNA = "Interna köp"
INV = "Investeringar"
EJ = "Ej påverkbart"


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    from spendkoll.paths import DataDir

    data = DataDir(tmp_path_factory.mktemp("golden") / "var").ensure()
    build_fixture_warehouse(data, "golden")
    con = duckdb.connect(str(data.warehouse), read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_fct_spend_flags_per_line(golden):
    got = rows(
        golden,
        """
        select source_line - 1, spend_class, category_level1, has_active_contract,
               contract_covers_category, has_on_time_active_contract,
               coalesce(matched_contract_id, '-'), coalesce(contract_procured_by, '-'),
               via_ecommerce
        from marts.fct_spend order by source_line""",
    )
    T, F = True, False
    assert got == [
        (1, "addressable", KONTOR, F, F, F, "-", "-", F),
        (2, "addressable", KONTOR, T, T, T, "AVT-A", "procurement_unit", T),
        (3, "addressable", KONSULT, T, T, T, "AVT-B", "procurement_unit", F),
        (4, "addressable", VARD, T, T, F, "AVT-C", "procurement_unit", F),
        (5, "addressable", KONTOR, T, T, T, "AVT-D", "business", F),
        (6, "addressable", KONSULT, T, F, T, "AVT-D", "business", F),
        (7, "addressable", KONSULT, F, F, F, "-", "-", F),
        (8, "internal", INTERNA, F, F, F, "-", "-", F),
        (9, "addressable", KONSULT, F, F, F, "-", "-", F),
        (10, "investment", INV, F, F, F, "-", "-", F),
        (11, "non_addressable", EJ, F, F, F, "-", "-", F),
        (12, "addressable", KONTOR, F, F, F, "-", "-", F),
        (13, "addressable", KONTOR, T, T, T, "AVT-A", "procurement_unit", T),
        (14, "addressable", KONTOR, T, T, T, "AVT-A", "procurement_unit", F),
        (15, "addressable", KONSULT, T, T, T, "AVT-B", "procurement_unit", F),
        (16, "addressable", KONSULT, F, F, F, "-", "-", F),
        (17, "addressable", VARD, T, T, T, "AVT-C", "procurement_unit", F),
        (18, "addressable", KONSULT, F, F, F, "-", "-", F),
        (19, "internal", INTERNA, F, F, F, "-", "-", F),
        (20, "addressable", KONSULT, F, F, F, "-", "-", F),
        (21, "addressable", KONTOR, T, T, T, "AVT-D", "business", F),
        (22, "addressable", KONSULT, F, F, F, "-", "-", F),
    ]
    # One supplier in three org-number forms is one key; the sole trader only by pseudonym.
    assert rows(
        golden,
        "select count(distinct supplier_key) from marts.fct_spend "
        "where supplier_name = 'Kontorsbolaget AB'",
    ) == [(1,)]
    pnr_key = classify_supplier_id("811218-9876", KEY).key
    assert rows(
        golden,
        "select distinct supplier_key, supplier_name from marts.fct_spend "
        "where invoice_number like 'E-%'",
    ) == [(pnr_key, "Enskild firma (namn dolt)")]
    assert rows(golden, "select classified_by from marts.fct_spend where source_line = 20") == [
        ("public_sector_supplier",)
    ]


# kpi_monthly: (period, org unit, category level 1) ->
#   spend, addressable, investment, non-addressable, internal, loyalty %, category
#   compliance %, on-time loyalty %, procurement-unit loyalty %, maverick spend,
#   suppliers, invoices, credit notes, small-invoice share %, e-commerce share %,
#   spend without supplier id
#
# 2024-03 HSV Kontor: L01 4,000 + L02 6,000 = 10,000; contracted 6,000 (60 %) in every
#   loyalty measure; maverick 4,000; invoices A-100 4,000 and A-101 6,000, both small;
#   e-commerce 6,000 / 10,000 = 60 %.
# 2024-03 HSV Vård: L04 30,000; contracted and covered 100 %, registered late so on-time
#   and procurement-unit loyalty 0 %; one invoice of 30,000, not small.
# 2024-03 HSV Konsult: L07 15,000 + L09 450,000 = 465,000, nothing contracted; invoices
#   E-500 15,000 and G-700 450,000, none small.
# 2024-03 HSV Interna köp: L08 50,000 internal; no addressable spend so the shares are null.
# 2024-03 HSV Investeringar: L10 80,000 investment.
# 2024-03 PRIM Konsult: L03 12,000 + L06 2,000 = 14,000; loyalty 100 %; covered 12,000 =
#   85.71 %; on time 100 %; procurement unit 12,000 = 85.71 %; maverick 2,000; invoices
#   B-200 12,000 and D-400 10,000 (whole invoice), none under 10,000.
# 2024-03 PRIM Kontor: L05 8,000 + L12 500 = 8,500; contracted 8,000 = 94.12 % (also
#   covered and on time); procurement unit 0 %; maverick 500; one supplier (L12 has no
#   id); invoices D-400 10,000 and X-1 500: 1 of 2 small = 50 %; 500 without supplier id.
# 2024-03 PRIM Ej påverkbart: L11 20,000 non-addressable.
# 2024-04 HSV Kontor: L13 3,000 - L14 500 + L21 1,500 = 4,000, all contracted and covered,
#   on time; procurement unit 2,500 = 62.50 %; invoices A-102 3,000 and D-401 1,500 both
#   small, A-103 is a credit note; e-commerce 3,000 / 4,000 = 75 %.
# 2024-04 HSV Vård: L17 25,000, all measures 100 %.
# 2024-04 HSV Konsult: L18 350,000 + L20 7,000 = 357,000, nothing contracted; invoices
#   G-701 and E-501 (7,000 small): 50 %.
# 2024-04 PRIM Konsult: L15 9,000 + L16 11,000 - L22 2,000 = 18,000; contracted 9,000 =
#   50 % in every measure; maverick 9,000; invoices B-201 9,000 and B-202 9,000 net, both
#   small.
# 2024-04 PRIM Interna köp: L19 5,000 (public body reclassified as internal); F-601 small.
N = None
EXPECTED_MONTHLY = {
    ("2024-03", "HSV", KONTOR): (
        D("10000"),
        D("10000"),
        0,
        0,
        0,
        D("60.00"),
        D("60.00"),
        D("60.00"),
        D("60.00"),
        D("4000"),
        1,
        2,
        0,
        D("100.00"),
        D("60.00"),
        0,
    ),
    ("2024-03", "HSV", VARD): (
        D("30000"),
        D("30000"),
        0,
        0,
        0,
        D("100.00"),
        D("100.00"),
        D("0.00"),
        D("0.00"),
        0,
        1,
        1,
        0,
        D("0.00"),
        D("0.00"),
        0,
    ),
    ("2024-03", "HSV", KONSULT): (
        D("465000"),
        D("465000"),
        0,
        0,
        0,
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("465000"),
        2,
        2,
        0,
        D("0.00"),
        D("0.00"),
        0,
    ),
    ("2024-03", "HSV", INTERNA): (
        D("50000"),
        0,
        0,
        0,
        D("50000"),
        N,
        N,
        N,
        N,
        0,
        1,
        1,
        0,
        D("0.00"),
        N,
        0,
    ),
    ("2024-03", "HSV", INV): (
        D("80000"),
        0,
        D("80000"),
        0,
        0,
        N,
        N,
        N,
        N,
        0,
        1,
        1,
        0,
        D("0.00"),
        N,
        0,
    ),
    ("2024-03", "PRIM", KONSULT): (
        D("14000"),
        D("14000"),
        0,
        0,
        0,
        D("100.00"),
        D("85.71"),
        D("100.00"),
        D("85.71"),
        D("2000"),
        2,
        2,
        0,
        D("0.00"),
        D("0.00"),
        0,
    ),
    ("2024-03", "PRIM", KONTOR): (
        D("8500"),
        D("8500"),
        0,
        0,
        0,
        D("94.12"),
        D("94.12"),
        D("94.12"),
        D("0.00"),
        D("500"),
        1,
        2,
        0,
        D("50.00"),
        D("0.00"),
        D("500"),
    ),
    ("2024-03", "PRIM", EJ): (
        D("20000"),
        0,
        0,
        D("20000"),
        0,
        N,
        N,
        N,
        N,
        0,
        1,
        1,
        0,
        D("0.00"),
        N,
        0,
    ),
    ("2024-04", "HSV", KONTOR): (
        D("4000"),
        D("4000"),
        0,
        0,
        0,
        D("100.00"),
        D("100.00"),
        D("100.00"),
        D("62.50"),
        0,
        2,
        2,
        1,
        D("100.00"),
        D("75.00"),
        0,
    ),
    ("2024-04", "HSV", VARD): (
        D("25000"),
        D("25000"),
        0,
        0,
        0,
        D("100.00"),
        D("100.00"),
        D("100.00"),
        D("100.00"),
        0,
        1,
        1,
        0,
        D("0.00"),
        D("0.00"),
        0,
    ),
    ("2024-04", "HSV", KONSULT): (
        D("357000"),
        D("357000"),
        0,
        0,
        0,
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("357000"),
        2,
        2,
        0,
        D("50.00"),
        D("0.00"),
        0,
    ),
    ("2024-04", "PRIM", KONSULT): (
        D("18000"),
        D("18000"),
        0,
        0,
        0,
        D("50.00"),
        D("50.00"),
        D("50.00"),
        D("50.00"),
        D("9000"),
        1,
        2,
        0,
        D("100.00"),
        D("0.00"),
        0,
    ),
    ("2024-04", "PRIM", INTERNA): (
        D("5000"),
        0,
        0,
        0,
        D("5000"),
        N,
        N,
        N,
        N,
        0,
        1,
        1,
        0,
        D("100.00"),
        N,
        0,
    ),
}

MEASURES = """spend, addressable_spend, investment_spend, non_addressable_spend, internal_spend,
    supplier_loyalty_pct, category_compliance_pct, on_time_loyalty_pct,
    procurement_unit_loyalty_pct, maverick_spend, suppliers, invoices, credit_notes,
    small_invoice_share_pct, ecommerce_share_pct, spend_without_supplier_id"""


def test_kpi_monthly(golden):
    got = {
        r[:3]: r[3:]
        for r in rows(
            golden,
            f"""
        select period, org_unit_id, category_level1, {MEASURES} from marts.kpi_monthly""",
        )
    }
    assert got == EXPECTED_MONTHLY


def test_kpi_yearly(golden):
    # Spend: March 677,500 + April 409,000 = 1,086,500. Investment 80,000, non-addressable
    # 20,000, internal 55,000, addressable 931,500 (of it 500 without supplier id).
    # Contracted: L02 6,000 + L03 12,000 + L04 30,000 + L05 8,000 + L06 2,000 + L13 3,000
    #   - L14 500 + L15 9,000 + L17 25,000 + L21 1,500 = 96,000 -> 10.31 %.
    # Covered: 96,000 - L06 2,000 = 94,000 -> 10.09 %; maverick 931,500 - 94,000 = 837,500.
    # On time: 96,000 - L04 30,000 = 66,000 -> 7.09 %.
    # Procurement unit, on time: 6,000 + 12,000 + 3,000 - 500 + 9,000 + 25,000 = 54,500
    #   -> 5.85 %.
    # Suppliers A..I = 9. Invoices: 19 with a positive net, 1 credit note; under
    #   10,000, B-201, B-202, D-401, E-501, F-601, X-1 = 9 -> 47.37 %.
    # E-commerce: 6,000 + 3,000 = 9,000 / 931,500 -> 0.97 %.
    got = rows(golden, f"select fiscal_year, {MEASURES} from marts.kpi_yearly")
    assert got == [
        (
            2024,
            D("1086500"),
            D("931500"),
            D("80000"),
            D("20000"),
            D("55000"),
            D("10.31"),
            D("10.09"),
            D("7.09"),
            D("5.85"),
            D("837500"),
            9,
            19,
            1,
            D("47.37"),
            D("0.97"),
            D("500"),
        )
    ]


def test_kpi_monthly_sums_to_the_ledger(golden):
    assert rows(golden, "select sum(spend), sum(addressable_spend) from marts.kpi_monthly") == [
        (D("1086500"), D("931500"))
    ]


def test_kpi_uncontracted_above_threshold(golden):
    # Addressable spend without a contract covering the line's category, per supplier and
    # category, 2024 (threshold 700,000 all year):
    #   A KA-KO: L01 4,000. B KO-KO: L16 11,000 - L22 2,000 = 9,000. D KO-KO: L06 2,000.
    #   E KO-KO: 15,000 + 7,000 = 22,000. G KO-KO: 450,000 + 350,000 = 800,000 > 700,000.
    #   L12 has no supplier id and is not a row here.
    got = rows(
        golden,
        """
        select supplier_name, category_id, uncontracted_spend, threshold_sek,
               is_above_threshold
        from marts.kpi_uncontracted_above_threshold
        where fiscal_year = 2024 order by uncontracted_spend desc""",
    )
    assert got == [
        ("Storkonsult AB", "KO-KO", D("800000"), D("700000"), True),
        ("Enskild firma (namn dolt)", "KO-KO", D("22000"), D("700000"), False),
        ("Konsultbyrån AB", "KO-KO", D("9000"), D("700000"), False),
        ("Kontorsbolaget AB", "KA-KO", D("4000"), D("700000"), False),
        ("Allservice AB", "KO-KO", D("2000"), D("700000"), False),
    ]


def test_kpi_supplier_concentration(golden):
    # Addressable spend per supplier in 2024 (positive net, with an id):
    #   G 800,000; C 55,000; B 30,000; E 22,000; A 12,500; D 11,500 -> n 6, total 931,000.
    #   G alone is 85.93 % >= 80 %: 1 of 6 suppliers = 16.67 %. Smallest floor(0.94*6) = 5
    #   suppliers: 131,000 = 14.07 %. Tail spend 131,000 from 5 suppliers.
    # Kontor: A 12,500, D 9,500 (total 22,000): A 56.82 % < 80 % -> 2 of 2 = 100 %;
    #   smallest floor(1.88) = 1: D 9,500 = 43.18 %; tail 0 from 0 suppliers.
    # Konsult: G 800,000, B 30,000, E 22,000, D 2,000 (854,000): G 93.68 % -> 1 of 4 = 25 %;
    #   smallest 3: 54,000 = 6.32 %; tail 54,000 from 3.
    # Vård: C 55,000 alone: 1 of 1 = 100 %; smallest floor(0.94) = 0 suppliers: 0 %.
    got = rows(
        golden,
        """
        select category_level1, suppliers, addressable_spend, suppliers_behind_80_pct,
               spend_share_smallest_94_pct, tail_spend, tail_suppliers, largest_supplier_share_pct
        from marts.kpi_supplier_concentration where fiscal_year = 2024
        order by scope desc, category_level1""",
    )
    assert got == [
        ("Alla kategorier", 6, D("931000"), D("16.67"), D("14.07"), D("131000"), 5, D("85.93")),
        (KONSULT, 4, D("854000"), D("25.00"), D("6.32"), D("54000"), 3, D("93.68")),
        (KONTOR, 2, D("22000"), D("100.00"), D("43.18"), D("0"), 0, D("56.82")),
        (VARD, 1, D("55000"), D("100.00"), D("0.00"), D("0"), 0, D("100.00")),
    ]


def test_kpi_contract_expiry(golden):
    # As of the ledger's last posting date, 2024-04-30. AVT-B ended 2024-04-15 and AVT-C
    # ends 2027-12-31: neither is listed. AVT-A ends 2025-03-14 (318 days: within 12
    # months); its trailing 12-month spend is L02 6,000 + L13 3,000 - L14 500 = 8,500.
    # AVT-D ends 2026-01-31 (641 days: 12 to 24 months), can be extended to 2027-01-31;
    # spend L05 8,000 + L06 2,000 + L21 1,500 = 11,500.
    got = rows(
        golden,
        """
        select contract_id, as_of_date, end_date, days_to_end, ends_within_12_months,
               ends_within_24_months, can_be_extended, trailing_12m_spend
        from marts.kpi_contract_expiry order by end_date""",
    )
    assert got == [
        ("AVT-A", dt.date(2024, 4, 30), dt.date(2025, 3, 14), 318, True, True, False, D("8500")),
        ("AVT-D", dt.date(2024, 4, 30), dt.date(2026, 1, 31), 641, False, True, True, D("11500")),
    ]


def test_kpi_supplier_segments(golden):
    # Per category level 1, 2024, suppliers with positive addressable spend:
    # Kontor (22,000): A 12,500 = 56.82 %, class A, L01 not covered -> partial (covered
    #   8,500 = 68 %), dependence high -> strategic; D 9,500 = 43.18 %, cumulative before
    #   56.82 % < 80 % -> class A, full, medium -> strategic.
    # Konsult (854,000): G 93.68 % A, none, high -> at_risk; B 3.51 %, before 93.68 % -> B,
    #   partial (21,000 of 30,000 = 70 %), low -> routine; E 2.58 %, before 97.19 % -> C,
    #   none -> tail; D 0.23 % C none -> tail.
    # Vård (55,000): C 100 % A, full, high -> strategic.
    got = rows(
        golden,
        """
        select category_level1, supplier_name, addressable_spend, share_of_category_pct,
               spend_class_abc, contract_status, contract_coverage_pct, dependence, segment
        from marts.kpi_supplier_segments where fiscal_year = 2024
        order by category_level1, addressable_spend desc""",
    )
    assert got == [
        (
            KONSULT,
            "Storkonsult AB",
            D("800000"),
            D("93.68"),
            "A",
            "none",
            D("0.00"),
            "high",
            "at_risk",
        ),
        (
            KONSULT,
            "Konsultbyrån AB",
            D("30000"),
            D("3.51"),
            "B",
            "partial",
            D("70.00"),
            "low",
            "routine",
        ),
        (
            KONSULT,
            "Enskild firma (namn dolt)",
            D("22000"),
            D("2.58"),
            "C",
            "none",
            D("0.00"),
            "low",
            "tail",
        ),
        (KONSULT, "Allservice AB", D("2000"), D("0.23"), "C", "none", D("0.00"), "low", "tail"),
        (
            KONTOR,
            "Kontorsbolaget AB",
            D("12500"),
            D("56.82"),
            "A",
            "partial",
            D("68.00"),
            "high",
            "strategic",
        ),
        (
            KONTOR,
            "Allservice AB",
            D("9500"),
            D("43.18"),
            "A",
            "full",
            D("100.00"),
            "medium",
            "strategic",
        ),
        (
            VARD,
            "Medtech AB",
            D("55000"),
            D("100.00"),
            "A",
            "full",
            D("100.00"),
            "high",
            "strategic",
        ),
    ]


def test_no_personnummer_in_any_mart(golden):
    # The sole trader's personnummer, in any form, appears in no column of any mart.
    tables = [
        r[0]
        for r in rows(
            golden, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    assert len(tables) >= 10
    for t in tables:
        cols = [
            r[0]
            for r in rows(
                golden,
                f"select column_name from information_schema.columns "
                f"where table_schema = 'marts' and table_name = '{t}'",
            )
        ]
        concat = " || '|' || ".join(f"coalesce(cast({c} as varchar), '')" for c in cols)
        hits = rows(
            golden,
            f"select count(*) from marts.{t} where regexp_matches({concat}, "
            f"'811218|8112189876|Anna Berg')",
        )
        assert hits == [(0,)], t


# --------------------------------------------------------------------------- the supplier register
# Issue 17: tests/fixtures/golden/register_*.csv (the raw register rows, written by hand:
# tests/oracle/register_rows.py), built with var spendkoll_local_postal_towns
# ["Östersund", "frösön"]. Worked out by hand before the models were written:
#
# Register (seed legal_forms, sni_sections, size_classes):
#   A Kontorsbolaget 556036-0793  AB, Ng1 56100 -> I (Ng2 47620 G), size 3 micro,
#                                 BV postal "Östersund" -> ÖSTERSUND: local
#   B Konsultbyrån 556016-0680    AB, 70220 -> M, size 5 small, STOCKHOLM: not local,
#                                 registered 2024-01-15
#   C Medtech 556677-8899         AB, 68200 -> L, size 8 medium_or_large, UPPSALA,
#                                 LI procedure since 2024-02-01: winding_up
#   D Allservice 556703-7485      two registrations: no 1 deregistered 2020 (LULEÅ), no 2
#                                 active (FRÖSÖN): the active one; no SCB row: section
#                                 unknown; size 12 large; local
#   E sole trader 811218-9876     E (shown), 62010 -> J (shown); registration, town,
#                                 size (2) and the code withheld: unknown size, unknown town
#   G Storkonsult 556459-7283     in no register: unknown everywhere
#   H Datorhuset 556074-3089      deregistered 2024-03-01 KKAV; Ng1 00000: no section
#   F Region 232100-0016          SCB 84 REGION, 84110 O, size 16 large (internal spend only)
#   I Föreningen 802002-4280      SCB 61 I, 94990 S (non-addressable only)
#
# Addressable spend 2024 per supplier (net): A 12,500 (Kontor, HSV); B 30,000 (Konsult,
# PRIM); C 55,000 (Vård, HSV); D 11,500 (Kontor PRIM 8,000 + HSV 1,500, Konsult PRIM
# 2,000); E 22,000 (Konsult, HSV); G 800,000 (Konsult, HSV); no id 500 (Kontor, PRIM).
# Total 931,500; 6 suppliers with positive spend.
#
# overall 2024 (spend, spend %, suppliers, suppliers %, spend without supplier id):
#   size   micro A 12,500 1.34 % 1 16.67 %; small B 30,000 3.22 %; medium_or_large C 55,000
#          5.90 %; large D 11,500 1.23 %; unknown E + G + no id 822,500 88.30 % 2 33.33 % (500)
#   sme    sme A + B 42,500 4.56 % 2 33.33 %; medium_or_large, large, unknown as above
#   legal  AB A+B+C+D 109,000 11.70 % 4 66.67 %; E 22,000 2.36 % 1 16.67 %; unknown
#          G + no id 800,500 85.94 % 1 16.67 % (500)
#   sni    I 12,500 1.34 %; M 30,000 3.22 %; L 55,000 5.90 %; J 22,000 2.36 % (each 1, 16.67
#          %); unknown D + G + no id 812,000 87.17 % 2 33.33 % (500)
#   local  local A + D 24,000 2.58 % 2 33.33 %; not_local B + C 85,000 9.13 % 2 33.33 %;
#          unknown E + G + no id 822,500 88.30 % 2 33.33 % (500)
# Konsulttjänster 2024: B 30,000, D 2,000, E 22,000, G 800,000 = 854,000, 4 suppliers:
#   size small 30,000 3.51 % 25.00 %; large 2,000 0.23 % 25.00 %; unknown 822,000 96.25 %
#   50.00 %.
# HSV 2024: A 12,500, C 55,000, D 1,500, E 22,000, G 800,000 = 891,000, 5 suppliers:
#   sme sme 12,500 1.40 % 20.00 %; medium_or_large 55,000 6.17 % 20.00 %; large 1,500
#   0.17 % 20.00 %; unknown 822,000 92.26 % 40.00 %.
# PRIM 2024: B 30,000, D 10,000, no id 500 = 40,500, 2 suppliers:
#   legal AB 40,000 98.77 % 2 100.00 %; unknown 500 1.23 % 0 0.00 % (500)
#   local not_local 30,000 74.07 % 50.00 %; local 10,000 24.69 % 50.00 %; unknown 500
#   1.23 % 0.00 %.
# Vård och medicin 2024: C 55,000 alone: legal AB 100.00 %, and the unknown row 0 / 0.00 %.
#
# Rules: DQ15 on L10 (Datorhuset, deregistered after bankruptcy 2024-03-01, posted
# 2024-03-28, 80,000 investment: any spend class); DQ16 on L03 (B registered 2024-01-15,
# first invoice B-200 2024-03-10: 55 days <= 90; score 0.6 - 0.3 x 55/90 = 0.4167); DQ17
# on L04 and L17 (C's section L does not fit Vård och medicin: C G M N Q). A's lines do
# not fire DQ17: I does not fit Kontor och administration but A's second code (G) does.


@pytest.fixture(scope="module")
def golden_register(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    from conftest import FIXTURES
    from oracle.register_rows import build_with_register

    from spendkoll.paths import DataDir

    data = DataDir(tmp_path_factory.mktemp("golden-register") / "var").ensure()
    build_with_register(
        data,
        FIXTURES / "golden",
        KEY,
        ledger="ledger_2024.csv",
        dbt_vars={"spendkoll_local_postal_towns": ["Östersund", "frösön"]},
    )
    con = duckdb.connect(str(data.warehouse), read_only=True)
    yield con
    con.close()


def profile(con, scope: str, scope_id: str, dimension: str) -> dict[str, tuple[object, ...]]:
    return {
        r[0]: r[1:]
        for r in rows(
            con,
            f"""select value, addressable_spend, spend_share_pct, suppliers, supplier_share_pct,
                       spend_without_supplier_id
                from marts.kpi_supplier_profile
                where fiscal_year = 2024 and scope = '{scope}' and scope_id = '{scope_id}'
                  and dimension = '{dimension}'""",
        )
    }


def test_supplier_profile_overall(golden_register):
    Z = D("0.00")
    assert profile(golden_register, "overall", "all", "size") == {
        "micro": (D("12500"), D("1.34"), 1, D("16.67"), Z),
        "small": (D("30000"), D("3.22"), 1, D("16.67"), Z),
        "medium_or_large": (D("55000"), D("5.90"), 1, D("16.67"), Z),
        "large": (D("11500"), D("1.23"), 1, D("16.67"), Z),
        "unknown": (D("822500"), D("88.30"), 2, D("33.33"), D("500")),
    }
    assert profile(golden_register, "overall", "all", "sme") == {
        "sme": (D("42500"), D("4.56"), 2, D("33.33"), Z),
        "medium_or_large": (D("55000"), D("5.90"), 1, D("16.67"), Z),
        "large": (D("11500"), D("1.23"), 1, D("16.67"), Z),
        "unknown": (D("822500"), D("88.30"), 2, D("33.33"), D("500")),
    }
    assert profile(golden_register, "overall", "all", "legal_form") == {
        "AB": (D("109000"), D("11.70"), 4, D("66.67"), Z),
        "E": (D("22000"), D("2.36"), 1, D("16.67"), Z),
        "unknown": (D("800500"), D("85.94"), 1, D("16.67"), D("500")),
    }
    assert profile(golden_register, "overall", "all", "sni_section") == {
        "I": (D("12500"), D("1.34"), 1, D("16.67"), Z),
        "M": (D("30000"), D("3.22"), 1, D("16.67"), Z),
        "L": (D("55000"), D("5.90"), 1, D("16.67"), Z),
        "J": (D("22000"), D("2.36"), 1, D("16.67"), Z),
        "unknown": (D("812000"), D("87.17"), 2, D("33.33"), D("500")),
    }
    assert profile(golden_register, "overall", "all", "local") == {
        "local": (D("24000"), D("2.58"), 2, D("33.33"), Z),
        "not_local": (D("85000"), D("9.13"), 2, D("33.33"), Z),
        "unknown": (D("822500"), D("88.30"), 2, D("33.33"), D("500")),
    }
    assert rows(
        golden_register,
        "select distinct scope_addressable_spend, scope_suppliers, scope_name "
        "from marts.kpi_supplier_profile where scope = 'overall'",
    ) == [(D("931500"), 6, "Hela organisationen")]
    assert rows(
        golden_register,
        "select value_label_sv, value_label_en from marts.kpi_supplier_profile "
        "where scope = 'overall' and dimension = 'sme' and value = 'sme'",
    ) == [("Små och medelstora företag (SME)", "Small and medium-sized enterprises (SME)")]


def test_supplier_profile_per_category_and_org_unit(golden_register):
    Z = D("0.00")
    assert profile(golden_register, "category_level1", KONSULT, "size") == {
        "small": (D("30000"), D("3.51"), 1, D("25.00"), Z),
        "large": (D("2000"), D("0.23"), 1, D("25.00"), Z),
        "unknown": (D("822000"), D("96.25"), 2, D("50.00"), Z),
    }
    assert profile(golden_register, "org_unit", "HSV", "sme") == {
        "sme": (D("12500"), D("1.40"), 1, D("20.00"), Z),
        "medium_or_large": (D("55000"), D("6.17"), 1, D("20.00"), Z),
        "large": (D("1500"), D("0.17"), 1, D("20.00"), Z),
        "unknown": (D("822000"), D("92.26"), 2, D("40.00"), Z),
    }
    assert profile(golden_register, "org_unit", "PRIM", "legal_form") == {
        "AB": (D("40000"), D("98.77"), 2, D("100.00"), Z),
        "unknown": (D("500"), D("1.23"), 0, D("0.00"), D("500")),
    }
    assert profile(golden_register, "org_unit", "PRIM", "local") == {
        "not_local": (D("30000"), D("74.07"), 1, D("50.00"), Z),
        "local": (D("10000"), D("24.69"), 1, D("50.00"), Z),
        "unknown": (D("500"), D("1.23"), 0, D("0.00"), D("500")),
    }
    # the unknown part is a row of its own also when nothing is unknown
    assert profile(golden_register, "category_level1", VARD, "legal_form") == {
        "AB": (D("55000"), D("100.00"), 1, D("100.00"), Z),
        "unknown": (Z, Z, 0, Z, Z),
    }
    # scopes: the whole organisation, the three level-1 categories and two units with
    # addressable spend; the investment, grant and internal categories have none
    assert rows(
        golden_register,
        "select scope, count(distinct scope_id) from marts.kpi_supplier_profile "
        "group by scope order by scope",
    ) == [("category_level1", 3), ("org_unit", 2), ("overall", 1)]


def test_dim_supplier_from_the_register(golden_register):
    pnr_key = classify_supplier_id("811218-9876", KEY).key
    got = {
        r[0]: r[1:]
        for r in rows(
            golden_register,
            """select supplier_key, in_register, legal_form, legal_form_label, sni_code,
                      sni_section, registration_date, register_status, deregistration_date,
                      deregistration_reason, postal_town, size_class, sme_class
               from marts.dim_supplier""",
        )
    }
    day = dt.date
    assert got["556036-0793"] == (
        True, "AB", "Aktiebolag", "56100", "I", day(1998, 5, 12), "active", None, None,
        "ÖSTERSUND", 3, "micro",
    )  # fmt: skip
    assert got["556677-8899"][6] == "winding_up"
    # the active registration (no 2), not the lower number (no 1, deregistered)
    assert got["556703-7485"] == (
        True, "AB", "Aktiebolag", None, None, day(2006, 2, 20), "active", None, None,
        "FRÖSÖN", 12, "large",
    )  # fmt: skip
    assert got["556074-3089"] == (
        True, "AB", "Aktiebolag", "00000", None, day(1995, 1, 1), "deregistered",
        day(2024, 3, 1), "bankruptcy", "GÖTEBORG", None, "unknown",
    )  # fmt: skip
    assert got["556459-7283"] == (
        False, None, None, None, None, None, "unknown", None, None, None, None, "unknown",
    )  # fmt: skip
    assert got["232100-0016"][1:3] == ("REGION", "Region")
    assert got["232100-0016"][6] == "unknown"  # not in Bolagsverket's file
    assert got["802002-4280"][1] == "I"
    # the sole trader: legal form and section only, though the raw rows hold more
    assert got[pnr_key] == (
        True, "E", "Enskild näringsverksamhet", None, "J", None, None, None, None, None,
        None, None,
    )  # fmt: skip


def test_register_rules_golden(golden_register):
    got = rows(
        golden_register,
        """select rule_id, source_line - 1, severity, round(score, 4)
           from marts.dq_invoice_exceptions
           where rule_id in ('DQ15', 'DQ16', 'DQ17') order by rule_id, source_line""",
    )
    assert got == [
        ("DQ15", 10, "blocking", 1.0),
        ("DQ16", 3, "info", 0.4167),
        ("DQ17", 4, "info", 0.5),
        ("DQ17", 17, "info", 0.5),
    ]


def test_without_register_everything_is_unknown(golden):
    """The golden build has no register rows: every supplier and every share is
    unknown, nothing is guessed, and no register rule fires."""
    assert rows(
        golden,
        "select count(*) from marts.dim_supplier where in_register or legal_form is not null "
        "or sni_section is not null or size_class is not null or postal_town is not null "
        "or registration_date is not null",
    ) == [(0,)]
    assert rows(
        golden,
        "select distinct register_status, sme_class from marts.dim_supplier "
        "where not is_sole_trader",
    ) == [("unknown", "unknown")]
    got = rows(
        golden,
        "select distinct dimension, value, spend_share_pct, supplier_share_pct "
        "from marts.kpi_supplier_profile order by dimension",
    )
    assert got == [
        ("legal_form", "unknown", D("100.00"), D("100.00")),
        ("size", "unknown", D("100.00"), D("100.00")),
        ("sme", "unknown", D("100.00"), D("100.00")),
        ("sni_section", "unknown", D("100.00"), D("100.00")),
    ]  # no `local` rows: var spendkoll_local_postal_towns is empty by default
    assert rows(golden, "select count(*) from marts.kpi_supplier_profile") == [(24,)]
    assert rows(
        golden,
        "select count(*) from marts.dq_invoice_exceptions "
        "where rule_id in ('DQ15', 'DQ16', 'DQ17')",
    ) == [(0,)]
