"""A plain-Python reference implementation of the KPI definitions, written from the docs only.

Sources (and nothing else): ``dbt_project/models/marts/kpi/_kpi__docs.md``, the column
descriptions in ``_kpi__marts.yml`` and ``_spend__marts.yml``, the README sections "The
marts and KPIs" and "Loading your own exports", and the reference data in
``dbt_project/seeds``. The SQL of the models was deliberately not read: this is the
second, independent implementation a differential test compares the marts with.

Input is the files as delivered (canonical ledger CSV, contract register CSV, e-commerce
CSV, all ``;``-separated with ISO dates); output is the expected rows of each mart, keyed
by the mart's grain, as plain dicts of Decimal / int / date / bool / str.

Where the docs leave a choice open, the choice made here is written down at the place
(search for "DOCS:").
"""

from __future__ import annotations

import calendar
import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from spendkoll.ids import pseudonymise  # the keyed hash itself (HMAC input not documented)

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SMALL_INVOICE_LIMIT = Decimal("10000")
PROCUREMENT_UNIT = "upphandlingsenheten"
BUSINESS = "verksamheten"
UNCLASSIFIED_CATEGORY = "OK-OK"
INTERNAL_CATEGORY = "IN-IK"

SPEND_CLASSES = ("addressable", "investment", "non_addressable", "internal", "unclassified")


# --------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class Category:
    category_id: str
    level1: str
    level2: str
    level3: str


@dataclass(frozen=True)
class Rule:
    prefix: str
    spend_class: str
    category_id: str


@dataclass(frozen=True)
class Threshold:
    valid_from: date
    valid_to: date
    threshold_sek: Decimal


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def category_tree() -> dict[str, Category]:
    return {
        r["category_id"]: Category(r["category_id"], r["level1"], r["level2"], r["level3"])
        for r in _seed("category_tree.csv")
    }


def mapping_rules(rule_set: str) -> list[Rule]:
    return [
        Rule(r["account_prefix"], r["spend_class"], r["category_id"])
        for r in _seed("account_mapping_rules.csv")
        if r["rule_set"] == rule_set
    ]


def supplier_overrides() -> dict[str, tuple[str, str]]:
    return {
        r["supplier_key"]: (r["spend_class"], r["category_id"])
        for r in _seed("supplier_category_overrides.csv")
    }


def org_units() -> dict[str, tuple[str, str]]:
    return {
        r["cost_centre"]: (r["org_unit_id"], r["org_unit_name"]) for r in _seed("org_units.csv")
    }


def thresholds() -> list[Threshold]:
    return [
        Threshold(
            date.fromisoformat(r["valid_from"]),
            date.fromisoformat(r["valid_to"]),
            Decimal(r["threshold_sek"]),
        )
        for r in _seed("direct_procurement_thresholds.csv")
    ]


# --------------------------------------------------------------------------- small helpers


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic, the day clamped to the month's last day (2024-02-29 + 12)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def pct(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """A share in percent with two decimals; null when the denominator is zero."""
    if not denominator:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _valid_birth_date(yymmdd: str, century: int) -> bool:
    try:
        day = int(yymmdd[4:6])
        date(century * 100 + int(yymmdd[:2]), int(yymmdd[2:4]), day - 60 if day > 60 else day)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class SupplierIdentity:
    key: str | None
    public_sector: bool = False


