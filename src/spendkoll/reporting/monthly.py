"""The monthly report per org unit, and one for the whole organisation.

One self-contained HTML file each (styles and SVG charts inline, system fonts,
no script, no request leaves the machine when it is opened), Swedish by default
or English. Every figure is read from the published marts snapshot
(``published/spendkoll_marts.duckdb``), never from the live warehouse; key
figures carry ``data-kpi`` attributes so a test can compare them with the marts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from spendkoll.errors import ConfigError
from spendkoll.logs import timed
from spendkoll.paths import DataDir
from spendkoll.publish import published_path
from spendkoll.reporting.charts import bar_chart, hbar_chart, line_chart
from spendkoll.settings import settings

ORGANISATION = "ALLA"
# The controller's report, from reports/monthly/YYYY-MM/.
CONTROLLER_REPORT = "../../quality/index.html"

LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Månadsrapport inköp",
        "org": "Hela organisationen",
        "month": "Månad",
        "generated": "Skapad",
        "data_to": "Data till och med",
        "spend": "Inköpsvolym",
        "addressable": "Påverkbar spend",
        "investment": "Investeringar",
        "non_addressable": "Ej påverkbar spend",
        "other": "Övrigt (ej påverkbart, interna köp)",
        "loyalty": "Leverantörstrohet",
        "compliance": "Avtalstrohet per kategori",
        "small": "Fakturor under 10 000 kr",
        "ecommerce": "Andel via e-handel",
        "suppliers": "Leverantörer",
        "invoices": "Fakturor",
        "target": "mål",
        "trend": "Inköpsvolym de senaste 13 månaderna (kr)",
        "loyalty_cat": "Leverantörstrohet per kategori mot målet",
        "shares": "Andel små fakturor och andel via e-handel (%)",
        "no_contract": "Största leverantörer utan avtal i kategorin (månaden)",
        "threshold": "Leverantörer utan avtal över direktupphandlingsgränsen (året hittills)",
        "expiring": "Avtal som löper ut inom 12 månader",
        "dq": "Avvikande fakturarader (månaden)",
        "open": "Öppna felkonteringar på listan till redovisningen",
        "profile": "Leverantörsprofil (bolagsregistren, räkenskapsåret)",
        "profile_note": "Andel av påverkbar spend och av leverantörer per storleksklass enligt "
        "SCB och Bolagsverket. SME = under 200 anställda (SCB:s klasser 1–7); klass 8 "
        "(200–499 anställda) går inte att dela vid EU:s gräns 250 och visas för sig; okänt "
        "visas alltid.",
        "group": "Grupp",
        "spend_share": "Andel av spend",
        "supplier_share": "Andel av leverantörer",
        "open_lead": "{n} undantag med status ny, öppen eller bekräftad står på listan till "
        "redovisningen (till och med månaden), {amount} kr ({stake} kr i fråga). "
        "De fem med störst påverkan nedan; alla, med förklaring och förslag, i",
        "open_link": "avtalscontrollerns rapport",
        "open_none": "Inga öppna felkonteringar på listan till redovisningen.",
        "period": "Period",
        "account": "Konto",
        "explanation": "Förklaring",
        "suggestion": "Förslag",
        "status": "Status",
        "status_new": "ny",
        "status_open": "öppen",
        "status_confirmed": "bekräftad",
        "supplier": "Leverantör",
        "category": "Kategori",
        "amount": "Belopp, kr",
        "unit_part": "Enhetens del, kr",
        "year_total": "Utan avtal i år t.o.m. månaden, kr",
        "threshold_col": "Gräns, kr",
        "contract": "Avtal",
        "ends": "Slutar",
        "extend": "Kan förlängas",
        "spend12": "Enhetens spend 12 mån, kr",
        "rule": "Regel",
        "lines": "Rader",
        "none": "Inga.",
        "yes": "ja",
        "no": "nej",
        "risk_note": "En riskflagga, inte bevis på en otillåten direktupphandling.",
        "loyalty_note": "Leverantörstrohet = påverkbar spend hos leverantörer med aktivt avtal "
        "på bokföringsdagen / påverkbar spend.",
    },
    "en": {
        "title": "Monthly procurement report",
        "org": "Whole organisation",
        "month": "Month",
        "generated": "Generated",
        "data_to": "Data up to",
        "spend": "Spend",
        "addressable": "Addressable spend",
        "investment": "Investments",
        "non_addressable": "Non-addressable spend",
        "other": "Other (non-addressable, internal)",
        "loyalty": "Supplier loyalty",
        "compliance": "Category contract compliance",
        "small": "Invoices under SEK 10,000",
        "ecommerce": "Share via e-commerce",
        "suppliers": "Suppliers",
        "invoices": "Invoices",
        "target": "target",
        "trend": "Spend over the last 13 months (SEK)",
        "loyalty_cat": "Supplier loyalty per category against the target",
        "shares": "Small-invoice share and e-commerce share (%)",
        "no_contract": "Largest suppliers without a contract in the category (the month)",
        "threshold": "Suppliers without contract above the direct procurement threshold "
        "(year to date)",
        "expiring": "Contracts expiring within 12 months",
        "dq": "Invoice exceptions (the month)",
        "open": "Open mis-codings on the list to accounting",
        "profile": "Supplier profile (business registers, the fiscal year)",
        "profile_note": "Share of addressable spend and of suppliers by size class from SCB "
        "and Bolagsverket. SME = fewer than 200 employees (SCB classes 1-7); class 8 (200-499 "
        "employees) cannot be split at the EU limit of 250 and is shown apart; the unknown "
        "part is always shown.",
        "group": "Group",
        "spend_share": "Share of spend",
        "supplier_share": "Share of suppliers",
        "open_lead": "{n} exceptions with status new, open or confirmed are on the list to "
        "accounting (up to the month), SEK {amount} (SEK {stake} at stake). The "
        "five with the largest impact below; all of them, with explanation and "
        "suggestion, in",
        "open_link": "the contract controller's report",
        "open_none": "No open mis-codings on the list to accounting.",
        "period": "Period",
        "account": "Account",
        "explanation": "Explanation",
        "suggestion": "Suggestion",
        "status": "Status",
        "status_new": "new",
        "status_open": "open",
        "status_confirmed": "confirmed",
        "supplier": "Supplier",
        "category": "Category",
        "amount": "Amount, SEK",
        "unit_part": "The unit's part, SEK",
        "year_total": "Uncontracted, year to date, SEK",
        "threshold_col": "Threshold, SEK",
        "contract": "Contract",
        "ends": "Ends",
        "extend": "Can be extended",
        "spend12": "The unit's spend 12 months, SEK",
        "rule": "Rule",
        "lines": "Lines",
        "none": "None.",
        "yes": "yes",
        "no": "no",
        "risk_note": "A risk flag, not proof of an unlawful direct award.",
        "loyalty_note": "Supplier loyalty = addressable spend with suppliers holding an active "
        "contract on the posting date / addressable spend.",
    },
}

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
margin:0;color:#1d1d1d;background:#fafafa}
main{max-width:980px;margin:0 auto;padding:24px;background:#fff}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:30px 0 8px;border-bottom:2px solid #1f5f8b}
.meta{color:#555;font-size:13px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin-top:16px}
.kpi{border:1px solid #ddd;border-radius:6px;padding:10px}
.kpi .label{font-size:12px;color:#555}.kpi .value{font-size:20px;font-weight:600}
.kpi .note{font-size:11px;color:#777}
.below{color:#a8600f}.above{color:#2a6b2a}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{padding:4px 6px;border-bottom:1px solid #e5e5e5;text-align:left}
td.num,th.num{text-align:right;white-space:nowrap}
.note{font-size:12px;color:#666}
svg.chart{max-width:100%;height:auto;font-family:inherit}
#open-top td:first-child{white-space:nowrap}
@media print{body{background:#fff}main{padding:0}}
"""


