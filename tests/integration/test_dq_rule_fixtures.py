"""One golden fixture pair per invoice rule: tests/fixtures/dq_rules/<RULE_ID>/.

Adding a rule is adding files: a model in dbt_project/models/marts/dq/rules/,
a row in seed dq_rules, and a folder here with
  ledger.csv     a small hand-made ledger (canonical format), each line's
                 description saying what it is for ("fires: ...",
                 "must not fire: ...", "profile: ...");
  contracts.csv  optional, a contract register;
  expected.csv   `;`-separated: verification_id;line_number;fires;note and
                 optionally suggested_account and explanation_contains (a
                 substring of explanation_en), one row per ledger line, `fires`
                 yes/no for this rule, the note the hand computation from the
                 rule's SQL and the seed's thresholds.
  register_*.csv optional, the supplier register's raw rows (register_bolagsverket,
                 register_scb, register_size_class; tests/oracle/register_rows.py
                 says the columns), inserted between the load and the build.
Each folder is built alone (its own warehouse: the supplier, account and
invoice profiles are only what the folder holds) and the rule must fire on
exactly the lines marked yes. The other rules' output is not looked at here;
tests/integration/test_dq_rules_golden.py has the rules together on one
warehouse.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, KEY, ROOT, build_warehouse_from
from oracle.register_rows import FILES as REGISTER_FILES
from oracle.register_rows import build_with_register

from spendkoll.paths import DataDir

pytestmark = pytest.mark.slow

RULE_FIXTURES = FIXTURES / "dq_rules"
SEED = ROOT / "dbt_project" / "seeds" / "dq_rules.csv"
FOLDERS = sorted(p.name for p in RULE_FIXTURES.iterdir() if p.is_dir())
# the rule mart and what it is built from (seeds, staging, fct_spend, profiles);
# tests only when all their parents are built
DBT_ARGS = ("build", "--select", "+dq_invoice_exceptions", "--indirect-selection", "cautious")


def build_rule_fixture(data: DataDir, folder: Path) -> None:
    """build_warehouse_from(folder), with the folder's supplier-register rows (if
    any) inserted into the raw tables before dbt runs."""
    if any((folder / name).exists() for name in REGISTER_FILES):
        build_with_register(data, folder, KEY, ledger="ledger.csv", dbt_args=DBT_ARGS)
    else:
        build_warehouse_from(data, folder, ledger="ledger.csv", dbt_args=DBT_ARGS)


def seed_rules() -> dict[str, bool]:
    """rule_id -> enabled, from seed dq_rules."""
    with SEED.open(encoding="utf-8", newline="") as f:
        return {r["rule_id"]: r["enabled"].strip().lower() == "true" for r in csv.DictReader(f)}


def read_semicolon(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def expected_rows(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    rows = read_semicolon(folder / "expected.csv")
    keyed = {(r["verification_id"], r["line_number"]): r for r in rows}
    assert len(keyed) == len(rows), f"{folder.name}/expected.csv lists a line twice"
    return keyed


def test_every_enabled_rule_has_a_fixture_and_every_fixture_a_rule():
    rules = seed_rules()
    missing = sorted(r for r, enabled in rules.items() if enabled and r not in FOLDERS)
    assert not missing, (
        f"rule(s) {', '.join(missing)} of seed dq_rules have no golden fixture: add "
        f"tests/fixtures/dq_rules/<RULE_ID>/ledger.csv and expected.csv"
    )
    unknown = sorted(set(FOLDERS) - set(rules))
    assert not unknown, f"fixture folder(s) {', '.join(unknown)} name no rule of seed dq_rules"


@pytest.mark.parametrize("rule_id", FOLDERS)
def test_fixture_is_complete(rule_id):
    """Every ledger line has its expectation, and the folder has a case that fires
    and a near miss that must not (cheap: no build)."""
    folder = RULE_FIXTURES / rule_id
    ledger = read_semicolon(folder / "ledger.csv")
    lines = [(r["verification_id"], r["line_number"]) for r in ledger]
    assert len(lines) == len(set(lines)), (
        f"{rule_id}/ledger.csv: (verification_id, line_number) twice"
    )
    expected = expected_rows(folder)
    assert set(lines) == set(expected), (
        f"{rule_id}: ledger lines without expectation {sorted(set(lines) - set(expected))}, "
        f"expectations without line {sorted(set(expected) - set(lines))}"
    )
    assert {r["fires"] for r in expected.values()} == {"yes", "no"}, (
        f"{rule_id}: fires must be yes or no, with at least one of each"
    )
    assert all(r["note"].strip() for r in expected.values()), f"{rule_id}: a line without note"
    assert all(r["description"].strip() for r in ledger), f"{rule_id}: a line without description"


@pytest.mark.parametrize("rule_id", FOLDERS)
def test_rule_fires_exactly_on_its_golden_lines(rule_id, tmp_path):
    if not seed_rules().get(rule_id, False):
        pytest.skip(f"{rule_id} is switched off in seed dq_rules")
    folder = RULE_FIXTURES / rule_id
    expected = expected_rows(folder)
    data = DataDir(tmp_path / "var").ensure()
    build_rule_fixture(data, folder)
    with duckdb.connect(str(data.warehouse), read_only=True) as con:
        loaded = con.execute("select count(*) from marts.fct_spend").fetchone()[0]
        rows = con.execute(
            """select e.verification_id, cast(s.line_number as varchar), e.score,
                      e.amount_at_stake, e.suggested_account, e.suggested_category_id,
                      e.explanation_sv, e.explanation_en
               from marts.dq_invoice_exceptions as e
               inner join marts.fct_spend as s on s.ledger_line_id = e.ledger_line_id
               where e.rule_id = ?
               order by e.verification_id, s.line_number""",
            [rule_id],
        ).fetchall()
    assert loaded == len(expected), f"{rule_id}: {loaded} lines loaded of {len(expected)}"

    got = {(r[0], r[1]): r for r in rows}
    assert len(got) == len(rows), f"{rule_id} fired twice on a line: {rows}"
    want = {k for k, r in expected.items() if r["fires"] == "yes"}
    shown = "\n".join(
        f"  {v};{ln} score={s:.3f} at_stake={a} suggests={acc}/{cat}: {en}"
        for v, ln, s, a, acc, cat, _sv, en in rows
    )
    mismatches = [
        f"  {k[0]};{k[1]}: expected {'fires' if k in want else 'does not fire'}, "
        f"{'fired' if k in got else 'did not fire'} -- note: {expected[k]['note']}"
        for k in sorted(want ^ set(got))
    ]
    assert not mismatches, (
        f"{rule_id} fired on other lines than tests/fixtures/dq_rules/{rule_id}/expected.csv "
        f"says:\n" + "\n".join(mismatches) + f"\n{rule_id}'s rows:\n" + (shown or "  (none)")
    )

    problems = []
    for key, row in got.items():
        exp = expected[key]
        _v, _ln, score, at_stake, acc, _cat, sv, en = row
        if exp.get("suggested_account") and acc != exp["suggested_account"]:
            problems.append(
                f"  {key}: suggested_account {acc!r}, expected "
                f"{exp['suggested_account']!r} -- note: {exp['note']}"
            )
        if exp.get("explanation_contains") and exp["explanation_contains"] not in en:
            problems.append(f"  {key}: explanation_en {en!r} lacks {exp['explanation_contains']!r}")
        # the seed's templates filled from the rule's facts, nothing left over
        for text in (sv, en):
            if not text or "{" in text or "}" in text:
                problems.append(f"  {key}: explanation not filled: {text!r}")
        if not 0 < score <= 1 or at_stake is None:
            problems.append(f"  {key}: score {score} / amount_at_stake {at_stake}")
    assert not problems, f"{rule_id}:\n" + "\n".join(problems) + f"\n{rule_id}'s rows:\n{shown}"
