# The two commands the README promises: `make run` and `make test`. Both build .venv on
# first use (Python 3.11+ is all a fresh machine needs) and reinstall when pyproject changes.
#
# The interpreter: Python 3.12 where one runs, else python3. On 3.12 coverage traces through
# sys.monitoring, which costs the suite about 7 % of CPU against 67 % for 3.11's C tracer
# (README, "Testing"). Under pyenv `python3.12` is a shim that runs only when a 3.12 is
# selected, so the newest 3.12 pyenv holds is also tried by name. PYTHON=python3 overrides.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for try in python3.12 "env PYENV_VERSION=$$(pyenv latest 3.12 2>/dev/null) python3.12"; do \
	  $$try -c 'import sys; print(sys.executable)' 2>/dev/null && exit; done; echo python3)
endif
# .venv is made again, and the packages installed again, when the interpreter's version
# changes (a marker file in .venv names the version it was made with).
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
VENV_MADE := $(VENV)/.made-with-python$(PYTHON_VERSION)

# `make test` runs pytest on this many pytest-xdist workers (0: in one process).
PYTEST_WORKERS ?= 2
# The fast domain tests (`make unit`, in `make check`): pure functions and in-memory models,
# no database, server or browser. A new test file of that kind belongs in this list.
UNIT_TESTS := tests/unit tests/commerce/test_commerce_rules.py tests/commerce/test_photo_rules.py tests/credit/test_features.py \
	tests/lending/test_eir.py tests/lending/test_rules.py tests/lending/test_schedule.py \
	tests/lending/test_book_properties.py tests/rails/test_messages.py tests/rails/test_directory.py tests/rails/test_matching.py \
	tests/risk/test_rules.py tests/risk/test_ruleset.py tests/insights/test_forecast.py tests/insights/test_reorder.py tests/insights/test_loan_fit.py tests/insights/test_score_actions.py \
	tests/delivery/test_zones_rates.py tests/delivery/test_promise.py
# pytest exits 5 when it collects nothing: not a failure here.
PYTEST_RC = rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

.PHONY: run test test-deep check unit lint typecheck layers bench bench-api bench-qr bench-credit bench-cli bench-loans bench-rails bench-inbound bench-reconcile bench-risk bench-risk-gate bench-screening bench-web bench-forecast bench-insights bench-sms bench-delivery bench-ussd bench-tigerbeetle drill-failover drill-pitr drill-killnine drill-tigerbeetle messages clean

# `make run PORT=8080 HOST=0.0.0.0` to listen elsewhere (see README, "The command line").
HOST ?= 127.0.0.1
PORT ?= 8000

run: $(STAMP_RUN)
	$(BIN)/tindahan serve --demo --host $(HOST) --port $(PORT)

# Everything: the checks, then the whole suite (SQLite, PostgreSQL, Chromium, the slow tests)
# on both cores, with coverage of src/tindahan (the total printed, the table in
# test-artifacts/coverage.txt). Tests sharing a module's expensive fixture share a worker
# (`--dist loadgroup`, `xdist_group` marks); each worker has its own databases and ports.
# `--durations=30` prints the slowest set-ups and tests at the end, so every CI log says
# where the 10-minute budget goes.
# Coverage's core: sys.monitoring where the interpreter has it (3.12+), else the C tracer.
# Measured on the same 96 tests (README, "Testing"): the C tracer of 3.11 costs 67 % more CPU
# than the tests without coverage, sys.monitoring on 3.12 7 %, for the same lines measured.
COVERAGE_CORE_HERE = $$($(BIN)/python -c 'import sys; print("sysmon" if hasattr(sys, "monitoring") else "ctrace")')
# Bytecode kept between runs, even where the environment says PYTHONDONTWRITEBYTECODE (this
# machine does): without it every worker of every run compiles src/ and rewrites the asserts
# of the 200 test modules and of the Hypothesis and schemathesis plugins again, 34 s of CPU
# a worker's collection against 21 s with the caches (README, "Testing"). The caches are the
# usual __pycache__ folders, which git ignores.
KEEP_BYTECODE = unset PYTHONDONTWRITEBYTECODE;
test: $(STAMP_DEV) lint typecheck layers
	$(KEEP_BYTECODE) COVERAGE_CORE=$(COVERAGE_CORE_HERE) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=30 --cov --cov-report= ; $(PYTEST_RC)
	@mkdir -p test-artifacts && $(BIN)/coverage report > test-artifacts/coverage.txt; \
	  echo "coverage of src/tindahan: $$($(BIN)/coverage report --format=total)% (test-artifacts/coverage.txt)"

# The inner loop, under two minutes: lint, types, layers and the fast domain tests.
check: lint typecheck layers unit

unit: $(STAMP_DEV)
	$(KEEP_BYTECODE) $(BIN)/python -m pytest -m "not slow" $(UNIT_TESTS); $(PYTEST_RC)

# The property tests searching: random draws, ten times the examples, the example database
# kept under .hypothesis/ (tests/profiles.py); `make test` runs them derandomised.
test-deep: $(STAMP_DEV)
	$(KEEP_BYTECODE) TINDAHAN_HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup; $(PYTEST_RC)

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

layers: $(STAMP_DEV)
	$(BIN)/lint-imports

bench: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.ledger_table

