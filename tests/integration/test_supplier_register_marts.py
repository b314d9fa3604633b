"""The supplier register in the marts (issue 17): how int_supplier_register_combined
and dim_supplier read the business registers' raw rows, the sole traders' privacy,
and the category-fit rule as evidence in the controller's ranking.

The raw rows are written by hand (tests/oracle/register_rows.py: the register loader's
raw tables, keyed as the ledger keys them). Every expectation below was worked out from
the documentation (doc supplier_register, _register__docs.md) before the build ran.
The KPI figures themselves are in test_kpi_golden.py and test_kpi_oracle.py; each rule's
golden fixture pair in tests/fixtures/dq_rules/DQ15..DQ17.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, KEY
from oracle.register_rows import build_with_register

from spendkoll.ids import classify_supplier_id
from spendkoll.paths import DataDir

pytestmark = pytest.mark.slow

SOLE_TRADER = "700101-2389"
# one ledger line per supplier: (org number, name)
SUPPLIERS = {
    "559005-0000": "no active registration: the lowest number",
    "559005-0133": "the active registration over an unnumbered one",
    "559005-0265": "two active: no number counts as 0",
    "559005-0398": "reconstruction (FR) ongoing",
    "559005-0521": "reconstruction ended (FRUHOR)",
    "559005-0653": "composition (AC) is no winding-up",
    "559005-0786": "bankrupt and deregistered",
    "559005-0919": "liquidation ended, then a new one",
    "559005-1040": "SNI 2025 code 95310 (car repair)",
    "559005-1172": "SNI 2025 code 62100",
    "559005-1305": "SNI 2007 code 45200",
    "559005-1438": "SNI 99000",
    "559005-1560": "size class 0",
    "559005-1693": "size class 7",
    "559005-1826": "size class 8",
    "559005-1958": "size class 9",
    "559005-2089": "size class 17 (not a class)",
    "559005-2212": "size class 4",
    "559005-2345": "Bolagsverket KB",
    "559005-2477": "SCB 31 only",
    "559005-2600": "SCB 99 only",
    "559005-2733": "Bolagsverket code unknown, SCB 49",
    "559005-2865": "Bolagsverket AB, SCB 51",
    SOLE_TRADER: "a sole trader known to SCB only",
}
LEDGER_HEADER = (
    "verification_id;line_number;posting_date;invoice_date;invoice_number;"
    "supplier_org_number;supplier_name;account;cost_centre;amount_excl_vat;vat;description"
)
BOLAGSVERKET = """supplier_id;identity_type;name_protection_no;legal_form;registration_date;deregistration_date;deregistration_reason;procedures;postal_code;postal_town
559005-0000;;2;AB;2001-01-01;2020-01-01;OVERK;;98131;KIRUNA
559005-0000;;1;AB;2000-01-01;2019-01-01;DELAV;;94131;PITEÅ
559005-0133;;;AB;2000-01-01;2018-01-01;LIAV;;96131;BODEN
559005-0133;;1;AB;2005-01-01;;;;93331;ARVIDSJAUR
559005-0265;;1;AB;2006-01-01;;;;87231;KRAMFORS
559005-0265;;;AB;2000-01-01;;;;83751;ÅRE
559005-0398;;;AB;2000-01-01;;;FR:2024-01-10;83130;ÖSTERSUND
559005-0521;;;AB;2000-01-01;;;FRUHOR:2024-02-01|FR:2024-01-10;83130;ÖSTERSUND
559005-0653;;;AB;2000-01-01;;;AC:2024-01-10;83130;ÖSTERSUND
559005-0786;;;AB;2000-01-01;2024-01-01;KKAV;KK:2023-01-10;83130;ÖSTERSUND
559005-0919;;;AB;2000-01-01;;;LI:2024-03-01|LIUHOR:2023-12-01|LI:2023-06-01;83130;ÖSTERSUND
559005-2345;;;KB;2000-01-01;;;;83130;ÖSTERSUND
559005-2733;;;XYZ;2000-01-01;;;;83130;ÖSTERSUND
559005-2865;;;AB;2000-01-01;;;;83130;ÖSTERSUND
"""
SCB = f"""supplier_id;legal_form_code;company_status;unit_status;sni_1;sni_2;sni_3;sni_4;sni_5;postal_code;postal_town;registered_date
559005-1040;49;1;1;95310;;;;;83130;ÖSTERSUND;2000-01-01
559005-1172;49;1;1;62100;;;;;83130;ÖSTERSUND;2000-01-01
559005-1305;49;1;1;45200;;;;;83130;ÖSTERSUND;2000-01-01
559005-1438;49;1;1;99000;;;;;83130;ÖSTERSUND;2000-01-01
559005-2477;31;1;1;;;;;;83130;ÖSTERSUND;2000-01-01
559005-2600;99;1;1;;;;;;83130;ÖSTERSUND;2000-01-01
559005-2733;49;1;1;;;;;;83130;ÖSTERSUND;2000-01-01
559005-2865;51;1;1;;;;;;83130;ÖSTERSUND;2000-01-01
{SOLE_TRADER};10;1;1;43210;;;;;83130;ÖSTERSUND;2015-05-05
"""
SIZES = f"""supplier_id;size_class
559005-1560;0
559005-1693;7
559005-1826;8
559005-1958;9
559005-2089;17
559005-2212;4
{SOLE_TRADER};3
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, str]:
    folder = tmp_path_factory.mktemp("register-cases")
    lines = [LEDGER_HEADER]
    for n, (number, what) in enumerate(SUPPLIERS.items(), start=1):
        lines.append(
            f"V{n:02d};1;2024-03-{n:02d};2024-03-{n:02d};F-{n};{number};Leverantör {n};"
            f"6410;HSV01;{1000 * n}.00;;{what}"
        )
    (folder / "ledger.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "register_bolagsverket.csv").write_text(BOLAGSVERKET, encoding="utf-8")
    (folder / "register_scb.csv").write_text(SCB, encoding="utf-8")
    (folder / "register_size_class.csv").write_text(SIZES, encoding="utf-8")
    data = DataDir(tmp_path_factory.mktemp("register-cases-var") / "var").ensure()
    proc = build_with_register(
        data, folder, KEY, dbt_vars={"spendkoll_local_postal_towns": "östersund"}
    )
    con = duckdb.connect(str(data.warehouse), read_only=True)
    yield con, proc.stdout
    con.close()


def warned(stdout: str, test: str) -> bool:
    """dbt's output has the data test warning (a WARN line naming it)."""
    return any(" WARN " in line and test in line for line in stdout.splitlines())


def dim(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, object]:
    return dict(con.execute(f"select supplier_key, {column} from marts.dim_supplier").fetchall())


def test_one_registration_per_supplier(built):
    con, _ = built
    town = dim(con, "postal_town")
    status = dim(con, "register_status")
    # none active: the lowest namnskyddslopnummer (1, PITEÅ), deregistered 2019 (DELAV: other)
    assert town["559005-0000"] == "PITEÅ"
    assert dim(con, "deregistration_date")["559005-0000"] == dt.date(2019, 1, 1)
    assert dim(con, "deregistration_reason")["559005-0000"] == "other"
    # the active one wins over the unnumbered deregistered one
    assert (town["559005-0133"], status["559005-0133"]) == ("ARVIDSJAUR", "active")
    # both active: no number counts as 0, before 1
    assert town["559005-0265"] == "ÅRE"
    assert con.execute(
        "select bolagsverket_registrations from intermediate.int_supplier_register_combined "
        "where supplier_key = '559005-0265'"
    ).fetchall() == [(2,)]


def test_status_from_the_procedures(built):
    con, _ = built
    status = dim(con, "register_status")
    assert status["559005-0398"] == "winding_up"  # FR since 2024-01-10, no end
    assert status["559005-0521"] == "active"  # FRUHOR 2024-02-01 ended it
    assert status["559005-0653"] == "active"  # AC is not KK, LI or FR
    assert status["559005-0786"] == "deregistered"  # deregistration wins over KK
    assert dim(con, "deregistration_reason")["559005-0786"] == "bankruptcy"
    # LI 2023-06-01 ended by LIUHOR 2023-12-01; the LI of 2024-03-01 has no end
    assert status["559005-0919"] == "winding_up"
    # not in Bolagsverket's file: unknown, never guessed from SCB's file
    assert status["559005-1040"] == "unknown"
    assert status["559005-1560"] == "unknown"


def test_sni_sections_by_division(built):
    con, _ = built
    section = dim(con, "sni_section")
    # read with the SNI 2007 table by division: 2025's car repair (95.3) is in S
    assert section["559005-1040"] == "S"
    assert section["559005-1172"] == "J"
    assert section["559005-1305"] == "G"
    assert section["559005-1438"] == "U"
    assert dim(con, "sni_section_label_en")["559005-1438"] == (
        "Activities of extraterritorial organisations and bodies"
    )
    assert section["559005-2477"] is None  # no Ng1


def test_size_classes_and_sme(built):
    con, stdout = built
    got = {
        k: v
        for k, v in con.execute(
            "select supplier_key, (size_class, sme_class) from marts.dim_supplier"
        ).fetchall()
    }
    assert got["559005-1560"] == (0, "unknown")
    assert got["559005-1693"] == (7, "medium")
    assert got["559005-1826"] == (8, "medium_or_large")
    assert got["559005-1958"] == (9, "large")
    assert got["559005-2089"] == (17, "unknown")  # not a class: unknown, and a warning
    assert got["559005-2212"] == (4, "small")
    assert got["559005-0000"] == (None, "unknown")  # no size class bought for it
    assert warned(stdout, "relationships_int_supplier_register_combined_size_class")


def test_legal_forms_to_one_label_set(built):
    con, stdout = built
    form = dim(con, "legal_form")
    assert form["559005-2345"] == "HB_KB"  # Bolagsverket's KB
    assert form["559005-2477"] == "HB_KB"  # SCB's 31
    assert form["559005-2600"] is None  # SCB's 99: juridisk form ej utredd
    assert form["559005-2733"] == "AB"  # an unknown Bolagsverket code: SCB's 49
    assert form["559005-2865"] == "AB"  # Bolagsverket's wins over SCB's 51
    assert dim(con, "legal_form_label")["559005-2345"] == "Handelsbolag eller kommanditbolag"
    # the unknown code XYZ is warned about (add it to seed legal_forms)
    assert warned(stdout, "relationships_int_supplier_register_combined_bolagsverket_legal_form")
    assert not warned(stdout, "relationships_int_supplier_register_combined_scb_legal_form")
    assert con.execute(
        "select legal_form_source from intermediate.int_supplier_register_combined "
        "where supplier_key = '559005-2733'"
    ).fetchall() == [("scb",)]


def test_sole_trader_shows_only_legal_form_and_section(built):
    con, _ = built
    key = classify_supplier_id(SOLE_TRADER, KEY).key
    assert key and key.startswith("PNR-")
    row = con.execute(
        """select legal_form, sni_section, sni_code, registration_date, register_status,
                  postal_town, size_class, sme_class, in_register
           from marts.dim_supplier where supplier_key = ?""",
        [key],
    ).fetchone()
    assert row == ("E", "F", None, None, None, None, None, None, True)
    # already withheld in the intermediate model, so no rule or report can read it
    assert con.execute(
        """select sni_code, registration_date, postal_town, size_class, is_person
           from intermediate.int_supplier_register_combined where supplier_key = ?""",
        [key],
    ).fetchone() == (None, None, None, None, True)
    # in the profile (line n of the ledger is supplier n, SEK 1,000 x n; 300,000 in all):
    # the sole trader's 24,000 shows as legal form E and section F ...
    assert dict(
        con.execute(
            """select dimension, value from marts.kpi_supplier_profile
               where scope = 'overall' and suppliers = 1 and addressable_spend = 24000"""
        ).fetchall()
    ) == {"legal_form": "E", "sni_section": "F"}
    # ... and in the unknown rows of size, sme and local. Size known: lines 14 (class 7),
    # 15 (8), 16 (9), 18 (4); unknown 300,000 - 63,000. Town (var: östersund) known for
    # lines 1-12 and 19-23 (13-18 are in the size-class file only, 24 is withheld):
    # unknown 1,000 x (13 + 14 + 15 + 16 + 17 + 18 + 24) = 117,000; not local 1-3.
    shares = {
        (d, v): amount
        for d, v, amount in con.execute(
            """select dimension, value, addressable_spend from marts.kpi_supplier_profile
               where scope = 'overall'"""
        ).fetchall()
    }
    assert shares[("size", "unknown")] == shares[("sme", "unknown")] == 237000
    assert shares[("local", "unknown")] == 117000
    assert shares[("local", "not_local")] == 6000
    assert shares[("local", "local")] == 177000


def test_evidence_of_the_category_fit_raises_the_rank(tmp_path: Path):
    """DQ17 (info) on a line DQ02 (warning) flags: the exception's combined score is
    1 - (1 - DQ02's) x (1 - DQ17's 0.5), so the line ranks higher on the list to
    accounting; a line only DQ17 flags stays off the list (info)."""
    import shutil

    folder = tmp_path / "fixture"
    shutil.copytree(FIXTURES / "dq_rules" / "DQ02", folder)
    # Papper AB (556036-0793) in IT (J): its office-supply lines fit (Kontor och
    # administration accepts J), its one line on medical consumables (P20, which DQ02
    # flags) does not (Vård och medicin: C G M N Q). Labbmaterial AB (559000-2225) in
    # real estate (L): none of its categories fits, DQ17 alone.
    (folder / "register_scb.csv").write_text(
        "supplier_id;legal_form_code;sni_1\n556036-0793;49;62010\n559000-2225;49;68200\n",
        encoding="utf-8",
    )
    data = DataDir(tmp_path / "var").ensure()
    build_with_register(data, folder, KEY, ledger="ledger.csv")
    with duckdb.connect(str(data.warehouse), read_only=True) as con:
        fired = {
            rule: score
            for rule, score in con.execute(
                """select e.rule_id, e.score from marts.dq_invoice_exceptions as e
                   where e.verification_id = 'P20'"""
            ).fetchall()
        }
        assert set(fired) == {"DQ02", "DQ17"}
        line = con.execute(
            """select rule_ids, primary_rule_id, severity, score, amount_at_stake, impact
               from marts.dq_exception_lines where verification_id = 'P20'"""
        ).fetchone()
        combined = 1 - (1 - fired["DQ02"]) * (1 - 0.5)
        assert line[:3] == ("DQ02,DQ17", "DQ02", "warning")
        assert line[3] == pytest.approx(combined)
        assert float(line[5]) == pytest.approx(round(combined * float(line[4]), 2), abs=0.01)
        assert float(line[5]) > fired["DQ02"] * float(line[4])
        # DQ17 alone (Labbmaterial AB): info, ranked apart, not on the list
        alone = con.execute(
            """select distinct severity, on_list from marts.dq_accounting_list
               where supplier_key = '559000-2225' and rule_ids = 'DQ17'"""
        ).fetchall()
        assert alone == [("info", False)]
