# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
export NO_MKDOCS_2_WARNING := 1

.PHONY: run test test-tools build check bench clean

# The virtualenv, refreshed whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

build: $(STAMP)
	$(BIN)/kb build

check: $(STAMP)
	$(BIN)/kb check

run: build
	@echo "Knowledge base: http://$(HOST):$(PORT)/"
	$(BIN)/python -m http.server --bind $(HOST) --directory site $(PORT)

# Test tools outside PyPI: Debian's Chromium for the browser tests (Playwright never
# downloads a browser here) and, from npm, axe-core and the Nu HTML checker.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium chromium-driver

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

test-tools: $(STAMP) /usr/bin/chromium node_modules/.installed

test: test-tools
	$(BIN)/python -m pytest

# Search benchmark, not part of `make test` (2-5 minutes): Whoosh vs SQLite FTS5 on
# synthetic KBs of 100, 1,000 and 5,000 articles; writes .bench/search-report.txt.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.bench_search

clean:
	rm -rf site build instance .pytest_cache
