# The two commands a newcomer types: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: run test setup lint format bench clean-data

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## make run: embedded Postgres, migrations, demo data, Dagster UI + daemon at http://127.0.0.1:3000
run: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	$(PY) -m observatory_pipelines.setup_local
	trap '$(PY) -m observatory_pipelines.db.embedded stop' EXIT INT TERM; \
	  DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## make test: lint, format check and the whole test suite against a real PostgreSQL
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	for script in bench/*.py; do $(PY) $$script || exit 1; done
