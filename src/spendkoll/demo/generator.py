"""A deterministic demo region, calibrated to the 2017 review of Region Jämtland Härjedalen.

Targets (the review's published figures): about 94 % of suppliers behind 20 % of
spend; about 79 % of invoices under SEK 10,000; supplier loyalty near 90 %;
about 5 % of spend through e-commerce; 400-500 contracts.

How the calibration works (worked out before the code, see docs/demo-region.md):

* 6 % of suppliers are "major": they share 80 % of spend and 30 % of invoices;
  the other 94 % share 20 % of spend and 70 % of invoices.
* Invoice amounts are lognormal with sigma 2 around a supplier mean; the mean
  invoice is SEK 20,000 whatever the size, so the small-invoice share does not
  depend on ``lines``: expected 0.7 * 0.90 + 0.3 * 0.56 = 0.80.
* The largest suppliers get contracts until about 95 % of addressable spend is
  covered; contracts that end or start inside the two years bring loyalty
  down to about 90 %.
* E-commerce orders are drawn from catalogue categories (consumables, office,
  food) at the rate that gives about 5 % of all spend.

Written to the landing zone in the real formats: the ledger as the canonical
CSV (one file a month), the contract register as XLSX (an e-Avrop-like export),
e-commerce orders as CP1252 CSV with decimal comma (Raindance-like).  The
planted mis-codings are listed in a separate answer file, outside the landing
zone.  The ledger is written a month at a time, so memory stays bounded at any
``lines``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from spendkoll.demo.chart_of_accounts import (
    ACCOUNTS,
    BY_NUMBER,
    COST_CENTRES_PER_UNIT,
    ORG_UNITS,
    SECONDARY,
    SUPPLIER_MIX,
)
from spendkoll.demo.register import RegisterActivity, write_register
from spendkoll.ids import LEGAL_FORMS, luhn_ok

MEAN_INVOICE = 20_000.0
SIGMA = 2.0
MAJOR_SHARE = 0.06
MAJOR_SPEND = 0.80
MAJOR_INVOICES = 0.30
LOYALTY_COVER = 0.95
ECOMMERCE_SHARE = 0.05
INVESTMENT_MIN_SEK = 28_650  # half the 2024 price base amount (prisbasbelopp 57,300)
MISCODED_SHARE = 0.004
LEDGER_COLUMNS = (
    "verification_id",
    "line_number",
    "posting_date",
    "invoice_date",
    "invoice_number",
    "supplier_org_number",
    "supplier_name",
    "account",
    "cost_centre",
    "amount_excl_vat",
    "vat",
    "description",
)
WORDS = (
    "Nord",
    "Jämt",
    "Fjäll",
    "Sigma",
    "Medi",
    "Vård",
    "Bygg",
    "Data",
    "Care",
    "Tekno",
    "Frost",
    "Storsjö",
    "Alfa",
    "Norrland",
    "Öst",
    "Väst",
    "Berg",
    "Skog",
    "Lab",
    "Pro",
)
ENDINGS = ("AB", "Sverige AB", "Nordic AB", "& Co HB", "Ekonomisk förening", "Service AB")
FIRST = ("Anna", "Erik", "Maria", "Lars", "Karin", "Per", "Eva", "Johan", "Sara", "Nils")
LAST = ("Andersson", "Berg", "Persson", "Olsson", "Lind", "Holm", "Ek", "Strand", "Nyberg")


@dataclass(frozen=True)
class DemoSpec:
    lines: int = 200_000
    first_year: int = 2024
    years: int = 2
    seed: int = 2017

    @property
    def months(self) -> list[tuple[int, int]]:
        return [(self.first_year + i // 12, i % 12 + 1) for i in range(12 * self.years)]


def _luhn_complete(nine: str) -> str:
    for d in "0123456789":
        if luhn_ok(nine + d):
            return nine + d
    raise AssertionError(nine)


def _orgnr(rng: np.random.Generator, first: str) -> str:
    # Third digit >= 2 makes it an org number, not a personnummer.
    body = (
        first
        + str(rng.integers(0, 10))
        + str(rng.integers(2, 10))
        + "".join(str(d) for d in rng.integers(0, 10, 6))
    )
    full = _luhn_complete(body)
    return f"{full[:6]}-{full[6:]}"


def _valid_cvr(digits: list[int]) -> str:
    """A Danish CVR (VAT) number with a valid mod-11 check from eight drawn digits:
    the last digit is set, and the seventh moved on until one fits (no further
    draws, so the rest of the demo stays as it was)."""
    weights = (2, 7, 6, 5, 4, 3, 2, 1)
    if digits[0] == 0:
        digits[0] = 1
    for step in range(10):
        head = digits[:6] + [(digits[6] + step) % 10]
        rest = sum(w * d for w, d in zip(weights[:7], head, strict=True)) % 11
        last = (11 - rest) % 11
        if last < 10:
            return "".join(str(d) for d in [*head, last])
    raise AssertionError("no CVR check digit fits")  # pragma: no cover


def _personnummer(rng: np.random.Generator) -> str:
    y = int(rng.integers(40, 99))
    m = int(rng.integers(1, 13))
    d = int(rng.integers(1, 29))
    nine = f"{y:02d}{m:02d}{d:02d}" + "".join(str(x) for x in rng.integers(0, 10, 3))
    full = _luhn_complete(nine)
    return f"{full[:6]}-{full[6:]}"


@dataclass
class Suppliers:
    orgnr: np.ndarray  # canonical form as written most of the time
    name: np.ndarray
    kind: np.ndarray  # company | public | sole_trader | foreign | association
    account: np.ndarray
    spend_weight: np.ndarray
    invoice_weight: np.ndarray
    contracted: np.ndarray


def make_suppliers(rng: np.random.Generator, n: int) -> Suppliers:
    acc_numbers = list(SUPPLIER_MIX)
    p = np.array([SUPPLIER_MIX[a] for a in acc_numbers], dtype=float)
    account = rng.choice(acc_numbers, size=n, p=p / p.sum())
    kinds = np.full(n, "company", dtype=object)
    u = rng.random(n)
    kinds[u < 0.07] = "sole_trader"
    kinds[(u >= 0.07) & (u < 0.08)] = "foreign"
    kinds[account == "4990"] = "public"
    kinds[account == "5831"] = "association"
    orgnr = np.empty(n, dtype=object)
    name = np.empty(n, dtype=object)
    for i in range(n):
        k = kinds[i]
        if k == "public":
            orgnr[i] = _orgnr(rng, "2")
            name[i] = (
                f"Region {WORDS[i % len(WORDS)]}land"
                if i % 2
                else f"{WORDS[i % len(WORDS)]}s kommun"
            )
        elif k == "sole_trader":
            orgnr[i] = _personnummer(rng)
            name[i] = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]} Konsult"
        elif k == "foreign":
            orgnr[i] = "DK" + _valid_cvr([int(d) for d in rng.integers(0, 10, 8)])
            name[i] = f"{WORDS[i % len(WORDS)]}med ApS"
        elif k == "association":
            orgnr[i] = _orgnr(rng, "8")
            name[i] = f"Föreningen {WORDS[i % len(WORDS)]}{LAST[i % len(LAST)].lower()}"
        else:
            first = rng.choice(["5", "5", "5", "5", "7", "9"])
            orgnr[i] = _orgnr(rng, str(first))
            ending = ENDINGS[int(rng.integers(0, len(ENDINGS)))]
            if first == "7":
                ending = "Ekonomisk förening"
            elif first == "9":
                ending = "& Co HB"
            name[i] = f"{WORDS[i % len(WORDS)]}{WORDS[(i // 20) % len(WORDS)].lower()} {ending}"
    n_major = max(1, round(MAJOR_SHARE * n))
    order = rng.permutation(n)
    # Associations (grants) and sole traders are never among the major suppliers.
    eligible = [i for i in order if kinds[i] in ("company", "public")]
    major = np.zeros(n, dtype=bool)
    major[eligible[:n_major]] = True
    spend_w = rng.lognormal(0.0, 1.0, n)
    spend_w[major] *= MAJOR_SPEND / spend_w[major].sum()
    spend_w[~major] *= (1 - MAJOR_SPEND) / spend_w[~major].sum()
    inv_w = spend_w**0.6
    inv_w[major] *= MAJOR_INVOICES / inv_w[major].sum()
    inv_w[~major] *= (1 - MAJOR_INVOICES) / inv_w[~major].sum()
    # Contracts for the largest addressable suppliers until LOYALTY_COVER of their spend.
    addressable = np.array([BY_NUMBER[a].spend_class == "addressable" for a in account])
    contracted = np.zeros(n, dtype=bool)
    idx = [i for i in np.argsort(-spend_w) if addressable[i]]
    total = spend_w[addressable].sum()
    covered = 0.0
    for i in idx:
        if covered >= LOYALTY_COVER * total:
            break
        contracted[i] = True
        covered += spend_w[i]
    return Suppliers(orgnr, name, kinds, account, spend_w, inv_w, contracted)


def _variant(orgnr: str, r: float) -> str:
    """The same supplier id written as real exports do: no hyphen, 12 digits, VAT form."""
    if orgnr[:2].isalpha() or r > 0.12:
        return orgnr
    digits = orgnr.replace("-", "")
    if r < 0.04:
        return digits
    if r < 0.08 and int(digits[2]) >= 2:
        return "16" + digits
    if int(digits[2]) >= 2:
        return f"SE{digits}01"
    return digits


def make_contracts(
    rng: np.random.Generator, sup: Suppliers, spec: DemoSpec, n_target: int
) -> list[dict[str, object]]:
    """Contract register rows: one row per contract and supplier.

    Large contracted suppliers get contracts of their own; smaller contracted
    suppliers share framework agreements (ramavtal) of their category, as in a
    real register where one agreement lists several suppliers.  Then smaller
    contracts for other suppliers are added until there are ``n_target``
    distinct contract ids.
    """
    start_all = date(spec.first_year, 1, 1)
    end_all = date(spec.first_year + spec.years, 1, 1) - timedelta(days=1)
    span = (end_all - start_all).days
    chosen = sorted(
        (int(i) for i in np.flatnonzero(sup.contracted)), key=lambda i: -sup.spend_weight[i]
    )
    own = chosen[: max(1, n_target * 3 // 5)]
    shared = chosen[len(own) :]
    others = [
        int(i)
        for i in np.flatnonzero(~sup.contracted)
        if BY_NUMBER[sup.account[i]].spend_class == "addressable"
    ]
    rng.shuffle(others)
    rows: list[dict[str, object]] = []
    n = 0

    def add(members: list[int], start: date, years: int) -> None:
        nonlocal n
        n += 1
        end = date(start.year + years, start.month, 1) - timedelta(days=1)
        late = rng.random() < 0.10
        registered = (
            start + timedelta(days=int(rng.integers(30, 200)))
            if late
            else start - timedelta(days=int(rng.integers(5, 60)))
        )
        acc = BY_NUMBER[str(sup.account[members[0]])]
        by_business = len(members) == 1 and rng.random() < 0.15
        latest = (
            date(start.year + years + 2, start.month, 1) - timedelta(days=1)
            if rng.random() < 0.6
            else end
        )
        kind_sv = "direktupphandling" if by_business else "ramavtal"
        for i in members:
            rows.append(
                {
                    "contract_id": f"AVT-{start.year}-{n:04d}",
                    "title": f"{acc.category}: {kind_sv}",
                    "supplier_org_number": sup.orgnr[i],
                    "supplier_name": sup.name[i],
                    "category": acc.category,
                    "start_date": start,
                    "end_date": end,
                    "latest_end_date": latest,
                    "contract_type": "direktupphandling" if by_business else "ramavtal",
                    "procured_by": "Verksamheten" if by_business else "Upphandlingsenheten",
                    "registered_date": registered,
                    "estimated_annual_value": round(
                        float(sum(sup.spend_weight[m] for m in members)) * 1e9, -3
                    ),
                }
            )

    def periods(members: list[int]) -> None:
        r = rng.random()
        if r < 0.90:  # covers the whole demo period
            start = start_all - timedelta(days=int(rng.integers(30, 700)))
            add(members, date(start.year, start.month, 1), 4)
        elif r < 0.95:  # ends inside the period: spend after it is off contract
            start = start_all - timedelta(days=int(rng.integers(400, 900)))
            add(members, date(start.year, start.month, 1), 2)
        else:  # starts inside the period: spend before it is off contract
            mid = start_all + timedelta(days=int(rng.integers(60, span // 2)))
            add(members, date(mid.year, mid.month, 1), 3)

    for i in own:
        periods([i])
    by_category: dict[str, list[int]] = {}
    for i in shared:
        by_category.setdefault(BY_NUMBER[str(sup.account[i])].category, []).append(i)
    group_size = max(2, -(-len(shared) // max(1, n_target - len(own) - 20)))
    for members in by_category.values():
        for g in range(0, len(members), group_size):
            periods(members[g : g + group_size])
    while n < n_target and others:
        i = others.pop()
        start = start_all + timedelta(days=int(rng.integers(-900, span)))
        add([i], date(start.year, start.month, 1), int(rng.integers(1, 5)))
    return rows


def generate(out: Path, answers_dir: Path, spec: DemoSpec = DemoSpec()) -> dict[str, object]:
    """Write the demo region's landing files; return what was written."""
    rng = np.random.default_rng(spec.seed)
    n_sup = int(np.clip(spec.lines // 40, 600, 25_000))
    sup = make_suppliers(rng, n_sup)
    contracts = make_contracts(rng, sup, spec, n_target=int(rng.integers(430, 480)))
    # the supplier register (its own random stream): fed each month's postings
    register = RegisterActivity.for_suppliers(sup, spec.seed)
    cost_centres = np.array(
        [f"{u}{k:02d}" for u, _ in ORG_UNITS for k in range(1, COST_CENTRES_PER_UNIT + 1)],
        dtype=object,
    )
    catalogue = np.array([BY_NUMBER[a].catalogue for a in sup.account])
    cat_spend = sup.spend_weight[catalogue].sum()
    p_ecom = min(0.95, ECOMMERCE_SHARE / cat_spend) if cat_spend else 0.0
    inv_p = sup.invoice_weight / sup.invoice_weight.sum()
    mean_amount = MEAN_INVOICE * sup.spend_weight / sup.invoice_weight  # per supplier
    vat_of = {a.number: a.vat for a in ACCOUNTS}
    addressable_accounts = [a.number for a in ACCOUNTS if a.spend_class == "addressable"]
    id_forms = np.array(
        [[_variant(o, r) for r in (0.5, 0.02, 0.06, 0.10)] for o in sup.orgnr], dtype=object
    )

    def vat_rate_of(accs: np.ndarray) -> np.ndarray:
        return np.array([vat_of[a] for a in accs])

    ledger_dir = out / "ledger"
    ecom_dir = out / "ecommerce"
    contract_dir = out / "contracts"
    for d in (ledger_dir, ecom_dir, contract_dir, answers_dir):
        d.mkdir(parents=True, exist_ok=True)
    answers: list[list[object]] = []
    broken: list[list[object]] = []
    lines_per_month = spec.lines / len(spec.months)
    written = 0
    ecom_orders = 0
    for mi, (year, month) in enumerate(spec.months):
        target = round(lines_per_month * (mi + 1)) - written
        n_inv = max(1, round(target / 1.2))
        k = rng.choice([1, 2, 3], size=n_inv, p=[0.85, 0.10, 0.05])
        # Trim or pad so the month has exactly `target` lines.
        while k.sum() > target and (k > 1).any():
            k[np.flatnonzero(k > 1)[0]] -= 1
        if k.sum() < target:
            k[: target - k.sum()] += 1
        s = rng.choice(n_sup, size=n_inv, p=inv_p)
        amount = mean_amount[s] * rng.lognormal(-(SIGMA**2) / 2, SIGMA, n_inv)
        amount = np.minimum(amount, 40e6)
        credit = rng.random(n_inv) < 0.015
        amount[credit] *= -0.5
        days_in = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
        day = rng.integers(1, days_in + 1, n_inv)
        cc = cost_centres[rng.integers(0, len(cost_centres), n_inv)]
        inv_no = rng.integers(100_000, 99_999_999, n_inv)
        # Expand invoices into lines.
        li = np.repeat(np.arange(n_inv), k)
        starts = np.cumsum(k) - k
        line_no = np.arange(len(li)) - np.repeat(starts, k) + 1
        g = rng.gamma(3.0, 1.0, len(li))
        frac = g / np.bincount(li, weights=g)[li]
        line_amount = np.round(amount[li] * frac, 2)
        # The last line of an invoice takes the rounding remainder.
        inv_total = np.round(amount, 2)
        sums = np.bincount(li, weights=line_amount)
        last = np.cumsum(k) - 1
        line_amount[last] = np.round(line_amount[last] + np.round(inv_total - sums, 2), 2)
        ls = s[li]
        accounts = sup.account[ls].astype(object)
        second = (line_no > 1) | (rng.random(len(li)) < 0.06)
        accounts[second] = [SECONDARY.get(a, a) for a in accounts[second]]
        # Goods are capitalised only from half a price base amount (halvt prisbasbelopp);
        # a smaller secondary line stays on the supplier's operating account.
        small_investment = (
            second
            & (np.abs(line_amount) < INVESTMENT_MIN_SEK)
            & np.array([BY_NUMBER[a].spend_class == "investment" for a in accounts], dtype=bool)
        )
        accounts[small_investment] = sup.account[ls][small_investment]
        vat = np.round(line_amount * vat_rate_of(accounts), 2)
        r = rng.random(len(li))
        form = np.select([r < 0.04, r < 0.08, r < 0.12], [1, 2, 3], 0)
        ids = id_forms[ls, form]
        ids[r > 0.998] = ""  # missing supplier id
        ids[(r > 0.9975) & (r <= 0.998)] = "SAKNAS"
        first_day = np.datetime64(f"{year}-{month:02d}-01")
        posting = (first_day + (day - 1).astype("timedelta64[D]"))[li]
        inv_date = posting - rng.integers(1, 25, n_inv).astype("timedelta64[D]")[li]
        register.observe(ls, posting, ids)
        ver = np.char.add(f"LF{year}{month:02d}-", np.char.zfill((li + 1).astype(str), 6))
        ver = ver.astype(object)
        desc = np.where(credit[li], "Kreditfaktura", "Leverantörsfaktura")

        # Plant mis-codings on a small share of lines (answer file keeps the truth).
        plant = np.flatnonzero(rng.random(len(li)) < MISCODED_SHARE)
        for j in plant:
            kind_r = rng.random()
            correct = accounts[j]
            spend_class = BY_NUMBER[correct].spend_class
            if spend_class == "addressable" and kind_r < 0.55:
                choices = [
                    a
                    for a in addressable_accounts
                    if BY_NUMBER[a].category != BY_NUMBER[correct].category
                ]
                accounts[j] = choices[int(rng.integers(0, len(choices)))]
                kind = "wrong_category"
            elif spend_class == "addressable" and kind_r < 0.70 and abs(line_amount[j]) < 20_000:
                accounts[j] = "1220"
                kind = "operating_as_investment"
            elif spend_class == "investment":
                accounts[j] = "4130"
                line_amount[j] = round(abs(line_amount[j]) + 100_000, 2)
                kind = "investment_as_operating"
            elif spend_class == "internal":
                accounts[j] = "6710"
                kind = "internal_on_external_account"
            elif spend_class == "addressable" or kind_r < 0.3:
                vat[j] = np.round(line_amount[j] * 0.18, 2)
                kind = "vat_rate"
                correct = accounts[j]
            else:
                continue
            answers.append(
                [
                    f"ledger_{year}-{month:02d}.csv",
                    ver[j],
                    int(line_no[j]),
                    kind,
                    accounts[j],
                    correct,
                ]
            )

        # E-commerce orders for catalogue suppliers' invoices.
        ecom_inv = np.flatnonzero(catalogue[s] & (rng.random(n_inv) < p_ecom) & ~credit)
        table = pa.table(
            {
                "verification_id": ver,
                "line_number": line_no,
                "posting_date": posting.astype(str),
                "invoice_date": inv_date.astype(str),
                "invoice_number": inv_no[li].astype(str),
                "supplier_org_number": ids,
                "supplier_name": sup.name[ls],
                "account": accounts,
                "cost_centre": cc[li],
                "amount_excl_vat": line_amount,
                "vat": vat,
                "description": desc,
            }
        )
        # Duplicates: a few invoices booked twice a few days apart.
        dup = np.flatnonzero(rng.random(len(li)) < 0.0005)
        if len(dup):
            extra = table.take(pa.array(dup))
            extra = extra.set_column(
                0,
                "verification_id",
                pa.array([v + "D" for v in extra["verification_id"].to_pylist()]),
            )
            for j in dup:
                answers.append(
                    [
                        f"ledger_{year}-{month:02d}.csv",
                        ver[j] + "D",
                        int(line_no[j]),
                        "duplicate",
                        accounts[j],
                        accounts[j],
                    ]
                )
            table = pa.concat_tables([table, extra])
        ledger_file = ledger_dir / f"ledger_{year}-{month:02d}.csv"
        pacsv.write_csv(
            table, ledger_file, pacsv.WriteOptions(delimiter=";", quoting_style="needed")
        )
        if mi == 4:
            broken.extend(_append_broken_rows(ledger_file, table.num_rows, year, month))
        written += target
        with (ecom_dir / f"ehandel_{year}-{month:02d}.csv").open(
            "w", encoding="cp1252", newline=""
        ) as f:
            w = csv.writer(f, delimiter=";", lineterminator="\r\n")
            w.writerow(
                [
                    "order_id",
                    "order_date",
                    "supplier_org_number",
                    "cost_centre",
                    "amount",
                    "from_catalogue",
                    "invoice_number",
                ]
            )
            for n_o, i in enumerate(ecom_inv, start=1):
                od = max(
                    date(year, month, 1),
                    date(year, month, int(day[i])) - timedelta(days=int(rng.integers(3, 15))),
                )
                w.writerow(
                    [
                        f"EH{year}{month:02d}{n_o:06d}",
                        od.isoformat(),
                        id_forms[s[i], 0],
                        cc[i],
                        f"{inv_total[i]:.2f}".replace(".", ","),
                        "Ja" if rng.random() < 0.85 else "Nej",
                        str(inv_no[i]),
                    ]
                )
                ecom_orders += 1

    _write_contracts(contract_dir / "avtalskatalog.xlsx", contracts)
    register_summary = write_register(out, answers_dir, sup, register, spec)
    with (answers_dir / "miscoded.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(
            ["file", "verification_id", "line_number", "kind", "coded_account", "correct_account"]
        )
        w.writerows(answers)
    with (answers_dir / "quarantine_expected.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["file", "line", "column", "why"])
        w.writerows(broken)
    summary = {
        "lines": spec.lines,
        "suppliers": n_sup,
        "contracts": len({c["contract_id"] for c in contracts}),
        "contract_rows": len(contracts),
        "ecommerce_orders": ecom_orders,
        "planted_miscodings": len(answers),
        "malformed_rows": len(broken),
        "months": len(spec.months),
        "seed": spec.seed,
        "legal_forms": {v: k for k, v in LEGAL_FORMS.items()},
        "register": register_summary,
    }
    (answers_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _append_broken_rows(path: Path, rows: int, year: int, month: int) -> list[list[object]]:
    """Three rows a real export can hold and the loader must quarantine, not load."""
    d = f"{year}-{month:02d}-15"
    lines = [
        (
            f'"LFX-1";1;"{year}-{month:02d}-32";"{d}";"1";"556036-0793";"Felaktig AB";'
            '"6410";"HSV01";100.00;25.00;"day 32"',
            "posting_date",
            "no such date",
        ),
        (
            f'"LFX-2";1;"{d}";"{d}";"2";"556036-0793";"Felaktig AB";"6410";"HSV01";'
            '"1.234,5,6";0;"amount"',
            "amount_excl_vat",
            "not an amount",
        ),
        (
            f'"LFX-3";1;"{d}";"{d}";"3";"556036-0793";"Felaktig AB";"6410";"HSV01";10.00;'
            '2.50;"text";"an extra column"',
            "",
            "13 columns, 12 expected",
        ),
    ]
    with path.open("a", encoding="utf-8") as f:
        for text, _, _ in lines:
            f.write(text + "\n")
    # Header is line 1; the appended rows follow the table's rows.
    return [[path.name, rows + 2 + i, col, why] for i, (_, col, why) in enumerate(lines)]


def _write_contracts(path: Path, rows: list[dict[str, object]]) -> None:
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    # Fixed document dates keep the file byte-identical between runs (same checksum).
    wb.properties.created = wb.properties.modified = dt.datetime(2017, 1, 1)
    ws = wb.create_sheet("Avtal")
    header = list(rows[0])
    ws.append(header)
    for r in rows:
        ws.append([r[h] for h in header])
    wb.save(path)
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """Rewrite the workbook with fixed times (zip entries, core.xml): same seed, same bytes."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2017-01-01T00:00:00Z", data
                )
            zout.writestr(
                zipfile.ZipInfo(name, date_time=(2017, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )


# The demo plants payments to suppliers deregistered or declared bankrupt
# (demo/answers/register_planted.csv). Rule DQ15 flags them and by default
# blocks publication until the controller decides; whatever runs on the demo's
# data (make demo, the benchmark) runs DQ15 as a warning instead, and says so.
DEMO_DBT_VARS: dict[str, object] = {"spendkoll_dq_severity_overrides": {"DQ15": "warning"}}


def with_demo_dbt_vars(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the demo's dbt vars merged into ``SPENDKOLL_DBT_VARS``."""
    import json

    current = json.loads(env.get("SPENDKOLL_DBT_VARS") or "{}")
    env["SPENDKOLL_DBT_VARS"] = json.dumps({**current, **DEMO_DBT_VARS}, sort_keys=True)
    return env
