# ATS Research: `make run` (app + worker on the embedded SQLite database) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python >= 3.12 on PATH (pyenv's shims honour .python-version).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
SQLITE_TEST_URL := sqlite:///var/test/ats-test.sqlite3

.PHONY: help run test test-postgres test-sqlite test-packages lint format bench bench-queue migrations clean

help:
	@echo "make run    set up and run the app (http://127.0.0.1:8000/admin/) and a worker"
	@echo "           (BIND=127.0.0.1:8001 make run: another address)"
	@echo "make test   set up and run the tests on PostgreSQL, then the SQLite-marked ones"
	@echo "make lint   ruff check and format check"
	@echo "make bench  benchmarks (bench/) on PostgreSQL"
	@echo "make bench-queue  the job queue beside pgqueuer, procrastinate, django-tasks (QUICK=1: <2 min)"

$(VENV)/.created:
	@if [ -z "$(PYTHON)" ]; then \
		echo "ERROR: Python 3.12 or newer is required and none was found on PATH." >&2; \
		echo "Install it (e.g. 'pyenv install 3.12' or your OS package python3.12)," >&2; \
		echo "or name it: make PYTHON=/path/to/python3.12 ..." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.runtime: $(VENV)/.created requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	@touch $@

# The address to serve on: BIND=127.0.0.1:8001 make run when 8000 is taken.
BIND ?= 127.0.0.1:8000
export BIND

# --prepare: the port must be free (checked before the slow steps), and .env (DEBUG=true)
# is written if missing, so manage.py works from another terminal as it does here.
run: $(VENV)/.runtime
	@DEBUG=true $(PY) bin/devserver --prepare
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=true $(PY) manage.py seed_demo --admin
	@echo "Open http://$(BIND)/admin/ and log in as admin / admin."
	DEBUG=true $(PY) bin/devserver

test: test-postgres test-sqlite

# Debian packages the tests use: Chromium for the browser tests (Playwright's own browser
# download needs the internet), curl and jq for the executable API guide (docs/api.md).
# Installed with apt-get when missing; needs root, as on CI.
TEST_PACKAGES := chromium chromium-driver curl jq
test-packages:
	@missing=""; for tool in chromium curl jq; do command -v $$tool >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages for the tests: $(TEST_PACKAGES)..."; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq $(TEST_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq $(TEST_PACKAGES); }; fi
	@for tool in chromium curl jq; do command -v $$tool >/dev/null 2>&1 || { \
		echo "ERROR: $$tool is missing and could not be installed; run as root:" >&2; \
		echo "  apt-get update && apt-get install -y $(TEST_PACKAGES)" >&2; exit 1; }; done

# pytest writes FINISHED when its session ends (conftest.py); a run that exits 0 without it
# was cut short (a process ended by the code under test) and must not pass.
FINISHED := var/test/session-finished
define check-finished
	@test -f $(FINISHED) || { echo "ERROR: pytest exited without finishing its session: something ended the test process early. Rerun with -v to see the last test." >&2; exit 1; }
endef

test-postgres: $(VENV)/.test test-packages
	@mkdir -p var/test && rm -f $(FINISHED)
	ATS_TEST_FINISHED_FILE=$(FINISHED) $(PY) bin/with-test-postgres $(PY) -m pytest $(PYTEST_ARGS)
	$(check-finished)

test-sqlite: $(VENV)/.test
	@mkdir -p var/test && rm -f $(FINISHED)
	ATS_TEST_FINISHED_FILE=$(FINISHED) DATABASE_URL=$(SQLITE_TEST_URL) $(PY) -m pytest -m sqlite $(PYTEST_ARGS)
	$(check-finished)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.test
	$(PY) bin/with-test-postgres $(PY) bench/ingest.py

$(VENV)/.bench: $(VENV)/.test requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt
	@touch $@

# Writes docs/benchmarks.md and docs/benchmarks.png. BENCH_ARGS="--db-prefix bench_me" etc.
bench-queue: $(VENV)/.bench
	$(PY) bin/with-test-postgres $(PY) bench/queue.py $(if $(QUICK),--quick) $(BENCH_ARGS)

migrations: $(VENV)/.runtime
	DEBUG=true $(PY) manage.py makemigrations

clean:
	rm -rf $(VENV) var/test .pytest_cache .ruff_cache test-artifacts .hypothesis
