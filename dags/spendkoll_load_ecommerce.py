"""Airflow DAG spendkoll_load_ecommerce: the daily e-commerce statistics load."""

from spendkoll.orchestration.load_dags import load_dags

globals().update(
    load_dags(
        "ecommerce",
        schedule="@daily",
        doc_md="""
### Daily e-commerce statistics load
Loads order statistics (e.g. a Raindance export) in `landing/ecommerce/`.
Publishes the `spendkoll_raw_ecommerce` Asset.
""",
    )
)
