# OneGrid: `make run` starts the app with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql://127.0.0.1:5432/test
# System packages: Pango for WeasyPrint, a CJK font, poppler for reading PDFs back in tests.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei poppler-utils
# Tests also drive the board in a headless browser at phone width.
TEST_SYSTEM_PACKAGES := chromium

.PHONY: run test lock system-deps translations migrate seed clean

run: system-deps $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: SYSTEM_PACKAGES += $(TEST_SYSTEM_PACKAGES)
test: system-deps $(VENV)/.installed-dev translations node_modules/axe-core/package.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

# axe-core (pinned in package.json / package-lock.json) for the walk tests' accessibility checks; reinstalled
# when missing or older than the lock.
node_modules/axe-core/package.json: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Regenerate the lock files from requirements*.in (README.md, "Dependencies"); pins already there are kept
# unless the .in asks otherwise or LOCK_ARGS says so (e.g. LOCK_ARGS="--upgrade-package pillow").
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --strip-extras \
	--no-emit-index-url --no-emit-trusted-host --no-emit-find-links $(LOCK_ARGS)

lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

system-deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -f -d translations >/dev/null
	$(BIN)/pybabel compile -f -D admin -d translations/admin >/dev/null

migrate: $(VENV)/.installed
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed demo

clean:
	rm -rf $(VENV) instance/onegrid.db* .pytest_cache
