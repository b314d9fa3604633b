"""Many organisations on one installation: the organisations file.

Without ``SPENDKOLL_ORGANISATIONS`` spendkoll serves one organisation, the one
the ``SPENDKOLL_*`` variables describe, and the DAGs keep their plain ids
(``spendkoll_load_ledger``, ...). With it, the file lists the organisations and
the DAG files generate one set of DAGs per organisation
(``spendkoll_load_ledger__region_norr``, ...), each with its own assets and its
own one-slot warehouse pool, so organisations run in parallel on the workers
while each warehouse keeps its single writer, and one organisation's rejected
file or failed build stops nobody else.

The file is TOML::

    [defaults]                       # optional: what every organisation inherits
    sources = "../sources/demo.toml" # paths are relative to this file
    rule_set = "demo_region"
    report_lang = "sv"

    [[organisation]]
    id = "region_norr"               # a-z, 0-9 and _: DAG ids, directories, pools
    name = "Region Norr"
    org_number = "232100-0016"       # checked with python-stdnum (se.orgnr)
    pseudonym_key_secret = "spendkoll_pseudonym_key_region_norr"
    report_lang = "en"               # sv | en
    seeds = "seeds/region_norr"      # optional: CSVs replacing the project's seeds
    [organisation.dbt_vars]          # optional: the project's vars for this organisation
    spendkoll_small_invoice_limit = 5000
    [organisation.demo]              # optional: `spendkoll generate --organisations`
    seed = 11
    lines = 40000

Each organisation's data directory is ``<SPENDKOLL_DATA_DIR>/orgs/<id>``
(landing area, raw archive, warehouse, published snapshot, reports and the
controller's list). Its pseudonymisation key is the secret named by
``pseudonym_key_secret``: an Airflow Variable, which Airflow resolves through
its secrets backend (``AIRFLOW_VAR_<NAME>`` in the environment, a vault, or the
metadata database); outside Airflow the environment variable
``AIRFLOW_VAR_<NAME>`` is read. There is no fallback to a shared key: the same
person must not carry the same pseudonym in two organisations.

:func:`activated` runs a task body as one organisation: it sets the
``SPENDKOLL_*`` variables the rest of spendkoll reads (data directory, sources,
rule set, key, report language, dbt vars, seeds) and restores them afterwards.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spendkoll.errors import ConfigError

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LANGS = ("sv", "en")
KNOWN_KEYS = {
    "id",
    "name",
    "org_number",
    "sources",
    "rule_set",
    "report_lang",
    "pseudonym_key_secret",
    "seeds",
    "dbt_vars",
    "demo",
}
DEMO_KEYS = {"seed", "lines", "first_year", "years"}


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    org_number: str
    sources: Path
    rule_set: str
    report_lang: str
    pseudonym_key_secret: str
    seeds: Path | None = None
    dbt_vars: Mapping[str, Any] = field(default_factory=dict)
    demo: Mapping[str, int] = field(default_factory=dict)

    def data_root(self, base: Path) -> Path:
        return base / "orgs" / self.id

    def suffix(self) -> str:
        """What the organisation's DAG ids, assets and pool end with."""
        return f"__{self.id}"

    def pseudonym_key(self) -> str:
        """The organisation's key, from its secret (never another organisation's)."""
        value = _secret(self.pseudonym_key_secret)
        if not value:
            raise ConfigError(
                f"organisation {self.id}: no pseudonymisation key: set the Airflow Variable "
                f"{self.pseudonym_key_secret} (or the environment variable "
                f"AIRFLOW_VAR_{self.pseudonym_key_secret.upper()})"
            )
        return value

    def environment(self, base: Path) -> dict[str, str]:
        """The ``SPENDKOLL_*`` variables that make spendkoll work as this organisation."""
        env = {
            "SPENDKOLL_ORG_ID": self.id,
            "SPENDKOLL_ORG_NAME": self.name,
            "SPENDKOLL_DATA_DIR": str(self.data_root(base)),
            "SPENDKOLL_SOURCES": str(self.sources),
            "SPENDKOLL_RULE_SET": self.rule_set,
            "SPENDKOLL_REPORT_LANG": self.report_lang,
            "SPENDKOLL_DBT_VARS": json.dumps(dict(self.dbt_vars), sort_keys=True),
            "SPENDKOLL_SEEDS": str(self.seeds) if self.seeds else "",
        }
        return env


def _secret(name: str) -> str:
    value = os.environ.get(f"AIRFLOW_VAR_{name.upper()}", "")
    if value:
        return value.strip()
    try:
        from airflow.sdk import Variable
    except ImportError:
        return ""
    try:
        found = Variable.get(name, default=None)
    except Exception:  # not inside a task, or no metadata database: unset
        return ""
    return str(found).strip() if found else ""


