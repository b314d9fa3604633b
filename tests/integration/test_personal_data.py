"""Personnummer in every field (issue 13): written into names, descriptions,
invoice numbers, contract titles, broken values and file headers, in every
form. None may reach a table (raw, staging, intermediate, marts, quality), a
rejection reason or the alerts log; only the delivered files under raw/ and
rejected/ keep them."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from conftest import KEY, source

from spendkoll.errors import LoadFailed
from spendkoll.ids import classify_supplier_id
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir
from spendkoll.pii import find_personnummer
from spendkoll.transform.dbt import run_dbt

pytestmark = pytest.mark.slow

PNR = "811218-9876"
FORMS = ("811218-9876", "8112189876", "811218 9876", "19811218-9876", "198112189876", "811218+9876")
HEADER = (
    "verification_id;line_number;posting_date;invoice_date;invoice_number;"
    "supplier_org_number;supplier_name;account;cost_centre;amount_excl_vat;vat;description"
)
LEDGER = (
    "\n".join(
        [
            HEADER,
            # a company whose name and lines carry a person's number, in each form
            f"V1;1;2024-03-05;2024-03-01;{FORMS[4]};556036-0793;Kontorsbolaget AB c/o {FORMS[0]};"
            f"6410;HSV01;1000.00;250.00;Konsult {FORMS[2]}",
            f"V2;1;2024-03-06;2024-03-02;F-2;556036-0793;Kontorsbolaget AB;6410;HSV01;500.00;125.00;"
            f"Ref {FORMS[1]} och {FORMS[3]}",
            f"V3;1;2024-03-07;2024-03-03;F-3;556036-0793;Kontorsbolaget AB;6410;HSV01;200.00;50.00;"
            f"Resa {FORMS[5]}",
            # a broken amount holding one (quarantined with its value)
            f"V4;1;2024-03-08;2024-03-04;F-4;556036-0793;Kontorsbolaget AB;6410;HSV01;ca {FORMS[2]};0;x",
            # and an ordinary invoice number that only looks like one (kept)
            "V5;1;2024-03-09;2024-03-05;811218-9875;556036-0793;Kontorsbolaget AB;6410;HSV01;"
            "100.00;25.00;x",
        ]
    )
    + "\n"
)
CONTRACTS = (
    "\n".join(
        [
            "contract_id;title;supplier_org_number;supplier_name;category;start_date;end_date;"
            "latest_end_date;contract_type;procured_by;registered_date;estimated_annual_value",
            f"K1;Avtal med {FORMS[3]};556036-0793;Kontorsbolaget AB;KA-KO;2024-01-01;2024-12-31;;"
            f"ramavtal;Upphandlingsenheten;2023-12-01;1000",
        ]
    )
    + "\n"
)
# a header that quotes a personnummer: the rejection reason lists the header
BAD_HEADER = f"verification_id;{FORMS[0]};account\nV1;x;6410\n"


def every_text_value(db: str) -> list[tuple[str, str, str]]:
    con = duckdb.connect(db, read_only=True)
    try:
        out = []
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', "
            "'pg_catalog')"
        ).fetchall():
            for (value,) in con.execute(
                f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
            ).fetchall():
                out.append((f"{schema}.{table}.{column}", value, ""))
        return out
    finally:
        con.close()


def test_personnummer_in_any_field_never_reaches_a_table(data_dir: DataDir) -> None:
    for kind, name, text in (
        ("ledger", "a_ledger.csv", LEDGER),
        ("ledger", "b_bad_header.csv", BAD_HEADER),
        ("contracts", "contracts.csv", CONTRACTS),
    ):
        folder = data_dir.landing_for(kind)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(LoadFailed) as exc:
        load_source(source(max_bad_row_share=0.5), data_dir, KEY)
    assert not find_personnummer(str(exc.value))
    load_source(
        source(name="contracts", kind="contracts", format="contracts", pattern="*.csv"),
        data_dir,
        KEY,
    )
    proc = run_dbt(["build"], data_dir, dbt_vars={"spendkoll_contract_unmatched_max_share": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:]
    values = every_text_value(str(data_dir.warehouse))
    leaks = [(where, v) for where, v, _ in values if find_personnummer(v)]
    assert leaks == []
    texts = " ".join(v for _, v, _ in values)
    # masked to the pseudonym: the text still links to the person's supplier key
    key = classify_supplier_id(PNR, KEY).key
    assert f"Kontorsbolaget AB c/o {key}" in texts and f"Konsult {key}" in texts
    assert f"Avtal med {key}" in texts
    assert "811218-9875" in texts  # a wrong check digit: an invoice number, kept
    # the quarantine keeps the broken value's place, not the number
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    try:
        quarantined = con.execute("select value from raw.quarantine").fetchall()
    finally:
        con.close()
    assert quarantined == [("ca [personnummer]",)]
    # rejection reasons, on disk and in the batch log
    reasons = list((data_dir.rejected / "ledger").glob("*.reason.txt"))
    assert reasons
    for path in reasons:
        assert not find_personnummer(path.read_text(encoding="utf-8"))
    # the delivered files themselves are kept as they came (archive, rejected)
    kept = [
        p
        for p in [*data_dir.archive.rglob("*"), *data_dir.rejected.rglob("*")]
        if p.is_file() and not p.name.endswith(".reason.txt")
    ]
    assert any(find_personnummer(p.read_text(encoding="utf-8")) for p in kept)
    shutil.rmtree(data_dir.root / "dbt", ignore_errors=True)


def test_alerts_log_masks_personnummer(data_dir: DataDir) -> None:
    from spendkoll.orchestration.alerts import log_failure

    class TI:
        dag_id, task_id = "spendkoll_load_ledger", "load"

    log_failure(
        {
            "ti": TI(),
            "run_id": "r1",
            "exception": RuntimeError(f"line 3: {FORMS[3]} is not an amount"),
        }
    )
    text = (data_dir.root / "alerts.log").read_text(encoding="utf-8")
    assert "line 3:" in text and not find_personnummer(text) and "811218" not in text
