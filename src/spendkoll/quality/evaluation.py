"""The invoice rules measured on a real ledger with planted mis-codings (`spendkoll dq-eval`).

``spendkoll dq-recall`` scores the rules against the demo generator's own
plantings; this module scores them on data nobody on the team wrote: Örebro
kommun's published supplier invoices for March 2016 (68,021 lines, CC0). A
fixed number of known mis-codings per family is planted into a copy of the real
file, the copy goes through the real pipeline (``load_source`` with the sources
TOML, ``dbt build`` with the ``kommun_bas`` rule set) in a throw-away data
directory, and ``marts.dq_invoice_exceptions`` is scored against the truth of
every line of the planted file:

* a planted line is *caught* when any rule of severity ``warning`` or
  ``blocking`` flags it (the list sent back to accounting); recall per family
  and overall, and per rule the share of each family's planted lines it flags;
* the *flag rate* is the share of the untouched real lines flagged, per rule,
  per severity and on the list to accounting (any warning or blocking rule);
* when ``marts.dq_accounting_list`` (one row per flagged line with a boolean
  ``on_list``) exists, the same on ``on_list``.

Two variants of the real file:

``mapped``
    the file as published (``forvaltning;leverantor;orgnr;faktura_nr;konto;utfall``),
    loaded through ``include/sources/orebro.toml``. It has no voucher, no
    posting date and no VAT, so the duplicate families and the VAT family are
    not planted in it.
``spec``
    the same rows rewritten in the open-data "leverantörsreskontra" 1.1 format
    with one voucher number and one posting date per invoice (``faktura_nr`` and
    supplier), as real ledgers book it: every invoice gets a weekday of the month
    drawn from the seed, vouchers are numbered in date order. It carries VAT in an
    extra column ``moms`` after the 15 columns of the specification (mapped with
    ``[source.columns] vat = "moms"``): 0 % for public-sector suppliers (org
    number starting with 2) and foreign suppliers (reverse charge), and on grants
    (45), personnel (5) and financial items (8); 12 % on food (644); 6 % on books
    and media (643) and travel (705); 25 % on everything else.

The planting is deliberately general: each family plants what a real
mis-coding of its kind looks like, on lines drawn uniformly at random from the
real file (``random.Random`` seeded from the seed and the family), never two
plantings on one line. A family's eligibility condition is part of its
definition only (printed with the results).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import math
import random
import re
import secrets
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from stdnum.se import orgnr as se_orgnr

from spendkoll.errors import ConfigError, SpendkollError
from spendkoll.paths import DataDir, project_root
from spendkoll.settings import settings

RULE_SET = "kommun_bas"
REAL_FILE_PARTS = ("shared", "data", "real", "orebro-2016-03", "leverantorsfakturor_2016-03.csv")
MAPPED_HEADER = ["forvaltning", "leverantor", "orgnr", "faktura_nr", "konto", "utfall"]
SPEC_HEADER = [
    "kopare_id",
    "kopare",
    "verifikationsnummer",
    "leverantor",
    "leverantor_id",
    "konto_nr",
    "konto_text",
    "bokforingsdatum",
    "forvaltning",
    "fakturanummer",
    "nettobelopp",
    "grund",
    "avtal",
    "kommun_id",
    "s_kod_nr",
    "moms",
]
BUYER_ID, BUYER_NAME, BUYER_MUNICIPALITY_CODE = "212000-1967", "Örebro kommun", "1880"
SPEC_SOURCE_TOML = """\
# The Örebro file rewritten in the open-data "leverantörsreskontra" 1.1 format
# by `spendkoll dq-eval` (one voucher and one posting date per invoice), with VAT
# in an extra column `moms` after the specification's 15 columns.
[[source]]
name = "orebro_spec"
kind = "ledger"
format = "leverantorsreskontra"
pattern = "leverantorsreskontra_*.csv"
replace = "month"
delimiter = ";"
decimal = ","

