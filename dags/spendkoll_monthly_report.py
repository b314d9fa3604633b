"""Airflow DAG spendkoll_monthly_report: the monthly report per org unit, after month close."""

from spendkoll.orchestration.report_dag import monthly_report_dags

globals().update(monthly_report_dags())
