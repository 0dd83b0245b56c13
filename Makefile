# isop: the two set-up commands of the README, and their parts.
#   make demo   - install everything, start the sandbox world, run the main job against it
#   make test   - install everything, lint, check migrations, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
SUDO    = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LINT_PATHS = collector spiders enrich storage tests bench

.PHONY: demo test lint migrations-check pytest venv chromium services clean

demo: venv chromium
	$(BIN)/isop demo

test: venv chromium lint migrations-check pytest

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Chromium comes from Debian; Playwright launches it by path (no browser download).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi
	@"$(CHROMIUM)" --version

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)

# Models and migrations agree (alembic check), on a throw-away SQLite store.
migrations-check: venv
	@tmp=$$(mktemp -d) && \
	ISOP_STORAGE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic -c storage/alembic.ini upgrade head && \
	ISOP_STORAGE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic -c storage/alembic.ini check; \
	rc=$$?; rm -rf $$tmp; exit $$rc
	@db=isop_migrations_check_$$$$ && \
	psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $$db" && \
	ISOP_STORAGE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/$$db $(BIN)/alembic -c storage/alembic.ini upgrade head && \
	ISOP_STORAGE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/$$db $(BIN)/alembic -c storage/alembic.ini check; \
	rc=$$?; psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $$db WITH (FORCE)"; exit $$rc

pytest: venv
	$(BIN)/pytest -q

clean:
	rm -rf data/demo .pytest_cache .ruff_cache