@dataclass(frozen=True)
class MonthlyReport:
    unit_id: str
    unit_name: str
    period: str
    path: Path


def months_back(period: str, n: int) -> list[str]:
    """The n months up to and including ``period`` (YYYY-MM), oldest first."""
    y, m = int(period[:4]), int(period[5:7])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return list(reversed(out))


def _month_end(period: str) -> date:
    y, m = int(period[:4]), int(period[5:7])
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


class Formatter:
    def __init__(self, lang: str):
        self.lang = lang

    def money(self, v: Any) -> str:
        if v is None:
            return "-"
        s = f"{float(v):,.0f}"
        return s.replace(",", "\u202f") if self.lang == "sv" else s

    def pct(self, v: Any) -> str:
        if v is None:
            return "-"
        s = f"{float(v):.1f}"
        return (s.replace(".", ",") + "\u00a0%") if self.lang == "sv" else s + " %"

    def count(self, v: Any) -> str:
        return "-" if v is None else self.money(v)


def _open_published(data: DataDir) -> duckdb.DuckDBPyConnection:
    path = published_path(data)
    if not path.exists():
        raise ConfigError(
            f"{path}: no published marts yet (run the transform, or "
            "`spendkoll transform` and `spendkoll publish`)"
        )
    return duckdb.connect(str(path), read_only=True)


