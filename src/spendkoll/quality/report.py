"""The contract controller's report (avtalscontrollerns rapport) and the list to
accounting.

Written after each transform to ``<data>/reports/quality/``, read from the
live warehouse (the report is written whatever the marts' validation says):

* ``index.html`` (Swedish) and ``index.en.html`` (English), one Jinja2 template
  (``quality/templates/index.html``) and a dictionary of words
  (``quality/labels.py``); self-contained (CSS, script and SVG inline, no
  request leaves the machine). In this order:

  a. what to act on in the report month, per org unit: the rows of
     ``marts.dq_accounting_list`` with ``on_list`` for the month, in the mart's
     rank (impact) per unit, with the explanation, the suggested account or
     category, the amount at stake, score, status and the rules that agree;
     filterable by org unit and rule (script on the page, works offline); what
     is on the list beside what else is flagged;
  b. the status of earlier decisions (``marts.dq_exception_status``: counts per
     status, median days to resolution, the oldest confirmed exceptions not yet
     corrected) and precision per rule as judged
     (``marts.dq_rule_precision_judged``), beside the precision measured on
     planted errors when ``dq_eval.json`` (``spendkoll dq-eval --json``) is in
     the folder;
  c. trends per rule and per org unit, month by month;
  then short sections: the contract register's unrecognised values
  (``marts.dq_contract_exceptions``, also ``contract_exceptions.csv``) and each
  ledger delivery beside the one before it. The validation is one line at the
  top, linking to
* ``validation.html`` / ``validation.en.html``: for the data engineer, the
  Great Expectations results of the latest run per stage and every flagged line
  counted per rule and per org unit;
* ``exceptions.xlsx``: the list to accounting (``accounting_xlsx``): every row
  on the list, all months, newest month first, with the decision columns to
  fill in and send back (source kind ``dq_decisions``). All months, not only
  the report month: an exception nobody has decided stays on the list until it
  is decided, and a returned file of any month loads;
* ``exceptions.csv``: every row of ``marts.dq_invoice_exceptions`` (one per
  line and rule), for queries beyond the list; text that a spreadsheet would
  read as a formula gets a leading apostrophe (OWASP's CSV-injection rule);
* the run's totals are appended to ``quality.exception_run``.

A mart the report needs that the warehouse does not have stops it with a
message naming the mart (``spendkoll transform`` builds them), rather than an
empty report.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import jinja2
from markupsafe import Markup

from spendkoll.errors import ConfigError
from spendkoll.logs import timed
from spendkoll.paths import DataDir
from spendkoll.quality.accounting_xlsx import FORMULA_START, write_accounting_list
from spendkoll.quality.labels import LABELS
from spendkoll.reporting.charts import line_chart
from spendkoll.reporting.monthly import months_back
from spendkoll.warehouse import writer

LANGS = ("sv", "en")
TEMPLATES = Path(__file__).with_name("templates")
REQUIRED_MARTS = (
    "dq_accounting_list",
    "dq_exception_status",
    "dq_rule_precision_judged",
    "dq_invoice_exceptions",
)
ACT_MAX_ROWS = 5_000  # on_list is bounded per unit and month; a safety net for the page
TREND_MONTHS = 13
EVAL_FILE = "dq_eval.json"
STATUSES = ("new", "open", "confirmed", "dismissed", "resolved")

EXCEPTION_COLUMNS = [
    "exception_id",
    "rule_id",
    "rule_name",
    "severity",
    "period",
    "posting_date",
    "org_unit_id",
    "org_unit_name",
    "supplier_key",
    "supplier_name",
    "invoice_number",
    "verification_id",
    "account",
    "category_id",
    "amount",
    "vat",
    "score",
    "amount_at_stake",
    "impact",
    "suggested_account",
    "suggested_category_id",
    "explanation_sv",
    "explanation_en",
    "source_file",
    "source_line",
    "ledger_line_id",
]

# Exceptions and their amount per rule of the catalogue (rules that found nothing too).
BY_RULE_SQL = """
select r.rule_id, r.rule_name,
       -- the severity the build used (var spendkoll_dq_severity_overrides), else the seed's
       coalesce(max(e.severity), r.severity),
       count(e.rule_id), coalesce(sum(e.amount), 0)
