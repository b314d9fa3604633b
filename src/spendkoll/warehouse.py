"""The embedded DuckDB warehouse: raw-layer schema and the single-writer rule.

DuckDB allows one writing process at a time.  Every writer in spendkoll goes
through :func:`writer`, which holds an exclusive file lock beside the database
for as long as the connection is open (Airflow additionally runs writers in a
one-slot pool).  Readers (BI tools) never open this file: they get published
copies.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from spendkoll.errors import SpendkollError
from spendkoll.settings import settings

RAW_DDL = """
create schema if not exists raw;

create table if not exists raw.load_batch (
    batch_id          bigint primary key,
    source_name       varchar not null,
    kind              varchar not null,
    file_name         varchar not null,
    archived_path     varchar,
    sha256            varchar not null,
    format            varchar,
    encoding          varchar,
    delimiter         varchar,
    decimal_separator varchar,
    rows_in           bigint,
    rows_loaded       bigint,
    rows_quarantined  bigint,
    rows_skipped      bigint,
    rows_flagged      bigint,
    amount_loaded     decimal(18, 2),
    scope_keys        varchar[],
    status            varchar not null,  -- loaded | replaced | rejected
    message           varchar,
    replaced_by       bigint,
    started_at        timestamp not null,
    finished_at       timestamp,
    column_map        varchar            -- JSON: spendkoll field -> the file's column
);
-- warehouses created before column_map existed
alter table raw.load_batch add column if not exists column_map varchar;

create table if not exists raw.ledger_line (
    batch_id              bigint not null,
    source_name           varchar not null,
    source_line           bigint not null,
    verification_id       varchar,
    line_number           integer,
    posting_date          date not null,
    posting_date_derived  boolean not null,
    period                varchar not null,
    invoice_date          date,
    invoice_number        varchar,
    supplier_key          varchar,
    supplier_id_status    varchar not null,
    supplier_legal_form   varchar,
    supplier_id_note      varchar,
    supplier_id_raw       varchar,
    supplier_name         varchar,
    account               varchar not null,
    account_text          varchar,
    cost_centre           varchar,
    amount                decimal(18, 2) not null,
    vat                   decimal(18, 2),
    description           varchar
);

create table if not exists raw.contract (
    batch_id               bigint not null,
    source_name            varchar not null,
    source_line            bigint not null,
    contract_id            varchar not null,
    title                  varchar,
    supplier_key           varchar,
    supplier_id_status     varchar not null,
    supplier_legal_form    varchar,
    supplier_id_note       varchar,
    supplier_id_raw        varchar,
    supplier_name          varchar,
    category               varchar,
    start_date             date not null,
    end_date               date not null,
    latest_end_date        date,
    contract_type          varchar,
    procured_by            varchar,
    registered_date        date,
    estimated_annual_value decimal(18, 2)
);

create table if not exists raw.ecommerce_order (
    batch_id            bigint not null,
    source_name         varchar not null,
    source_line         bigint not null,
    order_id            varchar not null,
    order_date          date not null,
    period              varchar not null,
    supplier_key        varchar,
    supplier_id_status  varchar not null,
    supplier_legal_form varchar,
    supplier_id_note    varchar,
    supplier_id_raw     varchar,
    cost_centre         varchar,
    amount              decimal(18, 2) not null,
    from_catalogue      boolean,
    invoice_number      varchar
);

-- The supplier register (kind supplier_register, issue 17): the business
-- registers' bulk files, each delivery a snapshot replacing the previous one of
-- its source. supplier_key is the ledger's key of the identity (an org number
-- NNNNNN-NNNN, or a sole trader's pseudonym: the personnummer is never stored);
-- a sole trader's name and address are not stored either.
-- Bolagsverket's bulk file (bolagsverket_bulkfil.txt): a row per registration
-- (identity + namnskyddslopnummer); coded suffixes ($ORGNR-IDORG, -ORGFO, -AVORG,
-- -AVOMFO) are stripped to the code.
create table if not exists raw.register_bolagsverket (
    batch_id              bigint not null,
    source_name           varchar not null,
    source_line           bigint not null,
    supplier_key          varchar not null,
    identity_type         varchar not null,  -- ORGNR | PERSON | GDNR | ... (the -IDORG code)
    name_protection_no    integer,           -- namnskyddslopnummer; null when empty
    legal_form            varchar,           -- AB, HB, KB, E, EK, BRF, ... (-ORGFO stripped)
    name                  varchar,           -- the first FORETAGSNAMN; null for a sole trader
    registration_date     date,
    deregistration_date   date,
    deregistration_reason varchar,           -- KKAV (bankruptcy), LIAV, FUAV, ... (-AVORG stripped)
    procedures            varchar,           -- winding-up/restructuring: 'KK:2024-06-05|...'
    postal_code           varchar,           -- null for a sole trader
    postal_town           varchar            -- null for a sole trader
);

-- SCB's bulk file of legal units (scb_bulkfil_JE_*.txt), a row per unit.
create table if not exists raw.register_scb (
    batch_id          bigint not null,
    source_name       varchar not null,
    source_line       bigint not null,
    supplier_key      varchar not null,
    is_sole_trader    boolean not null,
    legal_form_code   varchar,   -- JurForm: 49 aktiebolag, 31 handelsbolag, 10 fysisk person, ...
    company_status    varchar,   -- FtgStat: 0 never active, 1 active, 9 not active
    unit_status       varchar,   -- JEStat: 1, 2 in the population, 9 left it
    sni_1             varchar,   -- Ng1..Ng5: 5-digit industry codes, Ng1 the main one
    sni_2             varchar,
    sni_3             varchar,
    sni_4             varchar,
    sni_5             varchar,
    name              varchar,   -- null for a sole trader
    postal_code       varchar,   -- null for a sole trader
    postal_town       varchar,   -- null for a sole trader
    registered_date   date       -- RegDatKtid: when the unit entered SCB's register
);

