# The two commands a new user needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# What is installed, one stamp per extra: `run` installs only what serving needs (the app and
# an embedded Redis), `test` the test tools too (pytest, Playwright, ...), once each.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install translations extract migrate seed worker lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[run]'
	@touch $@

# dev includes run, so it stamps both.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@ $(RUN_STAMP)

install: $(DEV_STAMP) translations node_modules/axe-core/axe.min.js

# axe-core (the accessibility rules the browser tests inject), from the npm registry, pinned in
# package.json / package-lock.json. Without npm the accessibility test skips (fails in CI).
node_modules/axe-core/axe.min.js: package.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	  else echo "npm not found: the accessibility browser test will not run"; fi

translations: $(RUN_STAMP)
	@$(BIN)/pybabel -q compile -d review_app/translations

## Refresh the catalogs after adding or changing user-facing strings, then translate ru and kk
extract: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
	  -k lazy_pgettext:1c,2 -o review_app/translations/messages.pot .
	$(BIN)/pybabel update -i review_app/translations/messages.pot -d review_app/translations \
	  --no-fuzzy-matching

## Compile changed translations and bring the database to the newest schema
migrate: $(RUN_STAMP)
	$(BIN)/flask prepare --no-seed

## The same, and demo data in an empty database
seed: $(RUN_STAMP)
	$(BIN)/flask prepare

## Set up what running needs, add demo data on first run, serve on http://$(HOST):$(PORT)
## (`make run PORT=5057` for another port). One process prepares and serves; a background
## worker (summaries, imports) and the embedded Redis run beside it and stop with it (Ctrl-C).
run: $(RUN_STAMP)
	@$(BIN)/flask dev --host $(HOST) --port $(PORT)

## Set up everything and run the whole test suite (SQLite and, beside it, PostgreSQL when reachable)
test: install
	@bash scripts/test

worker: $(RUN_STAMP)
	$(BIN)/python -m workers

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/http_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache
