# The README's two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck install install-dev browser bench bench-compare clean stack stack-start stack-stop stack-status

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo_setup
	@echo "Serving Triad on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "No chromium: browser tests will be skipped (install Debian's chromium package)"; \
		fi; \
	fi

test: lint typecheck browser
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/review_loop.py
	$(BIN)/python bench/agreement_bench.py
	$(BIN)/python bench/worker_memory.py

# The review, export and agreement benches on BASE (default: the merge-base with main) and on the
# working tree, alternating, with a before/after table (about 10 minutes). BASE=HEAD measures the
# same code twice; COMPARE_ARGS passes more options, e.g. COMPARE_ARGS="--benches export --rounds 5".
bench-compare: install-dev
	$(BIN)/python bench/compare.py $(if $(BASE),--base $(BASE)) $(COMPARE_ARGS)

# The production process layout on this machine (gunicorn, Celery worker and beat) against
# DATABASE_URL and REDIS_URL: `stack` runs it in the foreground until Ctrl-C.
stack: install
	deploy/run-local-stack.sh run

stack-start: install
	deploy/run-local-stack.sh start

stack-stop:
	deploy/run-local-stack.sh stop

stack-status:
	deploy/run-local-stack.sh status

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles run .pytest_cache .ruff_cache .mypy_cache
