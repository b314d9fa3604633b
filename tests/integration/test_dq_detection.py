"""Measured detection: the invoice rules against the demo region's planted
mis-codings (default size, 200,000 lines), overall recall at least 0.9."""

from __future__ import annotations

import pytest
from conftest import KEY

from spendkoll.demo.generator import DemoSpec, generate
from spendkoll.loaders.run import load_source
from spendkoll.quality.detection import KIND_RULES, format_report, measure
from spendkoll.sources import load_sources
from spendkoll.transform.dbt import run_dbt

pytestmark = pytest.mark.slow


def test_recall_on_the_planted_miscodings(data_dir, capsys):
    generate(data_dir.landing, data_dir.demo_answers, DemoSpec())
    sources = load_sources()
    for name in ("ledger", "contracts", "ecommerce"):
        load_source(sources[name], data_dir, KEY)
    proc = run_dbt(["build"], data_dir, rule_set="demo_region")
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = measure(data_dir)
    with capsys.disabled():
        print("\n" + format_report(report))
    assert {k.kind for k in report.kinds} == set(KIND_RULES)
    assert report.planted > 700
    assert report.recall >= 0.9, format_report(report)
    for kind in report.kinds:
        assert kind.recall >= 0.8, kind
    # every rule aimed at a planted kind has a measured precision
    targeted = {r for rules in KIND_RULES.values() for r in rules}
    measured = {r.rule_id: r.precision for r in report.rules}
    assert all(measured[r] is not None for r in targeted)
    # the exact-duplicate and public-supplier rules are precise on the demo
    assert measured["DQ07"] == measured["DQ06"] == 1.0
