"""Metamorphic tests over the whole pipeline: the same ledger delivered in
another shape must give the same marts, and a known change to the input must
change exactly the rows it concerns.

Every variant goes through the real CLI (`spendkoll load`, `spendkoll
transform`, as users run it) on its own data directory and is compared with a
base build of the same data:

* the base is a small demo region (`spendkoll generate`, one year, about 2,000
  ledger lines: many suppliers, contracts starting and ending inside the year,
  credit notes, sole traders, lines without supplier id, e-commerce orders,
  planted duplicates and mis-codings), loaded with the shipped
  `include/sources/demo.toml` (ledger `replace = "month"`);
* the as-of relation uses the hand-made golden files (`tests/fixtures/golden/`),
  whose sparse posting dates leave gaps an as-of date can move in.

A line's identity (`ledger_line_id` = source:batch:line, `batch_id`,
`source_line`, `source_file`, the `exception_id` made of the line id) names the
delivery it came in, so it legitimately changes when the same lines arrive in
other files or in another order; those columns, and `built_at`, are left out
where the deliveries differ. Where they do not (a file delivered again), the
marts are compared whole.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from conftest import FIXTURES, KEY, drop_planted_malformed_rows
from test_incremental_build import marts, query

from spendkoll.bench import new_day
from spendkoll.transform.dbt import dbt_project_dir

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("metamorphic")]

LINE_IDENTITY = (
    "ledger_line_id",
    "batch_id",
    "source_line",
    "source_file",
    "exception_id",
    "built_at",
    # dq_contract_exceptions: a register row's place in its file
    "contract_exception_id",
    "file_name",
    "line",
)
# An exception's status counts the builds that listed it (new in the latest,
# open after): one more build of the same data turns new into open.
BUILD_HISTORY = ("status",)
# Exception lists that are legitimately empty on clean data (the demo's
# contract register uses only recognised values).
MAY_BE_EMPTY = {"dq_contract_exceptions"}
DEMO_LINES = 2000


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[object, ...]]

    def dicts(self) -> list[dict[str, object]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


Snapshot = dict[str, Table]


# --------------------------------------------------------------------------- helpers


def spendkoll(
    root: Path, *args: str, sources: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The `spendkoll` command, as a user runs it, on the data directory `root`."""
    env = dict(os.environ)
    env["SPENDKOLL_PSEUDONYM_KEY"] = KEY.decode()
    env.pop("SPENDKOLL_DATA_DIR", None)
    env.pop("SPENDKOLL_RULE_SET", None)
    if sources:
        env["SPENDKOLL_SOURCES"] = str(sources)
    else:
        env.pop("SPENDKOLL_SOURCES", None)
    cmd = [str(Path(sys.executable).with_name("spendkoll")), "--data-dir", str(root), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, (
            f"spendkoll {' '.join(args)} exited {proc.returncode}:\n"
            + proc.stdout[-6000:]
            + proc.stderr[-3000:]
        )
    return proc


def warehouse(root: Path) -> Path:
    return root / "warehouse" / "spendkoll.duckdb"


def snapshot(root: Path, drop: tuple[str, ...] = LINE_IDENTITY + BUILD_HISTORY) -> Snapshot:
    """Every mart with its column names, rows sorted, without the `drop` columns."""
    con = duckdb.connect(str(warehouse(root)), read_only=True)
    try:
        out: Snapshot = {}
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by 1"
            ).fetchall()
        ]
        for table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in drop
            ]
            rows = con.execute(
                f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from marts."{table}"'
            ).fetchall()
            out[table] = Table(cols, sorted(rows, key=repr))
        return out
    finally:
        con.close()


def diff(before: list[tuple[object, ...]], after: list[tuple[object, ...]], limit: int = 5) -> str:
    gone = list((Counter(before) - Counter(after)).elements())
    new = list((Counter(after) - Counter(before)).elements())
    return (
        f"{len(gone)} row(s) only before, e.g. {gone[:limit]}; "
        f"{len(new)} row(s) only after, e.g. {new[:limit]}"
    )


def assert_same_marts(expected: Snapshot, actual: Snapshot, what: str) -> None:
    assert sorted(actual) == sorted(expected), what
    bad = {
        t: diff(expected[t].rows, actual[t].rows)
        for t in expected
        if expected[t].columns != actual[t].columns or expected[t].rows != actual[t].rows
    }
    assert not bad, f"{what}: marts differ from the base:\n" + "\n".join(
        f"  {t}: {d}" for t, d in bad.items()
    )


def data_lines(path: Path, encoding: str = "utf-8") -> tuple[str, list[str]]:
    """(header line, data lines) of a delimited file, each line as written."""
    lines = path.read_text(encoding=encoding).splitlines(keepends=True)
    return lines[0], lines[1:]


def field_of(line: str, header: str, name: str) -> str:
    cols = next(csv.reader([header.strip()], delimiter=";"))
    return next(csv.reader([line.strip()], delimiter=";"))[cols.index(name)]


