"""Airflow DAG spendkoll_load_ledger: the nightly general-ledger load."""

from spendkoll.orchestration.load_dags import load_dags

globals().update(
    load_dags(
        "ledger",
        schedule="0 2 * * *",
        doc_md="""
### Nightly general-ledger load
Loads every file in `landing/ledger/` (canonical CSV, open-data supplier ledger
through a column mapping, or SIE 4, per the sources file), quarantines rows that
do not parse, archives the files and publishes the `spendkoll_raw_ledger` Asset.
A rejected file fails the task after the good files have loaded.
""",
    )
)
