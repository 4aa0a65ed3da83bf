# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-postgres bench migrate messages clean help

help:
	@echo "make run    – installieren, Datenbank migrieren, Demo laden, http://$(HOST):$(PORT) starten"
	@echo "make test   – Entwicklungsabhängigkeiten installieren und alle Tests ausführen"
	@echo "make bench  – Messungen ausführen und Zahlen ausgeben"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The stamp files re-run pip only when the requirement files change.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python run.py --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

migrate: $(VENV)/.installed
	$(BIN)/flask --app beteiligung db upgrade

messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o beteiligung/translations/messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache
