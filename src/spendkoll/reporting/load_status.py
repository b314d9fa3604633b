"""Row counts in, loaded and quarantined per source, from the batch log."""

from __future__ import annotations

from spendkoll.paths import DataDir
from spendkoll.warehouse import reader

STATUS_SQL = """
select source_name,
       count(*) filter (where status = 'loaded')                          as files_loaded,
       count(*) filter (where status = 'rejected')                        as files_rejected,
       coalesce(sum(rows_in) filter (where status = 'loaded'), 0)         as rows_in,
       coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0)     as rows_loaded,
       coalesce(sum(rows_quarantined) filter (where status = 'loaded'), 0) as rows_quarantined,
       coalesce(sum(rows_skipped) filter (where status = 'loaded'), 0)    as rows_skipped,
       coalesce(sum(rows_flagged) filter (where status = 'loaded'), 0)    as ids_flagged,
       sum(amount_loaded) filter (where status = 'loaded')                as amount
from raw.load_batch
group by source_name
order by source_name
"""


def ignored_files(data: DataDir) -> list[tuple[object, ...]]:
    """(source, file, first seen, last seen) of landing files no pattern matched."""
    if not data.warehouse.exists():
        return []
    con = reader(data.warehouse)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where "
            "table_schema = 'raw' and table_name = 'ignored_file'"
        ).fetchone()
        if exists != (1,):
            return []
        return con.execute(
            "select source_name, file_name, first_seen, last_seen "
            "from raw.ignored_file order by 1, 2"
        ).fetchall()
    finally:
        con.close()


# Rows of the controller's returned exceptions lists that were not taken as a
# decision, unless a later delivery decided the same exception.
DECISION_REJECTS_SQL = """
select r.file_name, r.line, r.column_name, r.value, r.expected
from raw.dq_decision_rejected r
where not exists (select 1 from raw.dq_decision d
                  where d.exception_id = r.exception_id and d.batch_id > r.batch_id)
order by r.batch_id, r.line, r.column_name
"""


def decision_rejects(data: DataDir) -> list[tuple[object, ...]]:
    """(file, line, column, value, expected) of decision rows not loaded."""
    if not data.warehouse.exists():
        return []
    con = reader(data.warehouse)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where "
            "table_schema = 'raw' and table_name = 'dq_decision_rejected'"
        ).fetchone()
        if exists != (1,):
            return []
        return con.execute(DECISION_REJECTS_SQL).fetchall()
    finally:
        con.close()


def load_status(data: DataDir) -> list[tuple[object, ...]]:
    if not data.warehouse.exists():
        return []
    con = reader(data.warehouse)
    try:
        return con.execute(STATUS_SQL).fetchall()
    finally:
        con.close()


def print_load_status(data: DataDir) -> None:
    rows = load_status(data)
    if not rows:
        print(f"nothing loaded yet into {data.warehouse}")
        return
    print(f"Loaded into {data.warehouse} (current batches; replaced deliveries not counted):")
    print(
        f"{'source':<16}{'files':>6}{'rejected':>9}{'rows in':>12}{'loaded':>12}"
        f"{'quarantined':>13}{'skipped':>9}{'ids flagged':>12}{'amount SEK':>20}"
    )
    for src, files, rej, rin, loaded, quar, skipped, flagged, amount in rows:
        amt = f"{amount:,.2f}" if amount is not None else "-"
        print(
            f"{src!s:<16}{files:>6}{rej:>9}{rin:>12,}{loaded:>12,}{quar:>13,}{skipped:>9,}"
            f"{flagged:>12,}{amt:>20}"
        )
    print(f"Rejected files, if any, are in {data.rejected} with a .reason.txt beside each.")
    ignored = ignored_files(data)
    if ignored:
        print(
            f"Not loaded: {len(ignored)} file(s) in a landing folder whose name matches no "
            "pattern of its source (rename them, or fix 'pattern' in the sources file):"
        )
        for src, name, first, last in ignored:
            print(f"  {src!s:<16}{name!s:<44} seen {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M}")
    rejects = decision_rejects(data)
    if rejects:
        print(
            f"Decisions not loaded: {len(rejects)} value(s) in the controller's returned "
            "lists (raw.dq_decision_rejected); correct them and deliver the rows again:"
        )
        for name, line, column, value, expected in rejects[:50]:
            print(f"  {name!s} line {line}, column {column!r}, value {value!r}: {expected}")
        if len(rejects) > 50:
            print(f"  ... and {len(rejects) - 50} more")
