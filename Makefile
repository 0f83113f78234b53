# snowwatch — the two commands that matter: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-unit test-integration test-infrastructure test-e2e lint typecheck \
	migrate openapi openapi-check security-docs bench clean

$(STAMP): requirements-dev.txt layers/common/pyproject.toml pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install everything pinned

demo: install web/dist/index.html ## Run the whole system locally (Postgres, moto, fakesnow, API + dashboard on :3001, schedules)
	$(BIN)/snowwatch demo

test: install ## Every test: lint, types, unit, integration, infrastructure, e2e
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/python/snowwatch local/snowwatch_local functions infra bench
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit tests/integration tests/infrastructure tests/e2e

test-unit: install
	$(BIN)/python -m pytest tests/unit
test-integration: install
	$(BIN)/python -m pytest tests/integration
test-infrastructure: install
	$(BIN)/python -m pytest tests/infrastructure
test-e2e: install
	$(BIN)/python -m pytest tests/e2e

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
typecheck: install
	$(BIN)/mypy layers/common/python/snowwatch local/snowwatch_local functions infra bench

migrate: install ## Apply migrations to DATABASE_URL (or the local default); idempotent
	$(BIN)/snowwatch migrate

openapi: install ## Regenerate docs/openapi.json from the resolver
	$(BIN)/snowwatch openapi --write docs/openapi.json

security-docs: install ## Regenerate the rules table of docs/security-rules.md from the rule registry
	$(BIN)/snowwatch security-docs --write docs/security-rules.md

openapi-check: install ## Fail when docs/openapi.json differs from the code
	$(BIN)/snowwatch openapi --check docs/openapi.json

bench: install ## Benchmarks; JSON under bench/results/
	$(BIN)/python -m bench

clean:
	rm -rf .local cdk.out build .pytest_cache .mypy_cache .ruff_cache

.PHONY: web
web: ## Build the dashboard (web/dist) from the pinned lock file
	cd web && npm ci --no-audit --no-fund && npm run build

WEB_SOURCES := $(shell find web/src web/public web/scripts -type f ! -name api.gen.ts 2>/dev/null) web/index.html \
	web/package-lock.json web/vite.config.ts docs/openapi.json
web/dist/index.html: $(WEB_SOURCES)
	$(MAKE) web

# --- AWS (CDK): layers and an offline synth; see docs/deploy.md -----------------------------------
.PHONY: layers synth preflight deploy
layers: install ## Build the Lambda dependency layers into build/layers (pip for manylinux, no Docker; reused when the pins are unchanged)
	$(BIN)/python scripts/build_layers.py

CONTEXT ?=
synth: layers web/dist/index.html ## Synthesize offline into cdk.out (cdk-nag must pass); print resource counts, idle cost, sizes. CONTEXT="-c profile=prod ..."
	$(BIN)/python infra/app.py $(CONTEXT)
	$(BIN)/python infra/report.py cdk.out

preflight: install ## With AWS credentials: read the Lambda concurrency quota and the SES sender/sandbox, say what to change
	$(BIN)/python scripts/preflight.py $(CONTEXT)

deploy: synth ## Build the dashboard and layers, synthesize, then `cdk deploy` with CONTEXT (see docs/deploy.md)
	npx --yes aws-cdk@2 deploy --app cdk.out $(CONTEXT)
