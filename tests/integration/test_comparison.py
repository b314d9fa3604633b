"""The comparison across organisations (spendkoll.reporting.comparison).

Three small demo organisations (different seeds, keys and sizes; the third has
one fiscal year only) are generated, loaded, built and published with the
command line, as an installation's nights would; a fourth member has never
published. The comparison is built once from their published snapshots and
checked against

* the marts' own KPI tables (the KPIs taken from them as they are);
* an independent oracle: each KPI the module computes (and two it takes),
  recomputed in plain Python from the published fct_spend lines following the
  written definitions (_kpi__docs.md);
* statistics.quantiles(method='inclusive') for the quartiles, and a hand-worked
  case of five organisations for the pure statistics;
* leakage: nothing row-level of one organisation (supplier ids and names,
  invoice numbers, org units) and no other organisation's name reaches a
  member's pages or the comparison mart.
"""

from __future__ import annotations

import html
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from spendkoll.paths import DataDir
from spendkoll.publish import published_path
from spendkoll.reporting.comparison import (
    CATEGORY_PREFIX,
    KPIS,
    ComparisonResult,
    Member,
    build_comparison,
    compare,
    distribution,
    format_value,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("comparison")]

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "include" / "sources" / "demo.toml"
# id, name, generator seed, ledger lines, years, report language
ORGS = (
    ("norrby", "Region Norrbyn", 21, 15_000, 2, "sv"),
    ("sydvik", "Sydviks kommun", 22, 15_000, 2, "en"),
    ("osterby", "Österby kommun", 23, 8_000, 1, "sv"),  # 2024 only
)
FIRST, SECOND = 2024, 2025
SMALL_INVOICE_LIMIT = Decimal("10000")  # dbt var spendkoll_small_invoice_limit
MART_COLUMNS = [
    "fiscal_year",
    "org_id",
    "org_name",
    "kpi",
    "kpi_label_sv",
    "kpi_label_en",
    "unit",
    "value",
    "n_organisations",
    "min_value",
    "q1",
    "median",
    "q3",
    "max_value",
    "quartile",
    "rank",
    "higher_is_better",
]
TOO_FEW = {"sv": "För få organisationer", "en": "Too few organisations"}