def write_lines(path: Path, header: str, lines: list[str], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(lines), encoding=encoding)


def sources_toml(path: Path, ledger_replace: str) -> Path:
    """The shipped demo sources file with the ledger's `replace` rule changed."""
    from spendkoll.paths import project_root

    text = (project_root() / "include" / "sources" / "demo.toml").read_text(encoding="utf-8")
    assert text.count('replace = "month"') == 1, "demo.toml changed: adapt this helper"
    path.write_text(
        text.replace('replace = "month"', f'replace = "{ledger_replace}"'), encoding="utf-8"
    )
    return path


def new_data_dir(tmp: pytest.TempPathFactory, name: str, files: Path) -> Path:
    """A fresh data directory whose landing zone holds a copy of `files`."""
    root = tmp.mktemp(name) / "var"
    shutil.copytree(files, root / "landing")
    return root


def load_and_build(root: Path, sources: Path | None = None) -> None:
    spendkoll(root, "load", sources=sources)
    assert not any((root / "landing").rglob("*.*")), "a landing file was not loaded"
    spendkoll(root, "transform")


def ledger_files(landing: Path) -> list[Path]:
    return sorted((landing / "ledger").glob("ledger_*.csv"))


# --------------------------------------------------------------------------- base


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo region's landing files, without the three malformed rows the
    generator plants for the quarantine (in a small month they are more than
    max_bad_row_share and would reject the month's file; the quarantine is not
    what these tests are about)."""
    root = tmp_path_factory.mktemp("demo-files") / "var"
    spendkoll(root, "generate", "--lines", str(DEMO_LINES), "--years", "1")
    drop_planted_malformed_rows(root)
    return root / "landing"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, demo_files: Path) -> Path:
    """The demo files loaded with the shipped sources file and built with
    `spendkoll transform`: the data directory every variant is compared with."""
    root = new_data_dir(tmp_path_factory, "base", demo_files)
    load_and_build(root)
    return root


@pytest.fixture(scope="module")
def base_marts(base: Path) -> Snapshot:
    snap = snapshot(base)
    # The comparisons below are only worth something on a base that has rows
    # in every mart, lines of several months and exceptions of the duplicate rules.
    empty = [t for t, v in snap.items() if not v.rows and t not in MAY_BE_EMPTY]
    assert not empty, f"empty marts in the base: {empty}"
    assert len(snap["kpi_monthly_organisation"].rows) == 12
    rules = {r["rule_id"] for r in snap["dq_invoice_exceptions"].dicts()}
    assert {"DQ02", "DQ07"} <= rules, rules
    return snap


def copy_of(tmp: pytest.TempPathFactory, root: Path, name: str) -> Path:
    target = tmp.mktemp(name) / "var"
    shutil.copytree(root, target)
    return target


# --------------------------------------------------------------------------- a. split deliveries


def split_by_day(landing: Path) -> None:
    """Every month's file as two deliveries: posting days 1-15 and 16-31."""
    for path in ledger_files(landing):
        header, lines = data_lines(path)
        early = [x for x in lines if int(field_of(x, header, "posting_date")[8:10]) <= 15]
        late = [x for x in lines if int(field_of(x, header, "posting_date")[8:10]) > 15]
        assert early and late
        path.unlink()
        write_lines(path.with_name(path.stem + "_a.csv"), header, early)
        write_lines(path.with_name(path.stem + "_b.csv"), header, late)


def split_by_row(landing: Path) -> None:
    """Every month's file as two deliveries of alternate rows (both deliveries
    hold lines of the same posting days)."""
    for path in ledger_files(landing):
        header, lines = data_lines(path)
        path.unlink()
        write_lines(path.with_name(path.stem + "_part1.csv"), header, lines[0::2])
        write_lines(path.with_name(path.stem + "_part2.csv"), header, lines[1::2])


def merge_half_years(landing: Path) -> None:
    """The year's twelve monthly files as two deliveries of six months each."""
    files = ledger_files(landing)
    assert len(files) == 12
    for half, group in (("h1", files[:6]), ("h2", files[6:])):
        header, _ = data_lines(group[0])
        lines = [x for p in group for x in data_lines(p)[1]]
        for p in group:
            p.unlink()
        write_lines(landing / "ledger" / f"ledger_2024-{half}.csv", header, lines)


SPLITS: dict[str, tuple[str, Callable[[Path], None]]] = {
    # replace = "day": a delivery replaces the posting days it holds, so two
    # deliveries of one month on different days add up.
    "day: month split by posting day": ("day", split_by_day),
    # replace = "file": a delivery replaces the earlier delivery of the same
    # file name, so two differently named deliveries of one month add up.
    "file: month split into two named files": ("file", split_by_row),
    # replace = "month": a delivery replaces the months it holds, so deliveries
    # of different months add up (two of the same month do not: see c).
    "month: two deliveries of different months": ("month", merge_half_years),
}


