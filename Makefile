# spendkoll: the two commands a new machine needs are `make demo` and `make test`.
# Both create the virtual environment from requirements.lock on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
UV_VERSION := 0.13.8
BIN := $(VENV)/bin
STAMP := $(VENV)/.spendkoll-installed
export DO_NOT_TRACK := 1

.PHONY: venv demo test test-fast test-deployment bench-deployment lint airflow lock clean browser services bench

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "spendkoll needs Python 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Generate the demo region and run the nightly DAGs end to end in one Airflow process (DAG.test, as `airflow dags test`).
demo: venv
	$(BIN)/spendkoll demo

## Debian's Chromium for the browser test of the monthly reports (installed once, as root
## or through sudo; Playwright drives it, it never downloads a browser of its own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

## Debian's PostgreSQL and Redis for the deployment test (the metadata database and the
## Celery broker of the compose file's stack; installed once, as root or through sudo;
## the test starts throwaway instances of its own, never the system services).
services:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server; }

## The whole test suite, slow end-to-end tests included (this is what CI runs).
test: venv browser services lint
	$(BIN)/pytest -n 2 --dist loadgroup

## Lint: ruff (rules and format), mypy, and sqlfluff on the dbt project (.sqlfluff).
lint: venv
	$(BIN)/ruff check src dags tests
	$(BIN)/ruff format --check src dags tests
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project --processes 2 --disable-progress-bar

## Benchmark the nightly run at SIZE ledger lines (default 1 million; SIZE=10000000 for the
## big run) and append the figures to BENCHMARKS.md.
SIZE ?= 1000000
bench: venv
	$(BIN)/python -m spendkoll.bench --size $(SIZE)

## The production stack for real: PostgreSQL, Redis, Airflow's services and two Celery
## workers, three organisations, workers killed mid-task (also part of `make test`).
test-deployment: venv services
	$(BIN)/pytest -p no:cacheprovider tests/integration/test_deployment_stack.py

## A night of the three demo organisations under the real scheduler (the stack of
## test-deployment) with WORKERS Celery workers; prints the figures as JSON.
WORKERS ?= 2
bench-deployment: venv services
	$(BIN)/python -m spendkoll.orchestration.stack --workers $(WORKERS)

## Unit tests only.
test-fast: venv
	$(BIN)/pytest -m "not slow"

## Start Airflow standalone (UI on http://localhost:8080) on the demo data directory.
airflow: venv
	$(BIN)/spendkoll airflow-standalone

## Re-resolve requirements.lock from requirements.in (needs the registry).
lock: venv
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements.in -o requirements.lock

clean:
	rm -rf var
