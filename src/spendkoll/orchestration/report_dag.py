"""Builder of the monthly report DAG (one per organisation served).

Runs on day ``SPENDKOLL_REPORT_DAY`` (default 5) of each month at 06:00, after
month close, and writes the reports of the month before; and after every
publication of the organisation's marts (the marts Asset), when it rewrites the
newest month the marts hold, so a corrected delivery shows in the report the
next morning. Triggered by hand (Airflow UI "Trigger DAG w/ config", or
``airflow dags trigger -c``), the ``month`` parameter picks any past month
(YYYY-MM) and ``lang`` the language. It reads only the published marts
snapshot, so it never waits for the writer.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import (
    DAG,
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    get_current_context,
    task,
)

from spendkoll.orchestration.alerts import failure_callbacks
from spendkoll.orchestration.assets import (
    dag_id,
    marts_asset_name,
    marts_asset_uri,
    org_tags,
    organisations_to_serve,
)
from spendkoll.settings import settings

if TYPE_CHECKING:
    from spendkoll.organisations import Organisation

log = logging.getLogger(__name__)


def previous_month(day: date) -> str:
    first = day.replace(day=1)
    last_month = first - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"


def report_month(params: dict[str, Any], run_date: date) -> str:
    month = str(params.get("month") or "").strip()
    return month or previous_month(run_date)


def monthly_report_dags() -> dict[str, DAG]:
    """The monthly report DAG of every organisation served, by DAG id."""
    dags = (monthly_report_dag(org) for org in organisations_to_serve())
    return {d.dag_id: d for d in dags}


def monthly_report_dag(org: Organisation | None = None) -> DAG:
    from spendkoll.organisations import activated

    day = settings().report_day
    lang = org.report_lang if org else settings().report_lang
    with DAG(
        dag_id=dag_id("monthly_report", org),
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(f"0 6 {day} * *", timezone="UTC"),
            assets=[Asset(name=marts_asset_name(org), uri=marts_asset_uri(org))],
        ),
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
            "lang": Param(lang, type="string", enum=["sv", "en"], description="sv or en"),
        },
        default_args={
            "owner": "spendkoll",
            "retries": settings().task_retries,
            "retry_delay": timedelta(seconds=settings().retry_delay_seconds),
            "on_failure_callback": failure_callbacks(),
        },
        tags=["spendkoll", "report", *org_tags(org)],
        doc_md="### Monthly report per org unit\nOne self-contained HTML file per org unit "
        "and one for the whole organisation, from the published marts. Trigger with "
        '`{"month": "2025-11", "lang": "sv"}` for any past month.',
    ) as dag:

        @task(task_id="write_monthly_reports")
        def write_monthly_reports() -> list[str]:
            from airflow.sdk.exceptions import AirflowSkipException

            from spendkoll.paths import DataDir
            from spendkoll.publish import current_version
            from spendkoll.reporting.monthly import generate_monthly_reports, latest_closed_period

            context = get_current_context()
            params = dict(context["params"])
            logical = context.get("logical_date") or datetime.now()
            run_type = str(getattr(context.get("dag_run"), "run_type", "") or "").lower()
            with activated(org):
                data = DataDir.from_env()
                if current_version(data) is None:
                    # a new installation: the first publication starts a run of its own
                    raise AirflowSkipException("no published marts yet: nothing to report")
                if "asset" in run_type and not str(params.get("month") or "").strip():
                    # started by a publication of the marts: the newest month they hold
                    month = latest_closed_period(data)
                else:
                    month = report_month(params, logical.date())
                reports = generate_monthly_reports(data, month, lang=str(params.get("lang", lang)))
            for r in reports:
                log.info("%s: %s", r.unit_id, r.path)
            return [str(r.path) for r in reports]

        write_monthly_reports()
    return dag