@pytest.mark.parametrize("case", list(SPLITS))
def test_split_deliveries_add_up(
    case: str, tmp_path_factory: pytest.TempPathFactory, demo_files: Path, base_marts: Snapshot
) -> None:
    """a. The marts do not change when the ledger arrives in more deliveries,
    under each `replace` rule that makes deliveries add up (README, "What a
    load guarantees"): no delivery replaces another, and every line is loaded
    once."""
    replace, split = SPLITS[case]
    root = new_data_dir(tmp_path_factory, "split", demo_files)
    split(root / "landing")
    n_files = len(ledger_files(root / "landing"))
    sources = sources_toml(root.parent / "sources.toml", replace)
    load_and_build(root, sources)
    statuses = query(
        warehouse(root),
        "select status, count(*) from raw.load_batch where source_name = 'ledger' group by 1",
    )
    assert statuses == [("loaded", n_files)], statuses
    assert_same_marts(base_marts, snapshot(root), case)


# --------------------------------------------------------------------------- b. reordered rows


def shuffle_rows(landing: Path) -> None:
    """The data rows of every ledger, e-commerce and contract register file in
    another (seeded, random) order."""
    rng = random.Random(20240601)
    for path in ledger_files(landing):
        header, lines = data_lines(path)
        rng.shuffle(lines)
        write_lines(path, header, lines)
    for path in sorted((landing / "ecommerce").glob("*.csv")):
        # CP1252 like a Raindance export; read and written back byte for byte
        header, lines = data_lines(path, "cp1252")
        rng.shuffle(lines)
        write_lines(path, header, lines, "cp1252")
    for path in sorted((landing / "contracts").glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        ws = wb.active
        assert ws is not None
        rows = list(ws.iter_rows(values_only=True))
        body = rows[1:]
        rng.shuffle(body)
        ws.delete_rows(2, ws.max_row)
        for row in body:
            ws.append(list(row))
        wb.save(path)


def test_reordered_rows_change_nothing(
    tmp_path_factory: pytest.TempPathFactory, demo_files: Path, base_marts: Snapshot
) -> None:
    """b. The marts do not change when the rows of every file (ledger months,
    e-commerce months, the contract register) come in another order."""
    root = new_data_dir(tmp_path_factory, "reordered", demo_files)
    before = {p.name: data_lines(p)[1] for p in ledger_files(root / "landing")}
    shuffle_rows(root / "landing")
    after = {p.name: data_lines(p)[1] for p in ledger_files(root / "landing")}
    for name, lines in after.items():  # the same rows in another order
        assert sorted(lines) == sorted(before[name]) and lines != before[name], name
    load_and_build(root)
    assert_same_marts(base_marts, snapshot(root), "rows reordered")


# --------------------------------------------------------------------------- c. delivered again


def test_identical_redelivery_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, base: Path, base_marts: Snapshot
) -> None:
    """c. A file whose checksum was loaded before changes nothing (README):
    the March ledger again under its own name with the shipped sources file,
    and under another name with `replace = "file"` (where a file that was not
    recognised by its checksum would be loaded a second time and double
    March); the contract register and an e-commerce month again under other
    names. No batch is added or replaced, and the nightly build after it
    leaves every mart as it was, batch ids and line ids included."""
    root = copy_of(tmp_path_factory, base, "redelivered")
    db = warehouse(root)
    batches = query(db, "select * from raw.load_batch order by batch_id")
    exact = marts(db)
    archive = root / "archive"

    def again(kind: str, original: str, name: str) -> None:
        archived = next(p for p in (archive / kind).iterdir() if p.name.endswith(original))
        target = root / "landing" / kind / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(archived, target)

    again("ledger", "_ledger_2024-03.csv", "ledger_2024-03.csv")
    again("contracts", "_avtalskatalog.xlsx", "avtalskatalog_resent.xlsx")
    again("ecommerce", "_ehandel_2024-03.csv", "ehandel_2024-03_resent.csv")
    out = spendkoll(root, "load").stdout
    assert out.count(" unchanged ") == 3, out
    again("ledger", "_ledger_2024-03.csv", "ledger_2024-03_resent.csv")
    out = spendkoll(
        root, "load", "ledger", sources=sources_toml(root.parent / "sources.toml", "file")
    ).stdout
    assert out.count(" unchanged ") == 1, out
    assert query(db, "select * from raw.load_batch order by batch_id") == batches
    spendkoll(root, "transform")
    assert query(db, "select count(*) from intermediate.int_spend_build_scope") == [(0,)]
    after = marts(db)
    assert after.keys() == exact.keys()
    for table in exact:
        assert after[table] == exact[table], (table, diff(exact[table], after[table]))
    assert_same_marts(base_marts, snapshot(root), "identical files delivered again")


# --------------------------------------------------------------------------- d. as-of date


GOLDEN_SOURCES = """
[[source]]
name = "ledger"
kind = "ledger"
format = "canonical"
pattern = "*.csv"
replace = "month"

[[source]]
name = "contracts"
kind = "contracts"
format = "contracts"
pattern = "*.csv"

[[source]]
name = "ecommerce"
kind = "ecommerce"
format = "ecommerce"
pattern = "*.csv"
replace = "file"
"""

