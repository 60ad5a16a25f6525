# Pipeline Pulse: `make demo` serves the product, `make test` runs the whole test suite.
# Both create the virtualenv and install what they need; only Python 3.11+ and make are assumed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# A production-like environment for `manage.py check --deploy` in `make lint`.
DEPLOY_ENV := DEBUG=false HTTPS=true ALLOWED_HOSTS=pulse.example.com \
	SECRET_KEY=lint-only-5bd1f7c2a9e04d6b8f3a1c7e9d2b4f6a8c0e1d3f5a7b9c2e4f6a8b0c1d3e5f7

.DEFAULT_GOAL := help
.PHONY: help install install-dev demo test lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create .venv with the runtime dependencies

install-dev: $(VENV)/.installed-dev ## Create .venv with the development tools too

demo: $(VENV)/.installed ## Set everything up and serve the demo on http://127.0.0.1:8000
	$(BIN)/python manage.py demo --host $(HOST) --port $(PORT)

# Line and branch coverage of the whole suite ([tool.coverage] in pyproject.toml); below the
# floor `make test` fails. The floor is the measured total rounded down: raise it as coverage
# grows. `make test COVERAGE=` runs without measuring (faster, e.g. for a subset of the tests).
COVERAGE ?= --cov --cov-fail-under=94

test: $(VENV)/.installed-dev ## Run the whole test suite with coverage (PostgreSQL when it answers)
	DATABASE_URL="$$($(BIN)/python -m pipeline_pulse.dbprobe)" \
		$(BIN)/python -m pytest $(COVERAGE) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev ## Linters, type checks, migration and deploy checks, security audits
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/bandit -q -c pyproject.toml -r .
	$(BIN)/pip-audit --skip-editable --progress-spinner off

format: $(VENV)/.installed-dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev ## Run the benchmarks under bench/ (PostgreSQL at DATABASE_URL)
	$(BIN)/python -m bench

clean: ## Remove the virtualenv, the embedded database and local state
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles *.egg-info .coverage
