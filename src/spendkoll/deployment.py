"""Preflight of a deployment's settings: `spendkoll check-deployment`.

The compose file runs it before anything else (the `airflow-init` service, on
which every other service waits), so a stack never starts on the
`.env.example` placeholders, an invalid Fernet key or a weak secret: each
problem is named with the variable and what is expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from spendkoll.keys import MIN_LENGTH as PSEUDONYM_MIN_LENGTH

PLACEHOLDER = "CHANGE_ME"
SECRETS = (
    "POSTGRES_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "SPENDKOLL_PSEUDONYM_KEY",
)
REQUIRED = ("POSTGRES_USER", "POSTGRES_DB", "AIRFLOW_ADMIN_USER", *SECRETS)
MIN_SECRET_LENGTH = {
    "AIRFLOW_JWT_SECRET": 32,
    "AIRFLOW_ADMIN_PASSWORD": 12,
    "POSTGRES_PASSWORD": 12,
    "SPENDKOLL_PSEUDONYM_KEY": PSEUDONYM_MIN_LENGTH,
}
MAKE_SECRET = "python -c 'import secrets; print(secrets.token_hex(32))'"
MAKE_FERNET = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def deployment_problems(env: Mapping[str, str] | None = None) -> list[str]:
    """Everything wrong with the deployment settings ([] when they may start)."""
    env = os.environ if env is None else env
    problems = []
    for name in REQUIRED:
        value = env.get(name, "")
        if not value.strip():
            problems.append(f"{name} is not set (see .env.example)")
        elif PLACEHOLDER in value.upper():
            how = MAKE_FERNET if name == "AIRFLOW_FERNET_KEY" else MAKE_SECRET
            problems.append(
                f"{name} is still the placeholder {PLACEHOLDER}: set it, e.g. from `{how}`"
            )
        elif len(value) < MIN_SECRET_LENGTH.get(name, 0):
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH[name]} characters")
    fernet = env.get("AIRFLOW_FERNET_KEY", "")
    if fernet and PLACEHOLDER not in fernet.upper():
        from cryptography.fernet import Fernet

        try:
            Fernet(fernet.encode())
        except (ValueError, TypeError):
            problems.append(
                "AIRFLOW_FERNET_KEY is not a valid Fernet key (32 url-safe "
                f"base64-encoded bytes): make one with `{MAKE_FERNET}`"
            )
    return problems
