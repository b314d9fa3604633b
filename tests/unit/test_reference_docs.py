"""The README's generated tables match the seeds the build uses."""

from __future__ import annotations

import csv

import pytest

from spendkoll.paths import project_root
from spendkoll.reference_docs import category_table, render


def test_readme_tables_are_generated_from_the_seeds() -> None:
    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, (
        "README.md's generated tables are out of date: run "
        "`.venv/bin/python -m spendkoll.reference_docs`"
    )


def test_category_table_lists_every_category_of_the_seed() -> None:
    seed = project_root() / "dbt_project" / "seeds" / "category_tree.csv"
    with seed.open(encoding="utf-8") as f:
        ids = [r["category_id"] for r in csv.DictReader(f)]
    table = category_table()
    assert len(table.splitlines()) == len(ids) + 2
    for category_id in ids:
        assert f"| `{category_id}` |" in table


def test_render_refuses_a_readme_without_the_blocks() -> None:
    with pytest.raises(ValueError, match="generated:settings"):
        render("no blocks here")
