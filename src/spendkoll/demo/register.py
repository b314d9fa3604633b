"""The demo region's supplier register: Bolagsverket's and SCB's bulk files and a
size-class file for its suppliers, in the publishers' layouts (see
:mod:`spendkoll.loaders.register` and docs/sources-and-formats.md).

Written to the landing zone:

* ``register_bolagsverket/bolagsverket_bulkfil.txt``: UTF-8, ``;``, every field in
  double quotes, the published header; companies and sole traders (identity
  ``PERSON-IDORG``, legal form ``E``), not the public bodies, associations and
  foreign suppliers Bolagsverket does not register;
* ``register_scb/scb_bulkfil_JE_<snapshot date>T060512_01.txt``: ISO-8859-1, TAB,
  CRLF, the 34 published columns and a trailing TAB, every Swedish supplier
  (sole traders with their personnummer as PeOrgNr and JurForm 10);
* ``register_size/storleksklasser.csv``: ``organisationsnummer;storleksklass``
  for most suppliers (the rest have no known size).

Filler rows for companies the region never buys from make the files look like
extracts of the real ones. Planted, for the rules' tests, and listed in
``<answers>/register_planted.csv``: suppliers deregistered (bankruptcy KKAV,
liquidation KKAV/LIAV, merger FUAV) before some of their posting dates, one
deregistered after its last posting (must not fire), bankruptcy and liquidation
in progress, companies registered shortly (< 90 days) before their first
invoice and one 120 days before (must not fire), an industry that does not fit
the category, a sole trader with two registrations, and suppliers missing from
the register. Sole traders are listed by their pseudonym when
``SPENDKOLL_PSEUDONYM_KEY`` is set while generating (empty otherwise: their org
number is a personnummer, never written to the answers).

Deterministic: its own random stream (the ledger's is untouched), fixed dates
and names, no clock.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spendkoll.demo.chart_of_accounts import BY_NUMBER
from spendkoll.ids import classify_supplier_id, luhn_ok
from spendkoll.loaders.register import BOLAGSVERKET_HEADER, SCB_HEADER

if TYPE_CHECKING:
    from spendkoll.demo.generator import DemoSpec, Suppliers

BOLAGSVERKET_DIR = "register_bolagsverket"
SCB_DIR = "register_scb"
SIZE_DIR = "register_size"
ANSWERS_FILE = "register_planted.csv"
ANSWER_COLUMNS = (
    "planted",
    "supplier_key",
    "org_number",
    "supplier_name",
    "registration_date",
    "deregistration_date",
    "deregistration_reason",
    "procedure",
    "sni",
    "category",
    "first_posting",
    "last_posting",
    "lines_after_event",
    "note",
)
# The published layouts are the loader's (checked against the fixtures written from
# the publishers' descriptions: test_the_headers_are_the_published_ones).
SCB_COLUMNS = list(SCB_HEADER)
EPOCH = date(1970, 1, 1)
NEVER = np.iinfo(np.int64).max

# SNI 2007 codes (five digits) by the account a supplier mostly sells on, with the
# activity text the description is made of.
SNI_BY_ACCOUNT: dict[str, tuple[tuple[str, str], ...]] = {
    "4010": (("46460", "partihandel med medicinsk utrustning och apoteksvaror"),),
    "4110": (
        ("46460", "partihandel med medicinsk utrustning och apoteksvaror"),
        ("32501", "tillverkning av medicinska och dentala instrument"),
    ),
    "4120": (("32501", "tillverkning av medicinska och dentala instrument"),),
    "4130": (
        ("46690", "partihandel med maskiner och utrustning"),
        ("33130", "reparation av elektronisk och optisk utrustning"),
    ),
    "4210": (
        ("86211", "allmän öppen hälso- och sjukvård"),
        ("86101", "sluten sjukhusvård"),
    ),
    "4310": (("78200", "personaluthyrning inom vården"),),
    "6110": (("68203", "uthyrning av lokaler"),),
    "6150": (
        ("43210", "elinstallationer"),
        ("43221", "värme- och sanitetsarbeten"),
        ("41200", "byggande av hus"),
        ("81210", "lokalvård"),
    ),
    "6210": (("35300", "försörjning av värme och kyla"), ("35110", "generering av el")),
    "6310": (
        ("46390", "partihandel med livsmedel"),
        ("10710", "tillverkning av bröd och bakverk"),
    ),
    "6410": (
        ("46660", "partihandel med kontorsutrustning"),
        ("18120", "tryckning"),
    ),
    "6510": (("62010", "dataprogrammering"), ("62020", "datakonsultverksamhet")),
    "6520": (("61100", "trådbunden telekommunikation"), ("61200", "trådlös telekommunikation")),
    "6610": (("49410", "vägtransport av gods"), ("53202", "bud- och kurirverksamhet")),
    "6620": (("79110", "resebyråverksamhet"), ("49320", "taxitrafik")),
    "6710": (
        ("70220", "konsultverksamhet avseende företags organisation"),
        ("71121", "teknisk konsultverksamhet inom bygg"),
    ),
    "5831": (("94990", "föreningsverksamhet"), ("93120", "idrottsföreningars verksamhet")),
    "7690": (("85591", "personalutbildning"),),
    "8410": (("64190", "bankverksamhet"),),
    "4990": (("84110", "offentlig förvaltning"),),
    "1230": (("46460", "partihandel med medicinsk utrustning och apoteksvaror"),),
    "1110": (("41200", "byggande av hus"), ("42990", "anläggningsarbeten")),
}
FILLER_SNI = (
    ("47110", "detaljhandel med livsmedel"),
    ("56100", "restaurangverksamhet"),
    ("01110", "odling av spannmål"),
    ("02100", "skogsförvaltning"),
    ("45200", "underhåll och reparation av motorfordon"),
    ("68204", "förvaltning av fastigheter"),
    ("96021", "hårvård"),
    ("55101", "hotellverksamhet"),
    ("43320", "byggnadssnickeriarbeten"),
    ("62020", "datakonsultverksamhet"),
)
MISFIT_SNI = ("56100", "restaurangverksamhet")
# (town, postcode prefix); the first five are in the region (Jämtland Härjedalen)
TOWNS = (
    ("ÖSTERSUND", "831"),
    ("KROKOM", "835"),
    ("STRÖMSUND", "833"),
    ("ÅRE", "837"),
    ("SVEG", "842"),
    ("STOCKHOLM", "114"),
    ("GÖTEBORG", "411"),
    ("MALMÖ", "211"),
    ("UPPSALA", "753"),
    ("SUNDSVALL", "852"),
    ("UMEÅ", "903"),
    ("LULEÅ", "972"),
)
STREETS = ("Storgatan", "Kyrkgatan", "Industrivägen", "Prästgatan", "Rådhusgatan", "Box")
FIRST = ("Anna", "Erik", "Maria", "Lars", "Karin", "Per", "Eva", "Johan", "Sara", "Nils")
LAST = ("Andersson", "Berg", "Persson", "Olsson", "Lind", "Holm", "Ek", "Strand", "Nyberg")
FILLER_WORDS = ("Norr", "Syd", "Älv", "Myr", "Hög", "Lugn", "Kraft", "Grön", "Snö", "Ljus")


def _days(d: date) -> int:
    return (d - EPOCH).days


def _date(days: int) -> date:
    return EPOCH + timedelta(days=int(days))


@dataclass
class RegisterActivity:
    """What the ledger's generator tells the register, month by month: each
    supplier's first and last posting date and line count (lines whose supplier
    id is usable), and every posting date of a few watched suppliers."""

    first: np.ndarray
    last: np.ndarray
    lines: np.ndarray
    watched: list[int]
    dates: dict[int, list[np.ndarray]] = field(default_factory=dict)

    @classmethod
    def for_suppliers(cls, sup: Suppliers, seed: int) -> RegisterActivity:
        """Watch companies with steady invoicing (below the largest few), from which
        the deregistered and wound-up suppliers are planted."""
        n = len(sup.orgnr)
        companies = [
            i
            for i in np.argsort(-sup.invoice_weight, kind="stable")
            if sup.kind[i] == "company" and str(sup.orgnr[i]).startswith("5")
        ]
        pool = companies[max(3, len(companies) // 50) :][:60]
        rng = np.random.default_rng(seed + 1017)
        watched = sorted(int(i) for i in rng.permutation(pool)[:16])
        return cls(
            np.full(n, NEVER, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            watched,
            {i: [] for i in watched},
        )

    def observe(self, supplier: np.ndarray, posting: np.ndarray, ids: np.ndarray) -> None:
        """One month of ledger lines: supplier index, posting date (datetime64[D]) and
        the supplier id as written ("" or SAKNAS when missing)."""
        usable = (ids != "") & (ids != "SAKNAS")
        s = supplier[usable]
        d = posting.astype("datetime64[D]").astype(np.int64)[usable]
        np.minimum.at(self.first, s, d)
        np.maximum.at(self.last, s, d)
        np.add.at(self.lines, s, 1)
        for i in self.watched:
            hit = d[s == i]
            if len(hit):
                self.dates[i].append(hit)

    def posting_days(self, i: int) -> np.ndarray:
        parts = self.dates.get(i) or [np.zeros(0, dtype=np.int64)]
        return np.sort(np.concatenate(parts))


@dataclass
class _Entry:
    """One unit of the register (a demo supplier or a filler company)."""

    ident: str  # 10 digits (org number) or 12 (personnummer)
    sole_trader: bool
    name: str
    legal_form: str  # Bolagsverket's code; "" when Bolagsverket does not register it
    jurform: str  # SCB's code
    sni: tuple[str, str]
    registered: date
    town: tuple[str, str]
    street: str
    dereg: date | None = None
    reason: str = ""
    procedures: list[tuple[str, date]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # extra name entries (|-separated)
    description: str = ""
    nsl: str = ""
    in_bolagsverket: bool = True
    in_scb: bool = True
    person_name: str = ""  # SCB's Namn for a sole trader (Efternamn, Förnamn)


def _orgnr(rng: np.random.Generator, first: str) -> str:
    nine = first + str(rng.integers(0, 10)) + str(rng.integers(2, 10))
    nine += "".join(str(d) for d in rng.integers(0, 10, 6))
    for d in "0123456789":
        if luhn_ok(nine + d):
            return nine + d
    raise AssertionError(nine)  # pragma: no cover


def _personnummer12(rng: np.random.Generator) -> str:
    y, m, d = int(rng.integers(40, 99)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    nine = f"{y:02d}{m:02d}{d:02d}" + "".join(str(x) for x in rng.integers(0, 10, 3))
    for c in "0123456789":
        if luhn_ok(nine + c):
            return "19" + nine + c
    raise AssertionError(nine)  # pragma: no cover


def _postcode(rng: np.random.Generator, town: tuple[str, str]) -> str:
    return town[1] + f"{int(rng.integers(0, 100)):02d}"


def _pick_town(rng: np.random.Generator, local_share: float = 0.45) -> tuple[str, str]:
    if rng.random() < local_share:
        return TOWNS[int(rng.integers(0, 5))]
    return TOWNS[int(rng.integers(5, len(TOWNS)))]


def _rand_date(rng: np.random.Generator, low: date, high: date) -> date:
    return _date(int(rng.integers(_days(low), _days(high) + 1)))


def _bolagsverket_line(e: _Entry, rng: np.random.Generator) -> str:
    reg = e.registered.isoformat()
    ident = e.ident + ("$PERSON-IDORG" if e.sole_trader else "$ORGNR-IDORG")
    names = [f"{e.name}$FORETAGSNAMN-ORGNAM${reg}", *e.names]
    if e.names and e.names[0].split("$")[1] == "FORNAMN_FRSPRAK-ORGNAM":
        names = [e.names[0], f"{e.name}$FORETAGSNAMN-ORGNAM${reg}", *e.names[1:]]
    procs = "".join(f"|{code}${d.isoformat()}" for code, d in e.procedures)
    postcode = _postcode(rng, e.town)
    co = "c/o Ekonomiavdelningen" if rng.random() < 0.05 else ""
    address = f"{e.street}${co}${e.town[0]}${postcode}$SE-LAND"
    fields = [
        ident,
        e.nsl,
        "SE-LAND",
        "|".join(names),
        f"{e.legal_form}-ORGFO",
        e.dereg.isoformat() if e.dereg else "",
        f"{e.reason}-AVORG" if e.reason else "",
        procs,
        reg,
        e.description,
        address,
    ]
    # every field in double quotes; a quote inside a name is doubled, while the free-text
    # description is written as the real file has it (a stray quote is not doubled)
    quoted = [f.replace('"', '""') if k != 9 else f for k, f in enumerate(fields)]
    return ";".join(f'"{f}"' for f in quoted)


def _scb_line(e: _Entry, rng: np.random.Generator) -> str:
    values = dict.fromkeys(SCB_COLUMNS, "")
    for c in SCB_COLUMNS:
        if c.startswith("m") or c == "ForAndrTyp":
            values[c] = "1"
    active = e.dereg is None
    values |= {
        "Gatuadress": e.street,
        "FtgStat": "1" if active else "9",
        "JEStat": ("2" if e.sole_trader else "1") if active else "9",
        "JurForm": e.jurform,
        "Namn": e.person_name if e.sole_trader else e.name,
        "Foretagsnamn": e.name if e.sole_trader else "",
        "Ng1": e.sni[0],
        "PeOrgNr": e.ident if e.sole_trader else "16" + e.ident,
        "PostNr": _postcode(rng, e.town),
        "PostOrt": e.town[0],
        "RegDatKtid": (e.registered + timedelta(days=int(rng.integers(2, 40)))).strftime("%Y%m%d"),
        "Reklamsparrtyp": "2" if rng.random() < 0.3 else "1",
    }
    if rng.random() < 0.25:
        values["Ng2"] = FILLER_SNI[int(rng.integers(0, len(FILLER_SNI)))][0]
    return "\t".join(values[c] for c in SCB_COLUMNS) + "\t"


def _answer(
    planted: str,
    e: _Entry | None,
    key: str,
    act: RegisterActivity | None = None,
    i: int | None = None,
    event: date | None = None,
    category: str = "",
    note: str = "",
) -> dict[str, str]:
    row = dict.fromkeys(ANSWER_COLUMNS, "")
    row |= {"planted": planted, "supplier_key": key, "note": note, "category": category}
    if e is not None:
        if not e.sole_trader:
            row["org_number"] = f"{e.ident[:6]}-{e.ident[6:]}"
            row["supplier_name"] = e.name
        row |= {
            "registration_date": e.registered.isoformat(),
            "deregistration_date": e.dereg.isoformat() if e.dereg else "",
            "deregistration_reason": e.reason,
            "procedure": "|".join(
                f"{c.split('-')[0]}:{d.isoformat()}" for c, d in e.procedures if "AVOMFO" in c
            ),
            "sni": e.sni[0],
        }
    if act is not None and i is not None and act.lines[i]:
        row["first_posting"] = _date(act.first[i]).isoformat()
        row["last_posting"] = _date(act.last[i]).isoformat()
        if event is not None:
            days = act.posting_days(i)
            row["lines_after_event"] = str(int((days > _days(event)).sum()))
    return row


def write_register(
    landing: Path,
    answers_dir: Path,
    sup: Suppliers,
    act: RegisterActivity,
    spec: DemoSpec,
) -> dict[str, object]:
    """Write the three register files and the planted answers; return their counts."""
    from spendkoll.settings import settings

    rng = np.random.default_rng(spec.seed + 2017)
    secret = settings().pseudonym_key.encode() if settings().pseudonym_key else b""
    start = date(spec.first_year, 1, 1)
    end = date(spec.first_year + spec.years, 1, 1)  # the day after the last posting day
    snapshot = end + timedelta(days=(7 - end.weekday()) % 7)
    n = len(sup.orgnr)

    def key_of(i: int) -> str:
        digits = str(sup.orgnr[i])
        if sup.kind[i] != "sole_trader":
            return digits
        return (classify_supplier_id(digits, secret).key or "") if secret else ""

    # -- the demo's suppliers as register entries
    entries: dict[int, _Entry] = {}
    major = sup.spend_weight >= np.sort(sup.spend_weight)[-max(1, round(0.06 * n))]
    for i in range(n):
        kind = str(sup.kind[i])
        if kind == "foreign":
            continue
        digits = str(sup.orgnr[i]).replace("-", "")
        choices = SNI_BY_ACCOUNT.get(str(sup.account[i]), FILLER_SNI)
        sni = choices[int(rng.integers(0, len(choices)))]
        town = _pick_town(rng)
        street = f"{STREETS[i % len(STREETS)]} {int(rng.integers(1, 80))}"
        registered = _rand_date(rng, date(1965, 1, 1), start - timedelta(days=400))
        if kind == "sole_trader":
            person = f"{LAST[i % len(LAST)]}, {FIRST[i % len(FIRST)]}"
            e = _Entry(
                "19" + digits,
                True,
                str(sup.name[i]),
                "E",
                "10",
                sni,
                registered,
                town,
                street,
                person_name=person,
                description=f"Konsultverksamhet: {sni[1]}.",
            )
        elif kind == "public":
            jur = "84" if str(sup.name[i]).startswith("Region") else "82"
            e = _Entry(
                digits, False, str(sup.name[i]), "", jur, ("84110", ""), registered, town, street
            )
            e.in_bolagsverket = False
        elif kind == "association":
            e = _Entry(digits, False, str(sup.name[i]), "", "61", sni, registered, town, street)
            e.in_bolagsverket = False
        else:
            form, jur = {"5": ("AB", "49"), "7": ("EK", "51"), "9": ("HB", "31")}[digits[0]]
            e = _Entry(digits, False, str(sup.name[i]), form, jur, sni, registered, town, street)
            e.description = f"Bolaget ska bedriva {sni[1]} samt därmed förenlig verksamhet."
            if rng.random() < 0.08:
                e.names.append(
                    f"{str(sup.name[i]).split()[0]} Service$SARS_FORNAMN-ORGNAM$"
                    f"{(registered + timedelta(days=400)).isoformat()}${sni[1].capitalize()}"
                )
            elif rng.random() < 0.03:
                e.names.append(
                    f"{str(sup.name[i]).split()[0]} Nordic Ltd$FORNAMN_FRSPRAK-ORGNAM$"
                    f"{registered.isoformat()}"
                )
        entries[i] = e

    answers: list[dict[str, str]] = []
    used: set[int] = set()

    def answer(label: str, i: int, event: date | None = None, note: str = "") -> None:
        category = BY_NUMBER[str(sup.account[i])].category
        answers.append(_answer(label, entries[i], key_of(i), act, i, event, category, note))
        used.add(i)

    def plant_dereg(i: int, reason: str, share: float, label: str) -> None:
        days = act.posting_days(i)
        e = entries[i]
        dereg = _date(days[min(len(days) - 1, int(len(days) * share))] - 1)
        e.dereg, e.reason = dereg, reason
        if reason == "KKAV":  # declared bankrupt 120 days before
            e.procedures = [("KKAVOV-AVSLAVOMFO", dereg), ("KK-AVOMFO", dereg - timedelta(120))]
        elif reason == "LIAV":
            e.procedures = [("LIUHOR-AVSLAVOMFO", dereg), ("LI-AVOMFO", dereg - timedelta(200))]
        answer(label, i, dereg, f"deregistered ({reason}) before some of its postings")

    def plant_procedure(i: int, code: str, label: str) -> None:
        days = act.posting_days(i)
        began = _date(days[len(days) // 2] - 1)
        entries[i].procedures = [(f"{code}-AVOMFO", began)]
        answer(label, i, began, "in progress, not deregistered")

    # the watched suppliers invoice all along: deregistered or wound up midway
    watched = [i for i in act.watched if i in entries and len(act.posting_days(i)) >= 4]
    plans = (
        ("KKAV", 0.6, "deregistered_bankruptcy"),
        ("KKAV", 0.4, "deregistered_bankruptcy"),
        ("LIAV", 0.7, "deregistered_liquidation"),
        ("FUAV", 0.8, "deregistered_merger"),
    )
    for (reason, share, label), i in zip(plans, watched, strict=False):
        plant_dereg(i, reason, share, label)
    rest = [i for i in watched if i not in used]
    procedures = (("KK", "winding_up_bankruptcy"), ("LI", "winding_up_liquidation"))
    for (code, label), i in zip(procedures, rest, strict=False):
        plant_procedure(i, code, label)
    rest = [i for i in watched if i not in used]
    for i in rest[:2]:
        entries[i].in_bolagsverket = entries[i].in_scb = False
        answer("missing_from_register", i, note="in neither register file")
    # an industry that does not fit what the supplier sells (an addressable category)
    misfit = [
        i
        for i in rest[2:]
        if BY_NUMBER[str(sup.account[i])].spend_class == "addressable"
        and BY_NUMBER[str(sup.account[i])].category not in ("Livsmedel",)
    ]
    if misfit:
        i = misfit[0]
        entries[i].sni = MISFIT_SNI
        answer("industry_mismatch", i, note=f"SNI {MISFIT_SNI[0]} ({MISFIT_SNI[1]})")

    companies = [
        i
        for i in range(n)
        if i in entries
        and i not in used
        and sup.kind[i] == "company"
        and act.lines[i] > 0
        and entries[i].in_bolagsverket
    ]
    # deregistered after its last posting: must not fire
    quiet = [i for i in companies if act.last[i] <= _days(snapshot) - 90]
    if quiet:
        i = max(quiet, key=lambda j: (act.lines[j], -j))
        e = entries[i]
        e.dereg, e.reason = _date(act.last[i] + 30), "VERKUPP"
        answer("deregistered_after_last_posting", i, e.dereg, "control: 30 days after it")
    # newly registered: first invoice < 90 days after registration (and one at 120 days)
    late = sorted(
        (i for i in companies if i not in used and act.first[i] >= _days(start) + 180),
        key=lambda j: (act.first[j], j),
    )
    for gap, i in zip((25, 50, 80, 120), late, strict=False):
        e = entries[i]
        e.registered = _date(act.first[i] - gap)
        e.names = []
        control = gap >= 90
        answer(
            "registered_before_window" if control else "newly_registered",
            i,
            note=f"first invoice {gap} days after registration"
            + (" (control: outside 90 days)" if control else ""),
        )
    # sole traders: all of them, one with a second (deregistered) registration
    sole = [i for i in range(n) if i in entries and entries[i].sole_trader]
    second: _Entry | None = None
    if sole:
        first_sole = entries[sole[0]]
        first_sole.nsl = "1"
        second = _Entry(
            first_sole.ident,
            True,
            f"{first_sole.person_name.split(', ')[1]}s Hundtrim",
            "E",
            "10",
            ("96090", "övriga konsumenttjänster"),
            first_sole.registered + timedelta(days=900),
            first_sole.town,
            first_sole.street,
            dereg=start - timedelta(days=200),
            reason="VERKUPP",
            nsl="2",
            in_scb=False,
            description="Hundtrimning.",
        )
        answer("two_registrations", sole[0], note="namnskyddslöpnummer 1 and 2 (2 deregistered)")
    for i in sole:
        answer("sole_trader", i)

    # -- filler: companies the region never buys from
    taken = {e.ident for e in entries.values()}
    filler: list[_Entry] = []
    for k in range(1000 + n // 5):
        sole_trader = rng.random() < 0.05
        ident = (
            _personnummer12(rng)
            if sole_trader
            else _orgnr(rng, str(rng.choice(["5", "5", "5", "5", "7", "9"])))
        )
        if ident in taken:
            continue
        taken.add(ident)
        word = FILLER_WORDS[k % 10] + FILLER_WORDS[(k // 10) % 10].lower()
        sni = FILLER_SNI[int(rng.integers(0, len(FILLER_SNI)))]
        registered = _rand_date(rng, date(1950, 1, 1), end - timedelta(days=30))
        town = _pick_town(rng, 0.2)
        street = f"{STREETS[k % len(STREETS)]} {int(rng.integers(1, 80))}"
        if sole_trader:
            name = f"{FIRST[k % len(FIRST)]} {LAST[k % len(LAST)]} {sni[1].split()[0].capitalize()}"
            e = _Entry(ident, True, name, "E", "10", sni, registered, town, street)
            e.person_name = f"{LAST[k % len(LAST)]}, {FIRST[k % len(FIRST)]}"
        else:
            form, jur, suffix = {
                "5": ("AB", "49", "AB"),
                "7": ("EK", "51", "ekonomisk förening"),
                "9": ("HB", "31", "& Co HB"),
            }[ident[0]]
            e = _Entry(ident, False, f"{word} {suffix}", form, jur, sni, registered, town, street)
        e.description = f"Verksamheten omfattar {sni[1]}."
        r = rng.random()
        if r < 0.12:  # deregistered, mostly long ago
            e.dereg = _rand_date(rng, registered + timedelta(days=30), snapshot)
            e.reason = str(rng.choice(["VERKUPP", "KKAV", "LIAV", "FUAV", "OVERK", "ARSEED"]))
            e.in_scb = rng.random() < 0.5
        elif r < 0.14:
            e.procedures = [("KK-AVOMFO", _rand_date(rng, start, snapshot))]
        e.in_scb = e.in_scb and rng.random() < 0.85
        filler.append(e)
    # what the real file has: a stray quote, a NUL byte, a literal null, ;, | and $
    if len(filler) >= 4:
        filler[0].description = 'Försäljning av "smarta" lösningar för vård och omsorg.'
        filler[1].description = "Transporter\x00 och logistik."
        filler[2].description = "Bygg; mark och anläggning | drift $ underhåll."
        filler[3].names.append(f"{filler[3].name} i Norr$SARS_FORNAMN-ORGNAM$2015-01-01$Handel")

    units = [*entries.values(), *filler, *([second] if second else [])]
    bolagsverket = sorted(
        (e for e in units if e.in_bolagsverket and e.legal_form), key=lambda e: (e.ident, e.nsl)
    )
    scb = sorted((e for e in units if e.in_scb and e.nsl != "2"), key=lambda e: e.ident)

    bv_dir = landing / BOLAGSVERKET_DIR
    bv_dir.mkdir(parents=True, exist_ok=True)
    with (bv_dir / "bolagsverket_bulkfil.txt").open("w", encoding="utf-8", newline="\n") as f:
        f.write(";".join(BOLAGSVERKET_HEADER) + "\n")
        literal_null = False
        for e in bolagsverket:
            line = _bolagsverket_line(e, rng)
            if not literal_null and not e.sole_trader and e.dereg is None and not e.procedures:
                # as in the real file: a literal null for no deregistration date
                line = line.replace('-ORGFO";"";"', '-ORGFO";"null";"', 1)
                literal_null = True
            f.write(line + "\n")
    scb_dir = landing / SCB_DIR
    scb_dir.mkdir(parents=True, exist_ok=True)
    scb_name = f"scb_bulkfil_JE_{snapshot:%Y%m%d}T060512_01.txt"
    with (scb_dir / scb_name).open("w", encoding="latin-1", newline="") as f:
        f.write("\t".join(SCB_COLUMNS) + "\t\r\n")
        for e in scb:
            f.write(_scb_line(e, rng) + "\r\n")

    # -- the size classes an organisation buys for its suppliers
    size_dir = landing / SIZE_DIR
    size_dir.mkdir(parents=True, exist_ok=True)
    sizes: list[tuple[str, int]] = []
    for i in range(n):
        unit = entries.get(i)
        if unit is None or not unit.in_scb or rng.random() < 0.15:
            continue
        if unit.sole_trader:
            size = int(rng.integers(1, 3))
        elif sup.kind[i] == "public":
            size = int(rng.integers(10, 15))
        elif sup.kind[i] == "association":
            size = int(rng.integers(1, 4))
        elif major[i]:
            size = int(rng.integers(7, 13))
        else:
            size = int(
                rng.choice([0, 1, 2, 3, 4, 5, 6], p=[0.03, 0.15, 0.32, 0.2, 0.15, 0.1, 0.05])
            )
        sizes.append((str(sup.orgnr[i]), size))
    with (size_dir / "storleksklasser.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(["organisationsnummer", "storleksklass"])
        w.writerows(sorted(sizes))

    answers_dir.mkdir(parents=True, exist_ok=True)
    with (answers_dir / ANSWERS_FILE).open("w", encoding="utf-8", newline="") as f:
        dw = csv.DictWriter(f, fieldnames=ANSWER_COLUMNS, delimiter=";", lineterminator="\n")
        dw.writeheader()
        dw.writerows(answers)
    return {
        "bolagsverket_rows": len(bolagsverket),
        "scb_rows": len(scb),
        "size_class_rows": len(sizes),
        "scb_file": scb_name,
        "snapshot_date": snapshot.isoformat(),
        "planted": dict(sorted(Counter(a["planted"] for a in answers).items())),
    }