def spendkoll(root: Path, key: str, *args: str) -> None:
    """The command line as one organisation: its own data directory and key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPENDKOLL_")}
    env.update(
        SPENDKOLL_DATA_DIR=str(root),
        SPENDKOLL_PSEUDONYM_KEY=key,
        SPENDKOLL_SOURCES=str(SOURCES),
    )
    cmd = [str(Path(sys.executable).with_name("spendkoll")), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, (
        f"spendkoll {' '.join(args)} ({root.name}) exited {proc.returncode}:\n"
        + proc.stdout[-4000:]
        + proc.stderr[-3000:]
    )


@pytest.fixture(scope="module")
def installation(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[Member], Path, ComparisonResult]:
    base = tmp_path_factory.mktemp("installation")
    members = []
    for org_id, name, seed, lines, years, lang in ORGS:
        root = (base / "orgs" / org_id).resolve()
        key = f"comparison-test-pseudonym-key-{org_id}-0123456789"
        spendkoll(
            root, key, "generate", "--lines", str(lines), "--seed", str(seed), "--years", str(years)
        )
        spendkoll(root, key, "load")
        spendkoll(root, key, "transform")
        spendkoll(root, key, "publish")
        members.append(Member(org_id, name, DataDir(root), lang))
    # an organisation whose night has never published
    ghost = DataDir((base / "orgs" / "ghost").resolve()).ensure()
    members.append(Member("ghost", "Spökholms kommun", ghost))
    out = base / "comparison"
    return members, out, build_comparison(members, out)


def member(members: list[Member], org_id: str) -> Member:
    return next(m for m in members if m.id == org_id)


def published(m: Member, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(published_path(m.data)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def mart_rows(out: Path) -> tuple[list[str], list[dict[str, Any]]]:
    con = duckdb.connect(str(out / "comparison.duckdb"), read_only=True)
    try:
        cur = con.execute("select * from marts.cmp_organisation_kpis")
        names = [d[0] for d in cur.description]
        return names, [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def by_key(rows: list[dict[str, Any]]) -> dict[tuple[int, str, str], dict[str, Any]]:
    return {(r["fiscal_year"], r["org_id"], r["kpi"]): r for r in rows}


# ---------------------------------------------------------------------------
# the mart


def test_mart_has_one_row_per_organisation_year_and_kpi(installation) -> None:
    members, out, result = installation
    names, rows = mart_rows(out)
    assert names == MART_COLUMNS
    assert len(rows) == len(result.rows) > 0
    assert len(by_key(rows)) == len(rows), "a (fiscal year, organisation, KPI) twice"
    # the Parquet file holds the same rows
    con = duckdb.connect()
    parquet = con.execute(
        f"select * from read_parquet('{out / 'cmp_organisation_kpis.parquet'}')"
    ).fetchall()
    assert sorted(map(str, parquet)) == sorted(str(tuple(r.values())) for r in rows)
    # written under a temporary name and renamed: nothing else is left behind
    assert sorted(p.name for p in out.iterdir()) == [
        "cmp_organisation_kpis.parquet",
        "comparison.duckdb",
    ]
    assert result.fiscal_years == [FIRST, SECOND]
    orgs_in = {y: {r["org_id"] for r in rows if r["fiscal_year"] == y} for y in (FIRST, SECOND)}
    assert orgs_in == {FIRST: {"norrby", "sydvik", "osterby"}, SECOND: {"norrby", "sydvik"}}
    names_of = {m.id: m.name for m in members}
    overall = {k.key for k in KPIS}
    for year, orgs in orgs_in.items():
        for org in orgs:
            mine = [r for r in rows if r["fiscal_year"] == year and r["org_id"] == org]
            assert {r["org_name"] for r in mine} == {names_of[org]}
            assert {r["kpi"] for r in mine if not r["kpi"].startswith(CATEGORY_PREFIX)} == overall
            categories = [r for r in mine if r["kpi"].startswith(CATEGORY_PREFIX)]
            assert len(categories) >= 5, f"{org} {year}: compliance for too few categories"
            assert all(r["value"] is not None for r in mine)
    directions = {k.key: k.higher_is_better for k in KPIS}
    for r in rows:
        expected = directions.get(r["kpi"], True)  # per category: higher is better
        assert r["higher_is_better"] is expected, r
        if r["kpi"] in directions:
            assert r["n_organisations"] == (3 if r["fiscal_year"] == FIRST else 2), r


def test_kpis_taken_from_the_marts_are_the_marts_own(installation) -> None:
    members, out, _ = installation
    rows = by_key(mart_rows(out)[1])
    for org_id, *_ in ORGS:
        m = member(members, org_id)
        yearly = published(
            m,
            "select fiscal_year, supplier_loyalty_pct, category_compliance_pct, "
            "small_invoice_share_pct, ecommerce_share_pct from marts.kpi_yearly",
        )
        assert yearly
        for year, loyalty, compliance, small, ecommerce in yearly:
            got = {
                k: rows[(year, org_id, k)]["value"]
                for k in (
                    "supplier_loyalty_pct",
                    "category_compliance_pct",
                    "small_invoice_share_pct",
                    "ecommerce_share_pct",
                )
            }
            assert got == {
                "supplier_loyalty_pct": loyalty,
                "category_compliance_pct": compliance,
                "small_invoice_share_pct": small,
                "ecommerce_share_pct": ecommerce,
            }
        for year, behind_80 in published(
            m,
            "select fiscal_year, suppliers_behind_80_pct from marts.kpi_supplier_concentration "
            "where scope = 'overall'",
        ):
            assert rows[(year, org_id, "suppliers_behind_80_pct")]["value"] == behind_80


def oracle(m: Member) -> dict[tuple[int, str], Decimal]:
    """The KPIs per (fiscal year, kpi), in plain Python from the published lines,
    following _kpi__docs.md (kpi_spend_measures, kpi_uncontracted_above_threshold,
    kpi_supplier_concentration). Unrounded."""
    lines = published(
        m,
        "select fiscal_year, invoice_key, supplier_key, category_id, category_level1, "
        "spend_class, has_active_contract, contract_covers_category, amount "
        "from marts.fct_spend",
    )
    thresholds = published(
        m, "select valid_from, valid_to, threshold_sek from reference.direct_procurement_thresholds"
    )
    invoice_total: dict[str, Decimal] = defaultdict(Decimal)
    invoices_in_year: dict[int, set[str]] = defaultdict(set)
    addressable: dict[int, Decimal] = defaultdict(Decimal)
    contracted: dict[int, Decimal] = defaultdict(Decimal)
    uncontracted: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    per_supplier: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    cat_addressable: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    cat_covered: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for year, invoice, supplier, category, level1, spend_class, active, covers, amount in lines:
        # an invoice's amount is the net of all its lines, in any period
        invoice_total[invoice] += amount
        invoices_in_year[year].add(invoice)
        if spend_class != "addressable":
            continue
        addressable[year] += amount
        cat_addressable[(year, level1)] += amount
        if active:
            contracted[year] += amount
        if covers:
            cat_covered[(year, level1)] += amount
        if supplier is not None:
            per_supplier[(year, supplier)] += amount
            if not covers:
                uncontracted[(year, supplier, category)] += amount
    out: dict[tuple[int, str], Decimal] = {}
    hundred = Decimal(100)
    for year in invoices_in_year:
        invoices = [i for i in invoices_in_year[year] if invoice_total[i] > 0]
        small = [i for i in invoices if invoice_total[i] < SMALL_INVOICE_LIMIT]
        out[(year, "small_invoice_share_pct")] = hundred * len(small) / len(invoices)
        out[(year, "supplier_loyalty_pct")] = hundred * contracted[year] / addressable[year]
        # the year's threshold: the lowest one in force on some day of the year
        threshold = min(
            t
            for start, end, t in thresholds
            if start <= date(year, 12, 31) and end >= date(year, 1, 1)
        )
        above = sum(
            (v for (y, _, _), v in uncontracted.items() if y == year and v > threshold),
            Decimal(0),
        )
        out[(year, "uncontracted_above_threshold_sek")] = above
        out[(year, "uncontracted_above_threshold_pct")] = hundred * above / addressable[year]
        suppliers = sum(1 for (y, _), v in per_supplier.items() if y == year and v > 0)
        out[(year, "suppliers_per_msek")] = suppliers / (addressable[year] / Decimal(1_000_000))
        for (y, level1), spend in cat_addressable.items():
            if y == year and spend != 0:
                out[(year, CATEGORY_PREFIX + level1)] = hundred * cat_covered[(y, level1)] / spend
    return out


def test_computed_kpis_equal_an_independent_oracle(installation) -> None:
    members, out, _ = installation
    rows = mart_rows(out)[1]
    checked = 0
    for org_id, *_ in ORGS:
        expected = oracle(member(members, org_id))
        mine = {(r["fiscal_year"], r["kpi"]): r["value"] for r in rows if r["org_id"] == org_id}
        # compliance for the same categories (those with addressable spend)
        assert {k for k in mine if k[1].startswith(CATEGORY_PREFIX)} == {
            k for k in expected if k[1].startswith(CATEGORY_PREFIX)
        }
        for key, value in expected.items():
            if key[1] == "uncontracted_above_threshold_sek":
                assert mine[key] == value, (org_id, key)  # sums of öre: exact
            else:
                # to the 0.01 percentage point (0.01 supplier per MSEK)
                assert abs(mine[key] - value) <= Decimal("0.01"), (org_id, key, mine[key], value)
            checked += 1
    assert checked > 40


def test_distribution_matches_statistics_quantiles(installation) -> None:
    _, out, _ = installation
    rows = mart_rows(out)[1]
    groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["fiscal_year"], r["kpi"])].append(r)
    for (year, kpi), group in groups.items():
        values = [r["value"] for r in group if r["value"] is not None]
        n = len(values)
        for r in group:
            assert (r["n_organisations"], r["min_value"], r["max_value"]) == (
                n,
                min(values),
                max(values),
            ), (year, kpi)
            if n >= 2:
                q1, median, q3 = statistics.quantiles(
                    [float(v) for v in values], n=4, method="inclusive"
                )
                assert float(r["q1"]) == pytest.approx(q1, abs=1e-6), (year, kpi)
                assert float(r["median"]) == pytest.approx(median, abs=1e-6), (year, kpi)
                assert float(r["q3"]) == pytest.approx(q3, abs=1e-6), (year, kpi)
                assert r["median"] == statistics.median(values)
            v, better = r["value"], r["higher_is_better"]
            # rank: 1 + the organisations strictly better
            if better:
                assert r["rank"] == 1 + sum(1 for x in values if x > v)
                bounds = [r["q3"], r["median"], r["q1"]]
                assert r["quartile"] == next((i for i, b in enumerate(bounds, 1) if v >= b), 4)
            else:
                assert r["rank"] == 1 + sum(1 for x in values if x < v)
                bounds = [r["q1"], r["median"], r["q3"]]
                assert r["quartile"] == next((i for i, b in enumerate(bounds, 1) if v <= b), 4)
    # both sizes of comparison are there: three organisations in 2024, two in 2025
    assert {r["n_organisations"] for r in rows if r["fiscal_year"] == FIRST} >= {3}
    assert {r["n_organisations"] for r in rows if r["fiscal_year"] == SECOND} == {2}


def test_statistics_on_five_organisations_worked_by_hand() -> None:
    # Five organisations, loyalty %, higher is better.
    # Sorted: 70.00, 80.00, 88.00, 92.50, 95.00 (n = 5). quantile_cont at
    # h = (n - 1) * p = 4p: Q1 at h = 1 -> 80.00; median at h = 2 -> 88.00;
    # Q3 at h = 3 -> 92.50 (with five values the quartiles fall on values).
    loyalty = {
        "a": Decimal("80.00"),
        "b": Decimal("92.50"),
        "c": Decimal("70.00"),
        "d": Decimal("88.00"),
        "e": Decimal("95.00"),
    }
    pos = compare(loyalty, higher_is_better=True)
    d = pos["a"].distribution
    assert d is not None
    assert (d.n, d.min, d.q1, d.median, d.q3, d.max) == (
        5,
        Decimal("70.00"),
        Decimal("80.00"),
        Decimal("88.00"),
        Decimal("92.50"),
        Decimal("95.00"),
    )
    # Quartile, higher is better: 1 when >= Q3 (92.50): e 95, b 92.50 (on the
    # boundary: the better quarter); 2 when >= median 88: d; 3 when >= Q1 80: a;
    # else 4: c. Rank: 1 + the number strictly higher: e 1, b 2, d 3, a 4, c 5.
    assert {k: (p.quartile, p.rank) for k, p in pos.items()} == {
        "e": (1, 1),
        "b": (1, 2),
        "d": (2, 3),
        "a": (3, 4),
        "c": (4, 5),
    }
    # The same values where lower is better: 1 when <= Q1 (80): c 70, a 80;
    # 2 when <= median 88: d; 3 when <= Q3 92.50: b; else 4: e. Rank: 1 + the
    # number strictly lower: c 1, a 2, d 3, b 4, e 5.
    low = compare(loyalty, higher_is_better=False)
    assert {k: (p.quartile, p.rank) for k, p in low.items()} == {
        "c": (1, 1),
        "a": (1, 2),
        "d": (2, 3),
        "b": (3, 4),
        "e": (4, 5),
    }
    # Five organisations, small-invoice share %, lower is better; d has no value
    # (no invoice), so n = 4. Sorted: 10.00, 20.00, 20.00, 50.00; h = 3p:
    # Q1 at h = 0.75 -> 10 + 0.75 * (20 - 10) = 17.50; median at h = 1.5 ->
    # 20 + 0.5 * (20 - 20) = 20.00; Q3 at h = 2.25 -> 20 + 0.25 * (50 - 20) = 27.50.
    small = {
        "a": Decimal("10.00"),
        "b": Decimal("20.00"),
        "c": Decimal("20.00"),
        "d": None,
        "e": Decimal("50.00"),
    }
    pos = compare(small, higher_is_better=False)
    d = pos["d"].distribution
    assert d is not None
    assert (d.n, d.min, d.q1, d.median, d.q3, d.max) == (
        4,
        Decimal("10.00"),
        Decimal("17.50"),
        Decimal("20.00"),
        Decimal("27.50"),
        Decimal("50.00"),
    )
    assert [float(x) for x in (d.q1, d.median, d.q3)] == statistics.quantiles(
        [10.0, 20.0, 20.0, 50.0], n=4, method="inclusive"
    )
    # a 10 <= Q1 17.50: 1; b and c 20 <= median 20: 2 (a tie shares its rank, 2,
    # and the next is 4); e 50 > Q3: 4; d: no quartile, no rank.
    assert {k: (p.quartile, p.rank) for k, p in pos.items()} == {
        "a": (1, 1),
        "b": (2, 2),
        "c": (2, 2),
        "d": (None, None),
        "e": (4, 4),
    }
    # Without a direction (concentration) quartile and rank count from the lowest.
    neutral = compare(small, higher_is_better=None)
    assert {k: (p.quartile, p.rank) for k, p in neutral.items()} == {
        k: (p.quartile, p.rank) for k, p in pos.items()
    }
    one = distribution([Decimal("42.00")])
    assert (one.n, one.min, one.q1, one.median, one.q3, one.max) == (1,) + (Decimal("42.00"),) * 5


# ---------------------------------------------------------------------------
# the pages

ROW = re.compile(
    r'<tr data-kpi="([^"]*)" data-value="([^"]*)" data-n="(\d+)"\s+'
    r'data-quartile="([^"]*)"\s+data-rank="([^"]*)">'
)


def test_each_member_gets_its_own_pages(installation) -> None:
    members, out, result = installation
    rows = by_key(mart_rows(out)[1])
    expected = {
        "norrby": ["2024.html", "2025.html"],
        "sydvik": ["2024.en.html", "2024.html", "2025.en.html", "2025.html"],
        "osterby": ["2024.html"],
    }
    pages = []
    for org_id, names in expected.items():
        folder = member(members, org_id).data.reports / "comparison"
        assert sorted(p.name for p in folder.iterdir()) == names  # no temporary file left
        pages += [folder / n for n in names]
    assert sorted(result.pages) == sorted(pages)
    for page in result.pages:
        org_id = page.parents[2].name
        m = member(members, org_id)
        year = int(page.name[:4])
        lang = "en" if page.name.endswith(".en.html") else "sv"
        text = page.read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in text
        assert html.escape(m.name) in text
        # self-contained: no script, nothing fetched
        for needle in ("<script", "http://", "https://", " src=", "url(", "<link", "@import"):
            assert needle not in text, (page, needle)
        found = ROW.findall(text)
        mine = {k for k in rows if k[0] == year and k[1] == org_id}
        assert {(year, org_id, html.unescape(f[0])) for f in found} == mine
        for kpi, value, n, quartile, rank in found:
            row = rows[(year, org_id, html.unescape(kpi))]
            assert value == str(row["value"])
            assert int(n) == row["n_organisations"]
            if row["n_organisations"] >= 3:
                assert (quartile, rank) == (str(row["quartile"]), str(row["rank"]))
            else:  # two organisations: the other's value would be the min or the max
                assert (quartile, rank) == ("", "")
        if year == FIRST:
            loyalty = rows[(year, org_id, "supplier_loyalty_pct")]
            for stat in ("min_value", "q1", "median", "q3", "max_value"):
                assert format_value(loyalty[stat], "pct", lang) in text
            assert text.count("<svg") == sum(1 for k in mine if rows[k]["n_organisations"] >= 3)
        else:
            assert TOO_FEW[lang] in text
            assert "<svg" not in text


def test_nothing_of_one_organisation_reaches_another(installation) -> None:
    members, out, _ = installation
    for source_id in ("norrby", "sydvik"):
        source = member(members, source_id)
        identifiers: set[str] = set()
        for row in published(
            source,
            "select distinct supplier_key, supplier_name, invoice_number, invoice_key, "
            "verification_id, org_unit_id, org_unit_name, cost_centre from marts.fct_spend",
        ):
            identifiers.update(str(v) for v in row if v is not None and str(v).strip())
        assert len(identifiers) > 10_000
        for other in members:
            if other.id == source_id or other.id == "ghost":
                continue
            texts = [
                p.read_text(encoding="utf-8")
                for p in sorted((other.data.reports / "comparison").iterdir())
            ]
            assert texts
            # as written, and with the HTML entities read (a name with "&" is &amp;)
            text = "\n".join(texts + [html.unescape(t) for t in texts])
            leaked = sorted(i for i in identifiers if i in text)
            assert not leaked, f"{source_id}'s data in {other.id}'s pages: {leaked[:10]}"
            # no other organisation is named on a member's page
            for third in members:
                if third.id != other.id:
                    assert third.name not in text, (third.id, other.id)
                    assert third.id not in text.lower(), (third.id, other.id)
        # the mart: every text it holds is an organisation, a KPI or a label;
        # its numbers are KPI values and statistics
        con = duckdb.connect()
        for path in (out / "comparison.duckdb", out / "cmp_organisation_kpis.parquet"):
            if path.suffix == ".duckdb":
                con.execute(f"attach '{path}' as cmp (read_only)")
                relation = "cmp.marts.cmp_organisation_kpis"
            else:
                relation = f"read_parquet('{path}')"
            texts = [
                str(v)
                for row in con.execute(
                    f"select org_id, org_name, kpi, kpi_label_sv, kpi_label_en, unit "
                    f"from {relation}"
                ).fetchall()
                for v in row
            ]
            text = "\n".join(texts)
            leaked = sorted(i for i in identifiers if i in text)
            assert not leaked, f"{source_id}'s data in {path.name}: {leaked[:10]}"
            types = {
                r[0]: r[1] for r in con.execute(f"describe select * from {relation}").fetchall()
            }
            assert {c for c, t in types.items() if t == "VARCHAR"} == {
                "org_id",
                "org_name",
                "kpi",
                "kpi_label_sv",
                "kpi_label_en",
                "unit",
            }
        con.close()


def test_a_member_without_a_published_snapshot_is_skipped(installation, tmp_path: Path) -> None:
    members, out, result = installation
    ghost = member(members, "ghost")
    assert len(result.skipped) == 1
    assert result.skipped[0].startswith("ghost: no published snapshot")
    assert not any(r.org_id == "ghost" for r in result.rows)
    assert not (ghost.data.reports / "comparison").exists()
    assert all("ghost" not in str(p) for p in result.pages)
    # alone, it makes an empty comparison, not an error
    alone = build_comparison([ghost], tmp_path / "alone")
    assert (alone.fiscal_years, alone.rows, alone.pages) == ([], [], [])
    assert len(alone.skipped) == 1
    names, rows = mart_rows(tmp_path / "alone")
    assert names == MART_COLUMNS and rows == []


def test_rebuilt_while_a_reader_has_the_mart_open(installation, tmp_path: Path) -> None:
    """The new mart is a new file renamed over the old one: a reader keeps the
    version it opened, the next reader gets the new one."""
    members, _, result = installation
    out = tmp_path / "cmp"
    build_comparison(members[:2], out)
    reader = duckdb.connect(str(out / "comparison.duckdb"), read_only=True)
    try:
        count = "select count(distinct org_id) from marts.cmp_organisation_kpis"
        assert reader.execute(count).fetchone() == (2,)
        again = build_comparison(members, out)
        assert len(again.rows) == len(result.rows)
        assert reader.execute(count).fetchone() == (2,)
    finally:
        reader.close()
    assert mart_rows(out)[1] and len({r["org_id"] for r in mart_rows(out)[1]}) == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "cmp_organisation_kpis.parquet",
        "comparison.duckdb",
    ]
