# HTA Tracker: `make run` serves the app with demo data; `make test` runs the whole suite.
# Both set everything up on a fresh machine that has Python 3.11 and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations extract-messages migrate seed lint format bench bench-pages clean vendor screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d app/translations

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

# The notification worker runs beside the dev server and stops with it; without MAIL_SERVER it
# writes the mails to instance/mail/*.eml.
run: translations seed
	@$(BIN)/flask notify run --interval 5 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/workflow.py
	$(BIN)/python bench/notifications.py

# Page loads under gunicorn on PostgreSQL (bench/pages.py; wrk from the `wrk` package if
# installed). BENCH_PAGES_ARGS, e.g. --sizes demo,100000 --reuse --label after.
BENCH_PAGES_ARGS ?= --sizes demo,10000 --reuse
bench-pages: translations
	$(BIN)/python bench/pages.py $(BENCH_PAGES_ARGS)

# Refresh the vendored front-end packages (bootstrap-italia, axe-core) from the npm registry.
vendor:
	sh scripts/vendor.sh

# docs/screenshots/*.png: each role's home and a request page, on the demo data (needs chromium).
screenshots: translations
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
