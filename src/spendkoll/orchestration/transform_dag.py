"""Builder of the transform DAG: dbt through Cosmos, scheduled on the load Assets.

The run: source freshness (a warning, or blocking with
SPENDKOLL_FRESHNESS_BLOCKING=true), the raw suites on the newly loaded files,
dbt (models and their tests), the marts suites and the controller's report,
and only when no blocking check failed, publication of the marts snapshot and
the ``spendkoll_marts`` Asset. A blocking failure fails its task, so nothing
after it runs and the last published snapshot stays. Every task runs in the
one-slot warehouse pool (DuckDB allows one writer); failures alert through the
callbacks of spendkoll.orchestration.alerts.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.exceptions import AirflowFailException
from airflow.sdk import Asset, task
from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.orchestration.assets import LOAD_SOURCES, WAREHOUSE_POOL, raw_asset_uri
from spendkoll.paths import DataDir
from spendkoll.transform.dbt import dbt_project_dir

MARTS_ASSET = Asset(name="spendkoll_marts", uri="spendkoll://warehouse/marts")


def transform_dag() -> DbtDag:
    data = DataDir.from_env()
    # Cosmos runs dbt in a temporary copy of the project with its own target
    # directory: pass only the warehouse path (a fixed DBT_TARGET_PATH would keep
    # partial-parse state pointing at a deleted copy).
    env = {"SPENDKOLL_WAREHOUSE": str(data.warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    dbt_bin = Path(sys.executable).with_name("dbt")
    with DbtDag(
        dag_id="spendkoll_transform",
        project_config=ProjectConfig(
            dbt_project_path=dbt_project_dir(),
            env_vars=env,
            dbt_vars={"spendkoll_rule_set": os.environ.get("SPENDKOLL_RULE_SET", "demo_region")},
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="spendkoll", target_name="duckdb",
            profiles_yml_filepath=dbt_project_dir() / "profiles.yml",
        ),
        # dbt runs in-process (dbt's Python runner) from this same environment.
        execution_config=ExecutionConfig(dbt_executable_path=dbt_bin,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_LS, test_behavior=TestBehavior.AFTER_ALL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        operator_args={"pool": WAREHOUSE_POOL, "install_deps": False},
        schedule=[Asset(name=f"spendkoll_raw_{s}", uri=raw_asset_uri(s)) for s in LOAD_SOURCES],
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={
            "owner": "spendkoll",
            "retries": int(os.environ.get("SPENDKOLL_TASK_RETRIES", "1")),
            "retry_delay": timedelta(minutes=5),
            "pool": WAREHOUSE_POOL,
            "on_failure_callback": failure_callbacks(),
        },
        tags=["spendkoll", "transform", "dbt"],
        doc_md="### dbt transform\nBuilds seeds, staging, intermediate models and marts "
               "(dbt-duckdb via Cosmos) after the three loads, then publishes "
               "`spendkoll_marts`.",
    ) as dag:
        roots = [t for t in dag.tasks if not t.upstream_list]
        leaves = [t for t in dag.tasks if not t.downstream_list]

        @task(task_id="check_source_freshness", pool=WAREHOUSE_POOL, retries=0)
        def check_source_freshness() -> list[str]:
            from spendkoll.transform.freshness import (
                check_source_freshness as check,
            )
            from spendkoll.transform.freshness import failing, freshness_is_blocking

            verdicts = check()
            lines = [v.line() for v in verdicts]
            for line in lines:
                print(f"source freshness: {line}")
            bad = failing(verdicts)
            if bad and freshness_is_blocking():
                raise AirflowFailException(
                    "stale sources, marts not rebuilt: " + "; ".join(v.line() for v in bad))
            return lines

        freshness = check_source_freshness()

        @task(task_id="validate_raw", pool=WAREHOUSE_POOL, retries=0)
        def validate_raw() -> str:
            from spendkoll.quality.validation import Validator

            report = Validator(DataDir.from_env()).validate_raw()
            print(report.summary())
            if not report.passed:
                raise AirflowFailException("blocking raw-data checks failed, marts not rebuilt:\n"
                                           + report.summary())
            return report.summary()

        @task(task_id="validate_marts", pool=WAREHOUSE_POOL, retries=0)
        def validate_marts() -> str:
            from spendkoll.quality.report import build_report
            from spendkoll.quality.validation import Validator

            report = Validator(DataDir.from_env()).validate_marts()
            print(report.summary())
            # The controller's report is written whatever the verdict.
            quality = build_report(DataDir.from_env(), [report.summary()], report.docs_index)
            print(f"data-quality report: {quality.index}")
            if not report.passed:
                raise AirflowFailException("blocking checks on the marts failed, not published "
                                           "(the last published snapshot stays):\n"
                                           + report.summary())
            return report.summary()

        @task(task_id="publish_marts", pool=WAREHOUSE_POOL, outlets=[MARTS_ASSET])
        def publish_marts() -> str:
            from spendkoll.publish import publish

            return str(publish(DataDir.from_env()))

        raw_checked = validate_raw()
        freshness >> raw_checked
        for root in roots:
            raw_checked >> root
        marts_checked = validate_marts()
        for leaf in leaves:
            leaf >> marts_checked
        marts_checked >> publish_marts()
    return dag
