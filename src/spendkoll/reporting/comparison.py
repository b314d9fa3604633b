"""Comparison across organisations (jämförelse mellan organisationer).

An installation serving several organisations compares their KPIs per fiscal
year: :func:`build_comparison` reads each member's **published** snapshot
(``published/spendkoll_marts.duckdb``, opened read-only; never the member's
warehouse), takes one value per organisation, fiscal year and KPI, and writes

* the comparison mart ``<out_dir>/comparison.duckdb``, table
  ``marts.cmp_organisation_kpis`` (and the same rows as
  ``<out_dir>/cmp_organisation_kpis.parquet``): one row per fiscal year,
  organisation and KPI with the organisation's value, the distribution across
  the organisations that have a value, and the organisation's quartile and
  rank. This mart names every organisation: it is the installation's, not a
  member's;
* for each member, one self-contained HTML page per fiscal year in the
  member's own reports directory, ``reports/comparison/<year>.html`` (Swedish;
  also ``<year>.en.html`` when the member's report language is English): the
  member's own values beside the distribution (min, Q1, median, Q3, max, n)
  with a box plot in inline SVG. The page never names another organisation
  nor shows another organisation's value by name: only the distribution
  statistics, and none at all for a KPI fewer than ``min_organisations``
  organisations have a value for (with two, the other's value would be the
  min or the max).

Only KPI-level aggregates of a whole organisation are read (kpi_yearly,
kpi_monthly summed over the year, kpi_uncontracted_above_threshold summed over
the year, kpi_supplier_concentration's overall row); nothing row-level (supplier
ids or names, invoice numbers, org units, line amounts) enters the comparison
mart or the pages.

**The KPIs and where each comes from** (definitions: the marts' own,
``dbt_project/models/marts/kpi/_kpi__docs.md``; the shares are the marts'
``pct`` macro, ``round(100.0 * num / nullif(den, 0), 2)``):

* ``supplier_loyalty_pct`` (%, higher is better): kpi_yearly.supplier_loyalty_pct
  (leverantörstrohet).
* ``category_compliance_pct`` (%, higher): kpi_yearly.category_compliance_pct
  (avtalstrohet per kategori, the whole organisation).
* ``category_compliance_pct:<category level 1>`` (%, higher): kpi_monthly summed
  over the fiscal year per category level 1, sum(category_contracted_spend) /
  sum(addressable_spend): the re-aggregation the docs prescribe
  (kpi_common_rules, "Shares"); only categories whose addressable spend is not 0.
* ``small_invoice_share_pct`` (%, lower): kpi_yearly.small_invoice_share_pct
  (invoices under the organisation's spendkoll_small_invoice_limit: SEK 10,000
  unless the organisation's dbt_vars change it, which makes it incomparable).
* ``ecommerce_share_pct`` (%, higher): kpi_yearly.ecommerce_share_pct
  (e-commerce spend / addressable spend).
* ``uncontracted_above_threshold_sek`` (SEK, lower), **computed**: the sum of
  kpi_uncontracted_above_threshold.uncontracted_spend where
  is_above_threshold, per fiscal year (0 when no supplier is above the
  threshold).
* ``uncontracted_above_threshold_pct`` (%, lower), **computed**: that sum /
  kpi_yearly.addressable_spend.
* ``suppliers_per_msek`` (suppliers per SEK million, lower), **computed**:
  kpi_supplier_concentration (scope overall).suppliers, the suppliers with
  positive net addressable spend, / (kpi_yearly.addressable_spend / 1,000,000),
  two decimals.
* ``suppliers_behind_80_pct`` (%, no direction): kpi_supplier_concentration
  (scope overall).suppliers_behind_80_pct, the share of suppliers behind 80 %
  of addressable spend (supplier concentration).

The three "computed" KPIs, and compliance per category over a year, are not a
column of a published KPI table; they are computed from the published KPI marts
as written above, by the SQL of :func:`read_member_kpis` run inside the member's
snapshot (the per-supplier rows of kpi_uncontracted_above_threshold are summed
there; no supplier leaves it). "Best" is the direction the comparison calls better:
fewer small invoices (each costs the same to handle), less uncontracted spend
above the threshold, fewer suppliers per SEK million (a consolidated supplier
base) are better. Supplier concentration has no better direction (a
concentrated spend is leverage and dependence at once): its quartile and rank
count from the lowest value. A member whose snapshot lacks one of the KPI
tables (an older snapshot) has no rows for the KPIs it feeds; the reason is
logged.

**Distribution, quartile and rank.** Per fiscal year and KPI, over the
organisations whose value is not null: n, min, Q1, median, Q3, max. The
quartiles are **linear interpolation between closest ranks** at position
h = (n - 1) * p of the sorted values, the method of DuckDB's
``quantile_cont``, Excel's KVARTIL.INK (QUARTILE.INC), numpy's default and
Python's ``statistics.quantiles(values, n=4, method='inclusive')``, computed
here in exact decimal arithmetic (:func:`distribution`). The distribution
includes the organisation itself.

* ``quartile`` (1-4): 1 is the best quarter. Where higher is better: 1 when
  value >= Q3, 2 when >= median, 3 when >= Q1, else 4; where lower is better
  (and for KPIs without a direction, counted from the lowest value): 1 when
  value <= Q1, 2 when <= median, 3 when <= Q3, else 4. A value on a boundary
  goes to the better quarter.
* ``rank``: 1 + the number of organisations with a strictly better value
  (strictly higher where higher is better, strictly lower otherwise), so ties
  share a rank ("1, 2, 2, 4").
* An organisation whose value is null (a zero denominator) keeps its row, with
  the distribution of the others and no quartile or rank.

Members without a published snapshot, or whose snapshot cannot be read, are
skipped and listed in :attr:`ComparisonResult.skipped` with the reason (also
logged); a member whose snapshot lacks a fiscal year has no rows for it.
The mart and the Parquet file are each written under a temporary name and
renamed into place, as are the pages, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import jinja2

from spendkoll.errors import ConfigError
from spendkoll.logs import timed
from spendkoll.paths import DataDir
from spendkoll.publish import published_path

if TYPE_CHECKING:
    from spendkoll.organisations import Organisation

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "comparison.html.j2"
MART_FILE = "comparison.duckdb"
PARQUET_FILE = "cmp_organisation_kpis.parquet"
MART_SCHEMA = "marts"
MART_TABLE = "cmp_organisation_kpis"
LANGS = ("sv", "en")
CATEGORY_PREFIX = "category_compliance_pct:"
# Below this many organisations with a value, a member's page shows no
# distribution for the KPI (with two, the other's value is the min or the max).
MIN_ORGANISATIONS = 3
# The quartiles of values with two decimals, interpolated at quarters, are exact
# with four (the mart's q1, median and q3 are decimal(22, 4)).
QUARTILE_STEP = Decimal("0.0001")

MART_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fiscal_year", "integer"),
    ("org_id", "varchar"),
    ("org_name", "varchar"),
    ("kpi", "varchar"),
    ("kpi_label_sv", "varchar"),
    ("kpi_label_en", "varchar"),
    ("unit", "varchar"),
    ("value", "decimal(18, 2)"),
    ("n_organisations", "integer"),
    ("min_value", "decimal(18, 2)"),
    ("q1", "decimal(22, 4)"),
    ("median", "decimal(22, 4)"),
    ("q3", "decimal(22, 4)"),
    ("max_value", "decimal(18, 2)"),
    ("quartile", "integer"),
    ("rank", "integer"),
    ("higher_is_better", "boolean"),
)


@dataclass(frozen=True)
class Member:
    """An organisation taking part: its pages go to ``data.reports / "comparison"``."""

    id: str
    name: str
    data: DataDir
    lang: str = "sv"


def members_of(organisations: Sequence[Organisation], base: Path) -> list[Member]:
    """The members for the organisations of the organisations file."""
    return [
        Member(o.id, o.name, DataDir(o.data_root(base).resolve()), o.report_lang)
        for o in organisations
    ]


@dataclass(frozen=True)
class Kpi:
    key: str
    label_sv: str
    label_en: str
    unit: str  # pct, sek or per_msek
    higher_is_better: bool | None  # None: no better direction
    definition_sv: str
    definition_en: str


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "supplier_loyalty_pct",
        "Leverantörstrohet",
        "Supplier loyalty",
        "pct",
        True,
        "Påverkbar spend hos leverantörer med aktivt avtal på bokföringsdagen / påverkbar spend "
        "(kpi_yearly).",
        "Addressable spend with suppliers holding an active contract on the posting date / "
        "addressable spend (kpi_yearly).",
    ),
    Kpi(
        "category_compliance_pct",
        "Avtalstrohet per kategori, hela organisationen",
        "Category contract compliance, whole organisation",
        "pct",
        True,
        "Påverkbar spend med aktivt avtal vars kategori täcker radens / påverkbar spend "
        "(kpi_yearly).",
        "Addressable spend with an active contract whose category covers the line's / "
        "addressable spend (kpi_yearly).",
    ),
    Kpi(
        "small_invoice_share_pct",
        "Andel små fakturor (under 10 000 kr)",
        "Share of small invoices (under SEK 10,000)",
        "pct",
        False,
        "Fakturor med nettobelopp under gränsen / fakturor med positivt nettobelopp (kpi_yearly).",
        "Invoices whose net amount is under the limit / invoices with a positive net amount "
        "(kpi_yearly).",
    ),
    Kpi(
        "ecommerce_share_pct",
        "Andel via e-handel",
        "E-commerce share of spend",
        "pct",
        True,
        "Påverkbar spend på fakturor som en e-handelsorder bär / påverkbar spend (kpi_yearly).",
        "Addressable spend on invoices an e-commerce order carries / addressable spend "
        "(kpi_yearly).",
    ),
    Kpi(
        "uncontracted_above_threshold_sek",
        "Spend utan avtal över direktupphandlingsgränsen",
        "Uncontracted spend above the direct procurement threshold",
        "sek",
        False,
        "Summan av spend utan avtal i kategorin hos leverantörer vars årsbelopp i kategorin "
        "överstiger årets direktupphandlingsgräns (kpi_uncontracted_above_threshold). "
        "En riskflagga, inte bevis på en otillåten direktupphandling.",
        "The sum of uncontracted spend with suppliers whose year's amount in the category is "
        "above the year's direct procurement threshold (kpi_uncontracted_above_threshold). "
        "A risk flag, not proof of an unlawful direct award.",
    ),
    Kpi(
        "uncontracted_above_threshold_pct",
        "Spend utan avtal över direktupphandlingsgränsen, andel av påverkbar spend",
        "Uncontracted spend above the threshold, share of addressable spend",
        "pct",
        False,
        "Beloppet ovan / påverkbar spend (kpi_yearly).",
        "The amount above / addressable spend (kpi_yearly).",
    ),
    Kpi(
        "suppliers_per_msek",
        "Leverantörer per miljon kr påverkbar spend",
        "Suppliers per SEK million of addressable spend",
        "per_msek",
        False,
        "Leverantörer med positiv påverkbar spend (kpi_supplier_concentration) / påverkbar "
        "spend i miljoner kr (kpi_yearly).",
        "Suppliers with positive addressable spend (kpi_supplier_concentration) / addressable "
        "spend in SEK million (kpi_yearly).",
    ),
    Kpi(
        "suppliers_behind_80_pct",
        "Leverantörskoncentration: andel leverantörer bakom 80 % av spenden",
        "Supplier concentration: share of suppliers behind 80 % of spend",
        "pct",
        None,
        "De färre största leverantörerna som tillsammans når 80 % av den påverkbara spenden / "
        "leverantörer (kpi_supplier_concentration). Ingen riktning är bättre: koncentration är "
        "både förhandlingsstyrka och beroende.",
        "The fewest largest suppliers reaching 80 % of addressable spend together / suppliers "
        "(kpi_supplier_concentration). No direction is better: concentration is leverage and "
        "dependence at once.",
    ),
)
KPI_BY_KEY = {k.key: k for k in KPIS}


def category_kpi(category_level1: str) -> Kpi:
    """Category compliance for one category level 1."""
    return Kpi(
        CATEGORY_PREFIX + category_level1,
        f"Avtalstrohet per kategori: {category_level1}",
        f"Category contract compliance: {category_level1}",
        "pct",
        True,
        "Avtalstrohet i kategorin (nivå 1) över räkenskapsåret (kpi_monthly).",
        "Compliance within the category (level 1) over the fiscal year (kpi_monthly).",
    )


# ---------------------------------------------------------------------------
# statistics (pure)


@dataclass(frozen=True)
class Distribution:
    n: int
    min: Decimal
    q1: Decimal
    median: Decimal
    q3: Decimal
    max: Decimal


@dataclass(frozen=True)
class Position:
    distribution: Distribution | None  # None: no organisation has a value
    quartile: int | None  # None: the organisation's value is null
    rank: int | None


def quantile_cont(sorted_values: Sequence[Decimal], p: Decimal) -> Decimal:
    """DuckDB's quantile_cont: linear interpolation at h = (n - 1) * p."""
    if not sorted_values:
        raise ValueError("quantile of no values")
    h = (len(sorted_values) - 1) * p
    lo = int(h)  # h >= 0: floor
    if lo + 1 >= len(sorted_values):
        return sorted_values[-1]
    return sorted_values[lo] + (h - lo) * (sorted_values[lo + 1] - sorted_values[lo])