from reference.dq_rules r
left join marts.dq_invoice_exceptions e on e.rule_id = r.rule_id
group by r.rule_id, r.rule_name, r.severity order by r.rule_id
"""

CONTRACT_EXCEPTION_COLUMNS = [
    "file_name",
    "line",
    "column_name",
    "value",
    "contract_id",
    "field_name",
    "explanation_sv",
    "explanation_en",
    "accepted_values",
]

# Every ledger delivery's profile, kept once its lines are built (it outlives the
# batch when a later delivery replaces it): the load-to-load comparison.
PROFILE_DDL = """
create schema if not exists quality;
create table if not exists quality.delivery_profile (
    batch_id            bigint not null,
    source_name         varchar not null,
    file_name           varchar not null,
    lines               bigint not null,
    amount              decimal(18, 2),
    suppliers           bigint not null,
    addressable_pct     decimal(7, 2),
    investment_pct      decimal(7, 2),
    non_addressable_pct decimal(7, 2),
    internal_pct        decimal(7, 2),
    unclassified_pct    decimal(7, 2),
    profiled_at         timestamp not null
);
"""

PROFILE_SQL = """
insert into quality.delivery_profile
select f.batch_id, b.source_name, b.file_name, count(*), sum(f.amount),
       count(distinct f.supplier_key),
       {shares}, ?
from marts.fct_spend f
join raw.load_batch b using (batch_id)
where f.batch_id not in (select batch_id from quality.delivery_profile)
group by f.batch_id, b.source_name, b.file_name
"""

# Each delivery beside the one before it: the delivery it replaced, else the
# source's previous one.
DELIVERY_SQL = """
with p as (select * from quality.delivery_profile),
b as (select * from raw.load_batch)
select cur.source_name, cur.file_name, cur.batch_id, cur.lines, cur.amount, cur.suppliers,
       cur.addressable_pct, cur.unclassified_pct,
       prev.file_name, prev.lines, prev.amount, prev.suppliers, prev.addressable_pct,
       prev.unclassified_pct
from p as cur
left join lateral (
    select * from p as o
    where o.source_name = cur.source_name and o.batch_id < cur.batch_id
    order by (o.batch_id in (select batch_id from b where replaced_by = cur.batch_id)) desc,
             o.batch_id desc
    limit 1
) as prev on true
where cur.batch_id in (select batch_id from b where status = 'loaded')
order by cur.batch_id desc
limit 60
"""

RUN_DDL = """
create schema if not exists quality;
create table if not exists quality.exception_run (
    run_at       timestamp not null,
    rule_id      varchar not null,
    org_unit_id  varchar not null,
    exceptions   bigint not null,
    amount       decimal(18, 2) not null
);
"""

# The list to accounting, in accounting_xlsx.SOURCE_COLUMNS order: every row on
# the list, newest month first, then unit and rank.
LIST_SQL = """
select a.exception_id, a.org_unit_id, a.org_unit_name, a.period, a.posting_date,
       a.supplier_name, a.verification_id, a.invoice_number, a.account, a.amount,
       a.rule_ids, a.explanation_{lang},
       a.suggested_account,
       case when a.suggested_category_id is not null
            then a.suggested_category_id || coalesce(' ' || c.category_level3, '') end,
       a.amount_at_stake, a.score, a.status
