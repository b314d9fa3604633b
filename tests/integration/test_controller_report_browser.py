"""The contract controller's report as the controller sees it: headless Chromium
(Debian's package, driven by Playwright without a browser download).

A small demo region goes through the load, dbt and the marts' validation; the
report is opened from disk. The test checks that the first section lists the
month's exceptions on the list per org unit (as many as the mart holds), that
the org-unit and rule filters hide and show rows, that the Swedish and English
versions render and link to each other, that validation.html exists and is
linked, that nothing is requested from the network and no script error is
logged; and that the unit's monthly report points at the controller's report.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date, timedelta

import duckdb
import pytest
from conftest import KEY
from openpyxl import load_workbook

from spendkoll.demo.generator import DemoSpec, generate
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir
from spendkoll.publish import publish
from spendkoll.quality.report import build_report, missing_marts
from spendkoll.quality.validation import Validator
from spendkoll.sources import load_sources
from spendkoll.transform.dbt import run_dbt

pytestmark = pytest.mark.slow

DECISIONS = ("bekräftad", "bekräftad", "falsklarm", "rättad")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    data = DataDir(tmp_path_factory.mktemp("controller") / "var").ensure()
    generate(data.landing, data.demo_answers, DemoSpec(lines=20_000))
    sources = load_sources()
    for name in ("ledger", "contracts", "ecommerce"):
        load_source(sources[name], data, KEY)
    proc = run_dbt(["build"], data)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    con = duckdb.connect(str(data.warehouse), read_only=True)
    try:
        missing = missing_marts(con)
    finally:
        con.close()
    if missing:
        pytest.fail(f"the dbt project does not build {missing} yet")
    marts = Validator(data, build_docs=False).validate_marts()
    first = build_report(data, [marts.summary()])
    # Accounting fills in the list and sends it back: two confirmed, a false
    # alarm, one already corrected; the next night's build and report show it.
    wb = load_workbook(first.xlsx)
    ws = wb.active
    col = {c.value: c.column for c in ws[1]}
    decided = date.today() - timedelta(days=9)
    for r, decision in enumerate(DECISIONS, start=2):
        ws.cell(r, col["beslut"]).value = decision
        ws.cell(r, col["signatur"]).value = "AB"
        ws.cell(r, col["kommentar"]).value = f"rad {r}"
        ws.cell(r, col["beslutsdatum"]).value = decided
    landing = data.landing_for("dq_decisions")
    landing.mkdir(parents=True, exist_ok=True)
    wb.save(landing / "undantag_retur.xlsx")
    [loaded] = load_source(sources["dq_decisions"], data, KEY)
    assert loaded.rows_loaded == len(DECISIONS), loaded
    proc = run_dbt(["build"], data)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    # dq-eval's measurement on planted errors (its JSON's shape), read beside the judged
    (first.folder / "dq_eval.json").write_text(
        json.dumps(
            {
                "measured_on": "planted",
                "summary": {
                    "spec": {
                        "score": {
                            "families": {
                                "wrong_category": {"by_rule": {"DQ02": 3}},
                                "vat_rate": {"by_rule": {"DQ12": 2, "DQ02": 1}},
                            },
                            "untouched_by_rule": {"DQ02": 4, "DQ12": 0},
                        }
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    made = build_report(data, [marts.summary()])
    return data, made


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium is not installed (make browser installs it)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def query(data: DataDir, sql: str, args: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(data.warehouse), read_only=True)
    try:
        return con.execute(sql, args or []).fetchall()
    finally:
        con.close()


def open_page(browser, path):
    """The page, with every request leaving the file refused and recorded, and
    script errors recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.requests, page.errors = [], []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    folder = path.parent.as_uri() + "/"

    def route(r):
        url = r.request.url
        if url.startswith(folder) and url.endswith(".html"):
            r.continue_()
        else:
            page.requests.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def visible_rows(page) -> list[tuple[str, str]]:
    return [
        (tr.get_attribute("data-unit"), tr.get_attribute("data-rules"))
        for tr in page.locator("tr.exc:visible").all()
    ]


def test_first_section_lists_the_month_per_unit_and_filters(report, browser):
    data, made = report
    month = made.month
    listed = query(
        data,
        """
        select org_unit_id, rule_ids from marts.dq_accounting_list
        where on_list and period = ?""",
        [month],
    )
    assert listed, "the demo has nothing on the list in the report month"
    per_unit = Counter(u for u, _ in listed)
    page = open_page(browser, made.index)
    assert page.get_attribute("html", "lang") == "sv"
    # the sections in the controller's order, the validation in one line first
    order = page.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
    assert order[:3] == ["act", "decisions", "trends"], order
    assert {"contracts", "delivery-profiles"} <= set(order[3:])
    line = page.inner_text("#validation-line")
    assert line.startswith("Validering: ") and "kontroller" in line and "blockerande fel" in line
    # a. every unit with rows on the list, each with its rows, the mart's count
    units = page.eval_on_selector_all("section.unit", "els => els.map(e => e.dataset.unit)")
    assert sorted(units) == sorted(per_unit)
    for unit, n in per_unit.items():
        assert page.locator(f'section.unit[data-unit="{unit}"] tr.exc').count() == n
    assert len(visible_rows(page)) == len(listed)
    first = page.locator("tr.exc").first
    cells = first.locator("td").all_inner_texts()
    assert len(cells) == 11 and cells[1] and cells[5]  # supplier and explanation shown
    lead = page.inner_text("#act-lead")
    assert f"{len(listed)} rader på listan till redovisningen i {month}" in lead
    # the org-unit filter
    unit = per_unit.most_common()[-1][0]
    page.select_option("#filter-unit", unit)
    shown = visible_rows(page)
    assert len(shown) == per_unit[unit] and {u for u, _ in shown} == {unit}
    assert page.locator("section.unit:visible").count() == 1
    assert page.get_attribute("#shown", "data-shown") == str(per_unit[unit])
    # the rule filter, on top of it and alone
    rule_of = Counter(r for _, ids in listed for r in ids.split(","))
    rule = rule_of.most_common(1)[0][0]
    page.select_option("#filter-unit", "")
    page.select_option("#filter-rule", rule)
    shown = visible_rows(page)
    assert len(shown) == rule_of[rule]
    assert all(rule in rules.split(" ") for _, rules in shown)
    page.select_option("#filter-rule", "")
    assert len(visible_rows(page)) == len(listed)
    assert page.requests == [] and page.errors == [], (page.requests, page.errors)
    page.screenshot(path=str(made.index.with_suffix(".png")), full_page=True)
    page.close()