def distribution(values: Iterable[Decimal]) -> Distribution:
    """n, min, Q1, median, Q3, max of the values (at least one)."""
    xs = sorted(values)
    if not xs:
        raise ValueError("distribution of no values")
    return Distribution(
        n=len(xs),
        min=xs[0],
        q1=quantile_cont(xs, Decimal("0.25")).quantize(QUARTILE_STEP),
        median=quantile_cont(xs, Decimal("0.5")).quantize(QUARTILE_STEP),
        q3=quantile_cont(xs, Decimal("0.75")).quantize(QUARTILE_STEP),
        max=xs[-1],
    )


def quartile_of(value: Decimal, dist: Distribution, higher_is_better: bool | None) -> int:
    """1 = the best quarter (for a KPI without direction: the lowest values)."""
    if higher_is_better:
        bounds = (dist.q3, dist.median, dist.q1)
        return next((i for i, b in enumerate(bounds, 1) if value >= b), 4)
    bounds = (dist.q1, dist.median, dist.q3)
    return next((i for i, b in enumerate(bounds, 1) if value <= b), 4)


def rank_of(value: Decimal, values: Iterable[Decimal], higher_is_better: bool | None) -> int:
    """1 + the organisations strictly better (without direction: strictly lower)."""
    if higher_is_better:
        return 1 + sum(1 for v in values if v > value)
    return 1 + sum(1 for v in values if v < value)


def compare(
    values: Mapping[str, Decimal | None], higher_is_better: bool | None
) -> dict[str, Position]:
    """Each organisation's position among the organisations with a value."""
    present = [v for v in values.values() if v is not None]
    dist = distribution(present) if present else None
    out: dict[str, Position] = {}
    for org, v in values.items():
        if v is None or dist is None:
            out[org] = Position(dist, None, None)
        else:
            out[org] = Position(
                dist, quartile_of(v, dist, higher_is_better), rank_of(v, present, higher_is_better)
            )
    return out


# ---------------------------------------------------------------------------
# reading a member's published snapshot


class _Unreadable(Exception):
    pass


def _pct(num: str, den: str) -> str:
    """The marts' pct macro (dbt_project/macros/kpi.sql)."""
    return f"cast(round(100.0 * ({num}) / nullif({den}, 0), 2) as decimal(9, 2))"


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])


MemberValues = dict[int, list[tuple[Kpi, Decimal | None]]]


def read_member_kpis(con: duckdb.DuckDBPyConnection, member_id: str = "") -> MemberValues:
    """Per fiscal year, the organisation-level KPI values of one published snapshot."""
    if not _has_table(con, "kpi_yearly"):
        raise _Unreadable("its published snapshot has no marts.kpi_yearly")
    out: MemberValues = {}
    yearly = con.execute(
        "select fiscal_year, supplier_loyalty_pct, category_compliance_pct, "
        "small_invoice_share_pct, ecommerce_share_pct from marts.kpi_yearly order by fiscal_year"
    ).fetchall()
    for year, loyalty, compliance, small, ecommerce in yearly:
        out[int(year)] = [
            (KPI_BY_KEY["supplier_loyalty_pct"], loyalty),
            (KPI_BY_KEY["category_compliance_pct"], compliance),
            (KPI_BY_KEY["small_invoice_share_pct"], small),
            (KPI_BY_KEY["ecommerce_share_pct"], ecommerce),
        ]

    def missing(table: str, kpis: str) -> None:
        log.warning(
            "comparison: %s: its published snapshot has no marts.%s: no %s",
            member_id,
            table,
            kpis,
        )

    if _has_table(con, "kpi_uncontracted_above_threshold"):
        for year, sek, pct in con.execute(
            f"""
            with above as (
                select fiscal_year, sum(uncontracted_spend) as spend
                from marts.kpi_uncontracted_above_threshold
                where is_above_threshold
                group by fiscal_year
            )
            select y.fiscal_year, cast(coalesce(a.spend, 0) as decimal(18, 2)),
                   {_pct("coalesce(a.spend, 0)", "y.addressable_spend")}
            from marts.kpi_yearly y left join above a on a.fiscal_year = y.fiscal_year
            """
        ).fetchall():
            out[int(year)] += [
                (KPI_BY_KEY["uncontracted_above_threshold_sek"], sek),
                (KPI_BY_KEY["uncontracted_above_threshold_pct"], pct),
            ]
    else:
        missing("kpi_uncontracted_above_threshold", "uncontracted spend above the threshold")
    if _has_table(con, "kpi_supplier_concentration"):
        for year, per_msek, behind_80 in con.execute(
            """
            select y.fiscal_year,
                   cast(round(1000000.0 * coalesce(c.suppliers, 0)
                              / nullif(y.addressable_spend, 0), 2) as decimal(18, 2)),
                   c.suppliers_behind_80_pct
            from marts.kpi_yearly y
            left join marts.kpi_supplier_concentration c
              on c.fiscal_year = y.fiscal_year and c.scope = 'overall'
            """
        ).fetchall():
            out[int(year)] += [
                (KPI_BY_KEY["suppliers_per_msek"], per_msek),
                (KPI_BY_KEY["suppliers_behind_80_pct"], behind_80),
            ]
    else:
        missing("kpi_supplier_concentration", "suppliers per MSEK nor supplier concentration")
    if _has_table(con, "kpi_monthly"):
        for year, category, pct in con.execute(
            f"""
            select fiscal_year, category_level1,
                   {_pct("sum(category_contracted_spend)", "sum(addressable_spend)")}
            from marts.kpi_monthly
            where fiscal_year in (select fiscal_year from marts.kpi_yearly)
            group by fiscal_year, category_level1
            having sum(addressable_spend) <> 0
            order by fiscal_year, category_level1
            """
        ).fetchall():
            out[int(year)].append((category_kpi(str(category)), pct))
    else:
        missing("kpi_monthly", "compliance per category")
    return out


