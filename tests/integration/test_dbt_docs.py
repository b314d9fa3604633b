"""Every public model (schema marts) and every one of its columns is documented,
has an enforced contract, and the KPI docs name the Swedish terms and the rules
for credit notes, mid-month contracts and missing supplier ids."""

from __future__ import annotations

import json

import pytest

from spendkoll.transform.dbt import run_dbt

pytestmark = pytest.mark.slow

PUBLIC = {
    "fct_spend",
    "dim_supplier",
    "dim_category",
    "dim_org_unit",
    "dim_contract",
    "dq_invoice_exceptions",
    "dq_contract_exceptions",
    "dq_exception_lines",
    "dq_accounting_list",
    "dq_exception_status",
    "dq_rule_precision_judged",
    "kpi_monthly",
    "kpi_monthly_org_unit",
    "kpi_monthly_organisation",
    "kpi_yearly",
    "kpi_uncontracted_above_threshold",
    "kpi_supplier_concentration",
    "kpi_contract_expiry",
    "kpi_supplier_segments",
    "kpi_supplier_profile",
}


def test_public_marts_are_documented_and_contracted(data_dir):
    proc = run_dbt(["parse"], data_dir)
    assert proc.returncode == 0, proc.stdout[-3000:]
    manifest = json.loads((data_dir.root / "dbt" / "target" / "manifest.json").read_text())
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["schema"] == "marts"
        # the rule models (marts/dq/rules) are inlined, not tables
        and n["config"]["materialized"] != "ephemeral"
    }
    assert set(marts) == PUBLIC
    for name, node in marts.items():
        assert len(node["description"]) > 40, name
        assert node["config"]["contract"]["enforced"], name
        assert node["columns"], name
        for col, spec in node["columns"].items():
            assert spec["description"].strip(), f"{name}.{col}"
            assert spec["data_type"], f"{name}.{col}"
    monthly = marts["kpi_monthly"]["description"]
    for phrase in (
        "leverantörstrohet",
        "avtalstrohet",
        "vilda köp",
        "Credit notes",
        "mid-month",
        "Missing supplier ids",
        "påverkbar spend",
    ):
        assert phrase in monthly, phrase
    threshold = marts["kpi_uncontracted_above_threshold"]["description"]
    assert "risk flag, not proof" in threshold and "direktupphandlingsgräns" in threshold
