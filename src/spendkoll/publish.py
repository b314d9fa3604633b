"""Publishing the marts for readers: a read-only DuckDB snapshot and Parquet files,
switched together by one atomic rename.

BI tools and reports never open the live warehouse (DuckDB allows one writer
or many readers, never both). After a run whose blocking checks passed, a new
version is written into ``published/versions/.<stamp>.tmp/`` and renamed to
``published/versions/<stamp>/``:

* ``spendkoll_marts.duckdb``: the ``marts`` and ``reference`` schemas;
* ``parquet/``: every public mart as Parquet. The line marts (``fct_spend``,
  ``dq_invoice_exceptions``) are partitioned by fiscal year, Hive style, one
  file per period: ``fct_spend/fiscal_year=2025/2025-03.parquet``.

Then the symlink ``published/current`` is switched to the new version with one
``rename``: the only step readers can see. Readers open
``published/spendkoll_marts.duckdb`` and ``published/parquet``, fixed symlinks
into ``current``, so the snapshot and the Parquet files always show the same
version. The previous version is kept for readers still on it; older ones, and
whatever a publish killed half-way left behind (``.tmp`` directories with their
``.wal`` files, link files), are removed by the next publish.

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
from spendkoll.faults import fault_point
from spendkoll.logs import timed
from spendkoll.paths import DataDir
from spendkoll.warehouse import writer

PUBLISHED_SCHEMAS = ("marts", "reference")
# Line marts: published per period, partitioned by fiscal year.
LINE_MARTS = ("fct_spend", "dq_invoice_exceptions")
SNAPSHOT = "spendkoll_marts.duckdb"

Changed = dict[str, "set[str] | None"]  # line mart -> periods to copy again (None: all)


def published_path(data: DataDir) -> Path:
    """The snapshot readers open (a symlink into the current version)."""
    return data.root / "published" / SNAPSHOT


def parquet_path(data: DataDir) -> Path:
    """The Parquet folder readers open (a symlink into the current version)."""
    return data.root / "published" / "parquet"


def current_version(data: DataDir) -> Path | None:
    """The published version readers see, ``published/versions/<stamp>``."""
    link = data.root / "published" / "current"
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


class PublishRefused(SpendkollError):
    """The marts in the warehouse come from a failed or unfinished step."""


@timed("publish")
def publish(data: DataDir, force: bool = False) -> Path:
    """Publish the snapshot and the Parquet files; returns the snapshot's path.
    Refuses (PublishRefused) after a failed or unfinished step unless ``force``."""
    base = data.root / "published"
    versions = base / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    # The writer lock for the whole publish: one publish at a time, and no build
    # changes the marts while they are copied.
    with writer(data.warehouse) as con:
        _remove_leftovers(base)
        before = current_version(data)
        # (a warehouse published before versions existed: its snapshot file and
        # Parquet symlink are the previous version)
        previous = (
            before / SNAPSHOT
            if before is not None
            else (published_path(data) if published_path(data).is_file() else None)
        )
        previous_parquet = (
            before / "parquet"
            if before is not None
            else (parquet_path(data).resolve() if parquet_path(data).is_symlink() else None)
        )
        blockers = publish_blockers(con, previous)
        if blockers and not force:
            raise PublishRefused(
                "not published; the last published marts stay. "
                + " ".join(f"{b}." for b in blockers)
                + " Fix it and run the step again (or publish anyway with "
                "`spendkoll publish --force`)."
            )
        changed = changed_periods(con, previous)
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        tmp = versions / f".{stamp}.tmp"
        tmp.mkdir()
        _publish_snapshot(con, tmp / SNAPSHOT, previous, changed)
        fault_point("publish.snapshot_written")
        _publish_parquet(tmp / SNAPSHOT, tmp / "parquet", previous_parquet, changed)
        fault_point("publish.parquet_written")
        final = versions / stamp
        tmp.rename(final)
        fault_point("publish.version_ready")
        _switch(base / "current", Path("versions") / stamp)  # readers see it from here
        fault_point("publish.switched")
        _switch(published_path(data), Path("current") / SNAPSHOT, only_if_missing=True)
        _switch(parquet_path(data), Path("current") / "parquet", only_if_missing=True)
        _remove_old_versions(base, final, before)
    return published_path(data)


def _switch(link: Path, target: Path, only_if_missing: bool = False) -> None:
    """Point ``link`` at ``target`` (relative) with one atomic rename. With
    ``only_if_missing`` an existing link already pointing there is left alone
    (a regular file or an older link of the pre-versions layout is replaced)."""
    if only_if_missing and link.is_symlink() and Path(os.readlink(link)) == target:
        return
    new = link.with_name(f".{link.name}.{os.getpid()}.link")
    new.unlink(missing_ok=True)
    new.symlink_to(target)
    os.replace(new, link)


def _remove_leftovers(base: Path) -> None:
    """What a publish killed half-way left: temporary versions (with DuckDB's
    .wal and .tmp files), link files, and the pre-versions layout's temporaries.
    Called under the writer lock, so no publish is running."""
    for path in [*base.glob(".*"), *(base / "versions").glob(".*")]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _remove_old_versions(base: Path, current: Path, previous: Path | None) -> None:
    """Keep the current version and the one readers may still be on."""
    keep = {current, previous}
    for old in (base / "versions").iterdir():
        if old.is_dir() and not old.name.startswith(".") and old not in keep:
            shutil.rmtree(old, ignore_errors=True)
    # the pre-versions layout: Parquet folders next to the links, removed once a
    # publish in the new layout has been seen by readers (the next one)
    if previous is not None:
        for old in base.glob("parquet.*"):
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)


def _table_exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = ? and "
            "table_schema = ? and table_name = ?",
            [catalog, schema, table],
        ).fetchone()[0]  # type: ignore[index]
    )


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
            "order by started_at desc, finished_at desc nulls first limit 1"
        ).fetchone()
        if last is not None:
            command, started, status, failures = last
            when = f"{started:%Y-%m-%d %H:%M:%S}"
            if status == "running":
                out.append(
                    f"step `dbt {command}` (started {when}) did not finish: it was "
                    "stopped, or it is still running"
                )
            elif status != "success":
                out.append(f"step `dbt {command}` (started {when}) failed: {failures}")
    if _table_exists(con, here, "quality", "validation_result"):
        published_at = None
        if previous is not None:
            con.execute(f"attach '{previous}' as prev_pub (read_only)")
            try:
                if _table_exists(con, "prev_pub", "main", "published"):
                    row = con.execute(
                        "select max(published_at) from prev_pub.main.published"
                    ).fetchone()
                    published_at = row[0] if row else None
            finally:
                con.execute("detach prev_pub")
        for stage in ("raw", "marts"):
            row = con.execute(
                "select run_id, max(validated_at) from quality.validation_result "
                "where stage = ? group by run_id order by 2 desc limit 1",
                [stage],
            ).fetchone()
            if row is None or (published_at is not None and row[1] <= published_at):
                continue
            failed = con.execute(
                "select suite, expectation, coalesce(column_name, ''), target "
                "from quality.validation_result where run_id = ? and stage = ? "
                "and severity = 'blocking' and not success order by suite, expectation",
                [row[0], stage],
            ).fetchall()
            if failed:
                shown = "; ".join(
                    f"{suite} {exp}({col}) on {target}" for suite, exp, col, target in failed[:5]
                )
                more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
                out.append(
                    f"step `validate {stage}` ({row[1]:%Y-%m-%d %H:%M:%S}) has "
                    f"{len(failed)} blocking failure(s): {shown}{more}"
                )
    return out


def _columns(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str
) -> list[tuple[str, str]]:
    return [
        (c, t)
        for c, t in con.execute(
            "select column_name, data_type from information_schema.columns where table_catalog = ? "
            "and table_schema = ? and table_name = ? order by ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    ]


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
            if (
                not cols
                or cols != _columns(con, "prev", "marts", table)
                or ("built_at", "TIMESTAMP") not in cols
            ):
                continue
            marks = "select period, count(*), max(built_at) from {} group by period"
            now = {
                p: (n, b) for p, n, b in con.execute(marks.format(f'marts."{table}"')).fetchall()
            }
            before = {
                p: (n, b)
                for p, n, b in con.execute(marks.format(f'prev.marts."{table}"')).fetchall()
            }
            out[table] = {p for p in now.keys() | before.keys() if now.get(p) != before.get(p)}
    finally:
        con.execute("detach prev")
    return out


def _publish_snapshot(
    con: duckdb.DuckDBPyConnection, tmp: Path, previous: Path | None, changed: Changed
) -> None:
    """Write the snapshot to ``tmp`` (inside the new version's temporary folder)."""
    if previous is not None and any(v is not None for v in changed.values()):
        shutil.copyfile(previous, tmp)
    con.execute(f"attach '{tmp}' as pub")
    try:
        for schema in PUBLISHED_SCHEMAS:
            tables = [
                r[0]
                for r in con.execute(
                    "select table_name from information_schema.tables where table_catalog = "
                    "current_database() and table_schema = ? and table_type = 'BASE TABLE' "
                    "order by table_name",
                    [schema],
                ).fetchall()
            ]
            con.execute(f"create schema if not exists pub.{schema}")
            for (old,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = "
                "'pub' and table_schema = ?",
                [schema],
            ).fetchall():
                if old not in tables:
                    con.execute(f'drop table pub.{schema}."{old}"')
            for table in tables:
                periods = changed.get(table) if schema == "marts" else None
                if periods is None:
                    con.execute(
                        f'create or replace table pub.{schema}."{table}" as '
                        f'select * from {schema}."{table}"'
                    )
                elif periods:
                    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(periods))
                    con.execute(f'delete from pub.{schema}."{table}" where period in ({listed})')
                    con.execute(
                        f'insert into pub.{schema}."{table}" select * from '
                        f'{schema}."{table}" where period in ({listed})'
                    )
        con.execute(
            "create or replace table pub.main.published as select ? as published_at",
            [datetime.now()],
        )
        con.execute("checkpoint pub")
    finally:
        con.execute("detach pub")


def _publish_parquet(snapshot: Path, tmp: Path, before: Path | None, changed: Changed) -> None:
    """Parquet per public mart into ``tmp``, from the snapshot just written;
    unchanged periods of the line marts are hard links to ``before``'s files."""
    tmp.mkdir(parents=True)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by table_name"
            ).fetchall()
        ]
        for table in tables:
            if table not in LINE_MARTS:
                con.execute(
                    f'copy (select * from marts."{table}") to '
                    f"'{tmp / (table + '.parquet')}' (format parquet)"
                )
                continue
            periods = changed.get(table)
            for period, year in con.execute(
                f'select distinct period, fiscal_year from marts."{table}" order by 1'
            ).fetchall():
                rel = Path(table) / f"fiscal_year={year}" / f"{period}.parquet"
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                old = before / rel if before is not None else None
                if (
                    periods is not None
                    and period not in periods
                    and old is not None
                    and old.exists()
                ):
                    os.link(old, tmp / rel)
                else:
                    con.execute(
                        f'copy (select * exclude (fiscal_year) from marts."{table}" '
                        f"where period = ?) to '{tmp / rel}' (format parquet)",
                        [period],
                    )
    finally:
        con.close()
