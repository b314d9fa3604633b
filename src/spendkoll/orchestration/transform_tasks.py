"""The work of the transform DAG's tasks (``dags/spendkoll_transform.py`` shows its shape).

Each function is one task's body: it logs a line per stage with counts and
times, returns a small JSON summary (the task's XCom) and raises
:class:`AirflowFailException` on a blocking finding, which a retry cannot fix,
so nothing after it runs and the last published snapshot stays.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from spendkoll.organisations import activated
from spendkoll.paths import DataDir
from spendkoll.settings import settings

if TYPE_CHECKING:
    from spendkoll.organisations import Organisation

log = logging.getLogger(__name__)
T = TypeVar("T")


def as_organisation(body: Callable[..., T]) -> Callable[..., T]:
    """Run a task body as the organisation given as ``org`` (None: the single one)."""

    @functools.wraps(body)
    def run(*args: Any, org: Organisation | None = None) -> T:
        with activated(org):
            return body(*args)

    return run


def rule_set() -> str:
    return settings().rule_set


@as_organisation
def validate_raw() -> str:
    """The raw suites on the files loaded since the last validation."""
    from spendkoll.quality.validation import Validator

    report = Validator(DataDir.from_env()).validate_raw()
    log.info("raw validation:\n%s", report.summary())
    if not report.passed:
        raise AirflowFailException(
            "blocking raw-data checks failed, marts not rebuilt:\n" + report.summary()
        )
    return report.summary()


@as_organisation
def dbt_build() -> dict[str, Any]:
    """Source freshness and ``dbt build`` (models, snapshots, seeds, tests) in one dbt
    process; dbt's line per node and a summary with the slowest nodes go to the log."""
    from spendkoll.transform.night import build_night

    night = build_night(DataDir.from_env(), rule_set=rule_set())
    for line in night.lines():
        log.info("%s", line)
    if not night.ok:
        raise AirflowFailException(
            "dbt build failed, marts not published: "
            + (
                night.stopped
                or "; ".join(f"{n.kind} {n.name}: {n.message}" for n in night.failures())
                or night.output_tail
            )
        )
    return night.summary()


@as_organisation
def validate_marts() -> str:
    """The marts suites, then the controller's report (written whatever the verdict)."""
    from spendkoll.quality.report import build_report
    from spendkoll.quality.validation import Validator

    data = DataDir.from_env()
    report = Validator(data).validate_marts()
    log.info("marts validation:\n%s", report.summary())
    quality = build_report(data, [report.summary()], report.docs_index)
    log.info("data-quality report: %s", quality.index)
    if not report.passed:
        raise AirflowFailException(
            "blocking checks on the marts failed, not published "
            "(the last published snapshot stays):\n" + report.summary()
        )
    return report.summary()


@as_organisation
def publish_marts(night: dict[str, Any]) -> dict[str, Any]:
    """The read-only snapshot and Parquet files for BI tools; the Asset event's extra
    carries the night's figures, so the run shows in the Assets view."""
    from spendkoll.publish import publish

    path = publish(DataDir.from_env())
    log.info("published %s", path)
    return {
        "published": str(path),
        "dbt_seconds": night.get("seconds"),
        "dbt_counts": night.get("counts"),
        "freshness": night.get("freshness"),
    }