[source.columns]
vat = "moms"
"""
SPEC_SOURCE_NAME = "orebro_spec"
MAPPED_SOURCE_NAME = "orebro_ledger"

# Half a price base amount (prisbasbelopp): the Swedish line between an expense
# and a fixed asset (with a useful life of three years or more).
HALF_PRICE_BASE_AMOUNT = {2015: Decimal("22250"), 2016: Decimal("22150"), 2017: Decimal("22400")}
INVESTMENT_AMOUNT_RANGE = (150_000, 2_000_000)
LEGAL_VAT_RATES = (Decimal(0), Decimal(6), Decimal(12), Decimal(25))
USUAL_CATEGORY_MIN_LINES = 5
VAT_MIN_AMOUNT = Decimal(10)  # below it a rate is not determinable at öre precision
# Real Swedish municipalities used as public-sector suppliers besides the
# public bodies of the file itself (every id is checked with python-stdnum).
PUBLIC_BODIES = (
    ("STOCKHOLMS KOMMUN", "212000-0142"),
    ("GÖTEBORGS KOMMUN", "212000-1355"),
    ("MALMÖ KOMMUN", "212000-1124"),
    ("UPPSALA KOMMUN", "212000-3005"),
)

LINE_FAMILIES = (
    "category_deviation",
    "unknown_account",
    "invalid_supplier_id",
    "investment_as_operating",
    "operating_as_investment",
    "public_supplier_external_account",
)
INVOICE_FAMILIES = ("duplicate_invoice", "near_duplicate")
VAT_FAMILIES = ("vat_off_rate",)
FAMILIES = LINE_FAMILIES + INVOICE_FAMILIES + VAT_FAMILIES
SPEC_ONLY = {
    "duplicate_invoice": "the mapped file has no voucher and no posting date",
    "near_duplicate": "the mapped file has no voucher and no posting date",
    "vat_off_rate": "the mapped file has no VAT",
}
VARIANTS = ("mapped", "spec")
ELIGIBILITY = {
    "category_deviation": (
        f"lines whose supplier has >= {USUAL_CATEGORY_MIN_LINES} lines in the file; moved "
        "to an account of the file (drawn weighted by use) whose kommun_bas category is "
        "neither the line's nor the supplier's most frequent one"
    ),
    "unknown_account": (
        "every line; the account becomes a plausible number no kommun_bas rule matches (a"
        " digit typo, transposition, dropped or doubled digit of its own account, else a "
        "5-digit number in an unmapped group), account text left empty"
    ),
    "invalid_supplier_id": (
        "lines whose supplier id is a valid Swedish org number; it gets a wrong check "
        "digit, a mis-keyed or transposed digit, or a dropped or doubled digit"
    ),
    "duplicate_invoice": (
        "the invoice (faktura_nr + supplier) of a line drawn uniformly, none of its lines"
        " planted before and no more lines than the family still lacks (so exactly the "
        "family's count of copied lines); every line copied with the same invoice number "
        "and amounts under a new voucher 1-30 days later"
    ),
    "near_duplicate": (
        "as duplicate_invoice; copied under another invoice number and a new voucher, "
        "1-20 days before or after"
    ),
    "investment_as_operating": (
        "lines on an operating account (kommun_bas spend class addressable), any "
        "supplier; the amount becomes SEK 150,000-2,000,000 (log-uniform)"
    ),
    "operating_as_investment": (
        "lines on an operating account (spend class addressable) with 0 < amount < half a"
        " price base amount (SEK 22,150 in 2016); moved to an account of the file that "
        "kommun_bas classes as investment (weighted by use)"
    ),
    "public_supplier_external_account": (
        "lines on an external-purchase account (spend class addressable, at most half of "
        "its lines in the file from public bodies) from a supplier that is not a public "
        "body; the supplier becomes a public body (a valid org number starting with 2)"
    ),
    "vat_off_rate": (
        "lines where VAT is present (a rate above 0 and |amount| >= SEK "
        f"{VAT_MIN_AMOUNT}); VAT at a foreign rate, computed on the gross, net taken for "
        "gross, a digit slip or a random rate, at least 1 percentage point from 0, 6, 12 "
        "and 25 %"
    ),
}

SEVERE = ("warning", "blocking")
# Rules that flag a pair of invoices (naming the other one in the explanation):
# a planted copy counts as caught when one of them flags either side of the
# pair, since the controller then has both invoices before them. Which of the
# two is "the copy" only the planting knows (a copy may be dated before its
# original).
PAIR_RULES = ("DQ07", "DQ08")
TARGET_RECALL_OVERALL = 0.95
TARGET_RECALL_FAMILY = 0.90
TARGET_LIST_SHARE = 0.01
TARGET_RULE_SHARE = 0.005

CENT = Decimal("0.01")


def default_real_file() -> Path:
    """``../shared/data/real/orebro-2016-03/leverantorsfakturor_2016-03.csv`` beside the
    project home (the checkout, or ``$SPENDKOLL_HOME``)."""
    return project_root().parent.joinpath(*REAL_FILE_PARTS)


# --- reference data --------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRules:
    """The account mapping rules of one rule set: longest prefix wins."""

    rules: tuple[tuple[str, str, str], ...]  # (prefix, spend_class, category_id)
    _cache: dict[str, tuple[str, str] | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def match(self, account: str) -> tuple[str, str] | None:
        if account in self._cache:
            return self._cache[account]
        best: tuple[str, str, str] | None = None
        for prefix, spend_class, category in self.rules:
            if account.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, spend_class, category)
        result = None if best is None else (best[1], best[2])
        self._cache[account] = result
        return result

    def category(self, account: str) -> str | None:
        m = self.match(account)
        return None if m is None else m[1]

    def spend_class(self, account: str) -> str | None:
        m = self.match(account)
        return None if m is None else m[0]


def load_account_rules(rule_set: str = RULE_SET, seeds: Path | None = None) -> AccountRules:
    path = (seeds or project_root() / "dbt_project" / "seeds") / "account_mapping_rules.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["rule_set"] == rule_set]
    if not rows:
        raise ConfigError(f"{path}: no account mapping rules for rule set {rule_set!r}")
    return AccountRules(
        tuple((r["account_prefix"], r["spend_class"], r["category_id"]) for r in rows)
    )


# --- supplier ids ----------------------------------------------------------------------

_ORGNR_FORM = re.compile(r"^\d{6}-?\d{4}$")
_FOREIGN_VAT = re.compile(r"^[A-Z]{2}[0-9A-Z]{2,13}$")


@functools.lru_cache(maxsize=65536)
def valid_orgnr(cell: str) -> bool:
    """A Swedish organisation number: 10 digits, third digit >= 2, Luhn (python-stdnum)."""
    s = cell.strip()
    return bool(_ORGNR_FORM.match(s)) and int(s[2]) >= 2 and se_orgnr.is_valid(s)


def is_public_body(cell: str) -> bool:
    return valid_orgnr(cell) and cell.strip().startswith("2")


@functools.lru_cache(maxsize=65536)
def supplier_identity(supplier_id: str, supplier_name: str) -> str:
    """Who the supplier is, for counting its lines: the org number when valid, else
    the name."""
    sid = supplier_id.strip()
    return sid.replace("-", "") if valid_orgnr(sid) else "name:" + supplier_name.strip().upper()


# --- the real file ---------------------------------------------------------------------

_KONTO = re.compile(r"^\s*(\d+)\s*(.*)$", re.S)


def account_of(konto: str) -> str:
    """The account number of a cell holding number and text ("46362 Köp ...")."""
    m = _KONTO.match(konto)
    return m.group(1) if m else konto.strip()


@dataclass
class Line:
    """One line of the planted file, with its truth."""

    cost_centre: str
    supplier_name: str
    supplier_id: str
    invoice_number: str
    konto: str  # "46362 Köp medicinskt färdigbeh": number and text in one cell
    amount: Decimal
    origin: int  # index of the real line it is (or copies)
    raw: list[str] | None = None  # the real line's cells while it is untouched
    amount_text: str | None = None  # the real cell while the amount is unchanged
    family: str | None = None  # None: untouched
    partner: bool = False  # the original of a planted copy
    copy_group: int | None = None  # copies of one invoice share a group
    posting_date: date | None = None
    voucher: str | None = None
    vat: Decimal | None = None
    detail: str = ""

    @property
    def account(self) -> str:
        return account_of(self.konto)

    @property
    def account_text(self) -> str:
        m = _KONTO.match(self.konto)
        return m.group(2).strip() if m else ""

    @property
    def invoice_key(self) -> tuple[str, str]:
        return (supplier_identity(self.supplier_id, self.supplier_name), self.invoice_number)

    def touch(self, family: str, detail: str) -> None:
        self.family, self.detail, self.raw = family, detail, None


def read_real_file(path: Path) -> list[Line]:
    """The published file's lines (UTF-8, ``;``, header
    ``forvaltning;leverantor;orgnr;faktura_nr;konto;utfall``)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = [h.strip().lower() for h in next(reader)]
        if header != MAPPED_HEADER:
            raise ConfigError(
                f"{path}: expected the header {';'.join(MAPPED_HEADER)}, found {';'.join(header)}"
            )
        lines = []
        for i, row in enumerate(reader):
            if len(row) != len(MAPPED_HEADER):
                raise ConfigError(f"{path}: line {i + 2} has {len(row)} columns, expected 6")
            lines.append(
                Line(
                    cost_centre=row[0],
                    supplier_name=row[1],
                    supplier_id=row[2],
                    invoice_number=row[3],
                    konto=row[4],
                    amount=Decimal(row[5].replace(",", ".")),
                    origin=i,
                    raw=row,
                    amount_text=row[5],
                )
            )
    return lines


def file_period(path: Path) -> tuple[int, int]:
    m = re.search(r"(\d{4})-(\d{2})", path.name)
    if not m:
        raise ConfigError(f"{path.name}: no YYYY-MM in the file name (the month of the file)")
    return int(m.group(1)), int(m.group(2))


# --- VAT -------------------------------------------------------------------------------


