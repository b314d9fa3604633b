"""Source configs: what lands where, in which format, with which column mapping.

A sources file is TOML with one ``[[source]]`` table per source::

    [[source]]
    name = "ledger"                 # also the landing sub-directory
    kind = "ledger"                 # ledger | contracts | ecommerce | dq_decisions |
                                    #   supplier_register
    format = "leverantorsreskontra" # see FORMATS
    pattern = "*.csv"
    replace = "month"               # month | day | file: what a re-delivery replaces:
                                    #   month: every month the file has rows in (or the
                                    #     month named by period/period_from_filename);
                                    #   day: every posting day the file has rows on;
                                    #   file: the earlier delivery with the same file name;
                                    #   snapshot: everything loaded before from this source
                                    #     (the default for contract registers, and the
                                    #     only scope of the supplier register).
    encoding = "cp1252"             # optional: detected when absent
    delimiter = ";"                 # optional: detected when absent
    decimal = ","                   # optional: detected when absent
    date_format = "%Y-%m-%d"        # optional: ISO, YYYYMMDD and DD/MM/YYYY are tried
    date_range = ["1980-01-01", "2100-12-31"]  # optional: a date outside is quarantined
    max_change_share = 0.5          # a delivery removing/changing more of a period is held
    confirm = ["ledger_2024-04.csv"] # deliveries confirmed despite a large change
    period_from_filename = '(?P<year>\\d{4})-(?P<month>\\d{2})'  # files with no date column
    [source.columns]                # spendkoll field = column in the file
    supplier_id = "orgnr"
    account = { column = "konto", pattern = '^(\\d+)' }

The shipped examples live in ``include/sources/``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from spendkoll.errors import ConfigError
from spendkoll.paths import project_root

KINDS = ("ledger", "contracts", "ecommerce", "dq_decisions", "supplier_register")
REPLACE_SCOPES = ("month", "day", "file", "snapshot")
DEFAULT_REPLACE = {
    "ledger": "month",
    "contracts": "snapshot",
    "ecommerce": "month",
    "dq_decisions": "none",
    "supplier_register": "snapshot",
}
# Archived copies kept per source (keep_archived): every delivery of the sources
# the figures rest on stays in the raw archive; the register's weekly bulk files
# (about 1 GB a week unpacked, and republished by their publishers) keep the
# newest four.
DEFAULT_KEEP_ARCHIVED: dict[str, int | str] = {"supplier_register": 4}
# The supplier register's formats (loaders/register.py), each a published layout:
# Bolagsverket's bulk file, SCB's bulk file of legal units (juridiska enheter) and
# SCB's size classes as an organisation buys them.
REGISTER_FORMATS = ("bolagsverket", "scb_je", "size_class")

# Fields of each kind, in the canonical file's column order.
LEDGER_FIELDS = (
    "verification_id",
    "line_number",
    "posting_date",
    "invoice_date",
    "invoice_number",
    "supplier_id",
    "supplier_name",
    "account",
    "account_text",
    "cost_centre",
    "amount",
    "vat",
    "description",
)
CONTRACT_FIELDS = (
    "contract_id",
    "title",
    "supplier_id",
    "supplier_name",
    "category",
    "start_date",
    "end_date",
    "latest_end_date",
    "contract_type",
    "procured_by",
    "registered_date",
    "estimated_annual_value",
)
ECOMMERCE_FIELDS = (
    "order_id",
    "order_date",
    "supplier_id",
    "cost_centre",
    "amount",
    "from_catalogue",
    "invoice_number",
)
# The contract controller's decisions on the exceptions list (loaders/decisions.py):
# the file's columns are found by their English or Swedish names, or mapped.
DQ_DECISION_FIELDS = ("exception_id", "decision", "comment", "initials", "decided_on")
# Only the size-class file's two columns can be mapped; the bulk files' layouts are fixed.
REGISTER_FIELDS = ("supplier_id", "size_class")
FIELDS = {
    "ledger": LEDGER_FIELDS,
    "contracts": CONTRACT_FIELDS,
    "ecommerce": ECOMMERCE_FIELDS,
    "dq_decisions": DQ_DECISION_FIELDS,
    "supplier_register": REGISTER_FIELDS,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "ledger": ("account", "amount"),
    "contracts": ("contract_id", "supplier_id", "start_date", "end_date"),
    "ecommerce": ("order_id", "order_date", "supplier_id", "amount"),
    "dq_decisions": (),  # exception_id and decision are found by name in the file
    "supplier_register": (),  # the published headers are checked by the register loader
}

# Built-in column mappings (spendkoll field -> header in the file).
PRESETS: dict[str, dict[str, Any]] = {
    # The canonical spendkoll CSV (README, "Canonical ledger CSV").
    "canonical": {
        "verification_id": "verification_id",
        "line_number": "line_number",
        "posting_date": "posting_date",
        "invoice_date": "invoice_date",
        "invoice_number": "invoice_number",
        "supplier_id": "supplier_org_number",
        "supplier_name": "supplier_name",
        "account": "account",
        "cost_centre": "cost_centre",
        "amount": "amount_excl_vat",
        "vat": "vat",
        "description": "description",
    },
    # Sambruk/NSÖD open-data "leverantörsreskontra" 1.1 (15 columns, first 9 mandatory).
    "leverantorsreskontra": {
        "verification_id": "verifikationsnummer",
        "supplier_name": "leverantor",
        "supplier_id": "leverantor_id",
        "account": "konto_nr",
        "account_text": "konto_text",
        "posting_date": "bokforingsdatum",
        "cost_centre": "forvaltning",
        "invoice_number": "fakturanummer",
        "amount": "nettobelopp",
    },
    "contracts": {f: f for f in CONTRACT_FIELDS} | {"supplier_id": "supplier_org_number"},
    "ecommerce": {f: f for f in ECOMMERCE_FIELDS} | {"supplier_id": "supplier_org_number"},
    "sie4": {},
    # default names (English or Swedish) are looked up by the decisions loader
    "dq_decisions": {},
    # published layouts, checked column by column by loaders/register.py
    "bolagsverket": {},
    "scb_je": {},
    "size_class": {},
}
FORMATS = tuple(PRESETS) + ("mapped",)
PRESET_KIND = {
    "canonical": "ledger",
    "leverantorsreskontra": "ledger",
    "sie4": "ledger",
    "mapped": None,
    "contracts": "contracts",
    "ecommerce": "ecommerce",
    "dq_decisions": "dq_decisions",
    "bolagsverket": "supplier_register",
    "scb_je": "supplier_register",
    "size_class": "supplier_register",
}


@dataclass(frozen=True)
class ColumnRule:
    column: str
    pattern: re.Pattern[str] | None = None  # first group (or whole match) is the value


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    format: str
    pattern: str = "*"
    replace: str = "month"
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    date_format: str | None = None
    period: str | None = None
    period_from_filename: re.Pattern[str] | None = None
    max_bad_row_share: float = 0.01
    # plausible dates: a two-digit year read as year 24, or a typo'd 2204, is quarantined
    date_range: tuple[str, str] = ("1980-01-01", "2100-12-31")
    # load-to-load stability: a delivery removing or changing more than this share of
    # a period's lines or amount (of the register's rows) is held until confirmed
    max_change_share: float = 0.5
    confirm: tuple[str, ...] = ()  # file names (glob patterns) confirmed beforehand
    sie_accounts: tuple[str, ...] = ("4", "5", "6", "7", "8")
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    # how many of the source's newest deliveries keep their archived copy; an older
    # one's copy is deleted once it has been replaced (None: keep every copy)
    keep_archived: int | None = None

    @property
    def landing_dir_name(self) -> str:
        return self.name


def _column_rule(fieldname: str, value: Any, where: str) -> ColumnRule:
    if isinstance(value, str):
        return ColumnRule(value)
    if isinstance(value, dict) and isinstance(value.get("column"), str):
        pat = value.get("pattern")
        try:
            compiled = re.compile(pat) if pat else None
        except re.error as exc:
            raise ConfigError(f"{where}: columns.{fieldname}: bad pattern: {exc}") from exc
        return ColumnRule(value["column"], compiled)
    raise ConfigError(
        f"{where}: columns.{fieldname} must be a column name or "
        "{{ column = ..., pattern = ... }}"
    )


def parse_source(raw: dict[str, Any], where: str) -> SourceConfig:
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise ConfigError(f"{where}: 'name' must be lower-case letters, digits or _")
    where = f"{where} [{name}]"
    fmt = raw.get("format")
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    kind = raw.get("kind") or PRESET_KIND[fmt]
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if (kind == "dq_decisions") != (fmt == "dq_decisions") and fmt != "mapped":
        raise ConfigError(
            f"{where}: kind 'dq_decisions' goes with format 'dq_decisions' "
            "(or 'mapped'), and format 'dq_decisions' with kind 'dq_decisions'"
        )
    if (kind == "supplier_register") != (fmt in REGISTER_FORMATS):
        raise ConfigError(
            f"{where}: kind 'supplier_register' goes with format "
            f"{', '.join(repr(f) for f in REGISTER_FORMATS)}, and those formats with kind "
            "'supplier_register'"
        )
    if fmt in ("bolagsverket", "scb_je") and raw.get("columns"):
        raise ConfigError(
            f"{where}: format {fmt!r} is the publisher's fixed layout; "
            "[source.columns] cannot be used with it"
        )
    replace = raw.get("replace", DEFAULT_REPLACE[kind])
    if kind == "supplier_register" and replace != "snapshot":
        raise ConfigError(
            f"{where}: each delivery of a register is a snapshot of the whole register "
            "and replaces the previous one: leave out 'replace' (or set 'snapshot')"
        )
    if kind == "dq_decisions":
        if replace != "none":
            raise ConfigError(
                f"{where}: decisions are never replaced (each file adds "
                "decisions; the latest decision on an exception wins): "
                "leave out 'replace'"
            )
    elif replace not in REPLACE_SCOPES:
        raise ConfigError(f"{where}: replace {replace!r} is not one of {REPLACE_SCOPES}")
    if kind == "contracts" and replace in ("month", "day"):
        raise ConfigError(
            f"{where}: a contract register has no posting months or days; "
            "use replace = 'snapshot' or 'file'"
        )
    decimal = raw.get("decimal")
    if decimal not in (None, ",", "."):
        raise ConfigError(f"{where}: decimal must be ',' or '.'")
    columns: dict[str, ColumnRule] = {f: ColumnRule(c) for f, c in PRESETS.get(fmt, {}).items()}
    for f, v in (raw.get("columns") or {}).items():
        if f not in FIELDS[kind]:
            raise ConfigError(
                f"{where}: columns.{f} is not a {kind} field (fields: {', '.join(FIELDS[kind])})"
            )
        columns[f] = _column_rule(f, v, where)
    if fmt != "sie4":
        for req in REQUIRED[kind]:
            if req not in columns:
                raise ConfigError(f"{where}: the mapping has no column for required field {req!r}")
    pff = raw.get("period_from_filename")
    period = raw.get("period")
    if period is not None and not re.fullmatch(r"\d{4}-\d{2}", str(period)):
        raise ConfigError(f"{where}: period must look like 2016-03")
    date_range = raw.get("date_range", ("1980-01-01", "2100-12-31"))
    try:
        low, high = (date.fromisoformat(str(d)) for d in date_range)
    except (TypeError, ValueError):
        raise ConfigError(
            f'{where}: date_range must be two dates YYYY-MM-DD, e.g. ["1980-01-01", "2100-12-31"]'
        ) from None
    if low >= high:
        raise ConfigError(f"{where}: date_range must run from an earlier to a later date")
    known = {
        "name",
        "kind",
        "format",
        "pattern",
        "replace",
        "encoding",
        "delimiter",
        "decimal",
        "date_format",
        "date_range",
        "period",
        "period_from_filename",
        "max_bad_row_share",
        "max_change_share",
        "confirm",
        "sie_accounts",
        "columns",
        "keep_archived",
    }
    keep_archived = raw.get("keep_archived", DEFAULT_KEEP_ARCHIVED.get(kind, "all"))
    if keep_archived == "all":
        keep_archived = None
    elif isinstance(keep_archived, bool) or not isinstance(keep_archived, int) or keep_archived < 1:
        raise ConfigError(
            f'{where}: keep_archived must be a number of deliveries (1 or more) or "all"'
        )
    max_change = float(raw.get("max_change_share", 0.5))
    if not 0 < max_change <= 1:
        raise ConfigError(f"{where}: max_change_share must be above 0 and at most 1")
    confirm = raw.get("confirm", [])
    if not isinstance(confirm, list) or not all(isinstance(c, str) for c in confirm):
        raise ConfigError(f"{where}: confirm must be a list of file names")
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    return SourceConfig(
        name=name,
        kind=kind,
        format=fmt,
        pattern=raw.get("pattern", "*"),
        replace=replace,
        encoding=raw.get("encoding"),
        delimiter=raw.get("delimiter"),
        decimal=decimal,
        date_format=raw.get("date_format"),
        period=period,
        period_from_filename=re.compile(pff) if pff else None,
        max_bad_row_share=float(raw.get("max_bad_row_share", 0.01)),
        date_range=(low.isoformat(), high.isoformat()),
        max_change_share=max_change,
        confirm=tuple(confirm),
        sie_accounts=tuple(str(a) for a in raw.get("sie_accounts", ("4", "5", "6", "7", "8"))),
        columns=columns,
        keep_archived=keep_archived,
    )


def default_sources_file() -> Path:
    from spendkoll.settings import settings

    return settings().sources or project_root() / "include" / "sources" / "demo.toml"


def load_sources(path: Path | None = None) -> dict[str, SourceConfig]:
    path = path or default_sources_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"sources file {path} not found (set SPENDKOLL_SOURCES)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    out: dict[str, SourceConfig] = {}
    for i, raw in enumerate(data.get("source", []), start=1):
        cfg = parse_source(raw, f"{path.name} source #{i}")
        if cfg.name in out:
            raise ConfigError(f"{path}: source {cfg.name!r} is defined twice")
        out[cfg.name] = cfg
    if not out:
        raise ConfigError(f"{path}: no [[source]] tables")
    return out
