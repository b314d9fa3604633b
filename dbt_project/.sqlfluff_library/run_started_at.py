"""Stand-in for dbt's `run_started_at` in sqlfluff's jinja templater (lint only)."""


def strftime(fmt):
    return "2026-01-01 00:00:00"


def isoformat():
    return "2026-01-01T00:00:00"
