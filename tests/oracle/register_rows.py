"""Hand-made supplier-register rows for the tests of the register marts and rules.

The register loader (loaders/register.py) reads the publishers' bulk files; the
marts, KPIs and rules are built on its raw tables (src/spendkoll/warehouse.py:
raw.register_bolagsverket, raw.register_scb, raw.register_size_class). The
fixtures here are those raw rows written by hand, `;`-separated, with the
supplier's id **as written** (an org number in any form, or a personnummer) in
column `supplier_id`: it is keyed as the ledger keys it
(``spendkoll.ids.classify_supplier_id`` with the tests' pseudonym key), so a
sole trader's row carries the same pseudonym as the ledger's lines and the
personnummer never reaches a table.

* ``register_bolagsverket.csv``: supplier_id; identity_type (ORGNR, PERSON, ...;
  empty: PERSON for a personnummer, else ORGNR); name_protection_no; legal_form;
  registration_date; deregistration_date; deregistration_reason; procedures
  ('KK:2024-06-05|...'); postal_code; postal_town
* ``register_scb.csv``: supplier_id; legal_form_code; company_status;
  unit_status; sni_1 .. sni_5; postal_code; postal_town; registered_date
* ``register_size_class.csv``: supplier_id; size_class

A column the file leaves out is null. Empty cells are null.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

FILES = {
    "register_bolagsverket.csv": "raw.register_bolagsverket",
    "register_scb.csv": "raw.register_scb",
    "register_size_class.csv": "raw.register_size_class",
}
COLUMNS = {
    "raw.register_bolagsverket": [
        "identity_type",
        "name_protection_no",
        "legal_form",
        "name",
        "registration_date",
        "deregistration_date",
        "deregistration_reason",
        "procedures",
        "postal_code",
        "postal_town",
    ],
    "raw.register_scb": [
        "is_sole_trader",
        "legal_form_code",
        "company_status",
        "unit_status",
        "sni_1",
        "sni_2",
        "sni_3",
        "sni_4",
        "sni_5",
        "name",
        "postal_code",
        "postal_town",
        "registered_date",
    ],
    "raw.register_size_class": ["size_class"],
}


def register_rows(text: str, table: str, key: bytes) -> list[dict[str, Any]]:
    """The raw rows of one fixture file's text (``table`` as in FILES)."""
    from spendkoll.ids import IdStatus, classify_supplier_id

    out = []
    for n, r in enumerate(csv.DictReader(io.StringIO(text), delimiter=";"), start=2):
        ident = classify_supplier_id(r["supplier_id"], key)
        assert ident.key, f"{table} line {n}: {r['supplier_id']!r} is not a valid id"
        person = ident.status in (IdStatus.SOLE_TRADER, IdStatus.SOLE_TRADER_MASKED)
        row: dict[str, Any] = {c: (r.get(c) or "").strip() or None for c in COLUMNS[table]}
        row["supplier_key"] = ident.key
        row["source_line"] = n
        if table == "raw.register_bolagsverket" and not row["identity_type"]:
            row["identity_type"] = "PERSON" if person else "ORGNR"
        if table == "raw.register_scb":
            row["is_sole_trader"] = person or (row["legal_form_code"] == "10")
        out.append(row)
    return out


def insert_register_rows(warehouse: Path, folder: Path, key: bytes) -> int:
    """Insert the register fixture files of ``folder`` (those present) into the raw
    tables of ``warehouse``, replacing what they held. Returns the rows inserted."""
    from spendkoll.warehouse import writer

    inserted = 0
    with writer(warehouse) as con:
        for name, table in FILES.items():
            path = folder / name
            if not path.exists():
                continue
            rows = register_rows(path.read_text(encoding="utf-8"), table, key)
            con.execute(f"delete from {table}")
            for row in rows:
                cols = ["batch_id", "source_name", *row]
                values = [900_000, "register_fixture", *row.values()]
                con.execute(
                    f"insert into {table} ({', '.join(cols)}) "
                    f"values ({', '.join('?' for _ in cols)})",
                    values,
                )
            inserted += len(rows)
    return inserted


def build_with_register(
    data: Any,
    folder: Path,
    key: bytes,
    ledger: str = "ledger.csv",
    dbt_args: tuple[str, ...] = ("build",),
    dbt_vars: dict[str, Any] | None = None,
    rule_set: str = "demo_region",
) -> Any:
    """Load a fixture folder's ledger, contracts and e-commerce files (those
    present) through the real loaders, insert its register rows, and run dbt
    (what conftest.build_warehouse_from does, with the register between).
    Returns dbt's finished process."""
    import shutil

    from spendkoll.loaders.run import load_source
    from spendkoll.sources import parse_source
    from spendkoll.transform.dbt import run_dbt

    def source(**kw: object) -> Any:
        raw: dict[str, object] = {"name": "ledger", "kind": "ledger", "format": "canonical"}
        raw.update(kw)
        return parse_source(raw, "test")

    configs = {
        "ledger": (ledger, source()),
        "contracts": (
            "contracts.csv",
            source(name="contracts", kind="contracts", format="contracts", pattern="*.csv"),
        ),
        "ecommerce": (
            "ecommerce.csv",
            source(name="ecommerce", kind="ecommerce", format="ecommerce"),
        ),
    }
    for kind, (name, cfg) in configs.items():
        if (folder / name).exists():
            landing = data.landing_for(kind)
            landing.mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / name, landing / name)
            load_source(cfg, data, key)
    insert_register_rows(data.warehouse, folder, key)
    proc = run_dbt(list(dbt_args), data, rule_set=rule_set, dbt_vars=dbt_vars)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return proc


def insert_register_text(warehouse: Path, files: dict[str, str], key: bytes) -> int:
    """As insert_register_rows, from texts keyed by file name (generated fixtures)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="spendkoll-register-") as tmp:
        for name, text in files.items():
            assert name in FILES, name
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        return insert_register_rows(warehouse, Path(tmp), key)