def organisations_file() -> Path | None:
    from spendkoll.settings import settings

    return settings().organisations


def load_organisations(path: Path | None = None) -> list[Organisation]:
    """The organisations of the file (``SPENDKOLL_ORGANISATIONS``); [] without one."""
    path = path or organisations_file()
    if path is None:
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: the organisations file does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: [defaults] must be a table")
    entries = doc.get("organisation", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected at least one [[organisation]] table")
    orgs: list[Organisation] = []
    for i, entry in enumerate(entries, 1):
        orgs.append(_organisation(path, i, {**defaults, **entry}))
    seen: dict[str, int] = {}
    for i, org in enumerate(orgs, 1):
        if org.id in seen:
            raise ConfigError(
                f"{path}: organisation {i}: id {org.id!r} is already organisation {seen[org.id]}'s"
            )
        seen[org.id] = i
    secrets = [o.pseudonym_key_secret for o in orgs]
    if len(set(secrets)) != len(secrets):
        raise ConfigError(
            f"{path}: two organisations name the same pseudonym_key_secret: each needs its own"
        )
    return orgs


def _organisation(path: Path, i: int, entry: dict[str, Any]) -> Organisation:
    where = f"{path}: organisation {i}"
    unknown = set(entry) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
            f"(expected some of {', '.join(sorted(KNOWN_KEYS))})"
        )
    for key in ("id", "name", "org_number", "sources"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"{where}: {key} is missing (expected a text)")
    org_id = entry["id"]
    if not ID_PATTERN.match(org_id):
        raise ConfigError(
            f"{where}: id {org_id!r}: expected a-z, 0-9 and _, starting with a letter, "
            "at most 40 characters"
        )
    from stdnum.se import orgnr

    try:
        number = orgnr.format(orgnr.validate(entry["org_number"]))
    except Exception:
        raise ConfigError(
            f"{where} ({org_id}): org_number {entry['org_number']!r} is not a valid "
            "Swedish organisation number (NNNNNN-NNNN with a valid check digit)"
        ) from None
    lang = entry.get("report_lang", "sv")
    if lang not in LANGS:
        raise ConfigError(f"{where} ({org_id}): report_lang {lang!r}: expected sv or en")
    sources = (path.parent / entry["sources"]).resolve()
    if not sources.is_file():
        raise ConfigError(f"{where} ({org_id}): sources file {sources} does not exist")
    seeds = None
    if entry.get("seeds"):
        seeds = (path.parent / entry["seeds"]).resolve()
        if not seeds.is_dir():
            raise ConfigError(f"{where} ({org_id}): seeds directory {seeds} does not exist")
    dbt_vars = entry.get("dbt_vars", {})
    if not isinstance(dbt_vars, dict) or not all(k.startswith("spendkoll_") for k in dbt_vars):
        raise ConfigError(
            f"{where} ({org_id}): dbt_vars must be a table of the project's spendkoll_* vars"
        )
    demo = entry.get("demo", {})
    if not isinstance(demo, dict) or set(demo) - DEMO_KEYS:
        raise ConfigError(
            f"{where} ({org_id}): [organisation.demo] takes {', '.join(sorted(DEMO_KEYS))}"
        )
    secret = entry.get("pseudonym_key_secret") or f"spendkoll_pseudonym_key_{org_id}"
    return Organisation(
        id=org_id,
        name=entry["name"].strip(),
        org_number=number,
        sources=sources,
        rule_set=entry.get("rule_set", "demo_region"),
        report_lang=lang,
        pseudonym_key_secret=secret,
        seeds=seeds,
        dbt_vars=dbt_vars,
        demo={k: int(v) for k, v in demo.items()},
    )


def base_data_dir() -> Path:
    """The installation's data directory, under which ``orgs/<id>`` lie."""
    from spendkoll.paths import DataDir

    return DataDir.from_env().root


@contextmanager
def activated(org: Organisation | None, base: Path | None = None) -> Iterator[None]:
    """Work as ``org`` (None: the single organisation of the environment)."""
    if org is None:
        yield
        return
    base = base or base_data_dir()
    env = org.environment(base)
    env["SPENDKOLL_PSEUDONYM_KEY"] = org.pseudonym_key()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def by_id(org_id: str | None) -> Organisation | None:
    if not org_id:
        return None
    for org in load_organisations():
        if org.id == org_id:
            return org
    raise ConfigError(f"no organisation {org_id!r} in {organisations_file()}")
