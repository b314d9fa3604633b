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


def test_every_dag_file_is_found_by_safe_mode(dagbag, dagbag_orgs):
    """Airflow skips files without the words 'airflow' and 'dag'; none may be lost
    (the comparison's file holds a DAG only with two organisations or more)."""
    files = {p.name for p in (ROOT / "dags").glob("*.py")}
    for bag, expected in ((dagbag, files - {"spendkoll_comparison.py"}), (dagbag_orgs, files)):
        found = {p.rsplit("/", 1)[-1] for p in (d.fileloc for d in bag.dags.values())}
        assert found == expected


@pytest.fixture(scope="module")
def dagbag_orgs():
    """The DAGs as an installation of the three demo organisations parses them."""
    import os

    from airflow.models import DagBag

    before = os.environ.get("SPENDKOLL_ORGANISATIONS")
    os.environ["SPENDKOLL_ORGANISATIONS"] = str(ROOT / "include/organisations/demo.toml")
    try:
        return DagBag(dag_folder=str(ROOT / "dags"))
    finally:
        if before is None:
            del os.environ["SPENDKOLL_ORGANISATIONS"]
        else:
            os.environ["SPENDKOLL_ORGANISATIONS"] = before


ORGS = ("region_norr", "kommun_ost", "kommun_vast")


def test_the_dags_fan_out_per_organisation_each_on_its_own_pool_and_assets(dagbag_orgs):
    assert dagbag_orgs.import_errors == {}
    kinds = ("load_ledger", "load_contracts", "load_ecommerce", "load_dq_decisions")
    kinds += ("load_supplier_register", "transform", "monthly_report")
    assert set(dagbag_orgs.dag_ids) == {f"spendkoll_{k}__{o}" for k in kinds for o in ORGS} | {
        "spendkoll_comparison"
    }
    for org in ORGS:
        pool = f"spendkoll_warehouse__{org}"
        load = dagbag_orgs.dags[f"spendkoll_load_ledger__{org}"]
        assert f"org:{org}" in load.tags
        [task] = load.tasks
        assert task.pool == pool
        assert [o.uri for o in task.outlets] == [f"spendkoll://{org}/warehouse/raw/ledger"]
        transform = dagbag_orgs.dags[f"spendkoll_transform__{org}"]
        assert {t.pool for t in transform.tasks} == {pool}
        uris = {a.uri for a in transform.timetable.asset_condition.objects}
        assert uris == {
            f"spendkoll://{org}/warehouse/raw/{s}" for s in ("ledger", "contracts", "ecommerce")
        }
        publish = transform.get_task("publish_marts")
        assert [o.uri for o in publish.outlets] == [f"spendkoll://{org}/warehouse/marts"]
        report = dagbag_orgs.dags[f"spendkoll_monthly_report__{org}"]
        assert {a.uri for a in report.timetable.asset_condition.objects} == {
            f"spendkoll://{org}/warehouse/marts"
        }
    assert dagbag_orgs.dags["spendkoll_monthly_report__kommun_vast"].params["lang"] == "en"
    comparison = dagbag_orgs.dags["spendkoll_comparison"]
    condition = comparison.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    assert {a.uri for a in condition.objects} == {f"spendkoll://{o}/warehouse/marts" for o in ORGS}
    assert all(t.pool == "default_pool" for t in comparison.tasks)


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
    # day 5 at 06:00, after month close, and after every publication of the marts
    assert dag.timetable.timetable.expression == "0 6 5 * *"
    assert {a.uri for a in dag.timetable.asset_condition.objects} == {"spendkoll://warehouse/marts"}
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
