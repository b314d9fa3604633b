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


REGISTER_SQL = """
select fiscal_year, value, spend_share_pct, supplier_share_pct
from marts.kpi_supplier_profile
where scope = 'overall' and dimension = 'sme'
order by fiscal_year, value
"""

REGISTER_RULES_SQL = """
select rule_id, rule_name, severity, count(*) as lines
from marts.dq_invoice_exceptions
where rule_id in ('DQ15', 'DQ16', 'DQ17')
group by all
order by rule_id
"""


def register_summary(data: DataDir, db: Path | None = None) -> str:
    """The supplier register's figures: the SME share (of addressable spend and of
    suppliers, with the unknown part) per fiscal year, and the register rules'
    line counts (marts.kpi_supplier_profile, marts.dq_invoice_exceptions)."""
    con = reader(db or data.warehouse)
    try:
        profile = con.execute(REGISTER_SQL).fetchall()
        rules = con.execute(REGISTER_RULES_SQL).fetchall()
    finally:
        con.close()
    lines = ["Supplier register (Bolagsverket, SCB; marts.kpi_supplier_profile):"]
    by_year: dict[int, dict[str, tuple[object, object]]] = {}
    for year, value, spend_pct, supplier_pct in profile:
        by_year.setdefault(int(year), {})[str(value)] = (spend_pct, supplier_pct)
    for year, values in sorted(by_year.items()):
        parts = [
            f"{name} {_pct(values[name][0])} of addressable spend, "
            f"{_pct(values[name][1])} of suppliers"
            for name in sorted(values)
        ]
        lines.append(f"  {year}: " + "; ".join(parts))
    if not by_year:
        lines.append("  no register delivered: size, legal form and industry unknown")
    for rule_id, name, severity, count in rules:
        lines.append(f"  {rule_id} {name} ({severity}): {int(count):,} lines")
    if not rules:
        lines.append("  DQ15-DQ17 (register rules): no line flagged")
    return "\n".join(lines)
