# ktlab: `make train` and `make test` set everything up by themselves on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ktlab-installed
# Local wheel folder (holds the CPU build of torch on machines that have one).
WHEELS := $(wildcard /opt/wheels)
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt $(if $(WHEELS),--find-links $(WHEELS))
TEST_ENV := HF_HUB_OFFLINE=1 WANDB_MODE=offline
# Tests run in parallel, one process per core (pytest-xdist); each process keeps to one torch thread,
# as the tiny models gain nothing from more and the processes would otherwise fight over the cores.
TEST_PAR := OMP_NUM_THREADS=1
XDIST  ?= -n auto
ARGS   ?=

.PHONY: install train test test-slow test-all lint format bench dist clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install pinned dependencies (CPU torch) and the `ktlab` command

train: $(STAMP)  ## train the default config (synthetic classroom, enriched GRU DKT, CPU); ARGS="key=value ..."
	$(PY) train.py $(ARGS)

test: $(STAMP)  ## fast test suite (everything but the slow-marked tests)
	$(TEST_ENV) $(TEST_PAR) $(PY) -m pytest -m "not slow" -q $(XDIST) $(ARGS)

test-slow: $(STAMP)  ## slow tests: resume, train/eval agreement, sweeps, DDP
	$(TEST_ENV) $(TEST_PAR) $(PY) -m pytest -m slow -q $(XDIST) $(ARGS)

test-all: $(STAMP)  ## every test
	$(TEST_ENV) $(TEST_PAR) $(PY) -m pytest -q $(XDIST) $(ARGS)

lint: $(STAMP)  ## ruff lint and format check
	$(PY) -m ruff check src tests scripts $(wildcard *.py)
	$(PY) -m ruff format --check src tests scripts $(wildcard *.py)

format: $(STAMP)  ## ruff fix and format
	$(PY) -m ruff check --fix src tests scripts $(wildcard *.py)
	$(PY) -m ruff format src tests scripts $(wildcard *.py)

bench: $(STAMP)  ## benchmarks (JSON on stdout)
	$(PY) scripts/bench_encoding.py
	$(PY) scripts/bench_train.py

dist: $(STAMP)  ## build the wheel (configs and migrations inside) into dist/
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

clean:  ## remove the virtual environment and caches (not logs/ or data/)
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist
