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

.PHONY: help run serve lock bench bench-postgres soak sandbox test test-postgres lint format install install-dev chromium nginx clean
.DEFAULT_GOAL := help

## help: this list (what `make` alone prints): each target with its `##` comment
help:
	@awk '/^## / { text = text (text == "" ? "" : " ") substr($$0, 4); next } \
	  /^[a-z][a-z0-9-]*:/ && text != "" { sub(/^[^:]*: /, "", text); \
	    printf "  make %-14s %s\n", substr($$1, 1, index($$1, ":") - 1), text } \
	  { text = "" }' $(firstword $(MAKEFILE_LIST))

# The venv's bundled pip installs everything: nothing is fetched before the hashes are checked.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)

# Stamps re-run pip only when a lock file changes. Production gets requirements.lock alone;
# development (run, test, bench, soak) gets requirements-dev.lock: the same pins, plus the
# sandbox's and the tools' packages.
$(VENV)/.installed-serve: requirements.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.installed-serve

## install: production packages only (requirements.lock), as `make serve` does
install: $(VENV)/.installed-serve
## install-dev: production and development packages (requirements-dev.lock), as `make run` does
install-dev: $(VENV)/.installed-dev

# No index or find-links options in the files: they name where this machine installs from.
PIP_COMPILE := $(BIN)/pip-compile -q --upgrade --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host

## lock: re-pin requirements.lock and requirements-dev.lock, with hashes, to the newest versions the
## requirements*.txt ranges allow (on the Python version production runs); then `make test`
lock: install-dev
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

# Every command of `make run` talks to the sandbox, never to Cloudflare or Stripe.
run: export BILLING_SANDBOX := true
## run: install, migrate, seed the demo users, start localstripe + sandbox + web server + the
## notifications worker (Ctrl-C stops all)
run: install-dev
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_notifications
	@echo "Open http://$(WEB_HOST):$(WEB_PORT)/ and sign in as admin / admin-sandbox"
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} SANDBOX_SETTLE_SECONDS=$(SANDBOX_SETTLE_SECONDS) \
	  $(BIN)/honcho -f Procfile start

## serve: production: install requirements.lock, check the settings (any warning stops it), migrate,
## collect static files, then gunicorn (GUNICORN_WORKERS, GUNICORN_BIND from the environment, like
## every other setting; see "Deploying it" in the README)
serve: install
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	exec $(BIN)/gunicorn billing_portal.wsgi -c gunicorn.conf.py

## bench: the performance targets, measured side by side; prints a table, writes bench/results.json
bench: install-dev
	$(BIN)/python -m bench

## bench-postgres: the history, the finance desk and the CSV export at 1,000,000 top-ups against
## 1,000, on a throwaway PostgreSQL; prints a table, writes bench/results-postgres.json
bench-postgres: install-dev
	scripts/with-postgres.sh $(BIN)/python -m bench.postgres

## soak: SOAK_SECONDS (600) of a busy team, with faults, on a throwaway PostgreSQL behind gunicorn;
## then the invariants; prints a table, writes bench/soak.json (not part of `make test`)
soak: install-dev
	scripts/with-postgres.sh $(BIN)/python -m soak

## sandbox: only localstripe + the Cloudflare billing emulator
sandbox: install-dev
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

## lint: the static checks, which `make test` runs first
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## format: ruff formats the code and fixes what it can
format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test: the whole suite, browser tests included, then the database tests again on PostgreSQL
test: install-dev chromium nginx $(AXE) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) test-postgres

## test-postgres: the database tests (state machine, races, budget, flow, finance, notifications, access, crafted input) on a throwaway PostgreSQL
test-postgres: install-dev
	scripts/with-postgres.sh $(BIN)/python -m pytest tests/accounts tests/topups tests/finance tests/notifications tests/test_access.py tests/test_crafted_input.py tests/test_migrate_lock.py tests/test_migrations.py tests/test_backup_restore.py tests/test_bench_postgres.py $(PYTEST_ARGS)

## clean: remove .venv/, the caches and test-artifacts/
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