def plausible_vat_rate(account: str, supplier_id: str) -> Decimal:
    """The Swedish VAT rate (per cent) an untouched line plausibly carries."""
    sid = supplier_id.strip().upper()
    if is_public_body(sid) or (_FOREIGN_VAT.match(sid) and not sid.startswith("SE")):
        return Decimal(0)
    if account.startswith(("45", "5", "8")):
        return Decimal(0)
    if account.startswith("644"):
        return Decimal(12)
    if account.startswith(("643", "705")):
        return Decimal(6)
    return Decimal(25)


def vat_at(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def implied_rate(amount: Decimal, vat: Decimal) -> Decimal:
    return vat / amount * 100


def is_off_rate(amount: Decimal, vat: Decimal, margin: Decimal = Decimal(1)) -> bool:
    """VAT at least ``margin`` percentage points away from every Swedish rate."""
    if amount == 0:
        return vat != 0
    r = implied_rate(amount, vat)
    return all(abs(r - legal) >= margin for legal in LEGAL_VAT_RATES)


# --- planting --------------------------------------------------------------------------


@dataclass
class Planting:
    """A planted copy of the real file and the truth of each of its lines."""

    variant: str
    seed: int
    per_family: int
    real_file: Path
    lines: list[Line]
    eligible: dict[str, int] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        year, month = file_period(self.real_file)
        if self.variant == "mapped":
            return self.real_file.name
        return f"leverantorsreskontra_{year:04d}-{month:02d}.csv"

    @property
    def families(self) -> tuple[str, ...]:
        return FAMILIES if self.variant == "spec" else LINE_FAMILIES

    def source_line(self, index: int) -> int:
        """The line in the written file (the header is line 1)."""
        return index + 2

    def truth(self) -> dict[int, str | None]:
        return {self.source_line(i): ln.family for i, ln in enumerate(self.lines)}

    def originals(self) -> dict[int, int]:
        """A planted copy's line -> its original's line."""
        return {
            self.source_line(i): self.source_line(ln.origin)
            for i, ln in enumerate(self.lines)
            if ln.copy_group
        }

    def partners(self) -> set[int]:
        return {self.source_line(i) for i, ln in enumerate(self.lines) if ln.partner}

    def planted_counts(self) -> dict[str, int]:
        c = Counter(ln.family for ln in self.lines if ln.family)
        return {f: c.get(f, 0) for f in self.families}


def _rng(seed: int, what: str) -> random.Random:
    return random.Random(f"{seed}:{what}")


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _mutate_account(account: str, rng: random.Random) -> str:
    d = list(account)
    kind = rng.choice(["substitute", "transpose", "drop", "double", "new"])
    if kind == "substitute":
        i = rng.randrange(len(d))
        d[i] = rng.choice([c for c in "0123456789" if c != d[i]])
    elif kind == "transpose" and len(d) > 1:
        i = rng.randrange(len(d) - 1)
        d[i], d[i + 1] = d[i + 1], d[i]
    elif kind == "drop" and len(d) > 1:
        del d[rng.randrange(len(d))]
    elif kind == "double":
        i = rng.randrange(len(d))
        d.insert(i, d[i])
    else:
        return str(rng.randint(10_000, 99_999))
    return "".join(d)


def unknown_account(
    account: str, rng: random.Random, rules: AccountRules, used: Collection[str]
) -> str:
    """A plausible account number that no mapping rule matches and the file does not use."""
    for _ in range(500):
        cand = _mutate_account(account, rng)
        if (
            cand != account
            and cand[0] != "0"
            and 4 <= len(cand) <= 6
            and rules.match(cand) is None
            and cand not in used
        ):
            return cand
    for _ in range(10_000):
        cand = str(rng.randint(10_000, 99_999))
        if rules.match(cand) is None and cand not in used:
            return cand
    raise SpendkollError("the mapping rules match every account number")


def invalid_orgnr(valid: str, rng: random.Random) -> str:
    """A mis-keyed copy of a valid org number that fails the check (or is malformed);
    the third digit stays >= 2 so it never reads as a personnummer."""
    hyphen = "-" in valid
    digits = valid.replace("-", "")
    for _ in range(200):
        d = list(digits)
        kind = rng.choice(["check_digit", "substitute", "transpose", "drop", "double"])
        if kind == "check_digit":
            d[9] = rng.choice([c for c in "0123456789" if c != d[9]])
        elif kind == "substitute":
            i = rng.randrange(3, 10)
            d[i] = rng.choice([c for c in "0123456789" if c != d[i]])
        elif kind == "transpose":
            i = rng.randrange(3, 9)
            d[i], d[i + 1] = d[i + 1], d[i]
        elif kind == "drop":
            del d[rng.randrange(3, 10)]
        else:
            i = rng.randrange(3, 10)
            d.insert(i, d[i])
        out = "".join(d)
        if len(out) == 10 and se_orgnr.is_valid(out):
            continue
        if int(out[2]) < 2:
            continue
        return f"{out[:6]}-{out[6:]}" if hyphen else out
    raise SpendkollError(f"could not make {valid} invalid")


def investment_amount(rng: random.Random) -> Decimal:
    low, high = INVESTMENT_AMOUNT_RANGE
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    kind = rng.choice(["thousands", "kronor", "ore"])
    if kind == "thousands":
        amount = Decimal(round(value / 1000) * 1000)
    elif kind == "kronor":
        amount = Decimal(round(value))
    else:
        amount = Decimal(str(round(value, 2)))
    return min(max(amount, Decimal(low)), Decimal(high)).quantize(CENT)


def off_rate_vat(amount: Decimal, legal_rate: Decimal, rng: random.Random) -> tuple[Decimal, str]:
    """VAT a real mistake gives, at least 1 percentage point from every Swedish rate."""
    for _ in range(500):
        kind = rng.choice(["foreign_rate", "on_gross", "gross_as_net", "digit_slip", "random"])
        if kind == "foreign_rate":
            rate = Decimal(rng.choice([17, 19, 20, 21, 22, 24, 27]))
        elif kind == "on_gross":
            rate = legal_rate * (1 + legal_rate / 100)
        elif kind == "gross_as_net":
            rate = legal_rate / (1 + legal_rate / 100)
        elif kind == "digit_slip":
            rate = legal_rate * Decimal(rng.choice(["10", "0.1"]))
        else:
            rate = Decimal(str(round(rng.uniform(1, 40), 2)))
        vat = vat_at(amount, rate)
        if is_off_rate(amount, vat):
            return vat, f"{kind} {implied_rate(amount, vat):.2f} %"
    raise SpendkollError(f"no off-rate VAT found for amount {amount}")


def _new_invoice_number(number: str, rng: random.Random, taken: set[str]) -> str:
    for _ in range(1000):
        if number.isdigit():
            cand = str(int(number) + rng.choice([-1, 1]) * rng.randint(1, 2000))
            cand = cand.zfill(len(number))
        else:
            cand = f"{number}-{rng.randint(1, 99)}"
        if cand not in taken and cand != number and not cand.startswith("-"):
            return cand
    raise SpendkollError(f"no new invoice number near {number}")


class _Planter:
    def __init__(
        self, real: list[Line], seed: int, per_family: int, rules: AccountRules, year: int
    ) -> None:
        self.lines = real
        # eligibility is decided on the real lines as published, not on earlier plantings
        self.orig = [dataclasses.replace(ln) for ln in real]
        self.seed = seed
        self.n = per_family
        self.rules = rules
        self.year = year
        self.used: set[int] = set()
        self.eligible: dict[str, int] = {}
        self.accounts_used = {ln.account for ln in real}
        self.konto_use = Counter(ln.konto for ln in real)
        by_supplier: dict[str, list[int]] = defaultdict(list)
        for i, ln in enumerate(real):
            by_supplier[supplier_identity(ln.supplier_id, ln.supplier_name)].append(i)
        self.supplier_lines = by_supplier
        self.supplier_categories: dict[str, Counter[str]] = {
            s: Counter(rules.category(real[i].account) or "" for i in idx)
            for s, idx in by_supplier.items()
        }
        public_use: Counter[str] = Counter()
        for ln in real:
            if is_public_body(ln.supplier_id):
                public_use[ln.konto] += 1
        self.public_share = {k: public_use[k] / n for k, n in self.konto_use.items()}
        self.invoices: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, ln in enumerate(real):
            self.invoices[ln.invoice_key].append(i)
        bodies = {
            (ln.supplier_name, ln.supplier_id.strip())
            for ln in real
            if is_public_body(ln.supplier_id)
        }
        bodies |= {b for b in PUBLIC_BODIES if is_public_body(b[1])}
        self.public_bodies = sorted(bodies)
        self.copies: list[Line] = []

    # helpers
    def _sample(self, family: str, eligible: list[int], rng: random.Random) -> list[int]:
        free = [i for i in eligible if i not in self.used]
        self.eligible[family] = len(eligible)
        picks = rng.sample(free, min(self.n, len(free)))
        self.used.update(picks)
        return picks

    def _addressable(self, account: str) -> bool:
        return self.rules.spend_class(account) == "addressable"

    def _usual_category(self, supplier: str) -> str:
        counts = self.supplier_categories[supplier]
        return max(sorted(counts), key=lambda c: counts[c])

    # families
    def category_deviation(self, rng: random.Random) -> None:
        eligible = [
            i
            for i, ln in enumerate(self.orig)
            if len(self.supplier_lines[supplier_identity(ln.supplier_id, ln.supplier_name)])
            >= USUAL_CATEGORY_MIN_LINES
        ]
        pool = [
            (k, n, self.rules.category(account_of(k))) for k, n in sorted(self.konto_use.items())
        ]
        for i in self._sample("category_deviation", eligible, rng):
            ln = self.lines[i]
            usual = self._usual_category(supplier_identity(ln.supplier_id, ln.supplier_name))
            own = self.rules.category(ln.account)
            options = [(k, n) for k, n, cat in pool if cat and cat not in (own, usual)]
            new = _weighted(rng, options)
            ln.touch("category_deviation", f"{ln.konto} -> {new}")
            ln.konto = new

    def unknown_account(self, rng: random.Random) -> None:
        for i in self._sample("unknown_account", list(range(len(self.lines))), rng):
            ln = self.lines[i]
            new = unknown_account(ln.account, rng, self.rules, self.accounts_used)
            ln.touch("unknown_account", f"account {ln.account} -> {new}")
            ln.konto = new

    def invalid_supplier_id(self, rng: random.Random) -> None:
        eligible = [i for i, ln in enumerate(self.orig) if valid_orgnr(ln.supplier_id)]
        for i in self._sample("invalid_supplier_id", eligible, rng):
            ln = self.lines[i]
            new = invalid_orgnr(ln.supplier_id.strip(), rng)
            ln.touch("invalid_supplier_id", f"org number {ln.supplier_id.strip()} -> {new}")
            ln.supplier_id = new

    def investment_as_operating(self, rng: random.Random) -> None:
        eligible = [i for i, ln in enumerate(self.orig) if self._addressable(ln.account)]
        for i in self._sample("investment_as_operating", eligible, rng):
            ln = self.lines[i]
            new = investment_amount(rng)
            ln.touch("investment_as_operating", f"amount {ln.amount} -> {new} on {ln.account}")
            ln.amount, ln.amount_text = new, None

    def operating_as_investment(self, rng: random.Random) -> None:
        limit = HALF_PRICE_BASE_AMOUNT.get(self.year, HALF_PRICE_BASE_AMOUNT[2016])
        eligible = [
            i
            for i, ln in enumerate(self.orig)
            if self._addressable(ln.account) and 0 < ln.amount < limit
        ]
        investment = [
            (k, n)
            for k, n in sorted(self.konto_use.items())
            if self.rules.spend_class(account_of(k)) == "investment"
        ]
        if not investment:  # nowhere to move a line to: nothing planted
            self.eligible["operating_as_investment"] = 0
            return
        for i in self._sample("operating_as_investment", eligible, rng):
            ln = self.lines[i]
            new = _weighted(rng, investment)
            ln.touch("operating_as_investment", f"{ln.konto} -> {new} (amount {ln.amount})")
            ln.konto = new

    def public_supplier_external_account(self, rng: random.Random) -> None:
        eligible = [
            i
            for i, ln in enumerate(self.orig)
            if self._addressable(ln.account)
            and self.public_share[ln.konto] <= 0.5
            and not is_public_body(ln.supplier_id)
        ]
        for i in self._sample("public_supplier_external_account", eligible, rng):
            ln = self.lines[i]
            name, sid = rng.choice(self.public_bodies)
            ln.touch(
                "public_supplier_external_account",
                f"supplier {ln.supplier_id.strip()} -> {sid} {name.strip()} on {ln.account}",
            )
            ln.supplier_name, ln.supplier_id = name, sid

    def _copy_invoices(self, family: str, rng: random.Random, new_number: bool) -> None:
        eligible = list(range(len(self.lines)))
        self.eligible[family] = len(eligible)
        taken_numbers = {ln.invoice_number for ln in self.lines}
        keys = [ln.invoice_key for ln in self.lines]
        planted = 0
        while planted < self.n:
            blocked = {keys[j] for j in self.used}
            free = [
                i
                for i in eligible
                if keys[i] not in blocked and len(self.invoices[keys[i]]) <= self.n - planted
            ]
            if not free:
                break
            pick = rng.choice(free)
            members = self.invoices[keys[pick]]
            planted += len(members)
            group = len({c.copy_group for c in self.copies}) + 1
            original_date = self.lines[pick].posting_date
            assert original_date is not None
            if new_number:
                shift = rng.choice([-1, 1]) * rng.randint(1, 20)
                number = _new_invoice_number(self.lines[pick].invoice_number, rng, taken_numbers)
                taken_numbers.add(number)
            else:
                shift = rng.randint(1, 30)
                number = self.lines[pick].invoice_number
            for j in members:
                orig = self.lines[j]
                orig.partner = True
                self.used.add(j)
                copy = Line(
                    cost_centre=orig.cost_centre,
                    supplier_name=orig.supplier_name,
                    supplier_id=orig.supplier_id,
                    invoice_number=number,
                    konto=orig.konto,
                    amount=orig.amount,
                    origin=j,
                    family=family,
                    copy_group=group,
                    posting_date=original_date + timedelta(days=shift),
                    detail=f"copy of line {j + 2} ({orig.invoice_number}, "
                    f"{original_date}) as {number}, {shift:+d} days",
                )
                self.copies.append(copy)

    def duplicate_invoice(self, rng: random.Random) -> None:
        self._copy_invoices("duplicate_invoice", rng, new_number=False)

    def near_duplicate(self, rng: random.Random) -> None:
        self._copy_invoices("near_duplicate", rng, new_number=True)

    def vat_off_rate(self, rng: random.Random) -> None:
        def rate(ln: Line) -> Decimal:
            return plausible_vat_rate(ln.account, ln.supplier_id)

        eligible = [
            i for i, ln in enumerate(self.orig) if rate(ln) > 0 and abs(ln.amount) >= VAT_MIN_AMOUNT
        ]
        for i in self._sample("vat_off_rate", eligible, rng):
            ln = self.lines[i]
            vat, how = off_rate_vat(ln.amount, rate(ln), rng)
            ln.touch("vat_off_rate", f"VAT {vat} on {ln.amount} ({how}; plausible {rate(ln)} %)")
            ln.vat = vat


def assign_dates(lines: list[Line], seed: int, year: int, month: int) -> None:
    """One posting date per invoice: a weekday of the month drawn from the seed."""
    rng = _rng(seed, "dates")
    first = date(year, month, 1)
    days = [
        first + timedelta(days=d)
        for d in range(31)
        if (first + timedelta(days=d)).month == month and (first + timedelta(days=d)).weekday() < 5
    ]
    chosen: dict[tuple[str, str], date] = {}
    for ln in lines:
        key = ln.invoice_key
        if key not in chosen:
            chosen[key] = rng.choice(days)
        ln.posting_date = chosen[key]


def assign_vouchers(lines: list[Line]) -> None:
    """One voucher per invoice (and per planted copy), numbered in date order."""
    first_seen: dict[tuple[Any, ...], tuple[date, int]] = {}
    for i, ln in enumerate(lines):
        key = (ln.copy_group, *ln.invoice_key) if ln.copy_group else ln.invoice_key
        assert ln.posting_date is not None
        first_seen.setdefault(key, (ln.posting_date, i))
    order = sorted(first_seen, key=lambda k: first_seen[k])
    numbers = {k: str(n) for n, k in enumerate(order, start=1)}
    for ln in lines:
        key = (ln.copy_group, *ln.invoice_key) if ln.copy_group else ln.invoice_key
        ln.voucher = numbers[key]


def plant(
    real_file: Path,
    variant: str,
    seed: int,
    per_family: int = 40,
    rules: AccountRules | None = None,
    real: list[Line] | None = None,
) -> Planting:
    """Plant ``per_family`` mis-codings of each family into a copy of the real file."""
    if variant not in VARIANTS:
        raise ConfigError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}")
    rules = rules or load_account_rules()
    year, month = file_period(real_file)
    lines = [
        Line(**{**ln.__dict__, "raw": list(ln.raw) if ln.raw else None})
        for ln in (real if real is not None else read_real_file(real_file))
    ]
    if variant == "spec":
        assign_dates(lines, seed, year, month)
    planter = _Planter(lines, seed, per_family, rules, year)
    # The line families first, in a fixed order and each from its own seeded
    # generator: both variants plant them on the same lines.
    for family in LINE_FAMILIES:
        getattr(planter, family)(_rng(seed, family))
    if variant == "spec":
        for family in INVOICE_FAMILIES + VAT_FAMILIES:
            getattr(planter, family)(_rng(seed, family))
        lines.extend(planter.copies)
        for ln in lines:
            if ln.vat is None:
                ln.vat = vat_at(ln.amount, plausible_vat_rate(ln.account, ln.supplier_id))
        assign_vouchers(lines)
    return Planting(variant, seed, per_family, real_file, lines, dict(planter.eligible))


