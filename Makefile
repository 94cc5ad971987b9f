# Levelset: `make run` serves the demo, `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# Debian packages the app and its tests need: WeasyPrint's Pango/HarfBuzz, DejaVu fonts,
# poppler-utils (pdftoppm, to look at rendered PDFs), chromium (browser tests) and Node.js
# with npm (axe-core for the browser tests).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
	poppler-utils chromium nodejs

.PHONY: install system-deps run serve serve-env test lint typecheck bench stateful clean

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# axe-core (accessibility checks in the browser tests), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

install: system-deps $(VENV)/.installed node_modules/.installed

run: install
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

# The production profile: DEBUG off, settings from the environment (SECRET_KEY, AUDIT_KEY,
# ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, CACHE_URL...). Static files are collected first: with
# DEBUG off every page names its hashed static files, and answers 500 until they exist. Then the
# Procfile's processes run under honcho: gunicorn, a Celery worker and Celery beat; if one
# stops, honcho stops the others, so a supervisor sees the profile fail as a whole.
serve: serve-env install
	DEBUG=false $(PY) manage.py check --deploy
	DEBUG=false $(PY) manage.py collectstatic --noinput
	DEBUG=false $(PY) manage.py migrate --noinput
	DEBUG=false PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

# Refuses, before installing or starting anything, when a setting production needs is missing.
# REDIS_URL is checked here rather than in settings: management commands and tests run with
# DEBUG off and no broker, but the worker and beat have nothing to work from without one.
serve-env:
	@missing=""; for name in SECRET_KEY AUDIT_KEY ALLOWED_HOSTS REDIS_URL; do \
		[ -n "$$(printenv $$name)" ] || missing="$$missing $$name"; done; \
	if [ -n "$$missing" ]; then \
		echo "make serve: set$$missing in the environment (README: Running in production)." >&2; \
		exit 1; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy config core audit notify rubrics people metrics reviews calibration promotions demo

test: lint typecheck
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench

# A long, fresh search of the whole workflow (CI replays a short, fixed one in `make test`).
stateful: install
	LEVELSET_STATEFUL_RANDOM=1 LEVELSET_STATEFUL_EXAMPLES=$${EXAMPLES:-300} \
	LEVELSET_STATEFUL_STEPS=$${STEPS:-60} \
		$(VENV)/bin/pytest -p no:randomly -s tests/test_stateful_workflow.py

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles tests/artifacts bench/results