def _read_member(member: Member) -> MemberValues:
    path = published_path(member.data)
    if not path.exists():
        raise _Unreadable(f"no published snapshot ({path})")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _Unreadable(f"its published snapshot {path} cannot be opened: {exc}") from None
    try:
        return read_member_kpis(con, member.id)
    except duckdb.Error as exc:
        raise _Unreadable(f"its published snapshot {path} cannot be read: {exc}") from None
    finally:
        con.close()


# ---------------------------------------------------------------------------
# the comparison


@dataclass(frozen=True)
class ComparisonRow:
    fiscal_year: int
    org_id: str
    org_name: str
    kpi: str
    kpi_label_sv: str
    kpi_label_en: str
    unit: str
    value: Decimal | None
    n_organisations: int
    min_value: Decimal | None
    q1: Decimal | None
    median: Decimal | None
    q3: Decimal | None
    max_value: Decimal | None
    quartile: int | None
    rank: int | None
    higher_is_better: bool | None

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name, _ in MART_COLUMNS)


@dataclass(frozen=True)
class ComparisonResult:
    fiscal_years: list[int]
    rows: list[ComparisonRow]
    pages: list[Path]
    skipped: list[str]


def comparison_rows(
    members: Sequence[Member], values: Mapping[str, MemberValues]
) -> list[ComparisonRow]:
    """The mart's rows from each member's values (members without values: none)."""
    names = {m.id: m.name for m in members}
    order = {m.id: i for i, m in enumerate(members)}
    kpi_order = {k.key: i for i, k in enumerate(KPIS)}
    grouped: dict[tuple[int, str], dict[str, Decimal | None]] = {}
    kpis: dict[str, Kpi] = {}
    for org_id, per_year in values.items():
        for year, items in per_year.items():
            for kpi, value in items:
                kpis[kpi.key] = kpi
                grouped.setdefault((year, kpi.key), {})[org_id] = value
    rows: list[ComparisonRow] = []
    for (year, key), by_org in sorted(
        grouped.items(),
        key=lambda kv: (kv[0][0], kpi_order.get(kv[0][1], len(KPIS)), kv[0][1]),
    ):
        kpi = kpis[key]
        positions = compare(by_org, kpi.higher_is_better)
        for org_id in sorted(by_org, key=order.__getitem__):
            pos = positions[org_id]
            d = pos.distribution
            rows.append(
                ComparisonRow(
                    fiscal_year=year,
                    org_id=org_id,
                    org_name=names[org_id],
                    kpi=key,
                    kpi_label_sv=kpi.label_sv,
                    kpi_label_en=kpi.label_en,
                    unit=kpi.unit,
                    value=by_org[org_id],
                    n_organisations=d.n if d else 0,
                    min_value=d.min if d else None,
                    q1=d.q1 if d else None,
                    median=d.median if d else None,
                    q3=d.q3 if d else None,
                    max_value=d.max if d else None,
                    quartile=pos.quartile,
                    rank=pos.rank,
                    higher_is_better=kpi.higher_is_better,
                )
            )
    return rows


