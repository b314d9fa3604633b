"""Airflow DAG spendkoll_transform: dbt (via Cosmos) after the nightly loads."""

from spendkoll.orchestration.transform_dag import transform_dag

dag = transform_dag()
