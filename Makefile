# FundWatch: `make run` starts the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-unit contracts bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m deploy.local

test: $(STAMP)
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

contracts: $(STAMP)
	$(BIN)/python -m contracts.generate

bench: $(STAMP)
	$(BIN)/python -m bench.payments_e2e
	$(BIN)/python -m bench.ledger
	$(BIN)/python -m bench.registry
	$(BIN)/python -m bench.alerting
	$(BIN)/python -m bench.gateway

clean:
	rm -rf $(VENV) .data .pytest_cache
