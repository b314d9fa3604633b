"""Builder of the comparison DAG: the organisations' published KPIs side by side.

Only with an organisations file of two or more organisations. It runs whenever
any organisation publishes its marts (the marts Assets, any of them), reads
every organisation's **published** snapshot (never a warehouse, never rows)
and writes the comparison mart under ``<data>/comparison/`` and each
organisation's comparison pages in its own reports directory
(:mod:`spendkoll.reporting.comparison`). It writes no warehouse, so it takes
no warehouse pool.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from airflow.sdk import DAG, Asset, task

from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.orchestration.assets import marts_asset_name, marts_asset_uri
from spendkoll.organisations import load_organisations
from spendkoll.settings import settings

log = logging.getLogger(__name__)

COMPARISON = Asset(name="spendkoll_comparison", uri="spendkoll://installation/comparison")


def comparison_dags() -> dict[str, DAG]:
    orgs = load_organisations()
    if len(orgs) < 2:
        return {}
    published = [Asset(name=marts_asset_name(o), uri=marts_asset_uri(o)) for o in orgs]
    with DAG(
        dag_id="spendkoll_comparison",
        schedule=reduce(or_, published),  # AssetAny: after any organisation publishes
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={
            "owner": "spendkoll",
            "retries": settings().task_retries,
            "retry_delay": timedelta(seconds=settings().retry_delay_seconds),
            "on_failure_callback": failure_callbacks(),
        },
        tags=["spendkoll", "comparison", "report"],
        doc_md="### Comparison across organisations\nPer fiscal year, each organisation's "
        "KPIs from its published marts, and its position (quartiles) among the others: "
        "`<data>/comparison/comparison.duckdb` and a page per organisation and fiscal "
        "year in its `reports/comparison/`. Only KPI-level figures cross organisations.",
    ) as dag:

        @task(outlets=[COMPARISON])
        def compare() -> dict[str, Any]:
            from spendkoll.paths import DataDir
            from spendkoll.reporting.comparison import Member, build_comparison

            base = DataDir.from_env().root
            members = [
                Member(o.id, o.name, DataDir(o.data_root(base)), o.report_lang)
                for o in load_organisations()
            ]
            result = build_comparison(members, base / "comparison")
            for reason in result.skipped:
                log.warning("%s", reason)
            log.info(
                "comparison: %d fiscal years, %d rows, %d pages",
                len(result.fiscal_years),
                len(result.rows),
                len(result.pages),
            )
            return {
                "fiscal_years": list(result.fiscal_years),
                "rows": len(result.rows),
                "pages": len(result.pages),
                "skipped": list(result.skipped),
            }

        compare()
    return {dag.dag_id: dag}
