"""Asset names, pools and DAG ids the DAGs publish and schedule on, per organisation.

With one organisation (no ``SPENDKOLL_ORGANISATIONS``) the names are the plain
ones (``spendkoll_load_ledger``, ``spendkoll://warehouse/raw/ledger``, pool
``spendkoll_warehouse``). With an organisations file each organisation gets its
own set, suffixed with its id, so each warehouse has its own single-writer pool
and its own asset chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spendkoll.organisations import Organisation

# Only a single DuckDB process may write a warehouse: every writing task runs in
# its organisation's one-slot pool (created by `spendkoll airflow-setup`,
# docker-compose's airflow-init, or `spendkoll.orchestration.local_airflow`).
WAREHOUSE_POOL = "spendkoll_warehouse"
LOAD_SOURCES = ("ledger", "contracts", "ecommerce")


def organisations_to_serve() -> list[Organisation | None]:
    """[None] for the single organisation of the environment, else the file's list."""
    from spendkoll.organisations import load_organisations

    return list(load_organisations()) or [None]


def suffix(org: Organisation | None) -> str:
    return org.suffix() if org else ""


def dag_id(name: str, org: Organisation | None = None) -> str:
    return f"spendkoll_{name}{suffix(org)}"


def warehouse_pool(org: Organisation | None = None) -> str:
    return WAREHOUSE_POOL + suffix(org)


def raw_asset_uri(source: str, org: Organisation | None = None) -> str:
    base = f"spendkoll://{org.id}/warehouse" if org else "spendkoll://warehouse"
    return f"{base}/raw/{source}"


def raw_asset_name(source: str, org: Organisation | None = None) -> str:
    return f"spendkoll_raw_{source}{suffix(org)}"


def marts_asset_uri(org: Organisation | None = None) -> str:
    return f"spendkoll://{org.id}/warehouse/marts" if org else "spendkoll://warehouse/marts"


def marts_asset_name(org: Organisation | None = None) -> str:
    return f"spendkoll_marts{suffix(org)}"


def org_tags(org: Organisation | None) -> list[str]:
    return [f"org:{org.id}"] if org else []