AS_OF_DEPENDENT = ("as_of_date", "days_to_end")


def test_as_of_moving_in_a_quiet_period_changes_only_the_dates(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """d. The marts do not change when the as-of date moves inside a period
    in which nothing it looks at happens.

    Only kpi_contract_expiry reads the as-of date A (`transform --as-of A`, var
    spendkoll_as_of_date). It keeps the contracts with A < end_date <= A + 24
    months, puts each in window 0-12 when end_date <= A + 12 months, else
    12-24, and sums the matched lines with A - 12 months < posting_date <= A.
    Moving A from A1 to A2 (A1 < A2) therefore leaves the set of contracts,
    their windows and their trailing 12-month spend and lines unchanged when
    no contract end date lies in (A1, A2], (A1 + 12 m, A2 + 12 m] or
    (A1 + 24 m, A2 + 24 m], and no posting date in (A1, A2] or
    (A1 - 12 m, A2 - 12 m]. What must move is as_of_date (= A) and days_to_end
    (= end_date - A), by exactly A2 - A1 days; every other mart, and every
    other column of kpi_contract_expiry, must be identical.

    The golden files post on scattered days (README of tests/fixtures/golden):
    A1 = 2024-04-26 and A2 = 2024-04-29 lie between the postings of 04-25 (L21,
    on contract AVT-D) and 04-30 (L22), after contract AVT-B ended (04-15);
    the test checks this premise on the built warehouse itself, and that the
    mart is not empty and has trailing spend, so that it cannot pass vacuously.
    """
    a1, a2 = date(2024, 4, 26), date(2024, 4, 29)
    builds: dict[date, Snapshot] = {}
    roots: dict[date, Path] = {}
    for as_of in (a1, a2):
        root = tmp_path_factory.mktemp("as-of") / "var"
        for kind, name in (
            ("ledger", "ledger_2024.csv"),
            ("contracts", "contracts.csv"),
            ("ecommerce", "ecommerce.csv"),
        ):
            (root / "landing" / kind).mkdir(parents=True)
            shutil.copy(FIXTURES / "golden" / name, root / "landing" / kind / name)
        sources = root.parent / "sources.toml"
        sources.write_text(GOLDEN_SOURCES, encoding="utf-8")
        spendkoll(root, "load", sources=sources)
        spendkoll(root, "transform", "--as-of", as_of.isoformat())
        builds[as_of] = snapshot(root, drop=("built_at",))
        roots[as_of] = root

    ((quiet_postings, quiet_ends),) = query(
        warehouse(roots[a1]),
        f"""
        with b as (select date '{a1}' as a1, date '{a2}' as a2)
        select
            (select count(*) from marts.fct_spend, b
             where posting_date > a1 and posting_date <= a2
                or posting_date > cast(a1 - interval 12 month as date)
                   and posting_date <= cast(a2 - interval 12 month as date)),
            (select count(*) from marts.dim_contract, b
             where end_date > a1 and end_date <= a2
                or end_date > cast(a1 + interval 12 month as date)
                   and end_date <= cast(a2 + interval 12 month as date)
                or end_date > cast(a1 + interval 24 month as date)
                   and end_date <= cast(a2 + interval 24 month as date))""",
    )
    assert (quiet_postings, quiet_ends) == (0, 0), "the premise of the relation does not hold"

    first, second = builds[a1], builds[a2]
    assert sorted(first) == sorted(second)
    for table in first:
        if table != "kpi_contract_expiry":
            assert first[table].rows == second[table].rows, (
                table,
                diff(first[table].rows, second[table].rows),
            )
    expiry = {
        a: {r["contract_id"]: r for r in builds[a]["kpi_contract_expiry"].dicts()} for a in (a1, a2)
    }
    assert expiry[a1], "no contract in the expiry windows: the relation would be vacuous"
    assert sum(r["trailing_12m_spend"] for r in expiry[a1].values()) > 0
    assert {r["expiry_window"] for r in expiry[a1].values()} == {"0-12", "12-24"}
    assert expiry[a1].keys() == expiry[a2].keys()
    for contract, row in expiry[a1].items():
        other = expiry[a2][contract]
        assert {k: v for k, v in row.items() if k not in AS_OF_DEPENDENT} == {
            k: v for k, v in other.items() if k not in AS_OF_DEPENDENT
        }, contract
        assert (row["as_of_date"], other["as_of_date"]) == (a1, a2)
        assert row["days_to_end"] - other["days_to_end"] == (a2 - a1).days
    rows = [len(builds[a]["kpi_contract_expiry"].rows) for a in (a1, a2)]
    assert rows == [len(expiry[a1])] * 2, "kpi_contract_expiry has duplicate contract rows"


# --------------------------------------------------------------------------- e. one line added


ADDED_AMOUNT = Decimal("4321.09")  # under the small-invoice limit of SEK 10,000
ADDED_VAT = "1080.27"  # 25 %
MONEY_RULES: dict[str, Callable[[dict[str, object]], bool]] = {
    # Which additive measures a line counts in (_kpi__docs.md, kpi_spend_measures).
    "spend": lambda n: True,
    "addressable_spend": lambda n: n["spend_class"] == "addressable",
    "investment_spend": lambda n: n["spend_class"] == "investment",
    "non_addressable_spend": lambda n: n["spend_class"] == "non_addressable",
    "internal_spend": lambda n: n["spend_class"] == "internal",
    "unclassified_spend": lambda n: n["spend_class"] == "unclassified",
    "contracted_spend": lambda n: (
        n["spend_class"] == "addressable" and bool(n["has_active_contract"])
    ),
    "category_contracted_spend": lambda n: (
        n["spend_class"] == "addressable" and bool(n["contract_covers_category"])
    ),
    "on_time_contracted_spend": lambda n: (
        n["spend_class"] == "addressable" and bool(n["has_on_time_active_contract"])
    ),
    "procurement_unit_contracted_spend": lambda n: (
        n["spend_class"] == "addressable"
        and bool(n["has_active_contract"])
        and n["contract_procured_by"] == "procurement_unit"
        and not n["contract_registered_after_purchase"]
    ),
    "maverick_spend": lambda n: (
        n["spend_class"] == "addressable" and not n["contract_covers_category"]
    ),
    "ecommerce_spend": lambda n: n["spend_class"] == "addressable" and bool(n["via_ecommerce"]),
    "spend_without_supplier_id": lambda n: n["supplier_key"] is None,
}
SPEND_KPI_GRAINS = {
    "kpi_monthly": ("period", "org_unit_id", "category_level1"),
    "kpi_monthly_org_unit": ("period", "org_unit_id"),
    "kpi_monthly_organisation": ("period",),
    "kpi_yearly": ("fiscal_year",),
}


def by_key(table: Table, key: tuple[str, ...]) -> dict[tuple[object, ...], dict[str, object]]:
    out: dict[tuple[object, ...], dict[str, object]] = {}
    for row in table.dicts():
        k = tuple(row[c] for c in key)
        assert k not in out, (key, k)
        out[k] = row
    return out


def assert_only_changed(
    before: Table, after: Table, may_change: Callable[[dict[str, object]], bool], what: str
) -> None:
    """The rows for which may_change is false are identical before and after."""
    assert before.columns == after.columns, what
    keep_before = [r for r, d in zip(before.rows, before.dicts(), strict=True) if not may_change(d)]
    keep_after = [r for r, d in zip(after.rows, after.dicts(), strict=True) if not may_change(d)]
    assert keep_before == keep_after, f"{what}: {diff(keep_before, keep_after)}"


def test_added_line_changes_only_its_supplier_and_the_totals(
    tmp_path_factory: pytest.TempPathFactory, demo_files: Path, base: Path, base_marts: Snapshot
) -> None:
    """e. One more invoice line for one supplier X (in June, on the account,
    cost centre and day of one of X's contracted lines, under a new invoice
    number) changes, mart by mart and row by row:

    * fct_spend: one row more, X's, for the added amount; every other row stays;
    * dim_supplier, dq_invoice_exceptions, kpi_uncontracted_above_threshold:
      only X's rows (X's supplier profile is an input of the DQ02/DQ04/DQ05
      rules);
    * kpi_monthly, kpi_monthly_org_unit, kpi_monthly_organisation, kpi_yearly:
      only the row the line falls in, where every additive measure grows by
      exactly the amount when the line counts in it (the rules of
      _kpi__docs.md), lines and invoices by one, small invoices by one, credit
      notes not, suppliers by one only if X had no line in that row before;
    * kpi_supplier_concentration: only the overall and the line's category
      rows of the year, whose addressable spend grows by the amount;
    * kpi_supplier_segments: only the rows of the line's year and category;
      there X's addressable spend and every row's category spend grow by the
      amount, and the other suppliers' own measures stay;
    * kpi_contract_expiry: only the row of the contract the line matches,
      whose trailing 12-month spend and lines grow by the amount and one;
    * dim_contract, dim_category, dim_org_unit: nothing.
    """
    template = query(
        warehouse(base),
        """
        select f.verification_id, f.invoice_number, f.supplier_key, f.posting_date
        from marts.fct_spend as f
        inner join marts.kpi_contract_expiry as e on e.contract_id = f.matched_contract_id
        where f.period = '2024-06' and f.spend_class = 'addressable'
          and f.supplier_id_status = 'orgnr' and f.has_active_contract and f.amount > 0
        order by f.supplier_key, f.verification_id, f.line_number limit 1""",
    )
    assert template, "the base has no contracted line in June to copy"
    voucher, invoice, supplier, posting_date = template[0]

    root = new_data_dir(tmp_path_factory, "added-line", demo_files)
    june = root / "landing" / "ledger" / "ledger_2024-06.csv"
    header, lines = data_lines(june)
    model = next(
        x
        for x in lines
        if field_of(x, header, "verification_id") == voucher
        and field_of(x, header, "invoice_number") == invoice
    )
    cols = next(csv.reader([header.strip()], delimiter=";"))
    values = dict(zip(cols, next(csv.reader([model.strip()], delimiter=";")), strict=True))
    values.update(
        verification_id="MM-ADDED-1",
        line_number="1",
        invoice_number="MM-ADDED-1",
        amount_excl_vat=str(ADDED_AMOUNT),
        vat=ADDED_VAT,
        description="metamorphic: one line added",
    )
    added_line = ";".join(f'"{values[c]}"' for c in cols) + "\n"
    write_lines(june, header, [*lines, added_line])
    load_and_build(root)
    after = snapshot(root)
    before = base_marts

    # fct_spend: the base's rows and exactly one more
    fct_before, fct_after = before["fct_spend"], after["fct_spend"]
    extra = Counter(fct_after.rows) - Counter(fct_before.rows)
    assert not Counter(fct_before.rows) - Counter(fct_after.rows), "a base line changed"
    assert sum(extra.values()) == 1, extra
    added = dict(zip(fct_after.columns, next(iter(extra)), strict=True))
    assert (added["supplier_key"], added["amount"], added["posting_date"]) == (
        supplier,
        ADDED_AMOUNT,
        posting_date,
    )
    assert added["spend_class"] == "addressable" and added["matched_contract_id"]

    def of_supplier(row: dict[str, object]) -> bool:
        return row["supplier_key"] == supplier

    for table in ("dim_supplier", "dq_invoice_exceptions", "kpi_uncontracted_above_threshold"):
        assert_only_changed(before[table], after[table], of_supplier, table)
    # the controller's marts follow the exceptions: the supplier's lines only; the
    # list to accounting ranks the exceptions of an org unit and month, so the
    # added line's unit and month may be re-ranked
    for table in ("dq_exception_lines", "dq_exception_status"):
        assert_only_changed(before[table], after[table], of_supplier, table)

    def of_supplier_or_its_unit_month(row: dict[str, object]) -> bool:
        return of_supplier(row) or (row["org_unit_id"], row["period"]) == (
            added["org_unit_id"],
            added["period"],
        )

    assert_only_changed(
        before["dq_accounting_list"],
        after["dq_accounting_list"],
        of_supplier_or_its_unit_month,
        "dq_accounting_list",
    )
    unchanged = (
        "dim_contract",
        "dim_category",
        "dim_org_unit",
        "dq_contract_exceptions",
        "dq_rule_precision_judged",
    )
    for table in unchanged:
        assert before[table].rows == after[table].rows, table
    checked = {
        "fct_spend",
        "dim_supplier",
        "dq_invoice_exceptions",
        "dq_exception_lines",
        "dq_exception_status",
        "dq_accounting_list",
        *unchanged,
        "kpi_uncontracted_above_threshold",
        *SPEND_KPI_GRAINS,
        "kpi_supplier_concentration",
        "kpi_supplier_segments",
        "kpi_supplier_profile",
        "kpi_contract_expiry",
    }
    assert set(after) == checked, f"marts this test does not know: {set(after) ^ checked}"

    # the spend KPI marts: only the line's row, by exactly the line
    for table, grain in SPEND_KPI_GRAINS.items():
        key = tuple(added[c] for c in grain)

        def in_row(
            row: dict[str, object], grain: tuple[str, ...] = grain, key: tuple[object, ...] = key
        ) -> bool:
            return tuple(row[c] for c in grain) == key

        assert_only_changed(before[table], after[table], in_row, table)
        old, new = by_key(before[table], grain)[key], by_key(after[table], grain)[key]
        where = " and ".join(f"{c} = '{added[c]}'" for c in grain)
        had_supplier = query(
            warehouse(base),
            f"select count(*) > 0 from marts.fct_spend "
            f"where {where} and supplier_key = '{supplier}'",
        )
        expected = {
            c: old[c] + (ADDED_AMOUNT if rule(added) else 0) for c, rule in MONEY_RULES.items()
        }
        expected |= {
            "lines": old["lines"] + 1,
            "invoices": old["invoices"] + 1,
            "small_invoices": old["small_invoices"] + 1,
            "credit_notes": old["credit_notes"],
            "suppliers": old["suppliers"] + (0 if had_supplier[0][0] else 1),
        }
        assert {c: new[c] for c in expected} == expected, table
        unchanged = [c for c in old if c not in expected and not c.endswith("_pct")]
        assert {c: new[c] for c in unchanged} == {c: old[c] for c in unchanged}, table

    # concentration: the year's overall row and the line's category row
    conc = "kpi_supplier_concentration"

    def conc_row(row: dict[str, object]) -> bool:
        return row["fiscal_year"] == added["fiscal_year"] and (
            row["scope"] == "overall" or row["category_level1"] == added["category_level1"]
        )

    assert_only_changed(before[conc], after[conc], conc_row, conc)
    grain = ("fiscal_year", "scope", "category_level1")
    changed = [k for k, r in by_key(after[conc], grain).items() if conc_row(r)]
    assert len(changed) == 2, changed
    for k in changed:
        assert (
            by_key(after[conc], grain)[k]["addressable_spend"]
            == by_key(before[conc], grain)[k]["addressable_spend"] + ADDED_AMOUNT
        ), k

    # segments: only the line's year and category; other suppliers' own measures stay
    seg = "kpi_supplier_segments"
    grain = ("fiscal_year", "category_level1", "supplier_key")

    def seg_group(row: dict[str, object]) -> bool:
        return (row["fiscal_year"], row["category_level1"]) == (
            added["fiscal_year"],
            added["category_level1"],
        )

    assert_only_changed(before[seg], after[seg], seg_group, seg)

    # the supplier profile: only the rows of the line's fiscal year (its shares move)
    profile = "kpi_supplier_profile"
    assert_only_changed(
        before[profile],
        after[profile],
        lambda row: row["fiscal_year"] == added["fiscal_year"],
        profile,
    )
    old_seg, new_seg = by_key(before[seg], grain), by_key(after[seg], grain)
    group = [k for k, r in old_seg.items() if seg_group(r)]
    assert len(group) > 1 and group == [k for k, r in new_seg.items() if seg_group(r)]
    own = (
        "supplier_name",
        "is_sole_trader",
        "addressable_spend",
        "contract_covered_spend",
        "contract_coverage_pct",
        "contract_status",
    )
    for k in group:
        o, n = old_seg[k], new_seg[k]
        assert n["category_spend"] == o["category_spend"] + ADDED_AMOUNT, k
        if k[2] != supplier:
            assert {c: n[c] for c in own} == {c: o[c] for c in own}, k
        else:
            assert n["addressable_spend"] == o["addressable_spend"] + ADDED_AMOUNT

    # contract expiry: only the matched contract's row
    exp = "kpi_contract_expiry"
    contract = added["matched_contract_id"]
    assert_only_changed(before[exp], after[exp], lambda r: r["contract_id"] == contract, exp)
    o = by_key(before[exp], ("contract_id",))[(contract,)]
    n = by_key(after[exp], ("contract_id",))[(contract,)]
    assert n["trailing_12m_spend"] == o["trailing_12m_spend"] + ADDED_AMOUNT
    assert n["trailing_12m_lines"] == o["trailing_12m_lines"] + 1
    rest = [c for c in o if not c.startswith("trailing_12m_")]
    assert {c: n[c] for c in rest} == {c: o[c] for c in rest}


# --------------------------------------------------------------------------- f. declared grains


def declared_grains() -> dict[str, tuple[str, ...]]:
    """Each mart's grain as its yml declares it: the columns of a model-level
    `unique_combination` test, else the one column with a `unique` test."""
    grains: dict[str, tuple[str, ...]] = {}
    for path in sorted((dbt_project_dir() / "models" / "marts").rglob("_*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in doc.get("models", []):
            found: list[tuple[str, ...]] = []
            for test in model.get("data_tests", []) or []:
                if isinstance(test, dict) and "unique_combination" in test:
                    spec = test["unique_combination"]
                    found.append(tuple((spec.get("arguments") or spec)["columns"]))
            for col in model.get("columns", []) or []:
                tests = col.get("data_tests") or []
                if any(t == "unique" or isinstance(t, dict) and "unique" in t for t in tests):
                    found.append((col["name"],))
            assert len(found) == 1, f"{path.name}: {model['name']} declares grains {found}"
            grains[model["name"]] = found[0]
    return grains


# What the yml declared when this test was written (and the README's table):
# a grain that disappears or changes in the yml is caught here, not silently
# untested. (A new mart must declare a grain too: see grain_duplicates.)
EXPECTED_GRAINS = {
    "dq_contract_exceptions": ("contract_exception_id",),
    "fct_spend": ("ledger_line_id",),
    "dq_invoice_exceptions": ("exception_id", "rule_id"),
    "dq_exception_lines": ("exception_id",),
    "dq_accounting_list": ("exception_id",),
    "dim_category": ("category_id",),
    "dim_org_unit": ("org_unit_id",),
    "dim_contract": ("contract_supplier_id",),
    "dim_supplier": ("supplier_key",),
    "kpi_monthly": ("period", "org_unit_id", "category_level1"),
    "kpi_monthly_org_unit": ("period", "org_unit_id"),
    "kpi_monthly_organisation": ("period",),
    "kpi_yearly": ("fiscal_year",),
    "kpi_uncontracted_above_threshold": ("fiscal_year", "supplier_key", "category_id"),
    "kpi_supplier_concentration": ("fiscal_year", "scope", "category_level1"),
    "kpi_contract_expiry": ("contract_id",),
    "kpi_supplier_segments": ("fiscal_year", "category_level1", "supplier_key"),
}


def test_declared_grains_are_the_documented_ones() -> None:
    declared = declared_grains()
    assert {m: declared.get(m) for m in EXPECTED_GRAINS} == EXPECTED_GRAINS


@dataclass
class Step:
    args: tuple[str, ...]
    returncode: int = -1
    output: str = ""
    duplicates: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    scope: list[tuple[object, ...]] = field(default_factory=list)
    marts: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)


def grain_duplicates(
    db: Path, grains: dict[str, tuple[str, ...]]
) -> tuple[dict[str, list[tuple[object, ...]]], dict[str, int]]:
    """Per mart, the key values (NULL equal to NULL, as in GROUP BY) held by more
    than one row, and the row count."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert tables == set(grains), f"marts without a declared grain: {tables ^ set(grains)}"
        dups, rows = {}, {}
        for table, cols in grains.items():
            keys = ", ".join(f'"{c}"' for c in cols)
            dups[table] = con.execute(
                f'select {keys}, count(*) from marts."{table}" '
                f"group by all having count(*) > 1 limit 5"
            ).fetchall()
            rows[table] = con.execute(f'select count(*) from marts."{table}"').fetchone()[0]
        return dups, rows
    finally:
        con.close()


LAST_POSTING_DATE = "2024-12-31"
CLI_STEPS = {
    "transform": ("transform",),
    "transform --as-of": ("transform", "--as-of", LAST_POSTING_DATE),
    "transform --rule-set kommun_bas": ("transform", "--rule-set", "kommun_bas"),
    "transform --rule-set demo_region": ("transform", "--rule-set", "demo_region"),
    "transform --full-refresh": ("transform", "--full-refresh"),
    "night: load a new day, transform": ("transform",),
}


@pytest.fixture(scope="module")
def cli_steps(tmp_path_factory: pytest.TempPathFactory, base: Path) -> dict[str, Step]:
    """The base (built by a plain `spendkoll transform`), then each option of
    `spendkoll transform` in turn on a copy of it, and last an incremental night
    (a new day of ledger lines loaded with `spendkoll load`) after the full
    build. Each step's exit code and, independently of dbt's own tests, the
    keys its marts hold more than once."""
    grains = declared_grains()
    root = copy_of(tmp_path_factory, base, "cli")
    db = warehouse(root)
    steps: dict[str, Step] = {}
    for name, args in CLI_STEPS.items():
        step = Step(args)
        if name == "transform":
            step.returncode = 0  # the base build, checked by `spendkoll` above
        else:
            if name.startswith("night"):
                _, n = new_day(root / "landing", root / "archive" / "ledger", 150)
                assert n == 150
                spendkoll(root, "load", "ledger")
            proc = spendkoll(root, *args, check=False)
            step.returncode, step.output = proc.returncode, proc.stdout + proc.stderr
        step.duplicates, step.rows = grain_duplicates(db, grains)
        step.scope = query(
            db,
            "select reason, build_all, count(*) from "
            "intermediate.int_spend_build_scope group by all order by all",
        )
        step.marts = marts(db)
        steps[name] = step
    return steps


@pytest.mark.parametrize("name", list(CLI_STEPS))
def test_every_cli_option_keeps_every_declared_grain_unique(
    name: str, cli_steps: dict[str, Step]
) -> None:
    """f. Under every option of `spendkoll transform` (none, --as-of DATE,
    --rule-set demo_region and kommun_bas, --full-refresh, and an incremental
    night after the full build) the command succeeds and no mart holds a key
    of its declared grain twice, checked in SQL here, not by dbt's tests."""
    step = cli_steps[name]
    dups = {t: d for t, d in step.duplicates.items() if d}
    assert not dups, f"spendkoll {' '.join(step.args)}: duplicated grain keys: {dups}"
    assert step.returncode == 0, step.output[-6000:]
    assert all(n for t, n in step.rows.items() if t not in MAY_BE_EMPTY), step.rows
    if name.startswith("night"):
        # it was the incremental night, not a rebuild of everything
        assert step.scope and not any(build_all for _, build_all, _ in step.scope), step.scope
        assert (
            step.rows["fct_spend"] == cli_steps["transform --full-refresh"].rows["fct_spend"] + 150
        )


def test_as_of_the_last_posting_date_is_the_default(base: Path, cli_steps: dict[str, Step]) -> None:
    """d (the degenerate case). Without --as-of the as-of date is the last
    posting date: `transform --as-of <that date>` builds the same marts."""
    assert query(
        warehouse(base), "select cast(max(posting_date) as varchar) from marts.fct_spend"
    ) == [(LAST_POSTING_DATE,)]
    default, explicit = cli_steps["transform"], cli_steps["transform --as-of"]
    assert default.marts["kpi_contract_expiry"]
    for table, rows in default.marts.items():
        assert explicit.marts[table] == rows, (table, diff(rows, explicit.marts[table]))
