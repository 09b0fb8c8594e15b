# The two commands in README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# `make run` keeps its settings in ./circles.toml (or $CIRCLES_CONFIG), written
# on the first run by `circles init-config`: http://127.0.0.1:8000, data in
# ./data/. Every `circles` command run here reads the same file, so the server
# and the commands in a second shell agree. To serve elsewhere, edit the file,
# or on the first run: make run ADDRESS=127.0.0.1:8001
ADDRESS ?=

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/circles init-config --keep-existing $(if $(ADDRESS),--address $(ADDRESS))
	$(BIN)/circles migrate
	exec $(BIN)/circles serve

lint: $(VENV)/.installed-test
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
