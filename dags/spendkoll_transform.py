"""Airflow DAG spendkoll_transform: validate, build and publish the marts after the loads.

One DAG per organisation served (``spendkoll_transform__<id>`` with an
organisations file), each on its own organisation's load assets and pool.
"""

from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset, Metadata, task

from spendkoll.orchestration import transform_tasks as work
from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.orchestration.assets import (
    LOAD_SOURCES,
    dag_id,
    marts_asset_name,
    marts_asset_uri,
    org_tags,
    organisations_to_serve,
    raw_asset_name,
    raw_asset_uri,
    warehouse_pool,
)
from spendkoll.organisations import Organisation
from spendkoll.settings import settings


def transform_dag(org: Organisation | None) -> DAG:
    marts = Asset(name=marts_asset_name(org), uri=marts_asset_uri(org))
    with DAG(
        dag_id=dag_id("transform", org),
        # when all three sources have loaded since the last run
        schedule=[
            Asset(name=raw_asset_name(s, org), uri=raw_asset_uri(s, org)) for s in LOAD_SOURCES
        ],
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={
            "owner": "spendkoll",
            # DuckDB has one writer: every task takes the organisation's one slot
            "pool": warehouse_pool(org),
            "retries": settings().task_retries,
            "retry_delay": timedelta(seconds=settings().retry_delay_seconds),
            "on_failure_callback": failure_callbacks(),
        },
        tags=["spendkoll", "transform", "dbt", *org_tags(org)],
        doc_md="""
### Nightly transform
1. **validate_raw**: the Great Expectations suites on the newly loaded raw rows.
2. **dbt_build**: one dbt process: source freshness (a warning, or blocking with
   `SPENDKOLL_FRESHNESS_BLOCKING=true`), then `dbt build` (seeds, snapshots, models
   and their tests). The log has dbt's line per node and the slowest nodes; the
   XCom has every node's status and seconds.
3. **validate_marts**: the marts suites and the controller's report.
4. **publish_marts**: the read-only snapshot for BI tools; emits the marts Asset
   with the night's figures in the event's extra.

A blocking finding fails its task without retry: nothing after it runs and the
last published snapshot stays.
"""
        + (f"\nOrganisation: **{org.name}** ({org.org_number}).\n" if org else ""),
    ) as dag:

        @task(retries=0)
        def validate_raw() -> str:
            return work.validate_raw(org=org)

        @task
        def dbt_build() -> dict:
            return work.dbt_build(org=org)

        @task(retries=0)
        def validate_marts() -> str:
            return work.validate_marts(org=org)

        @task(outlets=[marts])
        def publish_marts(night: dict):
            published = work.publish_marts(night, org=org)
            yield Metadata(marts, extra=published)
            return published

        night = dbt_build()
        validate_raw() >> night >> validate_marts() >> publish_marts(night)
    return dag


for _org in organisations_to_serve():
    _dag = transform_dag(_org)
    globals()[_dag.dag_id] = _dag
