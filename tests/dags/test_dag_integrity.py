"""Every DAG file imports, and every DAG carries tags, an owner and retries."""

from __future__ import annotations

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def dagbag():
    from airflow.models import DagBag

    # AIRFLOW_HOME is a throw-away directory (conftest); no metadata DB is needed to parse.
    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_the_load_dags_are_found(dagbag):
    assert {
        "spendkoll_load_ledger",
        "spendkoll_load_contracts",
        "spendkoll_load_ecommerce",
        "spendkoll_transform",
        "spendkoll_monthly_report",
    } <= set(dagbag.dag_ids)


def test_every_dag_file_is_found_by_safe_mode(dagbag):
    """Airflow skips files without the words 'airflow' and 'dag'; none may be lost."""
    files = {p.name for p in (ROOT / "dags").glob("*.py")}
    found = {p.rsplit("/", 1)[-1] for p in (d.fileloc for d in dagbag.dags.values())}
    assert files == found


@pytest.mark.parametrize(
    "dag_id", ["spendkoll_load_ledger", "spendkoll_load_contracts", "spendkoll_load_ecommerce"]
)
def test_dag_conventions(dagbag, dag_id):
    dag = dagbag.dags.get(dag_id)
    assert dag.tags and "spendkoll" in dag.tags
    assert dag.doc_md
    assert dag.max_active_runs == 1
    for task in dag.tasks:
        assert task.owner == "spendkoll"
        assert task.retries >= 1
        assert task.on_failure_callback  # failures alert (log, e-mail when configured)
        # Writers of the DuckDB warehouse run one at a time.
        assert task.pool == "spendkoll_warehouse"
        assert [o.uri for o in task.outlets] == [f"spendkoll://warehouse/raw/{dag_id[15:]}"]


# Checks whose failure a retry cannot fix.
NO_RETRY = {"validate_raw", "validate_marts"}


def test_transform_dag_is_one_dbt_process_between_the_checks(dagbag):
    dag = dagbag.dags["spendkoll_transform"]
    assert "spendkoll" in dag.tags and dag.max_active_runs == 1 and dag.doc_md
    # The shape: raw checks, one dbt build (freshness inside), marts checks, publication.
    assert {t.task_id: sorted(u.task_id for u in t.upstream_list) for t in dag.tasks} == {
        "validate_raw": [],
        "dbt_build": ["validate_raw"],
        "validate_marts": ["dbt_build"],
        "publish_marts": ["dbt_build", "validate_marts"],
    }
    for task in dag.tasks:
        assert task.pool == "spendkoll_warehouse", task.task_id
        assert task.owner == "spendkoll", task.task_id
        # A failed check does not pass on retry; the build and publication retry.
        assert task.retries == 0 if task.task_id in NO_RETRY else task.retries >= 1, task.task_id
        assert task.on_failure_callback, task.task_id
    publish = dag.get_task("publish_marts")
    assert [o.uri for o in publish.outlets] == ["spendkoll://warehouse/marts"]
    assert publish.trigger_rule == "all_success"  # a blocking failure publishes nothing
    # Scheduled on all three load Assets (AssetAll).
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAll"
    uris = {a.uri for a in condition.objects}
    assert uris == {f"spendkoll://warehouse/raw/{s}" for s in ("ledger", "contracts", "ecommerce")}


def test_dag_files_show_their_shape():
    """The transform DAG's file holds its schedule, tasks and dependencies; the work is
    in the package."""
    text = (ROOT / "dags" / "spendkoll_transform.py").read_text(encoding="utf-8")
    for needle in ("schedule=", "doc_md=", "@task", ">>"):
        assert needle in text


def test_schedules(dagbag):
    ledger = dagbag.dags["spendkoll_load_ledger"].timetable
    contracts = dagbag.dags["spendkoll_load_contracts"].timetable
    assert "0 2 * * *" in repr(ledger)
    assert "0 0 * * *" in repr(contracts)


def test_monthly_report_dag(dagbag):
    dag = dagbag.dags["spendkoll_monthly_report"]
    assert "spendkoll" in dag.tags and dag.doc_md and dag.max_active_runs == 1
    assert dag.timetable.expression == "0 6 5 * *"  # day 5 at 06:00, after month close
    assert set(dag.params) == {"month", "lang"}
    assert dag.params["lang"] == "sv" and dag.params["month"] == ""
    [task] = dag.tasks
    assert task.owner == "spendkoll" and task.retries >= 1 and task.on_failure_callback


def test_report_month_from_params_or_the_month_before():
    from datetime import date

    from spendkoll.orchestration.report_dag import report_month

    assert report_month({"month": ""}, date(2026, 1, 5)) == "2025-12"
    assert report_month({}, date(2026, 11, 5)) == "2026-10"
    assert report_month({"month": "2024-03"}, date(2026, 11, 5)) == "2024-03"
