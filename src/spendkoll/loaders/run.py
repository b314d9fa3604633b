"""Run the load of one source: every file in its landing directory, oldest name first."""

from __future__ import annotations

import fnmatch
import logging
import shutil
import time
from datetime import datetime
from pathlib import Path

import duckdb

from spendkoll.errors import FileRejected, LoadFailed
from spendkoll.keys import pseudonym_key
from spendkoll.loaders.decisions import load_decision_file
from spendkoll.loaders.pipeline import LoadResult, Reader, load_file, record_rejection
from spendkoll.loaders.register import load_register_file
from spendkoll.loaders.sie4 import prepare_sie4
from spendkoll.loaders.tabular import prepare_tabular
from spendkoll.loaders.xlsx import prepare_xlsx
from spendkoll.logs import progress
from spendkoll.paths import DataDir
from spendkoll.pii import hide_numbers
from spendkoll.sources import SourceConfig
from spendkoll.warehouse import writer

log = logging.getLogger(__name__)


def reader_for(cfg: SourceConfig, path: Path) -> Reader:
    if cfg.format == "sie4":
        return prepare_sie4
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return prepare_xlsx
    return prepare_tabular


def landing_files(cfg: SourceConfig, data: DataDir) -> list[Path]:
    folder = data.landing_for(cfg.landing_dir_name)
    folder.mkdir(parents=True, exist_ok=True)
    return sorted(p for p in folder.glob(cfg.pattern) if p.is_file() and not p.name.startswith("."))


def ignored_files(cfg: SourceConfig, data: DataDir) -> list[Path]:
    """Files in the source's landing folder that its pattern does not match."""
    folder = data.landing_for(cfg.landing_dir_name)
    if not folder.is_dir():
        return []
    matched = set(landing_files(cfg, data))
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p not in matched
    )


def record_ignored(
    con: duckdb.DuckDBPyConnection, cfg: SourceConfig, files: list[Path]
) -> list[LoadResult]:
    """Remember the source's ignored files (first and last seen) and report them."""
    reason = (
        f"the name does not match the source's pattern {cfg.pattern!r}: not loaded "
        "(rename it, or fix 'pattern' in the sources file)"
    )
    now = datetime.now()
    seen = dict(
        con.execute(
            "select file_name, first_seen from raw.ignored_file where source_name = ?", [cfg.name]
        ).fetchall()
    )
    con.execute("delete from raw.ignored_file where source_name = ?", [cfg.name])
    for path in files:
        con.execute(
            "insert into raw.ignored_file values (?, ?, ?, ?, ?)",
            [cfg.name, path.name, reason, seen.get(path.name, now), now],
        )
        log.warning("%s %s: ignored, %s", cfg.name, path.name, reason)
    return [LoadResult(cfg.name, p.name, "ignored", message=reason) for p in files]


def remove_orphans(con: duckdb.DuckDBPyConnection, cfg: SourceConfig, data: DataDir) -> None:
    """Remove what a load killed before its commit left behind: archive copies no
    committed batch names (their landing file is still there and loads again) and
    work files. Runs under the writer lock, so no other load is half-way."""
    archive = data.archive / cfg.name
    if archive.is_dir():
        # by name (<batch>_<sha256>_<file>): the data directory may have moved
        kept = {
            Path(r[0]).name
            for r in con.execute(
                "select archived_path from raw.load_batch where source_name = ? "
                "and archived_path is not null",
                [cfg.name],
            ).fetchall()
        }
        for path in archive.iterdir():
            if path.is_file() and path.name not in kept:
                log.warning(
                    "%s: removing %s, archived by a load that did not commit", cfg.name, path.name
                )
                path.unlink()
    work = data.work / cfg.name
    if work.is_dir():
        shutil.rmtree(work)


def prune_archive(con: duckdb.DuckDBPyConnection, cfg: SourceConfig, data: DataDir) -> int:
    """Delete the archived copies the source's `keep_archived` no longer keeps: those of
    replaced deliveries older than its newest `keep_archived`. The batch keeps its
    row (figures, checksum, status) with `archived_path` null and a note; the row
    goes first, so a crash in between leaves an orphan `remove_orphans` deletes."""
    if cfg.keep_archived is None:
        return 0
    rows = con.execute(
        "select batch_id, archived_path, status from raw.load_batch where source_name = ? "
        "and archived_path is not null and status in ('loaded', 'replaced') "
        "order by batch_id desc",
        [cfg.name],
    ).fetchall()
    old = [(b, Path(p)) for b, p, status in rows[cfg.keep_archived :] if status == "replaced"]
    for batch_id, path in old:
        con.execute(
            "update raw.load_batch set archived_path = null, message = "
            "concat_ws('; ', message, ?) where batch_id = ?",
            [f"archived copy deleted (keep_archived = {cfg.keep_archived})", batch_id],
        )
        # by name, as remove_orphans: the data directory may have moved
        (data.archive / cfg.name / path.name).unlink(missing_ok=True)
        log.info("%s: deleted the archived copy of replaced batch %s", cfg.name, batch_id)
    return len(old)


