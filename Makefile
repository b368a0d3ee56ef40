# make run: from a fresh clone, set up and serve (HTTP + WebSocket + background workers).
# make test: the same set-up, then lint and the test suite.
# make client: regenerate the frontend's TypeScript client from the served OpenAPI.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint migrate bench clean client

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py serve

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The frontend's TypeScript client: clients/typescript/openapi.yaml as GET /api/schema/ serves it,
# and src/schema.ts generated from it by openapi-typescript (needs node and npm). Commit both.
client: $(VENV)/.installed
	$(PY) scripts/typescript_client.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .pytest_cache .ruff_cache
