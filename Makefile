# Two commands set up and run everything, on a machine with only Python 3.11 (and npm for the book):
#
#   make test    create .venv if missing, install scmaskgan with the tested versions, run the tests
#   make book    the same install, execute notebooks/*.ipynb with papermill into book/_executed/,
#                then build the HTML book into _build/html/ (fails if any notebook or page fails)
#   make peers   optional: .venv-peers/ with Python 3.8 and TensorFlow 2.4 for the benchmark rows
#                DeepImpute and DCA (pins in peers-constraints.txt; needs a pyenv Python 3.8)
#
# Variables:
#   SCMASKGAN_DATA=DIR   folder with the data files (default ../shared/data)
#   SMOKE=1              `make book SMOKE=1`: a quick smoke build with tiny parameters (CI)
#   BOOK_PARAMS="-p NAME VALUE ..."   papermill parameters for the notebooks that declare them
#   PYTHON=python3.11    the interpreter that creates .venv

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.scmaskgan-installed
MATHJAX := book/_mathjax/node_modules/mathjax/es5/tex-mml-chtml.js
SMOKE ?=
BOOK_PARAMS ?=
# The data folder, made absolute (notebooks and some tests run in other working directories).
export SCMASKGAN_DATA := $(abspath $(or $(SCMASKGAN_DATA),../shared/data))

.PHONY: all test test-lowest-pytest book notebooks html install peers clean distclean

all: test

install: $(STAMP)

# (Re)install when the dependency files change. torch is pinned in constraints.txt to the CPU
# build that pip finds on local disk; an unpinned torch would pull a CUDA build of several GB.
$(STAMP): pyproject.toml constraints.txt
	@if [ ! -x $(VPY) ]; then \
	  if [ -z "$(PYTHON)" ]; then echo "error: no python3.11 or python3 found" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); \
	fi
	$(VPY) -m pip install -c constraints.txt -e ".[test,book,baselines]"
	$(VPY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (scmaskgan)"
	@touch $@

test: $(STAMP)
	SCMASKGAN_DATA="$(SCMASKGAN_DATA)" $(VPY) -m pytest -q tests

# The tests under the lowest pytest that pyproject.toml allows (pytest>=7: 7.0.0), installed into
# .pytest-lowest/ beside the pinned one; LOWEST_TESTS narrows the run (CI: the files that use
# pytest's logging and output capture, which changed between releases).
PYTEST_LOWEST := $(shell sed -n 's/.*"pytest>=\([0-9.]*\)".*/\1/p' pyproject.toml)
LOWEST_TESTS ?= tests
test-lowest-pytest: $(STAMP)
	$(VPY) -m pip install -q --no-deps --target .pytest-lowest "pytest==$(PYTEST_LOWEST).0" "pluggy==1.0.0" "tomli==2.0.1" "py==1.11.0"
	PYTHONPATH=.pytest-lowest SCMASKGAN_DATA="$(SCMASKGAN_DATA)" $(VPY) -m pytest -q -p no:cacheprovider $(LOWEST_TESTS)

# DeepImpute 1.2 and DCA 0.3.4 (optional benchmark rows `deepimpute` and `dca`) need TensorFlow 2.4,
# which has no wheels for Python 3.11: they get their own environment, .venv-peers/, made with a
# Python 3.8 (PEERS_PYTHON; default: pyenv's newest 3.8) from the pins of peers-constraints.txt.
# scmaskgan.benchmarking.baselines runs scmaskgan/benchmarking/peers_runner.py in it.
PEERS_VENV := .venv-peers
PEERS_VPY := $(PEERS_VENV)/bin/python
PEERS_STAMP := $(PEERS_VENV)/.peers-installed
PEERS_PYTHON ?= $(shell p=$$(pyenv prefix 3.8 2>/dev/null) && [ -x "$$p/bin/python" ] && echo "$$p/bin/python" \
  || ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.8*/bin/python 2>/dev/null | sort -V | tail -n 1)
PEERS_TOOLS := dca deepimpute
PEERS_DEPS := tensorflow-cpu keras numpy h5py protobuf pandas scipy scikit-learn anndata scanpy kopt pyyaml six

peers: $(PEERS_STAMP)

$(PEERS_STAMP): peers-constraints.txt
	@if [ ! -x $(PEERS_VPY) ]; then \
	  if [ -z "$(PEERS_PYTHON)" ] || ! "$(PEERS_PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 8))' 2>/dev/null; then \
	    echo "error: make peers needs a Python 3.8 (TensorFlow 2.4 has no wheels for newer Pythons): none found" \
	      "with 'pyenv prefix 3.8' or in ~/.pyenv/versions/3.8*; install one (pyenv install 3.8) or pass" \
	      "PEERS_PYTHON=/path/to/python3.8 (got '$(PEERS_PYTHON)')" >&2; exit 1; \
	  fi; \
	  echo "creating $(PEERS_VENV) with $(PEERS_PYTHON)"; "$(PEERS_PYTHON)" -m venv $(PEERS_VENV); \
	fi
	$(PEERS_VPY) -m pip install -c peers-constraints.txt wheel
	$(PEERS_VPY) -m pip install -c peers-constraints.txt $(PEERS_DEPS)
	$(PEERS_VPY) -m pip install -c peers-constraints.txt --no-deps $(PEERS_TOOLS)
	@for tool in $(PEERS_TOOLS); do $(PEERS_VPY) -I scmaskgan/benchmarking/peers_runner.py --check $$tool \
	  || { echo "error: $$tool or tensorflow cannot be found in $(PEERS_VENV)" >&2; exit 1; }; done
	$(PEERS_VPY) -I scmaskgan/benchmarking/peers_runner.py --versions
	@touch $@

# MathJax 3 from the npm registry, served by the book itself so that equations render offline.
$(MATHJAX): book/_mathjax/package.json book/_mathjax/package-lock.json
	cd book/_mathjax && npm ci --no-audit --no-fund
	@touch $@

notebooks: $(STAMP)
	SCMASKGAN_DATA="$(SCMASKGAN_DATA)" $(VPY) book/build.py $(if $(SMOKE),--smoke) $(BOOK_PARAMS)

html: $(STAMP) $(MATHJAX)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

book: $(STAMP) $(MATHJAX)
	$(MAKE) notebooks
	$(MAKE) html
	@echo "The book is in _build/html/ (open _build/html/index.html); executed notebooks and their outputs are in book/_executed/."

clean:
	rm -rf _build book/_executed .pytest_cache .pytest-lowest

distclean: clean
	rm -rf $(VENV) $(PEERS_VENV) book/_mathjax/node_modules
