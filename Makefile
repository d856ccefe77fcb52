# Tandem: two commands. `make demo` runs the app, `make test` proves it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG15_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install chromium demo serve test lint types unit integration integration-pg15 e2e fuzz bench clean i18n

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

chromium:
	@sh scripts/ensure-chromium.sh

demo: install
	$(BIN)/python -m server.cli demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q tests/unit

# Integration tests on the embedded PostgreSQL (18), then on the local PostgreSQL 15.
integration: install
	$(BIN)/pytest -q tests/integration

integration-pg15: install
	@sh scripts/require-pg15.sh "$(PG15_URL)"
	TANDEM_TEST_DATABASE_URL="$(PG15_URL)" $(BIN)/pytest -q -m "not embedded_only" tests/integration

e2e: install chromium
	$(BIN)/pytest -q tests/e2e

test: install chromium lint types unit integration integration-pg15 e2e

# Interface text: extract every msgid (server, templates, PWA) and update each language's
# catalog; then translate the new entries in server/locale/<lang>/LC_MESSAGES/messages.po
# (tests/unit/test_catalogs.py fails until every one is translated).
I18N_KEYWORDS := -k _ -k ngettext:1,2 -k tr:2 -k trn:2,3 -k N_
i18n: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header $(I18N_KEYWORDS) -o server/locale/messages.pot .
	$(BIN)/pybabel update -i server/locale/messages.pot -d server/locale --no-fuzzy-matching --ignore-obsolete -w 100

# The OpenAPI fuzzer, long: many examples per operation and a new seed each run (printed;
# FUZZ_SEED=n make fuzz replays one). `make test` runs it briefly with a fixed seed.
FUZZ_EXAMPLES ?= 400
FUZZ_SEED ?= $(shell date +%s)
fuzz: install
	@echo "fuzz seed: $(FUZZ_SEED) ($(FUZZ_EXAMPLES) examples per operation and role)"
	TANDEM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TANDEM_FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/pytest -q -s --timeout=0 tests/integration/test_openapi_fuzz.py

bench: install
	$(BIN)/python bench/sync_ingest.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
