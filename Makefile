# govportal: `make run` serves the portal with demo data; `make test` runs lint, types and tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The queues a worker takes (comma-separated): govportal (housekeeping), reports, rescoring,
# notifications. `make worker QUEUES=reports` runs a report-only worker.
QUEUES ?= govportal,reports,rescoring,notifications
CONCURRENCY ?= 2

.PHONY: install run serve worker beat test lint typecheck pytest migrate seed clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-style serving (set DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL first).
serve: install
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn govportal.wsgi --bind $(HOST):$(PORT) --workers 3

worker: install
	$(BIN)/celery -A govportal worker --queues=$(QUEUES) --concurrency=$(CONCURRENCY) --loglevel=INFO

# The periodic schedule (outbox sweep, audit chain check): exactly one per deployment.
beat: install
	@mkdir -p var
	$(BIN)/celery -A govportal beat --loglevel=INFO --schedule=var/celerybeat-schedule

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

# Two test processes (pytest-xdist; a file's tests stay together); PYTEST_WORKERS=0 runs
# them in this process. The slowest tests are listed at the end of every run.
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25 --durations-min=1.0

test: lint typecheck pytest

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
