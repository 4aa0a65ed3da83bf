# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-postgres bench bench-load migrate messages clean help

help:
	@echo "make run    – installieren, Datenbank migrieren, Demo laden, http://$(HOST):$(PORT) starten"
	@echo "make test   – Entwicklungsabhängigkeiten installieren und alle Tests ausführen"
	@echo "make bench  – Messungen ausführen und Zahlen ausgeben"
	@echo "make bench-load – Lasttest: gunicorn + PostgreSQL (127.0.0.1:5432), 20 Nutzer, 30 s, mit Prüfung der Unterstützungen und Kommentare"

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

# axe-core for the accessibility tests, from the npm registry (package-lock.json pins it).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests (tests/e2e) need Chromium and axe-core; without them pytest skips them
# and its summary says what is missing. `.ci/run` installs both and sets E2E_REQUIRED=1.
test: $(VENV)/.installed-dev
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory node_modules/.installed \
	  || echo "axe-core konnte nicht installiert werden: Browsertests werden übersprungen"; \
	  else echo "npm fehlt: Browser- und Barrierefreiheitstests werden übersprungen"; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	@command -v npm >/dev/null 2>&1 && $(MAKE) --no-print-directory node_modules/.installed || true
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

# Needs PostgreSQL on 127.0.0.1:5432; about two minutes. BENCH_LOAD_ARGS="--users 50 --duration 60".
bench-load: $(VENV)/.installed
	$(BIN)/python -m bench.load $(BENCH_LOAD_ARGS)

migrate: $(VENV)/.installed
	$(BIN)/flask --app beteiligung db upgrade

messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o beteiligung/translations/messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache node_modules test-output
