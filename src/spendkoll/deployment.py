"""Preflight of a deployment's settings: `spendkoll check-deployment`.

The compose file runs it before anything else (the `airflow-init` service, on
which every other service waits), so a stack never starts on the
`.env.example` placeholders, an invalid Fernet key or a weak secret: each
problem is named with the variable and what is expected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from spendkoll.errors import ConfigError
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
    return problems + organisation_key_problems(env)


def organisation_key_problems(env: Mapping[str, str]) -> list[str]:
    """With an organisations file: each organisation's key, where the environment
    gives it (``AIRFLOW_VAR_<SECRET>``; a secrets backend may hold it instead), is
    no placeholder, long enough and its own."""
    path = env.get("SPENDKOLL_ORGANISATIONS", "").strip()
    if not path:
        return []
    from pathlib import Path

    from spendkoll.organisations import load_organisations

    try:
        orgs = load_organisations(Path(path))
    except ConfigError as exc:
        return [f"SPENDKOLL_ORGANISATIONS: {exc}"]
    problems = []
    seen: dict[str, str] = {}
    for org in orgs:
        name = f"AIRFLOW_VAR_{org.pseudonym_key_secret.upper()}"
        value = env.get(name, "")
        if not value:
            continue
        if PLACEHOLDER in value.upper():
            problems.append(f"{name} (the key of {org.id}) is still the placeholder {PLACEHOLDER}")
        elif len(value) < PSEUDONYM_MIN_LENGTH:
            problems.append(
                f"{name} (the key of {org.id}) is shorter than {PSEUDONYM_MIN_LENGTH} characters"
            )
        elif value in seen:
            problems.append(
                f"{name}: {org.id} has the same key as {seen[value]}: each organisation needs "
                "its own, or one person gets one pseudonym in both"
            )
        seen.setdefault(value, org.id)
    return problems


# Every service's environment in the compose file (`x-spendkoll-common`), in the
# compose file's own interpolation syntax. This mapping is the one place it is
# written: docker-compose.yml must hold exactly it (tests/unit/test_deployment_env.py)
# and the deployment test (tests/integration/test_deployment_stack.py) starts
# PostgreSQL, Redis, the Airflow services and the Celery workers with it,
# rendered by :func:`render_environment` with the test's own hosts, ports and
# secrets. Timing knobs the test shortens (the heartbeat timeout, the retry
# delay) are variables here with the production default.
COMPOSE_ENVIRONMENT: dict[str, str] = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    # Flask AppBuilder's auth manager (users and roles in the metadata database);
    # Airflow documents its SimpleAuthManager as for development only.
    "AIRFLOW__CORE__AUTH_MANAGER": (
        "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    ),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
        "postgresql+psycopg2://${POSTGRES_USER:?}:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD "
        "in .env}@${POSTGRES_HOST:-postgres}:${POSTGRES_PORT:-5432}/${POSTGRES_DB:?}"
    ),
    # Celery: Redis as the broker, the metadata database for task results
    "AIRFLOW__CELERY__BROKER_URL": "redis://${REDIS_HOST:-redis}:${REDIS_PORT:-6379}/0",
    "AIRFLOW__CELERY__RESULT_BACKEND": (
        "db+postgresql+psycopg2://${POSTGRES_USER:?}:${POSTGRES_PASSWORD:?}"
        "@${POSTGRES_HOST:-postgres}:${POSTGRES_PORT:-5432}/${POSTGRES_DB:?}"
    ),
    # tasks per worker; the warehouse pools keep one writer per organisation
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "${SPENDKOLL_WORKER_CONCURRENCY:-4}",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
        "http://${API_SERVER_HOST:-api-server}:${API_SERVER_PORT:-8080}/execution/"
    ),
    "AIRFLOW__API_AUTH__JWT_SECRET": "${AIRFLOW_JWT_SECRET:?set AIRFLOW_JWT_SECRET in .env}",
    # the api-server's session secret: the same in every service
    "AIRFLOW__API__SECRET_KEY": "${AIRFLOW_JWT_SECRET:?}",
    "AIRFLOW__CORE__FERNET_KEY": "${AIRFLOW_FERNET_KEY:?set AIRFLOW_FERNET_KEY in .env}",
    # a task whose worker died is failed (then retried) after this many seconds
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": (
        "${SPENDKOLL_HEARTBEAT_TIMEOUT_SECONDS:-300}"
    ),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW_ADMIN_USER": "${AIRFLOW_ADMIN_USER:?set AIRFLOW_ADMIN_USER in .env}",
    "AIRFLOW_ADMIN_PASSWORD": "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    "SPENDKOLL_PSEUDONYM_KEY": "${SPENDKOLL_PSEUDONYM_KEY:?set SPENDKOLL_PSEUDONYM_KEY in .env}",
    "SPENDKOLL_SOURCES": "${SPENDKOLL_SOURCES:-/opt/spendkoll/include/sources/demo.toml}",
    "SPENDKOLL_ORGANISATIONS": "${SPENDKOLL_ORGANISATIONS:-}",
    "SPENDKOLL_DATA_DIR": "${SPENDKOLL_DATA_DIR:-/data}",
    "SPENDKOLL_RULE_SET": "${SPENDKOLL_RULE_SET:-kommun_bas}",
    "SPENDKOLL_FRESHNESS_BLOCKING": "${SPENDKOLL_FRESHNESS_BLOCKING:-true}",
    "SPENDKOLL_TASK_RETRIES": "${SPENDKOLL_TASK_RETRIES:-2}",
    "SPENDKOLL_RETRY_DELAY_SECONDS": "${SPENDKOLL_RETRY_DELAY_SECONDS:-300}",
    "SPENDKOLL_ALERT_EMAIL": "${SPENDKOLL_ALERT_EMAIL:-}",
    "SPENDKOLL_ALERT_FROM": "${SPENDKOLL_ALERT_FROM:-}",
    "SPENDKOLL_REPORT_DAY": "${SPENDKOLL_REPORT_DAY:-5}",
    "SPENDKOLL_LOYALTY_TARGET_PCT": "${SPENDKOLL_LOYALTY_TARGET_PCT:-92}",
    # Telemetry off (also baked into the image).
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
}

_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}"
)


def render_environment(
    values: Mapping[str, str], template: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The compose environment with ``${NAME}``, ``${NAME:-default}`` and
    ``${NAME:?message}`` replaced as docker compose replaces them (an unset or
    empty ``:?`` variable is an error naming it)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        value = values.get(name, "")
        if value:
            return value
        if op == ":-":
            return arg
        raise ConfigError(f"{name} is not set" + (f": {arg}" if arg else ""))

    return {k: _INTERPOLATION.sub(one, v) for k, v in (template or COMPOSE_ENVIRONMENT).items()}
