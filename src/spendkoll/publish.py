"""Publishing the marts for readers: a read-only DuckDB snapshot, swapped in atomically.

BI tools and reports never open the live warehouse (DuckDB allows one writer
or many readers, never both). After a run whose blocking checks passed, the
``marts`` and ``reference`` schemas are copied into a new file beside the
published one, which then replaces it with one ``rename``: a reader sees the
old snapshot or the new one, never half of one. A failed run publishes nothing,
so the last good snapshot stays.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from spendkoll.paths import DataDir
from spendkoll.warehouse import writer

PUBLISHED_SCHEMAS = ("marts", "reference")


def published_path(data: DataDir) -> Path:
    return data.root / "published" / "spendkoll_marts.duckdb"


def publish(data: DataDir) -> Path:
    target = published_path(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with writer(data.warehouse) as con:
        con.execute(f"attach '{tmp}' as pub")
        try:
            for schema in PUBLISHED_SCHEMAS:
                tables = [r[0] for r in con.execute(
                    "select table_name from information_schema.tables where table_catalog = "
                    "current_database() and table_schema = ? and table_type = 'BASE TABLE' "
                    "order by table_name", [schema]).fetchall()]
                con.execute(f"create schema pub.{schema}")
                for table in tables:
                    con.execute(f'create table pub.{schema}."{table}" as '
                                f'select * from {schema}."{table}"')
            con.execute("create table pub.main.published as select ? as published_at",
                        [datetime.now()])
        finally:
            con.execute("detach pub")
    os.replace(tmp, target)
    return target