def _amount_text(amount: Decimal, decimal_sign: str) -> str:
    return f"{amount:.2f}".replace(".", decimal_sign)


def write_planted(planting: Planting, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / planting.file_name
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        if planting.variant == "mapped":
            w.writerow(MAPPED_HEADER)
            for ln in planting.lines:
                w.writerow(
                    ln.raw
                    if ln.raw is not None
                    else [
                        ln.cost_centre,
                        ln.supplier_name,
                        ln.supplier_id,
                        ln.invoice_number,
                        ln.konto,
                        ln.amount_text or _amount_text(ln.amount, "."),
                    ]
                )
        else:
            w.writerow(SPEC_HEADER)
            for ln in planting.lines:
                assert ln.posting_date and ln.voucher and ln.vat is not None
                w.writerow(
                    [
                        BUYER_ID,
                        BUYER_NAME,
                        ln.voucher,
                        ln.supplier_name,
                        ln.supplier_id,
                        ln.account,
                        ln.account_text,
                        ln.posting_date.isoformat(),
                        ln.cost_centre,
                        ln.invoice_number,
                        _amount_text(ln.amount, ","),
                        "",
                        "",
                        BUYER_MUNICIPALITY_CODE,
                        "",
                        _amount_text(ln.vat, ","),
                    ]
                )
    return path


# --- scoring ---------------------------------------------------------------------------


@dataclass
class FamilyScore:
    family: str
    eligible: int
    planted: int
    caught: int
    by_rule: dict[str, int]  # rule -> planted lines of the family it flags
    on_list: int | None = None  # planted lines with on_list in marts.dq_accounting_list

    @property
    def recall(self) -> float | None:
        return self.caught / self.planted if self.planted else None

    @property
    def recall_on_list(self) -> float | None:
        if self.on_list is None or not self.planted:
            return None
        return self.on_list / self.planted


@dataclass
class Score:
    families: dict[str, FamilyScore]
    untouched: int
    untouched_by_rule: dict[str, int]
    untouched_by_severity: dict[str, int]
    untouched_listed: int  # flagged by any warning or blocking rule
    rule_severity: dict[str, str]
    partners: int = 0
    partners_listed: int = 0
    untouched_on_list: int | None = None  # marts.dq_accounting_list, when it exists

    @property
    def planted(self) -> int:
        return sum(f.planted for f in self.families.values())

    @property
    def caught(self) -> int:
        return sum(f.caught for f in self.families.values())

    @property
    def recall(self) -> float | None:
        return self.caught / self.planted if self.planted else None

    @property
    def list_share(self) -> float:
        return self.untouched_listed / self.untouched if self.untouched else 0.0

    def rule_share(self, rule: str) -> float:
        return self.untouched_by_rule.get(rule, 0) / self.untouched if self.untouched else 0.0

    @property
    def on_list_share(self) -> float | None:
        if self.untouched_on_list is None:
            return None
        return self.untouched_on_list / self.untouched if self.untouched else 0.0

    @property
    def recall_on_list(self) -> float | None:
        hits = [f.on_list for f in self.families.values()]
        if any(h is None for h in hits) or not self.planted:
            return None
        return sum(h or 0 for h in hits) / self.planted


def score(
    truth: Mapping[int, str | None],
    flags: Mapping[int, Iterable[tuple[str, str]]],
    partners: Collection[int] = (),
    on_list: Collection[int] | None = None,
    eligible: Mapping[str, int] | None = None,
    families: Iterable[str] | None = None,
    originals: Mapping[int, int] | None = None,
) -> Score:
    """Score the flags of the rules against the truth.

    ``truth`` maps every line of the planted file to its family (``None``:
    untouched); ``flags`` maps lines to their (rule, severity) pairs; lines in
    ``partners`` (originals of planted copies) are neither planted nor untouched.
    ``on_list``, when given, is the set of lines marts.dq_accounting_list puts on
    the list to accounting. ``originals`` maps a planted copy's line to its
    original's: the copy is also caught when a pair rule (PAIR_RULES) flags the
    original."""
    on_list_set = set(on_list) if on_list is not None else None
    fams = list(families) if families is not None else sorted({f for f in truth.values() if f})
    fam_scores = {
        f: FamilyScore(
            f, (eligible or {}).get(f, 0), 0, 0, {}, 0 if on_list_set is not None else None
        )
        for f in fams
    }
    severity: dict[str, str] = {}
    untouched = 0
    by_rule: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    listed = 0
    untouched_on_list = 0
    n_partners = partners_listed = 0
    partner_set = set(partners)
    for line, family in truth.items():
        line_flags = set(flags.get(line, ()))
        for rule, sev in line_flags:
            severity.setdefault(rule, sev)
        severe = any(sev in SEVERE for _, sev in line_flags)
        original = (originals or {}).get(line)
        if family and original is not None and not severe:
            severe = any(
                rule in PAIR_RULES and sev in SEVERE for rule, sev in flags.get(original, ())
            )
        if family:
            fs = fam_scores.setdefault(
                family,
                FamilyScore(
                    family,
                    (eligible or {}).get(family, 0),
                    0,
                    0,
                    {},
                    0 if on_list_set is not None else None,
                ),
            )
            fs.planted += 1
            fs.caught += severe
            for rule in {r for r, _ in line_flags}:
                fs.by_rule[rule] = fs.by_rule.get(rule, 0) + 1
            if on_list_set is not None and line in on_list_set:
                fs.on_list = (fs.on_list or 0) + 1
        elif line in partner_set:
            n_partners += 1
            partners_listed += severe
        else:
            untouched += 1
            listed += severe
            for rule in {r for r, _ in line_flags}:
                by_rule[rule] += 1
            for sev in {s for _, s in line_flags}:
                by_severity[sev] += 1
            if on_list_set is not None and line in on_list_set:
                untouched_on_list += 1
    for fs in fam_scores.values():
        fs.by_rule = dict(sorted(fs.by_rule.items()))
    return Score(
        fam_scores,
        untouched,
        dict(sorted(by_rule.items())),
        dict(sorted(by_severity.items())),
        listed,
        dict(sorted(severity.items())),
        n_partners,
        partners_listed,
        untouched_on_list if on_list_set is not None else None,
    )


def pool(scores: list[Score]) -> Score:
    """The scores of several runs added up (recall and shares over all their lines)."""
    fams: dict[str, FamilyScore] = {}
    severity: dict[str, str] = {}
    by_rule: Counter[str] = Counter()
    by_sev: Counter[str] = Counter()
    on_list_known = all(s.untouched_on_list is not None for s in scores)
    for s in scores:
        severity.update(s.rule_severity)
        by_rule.update(s.untouched_by_rule)
        by_sev.update(s.untouched_by_severity)
        for f, fs in s.families.items():
            acc = fams.setdefault(f, FamilyScore(f, 0, 0, 0, {}, 0 if on_list_known else None))
            acc.eligible = max(acc.eligible, fs.eligible)
            acc.planted += fs.planted
            acc.caught += fs.caught
            for r, n in fs.by_rule.items():
                acc.by_rule[r] = acc.by_rule.get(r, 0) + n
            if on_list_known:
                acc.on_list = (acc.on_list or 0) + (fs.on_list or 0)
    return Score(
        fams,
        sum(s.untouched for s in scores),
        dict(sorted(by_rule.items())),
        dict(sorted(by_sev.items())),
        sum(s.untouched_listed for s in scores),
        dict(sorted(severity.items())),
        sum(s.partners for s in scores),
        sum(s.partners_listed for s in scores),
        sum(s.untouched_on_list or 0 for s in scores) if on_list_known else None,
    )


@dataclass(frozen=True)
class Check:
    name: str
    value: float | None
    target: str
    ok: bool


def target_checks(s: Score) -> list[Check]:
    checks = [
        Check(
            "recall overall",
            s.recall,
            f">= {TARGET_RECALL_OVERALL:.0%}",
            (s.recall or 0) >= TARGET_RECALL_OVERALL,
        )
    ]
    for f in s.families.values():
        if f.planted:
            checks.append(
                Check(
                    f"recall {f.family}",
                    f.recall,
                    f">= {TARGET_RECALL_FAMILY:.0%}",
                    (f.recall or 0) >= TARGET_RECALL_FAMILY,
                )
            )
    checks.append(
        Check(
            "untouched lines on the list to accounting",
            s.list_share,
            f"<= {TARGET_LIST_SHARE:.0%}",
            s.list_share <= TARGET_LIST_SHARE,
        )
    )
    for rule, sev in s.rule_severity.items():
        if sev in SEVERE:
            share = s.rule_share(rule)
            checks.append(
                Check(
                    f"untouched lines flagged by {rule}",
                    share,
                    f"<= {TARGET_RULE_SHARE:.1%}",
                    share <= TARGET_RULE_SHARE,
                )
            )
    if s.on_list_share is not None:
        checks.append(
            Check(
                "untouched lines with on_list (dq_accounting_list)",
                s.on_list_share,
                f"<= {TARGET_LIST_SHARE:.0%}",
                s.on_list_share <= TARGET_LIST_SHARE,
            )
        )
        checks.append(
            Check(
                "recall on on_list (dq_accounting_list)",
                s.recall_on_list,
                f">= {TARGET_RECALL_OVERALL:.0%}",
                (s.recall_on_list or 0) >= TARGET_RECALL_OVERALL,
            )
        )
    return checks


# --- running the pipeline --------------------------------------------------------------


@dataclass
class RunResult:
    variant: str
    seed: int
    per_family: int
    file_name: str
    lines: int
    score: Score
    planted_counts: dict[str, int]
    seconds: dict[str, float]
    dbt_ok: bool
    data_root: Path | None = None  # kept only when the caller gave a work directory
    notes: list[str] = field(default_factory=list)
    planting: Planting | None = None  # kept only when the caller gave a work directory


def _source_config(planting: Planting, root: Path) -> Any:
    from spendkoll.sources import load_sources

    if planting.variant == "mapped":
        path = project_root() / "include" / "sources" / "orebro.toml"
        return load_sources(path)[MAPPED_SOURCE_NAME]
    path = root / "sources.toml"
    path.write_text(SPEC_SOURCE_TOML, encoding="utf-8")
    return load_sources(path)[SPEC_SOURCE_NAME]


def _key() -> bytes:
    value = settings().pseudonym_key
    # a throw-away warehouse: any key of the right length pseudonymises the same way
    return value.encode() if len(value) >= 16 else secrets.token_hex(32).encode()


def run_pipeline(planting: Planting, root: Path) -> tuple[DataDir, dict[str, float], bool, str]:
    """Load the planted file and build the marts (rule set kommun_bas) in ``root``,
    through the same entry points as `spendkoll load` and `spendkoll transform`."""
    from spendkoll.loaders.run import load_source
    from spendkoll.transform.dbt import run_dbt

    data = DataDir(root.resolve()).ensure()
    cfg = _source_config(planting, data.root)
    t = time.perf_counter()
    write_planted(planting, data.landing_for(cfg.name))
    seconds = {"write": time.perf_counter() - t}
    t = time.perf_counter()
    load_source(cfg, data, _key())
    seconds["load"] = time.perf_counter() - t
    t = time.perf_counter()
    proc = run_dbt(["build"], data, rule_set=RULE_SET)
    seconds["transform"] = time.perf_counter() - t
    tail = ((proc.stdout or "") + (proc.stderr or ""))[-4000:]
    return data, seconds, proc.returncode == 0, tail


def read_results(
    data: DataDir, file_name: str
) -> tuple[dict[int, dict[str, Any]], dict[int, list[tuple[str, str]]], set[int] | None]:
    """From the warehouse: the planted file's lines in marts.fct_spend (by line of the
    file), their (rule, severity) flags, and the lines with on_list in
    marts.dq_accounting_list (None when that table does not exist)."""
    from spendkoll.warehouse import reader

    con = reader(data.warehouse)
    try:
        batch = (
            "join staging.stg_loader__batches b on b.batch_id = f.batch_id "
            "and b.file_name = ? and b.status = 'loaded'"
        )
        cols = [
            "account",
            "account_text",
            "amount",
            "vat",
            "invoice_number",
            "posting_date",
            "verification_id",
            "supplier_name",
            "supplier_id_status",
            "supplier_id_raw",
            "cost_centre",
            "category_id",
            "spend_class",
            "ledger_line_id",
        ]
        rows = con.execute(
            f"""
            select f.source_line, f.account, f.account_text, f.amount, f.vat,
                   f.invoice_number, f.posting_date, f.verification_id, f.supplier_name,
                   f.supplier_id_status, r.supplier_id_raw, f.cost_centre, f.category_id,
                   f.spend_class, f.ledger_line_id
            from marts.fct_spend f {batch}
            left join raw.ledger_line r on r.batch_id = f.batch_id
                                       and r.source_line = f.source_line""",
            [file_name],
        ).fetchall()
        loaded = {r[0]: dict(zip(cols, r[1:], strict=True)) for r in rows}
        flags: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for line, rule, sev in con.execute(
            f"""
                select f.source_line, e.rule_id, e.severity
                from marts.dq_invoice_exceptions e
                join marts.fct_spend f on f.ledger_line_id = e.ledger_line_id {batch}""",
            [file_name],
        ).fetchall():
            flags[line].append((rule, sev))
        have = {
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'dq_accounting_list'"
            ).fetchall()
        }
        on_list: set[int] | None = None
        if {"ledger_line_id", "on_list"} <= have:
            on_list = {
                line
                for (line,) in con.execute(
                    f"""
                select distinct f.source_line from marts.dq_accounting_list a
                join marts.fct_spend f on f.ledger_line_id = a.ledger_line_id {batch}
                where a.on_list""",
                    [file_name],
                ).fetchall()
            }
    finally:
        con.close()
    return loaded, dict(flags), on_list


