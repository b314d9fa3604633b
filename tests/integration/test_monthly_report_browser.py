"""The monthly reports as a reader sees them: headless Chromium (Debian's package).

Each report is opened from disk; the test checks that its key figures equal the
published marts, that the page made no network request and logged no console
error, and saves a screenshot beside the report.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb
import pytest
from conftest import build_fixture_warehouse

from spendkoll.paths import DataDir
from spendkoll.publish import publish, published_path
from spendkoll.reporting.monthly import ORGANISATION, generate_monthly_reports

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KPIS = (
    "spend",
    "addressable_spend",
    "investment_spend",
    "non_addressable_spend",
    "supplier_loyalty_pct",
    "category_compliance_pct",
    "small_invoice_share_pct",
    "ecommerce_share_pct",
    "suppliers",
    "invoices",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory):
    data = DataDir(tmp_path_factory.mktemp("monthly") / "var").ensure()
    build_fixture_warehouse(data, "golden")
    publish(data)
    sv = generate_monthly_reports(data, "2024-04")
    en = generate_monthly_reports(data, "2024-04", lang="en", units=["HSV"])
    return data, sv + en


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def marts_figures(data: DataDir, unit: str) -> dict[str, object]:
    con = duckdb.connect(str(published_path(data)), read_only=True)
    try:
        if unit == ORGANISATION:
            cur = con.execute(
                "select * from marts.kpi_monthly_organisation where period = '2024-04'"
            )
        else:
            cur = con.execute(
                "select * from marts.kpi_monthly_org_unit "
                "where period = '2024-04' and org_unit_id = ?",
                [unit],
            )
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))
    finally:
        con.close()


def test_reports_open_offline_and_show_the_marts(reports, browser):
    data, made = reports
    # the organisation, HSV and PRIM in Swedish, HSV in English
    assert [(r.unit_id, r.path.name) for r in made] == [
        (ORGANISATION, "index.html"),
        ("HSV", "HSV.html"),
        ("PRIM", "PRIM.html"),
        (ORGANISATION, "index.en.html"),
        ("HSV", "HSV.en.html"),
    ]
    for report in made:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        requests: list[str] = []
        errors: list[str] = []
        page.on(
            "console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))

        own_url = report.path.as_uri()

        def route(r, requests=requests, own=own_url):
            if r.request.url != own:
                requests.append(r.request.url)
                r.abort()
            else:
                r.continue_()

        page.route("**/*", route)
        page.goto(report.path.as_uri())
        page.wait_for_load_state("load")
        assert requests == [], requests
        assert errors == [], errors
        expected = marts_figures(data, report.unit_id)
        for key in KPIS:
            shown = page.get_attribute(f'[data-kpi="{key}"]', "data-value")
            want = expected[key]
            if want is None:
                assert shown == "", (report.path.name, key)
            elif isinstance(want, Decimal):
                assert Decimal(shown) == want, (report.path.name, key, shown, want)
            else:
                assert int(shown) == want, (report.path.name, key, shown, want)
        # the charts are drawn (inline SVG) and the figures are on screen
        assert page.locator("svg.chart").count() >= 4
        text = page.inner_text("main")
        if report.path.name == "HSV.html":
            # HSV April 2024 (hand-worked in test_kpi_golden): 386,000 kr spend.
            assert "386\u202f000" in text and "Leverantörstrohet" in text
            assert "Storkonsult AB" in text  # the largest supplier without contract
            assert "AVT-A" in text  # its contract expires within 12 months
        if report.path.name == "HSV.en.html":
            assert "Supplier loyalty" in text and "386,000" in text
        shot = report.path.with_suffix(".png")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        page.close()


def test_report_has_no_external_references(reports):
    _, made = reports
    for report in made:
        page = report.path.read_text(encoding="utf-8")
        assert "http://" not in page and "https://" not in page
        assert "<script" not in page and "<link" not in page and "@import" not in page
