"""Airflow DAG spendkoll_load_dq_decisions: the contract controller's decisions."""

from spendkoll.orchestration.load_dags import load_dags

globals().update(
    load_dags(
        "dq_decisions",
        schedule="0 1 * * *",
        doc_md="""
### Nightly load of the contract controller's decisions
Loads the returned exceptions lists (XLSX or CSV, a decision per exception:
confirmed, dismissed or corrected) in `landing/dq_decisions/`, before the
ledger load, so that the night's transform builds `marts.dq_exception_status`
with them. Rows that are not a valid decision are quarantined in
`raw.dq_decision_rejected`; the others load. Publishes the
`spendkoll_raw_dq_decisions` Asset.
""",
        optional=True,  # a sources file without the source: nothing to load
    )
)