# The API under load: `tindahan serve --workers 2` on PostgreSQL (needs the server at
# 127.0.0.1:5432, or TINDAHAN_BENCH_POSTGRES_URL); BENCH_API_ARGS passes options through.
bench-qr: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.qr --runs 7 --seconds 1

# Credit scoring: one merchant from SQLite (p99), batches in memory, training on 100,000
# rows; BENCH_CREDIT_ARGS passes options through (e.g. --only batch --runs 7).
bench-credit: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.credit $(BENCH_CREDIT_ARGS)

# Starting the command line: `tindahan qr decode` and `tindahan --help` as fresh processes;
# BENCH_CLI_ARGS passes options through (e.g. --compare ../main/.venv/bin/tindahan).
bench-cli: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.cli $(BENCH_CLI_ARGS)

# The loans' daily close for 100,000 active loans (target: under 2 minutes); BENCH_LOAN_ARGS
# passes options through (e.g. --loans 10000 --runs 5 --check).
bench-loans: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.loans $(BENCH_LOAN_ARGS)

# The nightly demand forecast for 10,000 products (target: 60 s) and its error against
# seasonal-naive on the simulator; BENCH_FORECAST_ARGS passes options through
# (e.g. --products 1000 --runs 1 --json).
bench-forecast: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.forecast $(BENCH_FORECAST_ARGS)

# The web app's strings, for translators: web/locale/messages.pot from the templates and
# modules (tests/web/test_i18n.py holds that each has a Filipino translation).
messages: $(STAMP_DEV)
	$(BIN)/pybabel extract -F babel.cfg -o src/tindahan/web/locale/messages.pot --no-location .

# ISO 20022 pacs.008 built and validated against its XSD on one core (target: 2,000/s), and
# read back; BENCH_RAILS_ARGS passes options through (e.g. --runs 7 --seconds 2 --json).
bench-rails: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.rails $(BENCH_RAILS_ARGS)

# A day's camt.053 of 10,000 entries read and matched against our movements, on one core.
# Inbound credit transfers end to end through the API on PostgreSQL (issue 19: >= 300/s).
bench-inbound: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.inbound --runs 3 --duration 10 --workers 2

bench-reconcile: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.reconcile --runs 5

bench-sms: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.sms

# Shipping offers for one checkout with three couriers (issue 25: <= 10 ms at p99).
# `make bench-delivery TRAIN=100000`: time the delivery-time model's training instead.
bench-delivery: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.delivery $(if $(TRAIN),--train $(TRAIN))

# The web pages on "Slow 3G" in Chromium: bytes and load time of each key page of the demo.
bench-risk: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.risk --runs 5

bench-risk-gate: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.risk_gate

bench-screening: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.screening

# A merchant's insights page with a year of sales on a fresh PostgreSQL database (issue 26):
# p50/p99 of GET /m/insights and CPU per GET; BENCH_INSIGHTS_ARGS passes options through.
bench-insights: $(STAMP_DEV)
	$(BIN)/python -W ignore::DeprecationWarning -m tindahan.bench.insights $(BENCH_INSIGHTS_ARGS)

bench-web: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.web --runs 5

# The ledger bench on a fresh 3-replica TigerBeetle cluster on loopback (issue 22; README):
# needs the server binary (`tindahan ledger cluster build`, about 4 minutes, cached).
bench-tigerbeetle: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.tigerbeetle

# USSD steps' latency under 200 concurrent sessions on PostgreSQL (issue 24; README).
bench-ussd: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.ussd

bench-api: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.api $(BENCH_API_ARGS)

# Loses the primary PostgreSQL (kill -9) under a payment load, on a pg_auto_failover formation
# it starts under a temporary folder (README, "Operating it"); installs postgresql-15-auto-failover
# with apt-get when missing (as root). `make drill-failover DRILL_ARGS="--payments 400 --json"`.
drill-failover: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.failover_drill $(DRILL_ARGS)

# kill -9 of server processes (one HTTP worker, then the whole `serve --workers 2`, restarted)
# under a group-committed payment load on PostgreSQL (issue 18; README, "Group commit").
# `make drill-killnine DRILL_ARGS="--payments 3000 --rate 200 --json"`.
drill-killnine: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.killnine_drill $(DRILL_ARGS)

# Restores PostgreSQL to a moment between two batches of payments from a base backup and the
# WAL archive, on a cluster it makes under a temporary folder (README, "Operating it").
drill-pitr: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.pitr_drill $(DRILL_ARGS)

# Loses TigerBeetle replicas (one, then two of three) and the Tindahan server (kill -9) under a
# payment load, on a 3-replica cluster and a fresh PostgreSQL database it makes and drops
# (README, "The ledger on TigerBeetle"); needs `tindahan ledger cluster build` first.
# `make drill-tigerbeetle DRILL_ARGS="--phases server --json"`.
drill-tigerbeetle: $(STAMP_DEV)
	$(BIN)/python -m tindahan.bench.tigerbeetle_drill $(DRILL_ARGS)

$(VENV_MADE):
	@test -n "$(PYTHON_VERSION)" || { echo "error: $(PYTHON) does not run; set PYTHON=" >&2; exit 2; }
	@if [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
	     != "$(PYTHON_VERSION)" ]; then set -x; rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) \
	  && $(BIN)/python -m pip install --quiet --upgrade pip; fi
	touch -r $(VENV)/pyvenv.cfg $@

$(STAMP_RUN): pyproject.toml $(VENV_MADE)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml $(VENV_MADE)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
