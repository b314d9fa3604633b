"""The headline figures per fiscal year, read from the KPI marts, beside the
2017 review's figures for Region Jämtland Härjedalen.

Every figure comes from ``marts.kpi_yearly`` and
``marts.kpi_supplier_concentration`` (scope overall); their definitions are in
the dbt docs (dbt_project/models/marts/kpi/_kpi__docs.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from spendkoll.paths import DataDir
from spendkoll.warehouse import WarehouseBusy, reader

HEADLINE_SQL = """
select
    y.fiscal_year,
    y.spend,
    y.addressable_spend,
    y.investment_spend,
    y.non_addressable_spend,
    y.supplier_loyalty_pct,
    y.category_compliance_pct,
    y.on_time_loyalty_pct,
    y.small_invoice_share_pct,
    y.ecommerce_share_pct,
    c.suppliers,
    c.spend_share_smallest_94_pct,
    c.suppliers_behind_80_pct
from marts.kpi_yearly y
left join marts.kpi_supplier_concentration c
    on c.fiscal_year = y.fiscal_year and c.scope = 'overall'
order by y.fiscal_year
"""


@dataclass(frozen=True)
class YearHeadline:
    fiscal_year: int
    spend: Decimal
    addressable_spend: Decimal
    investment_spend: Decimal
    non_addressable_spend: Decimal
    supplier_loyalty_pct: Decimal | None
    category_compliance_pct: Decimal | None
    on_time_loyalty_pct: Decimal | None
    small_invoice_share_pct: Decimal | None
    ecommerce_share_pct: Decimal | None
    suppliers: int | None
    spend_share_smallest_94_pct: Decimal | None
    suppliers_behind_80_pct: Decimal | None


CONTRACT_BASED = {"supplier_loyalty_pct", "on_time_loyalty_pct", "category_compliance_pct"}

ROWS: tuple[tuple[str, str, str], ...] = (
    ("Supplier loyalty (leverantörstrohet)", "supplier_loyalty_pct", "90 % (target 92 %)"),
    ("Loyalty, contracts registered on time only", "on_time_loyalty_pct", "-"),
    ("Category contract compliance", "category_compliance_pct", "-"),
    ("Invoices under SEK 10,000", "small_invoice_share_pct", "79 %"),
    ("Spend of the smallest 94 % of suppliers", "spend_share_smallest_94_pct", "20 %"),
    ("Suppliers behind 80 % of spend", "suppliers_behind_80_pct", "-"),
    ("Addressable spend via e-commerce", "ecommerce_share_pct", "under 5 %"),
)


def headline(data: DataDir, db: Path | None = None) -> tuple[list[YearHeadline], int]:
    """The years' headline figures, and the number of contracts in the register
    (from the warehouse, or from ``db``, e.g. the published snapshot)."""
    con = reader(db or data.warehouse)
    try:
        rows = con.execute(HEADLINE_SQL).fetchall()
        contracts = con.execute("select count(distinct contract_id) from marts.dim_contract")
        n_contracts = int(contracts.fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    return [YearHeadline(*row) for row in rows], n_contracts


def _pct(value: object) -> str:
    return "-" if value is None else f"{value} %"


def _msek(value: Decimal) -> str:
    return f"{value / 1_000_000:,.1f}"


def format_headline(years: list[YearHeadline], contracts: int) -> str:
    head = f"  {'':<42}" + "".join(f"{y.fiscal_year:>12}" for y in years) + "   review 2017"
    lines = [
        "Headline figures from marts.kpi_yearly and marts.kpi_supplier_concentration "
        "(the 2017 review of Region Jämtland Härjedalen beside them):",
        head,
    ]
    for label, msek_attr in (
        ("Spend, MSEK", "spend"),
        ("  addressable", "addressable_spend"),
        ("  investments", "investment_spend"),
        ("  non-addressable", "non_addressable_spend"),
    ):
        lines.append(
            f"  {label:<42}" + "".join(f"{_msek(getattr(y, msek_attr)):>12}" for y in years)
        )
    for label, attr, review in ROWS:
        if attr in CONTRACT_BASED and contracts == 0:
            # With no contract register loaded, loyalty is unknown, not 0 %.
            cells = "".join(f"{'n/a':>12}" for _ in years)
            lines.append(f"  {label:<42}{cells}   (no contract register loaded)")
            continue
        lines.append(
            f"  {label:<42}"
            + "".join(f"{_pct(getattr(y, attr)):>12}" for y in years)
            + f"   {review}"
        )
    lines.append(
        f"  {'Suppliers with addressable spend':<42}"
        + "".join(f"{(y.suppliers or 0):>12,}" for y in years)
    )
    lines.append(f"  {'Contracts in the register':<42}{contracts:>12,}   400-500")
    return "\n".join(lines)


def print_headline(data: DataDir) -> None:
    """The headline figures; while a writer holds the warehouse, from the published
    snapshot, saying so."""
    from spendkoll.publish import published_path

    try:
        years, contracts = headline(data)
    except WarehouseBusy:
        snapshot = published_path(data)
        if not snapshot.exists():
            raise
        years, contracts = headline(data, snapshot)
        con = reader(snapshot)
        try:
            at = con.execute("select max(published_at) from main.published").fetchone()
        finally:
            con.close()
        print(
            f"A build is running: the figures below are the published snapshot's "
            f"(published {at[0] if at else '?'}), not the warehouse's."
        )
    print()
    print(format_headline(years, contracts))
