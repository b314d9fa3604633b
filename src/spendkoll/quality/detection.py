"""Precision and recall of the invoice rules against the demo's planted mis-codings.

The demo generator keeps the truth of every planted mis-coding in
``<data>/demo/answers/miscoded.csv`` (file, voucher, line, kind). Each kind is
what some rules of ``marts.dq_invoice_exceptions`` exist to catch:

* recall of a kind = planted lines of that kind flagged by one of its rules /
  planted lines of that kind; overall recall the same over all kinds;
* precision of a rule = lines it flagged that were planted with a kind it
  targets / lines it flagged. Rules without a planted kind (missing ids,
  possible duplicates, expired contracts) report their count only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spendkoll.errors import ConfigError
from spendkoll.paths import DataDir
from spendkoll.warehouse import reader

KIND_RULES: dict[str, tuple[str, ...]] = {
    "wrong_category": ("DQ02", "DQ03"),
    "operating_as_investment": ("DQ05", "DQ02"),
    "investment_as_operating": ("DQ04", "DQ14", "DQ02"),
    "internal_on_external_account": ("DQ06",),
    "vat_rate": ("DQ12",),
    "duplicate": ("DQ07",),
}


@dataclass(frozen=True)
class KindRecall:
    kind: str
    planted: int
    caught: int

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0


@dataclass(frozen=True)
class RulePrecision:
    rule_id: str
    rule_name: str
    flagged: int
    true_hits: int | None  # None: no planted kind to measure against

    @property
    def precision(self) -> float | None:
        if self.true_hits is None or not self.flagged:
            return None
        return self.true_hits / self.flagged


@dataclass(frozen=True)
class DetectionReport:
    kinds: list[KindRecall]
    rules: list[RulePrecision]

    @property
    def planted(self) -> int:
        return sum(k.planted for k in self.kinds)

    @property
    def caught(self) -> int:
        return sum(k.caught for k in self.kinds)

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0


def _kind_rules_sql() -> str:
    return " union all ".join(
        f"select '{kind}' as kind, '{rule}' as rule_id"
        for kind, rules in KIND_RULES.items()
        for rule in rules
    )


def measure(data: DataDir, answers: Path | None = None) -> DetectionReport:
    answers = answers or data.demo_answers / "miscoded.csv"
    if not answers.exists():
        raise ConfigError(f"{answers}: no answer file (run `spendkoll generate` first)")
    con = reader(data.warehouse)
    try:
        con.execute(f"create temp table kind_rules as {_kind_rules_sql()}")
        con.execute(
            """
            create temp table answers as
                select * from read_csv(?, delim = ';', header = true, all_varchar = true)
        """,
            [str(answers)],
        )
        con.execute("""
            create temp table planted as
                select distinct a.kind, f.ledger_line_id
                from answers a
                join marts.fct_spend f
                  on f.verification_id = a.verification_id
                 and cast(f.line_number as varchar) = a.line_number
                join staging.stg_loader__batches b
                  on b.batch_id = f.batch_id and b.file_name = a.file
        """)
        kinds = con.execute("""
            select p.kind, count(*) as planted,
                   count(*) filter (where exists (
                       select 1 from marts.dq_invoice_exceptions e
                       join kind_rules k on k.rule_id = e.rule_id and k.kind = p.kind
                       where e.ledger_line_id = p.ledger_line_id)) as caught
            from planted p group by p.kind order by p.kind""").fetchall()
        rules = con.execute("""
            with flagged as (
                select rule_id, rule_name, count(distinct ledger_line_id) as flagged
                from marts.dq_invoice_exceptions group by rule_id, rule_name),
            hits as (
                select e.rule_id, count(distinct e.ledger_line_id) as true_hits
                from marts.dq_invoice_exceptions e
                join planted p on p.ledger_line_id = e.ledger_line_id
                join kind_rules k on k.rule_id = e.rule_id and k.kind = p.kind
                group by e.rule_id)
            select r.rule_id, r.rule_name, coalesce(f.flagged, 0),
                   case when r.rule_id in (select rule_id from kind_rules)
                        then coalesce(h.true_hits, 0) end
            from reference.dq_rules r
            left join flagged f on f.rule_id = r.rule_id
            left join hits h on h.rule_id = r.rule_id
            order by r.rule_id""").fetchall()
    finally:
        con.close()
    return DetectionReport([KindRecall(*k) for k in kinds], [RulePrecision(*r) for r in rules])


def format_report(report: DetectionReport) -> str:
    out = [
        "Detection of the planted mis-codings (demo answer file):",
        f"  {'kind':<30}{'planted':>9}{'caught':>9}{'recall':>9}   rules",
    ]
    for k in report.kinds:
        out.append(
            f"  {k.kind:<30}{k.planted:>9,}{k.caught:>9,}{k.recall:>9.1%}   "
            + ", ".join(KIND_RULES.get(k.kind, ()))
        )
    out.append(f"  {'all':<30}{report.planted:>9,}{report.caught:>9,}{report.recall:>9.1%}")
    out += ["", f"  {'rule':<42}{'flagged':>9}{'planted':>9}{'precision':>11}"]
    for r in report.rules:
        prec = "-" if r.precision is None else f"{r.precision:.1%}"
        hits = "-" if r.true_hits is None else f"{r.true_hits:,}"
        out.append(f"  {r.rule_id + ' ' + r.rule_name:<42}{r.flagged:>9,}{hits:>9}{prec:>11}")
    out.append(
        "  (precision counts only the planted mis-codings as true; a rule also finds "
        "real issues the generator did not plant, e.g. its natural duplicates)"
    )
    return "\n".join(out)