def supplier_identity(cell: str | None, pseudonym_key: bytes, today: date) -> SupplierIdentity:
    """The supplier key of one id cell, per README "Loading your own exports".

    An organisationsnummer in any form (``556036-0793``, ``5560360793``, ``165560360793``,
    ``SE556036079301``) is checked (Luhn; third digit >= 2 tells it from a personnummer)
    and keyed ``NNNNNN-NNNN``; a valid personnummer becomes ``PNR-`` + keyed hash; a valid
    foreign VAT id (two letters, not SE) is kept as written; anything else has no key.
    """
    text = (cell or "").strip().upper().replace(" ", "")
    if not text:
        return SupplierIdentity(None)
    if text.startswith("SE") and text.endswith("01") and len(text) == 14 and text[2:].isdigit():
        text = text[2:12]
    digits = text.replace("-", "").replace("+", "")
    if digits.isdigit():
        century: int | None = None
        if len(digits) == 12:
            if digits[:2] == "16":
                digits = digits[2:]
            elif digits[:2] in ("18", "19", "20"):
                century, digits = int(digits[:2]), digits[2:]
        if len(digits) != 10 or not _luhn_ok(digits):
            return SupplierIdentity(None)
        if int(digits[2]) >= 2:
            return SupplierIdentity(f"{digits[:6]}-{digits[6:]}", digits[0] == "2")
        if century is None:
            # DOCS: the century of a 10-digit personnummer is not documented; the latest
            # century that does not put the birth date in the future (+ = 100 years more).
            century = today.year // 100
            if century * 100 + int(digits[:2]) > today.year:
                century -= 1
            if "+" in text:
                century -= 1
        if not _valid_birth_date(digits[:6], century):
            return SupplierIdentity(None)
        return SupplierIdentity(pseudonymise(f"{century:02d}{digits}", pseudonym_key))
    if len(text) >= 4 and text[:2].isalpha() and text[:2] != "SE" and text[2:].isalnum():
        # README: foreign VAT ids are checked with python-stdnum (EU, Norway, the United
        # Kingdom, Switzerland); anything else counts as a missing id.
        return SupplierIdentity(text if _foreign_vat_valid(text) else None)
    return SupplierIdentity(None)


def _foreign_vat_valid(text: str) -> bool:
    from stdnum.ch import vat as ch
    from stdnum.eu import vat as eu
    from stdnum.gb import vat as gb
    from stdnum.no import mva as no

    module = {"NO": no, "GB": gb, "CH": ch}.get(text[:2], eu)
    return bool(module.is_valid(text))


def _date_or_none(text: str | None) -> date | None:
    text = (text or "").strip()
    return date.fromisoformat(text) if text else None


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


# --------------------------------------------------------------------------- inputs


@dataclass
class Contract:
    contract_id: str
    title: str
    supplier_key: str | None
    category: str
    start_date: date
    end_date: date
    latest_end_date: date | None
    contract_type: str
    procured_by: str
    registered_date: date | None
    estimated_annual_value: Decimal | None
    covers: frozenset[str] = frozenset()

    def active_on(self, d: date) -> bool:
        return self.start_date <= d <= self.end_date

    def on_time_for(self, d: date) -> bool:
        return self.registered_date is None or self.registered_date <= d

    @property
    def procured_by_class(self) -> str:
        return (
            "procurement_unit"
            if self.procured_by.strip().lower() == PROCUREMENT_UNIT
            else "business"
        )


@dataclass
class Line:
    ledger_line: int  # 1-based data row in the file
    verification_id: str
    invoice_number: str
    posting_date: date
    supplier_key: str | None
    public_sector: bool
    account: str
    cost_centre: str
    amount: Decimal
    org_unit_id: str = ""
    spend_class: str = ""
    category: Category | None = None
    has_active_contract: bool = False
    covers_category: bool = False
    on_time: bool = False
    matched_contract: str | None = None
    match_ambiguous: bool = False  # several active contracts: which one is "matched" is open
    procurement_unit: bool = False
    via_ecommerce: bool = False
    invoice_key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def period(self) -> str:
        return f"{self.posting_date:%Y-%m}"

    @property
    def fiscal_year(self) -> int:
        return self.posting_date.year


# --------------------------------------------------------------------------- the reference


SPEND_MEASURES = (
    "spend",
    "addressable_spend",
    "investment_spend",
    "non_addressable_spend",
    "internal_spend",
    "unclassified_spend",
    "contracted_spend",
    "category_contracted_spend",
    "on_time_contracted_spend",
    "procurement_unit_contracted_spend",
    "maverick_spend",
    "ecommerce_spend",
    "spend_without_supplier_id",
    "lines",
    "suppliers",
    "invoices",
    "credit_notes",
    "small_invoices",
    "supplier_loyalty_pct",
    "category_compliance_pct",
    "on_time_loyalty_pct",
    "procurement_unit_loyalty_pct",
    "small_invoice_share_pct",
    "ecommerce_share_pct",
)
GRAINS = {
    "kpi_monthly": ("period", "org_unit_id", "category_level1"),
    "kpi_monthly_org_unit": ("period", "org_unit_id"),
    "kpi_monthly_organisation": ("period",),
    "kpi_yearly": ("fiscal_year",),
}


