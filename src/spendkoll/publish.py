"""Publishing the marts for readers: a read-only DuckDB snapshot and Parquet files,
each swapped in atomically.

BI tools and reports never open the live warehouse (DuckDB allows one writer
or many readers, never both). After a run whose blocking checks passed:

* the ``marts`` and ``reference`` schemas are copied into a new DuckDB file
  beside ``published/spendkoll_marts.duckdb``, which then replaces it with one
  ``rename``;
* every public mart is written as Parquet into a new directory
  ``published/parquet.<timestamp>/``, and the symlink ``published/parquet`` is
  switched to it with one ``rename``. The line marts (``fct_spend``,
  ``dq_invoice_exceptions``) are partitioned by fiscal year, Hive style, one
  file per period: ``fct_spend/fiscal_year=2025/2025-03.parquet``. The
  previous directory is kept for readers still on it; older ones are removed.

Publishing is incremental, like the dbt build: a period of a line mart whose
rows (count and newest ``built_at``) are the same as in the previous snapshot
is not copied again. The new snapshot starts as a copy of the previous file
and only the changed periods are deleted and re-inserted; their Parquet files
are rewritten and every other file is hard-linked from the previous version.

A reader sees the old state or the new one, never half of one. A failed run
publishes nothing, so the last good snapshot stays: :func:`publish` refuses
(:class:`PublishRefused`, naming the failed step) when the last dbt invocation
on the warehouse failed or never finished (``ops.dbt_invocation``, written by
dbt's on-run hooks whoever ran dbt), or when the newest raw or marts
validation since the last publication has blocking failures. That is the
transform DAG's rule, kept by the command line too; ``force=True``
(``spendkoll publish --force``) overrides it.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from spendkoll.errors import SpendkollError
from spendkoll.paths import DataDir
from spendkoll.warehouse import writer

PUBLISHED_SCHEMAS = ("marts", "reference")
# Line marts: published per period, partitioned by fiscal year.
LINE_MARTS = ("fct_spend", "dq_invoice_exceptions")
KEEP_PARQUET_VERSIONS = 2

Changed = dict[str, "set[str] | None"]  # line mart -> periods to copy again (None: all)


def published_path(data: DataDir) -> Path:
    return data.root / "published" / "spendkoll_marts.duckdb"


def parquet_path(data: DataDir) -> Path:
    return data.root / "published" / "parquet"


class PublishRefused(SpendkollError):
    """The marts in the warehouse come from a failed or unfinished step."""


def publish(data: DataDir, force: bool = False) -> Path:
    """Publish the snapshot and the Parquet files; returns the snapshot's path.
    Refuses (PublishRefused) after a failed or unfinished step unless ``force``."""
    target = published_path(data)
    previous = target if target.exists() else None
    with writer(data.warehouse) as con:
        blockers = publish_blockers(con, previous)
        if blockers and not force:
            raise PublishRefused(
                "not published; the last published marts stay. "
                + " ".join(f"{b}." for b in blockers)
                + " Fix it and run the step again (or publish anyway with "
                "`spendkoll publish --force`).")
        changed = changed_periods(con, previous)
        snapshot = _publish_snapshot(con, target, previous, changed)
    _publish_parquet(data, snapshot, changed)
    return snapshot


def _table_exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str,
                  table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_catalog = ? and "
        "table_schema = ? and table_name = ?", [catalog, schema, table]).fetchone()[0])  # type: ignore[index]


def publish_blockers(con: duckdb.DuckDBPyConnection, previous: Path | None) -> list[str]:
    """Why the marts in the warehouse may not be published ([] when they may):
    the last dbt invocation failed or did not finish; the newest validation of
    the raw data or of the marts since the last publication has blocking
    failures."""
    here = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
    out: list[str] = []
    if _table_exists(con, here, "ops", "dbt_invocation"):
        last = con.execute(
            "select command, started_at, status, failures from ops.dbt_invocation "
            "order by started_at desc, finished_at desc nulls first limit 1").fetchone()
        if last is not None:
            command, started, status, failures = last
            when = f"{started:%Y-%m-%d %H:%M:%S}"
            if status == "running":
                out.append(f"step `dbt {command}` (started {when}) did not finish: it was "
                           "stopped, or it is still running")
            elif status != "success":
                out.append(f"step `dbt {command}` (started {when}) failed: {failures}")
    if _table_exists(con, here, "quality", "validation_result"):
        published_at = None
        if previous is not None:
            con.execute(f"attach '{previous}' as prev_pub (read_only)")
            try:
                if _table_exists(con, "prev_pub", "main", "published"):
                    row = con.execute("select max(published_at) from prev_pub.main.published"
                                      ).fetchone()
                    published_at = row[0] if row else None
            finally:
                con.execute("detach prev_pub")
        for stage in ("raw", "marts"):
            row = con.execute(
                "select run_id, max(validated_at) from quality.validation_result "
                "where stage = ? group by run_id order by 2 desc limit 1", [stage]).fetchone()
            if row is None or (published_at is not None and row[1] <= published_at):
                continue
            failed = con.execute(
                "select suite, expectation, coalesce(column_name, ''), target "
                "from quality.validation_result where run_id = ? and stage = ? "
                "and severity = 'blocking' and not success order by suite, expectation",
                [row[0], stage]).fetchall()
            if failed:
                shown = "; ".join(f"{suite} {exp}({col}) on {target}"
                                  for suite, exp, col, target in failed[:5])
                more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
                out.append(f"step `validate {stage}` ({row[1]:%Y-%m-%d %H:%M:%S}) has "
                           f"{len(failed)} blocking failure(s): {shown}{more}")
    return out


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str,
             table: str) -> list[tuple[str, str]]:
    return [(c, t) for c, t in con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table]).fetchall()]


def changed_periods(con: duckdb.DuckDBPyConnection, previous: Path | None) -> Changed:
    """Per line mart, the periods whose rows differ from the previous snapshot's
    (number of rows or newest built_at); None when the whole mart is new."""
    out: Changed = {t: None for t in LINE_MARTS}
    if previous is None:
        return out
    here = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
    con.execute(f"attach '{previous}' as prev (read_only)")
    try:
        for table in LINE_MARTS:
            cols = _columns(con, here, "marts", table)
            if not cols or cols != _columns(con, "prev", "marts", table) \
                    or ("built_at", "TIMESTAMP") not in cols:
                continue
            marks = "select period, count(*), max(built_at) from {} group by period"
            now = {p: (n, b) for p, n, b in
                   con.execute(marks.format(f'marts."{table}"')).fetchall()}
            before = {p: (n, b) for p, n, b in
                      con.execute(marks.format(f'prev.marts."{table}"')).fetchall()}
            out[table] = {p for p in now.keys() | before.keys() if now.get(p) != before.get(p)}
    finally:
        con.execute("detach prev")
    return out


def _publish_snapshot(con: duckdb.DuckDBPyConnection, target: Path, previous: Path | None,
                      changed: Changed) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if previous is not None and any(v is not None for v in changed.values()):
        shutil.copyfile(previous, tmp)
    con.execute(f"attach '{tmp}' as pub")
    try:
        for schema in PUBLISHED_SCHEMAS:
            tables = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = "
                "current_database() and table_schema = ? and table_type = 'BASE TABLE' "
                "order by table_name", [schema]).fetchall()]
            con.execute(f"create schema if not exists pub.{schema}")
            for (old,) in con.execute(
                    "select table_name from information_schema.tables where table_catalog = "
                    "'pub' and table_schema = ?", [schema]).fetchall():
                if old not in tables:
                    con.execute(f'drop table pub.{schema}."{old}"')
            for table in tables:
                periods = changed.get(table) if schema == "marts" else None
                if periods is None:
                    con.execute(f'create or replace table pub.{schema}."{table}" as '
                                f'select * from {schema}."{table}"')
                elif periods:
                    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(periods))
                    con.execute(f'delete from pub.{schema}."{table}" where period in ({listed})')
                    con.execute(f'insert into pub.{schema}."{table}" select * from '
                                f'{schema}."{table}" where period in ({listed})')
        con.execute("create or replace table pub.main.published as select ? as published_at",
                    [datetime.now()])
        con.execute("checkpoint pub")
    finally:
        con.execute("detach pub")
    os.replace(tmp, target)
    return target


def _publish_parquet(data: DataDir, snapshot: Path, changed: Changed) -> Path:
    """Parquet per public mart, from the (immutable) snapshot just published."""
    base = data.root / "published"
    link = parquet_path(data)
    before = link.resolve() if link.is_symlink() and link.resolve().is_dir() else None
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
            if table not in LINE_MARTS:
                con.execute(f"copy (select * from marts.\"{table}\") to "
                            f"'{tmp / (table + '.parquet')}' (format parquet)")
                continue
            periods = changed.get(table)
            for period, year in con.execute(
                    f'select distinct period, fiscal_year from marts."{table}" '
                    "order by 1").fetchall():
                rel = Path(table) / f"fiscal_year={year}" / f"{period}.parquet"
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                old = before / rel if before is not None else None
                if periods is not None and period not in periods and old is not None \
                        and old.exists():
                    os.link(old, tmp / rel)
                else:
                    con.execute(f'copy (select * exclude (fiscal_year) from marts."{table}" '
                                f"where period = ?) to '{tmp / rel}' (format parquet)",
                                [period])
    finally:
        con.close()
    tmp.rename(final)
    new_link = base / f".parquet.{stamp}.link"
    new_link.symlink_to(final.name)
    os.replace(new_link, link)
    versions = sorted(p for p in base.glob("parquet.*") if p.is_dir() and not p.is_symlink())
    for old_version in versions[:-KEEP_PARQUET_VERSIONS]:
        shutil.rmtree(old_version, ignore_errors=True)
    return link
