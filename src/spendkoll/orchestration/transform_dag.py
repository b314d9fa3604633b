"""Builder of the transform DAG: dbt through Cosmos, scheduled on the load Assets.

A first task checks source freshness (a warning, or blocking with
SPENDKOLL_FRESHNESS_BLOCKING=true). Every dbt task runs in the one-slot
warehouse pool (DuckDB allows one writer), and a last task publishes the
``spendkoll_marts`` Asset for readers.
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
        for root in roots:
            freshness >> root

        @task(task_id="publish_marts", pool=WAREHOUSE_POOL, outlets=[MARTS_ASSET])
        def publish_marts() -> str:
            return "marts built"

        published = publish_marts()
        for leaf in leaves:
            leaf >> published
    return dag
