# The two commands of the README: `make run` and `make test`. Both install everything first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint benchmark

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(PY) -m compapp.launch run

test: install
	$(PY) -m compapp.launch test

SCALE ?= large
benchmark: install
	$(PY) -m compapp.launch bench --scale $(SCALE) --json benchmark-$(SCALE).json

lint: install
	$(VENV)/bin/ruff check .
