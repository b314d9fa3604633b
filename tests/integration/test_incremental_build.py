"""The incremental dbt build: a nightly build that touches only what changed
must leave every mart exactly as a full rebuild would.

The night after the first build brings, at once: a new day of ledger lines, a
month delivered again with lines removed, a contract registered after the fact
(it changes past months' loyalty), a contract removed from the register, and
an e-commerce order naming an invoice already booked.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import KEY

from spendkoll.bench import new_day
from spendkoll.demo.generator import DemoSpec, generate
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir
from spendkoll.publish import parquet_path, publish
from spendkoll.sources import load_sources
from spendkoll.transform.dbt import run_dbt

pytestmark = pytest.mark.slow

Marts = dict[str, list[tuple[object, ...]]]


# An exception's status says how many builds have listed it (new in the latest
# build, open after that): the same data built once more legitimately turns
# `new` into `open`, so marts built along different paths compare without it.
BUILD_HISTORY_COLUMNS = {("dq_exception_status", "status"), ("dq_accounting_list", "status")}


def marts(db: Path) -> Marts:
    """Every mart's rows, sorted, without the build timestamp and the build history."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: Marts = {}
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1"
        ).fetchall():
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = ? and column_name <> 'built_at' order by ordinal_position",
                    [table],
                ).fetchall()
                if (table, c) not in BUILD_HISTORY_COLUMNS
            ]
            rows = con.execute(
                f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from marts."{table}"'
            ).fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def build(data: DataDir, *args: str) -> None:
    proc = run_dbt(["build", *args], data, rule_set="demo_region")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def load_all(data: DataDir) -> None:
    sources = load_sources()
    for name in ("ledger", "contracts", "ecommerce"):
        load_source(sources[name], data, KEY)


def redeliver_month_without_lines(data: DataDir, month: str, drop: int) -> None:
    """The month's ledger file again, its first `drop` data rows and the
    invoices DUP-E, DUP-V and SPLIT-C left out."""
    archived = next(
        p for p in sorted((data.archive / "ledger").glob("*.csv")) if f"ledger_{month}" in p.name
    )
    name = archived.name.split("_", 2)[2]
    target = data.landing_for("ledger") / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        archived.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        for i, line in enumerate(src):
            if 1 <= i <= drop or any(f'"{n}"' in line for n in ("DUP-E", "DUP-V", "SPLIT-C")):
                continue
            dst.write(line)


def plant_duplicates(data: DataDir) -> None:
    """Before the first load: invoice DUP-L (2024-03-02) has the amount of DUP-E
    of the same supplier five days before (DQ08), and DUP-V is booked on a
    voucher in February and again in March (DQ07). Their partners sit in the
    February file, which the night below delivers again without them. So does
    SPLIT-C's February line: the invoice's total becomes its March credit."""
    folder = data.landing_for("ledger")
    feb, mar = folder / "ledger_2024-02.csv", folder / "ledger_2024-03.csv"
    with feb.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=";")
        fields = list(reader.fieldnames or [])
        template = next(r for r in reader if r["supplier_org_number"][:1] == "5")

    def row(voucher: str, day: str, invoice: str, amount: str, vat: str) -> dict[str, str]:
        return {
            **template,
            "verification_id": voucher,
            "line_number": "1",
            "posting_date": day,
            "invoice_date": day,
            "invoice_number": invoice,
            "amount_excl_vat": amount,
            "vat": vat,
        }

    # DUP-V has an amount of its own: DQ08 spares a total the supplier bills
    # more than twice (recurring_invoices_max)
    for path, rows in (
        (
            feb,
            [
                row("DUPE-1", "2024-02-26", "DUP-E", "48123.00", "12030.75"),
                row("DUPV-1", "2024-02-27", "DUP-V", "51234.00", "12808.50"),
                row("SPLC-1", "2024-02-28", "SPLIT-C", "30000.00", "7500.00"),
            ],
        ),
        (
            mar,
            [
                row("DUPL-1", "2024-03-02", "DUP-L", "48123.00", "12030.75"),
                row("DUPV-2", "2024-03-04", "DUP-V", "51234.00", "12808.50"),
                row("SPLC-2", "2024-03-05", "SPLIT-C", "-2000.00", "-500.00"),
            ],
        ),
    ):
        with path.open("a", encoding="utf-8", newline="") as f:
            csv.DictWriter(
                f,
                fieldnames=fields,
                delimiter=";",
                lineterminator="\n",
                quoting=csv.QUOTE_NONNUMERIC,
            ).writerows(rows)


def change_contract_register(data: DataDir, supplier: str, supplier_name: str) -> str:
    """Register a contract after the fact for `supplier`, valid from 2024-01-01,
    and remove the register's first contract. Returns the removed contract id."""
    archived = next((data.archive / "contracts").glob("*.xlsx"))
    wb = openpyxl.load_workbook(archived)
    ws = wb.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    removed = str(rows[1][0])
    ws.delete_rows(2)
    ws.append(
        [
            "AVT-LATE-0001",
            "Registrerat i efterhand",
            supplier,
            supplier_name,
            "Kontor och administration",
            datetime(2024, 1, 1),
            datetime(2026, 12, 31),
            datetime(2026, 12, 31),
            "ramavtal",
            "Upphandlingsenheten",
            datetime(2025, 6, 1),
            100000,
        ]
    )
    target = data.landing_for("contracts") / archived.name.split("_", 2)[2]
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return removed


def order_naming_invoice(data: DataDir, month: str, supplier: str, invoice: str) -> None:
    """The month's e-commerce file again with one more order, naming `invoice`."""
    archived = next(
        p for p in sorted((data.archive / "ecommerce").glob("*.csv")) if month in p.name
    )
    target = data.landing_for("ecommerce") / archived.name.split("_", 2)[2]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(archived, target)
    with target.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerow(
            ["EH-LATE-000001", f"{month}-10", supplier, "SERV02", "1000,00", "Ja", invoice]
        )


def line_mart_files(data: DataDir) -> dict[str, int]:
    """The published line marts' Parquet files and their inodes."""
    root = parquet_path(data).resolve()
    return {
        str(p.relative_to(root)): p.stat().st_ino
        for table in ("fct_spend", "dq_invoice_exceptions")
        for p in (root / table).rglob("*.parquet")
    }


def parquet_rows(data: DataDir, table: str) -> int:
    con = duckdb.connect()
    return int(
        con.execute(
            f"select count(*) from read_parquet('{parquet_path(data)}/{table}/*/*"
            ".parquet', hive_partitioning = true)"
        ).fetchone()[0]
    )  # type: ignore


def test_incremental_build_equals_full_rebuild(data_dir: DataDir) -> None:
    generate(data_dir.landing, data_dir.demo_answers, DemoSpec(lines=20_000))
    plant_duplicates(data_dir)
    load_all(data_dir)
    build(data_dir)
    db = data_dir.warehouse
    duplicates = """select rule_id, invoice_number from marts.dq_invoice_exceptions
                    where rule_id in ('DQ07', 'DQ08') and invoice_number like 'DUP-%'
                    order by 1"""
    assert query(db, duplicates) == [("DQ07", "DUP-V"), ("DQ08", "DUP-L")]
    first_built = query(db, "select max(built_at) from marts.fct_spend")[0][0]
    snapshot = publish(data_dir)
    files = line_mart_files(data_dir)
    assert "fct_spend/fiscal_year=2024/2024-03.parquet" in files

    # A night with nothing new rebuilds no line, and publishing it copies no
    # period again: every line-mart file is the previous version's (a hard link).
    build(data_dir)
    assert query(db, "select count(*) from intermediate.int_spend_build_scope") == [(0,)]
    assert query(db, "select max(built_at) from marts.fct_spend")[0][0] == first_built
    publish(data_dir)
    assert line_mart_files(data_dir) == files
    assert marts(snapshot) == marts(db)

    # A night with one new day rewrites the new period's files and those of
    # the suppliers' exceptions it touches; most files stay.
    new_day(data_dir.landing, data_dir.archive / "ledger", 200)
    load_all(data_dir)
    build(data_dir)
    publish(data_dir)
    after = line_mart_files(data_dir)
    fct_files = {f for f in files if f.startswith("fct_spend/")}
    assert len({f for f in fct_files if after.get(f) == files[f]}) >= len(fct_files) - 2
    assert set(after) - set(files)  # the new period
    assert marts(snapshot) == marts(db)
    files = after
    first_built = query(db, "select max(built_at) from marts.fct_spend")[0][0]

    # The largest addressable supplier of 2024 without any contract, and a
    # booked invoice of another supplier that no e-commerce order names.
    supplier, supplier_name = query(
        db,
        """
        select supplier_key, any_value(supplier_name) from marts.fct_spend
        where fiscal_year = 2024 and spend_class = 'addressable' and supplier_key is not null
        group by supplier_key having not bool_or(has_active_contract)
        order by sum(amount) desc limit 1""",
    )[0]
    inv_supplier, invoice = query(
        db,
        """
        select supplier_key, invoice_number from marts.fct_spend
        where period = '2024-05' and not via_ecommerce and spend_class = 'addressable'
          and supplier_key is not null and supplier_key not like 'PNR-%'
          and invoice_number is not null and supplier_key <> ?
        order by ledger_line_id limit 1""".replace("?", f"'{supplier}'"),
    )[0]
    loyalty_before = dict(
        query(db, "select period, contracted_spend from marts.kpi_monthly_organisation")
    )

    new_day(data_dir.landing, data_dir.archive / "ledger", 300)
    redeliver_month_without_lines(data_dir, "2024-02", 25)
    removed = change_contract_register(data_dir, str(supplier), str(supplier_name))
    order_naming_invoice(data_dir, "2024-05", str(inv_supplier), str(invoice))
    load_all(data_dir)
    build(data_dir)

    reasons = dict(
        query(db, "select reason, count(*) from intermediate.int_spend_build_scope group by 1")
    )
    assert set(reasons) == {"batch", "contracts", "ecommerce"}, reasons
    assert reasons["ecommerce"] == 1
    # The new day's batch, the re-delivered month's new and replaced batches.
    assert reasons["batch"] == 3
    total, new = query(
        db,
        f"""select count(*), count(*) filter (where built_at > '{first_built}')
                               from marts.fct_spend""",
    )[0]
    assert 0 < new < total / 2, (new, total)

    # The contract registered after the fact changes past months' loyalty ...
    loyalty_after = dict(
        query(db, "select period, contracted_spend from marts.kpi_monthly_organisation")
    )
    periods = query(
        db,
        f"select distinct period from marts.fct_spend where supplier_key = "
        f"'{supplier}' and spend_class = 'addressable' and fiscal_year = 2024",
    )
    assert periods and all(loyalty_after[p] != loyalty_before[p] for (p,) in periods)
    assert query(
        db,
        f"""select bool_and(has_active_contract) from marts.fct_spend
                         where supplier_key = '{supplier}' and fiscal_year = 2024""",
    ) == [(True,)]
    assert (
        query(
            db,
            f"select count(*) from marts.fct_spend where supplier_key = '{supplier}' "
            "and matched_contract_id = 'AVT-LATE-0001'",
        )[0][0]
        > 0
    )
    assert query(
        db, f"select count(*) from marts.fct_spend where matched_contract_id = '{removed}'"
    ) == [(0,)]
    assert query(
        db,
        f"select bool_and(via_ecommerce) from marts.fct_spend "
        f"where supplier_key = '{inv_supplier}' and invoice_number = '{invoice}'",
    ) == [(True,)]

    # With its partners gone from February, DUP-L (an invoice no line of which
    # changed) is no longer a possible duplicate, nor is DUP-V booked twice.
    assert query(db, duplicates) == []
    assert query(db, "select count(*) from marts.fct_spend where invoice_number = 'DUP-L'") == [
        (1,)
    ]

    # SPLIT-C lost its February line: its March line, not rebuilt, is taken
    # over with the new build stamp, so March counts the invoice as a credit.
    assert query(
        db,
        f"select period, built_at > '{first_built}' from marts.fct_spend "
        "where invoice_number = 'SPLIT-C'",
    ) == [("2024-03", True)]

    incremental = marts(db)
    # Publishing copies the changed periods only, and the snapshot and the
    # Parquet files then hold what the warehouse holds.
    publish(data_dir)
    assert marts(snapshot) == incremental
    for table in ("fct_spend", "dq_invoice_exceptions"):
        assert parquet_rows(data_dir, table) == len(incremental[table])

    build(data_dir, "--full-refresh")
    full = marts(db)
    assert incremental.keys() == full.keys()
    for table in full:
        assert incremental[table] == full[table], table

    # A night that did not finish makes the night runner rebuild everything
    # (test_night_build.py). A bare `dbt build` of a fct_spend dropped by hand,
    # while the snapshots of what the builds took in remain, stops and says so
    # instead of building the changed lines only.
    con = duckdb.connect(str(db))
    try:
        con.execute("drop table marts.fct_spend")
    finally:
        con.close()
    proc = run_dbt(["build"], data_dir, rule_set="demo_region")
    assert proc.returncode != 0
    assert "fct_spend does not exist but the build history" in proc.stdout
    build(data_dir, "--full-refresh")
    assert marts(db) == full
