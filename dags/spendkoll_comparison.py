"""Airflow DAG spendkoll_comparison: the organisations' KPIs side by side (two or more)."""

from spendkoll.orchestration.comparison_dag import comparison_dags

globals().update(comparison_dags())