def test_decisions_and_trends_are_shown(report, browser):
    data, made = report
    page = open_page(browser, made.index)
    statuses = dict(
        query(data, "select status, count(*) from marts.dq_exception_status group by status")
    )
    for status in ("new", "open", "confirmed", "dismissed", "resolved"):
        cell = page.locator(f'#status-counts tr[data-status="{status}"] td').nth(1)
        assert cell.inner_text().replace("\u202f", "") == str(statuses.get(status, 0))
    assert (statuses.get("confirmed"), statuses.get("dismissed")) == (2, 1)
    assert statuses.get("resolved") == 1  # decided corrected
    # the confirmed ones wait for their correction, oldest first, with the decision
    oldest = page.locator("#oldest tr").all_inner_texts()[1:]
    assert len(oldest) == 2 and all("AB" in row and "rad " in row for row in oldest)
    assert page.locator("#oldest tr").nth(1).locator("td").nth(7).inner_text() == "9"
    # precision per rule as judged, beside the planted-data precision (absent here)
    rules = [r for (r,) in query(data, "select rule_id from reference.dq_rules")]
    assert page.locator("#precision tr[data-rule]").count() == len(rules)
    judged = query(
        data, "select rule_id, precision from marts.dq_rule_precision_judged where decided > 0"
    )
    assert judged
    for rule, precision in judged:
        cell = page.locator(f'#precision tr[data-rule="{rule}"] td').nth(5).inner_text()
        assert cell == f"{100 * precision:.1f}".replace(".", ",") + "\u00a0%", (rule, cell)
    # measured on planted errors: DQ02 4 of 8 flagged lines planted, DQ12 2 of 2
    planted = {
        r: page.locator(f'#precision tr[data-rule="{r}"] td').nth(6).inner_text()
        for r in ("DQ02", "DQ12", "DQ07")
    }
    assert planted == {"DQ02": "50,0\u00a0%", "DQ12": "100,0\u00a0%", "DQ07": "-"}
    assert "dq_eval.json" in page.inner_text("#decisions")
    # trends: months on the x axis, a line per rule and per unit
    assert page.locator("#trends svg.chart").count() == 1
    assert page.locator("#trend-rule svg.spark").count() >= 1
    assert page.locator("#trend-unit svg.spark").count() >= 1
    page.close()


def test_languages_and_the_validation_page(report, browser):
    _, made = report
    folder = made.folder
    for lang, index, validation, heading, back in (
        ("sv", "index.html", "validation.html", "Att åtgärda i månaden, per enhet", "Tillbaka"),
        (
            "en",
            "index.en.html",
            "validation.en.html",
            "What to act on this month, per org unit",
            "Back",
        ),
    ):
        assert (folder / index).exists() and (folder / validation).exists()
        page = open_page(browser, folder / index)
        assert page.get_attribute("html", "lang") == lang
        assert page.inner_text("#act h2") == heading
        other = page.get_attribute("#other-lang", "href")
        assert other == ("index.en.html" if lang == "sv" else "index.html")
        assert page.get_attribute("#validation-link", "href") == validation
        page.click("#validation-link")
        page.wait_for_load_state("load")
        assert page.url.endswith("/" + validation)
        assert page.locator("#validation-results tr").count() > 1
        assert page.inner_text("#back").startswith(back)
        assert page.requests == [] and page.errors == [], (page.requests, page.errors)
        page.close()
    for name in ("index.html", "index.en.html", "validation.html", "validation.en.html"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text
        assert "<link" not in text and "@import" not in text and "src=" not in text


def test_the_list_to_accounting_and_the_monthly_report(report):
    data, made = report
    [(on_list,)] = query(data, "select count(*) from marts.dq_accounting_list where on_list")
    assert made.on_list == on_list
    ws = load_workbook(made.xlsx, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "exception_id" and rows[0][-4:] == (
        "beslut",
        "kommentar",
        "signatur",
        "beslutsdatum",
    )
    assert len(rows) == on_list + 1
    periods = [r[3] for r in rows[1:]]
    assert periods == sorted(periods, reverse=True)  # newest month first
    # the unit's monthly report counts its open mis-codings and points here
    from spendkoll.reporting.monthly import generate_monthly_reports

    unit, n = query(
        data,
        """
        select org_unit_id, count(*) from marts.dq_accounting_list
        where on_list and period <= ? and status in ('new', 'open', 'confirmed')
        group by 1 order by 2 desc, 1 limit 1""",
        [made.month],
    )[0]
    publish(data)
    [_, page] = generate_monthly_reports(data, made.month, units=[unit])
    html = page.path.read_text(encoding="utf-8")
    assert f'id="open-miscodings" data-count="{n}"' in html
    assert 'href="../../quality/index.html"' in html
    assert (page.path.parent / "../../quality/index.html").resolve() == made.index
