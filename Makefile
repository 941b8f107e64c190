# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
LANGS  := hu fi cs pl en

.PHONY: run test lint setup translations extract-messages update-messages db demo clean benchmark

setup: $(VENV)/.installed translations

# Dependencies: the direct ones in pyproject.toml, every version pinned in constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade "pip>=24,<27"
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

# Compiled catalogs are built, never committed; the .po files are the source.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -D messages --statistics 2>&1 | grep -v '^compiling' || true
	@for lang in $(LANGS); do test -f translations/$$lang/LC_MESSAGES/messages.mo || { echo "missing catalog $$lang"; exit 1; }; done

# For developers: refresh messages.pot from the code and merge it into the five catalogs.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project=supportportal --copyright-holder="Support portal" -o translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching --ignore-obsolete

# The development posture (fixed dev secret key, demo data) only for these targets; anything else,
# a bare `flask` or `gunicorn` included, is production unless PORTAL_ENV says otherwise.
db demo run: export PORTAL_ENV ?= development

db: setup
	$(FLASK) db upgrade
	$(FLASK) tenants sync

demo: db
	$(FLASK) demo seed

# Everything a newcomer needs: database, demo tenants and users, Redis, worker and web server.
run: demo
	$(FLASK) dev serve

# Static checks, run first by .ci/run: ruff (lint and format) over the whole repository; the layer map
# of docs/architecture.md (import-linter contracts in .importlinter: layers, delivery on top, views
# apart, no cycles between modules); no use of another module's private names; mypy on the core
# modules (configured in pyproject.toml).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check-private-imports
	$(BIN)/mypy

# One pytest-xdist worker per CPU, each with services of its own; the browser tests stay together on
# one worker (xdist_group). One test in one process: PYTEST_ARGS='-n0 tests/path.py::test_name'.
test: setup
	@./scripts/ensure-chromium
	@./scripts/ensure-axe
	@./scripts/ensure-dovecot
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

benchmark: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
