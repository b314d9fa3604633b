"""Airflow DAG spendkoll_load_supplier_register: the weekly supplier-register load.

One DAG, a task per register source (Bolagsverket's bulk file, SCB's bulk file of
legal units, the bought size classes), each in the warehouse's one-slot pool and
publishing its own raw Asset. Each source is optional: a sources file without
it has nothing to load. The load itself is spendkoll.loaders.register.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from airflow.sdk import DAG, Asset, task

from spendkoll.orchestration.assets import (
    dag_id,
    org_tags,
    organisations_to_serve,
    raw_asset_name,
    raw_asset_uri,
    warehouse_pool,
)
from spendkoll.orchestration.load_dags import default_args, load_summary

if TYPE_CHECKING:
    from spendkoll.organisations import Organisation

SOURCES = ("register_bolagsverket", "register_scb", "register_size")
DOC_MD = """
### Weekly supplier-register load
Loads the business registers' bulk files in `landing/register_bolagsverket/`
(Bolagsverket's `bolagsverket_bulkfil.zip` or the `.txt` inside it) and
`landing/register_scb/` (SCB's `scb_bulkfil_JE_*.txt`), and SCB's size classes
in `landing/register_size/`, into `raw.register_bolagsverket`,
`raw.register_scb` and `raw.register_size_class`. Each delivery is a snapshot
replacing the previous one; a rejected delivery (a renamed column, another
encoding mixed in, too many unreadable rows) keeps the previous snapshot and
fails its task. Codes not in the publishers' lists load as written and are
logged as warnings. Publishes the `spendkoll_raw_register_*` Assets.
"""


def supplier_register_dag(org: Organisation | None = None) -> DAG:
    from spendkoll.organisations import activated

    with DAG(
        dag_id=dag_id("load_supplier_register", org),
        # the registers are published weekly; early Monday, before the night's transform
        schedule="30 0 * * 1",
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["spendkoll", "load", "supplier_register", *org_tags(org)],
        doc_md=DOC_MD + (f"\n\nOrganisation: **{org.name}** ({org.org_number})." if org else ""),
    ) as dag:
        for source in SOURCES:

            @task(
                task_id=f"load_{source}",
                pool=warehouse_pool(org),
                outlets=[Asset(name=raw_asset_name(source, org), uri=raw_asset_uri(source, org))],
            )
            def load(source: str = source) -> dict[str, object]:
                with activated(org):
                    return load_summary(source, optional=True)

            load()
    return dag


globals().update({d.dag_id: d for d in map(supplier_register_dag, organisations_to_serve())})
