"""`dbt build` on a small loaded warehouse: seeds, staging models and their tests."""

from __future__ import annotations

import duckdb
import pytest
from conftest import KEY, source

from spendkoll.loaders.run import load_source
from spendkoll.paths import project_root
from spendkoll.transform.dbt import generate_docs, run_dbt
from spendkoll.transform.freshness import check_source_freshness, failing

pytestmark = pytest.mark.slow

LEDGER = """verification_id;line_number;posting_date;invoice_date;invoice_number;supplier_org_number;supplier_name;account;cost_centre;amount_excl_vat;vat;description
V1;1;2024-03-05;2024-03-01;F1;556036-0793;A AB;6410;HSV01;100.00;25.00;x
V2;1;2024-03-06;2024-03-01;F2;811218-9876;B;6710;PRIM01;50.00;12.50;y
"""


def test_dbt_build_seeds_and_staging(data_dir):
    folder = data_dir.landing_for("ledger")
    folder.mkdir(parents=True)
    (folder / "l.csv").write_text(LEDGER, encoding="utf-8")
    load_source(source(), data_dir, KEY)
    # The contract and e-commerce tables exist empty (the loader creates the raw schema).
    proc = run_dbt(["build"], data_dir, rule_set="demo_region")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    assert con.execute("select count(*) from reference.category_tree").fetchone()[0] >= 25
    assert con.execute("select count(*) from staging.stg_ledger__lines").fetchone() == (2,)
    assert (
        con.execute(
            "select count(*) from reference.account_mapping_rules where rule_set = 'kommun_bas'"
        ).fetchone()[0]
        > 30
    )
    # The classification unit test ran in the build (dbt unit tests) and the model
    # classified the two demo-chart lines by their account rules.
    assert "classification_priority_override_then_longest_prefix" in proc.stdout
    assert "contract_match_flags" in proc.stdout
    assert con.execute(
        "select account, spend_class, category_id from "
        "intermediate.int_ledger_lines_classified order by account"
    ).fetchall() == [("6410", "addressable", "KA-KO"), ("6710", "addressable", "KO-KO")]
    # dbt wrote its state under the data directory, not into the project.
    assert (data_dir.root / "dbt" / "target" / "manifest.json").exists()
    con.close()

    # Source freshness: the newest posting date (2024-03-06) is long past the
    # 35-day error limit; the load batch was written a moment ago.
    verdicts = {v.source: v for v in check_source_freshness(data_dir)}
    assert verdicts["raw.ledger_line"].status == "error"
    assert verdicts["raw.ledger_line"].max_loaded_at.startswith("2024-03-06")
    assert verdicts["raw.load_batch"].status == "pass"
    assert [v.source for v in failing(list(verdicts.values()))] == ["raw.ledger_line"]

    # The docs site is one file, describes the KPI marts, and its page tracker stays off.
    site = generate_docs(data_dir, "demo_region")
    html = site.read_text(encoding="utf-8")
    assert site == data_dir.root / "docs" / "dbt" / "index.html"
    assert "kpi_supplier_concentration" in html and "avtalstrohet" in html
    assert '"send_anonymous_usage_stats": false' in html


def test_every_var_is_declared_once_in_dbt_project_yml() -> None:
    """vars live in dbt_project.yml with their defaults; models read them without one,
    so a default cannot differ between two models."""
    import re

    import yaml

    root = project_root() / "dbt_project"
    declared = set(yaml.safe_load((root / "dbt_project.yml").read_text())["vars"])
    used: set[str] = set()
    for path in root.rglob("*.sql"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"""(?<!env_)var\(\s*(["'])([a-z_]+)\1\s*(,)?""", text):
            assert not m.group(3), f"{path.name}: var('{m.group(2)}') with a default"
            used.add(m.group(2))
    assert used == declared


def test_no_macro_sets_a_model_config() -> None:
    """Each model's config is in its own file (a macro may hold arithmetic, not config)."""
    import re

    for path in (project_root() / "dbt_project" / "macros").glob("*.sql"):
        assert not re.search(r"\{\{\s*config\(", path.read_text(encoding="utf-8")), path.name
