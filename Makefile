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

.PHONY: run test lint clean bench bench-quick bench-growth

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

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# The benchmarks (bench/README.md): every one, then every `ratio:` line; under
# 15 minutes on 2 cores. bench-growth measures sizes 100 -> 100 000 and writes
# bench/results/*.csv, the plots and bench/RESULTS.md (about half an hour).
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/all.py $(BENCH_ARGS)

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python bench/all.py --quick --log bench/results/bench-quick.log

bench-growth: $(VENV)/.installed-bench
	$(BIN)/python bench/growth.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
