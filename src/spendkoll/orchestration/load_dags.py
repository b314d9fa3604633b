"""Builder of the three nightly load DAGs.

Each DAG loads every landing file of one source (see :mod:`spendkoll.loaders.run`)
in the single-writer pool and publishes the source's raw Asset, which the
transform DAG schedules on.  A rejected file fails the task (after the good
files have loaded) so that the failure shows and alerts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, Asset, task

from spendkoll.logs import stage
from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.orchestration.assets import (
    dag_id,
    org_tags,
    organisations_to_serve,
    raw_asset_name,
    raw_asset_uri,
    warehouse_pool,
)
from spendkoll.settings import settings

if TYPE_CHECKING:
    from spendkoll.organisations import Organisation

log = logging.getLogger(__name__)


def default_args() -> dict[str, Any]:
    return {
        "owner": "spendkoll",
        # Retries are for passing trouble (a worker lost, the disk full); a bad
        # file fails at once.  The demo sets SPENDKOLL_TASK_RETRIES=0.
        "retries": settings().task_retries,
        "retry_delay": timedelta(seconds=settings().retry_delay_seconds),
        "on_failure_callback": failure_callbacks(),
    }


def run_started() -> datetime | None:
    """When the current DAG run started (naive UTC, as raw.load_batch's times), or
    None outside a task (e.g. `spendkoll load`)."""
    from airflow.sdk import get_current_context

    try:
        started = get_current_context()["dag_run"].start_date
    except Exception:  # noqa: BLE001 - no task context: nothing of a run to recover
        return None
    if started is None:
        return None
    return started.astimezone(UTC).replace(tzinfo=None) if started.tzinfo else started


def load_summary(source: str, optional: bool = False) -> dict[str, Any]:
    """Run the load of one source; the returned summary is the task's XCom. An
    optional source (the controller's decisions) the sources file does not
    declare has nothing to load."""
    from dataclasses import asdict

    from airflow.sdk.exceptions import AirflowFailException

    from spendkoll.errors import LoadFailed
    from spendkoll.loaders.run import load_source
    from spendkoll.sources import load_sources

    sources = load_sources()
    if optional and source not in sources:
        log.info("no source %r in the sources file: nothing to load", source)
        return {"files": []}
    cfg = sources[source]
    # load_source logs a line per file (status, rows, seconds); here the source's total
    with stage(log, f"load {source}") as done:
        try:
            results = load_source(cfg, rejected_since=run_started())
        except LoadFailed as exc:
            for r in exc.results:
                log.error("%s", r)
            # A rejected file has been moved aside: a retry would find nothing and
            # succeed, hiding the failure.  Fail now, without retries.  (A try
            # killed before it could fail is caught by rejected_since on retry.)
            raise AirflowFailException(str(exc)) from exc
        done.rows = sum(r.rows_loaded or 0 for r in results)
        done.extra = {"files": len(results)}
    for r in results:
        for detail in getattr(r, "rejected_rows", ()):
            log.warning("%s %s: not loaded: %s", r.source, r.file_name, detail)
    return {
        "files": [
            {
                k: (str(v) if v is not None and k == "amount_loaded" else v)
                for k, v in asdict(r).items()
            }
            for r in results
        ]
    }


def load_dag(
    source: str,
    schedule: str,
    doc_md: str,
    optional: bool = False,
    org: Organisation | None = None,
) -> DAG:
    """The load DAG of one source for one organisation (None: the single one)."""
    with load_dag_for(f"load_{source}", schedule, doc_md, source, org) as dag:
        load_task(source, org, optional)
    return dag


def load_dag_for(name: str, schedule: str, doc_md: str, tag: str, org: Organisation | None) -> DAG:
    """A load DAG's settings, shared by every load DAG (one or more load tasks)."""
    return DAG(
        dag_id=dag_id(name, org),
        schedule=schedule,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["spendkoll", "load", tag, *org_tags(org)],
        doc_md=doc_md + (f"\n\nOrganisation: **{org.name}** ({org.org_number})." if org else ""),
    )


def load_task(source: str, org: Organisation | None, optional: bool = False) -> Any:
    """The task loading one source, in the organisation's one-slot warehouse pool and
    publishing the source's raw Asset; call inside a DAG."""
    from spendkoll.organisations import activated

    @task(
        task_id=f"load_{source}",
        pool=warehouse_pool(org),
        outlets=[Asset(name=raw_asset_name(source, org), uri=raw_asset_uri(source, org))],
    )
    def load() -> dict[str, Any]:
        with activated(org):
            return load_summary(source, optional)

    return load()


def load_dags(source: str, schedule: str, doc_md: str, optional: bool = False) -> dict[str, DAG]:
    """The source's load DAG for every organisation served, by DAG id."""
    return {
        d.dag_id: d
        for d in (
            load_dag(source, schedule, doc_md, optional, org) for org in organisations_to_serve()
        )
    }
