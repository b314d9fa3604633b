"""The night's dbt process: one process, and a full rebuild whenever the project
changed, found by dbt's own manifest rather than a hand-kept list."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import build_fixture_warehouse

from spendkoll.paths import DataDir, project_root
from spendkoll.transform.night import UNFINISHED, build_night

pytestmark = pytest.mark.slow


def built_at(data: DataDir) -> tuple[int, int, object]:
    """fct_spend's lines, how many carry the newest build stamp, and that stamp."""
    with duckdb.connect(str(data.warehouse), read_only=True) as con:
        row = con.execute(
            "select count(*), count(*) filter (where built_at = (select max(built_at) "
            "from marts.fct_spend)), max(built_at) from marts.fct_spend"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def night(data: DataDir, **kw: object):
    result = build_night(data, rule_set="demo_region", stream=False, **kw)  # type: ignore[arg-type]
    assert result.ok, result.output_tail[-4000:]
    return result


def test_a_changed_var_or_seed_rebuilds_everything_an_unchanged_project_nothing(
    data_dir: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the dbt project to change, as an operator would change theirs.
    home = tmp_path / "home"
    shutil.copytree(project_root() / "dbt_project", home / "dbt_project")
    monkeypatch.setenv("SPENDKOLL_HOME", str(home))
    build_fixture_warehouse(data_dir, "dq")  # a bare `dbt build`: nothing recorded

    first = night(data_dir)
    assert first.full_refresh == "no earlier good build recorded"
    lines, newest, stamp = built_at(data_dir)
    assert newest == lines  # every line built by this night
    # One process: freshness and build; every node's result is in the summary.
    summary = first.summary()
    assert summary["freshness"] and summary["counts"]["model success"] >= 30
    assert {n["name"] for n in summary["nodes"]} >= {"fct_spend", "kpi_yearly"}

    second = night(data_dir)
    assert second.full_refresh == ""  # nothing changed: an incremental night
    assert built_at(data_dir) == (lines, lines, stamp)  # and no line was rebuilt

    # A var nobody listed anywhere, added to dbt_project.yml.
    project = home / "dbt_project" / "dbt_project.yml"
    text = project.read_text(encoding="utf-8")
    assert "\nvars:\n" in text
    project.write_text(
        text.replace("\nvars:\n", "\nvars:\n  spendkoll_setting_added_later: 1\n"),
        encoding="utf-8",
    )
    third = night(data_dir)
    assert third.full_refresh.startswith("the project changed")
    lines3, newest3, stamp3 = built_at(data_dir)
    assert (lines3, newest3) == (lines, lines) and stamp3 != stamp  # all rebuilt
    assert night(data_dir).full_refresh == ""

    # The same var on the command line, then a seed row changed.
    assert night(data_dir, dbt_vars={"spendkoll_setting_added_later": "2"}).full_refresh
    assert night(data_dir, dbt_vars={"spendkoll_setting_added_later": "2"}).full_refresh == ""
    seed = home / "dbt_project" / "seeds" / "org_units.csv"
    # a new org unit (a reorganisation), no line of its own yet
    seed.write_text(
        seed.read_text(encoding="utf-8") + "ZZ01,ZZ,Nya enheten,REGION\n", encoding="utf-8"
    )
    assert night(data_dir).full_refresh.startswith("the project changed")
    assert night(data_dir).full_refresh == ""

    # A night that fails half-way (here a blocking test the operator added)
    # may leave its snapshots ahead of the line marts: the next night rebuilds
    # everything, whatever else changed, and the one after is incremental.
    check = home / "dbt_project" / "tests" / "assert_operator_check.sql"
    check.write_text("select 1 as failing_row\n", encoding="utf-8")
    failed = build_night(data_dir, rule_set="demo_region", stream=False)
    assert not failed.ok and any(n.name == "assert_operator_check" for n in failed.failures())
    check.unlink()
    recovered = night(data_dir)
    assert recovered.full_refresh == UNFINISHED
    lines5, newest5, _ = built_at(data_dir)
    assert newest5 == lines5
    assert night(data_dir).full_refresh == ""
