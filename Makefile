# churnapp — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DEBUG ?= true
# When `make run` started, so the stack can say how long the first page took.
export CHURNAPP_STARTED_AT ?= $(shell date +%s)

.PHONY: run test install lint format ci clean

# `make run` needs only what the app runs on; `make test` adds the test and lint tools.
$(VENV)/.installed-run: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed

# The embedded default's configuration, read by every manage.py command (see churnapp/settings.py).
var/local.env:
	@mkdir -p var
	@$(PYTHON) -c 'import secrets; print("# Written once by make run: local development settings.\nDEBUG=true\nSECRET_KEY=" + secrets.token_urlsafe(50))' > $@
	@echo "Wrote $@ (DEBUG on, a generated SECRET_KEY) for manage.py commands."

## Install, migrate, create an admin and demo data if missing, then serve web + worker + beat.
run: $(VENV)/.installed-run var/local.env
	$(PY) manage.py compile_translations
	PORT=$(PORT) $(PY) manage.py runstack --prepare

## The whole suite on the embedded defaults (SQLite, tasks run in-process); browser tests skip without Chromium.
test: install
	$(PY) manage.py compile_translations
	$(PY) -m pytest -q -m "not integration and not e2e and not replica" -p no:randomly; rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ci:
	bash .ci/run

clean:
	rm -rf var staticfiles .pytest_cache
