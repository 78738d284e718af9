# assbtrack — `make run` brings everything up with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/assbtrack
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist); each test process has its own database and Redis database.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test test-sqlite test-postgres lint venv migrate demo worker drills e2e backup restore clean help

help:
	@echo "make run    - set up (.venv, database, demo data, Redis, Celery worker) and serve http://127.0.0.1:8000"
	@echo "make test   - ruff, then the whole suite on SQLite and on PostgreSQL with a real Redis and worker"

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "assbtrack needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py demo_data

run: venv
	bash assbtrack/scripts/run.sh

worker: venv
	bash assbtrack/scripts/services.sh redis mdbtools
	$(VENV)/bin/celery -A assbtrack worker -B --loglevel INFO  # consumes <ASSBTRACK_INSTANCE>.models, .plots, .imports

lint: venv
	$(VENV)/bin/ruff check .

test: lint test-sqlite test-postgres

test-sqlite: venv
	PY=$(PY) bash assbtrack/scripts/services.sh redis chromium mdbtools graphviz
	@echo "== tests on SQLite =="
	env -u DATABASE_URL -u TEST_DATABASE_URL $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-postgres: venv
	PY=$(PY) TEST_DATABASE_URL=$(TEST_DATABASE_URL) bash assbtrack/scripts/services.sh redis postgres mdbtools graphviz netns
	@echo "== tests on PostgreSQL =="
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

e2e: venv
	PY=$(PY) bash assbtrack/scripts/services.sh redis chromium graphviz
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

drills: venv
	PY=$(PY) bash assbtrack/scripts/services.sh redis
	$(PY) -m pytest tests/drills $(PYTEST_ARGS)

BACKUP ?= var/backups/assbtrack-$(shell date +%Y%m%d-%H%M%S).tar.gz
backup: venv
	$(PY) manage.py backup $(BACKUP)

restore: venv
	@test -n "$(FROM)" || { echo "usage: make restore FROM=var/backups/<file>.tar.gz (stop make run and workers first)"; exit 2; }
	bash assbtrack/scripts/services.sh redis  # restore asks the broker whether workers run
	$(PY) manage.py restore $(FROM)

clean:
	rm -rf var/test-db-*.sqlite3* .pytest_cache

# --- Benchmark and load test (issue 10). `make bench` builds a synthetic lab at BENCH_SCALE in a database
# of its own (kept between runs; BENCH_FRESH=1 starts again) and prints the benchmark table; `make load`
# runs locust against gunicorn (2 workers, 127.0.0.1 only) on that lab, bounded in time and requests.
# PostgreSQL: make bench BENCH_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/assbtrack_bench
BENCH_SCALE ?= 1
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/var/bench-$(BENCH_SCALE).sqlite3
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/14
BENCH_JSON ?= var/bench-$(BENCH_SCALE).json
BENCH_ARGS ?=
BENCH_FRESH ?=
LOAD_USERS ?= 4
LOAD_RUN_TIME ?= 60s
LOAD_MAX_REQUESTS ?= 20000
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL) DEBUG=0 ASSBTRACK_API_RATE=1000000/hour

.PHONY: bench bench-db load

bench-db: venv
	@mkdir -p var
	PY=$(PY) bash assbtrack/scripts/services.sh redis $(if $(findstring postgres,$(BENCH_DATABASE_URL)),postgres,)
	$(if $(BENCH_FRESH),$(PY) -m bench.db fresh $(BENCH_DATABASE_URL),$(PY) -m bench.db ensure $(BENCH_DATABASE_URL))
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v0
	$(BENCH_ENV) $(PY) manage.py synth_lab --scale $(BENCH_SCALE) --reuse -v2

bench: bench-db
	$(BENCH_ENV) $(PY) manage.py bench --scale-label "synth_lab --scale $(BENCH_SCALE)" --json $(BENCH_JSON) $(BENCH_ARGS)

load: bench-db
	$(BENCH_ENV) LOAD_USERS=$(LOAD_USERS) LOAD_RUN_TIME=$(LOAD_RUN_TIME) LOAD_MAX_REQUESTS=$(LOAD_MAX_REQUESTS) \
		$(PY) manage.py shell -c "from bench.load import main; main()"