-- SCB's size classes by employees, as bought (org number; storleksklass 0-16).
create table if not exists raw.register_size_class (
    batch_id      bigint not null,
    source_name   varchar not null,
    source_line   bigint not null,
    supplier_key  varchar not null,
    size_class    smallint not null  -- 0 unknown, 1 = 0 employees, 2 = 1-4, ..., 16 = 10000+
);

-- Files in a source's landing folder whose name matches none of its pattern:
-- not loaded, reported (load summary, status, the controller's report).
create table if not exists raw.ignored_file (
    source_name varchar not null,
    file_name   varchar not null,
    reason      varchar not null,
    first_seen  timestamp not null,
    last_seen   timestamp not null
);

create table if not exists raw.quarantine (
    batch_id    bigint not null,
    source_name varchar not null,
    file_name   varchar not null,
    line        bigint,
    column_name varchar,
    value       varchar,
    reason      varchar not null
);

-- The contract controller's decisions on the exceptions list (loaders/decisions.py),
-- one row per decided row of a returned list. Never replaced: the latest decision
-- on an exception wins (stg_controller__dq_decisions, dq_exception_status).
create table if not exists raw.dq_decision (
    batch_id           bigint not null,
    source_name        varchar not null,
    source_file        varchar not null,
    source_line        bigint not null,
    exception_id       varchar not null,
    decision           varchar not null,  -- confirmed | dismissed | corrected
    decision_as_written varchar not null,
    comment            varchar,           -- personnummer masked
    initials           varchar not null,
    decided_on         date not null,
    decided_on_given   boolean not null,  -- false: the file's delivery date
    loaded_at          timestamp not null
);

-- Rows of a returned list that could not be taken as a decision: file, line,
-- the file's column, the value and what was expected. The good rows load.
create table if not exists raw.dq_decision_rejected (
    batch_id     bigint not null,
    source_name  varchar not null,
    file_name    varchar not null,
    line         bigint not null,
    column_name  varchar not null,
    value        varchar,
    expected     varchar not null,
    exception_id varchar               -- when the row's id could be read
);
"""


def next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    """The next batch id: one above every batch recorded. Not a sequence: DuckDB
    can hand out a sequence's values again after it replays its WAL following a
    crash, and the ids must stay unique. Safe because every writer holds the
    warehouse's writer lock."""
    row = con.execute("select coalesce(max(batch_id), 0) + 1 from raw.load_batch").fetchone()
    assert row is not None
    return int(row[0])


RAW_TABLES = {
    "ledger": "raw.ledger_line",
    "contracts": "raw.contract",
    "ecommerce": "raw.ecommerce_order",
    "dq_decisions": "raw.dq_decision",
    # kind supplier_register: a table per format (loaders/register.py)
    "bolagsverket": "raw.register_bolagsverket",
    "scb_je": "raw.register_scb",
    "size_class": "raw.register_size_class",
}


class WarehouseBusy(SpendkollError):
    pass


def limit_memory(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Memory limit (SPENDKOLL_DUCKDB_MEMORY_LIMIT, default 3GB; DuckDB's own default is
    80 % of the machine's memory). Beyond it DuckDB spills to ``<warehouse>.tmp``.

    Set with SET, not as a connect-time config: within one process (Airflow's
    `dags test`, dbt's in-process runner) DuckDB refuses a second connection to
    the same file with a different configuration."""
    con.execute("set memory_limit = ?", [settings().duckdb_memory_limit])
    return con


@contextmanager
def writer(path: Path, wait_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, held under an exclusive lock beside the file."""
    with writer_lock(path, wait_seconds):
        con = limit_memory(duckdb.connect(str(path)))
        try:
            con.execute(RAW_DDL)
            yield con
        finally:
            con.close()


@contextmanager
def writer_lock(path: Path, wait_seconds: float = 600.0) -> Iterator[int]:
    """The exclusive lock every writer of the warehouse holds (loaders, dbt, ...).

    Yields the lock file's descriptor: a child process that writes (dbt) is
    given it, so the lock (an flock on the open file) is held until the last
    process holding it has exited, even when the parent is killed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".writer.lock")
    deadline = time.monotonic() + wait_seconds
    with lock_path.open("a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"{path}: another spendkoll writer held the warehouse for "
                        f"{wait_seconds:.0f}s; DuckDB allows one writer at a time"
                    ) from None
                time.sleep(0.5)
        try:
            yield lock.fileno()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection. While a writer holds the file (DuckDB allows one
    writer or many readers, never both) it raises :class:`WarehouseBusy` saying
    so, instead of DuckDB's lock error."""
    try:
        return limit_memory(duckdb.connect(str(path), read_only=True))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusy(
            f"{path} is being written right now (a load, transform or publish is running; "
            "DuckDB allows one writer or many readers, never both). Try again when it has "
            "finished, or read the published snapshot published/spendkoll_marts.duckdb."
        ) from None
