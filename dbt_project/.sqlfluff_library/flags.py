"""Stand-in for dbt's `flags` in sqlfluff's jinja templater (lint only)."""

FULL_REFRESH = False
WHICH = "build"
