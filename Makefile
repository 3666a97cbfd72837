# The front door. `make run` serves the app; `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

# The first Python 3.11+ on PATH.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: help run setup test lint format worker bench vendor clean

help:
	@echo "make run    - install, migrate, load specifications and demo data, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   - lint, migration check and the whole test suite"
	@echo "make lint   - ruff and the migration check only"
	@echo "make worker - a Celery worker on its own"
	@echo "make bench  - benchmarks against a floor: pages, load, uploads, PDF export (bench/RESULTS.md)"
	@echo "make vendor - refresh static/vendor from the npm registry (needs npm)"

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "make: no Python 3.11 or newer found on PATH" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_specifications
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo

run: setup
	DEBUG=$${DEBUG:-1} $(PY) scripts/serve.py

worker: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(PY) -m celery -A config worker --loglevel INFO

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev-installed
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: lint
	$(PY) -m pytest

# Pages (small and large datasets), throughput under load, a 500 MB upload and the PDF export, one after
# another: a benchmark that fails or misses a goal does not stop the others. Writes bench/RESULTS.md and
# bench/results/*.json. On PostgreSQL where DATABASE_URL is set, SQLite otherwise. BENCH_ARGS, e.g.
# "--only pages --reuse", is passed on.
bench: $(VENV)/.dev-installed
	$(PY) -m bench $(BENCH_ARGS)

vendor:
	npm ci --no-audit --no-fund
	mkdir -p static/vendor/bootstrap static/vendor/htmx
	cp node_modules/bootstrap/dist/css/bootstrap.min.css* node_modules/bootstrap/dist/js/bootstrap.bundle.min.js* node_modules/bootstrap/LICENSE static/vendor/bootstrap/
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE static/vendor/htmx/

clean:
	rm -rf $(VENV) var node_modules
