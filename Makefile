# FundWatch: `make run` starts the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The web console (web/): npm ci when its lock changes, vite build when its sources do; the gateway serves web/dist.
WEB_DEPS  := web/node_modules/.installed
WEB_STAMP := web/dist/.built
WEB_SRC   := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

.PHONY: run test test-unit contracts bench clean browser-deps

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local,test]'
	touch $(STAMP)

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_DEPS)

$(WEB_STAMP): $(WEB_DEPS) $(WEB_SRC)
	cd web && npx vite build
	touch $(WEB_STAMP)

# The browser tests drive Debian's Chromium, with a CJK font for the screenshots; installed when missing (as root).
browser-deps:
	@if ! test -x /usr/bin/chromium || ! test -d /usr/share/fonts/opentype/noto; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-noto-cjk; fi

run: $(STAMP) $(WEB_STAMP)
	$(BIN)/python -m deploy.local

test: $(STAMP) $(WEB_STAMP) browser-deps
	cd web && npx vitest run
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

contracts: $(STAMP)
	$(BIN)/python -m contracts.generate

bench: $(STAMP) $(WEB_STAMP) browser-deps
	$(BIN)/python -m bench.payments_e2e
	$(BIN)/python -m bench.ledger
	$(BIN)/python -m bench.registry
	$(BIN)/python -m bench.alerting
	$(BIN)/python -m bench.gateway
	$(BIN)/python -m bench.console

clean:
	rm -rf $(VENV) .data .pytest_cache web/node_modules web/dist
