# Hangar: `make up` starts the hub on http://127.0.0.1:8080, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_OUT := libs/hangar_protos
PROTOS := $(wildcard protos/hangar_protos/*.proto)

# Older huggingface_hub clients the repo flows also run under (newest 1.x and 0.36.x).
CLIENT_VENVS := .venv-clients/hf1 .venv-clients/hf036
CLIENT_PYTHONS := $(abspath .venv-clients/hf1/bin/python):$(abspath .venv-clients/hf036/bin/python)

.PHONY: up down logs status admin test test-unit test-lakefs lint install protos clean bench bench-deps clients web-test-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[stack,dev]'
	touch $(STAMP)

$(PROTO_OUT)/.stamp: $(PROTOS) $(STAMP)
	mkdir -p $(PROTO_OUT)
	$(PY) -m grpc_tools.protoc -I protos --python_out=libs --grpc_python_out=libs --pyi_out=libs $(PROTOS)
	touch $(PROTO_OUT)/__init__.py $@

install: $(STAMP) $(PROTO_OUT)/.stamp

.venv-clients/hf1/.installed:
	$(PYTHON) -m venv .venv-clients/hf1
	.venv-clients/hf1/bin/pip install -q 'huggingface-hub==1.33.0'
	touch $@

.venv-clients/hf036/.installed:
	$(PYTHON) -m venv .venv-clients/hf036
	.venv-clients/hf036/bin/pip install -q 'huggingface-hub==0.36.2'
	touch $@

clients: .venv-clients/hf1/.installed .venv-clients/hf036/.installed

# axe-core for the accessibility checks of tests/web, pinned by its lockfile.
tests/web/node_modules/.package-lock.json: tests/web/package.json tests/web/package-lock.json
	cd tests/web && npm ci --no-audit --no-fund

web-test-deps: tests/web/node_modules/.package-lock.json

protos: $(PROTO_OUT)/.stamp

up: install
	$(PY) -m hangar_stack up

down:
	@test -x $(PY) && $(PY) -m hangar_stack down || true

logs:
	$(PY) -m hangar_stack logs

status:
	$(PY) -m hangar_stack status

# The first admin of the stack `make up` started (its settings come from .hangar/stack.json); prints a
# write token. No install step: a running stack already has its virtualenv.
admin:
	@test -n "$(NAME)" || { echo "usage: make admin NAME=alice [EMAIL=alice@example.com]" >&2; exit 2; }
	@PYTHONPATH=libs:. $(PY) -m hangar_stack admin "$(NAME)" $(if $(EMAIL),--email "$(EMAIL)")

# Gates: ruff (lint and import order) and mypy (services and libs); settings in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The whole suite on the git-native engine, then the contract suites (metadata and repo flows) and
# the lakeFS engine's own tests on a stack whose metadata runs the lakeFS engine (docs/lakefs.md).
CONTRACT_SUITES := tests/metadata tests/repos tests/lakefs

test: install clients web-test-deps
	HANGAR_EXTRA_CLIENT_PYTHONS=$(CLIENT_PYTHONS) $(PY) -m pytest $(PYTEST_ARGS)
	HANGAR_METADATA_ENGINE=lakefs HANGAR_EXTRA_CLIENT_PYTHONS=$(CLIENT_PYTHONS) $(PY) -m pytest $(PYTEST_ARGS) $(CONTRACT_SUITES)

# Only the lakeFS engine session (builds lakeFS from the Go module proxy on first use, cached).
# The unit layer alone: the pure modules against git, git-lfs, hf_xet and huggingface_hub, no stack.
test-unit: install
	$(PY) -m pytest $(PYTEST_ARGS) tests/unit

test-lakefs: install clients
	HANGAR_METADATA_ENGINE=lakefs HANGAR_EXTRA_CLIENT_PYTHONS=$(CLIENT_PYTHONS) $(PY) -m pytest $(PYTEST_ARGS) $(CONTRACT_SUITES)

# ApacheBench (Debian's apache2-utils) loads the hot read paths in bench/resolve.py; py-spy profiles.
bench-deps: install
	command -v ab >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends apache2-utils)
	$(PY) -m pip install -q -e '.[bench]'

bench: bench-deps
	PYTHONPATH=libs:. $(PY) -m bench $(BENCH_ARGS)

clean: down
	rm -rf .hangar $(PROTO_OUT) .venv-clients tests/web/node_modules
