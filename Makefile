# The two commands of the README: `make run` (gateway on the bundled emulator) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint emulator clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/python -m oci_genai_gateway.dev

emulator: $(STAMP)
	$(BIN)/python -m oci_genai_gateway.emulator --port 8641

lint: $(STAMP)
	$(BIN)/ruff check src tests bench functions
	$(BIN)/ruff format --check src tests bench functions
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# `fn deploy` builds each function from its own directory: stage this checkout's wheel and the lock
# (constraints.txt) into functions/*/wheels/ first (gitignored; see docs/FUNCTIONS.md).
.PHONY: functions
functions: $(STAMP)
	$(BIN)/python functions/build.py
