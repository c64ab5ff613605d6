# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8000
SANDBOX_API_PORT ?= 8787
LOCALSTRIPE_PORT ?= 8420
# In the demo a paid top-up stays "pending" this long, so the live refresh can be seen working.
SANDBOX_SETTLE_SECONDS ?= 3
export SANDBOX_API_PORT LOCALSTRIPE_PORT WEB_HOST WEB_PORT

.PHONY: run serve bench soak sandbox test test-postgres lint format install install-dev chromium clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps re-run pip only when a requirements file changes.
$(VENV)/.installed-run: requirements.txt requirements-sandbox.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt -r requirements-sandbox.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-sandbox.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

## run: install, migrate, seed the demo users, start localstripe + sandbox + web server (Ctrl-C stops all)
run: install
	BILLING_SANDBOX=true $(BIN)/python manage.py migrate --noinput
	BILLING_SANDBOX=true $(BIN)/python manage.py collectstatic --noinput -v 0
	BILLING_SANDBOX=true $(BIN)/python manage.py seed_demo
	@echo "Open http://$(WEB_HOST):$(WEB_PORT)/ and sign in as admin / admin-sandbox"
	BILLING_SANDBOX=true DJANGO_DEBUG=$${DJANGO_DEBUG:-true} SANDBOX_SETTLE_SECONDS=$(SANDBOX_SETTLE_SECONDS) \
	  $(BIN)/honcho -f Procfile start

## serve: production: migrate, collect static files, then gunicorn (GUNICORN_WORKERS, GUNICORN_BIND
## from the environment, like every other setting; see "Deploying it" in the README)
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	exec $(BIN)/gunicorn billing_portal.wsgi -c gunicorn.conf.py

## bench: the performance targets, measured side by side; prints a table, writes bench/results.json
bench: install-dev
	$(BIN)/python -m bench

## soak: SOAK_SECONDS (600) of a busy team, with faults, on a throwaway PostgreSQL behind gunicorn;
## then the invariants; prints a table, writes bench/soak.json (not part of `make test`)
soak: install-dev
	scripts/with-postgres.sh $(BIN)/python -m soak

## sandbox: only localstripe + the Cloudflare billing emulator
sandbox: install
	$(BIN)/python -m sandbox

# Browser tests drive Debian's Chromium; install it when we may (root) and it is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

# The deploy/ examples are checked by Debian's nginx and systemd-analyze; install them when we
# may (root) and they are missing.
nginx:
	@if ! [ -x /usr/sbin/nginx ] || ! command -v systemd-analyze >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx systemd >/dev/null; \
	  else \
	    echo "The deploy/ examples' tests need Debian's nginx and systemd: sudo apt-get install nginx systemd" >&2; exit 1; \
	  fi; \
	fi

# axe-core for the accessibility tests, from the npm registry at the version its lock file pins.
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	npm ci --prefix tests/browser/axe --no-audit --no-fund --loglevel=error
	@touch $@

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test: the whole suite, browser tests included, then the database tests again on PostgreSQL
test: install-dev chromium nginx $(AXE) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) test-postgres

## test-postgres: the database tests (state machine, races, budget, flow, finance, access, crafted input) on a throwaway PostgreSQL
test-postgres: install-dev
	scripts/with-postgres.sh $(BIN)/python -m pytest tests/accounts tests/topups tests/finance tests/test_access.py tests/test_crafted_input.py tests/test_migrate_lock.py tests/test_backup_restore.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
