"""The contract controller's data-quality report.

Written after each transform to ``<data>/reports/quality/``:

* ``exceptions.csv``: every row of ``marts.dq_invoice_exceptions``;
  ``exceptions.xlsx``: the rows of severity blocking and warning, the ones to
  send back to accounting (filters on every column), and a sheet of totals
  per rule and org unit over all rows. The ``info`` rows (contract follow-up:
  DQ03, DQ13) are not for accounting and are many (most of the 803,020
  exceptions at 10 million lines), so they are left to the CSV;
* ``index.html``: one self-contained page (no request leaves the machine):
  the latest validation results, totals per rule and per org unit, the trend
  from run to run, and the exceptions, filterable by org unit, rule and amount;
* ``contract_exceptions.csv`` and a section of ``index.html``: the contract
  register's values spendkoll does not recognise (``marts.dq_contract_exceptions``:
  file, line, column, value and the accepted values), for the controller to fix
  in the register or to map in seed ``contract_vocabulary``;
* the run's totals are appended to ``quality.exception_run`` for the trend.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from spendkoll.paths import DataDir
from spendkoll.quality.xlsx import write_xlsx
from spendkoll.warehouse import writer

XLSX_MAX_ROWS = 1_048_575  # Excel's limit, header excluded
HTML_MAX_ROWS = 20_000  # the page lists the largest; the files hold all

EXCEPTION_COLUMNS = [
    "rule_id", "rule_name", "severity", "period", "posting_date", "org_unit_id",
    "org_unit_name", "supplier_key", "supplier_name", "invoice_number", "verification_id",
    "account", "category_id", "amount", "vat", "suggested_account", "suggested_category_id",
    "explanation_sv", "explanation_en", "source_file", "source_line", "ledger_line_id",
]

# Exceptions and their amount per rule of the catalogue (rules that found nothing too).
BY_RULE_SQL = """
select r.rule_id, r.rule_name, r.severity, count(e.exception_id), coalesce(sum(e.amount), 0)
from reference.dq_rules r
left join marts.dq_invoice_exceptions e on e.rule_id = r.rule_id
group by r.rule_id, r.rule_name, r.severity order by r.rule_id
"""

CONTRACT_EXCEPTION_COLUMNS = [
    "file_name", "line", "column_name", "value", "contract_id", "field_name",
    "explanation_sv", "explanation_en", "accepted_values",
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


@dataclass(frozen=True)
class QualityReport:
    folder: Path
    index: Path
    csv: Path
    xlsx: Path
    exceptions: int
    by_rule: list[tuple[str, str, str, int, Decimal]]


def build_report(data: DataDir, validation_summaries: list[str] | None = None,
                 docs_index: Path | None = None) -> QualityReport:
    folder = data.reports / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    run_at = datetime.now()
    cols = ", ".join(EXCEPTION_COLUMNS)
    with writer(data.warehouse) as con:
        con.execute(RUN_DDL)
        con.execute("""
            insert into quality.exception_run
            select ?, rule_id, coalesce(org_unit_id, '?'), count(*), coalesce(sum(amount), 0)
            from marts.dq_invoice_exceptions group by rule_id, org_unit_id""", [run_at])
        by_rule = con.execute(BY_RULE_SQL).fetchall()
        by_unit = con.execute("""
            select org_unit_id, org_unit_name, count(*), sum(amount)
            from marts.dq_invoice_exceptions group by org_unit_id, org_unit_name
            order by count(*) desc""").fetchall()
        trend = con.execute("""
            select run_at, rule_id, sum(exceptions) from quality.exception_run
            where run_at in (select distinct run_at from quality.exception_run
                             order by run_at desc limit 30)
            group by run_at, rule_id order by run_at, rule_id""").fetchall()
        validation = con.execute("""
            select stage, suite, target, expectation, column_name, severity, success,
                   unexpected_count, observed, examples
            from quality.validation_result
            where run_id in (select max(run_id) from quality.validation_result group by stage)
            order by success, severity, stage, suite, target""").fetchall() \
            if con.execute("select count(*) from information_schema.tables where "
                           "table_schema = 'quality' and table_name = 'validation_result'"
                           ).fetchone() == (1,) else []
        total = int(con.execute("select count(*) from marts.dq_invoice_exceptions")
                    .fetchone()[0])  # type: ignore[index]
        csv_path, xlsx_path = folder / "exceptions.csv", folder / "exceptions.xlsx"
        _write_csv(con, cols, csv_path)
        _write_xlsx(con, cols, xlsx_path, by_rule, by_unit)
        top = con.execute(f"""
            select {cols} from marts.dq_invoice_exceptions
            order by abs(amount) desc, exception_id limit {HTML_MAX_ROWS}""").fetchall()
        contract_rows = _contract_exceptions(con, folder / "contract_exceptions.csv")
        deliveries = _delivery_profiles(con, run_at)
        ignored = con.execute("select source_name, file_name, first_seen from raw.ignored_file "
                              "order by 1, 2").fetchall()
    index = folder / "index.html"
    _write_html(index, run_at, total, by_rule, by_unit, trend, validation, top,
                validation_summaries or [], docs_index, contract_rows, ignored, deliveries)
    return QualityReport(folder, index, csv_path, xlsx_path, total,
                         [(r[0], r[1], r[2], int(r[3]), Decimal(r[4])) for r in by_rule])


def _delivery_profiles(con: Any, run_at: datetime) -> list[Any]:
    """Profile the deliveries built since the last report, and return each recent
    delivery beside the one before it."""
    con.execute(PROFILE_DDL)
    shares = ", ".join(
        f"round(100.0 * sum(f.amount) filter (where f.spend_class = '{c}') "
        "/ nullif(sum(f.amount), 0), 2)"
        for c in ("addressable", "investment", "non_addressable", "internal", "unclassified"))
    con.execute(PROFILE_SQL.format(shares=shares), [run_at])
    return list(con.execute(DELIVERY_SQL).fetchall())


def _contract_exceptions(con: Any, path: Path) -> list[Any]:
    """The contract register's unrecognised values, written as CSV beside the
    invoice exceptions; returns the rows (few: one per register row and column)."""
    exists = con.execute("select count(*) from information_schema.tables where "
                         "table_schema = 'marts' and table_name = 'dq_contract_exceptions'"
                         ).fetchone() == (1,)
    if not exists:
        path.unlink(missing_ok=True)
        return []
    cols = ", ".join(CONTRACT_EXCEPTION_COLUMNS)
    _write_csv(con, cols, path, "marts.dq_contract_exceptions", "file_name, line, field_name")
    return list(con.execute(f"select {cols} from marts.dq_contract_exceptions "
                            "order by file_name, line, field_name").fetchall())


def _write_csv(con: Any, cols: str, path: Path,
               table: str = "marts.dq_invoice_exceptions",
               order: str = "rule_id, posting_date, exception_id") -> None:
    """All exceptions as CSV (semicolons, UTF-8 with a BOM so Excel reads it),
    written by DuckDB: a Python row loop took most of the report's time at
    10 million lines."""
    tmp = path.with_suffix(".csv.tmp")
    body = path.with_suffix(".csv.body")
    con.execute(f"copy (select {cols} from {table} order by {order}) "
                f"to '{body}' (format csv, delimiter ';', header true)")
    with tmp.open("wb") as f, body.open("rb") as src:
        f.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(src, f, 1 << 20)
    body.unlink()
    tmp.replace(path)


def _write_xlsx(con: Any, cols: str, path: Path, by_rule: list[Any], by_unit: list[Any]) -> None:
    totals: list[list[Any]] = [["regel", "namn", "allvarlighet", "antal", "belopp"]]
    totals += [[r[0], r[1], r[2], int(r[3]), float(r[4])] for r in by_rule]
    totals += [[], ["enhet", "namn", "antal", "belopp"]]
    totals += [[u[0], u[1], int(u[2]), float(u[3])] for u in by_unit]
    write_xlsx(con, f"select {cols}, exception_id from marts.dq_invoice_exceptions "
               "where severity <> 'info'", "rule_id, posting_date, exception_id",
               "Avvikelser", path, XLSX_MAX_ROWS, [("Summor", totals)],
               columns=EXCEPTION_COLUMNS)


def _bars(rows: list[tuple[str, float]], unit: str = "") -> str:
    if not rows:
        return "<p>Inga.</p>"
    top = max(abs(v) for _, v in rows) or 1.0
    out = ['<table class="bars">']
    for label, value in rows:
        width = 100.0 * abs(value) / top
        out.append(f'<tr><td>{html.escape(label)}</td><td class="num">{value:,.0f}{unit}</td>'
                   f'<td class="bar"><div style="width:{width:.1f}%"></div></td></tr>')
    out.append("</table>")
    return "\n".join(out)


def _trend_svg(trend: list[Any]) -> str:
    runs = sorted({t[0] for t in trend})
    if len(runs) < 2:
        return "<p>Trenden visas från andra körningen.</p>"
    totals = {r: sum(int(t[2]) for t in trend if t[0] == r) for r in runs}
    top = max(totals.values()) or 1
    w, h, pad = 640, 180, 30
    step = (w - 2 * pad) / (len(runs) - 1)
    pts = " ".join(f"{pad + i * step:.1f},{h - pad - (h - 2 * pad) * totals[r] / top:.1f}"
                   for i, r in enumerate(runs))
    labels = "".join(
        f'<text x="{pad + i * step:.1f}" y="{h - 8}" font-size="10" text-anchor="middle">'
        f'{r:%m-%d %H:%M}</text>' for i, r in enumerate(runs) if i in (0, len(runs) - 1))
    return (f'<svg width="{w}" height="{h}" role="img" aria-label="avvikelser per körning">'
            f'<polyline fill="none" stroke="#1f5f8b" stroke-width="2" points="{pts}"/>'
            f'{labels}<text x="{pad}" y="14" font-size="11">max {top:,}</text></svg>')


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}td.num{text-align:right;white-space:nowrap}
.bars td.bar{width:260px}.bars td.bar div{background:#1f5f8b;height:10px}
.fail{color:#a40000}.ok{color:#2a6b2a}.filters label{margin-right:14px}
#rows td{font-size:12px}
"""

SCRIPT = """
const data = JSON.parse(document.getElementById('exceptions').textContent);
const cols = data.columns, rows = data.rows;
const ix = Object.fromEntries(cols.map((c, i) => [c, i]));
function fill(id, key) {
  const sel = document.getElementById(id);
  [...new Set(rows.map(r => r[ix[key]]))].sort().forEach(v => {
    const o = document.createElement('option'); o.value = o.textContent = v; sel.appendChild(o);
  });
}
fill('unit', 'org_unit_id'); fill('rule', 'rule_id');
function render() {
  const u = document.getElementById('unit').value, r = document.getElementById('rule').value;
  const min = parseFloat(document.getElementById('minamount').value || '0');
  const shown = rows.filter(x => (!u || x[ix.org_unit_id] === u) && (!r || x[ix.rule_id] === r)
                                 && Math.abs(x[ix.amount]) >= min);
  let sum = 0; shown.forEach(x => sum += x[ix.amount]);
  document.getElementById('count').textContent =
    shown.length.toLocaleString('sv-SE') + ' rader, ' +
    sum.toLocaleString('sv-SE', {maximumFractionDigits: 2}) + ' kr';
  const body = document.getElementById('rows'); body.innerHTML = '';
  shown.slice(0, 500).forEach(x => {
    const tr = document.createElement('tr');
    ['rule_id','severity','posting_date','org_unit_id','supplier_name','invoice_number','account',
     'amount','suggested_account','explanation_sv','source_file','source_line'].forEach(c => {
      const td = document.createElement('td'); td.textContent = x[ix[c]] ?? '';
      if (c === 'amount') td.className = 'num';
      tr.appendChild(td);
    });
    body.appendChild(tr);
  });
}
['unit', 'rule', 'minamount'].forEach(
  id => document.getElementById(id).addEventListener('input', render));
render();
"""


