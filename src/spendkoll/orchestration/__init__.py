"""Airflow wiring: DAG builders used by the thin files in ``dags/``."""