from marts.dq_accounting_list a
left join marts.dim_category c on c.category_id = a.suggested_category_id
where a.on_list
order by a.period desc, a.org_unit_id, a.rank_in_unit_month, a.exception_id
"""


@dataclass(frozen=True)
class QualityReport:
    folder: Path
    index: Path
    csv: Path
    xlsx: Path
    exceptions: int  # rows of marts.dq_invoice_exceptions (line x rule)
    by_rule: list[tuple[str, str, str, int, Decimal]]
    month: str | None = None  # the report month
    flagged: int = 0  # lines flagged (marts.dq_accounting_list), all months
    on_list: int = 0  # lines on the list to accounting, all months (the XLSX)
    on_list_month: int = 0  # of them in the report month
    flagged_month: int = 0
    validation: Path | None = None
    pages: tuple[Path, ...] = ()


def missing_marts(
    con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = REQUIRED_MARTS
) -> list[str]:
    have = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    return [t for t in tables if t not in have]


def require_marts(
    con: duckdb.DuckDBPyConnection, where: Path, tables: tuple[str, ...] = REQUIRED_MARTS
) -> None:
    missing = missing_marts(con, tables)
    if missing:
        raise ConfigError(
            f"the controller's report needs {', '.join('marts.' + t for t in missing)}, "
            f"which {where} does not have: build the marts first (`spendkoll transform`, "
            "or the transform DAG)"
        )


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone() == (1,)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and "
            "table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    ]


@timed("controller's report")
def build_report(
    data: DataDir,
    validation_summaries: list[str] | None = None,
    docs_index: Path | None = None,
    month: str | None = None,
    lang: str = "sv",
) -> QualityReport:
    """Write the controller's report for `month` (default: the latest month with
    rows on the list) and the list to accounting in `lang` (sv or en; the HTML
    pages are written in both)."""
    if lang not in LANGS:
        raise ConfigError(f"language {lang!r}: use sv or en")
    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ConfigError(f"month {month!r}: expected YYYY-MM")
    folder = data.reports / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    run_at = datetime.now()
    with writer(data.warehouse) as con:
        require_marts(con, data.warehouse)
        con.execute(RUN_DDL)
        con.execute(
            """
            insert into quality.exception_run
            select ?, rule_id, coalesce(org_unit_id, '?'), count(*), coalesce(sum(amount), 0)
            from marts.dq_invoice_exceptions group by rule_id, org_unit_id""",
            [run_at],
        )
        ctx = _gather(con, month, run_at)
        csv_path, xlsx_path = folder / "exceptions.csv", folder / "exceptions.xlsx"
        cols = [
            c for c in EXCEPTION_COLUMNS if c in set(_columns(con, "marts.dq_invoice_exceptions"))
        ]
        _write_csv(con, cols, csv_path)
        cur = con.execute(LIST_SQL.format(lang=lang))
        on_list = write_accounting_list(_fetch(cur), xlsx_path, lang)
        ctx["contracts"] = _contract_exceptions(con, folder / "contract_exceptions.csv")
        ctx["deliveries"] = _delivery_profiles(con, run_at)
        ctx["ignored"] = (
            con.execute(
                "select source_name, file_name, first_seen from raw.ignored_file order by 1, 2"
            ).fetchall()
            if _has_table(con, "raw", "ignored_file")
            else []
        )
    ctx["summaries"] = validation_summaries or []
    ctx["docs_index"] = str(docs_index) if docs_index else ""
    ctx["eval"] = read_eval(folder / EVAL_FILE)
    ctx["xlsx_lang"] = lang
    pages = render_pages(folder, ctx)
    by_rule = ctx["by_rule"]
    return QualityReport(
        folder,
        folder / "index.html",
        csv_path,
        xlsx_path,
        ctx["exceptions"],
        [(r[0], r[1], r[2], int(r[3]), Decimal(r[4])) for r in by_rule],
        ctx["month"],
        ctx["flagged_all"],
        on_list,
        ctx["on_list_month"],
        ctx["flagged_month"],
        folder / "validation.html",
        tuple(pages),
    )


def _fetch(cur: duckdb.DuckDBPyConnection, size: int = 10_000) -> Any:
    while rows := cur.fetchmany(size):
        yield from rows


def _gather(con: duckdb.DuckDBPyConnection, month: str | None, run_at: datetime) -> dict[str, Any]:
    """Everything the pages show, read in one go."""
    ctx: dict[str, Any] = {"run_at": run_at}
    if month is None:
        row = con.execute(
            "select max(period) filter (where on_list), max(period) from marts.dq_accounting_list"
        ).fetchone()
        month = (row[0] or row[1]) if row else None
    ctx["month"] = month
    rules = con.execute(
        "select rule_id, rule_name, severity, description_sv, description_en "
        "from reference.dq_rules order by rule_id"
    ).fetchall()
    ctx["rules"] = {
        r[0]: {"id": r[0], "name": r[1], "severity": r[2], "sv": r[3], "en": r[4]} for r in rules
    }
    # a. the month's list, per unit
    totals = con.execute(
        """
        select count(*), count(*) filter (where on_list),
               count(*) filter (where period = ?),
               count(*) filter (where period = ? and on_list),
               coalesce(sum(amount_at_stake) filter (where period = ? and on_list), 0)
        from marts.dq_accounting_list""",
        [month, month, month],
    ).fetchone()
    assert totals is not None
    (
        ctx["flagged_all"],
        ctx["on_list_all"],
        ctx["flagged_month"],
        ctx["on_list_month"],
        ctx["stake_month"],
    ) = totals
    units = con.execute(
        """
        select org_unit_id, max(org_unit_name), count(*), count(*) filter (where on_list),
               coalesce(sum(amount_at_stake) filter (where on_list), 0)
        from marts.dq_accounting_list where period = ?
        group by org_unit_id
        order by count(*) filter (where on_list) desc, org_unit_id""",
        [month],
    ).fetchall()
    cur = con.execute(
        f"""
        select a.exception_id, a.org_unit_id, a.rank_in_unit_month, a.supplier_name,
               a.invoice_number, a.verification_id, a.account, a.amount, a.explanation_sv,
               a.explanation_en, a.suggested_account, a.suggested_category_id,
               c.category_level3, a.amount_at_stake, a.score, a.status, a.rule_ids,
               a.posting_date, a.primary_rule_id
        from marts.dq_accounting_list a
        left join marts.dim_category c on c.category_id = a.suggested_category_id
        where a.period = ? and a.on_list
        order by a.org_unit_id, a.rank_in_unit_month, a.exception_id
        limit {ACT_MAX_ROWS}""",
        [month],
    )
    names = [d[0] for d in cur.description]
    act_rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for r in act_rows:
        r["rules"] = [x.strip() for x in str(r["rule_ids"] or "").split(",") if x.strip()]
    ctx["units"] = [
        {
            "id": u[0],
            "name": u[1],
            "flagged": u[2],
            "on_list": u[3],
            "stake": u[4],
            "rows": [r for r in act_rows if r["org_unit_id"] == u[0]],
        }
        for u in units
        if u[3]
    ]
    ctx["act_rules"] = sorted({x for r in act_rows for x in r["rules"]})
    ctx["act_shown"] = len(act_rows)
    # b. decisions
    ctx["status_counts"] = {s: (0, Decimal(0)) for s in STATUSES}
    for status, n, amount in con.execute("""
            select status, count(*), coalesce(sum(amount), 0)
            from marts.dq_exception_status group by status""").fetchall():
        ctx["status_counts"][status] = (n, amount)
    median = con.execute("""
        select median(days_to_resolution), count(days_to_resolution)
        from marts.dq_exception_status where days_to_resolution is not null""").fetchone()
    ctx["median_days"] = median if median and median[1] else None
    median_rule = dict(
        con.execute("""
        select primary_rule_id, median(days_to_resolution) from marts.dq_exception_status
        where days_to_resolution is not null group by primary_rule_id""").fetchall()
    )
    judged = con.execute("""
        select rule_id, decided, confirmed, corrected, dismissed, precision
        from marts.dq_rule_precision_judged order by rule_id""").fetchall()
    ctx["judged"] = {r[0]: r for r in judged}
    ctx["median_rule"] = median_rule
    ctx["oldest"] = con.execute("""
        select exception_id, org_unit_id, org_unit_name, period, supplier_name, amount,
               rule_ids, cast(decided_on as date),
               date_diff('day', cast(decided_on as date), current_date), decision_comment,
               decided_by
        from marts.dq_exception_status where status = 'confirmed'
        order by decided_on nulls first, first_seen_on, exception_id limit 15""").fetchall()
    # c. trends
    months = months_back(month, TREND_MONTHS) if month else []
    ctx["months"] = months
    if months:
        span = [months[0], months[-1]]
        per_rule = con.execute(
            """
            select rule_id, period, count(*) from marts.dq_invoice_exceptions
            where period between ? and ? group by rule_id, period""",
            span,
        ).fetchall()
        per_unit = con.execute(
            """
            select org_unit_id, period, count(*) from marts.dq_accounting_list
            where period between ? and ? group by org_unit_id, period""",
            span,
        ).fetchall()
        per_month = {
            p: (n, k)
            for p, n, k in con.execute(
                """
            select period, count(*), count(*) filter (where on_list)
            from marts.dq_accounting_list where period between ? and ?
            group by period""",
                span,
            ).fetchall()
        }
    else:
        per_rule, per_unit, per_month = [], [], {}
    ctx["trend_rule"] = _series(per_rule, months)
    ctx["trend_unit"] = _series(per_unit, months)
    ctx["trend_total"] = {
        "flagged": [float(per_month.get(m, (0, 0))[0]) for m in months],
        "on_list": [float(per_month.get(m, (0, 0))[1]) for m in months],
    }
    unit_names = dict(
        con.execute(
            "select org_unit_id, max(org_unit_name) from marts.dq_accounting_list group by 1"
        ).fetchall()
    )
    ctx["unit_names"] = unit_names
    # the engineer's page
    ctx["validation"] = (
        con.execute("""
        select stage, suite, target, expectation, column_name, severity, success,
               unexpected_count, observed, examples
        from quality.validation_result
        where run_id in (select max(run_id) from quality.validation_result group by stage)
        order by success, severity, stage, suite, target""").fetchall()
        if _has_table(con, "quality", "validation_result")
        else []
    )
    ctx["by_rule"] = con.execute(BY_RULE_SQL).fetchall()
    ctx["by_unit"] = con.execute("""
        select org_unit_id, max(org_unit_name), count(*), sum(amount)
        from marts.dq_invoice_exceptions group by org_unit_id
        order by count(*) desc""").fetchall()
    row = con.execute("select count(*) from marts.dq_invoice_exceptions").fetchone()
    ctx["exceptions"] = int(row[0]) if row else 0
    return ctx


def _series(rows: list[Any], months: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    index = {m: i for i, m in enumerate(months)}
    for key, period, n in rows:
        series = out.setdefault(str(key), [0.0] * len(months))
        if period in index:
            series[index[period]] = float(n)
    return dict(sorted(out.items()))


def read_eval(path: Path) -> dict[str, Any]:
    """Precision per rule measured on planted errors, from ``spendkoll dq-eval
    --json``: {"path", "precision": {rule: float}, "note", "error"}. Absent or
    unreadable is not an error of the report."""
    out: dict[str, Any] = {"path": str(path), "precision": {}, "note": "", "error": ""}
    if not path.exists():
        return out
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        out["precision"] = _eval_precision(doc)
        out["note"] = str(doc.get("measured_on", "")) if isinstance(doc, dict) else ""
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        out["error"] = f"{path.name}: {exc}"
    return out


def _eval_precision(doc: Any) -> dict[str, float]:
    """Per rule: a precision given as such, else flagged planted lines / (flagged
    planted + flagged untouched lines), pooled over the runs' summaries."""
    if isinstance(doc, dict) and isinstance(doc.get("precision"), dict):
        return {str(k): float(v) for k, v in doc["precision"].items() if v is not None}
    if isinstance(doc, dict) and isinstance(doc.get("rules"), list):
        return {
            str(r["rule_id"]): float(r["precision"])
            for r in doc["rules"]
            if isinstance(r, dict) and r.get("precision") is not None
        }
    hits: dict[str, int] = {}
    false: dict[str, int] = {}
    summary = doc.get("summary", {}) if isinstance(doc, dict) else {}
    for variant in summary.values():
        score = variant.get("score", {})
        for family in score.get("families", {}).values():
            for rule, n in family.get("by_rule", {}).items():
                hits[rule] = hits.get(rule, 0) + int(n)
        for rule, n in score.get("untouched_by_rule", {}).items():
            false[rule] = false.get(rule, 0) + int(n)
    return {
        r: hits.get(r, 0) / (hits.get(r, 0) + false.get(r, 0))
        for r in sorted(set(hits) | set(false))
        if hits.get(r, 0) + false.get(r, 0)
    }