def _write_html(path: Path, run_at: datetime, total: int, by_rule: list[Any],
                by_unit: list[Any], trend: list[Any], validation: list[Any], top: list[Any],
                summaries: list[str], docs_index: Path | None,
                contract_rows: list[Any] | None = None,
                ignored: list[Any] | None = None,
                deliveries: list[Any] | None = None) -> None:
    failed = [v for v in validation if not v[6]]

    def num(v: Any, fmt: str = "{:,.0f}") -> str:
        return "" if v is None else fmt.format(float(v))

    def delta(now: Any, before: Any) -> str:
        if now is None or before is None or float(before) == 0:
            return ""
        return f"{100.0 * (float(now) - float(before)) / abs(float(before)):+.0f} %"

    drows = "".join(
        f"<tr><td>{html.escape(str(d[0]))}</td><td>{html.escape(str(d[1]))}</td>"
        f'<td class="num">{num(d[3])}</td><td class="num">{num(d[4], "{:,.2f}")}</td>'
        f'<td class="num">{num(d[5])}</td><td class="num">{num(d[6], "{:.2f}")}</td>'
        f'<td class="num">{num(d[7], "{:.2f}")}</td>'
        f"<td>{html.escape(str(d[8] or '-'))}</td>"
        f'<td class="num">{delta(d[3], d[9])}</td><td class="num">{delta(d[4], d[10])}</td>'
        f'<td class="num">{delta(d[5], d[11])}</td>'
        f'<td class="num">{num(d[12], "{:.2f}")}</td></tr>'
        for d in (deliveries or []))
    delivery_table = (
        '<table id="deliveries"><tr><th>källa</th><th>fil</th><th>rader</th><th>belopp, kr</th>'
        "<th>leverantörer</th><th>påverkbar %</th><th>oklassificerat %</th><th>föregående</th>"
        "<th>rader ±</th><th>belopp ±</th><th>leverantörer ±</th><th>föreg. påverkbar %</th>"
        f"</tr>{drows}</table>") if deliveries else "<p>Inga leveranser ännu.</p>"
    ignored_note = (
        "<p class=\"fail\" id=\"ignored\">Inte inlästa: " + ", ".join(
            f"{html.escape(str(src))}/{html.escape(str(name))} (sedan {first:%Y-%m-%d})"
            for src, name, first in ignored)
        + ". Filnamnet matchar inget mönster för källan: byt namn på filen eller rätta "
          "<code>pattern</code> i källfilen.</p>") if ignored else ""
    contract_rows = contract_rows or []
    crows = "".join(
        f"<tr><td>{html.escape(str(c[0]))}</td><td class=\"num\">{c[1]}</td>"
        f"<td>{html.escape(str(c[2]))}</td><td>{html.escape(str(c[3]))}</td>"
        f"<td>{html.escape(str(c[4]))}</td><td>{html.escape(str(c[6]))}"
        f"<details><summary>godkända värden</summary>{html.escape(str(c[8]))}</details></td>"
        "</tr>" for c in contract_rows[:1000])
    contracts = (
        f"<p>{len(contract_rows):,} värden i avtalskatalogen känns inte igen: avtalet räknas "
        "för leverantörstrohet men täcker ingen kategori, eller räknas inte som "
        "upphandlingsenhetens. Rätta avtalskatalogen eller lägg till ordet i seed "
        "<code>contract_vocabulary</code>. Hela listan: "
        '<a href="contract_exceptions.csv">contract_exceptions.csv</a>.</p>'
        "<table><tr><th>fil</th><th>rad</th><th>kolumn</th><th>värde</th><th>avtal</th>"
        f"<th>förklaring</th></tr>{crows}</table>"
        if contract_rows else "<p>Alla värden i avtalskatalogen känns igen.</p>")
    vrows = "".join(
        f'<tr><td class="{"ok" if v[6] else "fail"}">{"OK" if v[6] else "FEL"}</td>'
        f"<td>{html.escape(str(v[5]))}</td><td>{html.escape(str(v[0]))}</td>"
        f"<td>{html.escape(str(v[1]))}</td><td>{html.escape(str(v[2]))}</td>"
        f"<td>{html.escape(str(v[3]))}({html.escape(str(v[4] or ''))})</td>"
        f'<td class="num">{"" if v[7] is None else f"{int(v[7]):,}"}</td>'
        f"<td>{html.escape(str(v[8] or ''))}</td><td>{html.escape(str(v[9] or ''))}</td></tr>"
        for v in (failed + [v for v in validation if v[6]])[:300])
    rule_rows = "".join(
        f"<tr><td>{r[0]}</td><td>{html.escape(r[1])}</td><td>{r[2]}</td>"
        f'<td class="num">{int(r[3]):,}</td><td class="num">{float(r[4]):,.2f}</td></tr>'
        for r in by_rule)
    payload = json.dumps({"columns": EXCEPTION_COLUMNS,
                          "rows": [[_json_cell(v) for v in row] for row in top]},
                         ensure_ascii=False).replace("</", "<\\/")
    docs = (f'<p>GX Data Docs: <code>{html.escape(str(docs_index))}</code></p>'
            if docs_index else "")
    page = f"""<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>spendkoll: datakvalitet</title>
<style>{STYLE}</style></head><body>
<h1>Datakvalitet och avvikande fakturarader</h1>
<p>Körning {run_at:%Y-%m-%d %H:%M}. {total:,} avvikelser. Hela listan:
<a href="exceptions.csv">exceptions.csv</a>; de som ska tillbaka till redovisningen
(allvarlighet blocking och warning): <a href="exceptions.xlsx">exceptions.xlsx</a>
(filter på varje kolumn).</p>{ignored_note}{docs}
<h2 id="contracts">Avtalskatalogen: värden som inte känns igen</h2>
{contracts}
<h2>Leveranser mot föregående</h2>
<p>Varje leverans av huvudboken mot den den ersatte (annars källans föregående):
rader, belopp, leverantörer och andel per spendklass. En leverans som skulle ta bort
eller ändra mer än källans <code>max_change_share</code> hålls tillbaka tills den bekräftas.</p>
{delivery_table}
<h2>Validering (senaste körningen per steg)</h2>
<p>{len(failed)} av {len(validation)} förväntningar uppfylls inte.
Blockerande fel stoppar publiceringen; varningar rapporteras.</p>
<pre>{html.escape(chr(10).join(summaries))}</pre>
<table><tr><th></th><th>allvarlighet</th><th>steg</th><th>svit</th><th>mål</th>
<th>förväntan</th><th>rader</th><th>observerat</th><th>exempel</th></tr>{vrows}</table>
<h2>Per regel</h2>
<table><tr><th>regel</th><th>namn</th><th>allvarlighet</th><th>antal</th><th>belopp, kr</th></tr>
{rule_rows}</table>
{_bars([(f"{r[0]} {r[1]}", float(r[3])) for r in by_rule if r[3]])}
<h2>Per enhet</h2>
{_bars([(f"{u[0]} {u[1] or ''}", float(u[2])) for u in by_unit])}
<h2>Trend: avvikelser per körning</h2>
{_trend_svg(trend)}
<h2>Avvikelser</h2>
<p class="filters"><label>Enhet <select id="unit"><option value="">alla</option></select></label>
<label>Regel <select id="rule"><option value="">alla</option></select></label>
<label>Belopp minst <input id="minamount" type="number" value="0" step="1000"></label>
<span id="count"></span></p>
<p>Visar högst 500 rader av de {min(total, HTML_MAX_ROWS):,} största beloppen; hela listan finns
i CSV- och XLSX-filerna.</p>
<table><thead><tr><th>regel</th><th>allv.</th><th>datum</th><th>enhet</th><th>leverantör</th>
<th>faktura</th><th>konto</th><th>belopp</th><th>förslag</th><th>förklaring</th><th>fil</th>
<th>rad</th></tr></thead><tbody id="rows"></tbody></table>
<script type="application/json" id="exceptions">{payload}</script>
<script>{SCRIPT}</script>
</body></html>
"""
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)


