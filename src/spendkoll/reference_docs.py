"""Documentation tables generated from the dbt seeds and the settings module, so
the documented vocabulary is the one the build accepts.

``python -m spendkoll.reference_docs`` rewrites the blocks between
``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` in README.md and
docs/*.md (each block lives in exactly one file); a unit test fails when a seed
or a setting changed and the documentation was not regenerated.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Callable
from pathlib import Path

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


def render(text: str, names: list[str] | None = None) -> str:
    """``text`` with its generated blocks (``names``: every block) replaced by their
    current content."""
    for name in BLOCKS if names is None else names:
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"no block <!-- generated:{name} -->")
        text = pattern.sub(_replacement(BLOCKS[name]()), text)
    return text


def documents() -> list[Path]:
    root = project_root()
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def blocks_in(text: str) -> list[str]:
    return [name for name in BLOCKS if f"<!-- generated:{name} -->" in text]


def render_all() -> dict[Path, tuple[str, str]]:
    """Every document holding a block: (its text now, its text regenerated). Each
    block must be in exactly one document."""
    out: dict[Path, tuple[str, str]] = {}
    seen: dict[str, Path] = {}
    for path in documents():
        text = path.read_text(encoding="utf-8")
        names = blocks_in(text)
        for name in names:
            if name in seen:
                raise ValueError(f"block {name} is in both {seen[name]} and {path}")
            seen[name] = path
        if names:
            out[path] = (text, render(text, names))
    missing = set(BLOCKS) - set(seen)
    if missing:
        raise ValueError(f"no document has the blocks {sorted(missing)}")
    return out


def main() -> int:
    for path, (old, new) in render_all().items():
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"{path}: generated tables updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