class Fmt:
    """Numbers the way the reader's language writes them."""

    def __init__(self, lang: str):
        self.lang = lang

    def _local(self, s: str) -> str:
        if self.lang != "sv":
            return s
        return s.replace(",", "\u202f").replace(".", ",")

    def money(self, v: Any, decimals: int = 0) -> str:
        return "-" if v is None else self._local(f"{float(v):,.{decimals}f}")

    def count(self, v: Any) -> str:
        return "-" if v is None else self._local(f"{int(v):,}")

    def pct(self, v: Any) -> str:
        """A share from 0 to 1 as a percentage."""
        if v is None:
            return "-"
        share = float(v) * 100
        return self._local(f"{share:.1f}") + ("\u00a0%" if self.lang == "sv" else " %")

    def score(self, v: Any) -> str:
        return "-" if v is None else self._local(f"{float(v):.2f}")

    def delta(self, now: Any, before: Any) -> str:
        if now is None or before is None or float(before) == 0:
            return ""
        return f"{100.0 * (float(now) - float(before)) / abs(float(before)):+.0f} %"

    def day(self, v: Any) -> str:
        if v is None:
            return "-"
        return v.strftime("%Y-%m-%d") if isinstance(v, date | datetime) else str(v)


def sparkline(values: list[float], width: int = 150, height: int = 26, label: str = "") -> Markup:
    """A small inline SVG line of the values (months), the last one dotted."""
    if len(values) < 2:
        return Markup("")
    top = max(max(values), 1e-9)
    step = (width - 6) / (len(values) - 1)
    pts = [(3 + i * step, height - 3 - (height - 6) * v / top) for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    x, y = pts[-1]
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{Markup.escape(label)}"><polyline fill="none" '
        f'stroke="#1f5f8b" stroke-width="1.5" points="{line}"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#1f5f8b"/></svg>'
    )


