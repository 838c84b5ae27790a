# Tongxin: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev translations browser-deps lint bench clean

run: install translations
	$(FLASK) db upgrade
	BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) --debug seed-demo
	BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev translations browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tongxin needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements.lock | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt -c requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements.lock requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt -c requirements.lock
	touch $(VENV)/.installed $@

translations: install
	$(BIN)/pybabel -q compile -d translations

# axe-core for the accessibility checks in the browser tests (from the npm registry).
browser-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the browser tests will be skipped (they need axe-core)"; \
	fi

bench: install-dev
	$(BIN)/python bench/roster_import.py

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache artifacts
