# Pipeline Pulse: `make demo` serves the product, `make test` runs the whole test suite.
# Both create the virtualenv and install what they need; only Python 3.11+ and make are assumed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# Django refuses to start without SECRET_KEY when DEBUG is off. Outside production, a key made
# once for this checkout (var/secret-key, never committed) serves the demo, the tests and the
# tools; a SECRET_KEY in the environment wins.
ifndef SECRET_KEY
SECRET_KEY := $(shell mkdir -p var && { cat var/secret-key 2>/dev/null || \
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' | tee var/secret-key; })
endif
export SECRET_KEY

# A production-like environment for `manage.py check --deploy` in `make lint`.
DEPLOY_ENV := DEBUG=false HTTPS=true ALLOWED_HOSTS=pulse.example.com \
	SECRET_KEY=lint-only-5bd1f7c2a9e04d6b8f3a1c7e9d2b4f6a8c0e1d3f5a7b9c2e4f6a8b0c1d3e5f7

.DEFAULT_GOAL := help
.PHONY: help install install-dev demo test lint lock lock-check format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exact versions and hashes from the lock files (requirements/, written by `make lock` from
# pyproject.toml's ranges); the project itself goes in editable, without resolving again.
$(VENV)/.installed: requirements/runtime.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/runtime.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create .venv with the runtime dependencies

install-dev: $(VENV)/.installed-dev ## Create .venv with the development tools too

demo: $(VENV)/.installed ## Set everything up and serve the demo on http://127.0.0.1:8000
	$(BIN)/python manage.py demo --host $(HOST) --port $(PORT)

# Line and branch coverage of the whole suite ([tool.coverage] in pyproject.toml); below the
# floor `make test` fails. The floor is the measured total rounded down: raise it as coverage
# grows. `make test COVERAGE=` runs without measuring (faster, e.g. for a subset of the tests).
COVERAGE ?= --cov --cov-fail-under=94

# PostgreSQL at DATABASE_URL, or the embedded one in var/postgres when it is not set (the
# report's header says which). TEST_TODAY=2027-03-31T23:30+08:00 runs the suite at that moment.
test: $(VENV)/.installed-dev ## Run the whole test suite with coverage
	$(BIN)/python -m pytest $(COVERAGE) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev lock-check ## Linters, type checks, migration and deploy checks, audits
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/bandit -q -c pyproject.toml -r .
	$(BIN)/hadolint Dockerfile
	$(BIN)/pip-audit --skip-editable --progress-spinner off

# One universal resolution for every platform and Python 3.11+, with hashes. Versions already
# in the files are kept unless pyproject.toml's ranges rule them out; `make lock UPGRADE=1`
# takes the newest releases the ranges allow.
LOCK_ARGS = --universal --generate-hashes --python-version 3.11 --quiet \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock: $(VENV)/.installed-dev ## Write requirements/*.txt from pyproject.toml's ranges
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) -o requirements/runtime.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o requirements/dev.txt

lock-check: $(VENV)/.installed-dev ## Fail when the lock files no longer match pyproject.toml
	@tmp=$$(mktemp -d) && cp requirements/*.txt $$tmp/ \
	&& $(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) -o $$tmp/runtime.txt \
	&& $(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o $$tmp/dev.txt \
	&& diff -u requirements/runtime.txt $$tmp/runtime.txt && diff -u requirements/dev.txt $$tmp/dev.txt \
	|| { echo "requirements/ does not match pyproject.toml: run make lock"; rm -rf $$tmp; exit 1; }; \
	rm -rf $$tmp

format: $(VENV)/.installed-dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev ## Run the benchmarks under bench/ (DATABASE_URL, or the embedded PostgreSQL)
	$(BIN)/python -m bench

clean: ## Stop the embedded PostgreSQL; remove the virtualenv, the embedded database and local state
	-[ -x $(BIN)/python ] && $(BIN)/python -m pipeline_pulse.storage.embedded_postgres stop
	rm -rf $(VENV) var staticfiles *.egg-info .coverage