def template_environment(folder: Path = TEMPLATES) -> jinja2.Environment:
    """The Jinja2 environment of spendkoll's HTML pages (the controller's report,
    the comparison pages): autoescaped, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_pages(folder: Path, ctx: dict[str, Any]) -> list[Path]:
    """index(.en).html and validation(.en).html from the gathered figures."""
    env = template_environment()
    written = []
    for lang in LANGS:
        t, f = LABELS[lang], Fmt(lang)
        months = ctx["months"]
        short = [m[2:] for m in months]
        chart = (
            line_chart(
                short,
                [
                    (t["flagged"], ctx["trend_total"]["flagged"]),
                    (t["on_list"], ctx["trend_total"]["on_list"]),
                ],
                fmt=f.count,
                title=t["trend_total"],
            )
            if months
            else ""
        )
        validation = ctx["validation"]
        checks = {
            "checks": len(validation),
            "blocking": sum(1 for v in validation if not v[6] and v[5] == "blocking"),
            "warnings": sum(1 for v in validation if not v[6] and v[5] != "blocking"),
        }
        common = {
            "t": t,
            "f": f,
            "lang": lang,
            "ctx": ctx,
            "checks": checks,
            "trend_chart": Markup(chart),
            "spark": sparkline,
            "explanation_key": f"explanation_{lang}",
            "rule_text": _rule_text(ctx, lang),
            "status_label": _status_label(t),
            "ignored_files": ", ".join(
                f"{src}/{name} ({t['since']} {f.day(first)})" for src, name, first in ctx["ignored"]
            ),
        }
        suffix = "" if lang == "sv" else f".{lang}"
        for name in ("index", "validation"):
            page = env.get_template(f"{name}.html").render(**common)
            path = folder / f"{name}{suffix}.html"
            tmp = path.with_suffix(".html.tmp")
            tmp.write_text(page, encoding="utf-8")
            tmp.replace(path)
            written.append(path)
    return written


def _rule_text(ctx: dict[str, Any], lang: str) -> Callable[[str], str]:
    def text(rule_id: str) -> str:
        rule = ctx["rules"].get(rule_id)
        return f"{rule_id} {rule['name']}: {rule[lang]}" if rule else rule_id

    return text


def _status_label(t: dict[str, str]) -> Callable[[Any], str]:
    def label(status: Any) -> str:
        return t.get(f"status_{status}", str(status))

    return label


def _delivery_profiles(con: Any, run_at: datetime) -> list[Any]:
    """Profile the deliveries built since the last report, and return each recent
    delivery beside the one before it."""
    con.execute(PROFILE_DDL)
    shares = ", ".join(
        f"round(100.0 * sum(f.amount) filter (where f.spend_class = '{c}') "
        "/ nullif(sum(f.amount), 0), 2)"
        for c in ("addressable", "investment", "non_addressable", "internal", "unclassified")
    )
    con.execute(PROFILE_SQL.format(shares=shares), [run_at])
    return list(con.execute(DELIVERY_SQL).fetchall())


def _contract_exceptions(con: Any, path: Path) -> list[Any]:
    """The contract register's unrecognised values, written as CSV beside the
    invoice exceptions; returns the rows (few: one per register row and column)."""
    if not _has_table(con, "marts", "dq_contract_exceptions"):
        path.unlink(missing_ok=True)
        return []
    _write_csv(
        con,
        CONTRACT_EXCEPTION_COLUMNS,
        path,
        "marts.dq_contract_exceptions",
        "file_name, line, field_name",
    )
    cols = ", ".join(CONTRACT_EXCEPTION_COLUMNS)
    return list(
        con.execute(
            f"select {cols} from marts.dq_contract_exceptions order by file_name, line, field_name"
        ).fetchall()
    )


def _guarded(con: Any, table: str, columns: list[str]) -> str:
    """The select list, text columns guarded against formula injection: a value
    starting with = + - @ tab or CR gets a leading apostrophe (OWASP)."""
    schema, name = table.split(".")
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    )
    pattern = (
        "^["
        + "".join({"\t": "\\t", "\r": "\\r", "-": "\\-"}.get(c, c) for c in FORMULA_START)
        + "]"
    )
    out = []
    for c in columns:
        if str(types.get(c, "")).upper() == "VARCHAR":
            out.append(
                f"case when regexp_matches({c}, '{pattern}') then '''' || {c} else {c} end as {c}"
            )
        else:
            out.append(c)
    return ", ".join(out)


def _write_csv(
    con: Any,
    columns: list[str],
    path: Path,
    table: str = "marts.dq_invoice_exceptions",
    order: str = "rule_id, posting_date, ledger_line_id",
) -> None:
    """A mart as CSV (semicolons, UTF-8 with a BOM so Excel reads it), written by
    DuckDB: a Python row loop took most of the report's time at 10 million lines."""
    tmp = path.with_suffix(".csv.tmp")
    body = path.with_suffix(".csv.body")
    con.execute(
        f"copy (select {_guarded(con, table, columns)} from {table} order by {order}) "
        f"to '{body}' (format csv, delimiter ';', header true)"
    )
    with tmp.open("wb") as f, body.open("rb") as src:
        f.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(src, f, 1 << 20)
    body.unlink()
    tmp.replace(path)


