"""Stand-in for dbt's `graph` in sqlfluff's jinja templater (lint only)."""

nodes: dict = {}
sources: dict = {}
