"""Great Expectations validation of the raw layer and the marts, in bounded memory.

The suites are JSON files in ``expectations/suites/`` (GX 1.x format). GX's SQL
datasource returns no rows over DuckDB (see the stack notes), and pulling a
10-million-line table into one DataFrame would not fit the memory target, so:

* **row-level suites** (``raw_ledger_line``, ``raw_contract``,
  ``raw_ecommerce_order``) run on the pandas datasource over chunks of at most
  ``chunk_rows`` rows, streamed from DuckDB as Arrow record batches, one loaded
  batch (file) at a time. Only batches not validated before are read, so a
  night validates its new files, not the history. Results are summed over the
  chunks of a file;
* **table-level suites** (``raw_dataset``, ``marts_dataset``) run on one row of
  metrics that DuckDB computes over whole tables (uniqueness, reconciliation,
  personnummer scan, KPI ranges).

Every expectation carries GX's severity: ``critical`` is *blocking* (the run
stops and the published marts stay as they were), ``warning`` and ``info`` are
reported. Results go to ``quality.validation_result`` (a history, for the
trend) and to GX Data Docs under ``<data>/gx/``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from spendkoll.ids import classify_supplier_id
from spendkoll.logs import stage
from spendkoll.paths import DataDir, project_root
from spendkoll.runtime import disable_telemetry
from spendkoll.settings import settings
from spendkoll.warehouse import writer

log = logging.getLogger(__name__)

SUITES_DIR = project_root() / "expectations" / "suites"
SEVERITY = {"critical": "blocking", "warning": "warning", "info": "info"}

QUALITY_DDL = """
create schema if not exists quality;
create table if not exists quality.validation_result (
    run_id            varchar not null,
    validated_at      timestamp not null,
    stage             varchar not null,
    suite             varchar not null,
    target            varchar not null,
    batch_id          bigint,
    expectation       varchar not null,
    column_name       varchar,
    severity          varchar not null,
    success           boolean not null,
    element_count     bigint,
    unexpected_count  bigint,
    observed          varchar,
    examples          varchar,
    notes             varchar
);
create table if not exists quality.validated_batch (
    batch_id      bigint not null,
    suite         varchar not null,
    run_id        varchar not null,
    success       boolean not null,
    validated_at  timestamp not null
);
"""

# Row-level suites: the raw table, the columns their expectations read (years as
# integers, amounts as doubles) and the batch kind they belong to. What the raw
# tables' DDL already enforces (NOT NULL, column types) is not checked again here:
# a row that breaks it never loads (``test_validation`` checks the suites against
# the DDL).
ROW_SUITES: dict[str, tuple[str, str]] = {
    "raw_ledger_line": (
        "ledger",
        """
        select line_number, cast(extract(year from posting_date) as integer) as posting_year,
               period, account, cost_centre, cast(amount as double) as amount,
               supplier_key, supplier_id_status, supplier_id_raw
        from raw.ledger_line where batch_id = ? order by source_line""",
    ),
    "raw_contract": (
        "contracts",
        """
        select supplier_key, supplier_id_status, supplier_id_raw, category, start_date,
               end_date, cast(extract(year from start_date) as integer) as start_year
        from raw.contract where batch_id = ? order by source_line""",
    ),
    "raw_ecommerce_order": (
        "ecommerce",
        """
        select cast(extract(year from order_date) as integer) as order_year,
               supplier_key, supplier_id_status, supplier_id_raw,
               cast(amount as double) as amount
        from raw.ecommerce_order where batch_id = ? order by source_line""",
    ),
}

RAW_METRICS = """
select
    (select count(*) - count(distinct (source_name, batch_id, source_line))
       from raw.ledger_line) as ledger_duplicate_line_keys,
    (select coalesce(sum(abs(coalesce(l.amount, 0) - coalesce(b.amount_loaded, 0))), 0)
       from raw.load_batch b
       left join (select batch_id, sum(amount) as amount from raw.ledger_line
                  group by batch_id) l on l.batch_id = b.batch_id
       where b.kind = 'ledger' and b.status = 'loaded') as ledger_batch_amount_diff,
    (select count(*) from raw.ledger_line) as ledger_lines,
    (select count(*) - count(distinct (contract_id, coalesce(supplier_key, '')))
       from raw.contract) as contract_duplicate_keys,
    (select count(*) - count(distinct order_id) from raw.ecommerce_order)
       as ecommerce_duplicate_order_ids,
    -- the supplier register: one snapshot per source, one row per registration or unit
    (select count(*) from (select source_name from raw.load_batch
                           where kind = 'supplier_register' and status = 'loaded'
                           group by source_name having count(*) > 1))
       as register_sources_with_several_snapshots,
    (select count(*) - count(distinct (supplier_key, coalesce(name_protection_no, 0)))
       from raw.register_bolagsverket) as register_bolagsverket_duplicate_keys,
    (select count(*) - count(distinct supplier_key) from raw.register_scb)
       as register_scb_duplicate_keys,
    (select count(*) - count(distinct supplier_key) from raw.register_size_class)
       as register_size_duplicate_keys,
    -- days since the oldest of the register sources' current snapshots was loaded
    -- (0 without a register): the bulk files are published weekly
    (select coalesce(max(date_diff('day', finished_at, localtimestamp)), 0)
       from raw.load_batch where kind = 'supplier_register' and status = 'loaded'
         and format in ('bolagsverket', 'scb_je')) as register_snapshot_age_days,
    -- ledger suppliers with an organisationsnummer found in neither bulk file
    -- (0 without one): a register of another country, a cut file or a stale one
    (select case when not exists (select 1 from raw.register_bolagsverket)
                  and not exists (select 1 from raw.register_scb) then 0
                 else coalesce(avg(case when r.supplier_key is null then 1.0 else 0.0 end), 0)
            end
       from (select distinct supplier_key from raw.ledger_line
             where supplier_id_status = 'orgnr') as l
       left join (select supplier_key from raw.register_bolagsverket
                  union select supplier_key from raw.register_scb) as r
         on r.supplier_key = l.supplier_key) as ledger_suppliers_not_in_register_share
"""

MARTS_METRICS = """
select
    -- a blocking exception stops publication until the controller decides on it
    -- (dismissed, confirmed or corrected in a returned list: dq_exception_status)
    (select count(*) from marts.dq_invoice_exceptions as e
       where e.severity = 'blocking'
         and not exists (
             select 1 from marts.dq_exception_status as s
             where s.exception_id = e.exception_id
               and s.status in ('dismissed', 'confirmed', 'resolved')))
        as blocking_invoice_exceptions,
    (select count(*) from marts.fct_spend where spend_class = 'unclassified')
        as unclassified_lines
"""

# A personnummer-shaped run of digits: YYMMDD (day + 60 for samordningsnummer),
# optional century, optional - or +, four digits. An organisationsnummer's
# "month" is 20 or more, so it never matches.
PNR_PATTERN = (
    r"(19|20)?[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])"
    r"[-+]?[0-9]{4}"
)
PSEUDONYM_PATTERN = "PNR-[0-9A-Za-z]+"
# Text columns that hold other parties' reference numbers, not people: left out
# of the personnummer scan (an invoice number can look like a date).
PNR_SCAN_SKIP = {
    "invoice_number",
    "verification_id",
    "exception_id",
    "ledger_line_id",
    "explanation_sv",
    "explanation_en",
}


@dataclass
class Outcome:
    suite: str
    target: str
    batch_id: int | None
    expectation: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: str | None = None
    examples: list[str] = field(default_factory=list)
    notes: str | None = None

    def line(self) -> str:
        what = f"{self.expectation}({self.column})" if self.column else self.expectation
        count = "" if self.unexpected_count is None else f", {self.unexpected_count:,} rows"
        obs = "" if self.observed is None else f", observed {self.observed}"
        ex = f", e.g. {', '.join(self.examples[:3])}" if self.examples else ""
        return f"[{self.severity}] {self.suite} on {self.target}: {what}{count}{obs}{ex}"


@dataclass
class ValidationReport:
    stage: str
    run_id: str
    outcomes: list[Outcome]
    docs_index: Path | None = None

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def blocking(self) -> list[Outcome]:
        return [o for o in self.failures if o.severity == "blocking"]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        fails = self.failures
        head = (
            f"validation {self.stage} ({self.run_id}): {len(self.outcomes)} expectation "
            f"results, {len(fails)} failed, {len(self.blocking)} blocking"
        )
        return "\n".join([head, *("  " + o.line() for o in fails)])


def load_suite_json(name: str) -> dict[str, Any]:
    path = SUITES_DIR / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def expectation_parameters() -> dict[str, Any]:
    config = settings()
    return {
        "first_fiscal_year": config.first_fiscal_year,
        "last_fiscal_year": config.last_fiscal_year,
        "max_amount": config.max_line_amount,
        "min_amount": -config.max_line_amount,
    }


class Validator:
    """GX context under ``<data>/gx``; the suites loaded from ``expectations/suites``."""

    def __init__(self, data: DataDir, chunk_rows: int = 250_000, build_docs: bool = True):
        disable_telemetry()
        import great_expectations as gx

        self.gx = gx
        self.data = data
        self.chunk_rows = chunk_rows
        self.build_docs = build_docs
        root = data.root / "gx"
        root.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(root))
        self.context.variables.progress_bars = {  # type: ignore[assignment]
            "globally": False,
            "metric_calculations": False,
            "profilers": False,
        }
        self.context.variables.save()
        self.source = self.context.data_sources.add_or_update_pandas("spendkoll")
        self.checkpoints: dict[str, Any] = {}
        self.results: list[Any] = []  # this validation's result ids, for Data Docs
        self.params = expectation_parameters()

    def _checkpoint(self, suite_name: str) -> Any:
        if suite_name in self.checkpoints:
            return self.checkpoints[suite_name]
        gx = self.gx
        spec = load_suite_json(suite_name)
        suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(
                name=suite_name, expectations=spec["expectations"], meta=spec.get("meta", {})
            )
        )
        try:
            asset = self.source.get_asset(suite_name)
        except LookupError:
            asset = self.source.add_dataframe_asset(suite_name)
        try:
            batch_def = asset.get_batch_definition("chunk")
        except (KeyError, LookupError):
            batch_def = asset.add_batch_definition_whole_dataframe("chunk")
        vd = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch_def, suite=suite)
        )
        # No per-run action: Data Docs are built once per validation, for its results
        # only (an action per chunk rebuilt the whole site's index every time).
        cp = self.context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=suite_name,
                validation_definitions=[vd],
                actions=[],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
        )
        self.checkpoints[suite_name] = cp
        return cp

    def _run(self, suite_name: str, frame: Any, run_name: str) -> list[Outcome]:
        cp = self._checkpoint(suite_name)
        result = cp.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=self.params,
            run_id=self.gx.RunIdentifier(run_name=run_name),
        )
        outcomes = []
        self.results += list(result.run_results)
        for vr in result.run_results.values():
            for r in vr.results:
                cfg = r.expectation_config
                sev = getattr(cfg.severity, "value", str(cfg.severity))
                res = r.result or {}
                observed = res.get("observed_value")
                examples = [str(v) for v in (res.get("partial_unexpected_list") or [])]
                outcomes.append(
                    Outcome(
                        suite=suite_name,
                        target=run_name,
                        batch_id=None,
                        expectation=cfg.type,
                        column=cfg.kwargs.get("column"),
                        severity=SEVERITY.get(sev, "warning"),
                        success=bool(r.success),
                        element_count=res.get("element_count"),
                        unexpected_count=res.get("unexpected_count"),
                        observed=None if observed is None else str(observed),
                        examples=examples,
                        notes=(cfg.meta or {}).get("notes"),
                    )
                )
        return outcomes

    # row-level suites, chunked -------------------------------------------------
    def _chunks(self, con: duckdb.DuckDBPyConnection, sql: str, batch_id: int) -> Iterator[Any]:
        reader = con.execute(sql, [batch_id]).to_arrow_reader(self.chunk_rows)
        for rb in reader:
            yield rb.to_pandas()

    def validate_raw(self, revalidate: bool = False) -> ValidationReport:
        with stage(log, "raw validation") as done:
            report = self._validate_raw(revalidate)
            done.rows, done.extra = _counts(report)
        return report

    def validate_marts(self) -> ValidationReport:
        with stage(log, "marts validation") as done:
            report = self._validate_marts()
            done.rows, done.extra = _counts(report)
        return report

    def _validate_raw(self, revalidate: bool = False) -> ValidationReport:
        run_id = "raw-" + datetime.now().strftime("%Y%m%dT%H%M%S%f")
        outcomes: list[Outcome] = []
        with writer(self.data.warehouse) as con:
            con.execute(QUALITY_DDL)
            for suite_name, (kind, sql) in ROW_SUITES.items():
                batches = con.execute(
                    """
                    select batch_id, file_name from raw.load_batch b
                    where kind = ? and status = 'loaded'
                      and (? or not exists (select 1 from quality.validated_batch v
                                            where v.batch_id = b.batch_id and v.suite = ?))
                    order by batch_id""",
                    [kind, revalidate, suite_name],
                ).fetchall()
                for batch_id, file_name in batches:
                    merged: dict[tuple[str, str | None, str], Outcome] = {}
                    first = 1
                    for frame in self._chunks(con, sql, batch_id):
                        last = first + len(frame) - 1
                        for o in self._run(
                            suite_name, frame, f"{file_name} rows {first:,}-{last:,}"
                        ):
                            key = (o.expectation, o.column, o.notes or "")
                            if key not in merged:
                                o.target, o.batch_id = file_name, batch_id
                                merged[key] = o
                            else:
                                _merge(merged[key], o)
                        first = last + 1
                    batch_outcomes = list(merged.values())
                    outcomes += batch_outcomes
                    ok = all(o.success or o.severity != "blocking" for o in batch_outcomes)
                    con.execute(
                        "insert into quality.validated_batch values (?, ?, ?, ?, ?)",
                        [batch_id, suite_name, run_id, ok, datetime.now()],
                    )
            outcomes += self._metrics(con, "raw_dataset", RAW_METRICS, "raw layer")
            self._store(con, "raw", run_id, outcomes)
        return ValidationReport("raw", run_id, outcomes, self.docs_index())

    def _validate_marts(self) -> ValidationReport:
        run_id = "marts-" + datetime.now().strftime("%Y%m%dT%H%M%S%f")
        with writer(self.data.warehouse) as con:
            con.execute(QUALITY_DDL)
            outcomes = self._metrics(
                con,
                "marts_dataset",
                MARTS_METRICS,
                "marts",
                extra={"personnummer_in_marts": personnummer_in_marts(con)},
            )
            self._store(con, "marts", run_id, outcomes)
        return ValidationReport("marts", run_id, outcomes, self.docs_index())

    def _metrics(
        self,
        con: duckdb.DuckDBPyConnection,
        suite_name: str,
        sql: str,
        target: str,
        extra: dict[str, int] | None = None,
    ) -> list[Outcome]:
        import pandas as pd

        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        assert row is not None
        values: dict[str, Any] = {n: float(v) for n, v in zip(names, row, strict=True)}
        values.update({k: float(v) for k, v in (extra or {}).items()})
        outcomes = self._run(suite_name, pd.DataFrame([values]), target)
        for o in outcomes:
            if o.column in values:
                o.observed = f"{values[o.column]:g}"
        return outcomes

    def _store(
        self, con: duckdb.DuckDBPyConnection, stage: str, run_id: str, outcomes: list[Outcome]
    ) -> None:
        now = datetime.now()
        con.executemany(
            "insert into quality.validation_result values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    run_id,
                    now,
                    stage,
                    o.suite,
                    o.target,
                    o.batch_id,
                    o.expectation,
                    o.column,
                    o.severity,
                    o.success,
                    o.element_count,
                    o.unexpected_count,
                    o.observed,
                    "; ".join(o.examples[:5]) or None,
                    o.notes,
                ]
                for o in outcomes
            ],
        )

    def docs_index(self) -> Path | None:
        if not self.build_docs:
            return None
        if self.results:
            from great_expectations.data_context.types.resource_identifiers import (
                ExpectationSuiteIdentifier,
            )

            suites = [ExpectationSuiteIdentifier(name=name) for name in self.checkpoints]
            self.context.build_data_docs(resource_identifiers=[*suites, *self.results])
            self.results = []
        index = (
            self.data.root / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
        )
        return index if index.exists() else None


def _counts(report: ValidationReport) -> tuple[int, dict[str, int]]:
    """Rows validated (the largest element count per suite and file) and checks run."""
    rows: dict[tuple[str, str], int] = {}
    for o in report.outcomes:
        key = (o.suite, o.target)
        rows[key] = max(rows.get(key, 0), o.element_count or 0)
    return sum(rows.values()), {"checks": len(report.outcomes), "failed": len(report.failures)}


def _merge(into: Outcome, chunk: Outcome) -> None:
    into.success = into.success and chunk.success
    for attr in ("element_count", "unexpected_count"):
        a, b = getattr(into, attr), getattr(chunk, attr)
        if a is not None or b is not None:
            setattr(into, attr, (a or 0) + (b or 0))
    if len(into.examples) < 5:
        into.examples += chunk.examples[: 5 - len(into.examples)]


def personnummer_in_marts(con: duckdb.DuckDBPyConnection) -> int:
    """Valid personnummer (shape and check digit) found in the marts' text columns.

    A table with a ``built_at`` column (the line marts, rebuilt incrementally) is
    scanned only for rows built since its last clean scan, kept in
    ``quality.pnr_scan``; the other marts are small and scanned whole. A scan
    that finds one moves no mark, so the next run finds it again.
    """
    con.execute(
        "create table if not exists quality.pnr_scan "
        "(table_name varchar primary key, clean_to timestamp not null)"
    )
    cols = con.execute("""
        select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_catalog = current_database()
        order by table_name, ordinal_position""").fetchall()
    tables: dict[str, list[str]] = {}
    stamped: set[str] = set()
    for table, column, data_type in cols:
        if column == "built_at":
            stamped.add(table)
        elif data_type == "VARCHAR" and column not in PNR_SCAN_SKIP:
            tables.setdefault(table, [])
            tables[table].append(column)
    marks = dict(con.execute("select table_name, clean_to from quality.pnr_scan").fetchall())
    found = 0
    pattern = re.compile(PNR_PATTERN)
    for table, columns in tables.items():
        where = ""
        if table in stamped and table in marks:
            where = f"where built_at > timestamp '{marks[table]}'"
        # A pseudonym (PNR- and hex) can hold a run of digits shaped like a
        # personnummer: it is taken out before the scan.
        texts = [f"""regexp_replace("{c}", '{PSEUDONYM_PATTERN}', ' ', 'g')""" for c in columns]
        hits = con.execute(
            f"with rows as (select {', '.join(f'{t} as c{i}' for i, t in enumerate(texts))} "
            f'from marts."{table}" {where}) '
            + " union ".join(
                f"(select distinct regexp_extract(c{i}, $1) as hit from rows "
                f"where regexp_matches(c{i}, $1) limit 1000)"
                for i in range(len(texts))
            ),
            [PNR_PATTERN],
        ).fetchall()
        table_found = sum(
            1
            for (candidate,) in hits
            if candidate and pattern.fullmatch(candidate) and _is_personnummer(candidate)
        )
        found += table_found
        if table in stamped and not table_found:
            con.execute(
                "insert or replace into quality.pnr_scan select ?, coalesce(max(built_at), "
                f"timestamp '1900-01-01') from marts.\"{table}\"",
                [table],
            )
    return found


def _is_personnummer(text: str) -> bool:
    sid = classify_supplier_id(text, b"personnummer-scan-key-not-used")
    return sid.status.value == "sole_trader"
