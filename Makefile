# LinkCRM: `make run` starts the product, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(PY) -m linkcrm.localstack
PYTEST_ARGS ?=

.PHONY: run test manage up down status deps deps-test lint

# --- installation ---------------------------------------------------------------------
$(VENV)/.installed-run: pyproject.toml
	@./scripts/system-deps.sh run
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	@./scripts/system-deps.sh test
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

deps: $(VENV)/.installed-run
	@./scripts/system-deps.sh run

deps-test: $(VENV)/.installed-test
	@./scripts/system-deps.sh test

# --- the two commands -----------------------------------------------------------------
run: deps
	@DEBUG=$${DEBUG:-true} $(STACK) run

test: deps-test
	@$(VENV)/bin/ruff check --quiet .
	@$(STACK) test $(PYTEST_ARGS)

# --- everything else ------------------------------------------------------------------
manage: deps
	@DEBUG=$${DEBUG:-true} $(STACK) manage $(ARGS)

up: deps
	@$(STACK) up

down:
	@test -x $(PY) && $(STACK) down || true

status:
	@$(STACK) status || true

lint: deps-test
	$(VENV)/bin/ruff check .

# --- benchmarks -----------------------------------------------------------------------
.PHONY: bench-import
bench-import: deps
	@$(PY) bench/import_bench.py $(BENCH_ARGS)

.PHONY: bench-gap
bench-gap: deps
	@$(PY) bench/gap_bench.py $(BENCH_ARGS)

.PHONY: bench-audit
bench-audit: deps
	@$(PY) bench/audit_bench.py $(BENCH_ARGS)

.PHONY: bench-reports
bench-reports: deps
	@$(PY) bench/reports_bench.py $(BENCH_ARGS)

.PHONY: bench-outreach
bench-outreach: deps
	@$(PY) bench/outreach_bench.py $(BENCH_ARGS)
