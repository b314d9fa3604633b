"""Every ``SPENDKOLL_*`` environment variable, in one place.

:func:`settings` reads the environment once (again only when a ``SPENDKOLL_*``
variable changed, as tests do), checks every value and names the variable and
what was expected when one is wrong. :data:`VARIABLES` is the one list: the
README's table of variables is generated from it (``spendkoll.reference_docs``),
and a test fails when code reads a ``SPENDKOLL_*`` variable it does not list.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from spendkoll.errors import ConfigError


@dataclass(frozen=True)
class Variable:
    name: str  # SPENDKOLL_<NAME>
    field: str  # attribute of Settings
    default: str  # as written in the environment; "" = unset
    parse: Callable[[str], Any]
    expected: str  # what a value must look like, for the error message
    doc: str


def _path(value: str) -> Path | None:
    return Path(value) if value else None


def _bool(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(value)
        return number

    return parse


def _emails(value: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in value.split(",") if a.strip())


def _text(value: str) -> str:
    return value


def _lang(value: str) -> str:
    if value not in ("sv", "en"):
        raise ValueError(value)
    return value


def _json_object(value: str) -> dict[str, Any]:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(value) from None
    if not isinstance(parsed, dict):
        raise ValueError(value)
    return parsed


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "SPENDKOLL_DATA_DIR",
        "data_dir",
        "",
        _path,
        "a directory",
        "The data directory (landing, raw archive, warehouse, reports, Airflow's home "
        "for the demo). Default: `var/` in the checkout.",
    ),
    Variable(
        "SPENDKOLL_HOME",
        "home",
        "",
        _path,
        "a directory",
        "The checkout or image directory holding `dags/`, `dbt_project/` and "
        "`include/`. Default: found from the installed package.",
    ),
    Variable(
        "SPENDKOLL_SOURCES",
        "sources",
        "",
        _path,
        "a TOML file",
        "The sources file: which files each source loads and how they are read. "
        "Default: `include/sources/demo.toml`.",
    ),
    Variable(
        "SPENDKOLL_PSEUDONYM_KEY",
        "pseudonym_key",
        "",
        _text,
        "at least 16 characters",
        "The key that pseudonymises personnummer (HMAC). Without it the Airflow "
        "Variable `spendkoll_pseudonym_key` is used; without either, loads stop. "
        "Never commit it.",
    ),
    Variable(
        "SPENDKOLL_RULE_SET",
        "rule_set",
        "demo_region",
        _text,
        "a rule set of the seed account_mapping_rules",
        "The chart-of-accounts rule set dbt classifies with (`demo_region`, `kommun_bas`, ...).",
    ),
    Variable(
        "SPENDKOLL_TASK_RETRIES",
        "task_retries",
        "2",
        _int_in(0, 20),
        "an integer from 0 to 20",
        "Retries of every Airflow task that can succeed on a second try (a blocking "
        "check never retries). The demo sets 0.",
    ),
    Variable(
        "SPENDKOLL_FRESHNESS_BLOCKING",
        "freshness_blocking",
        "false",
        _bool,
        "true or false",
        "A stale source (dbt source freshness `error`) stops the night's build, so "
        "yesterday's marts stay. Default: a warning.",
    ),
    Variable(
        "SPENDKOLL_REPORT_DAY",
        "report_day",
        "5",
        _int_in(1, 28),
        "a day of the month from 1 to 28",
        "The day the monthly report DAG runs (06:00), after month close.",
    ),
    Variable(
        "SPENDKOLL_LOYALTY_TARGET_PCT",
        "loyalty_target_pct",
        "92",
        float,
        "a percentage such as 92",
        "The supplier-loyalty target drawn in the monthly report's charts.",
    ),
    Variable(
        "SPENDKOLL_ALERT_EMAIL",
        "alert_email",
        "",
        _emails,
        "comma-separated e-mail addresses",
        "Who gets an e-mail when a task fails. Unset: alerts go to `<data>/alerts.log` only.",
    ),
    Variable(
        "SPENDKOLL_ALERT_FROM",
        "alert_from",
        "",
        _text,
        "an e-mail address",
        "The sender of alert e-mails. Default: the SMTP connection's.",
    ),
    Variable(
        "SPENDKOLL_SMTP_CONN_ID",
        "smtp_conn_id",
        "smtp_default",
        _text,
        "an Airflow connection id",
        "The Airflow connection alert e-mails go through.",
    ),
    Variable(
        "SPENDKOLL_DUCKDB_MEMORY_LIMIT",
        "duckdb_memory_limit",
        "3GB",
        _text,
        "a DuckDB size such as 3GB",
        "DuckDB's memory limit in the loaders and validation (dbt's is in `profiles.yml`).",
    ),
    Variable(
        "SPENDKOLL_FIRST_FISCAL_YEAR",
        "first_fiscal_year",
        "2000",
        _int_in(1900, 2100),
        "a year",
        "The earliest fiscal year a ledger line may carry (the raw checks).",
    ),
    Variable(
        "SPENDKOLL_LAST_FISCAL_YEAR",
        "last_fiscal_year",
        "",
        _int_in(1900, 2100),
        "a year",
        "The latest fiscal year a ledger line may carry. Default: this year.",
    ),
    Variable(
        "SPENDKOLL_MAX_LINE_AMOUNT",
        "max_line_amount",
        "1000000000",
        float,
        "an amount in SEK",
        "The largest absolute line amount the raw checks accept.",
    ),
    Variable(
        "SPENDKOLL_ORGANISATIONS",
        "organisations",
        "",
        _path,
        "a TOML file",
        "The organisations file of an installation serving several organisations "
        "(`spendkoll.organisations`): the DAGs fan out per organisation, each with its "
        "own data directory under `<data>/orgs/<id>`. Unset: one organisation.",
    ),
    Variable(
        "SPENDKOLL_ORG_ID",
        "org_id",
        "",
        _text,
        "an organisation id of the organisations file",
        "Set by spendkoll while a task works for one organisation. Not set by hand.",
    ),
    Variable(
        "SPENDKOLL_ORG_NAME",
        "org_name",
        "",
        _text,
        "a name",
        "The organisation's name in the reports. Set from the organisations file.",
    ),
    Variable(
        "SPENDKOLL_REPORT_LANG",
        "report_lang",
        "sv",
        _lang,
        "sv or en",
        "The language of the scheduled monthly report and the comparison pages.",
    ),
    Variable(
        "SPENDKOLL_DBT_VARS",
        "dbt_vars",
        "",
        _json_object,
        'a JSON object of the project\'s vars, e.g. {"spendkoll_small_invoice_limit": 5000}',
        "Values of the dbt project's vars for this organisation (set from the "
        "organisations file). A changed value makes the next night a full rebuild.",
    ),
    Variable(
        "SPENDKOLL_SEEDS",
        "seeds",
        "",
        _path,
        "a directory of seed CSV files",
        "CSV files that replace the dbt project's seeds of the same name (an "
        "organisation's own org units, thresholds or account rules).",
    ),
    Variable(
        "SPENDKOLL_RETRY_DELAY_SECONDS",
        "retry_delay_seconds",
        "300",
        _int_in(1, 86400),
        "seconds from 1 to 86400",
        "How long Airflow waits before retrying a failed task (e.g. after a worker died).",
    ),
    Variable(
        "SPENDKOLL_WORKER_CONCURRENCY",
        "worker_concurrency",
        "4",
        _int_in(1, 64),
        "an integer from 1 to 64",
        "Deployment (`.env`): tasks each Celery worker runs at once "
        "(`AIRFLOW__CELERY__WORKER_CONCURRENCY`); each organisation's pool still "
        "lets one task at a time write its warehouse.",
    ),
    Variable(
        "SPENDKOLL_HEARTBEAT_TIMEOUT_SECONDS",
        "heartbeat_timeout_seconds",
        "300",
        _int_in(10, 86400),
        "seconds from 10 to 86400",
        "Deployment (`.env`): a task whose worker died is failed, then retried on "
        "another worker, after this many seconds without a heartbeat "
        "(`AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT`).",
    ),
    Variable(
        "SPENDKOLL_WAREHOUSE",
        "warehouse",
        "",
        _path,
        "a DuckDB file",
        "Set by spendkoll for dbt (`profiles.yml`): the warehouse of the data "
        "directory. Not set by hand.",
    ),
    Variable(
        "SPENDKOLL_SEED_DIR",
        "seed_dir",
        "",
        _path,
        "a directory",
        "Set by spendkoll for dbt (`dbt_project.yml`) when `SPENDKOLL_SEEDS` replaces "
        "seeds. Not set by hand.",
    ),
    Variable(
        "SPENDKOLL_FAULT_POINT",
        "fault_point",
        "",
        _text,
        "a fault point's name",
        "Tests only: the process kills itself (SIGKILL) at this named point.",
    ),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path | None
    home: Path | None
    sources: Path | None
    pseudonym_key: str
    rule_set: str
    task_retries: int
    freshness_blocking: bool
    report_day: int
    loyalty_target_pct: float
    alert_email: tuple[str, ...]
    alert_from: str
    smtp_conn_id: str
    duckdb_memory_limit: str
    first_fiscal_year: int
    last_fiscal_year: int
    max_line_amount: float
    organisations: Path | None
    org_id: str
    org_name: str
    report_lang: str
    dbt_vars: dict[str, Any]
    seeds: Path | None
    retry_delay_seconds: int
    worker_concurrency: int
    heartbeat_timeout_seconds: int
    warehouse: Path | None
    seed_dir: Path | None
    fault_point: str


def settings() -> Settings:
    """The settings of this process's environment (parsed once per distinct environment)."""
    return _parse(
        tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SPENDKOLL_")))
    )


@functools.lru_cache(maxsize=8)
def _parse(environment: tuple[tuple[str, str], ...]) -> Settings:
    env = dict(environment)
    values: dict[str, Any] = {}
    for var in VARIABLES:
        raw = env.get(var.name, "").strip() or var.default
        if var.name == "SPENDKOLL_LAST_FISCAL_YEAR" and not raw:
            raw = str(date.today().year)
        try:
            values[var.field] = var.parse(raw)
        except ValueError:
            raise ConfigError(
                f"environment variable {var.name}={raw!r}: expected {var.expected}"
            ) from None
    return Settings(**values)
