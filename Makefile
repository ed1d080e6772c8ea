# Hangar: `make up` starts the hub on http://127.0.0.1:8080, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_OUT := libs/hangar_protos
PROTOS := $(wildcard protos/hangar_protos/*.proto)

.PHONY: up down logs status test install protos clean bench

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

protos: $(PROTO_OUT)/.stamp

up: install
	$(PY) -m hangar_stack up

down:
	@test -x $(PY) && $(PY) -m hangar_stack down || true

logs:
	$(PY) -m hangar_stack logs

status:
	$(PY) -m hangar_stack status

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean: down
	rm -rf .hangar $(PROTO_OUT)