def latest_closed_period(data: DataDir) -> str:
    con = _open_published(data)
    try:
        row = con.execute("select max(period) from marts.kpi_monthly_org_unit").fetchone()
    finally:
        con.close()
    if not row or not row[0]:
        raise ConfigError("the published marts hold no period")
    return str(row[0])


@timed("monthly reports")
def generate_monthly_reports(
    data: DataDir,
    period: str | None = None,
    lang: str = "sv",
    units: list[str] | None = None,
    target_pct: float | None = None,
) -> list[MonthlyReport]:
    """Write the month's reports; returns them, the organisation's first."""
    if lang not in LABELS:
        raise ConfigError(f"language {lang!r}: use sv or en")
    period = period or latest_closed_period(data)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ConfigError(f"month {period!r}: expected YYYY-MM")
    target = target_pct if target_pct is not None else settings().loyalty_target_pct
    out_dir = data.reports / "monthly" / period
    out_dir.mkdir(parents=True, exist_ok=True)
    con = _open_published(data)
    try:
        all_units = con.execute(
            """
            select distinct org_unit_id, org_unit_name from marts.kpi_monthly_org_unit
            where period = ? order by org_unit_id""",
            [period],
        ).fetchall()
        if not all_units:
            raise ConfigError(f"no spend in {period} in the published marts")
        wanted = [(u, n) for u, n in all_units if units is None or u in units]
        reports = []
        org_name = settings().org_name or LABELS[lang]["org"]
        for unit_id, unit_name in [(ORGANISATION, org_name), *wanted]:
            page = render_unit(con, unit_id, unit_name, period, lang, target)
            name = "index.html" if unit_id == ORGANISATION else f"{_slug(unit_id)}.html"
            if lang != "sv":
                name = name.replace(".html", f".{lang}.html")
            path = out_dir / name
            tmp = path.with_suffix(".tmp")
            tmp.write_text(page, encoding="utf-8")
            tmp.replace(path)
            reports.append(MonthlyReport(unit_id, unit_name, period, path))
    finally:
        con.close()
    return reports


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text) or "enhet"


def _unit_filter(unit_id: str, column: str = "org_unit_id") -> tuple[str, list[Any]]:
    if unit_id == ORGANISATION:
        return "true", []
    return f"{column} = ?", [unit_id]


def month_figures(con: duckdb.DuckDBPyConnection, unit_id: str, period: str) -> dict[str, Any]:
    """The month's headline figures of a unit (or the organisation) from the KPI marts."""
    if unit_id == ORGANISATION:
        sql = "select * from marts.kpi_monthly_organisation where period = ?"
        args: list[Any] = [period]
    else:
        sql = "select * from marts.kpi_monthly_org_unit where period = ? and org_unit_id = ?"
        args = [period, unit_id]
    cur = con.execute(sql, args)
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    return dict(zip(names, row, strict=True)) if row else {}


