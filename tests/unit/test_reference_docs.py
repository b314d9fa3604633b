"""The documentation's generated tables match the seeds and settings the build uses."""

from __future__ import annotations

import csv

import pytest

from spendkoll.paths import project_root
from spendkoll.reference_docs import category_table, render, render_all


def test_documented_tables_are_generated_from_the_seeds() -> None:
    documents = render_all()
    assert {p.name for p in documents} == {
        "operations.md",
        "sources-and-formats.md",
        "data-quality.md",
    }
    for path, (text, regenerated) in documents.items():
        assert regenerated == text, (
            f"{path.name}'s generated tables are out of date: run "
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