def accounting_list_counts(data: DataDir) -> tuple[int, int] | None:
    """(lines on the list to accounting, lines flagged), all months; None when
    the warehouse has no marts.dq_accounting_list."""
    from spendkoll.warehouse import reader

    con = reader(data.warehouse)
    try:
        if missing_marts(con, ("dq_accounting_list",)):
            return None
        row = con.execute(
            "select count(*) filter (where on_list), count(*) from marts.dq_accounting_list"
        ).fetchone()
    finally:
        con.close()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def quality_summary(data: DataDir) -> str:
    """The latest validation verdicts and exception totals, for the terminal."""
    from spendkoll.warehouse import reader

    con = reader(data.warehouse)
    try:
        validated = _has_table(con, "quality", "validation_result")
        checks = (
            con.execute("""
            select stage, count(*), count(*) filter (where not success),
                   count(*) filter (where not success and severity = 'blocking')
            from quality.validation_result
            where run_id in (select max(run_id) from quality.validation_result group by stage)
            group by stage order by stage desc""").fetchall()
            if validated
            else []
        )
        rules = con.execute(BY_RULE_SQL).fetchall()
        contract_values = con.execute(
            "select count(*) from marts.dq_contract_exceptions"
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    lines = ["Data quality:"]
    for stage, n, failed, blocking in checks:
        lines.append(
            f"  validation {stage:<6} {n:>5} expectation results, {failed} failed, "
            f"{blocking} blocking"
        )
    lines.append(f"  {'invoice rule':<44}{'severity':<10}{'lines':>8}{'amount SEK':>18}")
    for rule_id, name, severity, count, amount in rules:
        lines.append(f"  {rule_id + ' ' + name:<44}{severity:<10}{count:>8,}{amount:>18,.2f}")
    lines.append(
        f"  contract register values not recognised (marts.dq_contract_exceptions): "
        f"{contract_values:,}"
    )
    return "\n".join(lines)