@timed("comparison across organisations")
def build_comparison(
    members: Sequence[Member],
    out_dir: Path,
    *,
    min_organisations: int = MIN_ORGANISATIONS,
) -> ComparisonResult:
    """Compare the members' published KPIs; write the mart and each member's pages.

    ``min_organisations``: a member's page shows the distribution, quartile and
    rank of a KPI only when at least this many organisations have a value for
    it (the mart has them whatever the number)."""
    seen: set[str] = set()
    for m in members:
        if m.id in seen:
            raise ConfigError(f"comparison: organisation {m.id!r} is listed twice")
        if m.lang not in LANGS:
            raise ConfigError(f"comparison: {m.id}: language {m.lang!r}: use sv or en")
        seen.add(m.id)
    skipped: list[str] = []
    values: dict[str, MemberValues] = {}
    for m in members:
        try:
            values[m.id] = _read_member(m)
        except _Unreadable as exc:
            reason = f"{m.id}: {exc}"
            log.warning("comparison: skipped %s", reason)
            skipped.append(reason)
    rows = comparison_rows(members, values)
    years = sorted({r.fiscal_year for r in rows})
    write_mart(rows, out_dir)
    generated = datetime.now()
    pages: list[Path] = []
    for m in members:
        own = [r for r in rows if r.org_id == m.id]
        for year in sorted({r.fiscal_year for r in own}):
            year_rows = [r for r in own if r.fiscal_year == year]
            organisations = len({r.org_id for r in rows if r.fiscal_year == year})
            for lang in ("sv", "en") if m.lang == "en" else ("sv",):
                page = render_page(
                    m, year, year_rows, organisations, lang, min_organisations, generated
                )
                name = f"{year}.html" if lang == "sv" else f"{year}.{lang}.html"
                path = m.data.reports / "comparison" / name
                _write_text_atomically(path, page)
                pages.append(path)
    log.info(
        "comparison: %d organisations, %d fiscal years, %d rows, %d pages, %d skipped",
        len(values),
        len(years),
        len(rows),
        len(pages),
        len(skipped),
    )
    return ComparisonResult(fiscal_years=years, rows=rows, pages=pages, skipped=skipped)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_mart(rows: Sequence[ComparisonRow], out_dir: Path) -> tuple[Path, Path]:
    """``comparison.duckdb`` (marts.cmp_organisation_kpis) and the Parquet file,
    each written under a temporary name and renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    db, parquet = out_dir / MART_FILE, out_dir / PARQUET_FILE
    tmp_db, tmp_parquet = _tmp_name(db), _tmp_name(parquet)
    for p in (tmp_db, Path(f"{tmp_db}.wal"), tmp_parquet):
        p.unlink(missing_ok=True)
    table = f"{MART_SCHEMA}.{MART_TABLE}"
    con = duckdb.connect(str(tmp_db))
    try:
        con.execute(f"create schema {MART_SCHEMA}")
        con.execute(
            f"create table {table} ("
            + ", ".join(f"{name} {kind}" for name, kind in MART_COLUMNS)
            + ")"
        )
        if rows:
            con.executemany(
                f"insert into {table} values ({', '.join('?' for _ in MART_COLUMNS)})",
                [r.as_tuple() for r in rows],
            )
        target = str(tmp_parquet).replace("'", "''")
        con.execute(f"copy {table} to '{target}' (format parquet)")
        con.execute("checkpoint")
    finally:
        con.close()
    Path(f"{tmp_db}.wal").unlink(missing_ok=True)
    os.replace(tmp_db, db)
    os.replace(tmp_parquet, parquet)
    return db, parquet


# ---------------------------------------------------------------------------
# the member's page

LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Jämförelse mellan organisationer",
        "year": "Räkenskapsår",
        "organisations": "organisationer i jämförelsen",
        "generated": "Skapad",
        "lead": "Era nyckeltal bredvid fördelningen för alla organisationer i jämförelsen "
        "(er egen inräknad). Andra organisationer namnges inte och deras enskilda värden "
        "visas inte: bara fördelningen (lägsta, kvartiler, median, högsta och antal).",
        "overall": "Nyckeltal",
        "categories": "Avtalstrohet per kategori (nivå 1)",
        "kpi": "Nyckeltal",
        "category": "Kategori",
        "own": "Ert värde",
        "plot": "Fördelning",
        "min": "Lägsta",
        "q1": "Q1",
        "median": "Median",
        "q3": "Q3",
        "max": "Högsta",
        "n": "n",
        "quartile": "Kvartil",
        "rank": "Placering",
        "of": "av",
        "better_high": "högre är bättre",
        "better_low": "lägre är bättre",
        "better_none": "ingen riktning är bättre",
        "too_few": "För få organisationer för en jämförelse (n = {n}, minst {min}).",
        "no_value": "Inget värde (nämnaren är noll).",
        "legend": "Lådan går från Q1 till Q3, strecket i den är medianen, linjen från lägsta "
        "till högsta värde; punkten är ert värde. Kvartil 1 är den bästa fjärdedelen (för "
        "nyckeltal utan riktning: de lägsta värdena); placering 1 är bäst, lika värden delar "
        "placering.",
        "method": "Kvartilerna är linjär interpolation mellan närmaste rangordnade värden "
        "(som KVARTIL.INK i Excel).",
        "definitions": "Definitioner",
        "unit_sek": "kr",
        "unit_per_msek": "per mnkr",
    },
    "en": {
        "title": "Comparison across organisations",
        "year": "Fiscal year",
        "organisations": "organisations in the comparison",
        "generated": "Generated",
        "lead": "Your KPIs beside the distribution across all organisations in the comparison "
        "(yours included). Other organisations are not named and their individual values are "
        "not shown: only the distribution (lowest, quartiles, median, highest and count).",
        "overall": "KPIs",
        "categories": "Contract compliance per category (level 1)",
        "kpi": "KPI",
        "category": "Category",
        "own": "Your value",
        "plot": "Distribution",
        "min": "Lowest",
        "q1": "Q1",
        "median": "Median",
        "q3": "Q3",
        "max": "Highest",
        "n": "n",
        "quartile": "Quartile",
        "rank": "Rank",
        "of": "of",
        "better_high": "higher is better",
        "better_low": "lower is better",
        "better_none": "no direction is better",
        "too_few": "Too few organisations for a comparison (n = {n}, at least {min}).",
        "no_value": "No value (the denominator is zero).",
        "legend": "The box runs from Q1 to Q3, the bar in it is the median, the line from the "
        "lowest to the highest value; the dot is your value. Quartile 1 is the best quarter "
        "(for KPIs without a direction: the lowest values); rank 1 is the best, equal values "
        "share a rank.",
        "method": "The quartiles are linear interpolation between closest ranks (Excel's "
        "QUARTILE.INC).",
        "definitions": "Definitions",
        "unit_sek": "SEK",
        "unit_per_msek": "per SEK m",
    },
}

PLOT_WIDTH = 220
PLOT_HEIGHT = 30
PLOT_PAD = 8


def _number(v: Decimal, decimals: int, lang: str) -> str:
    s = f"{float(v):,.{decimals}f}"
    if lang == "sv":
        s = s.replace(",", "\u202f").replace(".", ",")
    return s


def format_value(v: Decimal | None, unit: str, lang: str) -> str:
    if v is None:
        return "–"
    if unit == "pct":
        return _number(v, 1, lang) + "\u00a0%"
    if unit == "sek":
        amount = _number(v, 0, lang)
        return f"{amount}\u00a0kr" if lang == "sv" else f"SEK\u00a0{amount}"
    return _number(v, 2, lang)


def _plot(row: ComparisonRow) -> dict[str, float] | None:
    """Box plot geometry (x positions in the SVG) of the row's distribution."""
    if row.min_value is None or row.max_value is None:
        return None
    assert row.q1 is not None and row.median is not None and row.q3 is not None
    points = [row.min_value, row.max_value] + ([row.value] if row.value is not None else [])
    lo, hi = min(points), max(points)
    span = hi - lo

    def x(v: Decimal) -> float:
        if span == 0:
            return PLOT_WIDTH / 2
        return round(PLOT_PAD + float((v - lo) / span) * (PLOT_WIDTH - 2 * PLOT_PAD), 1)

    out = {
        "min": x(row.min_value),
        "q1": x(row.q1),
        "median": x(row.median),
        "q3": x(row.q3),
        "max": x(row.max_value),
    }
    if row.value is not None:
        out["own"] = x(row.value)
    return out


