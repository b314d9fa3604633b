"""Airflow DAG spendkoll_load_supplier_register: the weekly supplier-register load.

One DAG, a task per register source (Bolagsverket's bulk file, SCB's bulk file of
legal units, the bought size classes), each in the warehouse's one-slot pool and
publishing its own raw Asset. Each source is optional: a sources file without
it has nothing to load. The load itself is spendkoll.loaders.register.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spendkoll.orchestration.assets import organisations_to_serve
from spendkoll.orchestration.load_dags import load_dag_for, load_task

if TYPE_CHECKING:
    from airflow.sdk import DAG

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
    # the registers are published weekly; early Monday, before the night's transform
    with load_dag_for(
        "load_supplier_register", "30 0 * * 1", DOC_MD, "supplier_register", org
    ) as dag:
        for source in SOURCES:
            load_task(source, org, optional=True)
    return dag


globals().update({d.dag_id: d for d in map(supplier_register_dag, organisations_to_serve())})
