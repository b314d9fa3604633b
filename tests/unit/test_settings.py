"""One settings module: every SPENDKOLL_* variable is declared, parsed and documented there."""

from __future__ import annotations

import re

import pytest

from spendkoll.errors import ConfigError
from spendkoll.paths import project_root
from spendkoll.settings import VARIABLES, settings

# Variables only the test suite reads (conftest), not the product.
TEST_ONLY = {"SPENDKOLL_HYPOTHESIS_PROFILE"}
# (an organisation's key is the Airflow Variable AIRFLOW_VAR_SPENDKOLL_PSEUDONYM_KEY_<ID>,
# named by the organisations file: Airflow's name, not a spendkoll setting)
NAME = re.compile(r"(?<!AIRFLOW_VAR_)SPENDKOLL_[A-Z_]+")


def _product_files():
    root = project_root()
    for folder in ("src", "dags", "dbt_project", "include", "plugins"):
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix in (
                ".py",
                ".yml",
                ".yaml",
                ".sql",
                ".toml",
                ".cfg",
                ".sh",
                ".md",
            ):
                yield path
    for name in ("docker-compose.yml", "Dockerfile", "Makefile", "README.md"):
        yield root / name
    yield from (root / "docs").glob("*.md")


def test_every_variable_the_project_names_is_declared() -> None:
    declared = {v.name for v in VARIABLES}
    named = set()
    for path in _product_files():
        named |= set(NAME.findall(path.read_text(encoding="utf-8", errors="replace")))
    assert named - TEST_ONLY - declared == set()
    # and nothing is declared that nothing uses
    assert declared - named == set()


def test_only_the_settings_module_reads_the_environment() -> None:
    read = re.compile(r"""(os\.environ\.get\(|os\.getenv\(|os\.environ\[)\s*["']SPENDKOLL_""")
    offenders = []
    for path in (project_root() / "src" / "spendkoll").rglob("*.py"):
        if path.name == "settings.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # writing a variable for a child process is fine; reading it is not
            if read.search(line) and not re.search(r"\]\s*=[^=]", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_defaults(monkeypatch) -> None:
    for v in VARIABLES:
        monkeypatch.delenv(v.name, raising=False)
    s = settings()
    assert s.rule_set == "demo_region" and s.task_retries == 2 and s.report_day == 5
    assert s.freshness_blocking is False and s.alert_email == ()
    assert s.duckdb_memory_limit == "3GB" and s.max_line_amount == 1e9


def test_values_are_read_again_when_the_environment_changes(monkeypatch) -> None:
    monkeypatch.setenv("SPENDKOLL_FRESHNESS_BLOCKING", "true")
    monkeypatch.setenv("SPENDKOLL_ALERT_EMAIL", "a@example.se, b@example.se")
    assert settings().freshness_blocking is True
    assert settings().alert_email == ("a@example.se", "b@example.se")
    monkeypatch.setenv("SPENDKOLL_FRESHNESS_BLOCKING", "no")
    assert settings().freshness_blocking is False


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SPENDKOLL_TASK_RETRIES", "many", "an integer from 0 to 20"),
        ("SPENDKOLL_REPORT_DAY", "31", "a day of the month from 1 to 28"),
        ("SPENDKOLL_FRESHNESS_BLOCKING", "perhaps", "true or false"),
        ("SPENDKOLL_MAX_LINE_AMOUNT", "1 000 kr", "an amount in SEK"),
    ],
)
def test_a_wrong_value_names_the_variable_and_what_was_expected(
    monkeypatch, name, value, expected
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(f"{name}={value!r}: expected {expected}")):
        settings()
