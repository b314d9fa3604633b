"""Asset names the DAGs publish and schedule on (data-aware scheduling)."""

from __future__ import annotations

# Only a single DuckDB process may write the warehouse: every writing task runs
# in this one-slot pool (created by `spendkoll airflow-setup` / docker-compose).
WAREHOUSE_POOL = "spendkoll_warehouse"
LOAD_SOURCES = ("ledger", "contracts", "ecommerce")


def raw_asset_uri(source: str) -> str:
    return f"spendkoll://warehouse/raw/{source}"
