"""Failure alerts for the spendkoll DAGs, through Airflow's callbacks.

Every failed task is logged to ``<data>/alerts.log`` (one line: when, DAG,
task, run, error). With ``SPENDKOLL_ALERT_EMAIL`` set (comma-separated
addresses) an e-mail goes out too, through the SMTP provider's notifier and
the Airflow connection ``SPENDKOLL_SMTP_CONN_ID`` (default ``smtp_default``).
The demo sets no address, so it sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from spendkoll.paths import DataDir
from spendkoll.pii import hide_numbers
from spendkoll.settings import settings

log = logging.getLogger(__name__)


def log_failure(context: Any) -> None:
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    # a message may quote a delivered value: no personnummer in the log
    error = (hide_numbers(str(context.get("exception") or "")) or "").replace("\n", " ")[:500]
    line = (
        f"{datetime.now():%Y-%m-%d %H:%M:%S} FAILED {dag_id}.{task_id} "
        f"run {context.get('run_id', '?')}: {error}"
    )
    log.error("spendkoll alert: %s", line)
    try:
        path = DataDir.from_env().root / "alerts.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
    except OSError:
        pass


def failure_callbacks() -> list[Callable[..., Any]]:
    callbacks: list[Callable[..., Any]] = [log_failure]
    to = list(settings().alert_email)
    if to:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        callbacks.append(
            SmtpNotifier(
                to=to,
                from_email=settings().alert_from or None,
                smtp_conn_id=settings().smtp_conn_id,
                subject="spendkoll: {{ ti.dag_id }}.{{ ti.task_id }} failed",
                html_content="Run {{ run_id }} failed: {{ exception }}",
            )
        )
    return callbacks
