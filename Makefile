# The two commands a new user needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test install translations extract migrate seed worker lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel -q compile -d review_app/translations

## Refresh the catalogs after adding or changing user-facing strings, then translate ru and kk
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
	  -k lazy_pgettext:1c,2 -o review_app/translations/messages.pot .
	$(BIN)/pybabel update -i review_app/translations/messages.pot -d review_app/translations \
	  --no-fuzzy-matching

migrate: install
	@mkdir -p instance
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo --if-empty

## Set up everything, add demo data on first run, serve on http://127.0.0.1:5000
## A background worker (summaries, imports) runs next to the server and stops with it.
run: seed
	@echo "Open http://127.0.0.1:5000 — demo accounts are listed in README.md (password demo12345)."
	@$(BIN)/python -m workers & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## Set up everything and run the whole test suite (SQLite, then PostgreSQL when reachable)
test: install
	@bash scripts/test

worker: install
	$(BIN)/python -m workers

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/http_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache
