"""A plain-Python reference of the supplier register in the marts (issue 17), written
from the documentation only.

Sources (and nothing else): the doc blocks ``supplier_register``
(``dbt_project/models/intermediate/register/_register__docs.md``) and
``kpi_supplier_profile`` (``dbt_project/models/marts/kpi/_kpi__docs.md``), the column
descriptions of ``dim_supplier`` and ``kpi_supplier_profile``, and the seeds
``legal_forms``, ``sni_sections``, ``size_classes``. The lines (spend class, category,
org unit, supplier key) come from :class:`oracle.kpi_reference.KpiReference`, itself
written from the KPI docs. The SQL of the models was not read.

Input: a :class:`KpiReference` and the register rows as the raw tables hold them
(``oracle.register_rows.register_rows``: one dict per row, keyed like the ledger).
Where the docs leave a choice open, it is written down at the place ("DOCS:").
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from oracle.kpi_reference import SEEDS, ZERO, KpiReference, pct

UNKNOWN = "unknown"
SME = ("micro", "small", "medium")
PERSON_IDENTITIES = ("PERSON", "SAMORDNR", "DODSBO")
WINDING_UP = ("KK", "LI", "FR")


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class SupplierRegisterReference:
    """dim_supplier's register columns and kpi_supplier_profile's rows."""

    def __init__(
        self,
        kpi: KpiReference,
        bolagsverket: list[dict[str, Any]],
        scb: list[dict[str, Any]],
        size_classes: list[dict[str, Any]],
        local_postal_towns: list[str] | None = None,
    ) -> None:
        self.kpi = kpi
        self.towns = {t.strip().upper() for t in local_postal_towns or []}
        self.legal_forms = {(r["register"], r["code"]): r for r in _seed("legal_forms")}
        self.sections = _seed("sni_sections")
        self.sme = {int(r["size_class"]): r["sme_class"] for r in _seed("size_classes")}
        self.bolagsverket = self._choose(bolagsverket)
        # DOCS: a unit is one row in SCB's file and one in the size-class file; with
        # two, the later delivery's first line (the raw rows here have one delivery).
        self.scb = self._first(scb)
        self.size = self._first(size_classes)
        keys = {x.supplier_key for x in kpi.lines if x.supplier_key}
        self.suppliers = {k: self.supplier(k) for k in keys}

    @staticmethod
    def _first(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for r in sorted(rows, key=lambda r: r["source_line"]):
            out.setdefault(r["supplier_key"], r)
        return out

    @staticmethod
    def _choose(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The active registration, then the lowest namnskyddslopnummer (none = 0),
        then the first line."""
        by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_key[r["supplier_key"]].append(r)
        return {
            k: min(
                regs,
                key=lambda r: (
                    r["deregistration_date"] is not None,
                    int(r["name_protection_no"] or 0),
                    r["source_line"],
                ),
            )
            for k, regs in by_key.items()
        }

    # -- one supplier ----------------------------------------------------------------------

    def section(self, code: str | None) -> str | None:
        if not code or len(code) < 2 or not code[:2].isdigit():
            return None
        division = int(code[:2])
        for s in self.sections:
            if int(s["division_from"]) <= division <= int(s["division_to"]):
                return s["sni_section"]
        return None

    @staticmethod
    def winding_up(procedures: str | None) -> bool:
        """A KK, LI or FR start with no end entry (a longer code with the same first two
        letters) dated on or after it (DOCS: an end entry without a date ends it)."""
        entries = []
        for part in (procedures or "").split("|"):
            if part.strip():
                code, _, day = part.strip().partition(":")
                entries.append((code.strip().upper(), _date(day.strip() or None)))
        for code, start in entries:
            if code not in WINDING_UP:
                continue
            ended = any(
                len(c) > 2 and c[:2] == code and (d is None or start is None or d >= start)
                for c, d in entries
            )
            if not ended:
                return True
        return False

    def supplier(self, key: str) -> dict[str, Any]:
        bv = self.bolagsverket.get(key)
        scb = self.scb.get(key)
        size = self.size.get(key)
        person = (
            key.startswith("PNR-")
            or (bv is not None and (bv["identity_type"] in PERSON_IDENTITIES))
            or (bv is not None and bv["legal_form"] == "E")
            or (
                scb is not None
                and (scb["is_sole_trader"] or scb["legal_form_code"] in ("10", "91"))
            )
        )
        form = None
        for register, row, column in (
            ("bolagsverket", bv, "legal_form"),
            ("scb", scb, "legal_form_code"),
        ):
            mapped = self.legal_forms.get((register, (row or {}).get(column) or ""))
            if mapped and mapped["legal_form"]:
                form = mapped["legal_form"]
                break
        code = scb["sni_1"] if scb else None
        if bv is None:
            status, dereg, reason = UNKNOWN, None, None
        elif bv["deregistration_date"] is not None:
            status = "deregistered"
            dereg = _date(bv["deregistration_date"])
            reason = {"KKAV": "bankruptcy", "LIAV": "liquidation", "FUAV": "merger"}.get(
                (bv["deregistration_reason"] or "").upper(), "other"
            )
        else:
            status = "winding_up" if self.winding_up(bv["procedures"]) else "active"
            dereg, reason = None, None
        town = (bv or {}).get("postal_town") or (scb or {}).get("postal_town")
        size_class = int(size["size_class"]) if size else None
        out = {
            "in_register": bool(bv or scb or size),
            "legal_form": form,
            "sni_section": self.section(code),
            "sni_code": code,
            "registration_date": _date((bv or {}).get("registration_date"))
            or _date((scb or {}).get("registered_date")),
            "register_status": status,
            "deregistration_date": dereg,
            "deregistration_reason": reason,
            "postal_town": town.upper() if town else None,
            "size_class": size_class,
            "sme_class": self.sme.get(size_class, UNKNOWN) if size_class is not None else UNKNOWN,
        }
        if person:
            for column in out:
                if column not in ("in_register", "legal_form", "sni_section"):
                    out[column] = None
        return out

    # -- the profile -----------------------------------------------------------------------

    def values(self, key: str | None) -> dict[str, str]:
        s = self.suppliers.get(key) if key else None
        if s is None:
            return dict.fromkeys(("size", "sme", "legal_form", "sni_section", "local"), UNKNOWN)
        sme_class = s["sme_class"] or UNKNOWN
        town = s["postal_town"]
        return {
            "size": sme_class,
            "sme": "sme" if sme_class in SME else sme_class,
            "legal_form": s["legal_form"] or UNKNOWN,
            "sni_section": s["sni_section"] or UNKNOWN,
            "local": UNKNOWN if not town else ("local" if town in self.towns else "not_local"),
        }

    def profile(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        dimensions = ["size", "sme", "legal_form", "sni_section"] + (
            ["local"] if self.towns else []
        )
        names = self.kpi.org_units
        scopes: dict[tuple[int, str, str], dict[str | None, Decimal]] = defaultdict(
            lambda: defaultdict(lambda: ZERO)
        )
        scope_names: dict[tuple[int, str, str], str] = {}
        for x in self.kpi.lines:
            if x.spend_class != "addressable":
                continue
            level1 = x.category.level1 if x.category else "Oklassificerat"
            for scope, scope_id, name in (
                ("overall", "all", "Hela organisationen"),
                ("category_level1", level1, level1),
                (
                    "org_unit",
                    x.org_unit_id,
                    names.get(x.cost_centre, (x.cost_centre, x.cost_centre))[1],
                ),
            ):
                scopes[(x.fiscal_year, scope, scope_id)][x.supplier_key] += x.amount
                scope_names[(x.fiscal_year, scope, scope_id)] = name
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for (year, scope, scope_id), per_supplier in scopes.items():
            total = sum(per_supplier.values(), ZERO)
            n = sum(1 for k, v in per_supplier.items() if k and v > 0)
            for dimension in dimensions:
                groups: dict[str, list[tuple[str | None, Decimal]]] = defaultdict(list)
                groups[UNKNOWN]  # always a row
                for k, v in per_supplier.items():
                    groups[self.values(k)[dimension]].append((k, v))
                for value, members in groups.items():
                    spend = sum((v for _, v in members), ZERO)
                    count = sum(1 for k, v in members if k and v > 0)
                    out[(year, scope, scope_id, dimension, value)] = {
                        "scope_name": scope_names[(year, scope, scope_id)],
                        "addressable_spend": spend,
                        "spend_without_supplier_id": sum(
                            (v for k, v in members if k is None), ZERO
                        ),
                        "suppliers": count,
                        "scope_addressable_spend": total,
                        "scope_suppliers": n,
                        "spend_share_pct": pct(spend, total),
                        "supplier_share_pct": pct(count, n),
                    }
        return out