def evaluate_one(
    real_file: Path,
    variant: str,
    seed: int,
    per_family: int = 40,
    work_dir: Path | None = None,
    real: list[Line] | None = None,
    rules: AccountRules | None = None,
) -> RunResult:
    """Plant, load, transform and score one variant for one seed. With ``work_dir``
    the data directory is kept there (``<work_dir>/<variant>-<seed>``); otherwise
    a temporary one is removed afterwards."""
    t0 = time.perf_counter()
    planting = plant(real_file, variant, seed, per_family, rules=rules, real=real)
    plant_seconds = time.perf_counter() - t0
    tmp = None
    if work_dir is None:
        tmp = tempfile.mkdtemp(prefix=f"spendkoll-dq-eval-{variant}-{seed}-")
        root = Path(tmp)
    else:
        root = work_dir / f"{variant}-{seed}"
        if root.exists():
            shutil.rmtree(root)
    try:
        data, seconds, dbt_ok, tail = run_pipeline(planting, root)
        t = time.perf_counter()
        loaded, flags, on_list = read_results(data, planting.file_name)
        truth = planting.truth()
        notes = []
        if not dbt_ok:
            notes.append(
                "dbt build did not pass (a test or model failed); scored on what it built:\n" + tail
            )
        missing = [line for line in truth if line not in loaded]
        if missing:
            notes.append(
                f"{len(missing)} line(s) of the planted file are not in "
                f"marts.fct_spend (e.g. lines {missing[:5]}); they count as not "
                "caught / not flagged"
            )
        s = score(
            truth,
            flags,
            planting.partners(),
            on_list,
            planting.eligible,
            planting.families,
            planting.originals(),
        )
        seconds = {
            "plant": plant_seconds + seconds.pop("write"),
            **seconds,
            "score": time.perf_counter() - t,
            "total": time.perf_counter() - t0,
        }
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    kept = tmp is None
    return RunResult(
        variant,
        seed,
        per_family,
        planting.file_name,
        len(planting.lines),
        s,
        planting.planted_counts(),
        seconds,
        dbt_ok,
        root if kept else None,
        notes,
        planting if kept else None,
    )


