"""The organisations file: parsing and its errors, working as one organisation, the
seed overrides, and the DAGs fanned out per organisation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT

from spendkoll.errors import ConfigError
from spendkoll.organisations import activated, load_organisations

DEMO = ROOT / "include" / "organisations" / "demo.toml"
SOURCES = ROOT / "include" / "sources" / "demo.toml"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "orgs.toml"
    path.write_text(f'[defaults]\nsources = "{SOURCES}"\n' + body, encoding="utf-8")
    return path


def test_the_demo_file_lists_three_organisations() -> None:
    orgs = load_organisations(DEMO)
    assert [o.id for o in orgs] == ["region_norr", "kommun_ost", "kommun_vast"]
    norr, ost, vast = orgs
    assert norr.org_number == "232100-0016" and norr.report_lang == "sv"
    assert vast.report_lang == "en"
    assert ost.dbt_vars == {
        "spendkoll_dq_list_max_per_unit_month": 10,
        "spendkoll_dq_severity_overrides": {"DQ15": "warning"},
    }
    assert norr.pseudonym_key_secret == "spendkoll_pseudonym_key_region_norr"
    assert norr.sources == SOURCES.resolve()
    assert norr.demo == {"seed": 2017, "lines": 40000}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[organisation]]\nid = "Bad-Id"\nname = "X"\norg_number = "232100-0016"\n',
            "id 'Bad-Id'",
        ),
        ('[[organisation]]\nid = "a"\nname = "X"\norg_number = "232100-0017"\n', "not a valid"),
        ('[[organisation]]\nid = "a"\norg_number = "232100-0016"\n', "name is missing"),
        (
            '[[organisation]]\nid = "a"\nname = "X"\norg_number = "232100-0016"\nlang = "sv"\n',
            "unknown key(s) lang",
        ),
        (
            '[[organisation]]\nid = "a"\nname = "X"\norg_number = "232100-0016"\n'
            'report_lang = "de"\n',
            "report_lang 'de'",
        ),
        (
            '[[organisation]]\nid = "a"\nname = "X"\norg_number = "232100-0016"\n'
            '[[organisation]]\nid = "a"\nname = "Y"\norg_number = "212000-0019"\n',
            "already organisation 1's",
        ),
        (
            '[[organisation]]\nid = "a"\nname = "X"\norg_number = "232100-0016"\n'
            'pseudonym_key_secret = "k"\n'
            '[[organisation]]\nid = "b"\nname = "Y"\norg_number = "212000-0019"\n'
            'pseudonym_key_secret = "k"\n',
            "same pseudonym_key_secret",
        ),
        (
            '[[organisation]]\nid = "a"\nname = "X"\norg_number = "232100-0016"\n'
            "[organisation.dbt_vars]\nsmall = 1\n",
            "dbt_vars",
        ),
        ("", "at least one [[organisation]]"),
    ],
)
def test_a_wrong_file_is_refused_naming_the_organisation_and_key(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_organisations(write(tmp_path, body))
    assert message in str(err.value)
    assert str(tmp_path / "orgs.toml") in str(err.value)


def test_working_as_an_organisation_sets_and_restores_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spendkoll.paths import DataDir
    from spendkoll.settings import settings

    monkeypatch.setenv("SPENDKOLL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPENDKOLL_PSEUDONYM_KEY", "the-installation-key-0123456789")
    monkeypatch.setenv("AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_KOMMUN_VAST", "vast-own-key-0123456789")
    vast = load_organisations(DEMO)[2]
    with activated(vast):
        assert DataDir.from_env().root == (tmp_path / "orgs" / "kommun_vast").resolve()
        assert settings().pseudonym_key == "vast-own-key-0123456789"
        assert settings().report_lang == "en" and settings().org_name == "Västra kommun"
    assert settings().pseudonym_key == "the-installation-key-0123456789"
    assert DataDir.from_env().root == tmp_path.resolve()
    assert "SPENDKOLL_ORG_ID" not in os.environ


def test_an_organisation_without_its_own_key_stops_rather_than_share_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPENDKOLL_PSEUDONYM_KEY", "the-installation-key-0123456789")
    monkeypatch.delenv("AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_REGION_NORR", raising=False)
    norr = load_organisations(DEMO)[0]
    with pytest.raises(ConfigError, match="spendkoll_pseudonym_key_region_norr"), activated(norr):
        pass


def test_seed_overrides_replace_the_project_s_seeds_of_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spendkoll.paths import DataDir
    from spendkoll.transform.dbt import dbt_env, seed_dir

    own = tmp_path / "own"
    own.mkdir()
    (own / "org_units.csv").write_text("org_unit_id,org_unit_name\nU1,Enhet 1\n", encoding="utf-8")
    data = DataDir(tmp_path / "data")
    monkeypatch.delenv("SPENDKOLL_SEEDS", raising=False)
    assert seed_dir(data) is None and "SPENDKOLL_SEED_DIR" not in dbt_env(data)
    monkeypatch.setenv("SPENDKOLL_SEEDS", str(own))
    seeds = seed_dir(data)
    assert seeds is not None and dbt_env(data)["SPENDKOLL_SEED_DIR"] == str(seeds)
    assert (seeds / "org_units.csv").read_text(encoding="utf-8").endswith("U1,Enhet 1\n")
    project = ROOT / "dbt_project" / "seeds"
    assert (seeds / "category_tree.csv").read_bytes() == (
        project / "category_tree.csv"
    ).read_bytes()
    assert {p.name for p in seeds.iterdir()} == {p.name for p in project.iterdir()}
    (own / "org_unit.csv").write_text("x\n", encoding="utf-8")  # misspelt
    with pytest.raises(ConfigError, match="org_unit.csv: no seed of that name"):
        seed_dir(data)


def test_check_deployment_refuses_shared_or_placeholder_organisation_keys() -> None:
    from spendkoll.deployment import organisation_key_problems

    env = {
        "SPENDKOLL_ORGANISATIONS": str(DEMO),
        "AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_REGION_NORR": "k" * 32,
        "AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_KOMMUN_OST": "k" * 32,
        "AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_KOMMUN_VAST": "CHANGE_ME",
    }
    problems = organisation_key_problems(env)
    assert len(problems) == 2
    assert "kommun_ost has the same key as region_norr" in problems[0]
    assert "KOMMUN_VAST" in problems[1] and "placeholder" in problems[1]
    env["AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_KOMMUN_OST"] = "o" * 32
    env["AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_KOMMUN_VAST"] = "v" * 32
    assert organisation_key_problems(env) == []


def test_the_command_line_works_as_one_organisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from spendkoll.cli import main

    monkeypatch.setenv("SPENDKOLL_ORGANISATIONS", str(DEMO))
    monkeypatch.setenv("AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_KOMMUN_OST", "ost-own-key-0123456789")
    assert main(["--data-dir", str(tmp_path), "--org", "kommun_ost", "status"]) == 0
    assert (tmp_path / "orgs" / "kommun_ost" / "landing").is_dir()
    assert not (tmp_path / "landing").exists()
    assert main(["--data-dir", str(tmp_path), "--org", "nobody", "status"]) == 1
    assert "no organisation 'nobody'" in capsys.readouterr().err