class KpiReference:
    """Expected KPI mart rows for one set of delivered files."""

    def __init__(
        self,
        ledger_csv: str,
        contracts_csv: str,
        ecommerce_csv: str,
        *,
        pseudonym_key: bytes,
        rule_set: str = "demo_region",
        as_of_date: date | None = None,
        today: date | None = None,
    ) -> None:
        self.today = today or date.today()
        self.key = pseudonym_key
        self.categories = category_tree()
        self.rules = mapping_rules(rule_set)
        self.overrides = supplier_overrides()
        self.org_units = org_units()
        self.thresholds = thresholds()
        self.contracts = self._contracts(_rows(contracts_csv))
        orders = self._ecommerce(_rows(ecommerce_csv))
        self.lines = self._lines(_rows(ledger_csv), orders)
        # DOCS: "else the ledger's last posting date".
        self.as_of_date = as_of_date or max(line.posting_date for line in self.lines)

    # -- inputs ---------------------------------------------------------------------------

    def _ident(self, cell: str | None) -> SupplierIdentity:
        return supplier_identity(cell, self.key, self.today)

    def covered_categories(self, written: str) -> frozenset[str]:
        """The leaf categories a contract's category covers.

        DOCS: a category id covers itself; a level-1 or level-2 name covers every category
        below it; a level-3 name covers its leaf. A name found at several levels ("Köpt
        vård" is a level 2 and a level 3) covers the union.
        """
        w = written.strip()
        return frozenset(
            c.category_id
            for c in self.categories.values()
            if w in (c.category_id, c.level1, c.level2, c.level3)
        )

    def _contracts(self, rows: list[dict[str, str]]) -> list[Contract]:
        out = []
        for r in rows:
            value = (r.get("estimated_annual_value") or "").strip()
            out.append(
                Contract(
                    contract_id=r["contract_id"].strip(),
                    title=r.get("title", ""),
                    supplier_key=self._ident(r.get("supplier_org_number")).key,
                    category=r.get("category", ""),
                    start_date=date.fromisoformat(r["start_date"].strip()),
                    end_date=date.fromisoformat(r["end_date"].strip()),
                    latest_end_date=_date_or_none(r.get("latest_end_date")),
                    contract_type=r.get("contract_type", ""),
                    procured_by=r.get("procured_by", ""),
                    registered_date=_date_or_none(r.get("registered_date")),
                    estimated_annual_value=Decimal(value).quantize(CENT) if value else None,
                    covers=self.covered_categories(r.get("category", "")),
                )
            )
        return out

    def _ecommerce(self, rows: list[dict[str, str]]) -> set[tuple[str, str]]:
        carried = set()
        for r in rows:
            supplier = self._ident(r.get("supplier_org_number")).key
            invoice = (r.get("invoice_number") or "").strip()
            if supplier and invoice:
                carried.add((supplier, invoice))
        return carried

    def classify(self, supplier: SupplierIdentity, account: str) -> tuple[str, str]:
        """(spend class, category id) in the documented order of precedence."""
        if supplier.key and supplier.key in self.overrides:
            return self.overrides[supplier.key]
        matching = [r for r in self.rules if account.startswith(r.prefix)]
        rule = max(matching, key=lambda r: len(r.prefix)) if matching else None
        if rule is None:
            # DOCS: "unclassified (no mapping rule; shown, never dropped)", also for a
            # public-sector supplier: only "an account that would be addressable" is internal.
            return "unclassified", UNCLASSIFIED_CATEGORY
        if supplier.public_sector and rule.spend_class == "addressable":
            # DOCS: the class is documented (internal); the category is not. Interna köp
            # (IN-IK), as tests/integration/test_kpi_golden.py worked out by hand (L19).
            return "internal", INTERNAL_CATEGORY
        return rule.spend_class, rule.category_id

    def _lines(self, rows: list[dict[str, str]], orders: set[tuple[str, str]]) -> list[Line]:
        by_supplier: dict[str, list[Contract]] = defaultdict(list)
        for c in self.contracts:
            if c.supplier_key:
                by_supplier[c.supplier_key].append(c)
        lines = []
        for n, r in enumerate(rows, start=1):
            ident = self._ident(r.get("supplier_org_number"))
            account = r["account"].strip()
            cost_centre = (r.get("cost_centre") or "").strip()
            line = Line(
                ledger_line=n,
                verification_id=(r.get("verification_id") or "").strip(),
                invoice_number=(r.get("invoice_number") or "").strip(),
                posting_date=date.fromisoformat(r["posting_date"].strip()),
                supplier_key=ident.key,
                public_sector=ident.public_sector,
                account=account,
                cost_centre=cost_centre,
                amount=Decimal(r["amount_excl_vat"].strip().replace(",", ".")).quantize(CENT),
            )
            # "an unmapped cost centre is its own unit"
            line.org_unit_id = self.org_units.get(cost_centre, (cost_centre, cost_centre))[0]
            line.spend_class, category_id = self.classify(ident, account)
            line.category = self.categories[category_id]
            d = line.posting_date
            active = [c for c in by_supplier.get(ident.key or "", []) if c.active_on(d)]
            line.has_active_contract = bool(active)
            line.covers_category = any(category_id in c.covers for c in active)
            line.on_time = any(c.on_time_for(d) for c in active)
            ids = sorted({c.contract_id for c in active})
            if len(ids) == 1:
                line.matched_contract = ids[0]
                matched = [c for c in active if c.contract_id == ids[0]][0]
                line.procurement_unit = (
                    matched.procured_by_class == "procurement_unit" and matched.on_time_for(d)
                )
            elif len(ids) > 1:
                # DOCS: which of several active contracts is "the matched contract" is not
                # documented; callers skip the measures that depend on it.
                line.match_ambiguous = True
            line.via_ecommerce = bool(
                ident.key and line.invoice_number and (ident.key, line.invoice_number) in orders
            )
            who = ident.key or "?"
            if line.invoice_number:
                line.invoice_key = (who, "f", line.invoice_number)
            elif line.verification_id:
                line.invoice_key = (who, "v", line.verification_id)
            else:
                line.invoice_key = ("l", str(n))
            lines.append(line)
        return lines

    # -- spend KPIs -----------------------------------------------------------------------

    def invoice_nets(self) -> dict[tuple[str, ...], Decimal]:
        """Net amount of every invoice over the whole ledger."""
        nets: dict[tuple[str, ...], Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            nets[line.invoice_key] += line.amount
        return nets

    def spend_measures(self, lines: list[Line]) -> dict[str, object]:
        nets = self.invoice_nets()

        def total(pred) -> Decimal:  # noqa: ANN001
            return sum((x.amount for x in lines if pred(x)), ZERO)

        def addressable(pred) -> Decimal:  # noqa: ANN001
            return total(lambda x: x.spend_class == "addressable" and pred(x))

        m: dict[str, object] = {"spend": total(lambda x: True)}
        for cls in SPEND_CLASSES:
            m[f"{cls}_spend"] = total(lambda x, cls=cls: x.spend_class == cls)
        m["contracted_spend"] = addressable(lambda x: x.has_active_contract)
        m["category_contracted_spend"] = addressable(lambda x: x.covers_category)
        m["on_time_contracted_spend"] = addressable(lambda x: x.on_time)
        m["procurement_unit_contracted_spend"] = addressable(lambda x: x.procurement_unit)
        m["maverick_spend"] = m["addressable_spend"] - m["category_contracted_spend"]
        m["ecommerce_spend"] = addressable(lambda x: x.via_ecommerce)
        m["spend_without_supplier_id"] = total(lambda x: x.supplier_key is None)
        m["lines"] = len(lines)
        m["suppliers"] = len({x.supplier_key for x in lines if x.supplier_key})
        invoices = {x.invoice_key for x in lines}
        m["invoices"] = sum(1 for i in invoices if nets[i] > 0)
        m["credit_notes"] = sum(1 for i in invoices if nets[i] <= 0)
        m["small_invoices"] = sum(1 for i in invoices if 0 < nets[i] < SMALL_INVOICE_LIMIT)
        a = m["addressable_spend"]
        m["supplier_loyalty_pct"] = pct(m["contracted_spend"], a)
        m["category_compliance_pct"] = pct(m["category_contracted_spend"], a)
        m["on_time_loyalty_pct"] = pct(m["on_time_contracted_spend"], a)
        m["procurement_unit_loyalty_pct"] = pct(m["procurement_unit_contracted_spend"], a)
        m["small_invoice_share_pct"] = pct(m["small_invoices"], m["invoices"])
        m["ecommerce_share_pct"] = pct(m["ecommerce_spend"], a)
        # Not a mart column: the procurement-unit measures rest on "the matched contract",
        # undefined for a line with several active contracts.
        m["_match_ambiguous"] = any(
            x.match_ambiguous and x.spend_class == "addressable" for x in lines
        )
        return m

    def _grain_key(self, model: str, line: Line) -> tuple[object, ...]:
        values = {
            "period": line.period,
            "org_unit_id": line.org_unit_id,
            "category_level1": line.category.level1 if line.category else None,
            "fiscal_year": line.fiscal_year,
        }
        return tuple(values[c] for c in GRAINS[model])

    def spend_kpis(self, model: str) -> dict[tuple[object, ...], dict[str, object]]:
        """Rows of kpi_monthly / kpi_monthly_org_unit / kpi_monthly_organisation / kpi_yearly."""
        groups: dict[tuple[object, ...], list[Line]] = defaultdict(list)
        for line in self.lines:
            groups[self._grain_key(model, line)].append(line)
        return {k: self.spend_measures(v) for k, v in groups.items()}

    # -- uncontracted above threshold ------------------------------------------------------

    def threshold_for_year(self, year: int) -> tuple[Decimal, bool]:
        """DOCS: the threshold in force; in a year where it changed, the lower of the two.

        Read as: the lowest threshold in force on any day of the fiscal year, changed when
        more than one was.
        """
        first, last = date(year, 1, 1), date(year, 12, 31)
        in_year = [
            t.threshold_sek for t in self.thresholds if t.valid_from <= last and t.valid_to >= first
        ]
        return min(in_year), len(set(in_year)) > 1

    def uncontracted_above_threshold(self) -> dict[tuple[object, ...], dict[str, object]]:
        groups: dict[tuple[int, str, str], list[Line]] = defaultdict(list)
        for x in self.lines:
            if x.spend_class == "addressable" and x.supplier_key and x.category:
                groups[(x.fiscal_year, x.supplier_key, x.category.category_id)].append(x)
        out = {}
        for (year, supplier, category_id), lines in groups.items():
            uncovered = [x for x in lines if not x.covers_category]
            if not uncovered:
                continue
            threshold, changed = self.threshold_for_year(year)
            spend = sum((x.amount for x in uncovered), ZERO)
            cat = self.categories[category_id]
            out[(year, supplier, category_id)] = {
                "category_level1": cat.level1,
                "category_level2": cat.level2,
                "category_level3": cat.level3,
                "addressable_spend": sum((x.amount for x in lines), ZERO),
                "uncontracted_spend": spend,
                "uncontracted_lines": len(uncovered),
                "uncontracted_invoices": len(
                    {x.invoice_number for x in uncovered if x.invoice_number}
                ),
                "first_posting_date": min(x.posting_date for x in uncovered),
                "last_posting_date": max(x.posting_date for x in uncovered),
                "threshold_sek": threshold,
                "threshold_changed_in_year": changed,
                "is_above_threshold": spend > threshold,
            }
        return out

    # -- supplier concentration --------------------------------------------------------------

    def supplier_concentration(self) -> dict[tuple[object, ...], dict[str, object]]:
        scopes: dict[tuple[int, str, str], list[Line]] = defaultdict(list)
        for x in self.lines:
            if x.spend_class != "addressable":
                continue
            scopes[(x.fiscal_year, "overall", "Alla kategorier")].append(x)
            scopes[(x.fiscal_year, "category_level1", x.category.level1)].append(x)
        out = {}
        for scope, lines in scopes.items():
            per_supplier: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for x in lines:
                if x.supplier_key:
                    per_supplier[x.supplier_key] += x.amount
            ranked = sorted(
                ((s, k) for k, s in per_supplier.items() if s > 0), key=lambda t: (-t[0], t[1])
            )
            n = len(ranked)
            if not n:
                # DOCS: a scope (year, category level 1) in which no supplier has positive
                # addressable spend (only lines without supplier id, or only credit notes)
                # has no row: the docs do not say; this is what the mart does.
                continue
            spend = sum((s for s, _ in ranked), ZERO)
            behind = 0
            running = ZERO
            for s, _ in ranked:
                if running >= spend * Decimal("0.8"):
                    break
                running += s
                behind += 1
            smallest = ranked[n - (n * 94 // 100) :]
            smallest_spend = sum((s for s, _ in smallest), ZERO)
            out[scope] = {
                "suppliers": n,
                "addressable_spend": spend,
                "suppliers_behind_80": behind,
                "suppliers_behind_80_pct": pct(behind, n),
                "smallest_94_spend": smallest_spend,
                "spend_share_smallest_94_pct": pct(smallest_spend, spend),
                "tail_spend": spend - running,
                "tail_suppliers": n - behind,
                "largest_supplier_share_pct": pct(ranked[0][0], spend),
                "spend_without_supplier_id": sum(
                    (x.amount for x in lines if x.supplier_key is None), ZERO
                ),
            }
        return out

    # -- contract expiry ---------------------------------------------------------------------

    def contract_expiry(self) -> dict[tuple[object, ...], dict[str, object]]:
        as_of = self.as_of_date
        by_id: dict[str, list[Contract]] = defaultdict(list)
        for c in self.contracts:
            by_id[c.contract_id].append(c)
        window_start = add_months(as_of, -12)  # "the 12 months up to and including" as-of
        out = {}
        for contract_id, rows in by_id.items():
            c = rows[0]
            if not as_of < c.end_date <= add_months(as_of, 24):
                continue
            within_12 = c.end_date <= add_months(as_of, 12)
            matched = [
                x
                for x in self.lines
                if x.matched_contract == contract_id and window_start < x.posting_date <= as_of
            ]
            out[(contract_id,)] = {
                "contract_category": c.category,
                "procured_by": c.procured_by,
                "procured_by_class": c.procured_by_class,
                "suppliers": len({r.supplier_key for r in rows if r.supplier_key}),
                "start_date": c.start_date,
                "end_date": c.end_date,
                "latest_end_date": c.latest_end_date,
                "registered_date": c.registered_date,
                "as_of_date": as_of,
                "days_to_end": (c.end_date - as_of).days,
                "ends_within_12_months": within_12,
                "ends_within_24_months": True,
                "expiry_window": "0-12" if within_12 else "12-24",
                "can_be_extended": bool(c.latest_end_date and c.latest_end_date > c.end_date),
                "trailing_12m_spend": sum((x.amount for x in matched), ZERO),
                "trailing_12m_lines": len(matched),
                "estimated_annual_value": c.estimated_annual_value,
            }
        return out

    def contract_suppliers_with_ambiguous_match(self) -> set[str]:
        """Contracts whose trailing spend depends on the undocumented choice of match."""
        ids: set[str] = set()
        for x in self.lines:
            if x.match_ambiguous:
                ids.update(
                    c.contract_id
                    for c in self.contracts
                    if c.supplier_key == x.supplier_key and c.active_on(x.posting_date)
                )
        return ids


def lines_of(ref: KpiReference, cost_centres: Iterable[str]) -> list[Line]:
    wanted = set(cost_centres)
    return [x for x in ref.lines if x.cost_centre in wanted]
