# The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
# `make run` needs only the app's dependencies; `make test` adds the dev/test extras
# (pytest, playwright, torch: most of the download).
APP_STAMP := $(VENV)/.app-$(HASH)
STAMP := $(VENV)/.installed-$(HASH)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format bench loadtest install install-app system-deps clean help wheel lock

help:
	@echo "make run    - install the app, migrate SQLite, load exercises and a demo course, serve on http://$(HOST):$(PORT) (HOST=, PORT= to change)"
	@echo "make test   - install test requirements (chromium, postgresql) and run the whole suite"
	@echo "make lint   - ruff check, ruff format --check, import contracts"
	@echo "make bench  - the benchmarks asked for by the issues"
	@echo "make loadtest - 300 simulated students + an instructor on gunicorn + PostgreSQL (USERS=, DURATION=)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# No --quiet on the long steps: pip's progress lines show that something is happening.
$(APP_STAMP): $(BIN)/python pyproject.toml
	@echo "Installing the app's dependencies into $(VENV) (first time: about a minute)..."
	$(BIN)/pip install --progress-bar on -e .
	rm -f $(VENV)/.app-*
	touch $(APP_STAMP)

$(STAMP): $(BIN)/python pyproject.toml
	@echo "Installing the app with its test and dev tools into $(VENV) (torch among them: several minutes)..."
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	rm -f $(VENV)/.installed-* $(VENV)/.app-*
	touch $(STAMP) $(APP_STAMP)

# Every install in the project venv uses the pinned versions (constraints.txt, `make lock`).
$(STAMP): export PIP_CONSTRAINT = $(CURDIR)/constraints.txt
$(APP_STAMP): export PIP_CONSTRAINT = $(CURDIR)/constraints.txt

install: $(STAMP)

# The installable wheel (migrations and the exercise library inside; see setup.py) in dist/.
wheel: install
	rm -rf build
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

# Re-pin constraints.txt from the venv (after changing dependencies in pyproject.toml).
lock: install
	@{ sed -n '1,4p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^grader' | sed 's/+cpu$$//'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

install-app: $(APP_STAMP)

# HOST= and PORT= choose the address (make run PORT=8000); in development the public
# URL (links, the LTI configuration) follows them unless GRADER_PUBLIC_URL is set.
run: install-app
	$(BIN)/grader db upgrade
	$(BIN)/grader load-exercises
	$(BIN)/grader seed-demo
	@echo
	@echo "  Open http://$(HOST):$(PORT)/ and sign in with one of the accounts above."
	@echo
	GRADER_HOST=$(HOST) GRADER_PORT=$(PORT) $(BIN)/grader serve

# Debian's chromium and postgresql for the browser and database tests (root only;
# elsewhere install them yourself, or those tests skip locally and fail under CI=true).
system-deps:
	@if [ "$$(id -u)" = "0" ] && { ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: system-deps install lint
	$(BIN)/pytest -n 2 --dist loadgroup -p no:cacheprovider
	$(BIN)/grader validate-exercises --seeds 200  # the discrimination invariant, every exercise (about 20-70 s)

bench: install
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# 300 students + 1 instructor against gunicorn (cores + 1 sync workers) on a throwaway PostgreSQL,
# then an audit of the database (loadtest/run.py). Locust lives in its own virtualenv so
# its pytest plugin and gevent stay out of the project's.
LOADTEST_VENV := loadtest/.venv

$(LOADTEST_VENV)/bin/locust:
	$(PYTHON) -m venv $(LOADTEST_VENV)
	$(LOADTEST_VENV)/bin/pip install --quiet "locust==2.47.0"

loadtest: system-deps install $(LOADTEST_VENV)/bin/locust
	$(BIN)/python -m loadtest.run --users $(or $(USERS),300) --duration $(or $(DURATION),60)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache .hypothesis
