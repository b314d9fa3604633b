"""The pseudonymisation key for personnummer.

Looked up, in order, in the environment variable ``SPENDKOLL_PSEUDONYM_KEY``
and in the Airflow Variable ``spendkoll_pseudonym_key`` (which Airflow resolves
through its secrets backend first, then its metadata database).  The key never
lives in the repository; without one, loading stops rather than storing
personnummer in clear text or under a guessable hash.
"""

from __future__ import annotations

from spendkoll.errors import ConfigError
from spendkoll.settings import settings

ENV_VAR = "SPENDKOLL_PSEUDONYM_KEY"
AIRFLOW_VARIABLE = "spendkoll_pseudonym_key"
MIN_LENGTH = 16


def pseudonym_key() -> bytes:
    value: str | None = settings().pseudonym_key
    source = f"environment variable {ENV_VAR}"
    if not value:
        value = _from_airflow()
        source = f"Airflow Variable {AIRFLOW_VARIABLE}"
    if not value:
        raise ConfigError(
            "no pseudonymisation key: set the environment variable "
            f"{ENV_VAR} or the Airflow Variable {AIRFLOW_VARIABLE} (at least "
            f"{MIN_LENGTH} characters, e.g. from `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)"
        )
    if len(value) < MIN_LENGTH:
        raise ConfigError(
            f"the pseudonymisation key in {source} is shorter than {MIN_LENGTH} characters"
        )
    return value.encode("utf-8")


def _from_airflow() -> str | None:
    try:
        from airflow.sdk import Variable
    except ImportError:
        return None
    try:
        value = Variable.get(AIRFLOW_VARIABLE, default=None)
    except Exception:  # not inside a task, or no metadata database: treat as unset
        return None
    return str(value) if value else None
