"""Airflow DAG spendkoll_transform: validate, build and publish the marts after the loads."""

from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset, Metadata, task

from spendkoll.orchestration import transform_tasks as work
from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.orchestration.assets import LOAD_SOURCES, WAREHOUSE_POOL, raw_asset_uri
from spendkoll.settings import settings

MARTS = Asset(name="spendkoll_marts", uri="spendkoll://warehouse/marts")

with DAG(
    dag_id="spendkoll_transform",
    # when all three sources have loaded since the last run
    schedule=[Asset(name=f"spendkoll_raw_{s}", uri=raw_asset_uri(s)) for s in LOAD_SOURCES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "spendkoll",
        "pool": WAREHOUSE_POOL,  # DuckDB has one writer: every task takes the one slot
        "retries": settings().task_retries,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": failure_callbacks(),
    },
    tags=["spendkoll", "transform", "dbt"],
    doc_md="""
### Nightly transform
1. **validate_raw**: the Great Expectations suites on the newly loaded raw rows.
2. **dbt_build**: one dbt process: source freshness (a warning, or blocking with
   `SPENDKOLL_FRESHNESS_BLOCKING=true`), then `dbt build` (seeds, snapshots, models
   and their tests). The log has dbt's line per node and the slowest nodes; the
   XCom has every node's status and seconds.
3. **validate_marts**: the marts suites and the controller's report.
4. **publish_marts**: the read-only snapshot for BI tools; emits `spendkoll_marts`
   with the night's figures in the event's extra.

A blocking finding fails its task without retry: nothing after it runs and the
last published snapshot stays.
""",
) as dag:

    @task(retries=0)
    def validate_raw() -> str:
        return work.validate_raw()

    @task
    def dbt_build() -> dict:
        return work.dbt_build()

    @task(retries=0)
    def validate_marts() -> str:
        return work.validate_marts()

    @task(outlets=[MARTS])
    def publish_marts(night: dict):
        published = work.publish_marts(night)
        yield Metadata(MARTS, extra=published)
        return published

    night = dbt_build()
    validate_raw() >> night >> validate_marts() >> publish_marts(night)
