# distrohub: the two commands are `make demo` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
# the sandbox world of the demo (the ERP is seeded from the same one)
SEED ?= 1
SKUS ?= 50
ORDERS_PER_DAY ?= 20
DAYS ?= 3
SCENARIO ?= clean
# the benchmarks' options, e.g. BENCH="--scale smoke" or BENCH="--only rebuild --skus 20000"
BENCH ?=

.PHONY: install demo test test-fast ui stop lint clean webhooks worker docs bench

install:
	@./scripts/setup.sh

demo: install   ## start the hub, the sandbox systems and the ERP; run the pipeline once
	@$(BIN)/distrohub demo --seed $(SEED) --skus $(SKUS) --orders-per-day $(ORDERS_PER_DAY) --days $(DAYS) --scenario $(SCENARIO)

test:           ## the whole test suite on a throwaway PostgreSQL cluster (and a headless Chromium)
	@./scripts/setup.sh --test
	@$(BIN)/pytest

test-fast:      ## the suite without the end-to-end tests (the demo's three passes, browser, bench smoke run)
	@./scripts/setup.sh
	@$(BIN)/pytest -m "not e2e"

ui: install     ## the Dagster UI on http://127.0.0.1:3000
	@$(BIN)/distrohub ui

webhooks: install  ## the webhook receiver on http://127.0.0.1:8787/webhooks/<path>
	@$(BIN)/distrohub webhooks serve

worker: install   ## the narrow path: stock events to the storefronts in about a second, gated
	@$(BIN)/distrohub worker

bench: install  ## the benchmarks (bench/): a table, bench/results/*.json and latest.png
	@$(BIN)/distrohub bench $(BENCH)

docs: install   ## dbt docs generate on the hub (site in dbt_project/target/)
	@$(BIN)/python -m dagster_project.transform.dbt_run docs generate

stop:           ## stop everything the demo started
	@if [ -x $(BIN)/distrohub ]; then $(BIN)/distrohub stop; else echo "nothing installed, nothing to stop"; fi

lint: install   ## ruff, the import layers and cycles (pyproject's [tool.importlinter]), the dbt SQL (.sqlfluff)
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/sqlfluff lint --processes 2 dbt_project/models dbt_project/analyses

clean: stop     ## remove generated state (.distrohub: the demo's cluster and data)
	rm -rf .distrohub
