"""Process-wide settings: telemetry off, and the environment the tools need."""

from __future__ import annotations

import os

# Every switch we know of that stops a vendor's usage reporting.  Kept in one
# place so the CLI, the Airflow DAGs, the Dockerfile and docker-compose agree
# (the latter two list the same names; tests/unit/test_runtime.py checks it).
TELEMETRY_OFF: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
}


def disable_telemetry(env: dict[str, str] | os._Environ[str] | None = None) -> None:
    """Set every telemetry switch to off where the environment has not set it."""
    target = os.environ if env is None else env
    for key, value in TELEMETRY_OFF.items():
        target.setdefault(key, value)
