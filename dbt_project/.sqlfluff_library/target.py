"""Stand-in for dbt's `target` in sqlfluff's jinja templater (lint only)."""

name = "duckdb"
schema = "main"
database = "spendkoll"
type = "duckdb"
