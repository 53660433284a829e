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

# The site at / and the intake at /richiesta/ (SQLite and .eml mail files in instance/).
run: build
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

# Test tools outside PyPI: Debian's Chromium for the browser tests (Playwright never
# downloads a browser here) and, from npm, axe-core and the Nu HTML checker.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium chromium-driver

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Debian's PostgreSQL 15: the store tests also run on a real server (tests/postgres.py starts
# a private one on a free port and removes it afterwards).
PG_BIN := /usr/lib/postgresql/15/bin
$(PG_BIN)/initdb:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq postgresql-15

# Debian's Redis: the rate limits shared by several intake instances (test_protection.py).
/usr/bin/redis-server:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq redis-server

test-tools: $(STAMP) /usr/bin/chromium node_modules/.installed $(PG_BIN)/initdb /usr/bin/redis-server

test: test-tools
	$(BIN)/python -m pytest

# Benchmarks, not part of `make test` (15-25 minutes), on synthetic KBs of 100, 1,000 and
# 5,000 articles under .bench/ (never site/ or build/):
# - search: Whoosh vs SQLite FTS5; writes .bench/search-report.txt;
# - build: `kb build` vs plain MkDocs + Material (up to 1,000 articles: it grows
#   quadratically), then save-to-searchable during `mkdocs serve`; .bench/build-report.txt.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.bench_search
	$(BIN)/python -m tests.bench.bench_build

clean:
	rm -rf site build instance .pytest_cache

# Material's built-in (lunr) search measured in a real browser: hit@3 and MRR (issue 4).
# Uses the public relevance queries when present, else the site's own small set.
.PHONY: bench-lunr
LUNR_QUERIES ?= $(firstword $(wildcard tests/relevance/queries.yaml) tests/data/site_queries.yaml)
bench: bench-lunr
bench-lunr: test-tools
	$(BIN)/python tests/bench/lunr_relevance.py $(LUNR_QUERIES)

# The intake under load (issue 9): gunicorn with deploy/gunicorn.conf.py and 2 workers on
# PostgreSQL, wrk from Debian, next to a bare Flask hello world; writes .bench/intake-report.txt.
.PHONY: bench-intake
bench: bench-intake
/usr/bin/wrk:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq wrk
bench-intake: test-tools /usr/bin/wrk
	$(BIN)/python -m tests.bench.bench_intake