def evaluate(
    real_file: Path,
    seeds: Iterable[int],
    variants: Iterable[str] = VARIANTS,
    per_family: int = 40,
    work_dir: Path | None = None,
    progress: Any = None,
) -> list[RunResult]:
    if not real_file.exists():
        raise ConfigError(f"{real_file}: the real Örebro file is not there (give --file)")
    real = read_real_file(real_file)
    rules = load_account_rules()
    results = []
    for variant in variants:
        for seed in seeds:
            r = evaluate_one(real_file, variant, seed, per_family, work_dir, real, rules)
            results.append(r)
            if progress:
                progress(r)
    return results


# --- reporting -------------------------------------------------------------------------

HEADLINE = (
    "These figures are measured on the REAL Örebro kommun file (supplier invoices "
    "March 2016, 68,021 lines, nobody on the team wrote it) with planted "
    "mis-codings of known truth, not on the demo generator's own plantings."
)


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}%}"


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def format_score(s: Score, title: str, runs: list[RunResult] | None = None) -> str:
    out = [title]
    per_family_range: dict[str, str] = {}
    if runs and len(runs) > 1:
        for name in s.families:
            vals = [
                v
                for r in runs
                if name in r.score.families and (v := r.score.families[name].recall) is not None
            ]
            if vals:
                low, high = f"{min(vals):.0%}", f"{max(vals):.0%}"
                per_family_range[name] = low if low == high else f"{low}-{high}"
    out.append(
        f"  {'family':<34}{'eligible':>9}{'planted':>9}{'caught':>8}{'recall':>8}  "
        f"{'target':<11}{'seeds' if per_family_range else '':<10}rules flagging its "
        "planted lines (share)"
    )
    for f in s.families.values():
        if not f.planted:
            continue
        rules = ", ".join(
            f"{r}{'' if s.rule_severity.get(r) in SEVERE else '(info)'} {n / f.planted:.0%}"
            for r, n in sorted(f.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        ok = (f.recall or 0) >= TARGET_RECALL_FAMILY
        out.append(
            f"  {f.family:<34}{f.eligible:>9,}{f.planted:>9,}{f.caught:>8,}"
            f"{_pct(f.recall):>8}  {_mark(ok)} >=90%  "
            f"{per_family_range.get(f.family, ''):<10}{rules or '-'}"
        )
    ok = (s.recall or 0) >= TARGET_RECALL_OVERALL
    out.append(
        f"  {'all families':<34}{'':>9}{s.planted:>9,}{s.caught:>8,}{_pct(s.recall):>8}  "
        f"{_mark(ok)} >=95%"
    )
    out.append(
        f"  untouched real lines: {s.untouched:,}; on the list to accounting "
        f"(any warning/blocking rule): {s.untouched_listed:,} = {_pct(s.list_share, 2)}"
        f"  {_mark(s.list_share <= TARGET_LIST_SHARE)} <=1%"
    )
    if s.partners:
        out.append(
            f"  originals of planted copies (neither planted nor untouched): "
            f"{s.partners:,}, {s.partners_listed:,} of them listed"
        )
    sev = ", ".join(
        f"{k} {v:,} = {_pct(v / s.untouched if s.untouched else 0, 2)}"
        for k, v in s.untouched_by_severity.items()
    )
    out.append(f"  untouched lines flagged per severity: {sev or 'none'}")
    out.append(f"  {'rule':<6}{'severity':<10}{'untouched flagged':>18}{'share':>8}  target")
    for rule, sev in s.rule_severity.items():
        n = s.untouched_by_rule.get(rule, 0)
        share = s.rule_share(rule)
        target = (
            f"{_mark(share <= TARGET_RULE_SHARE)} <=0.5%"
            if sev in SEVERE
            else "(info: not on the list)"
        )
        out.append(f"  {rule:<6}{sev:<10}{n:>18,}{_pct(share, 2):>8}  {target}")
    if s.untouched_on_list is None:
        out.append("  marts.dq_accounting_list: not in this build (on_list not measured)")
    else:
        out.append(
            f"  marts.dq_accounting_list: untouched lines with on_list "
            f"{s.untouched_on_list:,} = {_pct(s.on_list_share, 2)}  "
            f"{_mark((s.on_list_share or 0) <= TARGET_LIST_SHARE)} <=1%; recall on "
            f"on_list {_pct(s.recall_on_list)}  "
            f"{_mark((s.recall_on_list or 0) >= TARGET_RECALL_OVERALL)} >=95%"
        )
        for f in s.families.values():
            if f.planted:
                out.append(
                    f"    {f.family:<34} on_list {f.on_list or 0:>5,} / {f.planted:,} "
                    f"= {_pct(f.recall_on_list)}"
                )
    return "\n".join(out)


def format_run(r: RunResult) -> str:
    secs = ", ".join(f"{k} {v:.1f}s" for k, v in r.seconds.items())
    title = f"== variant {r.variant}, seed {r.seed}: {r.file_name}, {r.lines:,} lines ({secs})"
    text = format_score(r.score, title)
    if r.notes:
        text += "\n" + "\n".join("  NOTE: " + n for n in r.notes)
    return text


def format_eligibility(variants: Iterable[str]) -> str:
    out = [
        "Families and their eligibility (lines drawn uniformly at random among the "
        "eligible ones; never two plantings on one line):"
    ]
    vs = list(variants)
    for f in FAMILIES:
        where = ("spec only: " + SPEC_ONLY[f]) if f in SPEC_ONLY else "both variants"
        if f in SPEC_ONLY and "spec" not in vs:
            where = "not planted: " + SPEC_ONLY[f]
        out.append(f"  {f} [{where}]: {ELIGIBILITY[f]}")
    out.append(
        "  spec variant VAT on untouched lines: 0 % public bodies, foreign suppliers, "
        "grants (45), personnel (5), financial items (8); 12 % food (644); 6 % books "
        "and media (643), travel (705); 25 % otherwise"
    )
    return "\n".join(out)


def summary_checks(results: list[RunResult]) -> dict[str, list[Check]]:
    by_variant: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        by_variant[r.variant].append(r)
    return {v: target_checks(pool([r.score for r in rs])) for v, rs in by_variant.items()}


def format_summary(results: list[RunResult]) -> str:
    by_variant: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        by_variant[r.variant].append(r)
    out = []
    for v, rs in by_variant.items():
        seeds = ",".join(str(r.seed) for r in rs)
        mean_total = sum(r.seconds["total"] for r in rs) / len(rs)
        title = (
            f"== summary, variant {v}, seeds {seeds} (pooled over the seeds; "
            f"{mean_total:.1f}s per run on average)"
        )
        out.append(format_score(pool([r.score for r in rs]), title, rs))
        misses = [c for c in target_checks(pool([r.score for r in rs])) if not c.ok]
        out.append(
            f"  targets: {len(misses)} missed"
            + (
                ": " + "; ".join(f"{c.name} {_pct(c.value, 2)} (target {c.target})" for c in misses)
                if misses
                else ", all met"
            )
        )
    return "\n".join(out)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(type(obj).__name__)


def results_json(results: list[RunResult], real_file: Path) -> str:
    def score_dict(s: Score) -> dict[str, Any]:
        d = asdict(s)
        d["recall"] = s.recall
        d["list_share"] = s.list_share
        d["on_list_share"] = s.on_list_share
        d["recall_on_list"] = s.recall_on_list
        d["untouched_rule_share"] = {r: s.rule_share(r) for r in s.rule_severity}
        for f, fs in s.families.items():
            d["families"][f]["recall"] = fs.recall
        d["targets"] = [asdict(c) for c in target_checks(s)]
        return d

    doc: dict[str, Any] = {
        "measured_on": "real Örebro kommun supplier invoices, March 2016, with planted "
        "mis-codings (not the demo generator)",
        "file": str(real_file),
        "rule_set": RULE_SET,
        "eligibility": ELIGIBILITY,
        "runs": [
            {
                "variant": r.variant,
                "seed": r.seed,
                "per_family": r.per_family,
                "file_name": r.file_name,
                "lines": r.lines,
                "planted_counts": r.planted_counts,
                "seconds": r.seconds,
                "dbt_ok": r.dbt_ok,
                "notes": r.notes,
                "score": score_dict(r.score),
            }
            for r in results
        ],
        "summary": {},
    }
    by_variant: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        by_variant[r.variant].append(r)
    for v, rs in by_variant.items():
        doc["summary"][v] = {
            "seeds": [r.seed for r in rs],
            "score": score_dict(pool([r.score for r in rs])),
        }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=_jsonable)