def _environment() -> jinja2.Environment:
    from spendkoll.quality.report import template_environment

    return template_environment(TEMPLATES)


def render_page(
    member: Member,
    year: int,
    rows: Sequence[ComparisonRow],
    organisations: int,
    lang: str,
    min_organisations: int = MIN_ORGANISATIONS,
    generated: datetime | None = None,
) -> str:
    """One member's page for one fiscal year from its own rows only (each carrying
    the distribution statistics, never another organisation's value or name)."""
    t = LABELS[lang]
    direction = {True: t["better_high"], False: t["better_low"], None: t["better_none"]}

    def item(r: ComparisonRow) -> dict[str, Any]:
        shown = r.n_organisations >= min_organisations
        label = r.kpi_label_sv if lang == "sv" else r.kpi_label_en
        if r.kpi.startswith(CATEGORY_PREFIX):  # under the heading "compliance per category"
            label = r.kpi.removeprefix(CATEGORY_PREFIX)
        kpi = KPI_BY_KEY.get(r.kpi) or category_kpi(r.kpi.removeprefix(CATEGORY_PREFIX))
        definition = kpi.definition_sv if lang == "sv" else kpi.definition_en
        return {
            "key": r.kpi,
            "label": label,
            "definition": definition,
            "unit": r.unit,
            "direction": direction[r.higher_is_better],
            "value": "" if r.value is None else str(r.value),
            "value_text": format_value(r.value, r.unit, lang),
            "shown": shown,
            "n": r.n_organisations,
            "too_few": t["too_few"].format(n=r.n_organisations, min=min_organisations),
            "stats": [
                (t[k], format_value(v, r.unit, lang))
                for k, v in (
                    ("min", r.min_value),
                    ("q1", r.q1),
                    ("median", r.median),
                    ("q3", r.q3),
                    ("max", r.max_value),
                )
            ]
            if shown
            else [],
            "quartile": r.quartile if shown else None,
            "rank": r.rank if shown else None,
            "plot": _plot(r) if shown else None,
        }

    overall = [item(r) for r in rows if not r.kpi.startswith(CATEGORY_PREFIX)]
    categories = [item(r) for r in rows if r.kpi.startswith(CATEGORY_PREFIX)]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            lang=lang,
            t=t,
            org_name=member.name,
            year=year,
            organisations=organisations,
            generated=f"{generated or datetime.now():%Y-%m-%d %H:%M}",
            overall=overall,
            categories=categories,
            plot_width=PLOT_WIDTH,
            plot_height=PLOT_HEIGHT,
        )
    )
