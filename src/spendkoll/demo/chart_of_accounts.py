"""The demo region's chart of accounts (Region-Bas style) and org units.

Each account carries the category the demo draws purchases from, its spend
class, its usual VAT rate and whether its goods are ordered through the
e-commerce catalogue.  The marts' mapping rules (dbt seeds) are written for
this chart; an organisation replaces both with its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    number: str
    text: str
    category: str
    spend_class: str  # addressable | non_addressable | investment | internal
    vat: float
    catalogue: bool = False


ACCOUNTS: tuple[Account, ...] = (
    Account("4010", "Läkemedel", "Läkemedel", "addressable", 0.0),
    Account(
        "4110",
        "Medicinska förbrukningsartiklar",
        "Medicinska förbrukningsartiklar",
        "addressable",
        0.25,
        True,
    ),
    Account("4120", "Hjälpmedel", "Hjälpmedel", "addressable", 0.0, True),
    Account(
        "4130",
        "Medicinteknisk utrustning, ej investering",
        "Medicinteknik",
        "addressable",
        0.25,
        True,
    ),
    Account("4210", "Köpt vård", "Köpt vård", "addressable", 0.0),
    Account("4310", "Inhyrd vårdpersonal", "Inhyrd vårdpersonal", "addressable", 0.25),
    Account("6110", "Lokalhyror", "Fastighet och bygg", "addressable", 0.0),
    Account(
        "6150", "Reparation och underhåll av fastighet", "Fastighet och bygg", "addressable", 0.25
    ),
    Account("6210", "El och värme", "Energi", "addressable", 0.25),
    Account("6310", "Livsmedel", "Livsmedel", "addressable", 0.12, True),
    Account(
        "6410",
        "Kontorsmaterial och trycksaker",
        "Kontor och administration",
        "addressable",
        0.25,
        True,
    ),
    Account("6510", "IT-tjänster och licenser", "IT och telekom", "addressable", 0.25),
    Account("6520", "Telefoni och datakommunikation", "IT och telekom", "addressable", 0.25),
    Account("6610", "Transporter och frakt", "Transport och resor", "addressable", 0.25),
    Account("6620", "Resor", "Transport och resor", "addressable", 0.06),
    Account("6710", "Konsulttjänster", "Konsulttjänster", "addressable", 0.25),
    Account("5831", "Driftbidrag till föreningar", "Bidrag", "non_addressable", 0.0),
    Account("7690", "Övriga personalkostnader", "Personalrelaterat", "non_addressable", 0.0),
    Account(
        "8410", "Räntekostnader och bankavgifter", "Finansiella poster", "non_addressable", 0.0
    ),
    Account("4990", "Köp från andra offentliga huvudmän", "Interna köp", "internal", 0.0),
    Account("1220", "Inventarier (investering)", "Investeringar", "investment", 0.25),
    Account("1230", "Medicinteknisk utrustning (investering)", "Investeringar", "investment", 0.25),
    Account(
        "1110", "Pågående ny- och ombyggnad (investering)", "Investeringar", "investment", 0.25
    ),
)
BY_NUMBER = {a.number: a for a in ACCOUNTS}

# Share of suppliers whose main account is this one (weights, normalised in use).
SUPPLIER_MIX: dict[str, float] = {
    "4010": 3,
    "4110": 8,
    "4120": 4,
    "4130": 4,
    "4210": 5,
    "4310": 3,
    "6110": 4,
    "6150": 10,
    "6210": 1,
    "6310": 5,
    "6410": 10,
    "6510": 8,
    "6520": 2,
    "6610": 5,
    "6620": 4,
    "6710": 8,
    "5831": 6,
    "7690": 3,
    "8410": 0.5,
    "4990": 3,
    "1230": 1.5,
    "1110": 1,
}
# A supplier's second account (used for about one line in ten).
SECONDARY: dict[str, str] = {
    "4110": "4130",
    "4130": "1230",
    "1230": "4130",
    "6150": "1110",
    "1110": "6150",
    "6410": "1220",
    "6510": "6520",
    "6520": "6510",
    "6610": "6620",
    "6620": "6610",
    "6710": "6510",
    "4010": "4110",
    "4120": "4110",
    "6310": "6410",
}

ORG_UNITS: tuple[tuple[str, str], ...] = (
    ("HSV", "Hälso- och sjukvårdsförvaltningen"),
    ("PRIM", "Primärvården"),
    ("PSYK", "Psykiatrin"),
    ("TAND", "Folktandvården"),
    ("RUF", "Regional utvecklingsförvaltning"),
    ("RSTAB", "Regionstab och regionledning"),
    ("FAST", "Fastighetsförvaltningen"),
    ("SERV", "Servicecenter och försörjning"),
)
COST_CENTRES_PER_UNIT = 8
