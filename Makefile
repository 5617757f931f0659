# serverless-interviews: run, test and package (README.md "Quick start" and
# "Deploying to AWS"; docs/architecture.md "The local stack").
#
#   make run      the local stack (web + API, embedded AWS, queue worker) until Ctrl-C
#   make check    the inner loop: make lint, then the unit and functional tests without the
#                 browser and slow ones (-m "not browser and not slow"), with coverage
#   make test     lint, type-check, import contracts, then the whole test suite, with coverage
#   make lint     ruff, mypy, import-linter only
#   make bench    the benchmarks
#   make package  build/sam.json + build/deployment.zip for CloudFormation/SAM (STAGE=dev|prod)
#   make clean    remove build output and caches (keeps .venv)
#
# .venv is created with python3 if missing; requirements are installed again only
# when requirements*.txt are newer than the stamp file .venv/.installed.
# Coverage (chalicelib, in the test process only) must reach [tool.coverage.report]
# fail_under in pyproject.toml, in both make check and make test.

SHELL := /bin/bash
.DEFAULT_GOAL := test

PYTHON3 ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed
# The browser executable the browser tests use (Debian's chromium, driven by playwright).
CHROMIUM ?= chromium
# The Chalice stage `make package` builds (.chalice/config.json: dev or prod).
STAGE ?= dev

# pytest-cov: measure chalicelib ([tool.coverage.run]) and list the lines no test ran.
COVERAGE := --cov --cov-report=term-missing:skip-covered

.PHONY: run check test lint browser servers bench package clean

$(PYTHON):
	@$(PYTHON3) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	  "Python 3.11 or newer is needed; $(PYTHON3) is " + sys.version.split()[0])'
	@$(PYTHON3) -m venv $(VENV) || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: '$(PYTHON3) -m venv' failed; installing python3-venv with apt-get"; \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	    $(PYTHON3) -m venv $(VENV); \
	  else \
	    echo "make: '$(PYTHON3) -m venv' failed; install the venv module (Debian: python3-venv)"; \
	    exit 1; \
	  fi; }

$(STAMP): requirements.txt requirements-dev.txt | $(PYTHON)
	$(PYTHON) -m pip install -q 'pip<26.3'
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	@touch $@

run: $(STAMP)
	@exec $(PYTHON) -m chalicelib.local

# The browser tests drive Debian's chromium through playwright (playwright's own
# browser download is not available everywhere). Install it when we can; when we
# cannot, the browser tests skip and say why. A failed install as root is an error.
browser:
	@if command -v $(CHROMIUM) >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing chromium for the browser tests (apt-get)"; \
	  apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make: $(CHROMIUM) is not on PATH and cannot be installed here (needs root and apt-get):" \
	       "the browser tests will be skipped"; \
	fi

# The tests of SQLObject on PostgreSQL and of DARedis on a real Redis start Debian's servers
# (tests/servers.py). Install them as the browser target installs chromium; without them those
# tests skip and say why (under CI they fail instead).
servers:
	@if command -v redis-server >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing postgresql and redis-server for the database tests (apt-get)"; \
	  apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null; \
	else \
	  echo "make: postgresql or redis-server is missing and cannot be installed here (needs root and apt-get):" \
	       "their tests will be skipped"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint
	$(PYTHON) -m pytest tests/unit tests/functional -m "not browser and not slow" $(COVERAGE)

test: lint browser servers
	$(PYTHON) -m pytest $(COVERAGE)

bench: $(STAMP)
	$(PYTHON) -m tests.bench

# Only app.py and chalicelib/ reach Lambda, so the bundled interviews ride along in
# chalicelib/interviews for the build. A YAML merge template makes chalice write
# sam.yaml (with YAML aliases CloudFormation rejects); we ship it as sam.json.
package: $(STAMP)
	rm -rf build chalicelib/interviews
	cp -R interviews chalicelib/interviews
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	  $(BIN)/chalice package --stage $(STAGE) --merge-template infra/resources.yaml build/; \
	  status=$$?; rm -rf chalicelib/interviews; exit $$status
	$(PYTHON) -c 'import json, yaml; \
	  template = yaml.safe_load(open("build/sam.yaml", encoding="utf-8")); \
	  json.dump(template, open("build/sam.json", "w", encoding="utf-8"), indent=2)'
	rm -f build/sam.yaml
	@echo "make: wrote build/sam.json and build/deployment.zip"

clean:
	rm -rf build chalicelib/interviews .chalice/deployments
	rm -rf .pytest_cache .mypy_cache .ruff_cache .import_linter_cache __pycache__
	find chalicelib tests -type d -name __pycache__ -prune -exec rm -rf {} +
