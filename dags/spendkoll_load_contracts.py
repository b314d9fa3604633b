"""Airflow DAG spendkoll_load_contracts: the daily contract-register load."""

from spendkoll.orchestration.load_dags import load_dags

globals().update(
    load_dags(
        "contracts",
        schedule="@daily",
        doc_md="""
### Daily contract-register load
Loads the contract register export (CSV or XLSX, e.g. from e-Avrop) in
`landing/contracts/`; each export is a full snapshot replacing the previous one.
Publishes the `spendkoll_raw_contracts` Asset.
""",
    )
)