def uncontracted_above_threshold_ytd(
    con: duckdb.DuckDBPyConnection, unit_id: str, period: str, limit: int = 10
) -> list[tuple[Any, ...]]:
    """Suppliers without contract above the direct procurement threshold, year to
    date: per supplier and leaf category, the organisation's addressable spend not
    covered by a contract in the category from the start of the fiscal year to the
    end of the report month, against the fiscal year's threshold (the lower one in
    a year it changed: kpi_uncontracted_above_threshold's rule, cut at the month).
    Rows: supplier name, category, the unit's part, the year-to-date total and the
    threshold; for a unit, only suppliers the unit bought from uncontracted."""
    uwhere, uargs = _unit_filter(unit_id, "f.org_unit_id")
    year = int(period[:4])
    return con.execute(
        f"""
        with year_threshold as (
            select min(threshold_sek) as threshold_sek
            from reference.direct_procurement_thresholds
            where valid_from <= make_date(?, 12, 31) and valid_to >= make_date(?, 1, 1)
        ),
        ytd as (
            select f.supplier_key, f.category_id, f.org_unit_id, f.amount
            from marts.fct_spend f
            where f.fiscal_year = ? and f.period <= ? and f.spend_class = 'addressable'
              and not f.contract_covers_category and f.supplier_key is not null
        ),
        per_supplier as (
            select supplier_key, category_id, sum(amount) as ytd_spend,
                   (select threshold_sek from year_threshold) as threshold_sek
            from ytd group by supplier_key, category_id
        ),
        unit_part as (
            select supplier_key, category_id, sum(amount) as unit_spend
            from ytd f where {uwhere} group by supplier_key, category_id
        )
        select coalesce(s.supplier_name, '?'), c.category_level3, u.unit_spend, p.ytd_spend,
               p.threshold_sek
        from per_supplier p
        join unit_part u using (supplier_key, category_id)
        left join marts.dim_supplier s on s.supplier_key = p.supplier_key
        left join marts.dim_category c on c.category_id = p.category_id
        where p.ytd_spend > p.threshold_sek
        order by u.unit_spend desc, p.ytd_spend desc, p.supplier_key, p.category_id
        limit {int(limit)}""",
        [year, year, year, period, *uargs],
    ).fetchall()


def open_miscodings(
    con: duckdb.DuckDBPyConnection, unit_id: str, period: str, lang: str
) -> tuple[int, Decimal, Decimal, list[tuple[Any, ...]]]:
    """The unit's (or the organisation's) exceptions on the list to accounting
    that are still open (status new, open or confirmed), up to the month: count,
    amount, amount at stake, and the five with the largest impact (period,
    supplier, account, amount, explanation, suggestion, status)."""
    have = con.execute(
        "select count(*) from information_schema.tables where "
        "table_schema = 'marts' and table_name = 'dq_accounting_list'"
    ).fetchone()
    if have != (1,):
        raise ConfigError(
            "the published marts have no marts.dq_accounting_list (the list to "
            "accounting): build and publish the marts again (`spendkoll "
            "transform`, `spendkoll publish`)"
        )
    where, args = _unit_filter(unit_id)
    scope = (
        f"from marts.dq_accounting_list where {where} and on_list and period <= ? "
        "and status in ('new', 'open', 'confirmed')"
    )
    row = con.execute(
        f"select count(*), coalesce(sum(amount), 0), coalesce(sum(amount_at_stake), 0) {scope}",
        [*args, period],
    ).fetchone()
    explanation = "explanation_sv" if lang == "sv" else "explanation_en"
    top = con.execute(
        f"""
        select period, coalesce(supplier_name, '?'), account, amount, {explanation},
               concat_ws(' ', suggested_account, suggested_category_id), status
        {scope} order by impact desc, exception_id limit 5""",
        [*args, period],
    ).fetchall()
    assert row is not None
    return int(row[0]), Decimal(row[1]), Decimal(row[2]), top


def render_unit(
    con: duckdb.DuckDBPyConnection,
    unit_id: str,
    unit_name: str,
    period: str,
    lang: str,
    target: float,
) -> str:
    t, f = LABELS[lang], Formatter(lang)
    months = months_back(period, 13)
    where, args = _unit_filter(unit_id)
    fig = month_figures(con, unit_id, period)
    table = (
        "marts.kpi_monthly_organisation"
        if unit_id == ORGANISATION
        else "marts.kpi_monthly_org_unit"
    )
    trend = {
        r[0]: r[1:]
        for r in con.execute(
            f"""
        select period, addressable_spend, investment_spend,
               spend - addressable_spend - investment_spend, small_invoice_share_pct,
               ecommerce_share_pct, supplier_loyalty_pct
        from {table} where {where} and period between ? and ?""",
            [*args, months[0], months[-1]],
        ).fetchall()
    }
    loyalty_cat = con.execute(
        f"""
        select category_level1,
               100.0 * sum(contracted_spend) / nullif(sum(addressable_spend), 0)
        from marts.kpi_monthly where {where} and period = ?
        group by category_level1 having sum(addressable_spend) > 0
        order by sum(addressable_spend) desc""",
        [*args, period],
    ).fetchall()
    no_contract = con.execute(
        f"""
        select coalesce(supplier_name, '?'), category_level1, sum(amount)
        from marts.fct_spend
        where {where} and period = ? and spend_class = 'addressable'
          and not contract_covers_category and supplier_key is not null
        group by supplier_key, supplier_name, category_level1
        having sum(amount) > 0 order by 3 desc limit 10""",
        [*args, period],
    ).fetchall()
    uwhere, uargs = _unit_filter(unit_id, "f.org_unit_id")
    threshold = uncontracted_above_threshold_ytd(con, unit_id, period)
    month_end = _month_end(period)
    expiring = con.execute(
        f"""
        select c.contract_id, max(c.title), max(c.end_date), max(c.latest_end_date),
               coalesce(sum(f.amount), 0)
        from marts.dim_contract c
        left join marts.fct_spend f
          on f.matched_contract_id = c.contract_id and f.supplier_key = c.supplier_key
         and f.posting_date > ? and f.posting_date <= ? and {uwhere}
        where c.end_date > ? and c.end_date <= ?
        group by c.contract_id
        having {"true" if unit_id == ORGANISATION else "sum(f.amount) is not null"}
        order by 5 desc, 3 limit 15""",
        [
            date(month_end.year - 1, month_end.month, min(month_end.day, 28)),
            month_end,
            *uargs,
            month_end,
            date(month_end.year + 1, month_end.month, min(month_end.day, 28)),
        ],
    ).fetchall()
    dq = con.execute(
        f"""
        select rule_id, max(rule_name), count(*), sum(amount)
        from marts.dq_invoice_exceptions where {where} and period = ?
        group by rule_id order by rule_id""",
        [*args, period],
    ).fetchall()
    profile = supplier_profile(con, unit_id, period, lang)
    open_count, open_amount, open_stake, open_top = open_miscodings(con, unit_id, period, lang)
    data_to = con.execute("select max(posting_date) from marts.fct_spend").fetchone()
    published = con.execute("select published_at from main.published").fetchone()

    def tile(key: str, label: str, value: str, raw: Any, note: str = "", cls: str = "") -> str:
        data_value = "" if raw is None else html.escape(str(raw))
        return (
            f'<div class="kpi" data-kpi="{key}" data-value="{data_value}">'
            f'<div class="label">{html.escape(label)}</div>'
            f'<div class="value {cls}">{html.escape(value)}</div>'
            f'<div class="note">{html.escape(note)}</div></div>'
        )

    loyalty = fig.get("supplier_loyalty_pct")
    tiles = "".join(
        [
            tile(
                "spend",
                t["spend"],
                f.money(fig.get("spend")),
                fig.get("spend"),
                "kr" if lang == "sv" else "SEK",
            ),
            tile(
                "addressable_spend",
                t["addressable"],
                f.money(fig.get("addressable_spend")),
                fig.get("addressable_spend"),
            ),
            tile(
                "investment_spend",
                t["investment"],
                f.money(fig.get("investment_spend")),
                fig.get("investment_spend"),
            ),
            tile(
                "non_addressable_spend",
                t["non_addressable"],
                f.money(fig.get("non_addressable_spend")),
                fig.get("non_addressable_spend"),
            ),
            tile(
                "supplier_loyalty_pct",
                t["loyalty"],
                f.pct(loyalty),
                loyalty,
                f"{t['target']} {f.pct(target)}",
                "" if loyalty is None else ("below" if float(loyalty) < target else "above"),
            ),
            tile(
                "category_compliance_pct",
                t["compliance"],
                f.pct(fig.get("category_compliance_pct")),
                fig.get("category_compliance_pct"),
            ),
            tile(
                "small_invoice_share_pct",
                t["small"],
                f.pct(fig.get("small_invoice_share_pct")),
                fig.get("small_invoice_share_pct"),
            ),
            tile(
                "ecommerce_share_pct",
                t["ecommerce"],
                f.pct(fig.get("ecommerce_share_pct")),
                fig.get("ecommerce_share_pct"),
            ),
            tile("suppliers", t["suppliers"], f.count(fig.get("suppliers")), fig.get("suppliers")),
            tile("invoices", t["invoices"], f.count(fig.get("invoices")), fig.get("invoices")),
        ]
    )

    def num(v: Any) -> float:
        return 0.0 if v is None else float(v)

    def opt(v: Any) -> float | None:
        return None if v is None else float(v)

    short = [m[2:] for m in months]
    trend_chart = bar_chart(
        short,
        [
            (t["addressable"], [num(trend.get(m, (None,) * 6)[0]) for m in months]),
            (t["investment"], [num(trend.get(m, (None,) * 6)[1]) for m in months]),
            (t["other"], [num(trend.get(m, (None,) * 6)[2]) for m in months]),
        ],
        fmt=f.money,
        title=t["trend"],
    )
    shares_chart = line_chart(
        short,
        [
            (t["small"], [opt(trend.get(m, (None,) * 6)[3]) for m in months]),
            (t["ecommerce"], [opt(trend.get(m, (None,) * 6)[4]) for m in months]),
        ],
        unit=" %",
        title=t["shares"],
    )
    loyalty_chart = hbar_chart(
        [(str(c), opt(v)) for c, v in loyalty_cat],
        target=target,
        max_value=100.0,
        unit=" %",
        title=t["loyalty_cat"],
        target_label=f"{t['target']} {f.pct(target)}",
    )
    no_contract_chart = hbar_chart(
        [(f"{s} ({c})", float(a)) for s, c, a in no_contract], fmt=f.money, title=t["no_contract"]
    )

    def rows(items: list[tuple[Any, ...]], kinds: str) -> str:
        if not items:
            return f'<tr><td colspan="{len(kinds)}">{html.escape(t["none"])}</td></tr>'
        out = []
        for item in items:
            cells = []
            for kind, v in zip(kinds, item, strict=True):
                if kind == "m":
                    cells.append(f'<td class="num">{html.escape(f.money(v))}</td>')
                elif kind == "b":
                    cells.append(f"<td>{t['yes'] if v else t['no']}</td>")
                else:
                    cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        return "".join(out)

    expiring_rows = [
        (c, title, end, (late is not None and end is not None and late > end), s)
        for c, title, end, late, s in expiring
    ]
    dq_rows = [(r, n, c, a) for r, n, c, a in dq]
    open_rows = [
        (p, s, a, amount, e, sug, t.get(f"status_{st}", st))
        for p, s, a, amount, e, sug, st in open_top
    ]
    controller = (
        CONTROLLER_REPORT if lang == "sv" else CONTROLLER_REPORT.replace(".html", f".{lang}.html")
    )
    title = f"{t['title']}: {unit_name}"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} {period}</title><style>{STYLE}</style></head>
