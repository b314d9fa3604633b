"""Publishing the marts for readers: a read-only DuckDB snapshot and Parquet files,
each swapped in atomically.

BI tools and reports never open the live warehouse (DuckDB allows one writer
or many readers, never both). After a run whose blocking checks passed:

* the ``marts`` and ``reference`` schemas are copied into a new DuckDB file
  beside ``published/spendkoll_marts.duckdb``, which then replaces it with one
  ``rename``;
* every public mart is written as Parquet into a new directory
  ``published/parquet.<timestamp>/`` (``fct_spend`` and
  ``dq_invoice_exceptions`` partitioned by fiscal year, Hive style), and the
  symlink ``published/parquet`` is switched to it with one ``rename``. The
  previous directory is kept for readers still on it; older ones are removed.

A reader sees the old state or the new one, never half of one. A failed run
publishes nothing, so the last good snapshot stays.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from spendkoll.paths import DataDir
from spendkoll.warehouse import writer

PUBLISHED_SCHEMAS = ("marts", "reference")
PARTITIONED = {"fct_spend": "fiscal_year", "dq_invoice_exceptions": "fiscal_year"}
KEEP_PARQUET_VERSIONS = 2


def published_path(data: DataDir) -> Path:
    return data.root / "published" / "spendkoll_marts.duckdb"


def parquet_path(data: DataDir) -> Path:
    return data.root / "published" / "parquet"


def publish(data: DataDir) -> Path:
    """Publish the snapshot and the Parquet files; returns the snapshot's path."""
    snapshot = _publish_snapshot(data)
    _publish_parquet(data, snapshot)
    return snapshot


def _publish_parquet(data: DataDir, snapshot: Path) -> Path:
    """Parquet per public mart, from the (immutable) snapshot just published."""
    base = data.root / "published"
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    final = base / f"parquet.{stamp}"
    tmp = base / f".parquet.{stamp}.tmp"
    tmp.mkdir(parents=True)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
        for table in tables:
            if table in PARTITIONED:
                con.execute(f"copy (select * from marts.\"{table}\") to '{tmp / table}' "
                            f"(format parquet, partition_by ({PARTITIONED[table]}))")
            else:
                con.execute(f"copy (select * from marts.\"{table}\") to "
                            f"'{tmp / (table + '.parquet')}' (format parquet)")
    finally:
        con.close()
    tmp.rename(final)
    link = parquet_path(data)
    new_link = base / f".parquet.{stamp}.link"
    new_link.symlink_to(final.name)
    os.replace(new_link, link)
    versions = sorted(p for p in base.glob("parquet.*") if p.is_dir() and not p.is_symlink())
    for old in versions[:-KEEP_PARQUET_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return link


def _publish_snapshot(data: DataDir) -> Path:
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