def _json_cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime,)) or hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def quality_summary(data: DataDir) -> str:
    """The latest validation verdicts and exception totals, for the terminal."""
    from spendkoll.warehouse import reader

    con = reader(data.warehouse)
    try:
        validated = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'quality' "
            "and table_name = 'validation_result'").fetchone() == (1,)
        checks = con.execute("""
            select stage, count(*), count(*) filter (where not success),
                   count(*) filter (where not success and severity = 'blocking')
            from quality.validation_result
            where run_id in (select max(run_id) from quality.validation_result group by stage)
            group by stage order by stage desc""").fetchall() if validated else []
        rules = con.execute(BY_RULE_SQL).fetchall()
        contract_values = con.execute(
            "select count(*) from marts.dq_contract_exceptions").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    lines = ["Data quality:"]
    for stage, n, failed, blocking in checks:
        lines.append(f"  validation {stage:<6} {n:>5} expectation results, {failed} failed, "
                     f"{blocking} blocking")
    lines.append(f"  {'invoice rule':<44}{'severity':<10}{'lines':>8}{'amount SEK':>18}")
    for rule_id, name, severity, count, amount in rules:
        lines.append(f"  {rule_id + ' ' + name:<44}{severity:<10}{count:>8,}{amount:>18,.2f}")
    lines.append(f"  contract register values not recognised (marts.dq_contract_exceptions): "
                 f"{contract_values:,}")
    return "\n".join(lines)
