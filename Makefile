# distrohub: the two commands are `make demo` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test ui stop lint docs clean

install:
	@./scripts/setup.sh

demo: install   ## start the hub, the sandbox systems and the ERP; run the pipeline once
	@$(BIN)/distrohub demo

test: install   ## the whole test suite on a throwaway PostgreSQL cluster
	@$(BIN)/pytest

ui: install     ## the Dagster UI on http://127.0.0.1:3000
	@$(BIN)/distrohub ui

stop:           ## stop everything the demo started
	@if [ -x $(BIN)/distrohub ]; then $(BIN)/distrohub stop; else echo "nothing installed, nothing to stop"; fi

lint: install
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean: stop     ## remove generated state (.distrohub: the demo's cluster and data)
	rm -rf .distrohub
