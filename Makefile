# IMS Screen. Needs only Python 3.11+; everything else is installed into .venv.
#   make run          serve on http://127.0.0.1:$(PORT) (PORT=5000 unless set)
#   make serve        production: gunicorn on $(HOST):$(PORT) (see README, Deployment)
#   make test         run the test suite (on PostgreSQL too when its binaries are installed)
#   make test-fast    the rules, configuration and deployment checks only (under a minute)
#   make coverage     line coverage of app/ and rules/ by the tests
#   make lint         ruff: the lint rules (bandit's among them) and the formatting, over the tree
#   make typecheck    mypy (strict flags for rules/)
#   make db-upgrade   apply database migrations
#   make translations extract the patient's strings, update each language's catalogue, compile them
#   make screenshots  re-take docs/screenshots/*.png (runs the browser tests)
#   make bench        benchmark against hello-world and the minimal same-work app, PostgreSQL and SQLite; writes bench/results.md (not part of test)
#   make bench-scale  the staff portal at 100,000 and 1,000,000 screenings (queue pages, counts, export)
#   make clean        remove caches; keeps .venv and instance/ (your local database)

PYTHON ?= python3
PORT ?= 5000

# Python keeps each module compiled in __pycache__ (ignored by git), even where the environment
# says not to (PYTHONDONTWRITEBYTECODE, set on some machines and CI images): the tests start
# over a hundred Python processes (servers, their workers, commands), and compiling app/ and
# tests/ from source in each cost the suite 26 s of its 342 (measured on this project's CI kind).
unexport PYTHONDONTWRITEBYTECODE

VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install, so requirements are re-installed only when their file
# is newer than the last install. `run` and `serve` need only the runtime; `test` adds the tools.
INSTALLED := $(VENV)/.requirements-installed
INSTALLED_DEV := $(VENV)/.requirements-dev-installed

.PHONY: run serve test test-fast coverage lint typecheck db-upgrade clean bench bench-scale translations compile-translations

run: db-upgrade compile-translations
	@$(BIN)/flask --app wsgi list-staff
	PORT=$(PORT) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

# Production: gunicorn with gunicorn.conf.py, after migrating once (never in each worker).
# Needs the production environment (IMS_ENV=production, SECRET_KEY, ENCRYPTION_KEYS, DATABASE_URL...).
serve: db-upgrade compile-translations
	IMS_ENV=$${IMS_ENV:-production} $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# One test process per core (pytest-xdist); the browser tests share one process, as do the
# production stack's. TEST_PROCESSES=0 runs everything in this process (for a debugger).
TEST_PROCESSES ?= auto

test: $(INSTALLED_DEV) compile-translations
	$(BIN)/python -m compileall -q app rules wsgi.py
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_PROCESSES) --dist loadgroup tests

# No server, browser or second database cluster: the clinical rules and their named cases, the
# configuration, the settings file, deploy/ and the lint gate.
FAST_TESTS := tests/test_rules_*.py tests/test_factory.py tests/test_environment_file.py tests/test_deploy.py \
	tests/test_lint.py tests/test_assets.py

test-fast: $(INSTALLED_DEV)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_PROCESSES) $(FAST_TESTS)

# Line coverage of app/ and rules/ by the tests, measured in one process (about 10 minutes): what
# the servers the tests start in subprocesses run is not counted.
coverage: $(INSTALLED_DEV)
	$(BIN)/python -m coverage run --source=app,rules -m pytest -q -p no:cacheprovider tests
	$(BIN)/python -m coverage report --skip-covered

lint: $(INSTALLED_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED_DEV)
	$(BIN)/mypy

screenshots: $(INSTALLED_DEV)
	IMS_SCREENSHOTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m browser \
		tests/test_browser_patient.py tests/test_browser_staff.py tests/test_accessibility.py

# About 10 minutes; needs wrk and PostgreSQL's binaries (apt-get install wrk postgresql). See README, Benchmark.
bench: $(INSTALLED_DEV)
	$(BIN)/python -m bench.run

# The patient's languages (app/i18n.py): every string a patient reads, from the patient templates,
# the code and the questionnaire's and rule set's YAML (babel.cfg), into translations/messages.pot;
# each language's catalogue brought up to date with it (new and changed strings untranslated, the
# old translation of a changed one kept as an obsolete entry for the translator); then compiled.
# No fuzzy matching: Babel's guesses paired new sentences with unrelated old translations (a
# "Screening sent on %(date)s" with a sentence naming a phone number), which a reviewer might
# pass and which, with other placeholders, do not compile. The .mo files are built, never committed.
translations: $(INSTALLED)
	PYTHONPATH=. $(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -c "Translators:" --no-location --sort-output \
		--project "IMS Screen" --copyright-holder "IMS Screen" -o translations/messages.pot .
	for po in translations/*/LC_MESSAGES/messages.po; do \
		[ -e "$$po" ] || continue; \
		$(BIN)/pybabel update --no-fuzzy-matching -i translations/messages.pot -o "$$po" -l "$$(basename $$(dirname $$(dirname $$po)))"; \
	done
	$(MAKE) compile-translations

compile-translations: $(INSTALLED)
	@for po in translations/*/LC_MESSAGES/messages.po; do \
		[ -e "$$po" ] || continue; \
		$(BIN)/pybabel compile --statistics -i "$$po" -o "$${po%.po}.mo" || exit 1; \
	done

# The 1M mode (about 25 minutes on 2 cores; BENCH_SCALE_SIZES=100000,1000000 by default): keyset
# pages first and last, the counts, the CSV export's time and memory. Adds its section to
# bench/results.md. See README, Benchmark.
bench-scale: $(INSTALLED_DEV)
	$(BIN)/python -m bench.scale

db-upgrade: $(INSTALLED) | instance
	$(BIN)/flask --app wsgi db upgrade

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .hypothesis .coverage

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(INSTALLED_DEV): requirements-dev.txt $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

instance:
	mkdir -p $@
