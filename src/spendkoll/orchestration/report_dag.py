"""Builder of the monthly report DAG.

Runs on day ``SPENDKOLL_REPORT_DAY`` (default 5) of each month at 06:00, after
month close, and writes the reports of the month before. Triggered by hand
(Airflow UI "Trigger DAG w/ config", or ``airflow dags trigger -c``), the
``month`` parameter picks any past month (YYYY-MM) and ``lang`` the language.
It reads only the published marts snapshot, so it never waits for the writer.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task

from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.settings import settings

log = logging.getLogger(__name__)


def previous_month(day: date) -> str:
    first = day.replace(day=1)
    last_month = first - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"


def report_month(params: dict[str, Any], run_date: date) -> str:
    month = str(params.get("month") or "").strip()
    return month or previous_month(run_date)


def monthly_report_dag() -> DAG:
    day = settings().report_day
    with DAG(
        dag_id="spendkoll_monthly_report",
        schedule=f"0 6 {day} * *",
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        params={
            "month": Param(
                "",
                type="string",
                pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
                description="YYYY-MM; empty: the month before the run",
            ),
            "lang": Param("sv", type="string", enum=["sv", "en"], description="sv (default) or en"),
        },
        default_args={
            "owner": "spendkoll",
            "retries": settings().task_retries,
            "retry_delay": timedelta(minutes=10),
            "on_failure_callback": failure_callbacks(),
        },
        tags=["spendkoll", "report"],
        doc_md="### Monthly report per org unit\nOne self-contained HTML file per org unit "
        "and one for the whole organisation, from the published marts. Trigger with "
        '`{"month": "2025-11", "lang": "sv"}` for any past month.',
    ) as dag:

        @task(task_id="write_monthly_reports")
        def write_monthly_reports() -> list[str]:
            from spendkoll.paths import DataDir
            from spendkoll.reporting.monthly import generate_monthly_reports

            context = get_current_context()
            run_at = context.get("logical_date") or datetime.now()
            month = report_month(dict(context["params"]), run_at.date())
            reports = generate_monthly_reports(
                DataDir.from_env(), month, lang=str(context["params"].get("lang", "sv"))
            )
            for r in reports:
                log.info("%s: %s", r.unit_id, r.path)
            return [str(r.path) for r in reports]

        write_monthly_reports()
    return dag