def earlier_rejections(
    con: duckdb.DuckDBPyConnection,
    cfg: SourceConfig,
    data: DataDir,
    since: datetime,
    results: list[LoadResult],
) -> list[LoadResult]:
    """Files of the source an earlier try of the same run rejected (since ``since``)
    and that still stand: the file still waits in rejected/ and no later delivery
    of the same name has loaded (a corrected file, or a held one confirmed)."""
    own = {r.batch_id for r in results}
    rows = con.execute(
        """
        select r.batch_id, r.file_name, r.message, r.archived_path from raw.load_batch as r
        where r.source_name = ? and r.status = 'rejected' and r.started_at >= ?
          and not exists (
              select 1 from raw.load_batch as later
              where later.source_name = r.source_name and later.file_name = r.file_name
                and later.batch_id > r.batch_id
                and later.status in ('loaded', 'replaced'))
        order by r.batch_id""",
        [cfg.name, since],
    ).fetchall()
    earlier = [
        LoadResult(cfg.name, name, "rejected", batch_id=b, message=f"{message} (an earlier try)")
        for b, name, message, path in rows
        # by name, as remove_orphans: the data directory may have moved
        if b not in own and path and (data.rejected / cfg.name / Path(path).name).exists()
    ]
    for r in earlier:
        log.error("rejected by an earlier try of this run: %s %s", r.file_name, r.message)
    return earlier


def take_back_held(cfg: SourceConfig, data: DataDir, names: set[str]) -> None:
    """Move confirmed deliveries that were held back from rejected/ to landing."""
    landing = data.landing_for(cfg.landing_dir_name)
    for name in names:
        if (landing / name).exists():
            continue
        held = sorted((data.rejected / cfg.name).glob(f"*_{name}"))
        if held:
            landing.mkdir(parents=True, exist_ok=True)
            shutil.move(str(held[-1]), landing / name)
            held[-1].with_name(held[-1].name + ".reason.txt").unlink(missing_ok=True)


def load_source(
    cfg: SourceConfig,
    data: DataDir | None = None,
    key: bytes | None = None,
    confirm: set[str] | None = None,
    rejected_since: datetime | None = None,
) -> list[LoadResult]:
    """Load every landing file of a source; raise :class:`LoadFailed` if any was rejected.

    Good files are loaded even when another file of the same run is rejected;
    the rejected ones are moved to ``rejected/<source>/`` with their reason.

    ``rejected_since`` (naive UTC; the scheduler's run start) also counts the files
    rejected since then by an earlier try of the same run: a try killed after
    moving a file aside, before it could fail, would otherwise leave its retry
    nothing to find, and the run would succeed.
    """
    data = (data or DataDir.from_env()).ensure()
    key = key or pseudonym_key()
    results: list[LoadResult] = []
    confirm = set(confirm or ())
    if confirm:
        take_back_held(cfg, data, confirm)
    files = landing_files(cfg, data)
    ignored = ignored_files(cfg, data)
    with writer(data.warehouse) as con:
        remove_orphans(con, cfg, data)
        results.extend(record_ignored(con, cfg, ignored))
        for path in progress(files, f"load {cfg.name}"):
            work = data.work / cfg.name
            started = time.perf_counter()
            try:
                confirmed = path.name in confirm or any(
                    fnmatch.fnmatch(path.name, pattern) for pattern in cfg.confirm
                )
                result: LoadResult
                if cfg.kind == "dq_decisions":
                    result = load_decision_file(con, path, cfg, data.archive / cfg.name, work, key)
                elif cfg.kind == "supplier_register":
                    result = load_register_file(
                        con, path, cfg, data.archive / cfg.name, work, key, confirmed
                    )
                else:
                    result = load_file(
                        con,
                        path,
                        cfg,
                        reader_for(cfg, path),
                        data.archive / cfg.name,
                        work,
                        key,
                        confirmed,
                    )
            except FileRejected as exc:
                reason = hide_numbers(f"{path.name}: {exc}") or ""
                log.error("rejected %s", reason)
                result = record_rejection(con, path, cfg, data.rejected / cfg.name, reason)
            except Exception as exc:  # noqa: BLE001 - one file never stops the others
                # Not a check of ours but the reader's or DuckDB's own error: the file
                # is rejected whole like any other (nothing of it was committed), and
                # the run goes on with the next file.
                reason = (
                    hide_numbers(
                        f"{path.name}: could not be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})"
                    )
                    or ""
                )
                log.error("rejected %s", reason)
                result = record_rejection(con, path, cfg, data.rejected / cfg.name, reason)
            finally:
                for tmp in work.glob(path.name + ".*"):
                    tmp.unlink()
            log.info(
                "%s %s: %s, %s rows in, %s loaded, %s quarantined, %s ids flagged, in %.1f s",
                cfg.name,
                path.name,
                result.status,
                f"{result.rows_in or 0:,}",
                f"{result.rows_loaded or 0:,}",
                f"{result.rows_quarantined or 0:,}",
                f"{result.rows_flagged or 0:,}",
                time.perf_counter() - started,
            )
            results.append(result)
        prune_archive(con, cfg, data)
        if rejected_since is not None:
            results.extend(earlier_rejections(con, cfg, data, rejected_since, results))
    rejected = [r for r in results if r.status == "rejected"]
    if rejected:
        raise LoadFailed(
            f"{len(rejected)} of {len(results)} file(s) of source {cfg.name!r} rejected "
            f"(moved to {data.rejected / cfg.name}):\n"
            + "\n".join(f"  - {r.message}" for r in rejected),
            list(results),
        )
    return results
