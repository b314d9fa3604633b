"""README tables generated from the dbt seeds, so the documented vocabulary is
the one the build accepts.

``python -m spendkoll.reference_docs`` rewrites the blocks between
``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` in README.md; a
unit test fails when a seed changed and the README was not regenerated.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Callable

from spendkoll.paths import project_root


def _seed(name: str) -> list[dict[str, str]]:
    path = project_root() / "dbt_project" / "seeds" / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def category_table() -> str:
    """The category tree: what a contract's `category` may name."""
    lines = ["| category id | level 1 | level 2 | level 3 |", "|---|---|---|---|"]
    for row in _seed("category_tree"):
        lines.append(
            f"| `{row['category_id']}` | {row['level1']} | {row['level2']} | {row['level3']} |"
        )
    return "\n".join(lines)


def vocabulary_table() -> str:
    """The shipped contract_vocabulary seed: the organisation's own words."""
    lines = ["| field | value in the register | maps to |", "|---|---|---|"]
    for row in _seed("contract_vocabulary"):
        lines.append(f"| `{row['field_name']}` | {row['source_value']} | `{row['maps_to']}` |")
    return "\n".join(lines)


def dq_rules_table() -> str:
    """The invoice rule catalogue (seed dq_rules): severity, thresholds, what fires."""
    lines = ["| rule | severity | thresholds | fires on |", "|---|---|---|---|"]
    for row in _seed("dq_rules"):
        off = "" if row["enabled"].strip().lower() == "true" else " (switched off)"
        thresholds = ", ".join(f"`{t.strip()}`" for t in row["thresholds"].split(";") if t.strip())
        lines.append(
            f"| {row['rule_id']} `{row['rule_name']}` | {row['severity']}{off} | "
            f"{thresholds or '-'} | {row['description_en']} |"
        )
    return "\n".join(lines)


def settings_table() -> str:
    """Every SPENDKOLL_* environment variable (spendkoll.settings.VARIABLES)."""
    from spendkoll.settings import VARIABLES

    lines = ["| variable | default | expected | what it does |", "|---|---|---|---|"]
    for v in VARIABLES:
        default = f"`{v.default}`" if v.default else "-"
        lines.append(f"| `{v.name}` | {default} | {v.expected} | {v.doc} |")
    return "\n".join(lines)


BLOCKS: dict[str, Callable[[], str]] = {
    "settings": settings_table,
    "category-tree": category_table,
    "contract-vocabulary": vocabulary_table,
    "dq-rules": dq_rules_table,
}


def _replacement(body: str) -> Callable[[re.Match[str]], str]:
    def replace(m: re.Match[str]) -> str:
        return m.group(1) + body + "\n" + m.group(2)

    return replace


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current content."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no block <!-- generated:{name} -->")
        text = pattern.sub(_replacement(make()), text)
    return text


def main() -> int:
    readme = project_root() / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print(f"{readme}: generated tables updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
