"""Shared fixtures: a throw-away data directory, a key, and a loader helper."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from spendkoll.demo.generator import DEMO_DBT_VARS
from spendkoll.paths import DataDir
from spendkoll.sources import SourceConfig, parse_source

# Airflow reads its home when first imported: give the test session its own.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="spendkoll-airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# Cosmos caches `dbt ls` in Airflow Variables, i.e. in the metadata DB; the DAG
# tests parse without one.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"
KEY = b"test-pseudonym-key-0123456789"
# Deployment settings (.env) that pass `spendkoll check-deployment`.
GOOD_ENV = {
    "POSTGRES_USER": "airflow",
    "POSTGRES_DB": "airflow",
    "POSTGRES_PASSWORD": "a-database-password",
    "AIRFLOW_ADMIN_USER": "admin",
    "AIRFLOW_ADMIN_PASSWORD": "a-long-admin-password",
    "AIRFLOW_JWT_SECRET": "0123456789abcdef0123456789abcdef",
    "AIRFLOW_FERNET_KEY": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
    "SPENDKOLL_PSEUDONYM_KEY": "a-pseudonym-key-of-some-length",
}


# The demo's data plant payments to bankrupt suppliers: nights on them run rule
# DQ15 as a warning, as `make demo` and the benchmark do (with_demo_dbt_vars).
# Set for the whole session (module-scoped fixtures build before the autouse
# fixture below runs). Builds through run_dbt (the golden and fixture
# warehouses) keep the seed's severities; tests/unit/test_blocking_gate.py
# checks the blocking gate itself.
DEMO_DBT_VARS_JSON = json.dumps(DEMO_DBT_VARS)
os.environ["SPENDKOLL_DBT_VARS"] = DEMO_DBT_VARS_JSON


LOADGROUP_BROKEN = (
    "--dist loadgroup is not grouping: this test has an xdist_group mark but its node id "
    "has no @group, so its module's fixtures would be built on every worker "
    "(pytest-dev/pytest-xdist#1386; pytest is pinned below 9.2 in requirements.in)"
)
_SPLIT = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark grouped tests that `--dist loadgroup` would not keep together.

    The slow modules build one warehouse (or start one Airflow stack) per module
    and mark themselves `xdist_group`; xdist tags their node ids with `@group`
    on each worker and schedules a group on one worker. When that silently stops
    working (pytest 9.2 with xdist 3.8.0) every worker builds everything again:
    those tests then fail in setup, before their fixtures, saying why.
    """
    if not getattr(config.option, "loadgroup", False):  # only set on xdist workers
        return
    for item in items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            item.stash[_SPLIT] = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.stash.get(_SPLIT, False):
        pytest.fail(LOADGROUP_BROKEN, pytrace=False)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPENDKOLL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SPENDKOLL_PSEUDONYM_KEY", KEY.decode())
    monkeypatch.delenv("SPENDKOLL_SOURCES", raising=False)
    monkeypatch.setenv("SPENDKOLL_DBT_VARS", DEMO_DBT_VARS_JSON)


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return DataDir((tmp_path / "var").resolve()).ensure()


def source(**kw: object) -> SourceConfig:
    raw: dict[str, object] = {"name": "ledger", "kind": "ledger", "format": "canonical"}
    raw.update(kw)
    return parse_source(raw, "test")


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have shared/ beside the clone")
        pytest.skip(f"{path} not present (shared/ is beside the clone in CI)")
    return path


def build_fixture_warehouse(data: DataDir, folder: str, rule_set: str = "demo_region") -> None:
    """Load a hand-made fixture set (tests/fixtures/<folder>: ledger_2024.csv,
    contracts.csv and, when present, ecommerce.csv) and run `dbt build` on it."""
    build_warehouse_from(data, FIXTURES / folder, rule_set=rule_set)


def build_warehouse_from(
    data: DataDir,
    folder: Path,
    ledger: str = "ledger_2024.csv",
    contracts: str = "contracts.csv",
    ecommerce: str = "ecommerce.csv",
    dbt_args: tuple[str, ...] = ("build",),
    rule_set: str = "demo_region",
) -> None:
    """Load the files of a fixture folder (any path; a file absent is skipped)
    into `data` and run `dbt <dbt_args>` on them (e.g. ("build", "--select",
    "+dq_invoice_exceptions") for a faster build of one mart)."""
    from spendkoll.loaders.run import load_source
    from spendkoll.transform.dbt import run_dbt

    configs = {
        "ledger": (ledger, source()),
        "contracts": (
            contracts,
            source(name="contracts", kind="contracts", format="contracts", pattern="*.csv"),
        ),
        "ecommerce": (ecommerce, source(name="ecommerce", kind="ecommerce", format="ecommerce")),
    }
    for kind, (name, cfg) in configs.items():
        path = folder / name
        if not path.exists():
            continue
        landing = data.landing_for(kind)
        landing.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, landing / name)
        load_source(cfg, data, KEY)
    proc = run_dbt(list(dbt_args), data, rule_set=rule_set)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def drop_planted_malformed_rows(root: Path) -> None:
    """Remove the three malformed rows `spendkoll generate` plants for the
    quarantine (demo/answers/quarantine_expected.csv): in a small demo they are
    more than max_bad_row_share of their month and would reject its file."""
    import csv

    with (root / "demo" / "answers" / "quarantine_expected.csv").open(encoding="utf-8") as f:
        bad = [(r["file"], int(r["line"])) for r in csv.DictReader(f, delimiter=";")]
    assert bad
    for name in {f for f, _ in bad}:
        path = root / "landing" / "ledger" / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        drop = {ln for f, ln in bad if f == name}  # the header is line 1
        path.write_text(
            "".join(x for i, x in enumerate(lines, start=1) if i not in drop), encoding="utf-8"
        )