<body><main data-unit="{html.escape(unit_id)}" data-period="{period}">
<h1>{html.escape(title)}</h1>
<div class="meta">{t["month"]} <b>{period}</b> · {t["data_to"]} {data_to[0] if data_to else "-"}
 · {t["generated"]} {datetime.now():%Y-%m-%d %H:%M}
 (marts {published[0] if published else "-"})</div>
<div class="tiles">{tiles}</div>
<p class="note">{html.escape(t["loyalty_note"])}</p>
<h2>{t["trend"]}</h2>{trend_chart}
<h2>{t["loyalty_cat"]}</h2>{loyalty_chart or html.escape(t["none"])}
<h2>{t["shares"]}</h2>{shares_chart}
<h2>{t["no_contract"]}</h2>{no_contract_chart or html.escape(t["none"])}
<table><tr><th>{t["supplier"]}</th><th>{t["category"]}</th><th class="num">{t["amount"]}</th></tr>
{rows(no_contract, "ttm")}</table>
<h2>{t["threshold"]}</h2><p class="note">{html.escape(t["risk_note"])}</p>
<table><tr><th>{t["supplier"]}</th><th>{t["category"]}</th><th class="num">{t["unit_part"]}</th>
<th class="num">{t["year_total"]}</th><th class="num">{t["threshold_col"]}</th></tr>
{rows(threshold, "ttmmm")}</table>
<h2>{t["expiring"]}</h2>
<table><tr><th>{t["contract"]}</th><th></th><th>{t["ends"]}</th><th>{t["extend"]}</th>
<th class="num">{t["spend12"]}</th></tr>{rows(expiring_rows, "tttbm")}</table>
<h2>{t["dq"]}</h2>
{hbar_chart([(f"{r} {n}", float(c)) for r, n, c, _ in dq], fmt="{:,.0f}", title=t["dq"])}
<table><tr><th>{t["rule"]}</th><th></th><th class="num">{t["lines"]}</th>
<th class="num">{t["amount"]}</th></tr>{rows(dq_rows, "ttmm")}</table>
<h2>{t["profile"]}</h2><p class="note">{html.escape(t["profile_note"])}</p>
{
        hbar_chart(
            [(str(g), opt(sp)) for g, sp, _ in profile],
            max_value=100.0,
            unit=" %",
            title=t["profile"],
        )
    }
<table id="supplier-profile"><tr><th>{t["group"]}</th><th class="num">{t["spend_share"]}</th>
<th class="num">{t["supplier_share"]}</th></tr>{
        "".join(
            f"<tr><td>{html.escape(str(g))}</td><td class=num>{html.escape(f.pct(sp))}</td>"
            f"<td class=num>{html.escape(f.pct(su))}</td></tr>"
            for g, sp, su in profile
        )
        or f'<tr><td colspan="3">{html.escape(t["none"])}</td></tr>'
    }</table>
<h2>{t["open"]}</h2>
<p id="open-miscodings" data-count="{open_count}" data-amount="{open_amount}">{
        html.escape(
            t["open_lead"].format(
                n=f.count(open_count), amount=f.money(open_amount), stake=f.money(open_stake)
            )
        )
        if open_count
        else html.escape(t["open_none"])
    }{
        f' <a href="{controller}">{html.escape(t["open_link"])}</a> '
        f"(<code>reports/quality/{controller.rsplit('/', 1)[-1]}</code>)."
        if open_count
        else ""
    }</p>
<table id="open-top"><tr><th>{t["period"]}</th><th>{t["supplier"]}</th><th>{t["account"]}</th>
<th class="num">{t["amount"]}</th><th>{t["explanation"]}</th><th>{t["suggestion"]}</th>
<th>{t["status"]}</th></tr>{rows(open_rows, "tttmttt")}</table>
</main></body></html>
"""


def supplier_profile(
    con: duckdb.DuckDBPyConnection, unit_id: str, period: str, lang: str
) -> list[tuple[str, Any, Any]]:
    """The size classes and the SME total of the unit's (or the organisation's)
    addressable spend in the period's fiscal year, from marts.kpi_supplier_profile:
    (group, spend share %, supplier share %), the unknown part included. Empty
    for marts published before the table existed."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'kpi_supplier_profile'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    scope, scope_id = ("overall", "all") if unit_id == ORGANISATION else ("org_unit", unit_id)
    label = "value_label_sv" if lang == "sv" else "value_label_en"
    rows = con.execute(
        f"""
        select coalesce({label}, value), spend_share_pct, supplier_share_pct
        from marts.kpi_supplier_profile
        where scope = ? and scope_id = ? and fiscal_year = ?
          and (dimension = 'size' or (dimension = 'sme' and value = 'sme'))
        order by dimension = 'sme' desc, value = 'unknown', spend_share_pct desc""",
        [scope, scope_id, int(period[:4])],
    ).fetchall()
    return [(str(g), sp, su) for g, sp, su in rows]


def _as_decimal(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))
