# The two commands of the README: `make run` (gateway on the bundled emulator) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINTED := src tests bench functions emulator/src devstack/src

.PHONY: run test test-fast lint emulator clean functions

# Three distributions, one environment: the product, the emulator and the dev stack (all editable).
$(STAMP): pyproject.toml emulator/pyproject.toml devstack/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]' -e ./emulator -e ./devstack
	touch $@

run: $(STAMP)
	$(BIN)/python -m oci_genai_devstack.run

emulator: $(STAMP)
	$(BIN)/oci-genai-emulator --port 8641

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite (what CI runs).
test: lint
	$(BIN)/pytest

# The inner loop: everything but the tests marked slow (process-heavy, package builds, browsers).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# `fn deploy` builds each function from its own directory: stage this checkout's wheel and the lock
# (constraints.txt) into functions/*/wheels/ first (gitignored; see docs/FUNCTIONS.md).
functions: $(STAMP)
	$(BIN)/python functions/build.py
