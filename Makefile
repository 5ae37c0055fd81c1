# Two commands set everything up on a fresh Debian machine:
#   make demo   - the main job: serve, trace and report on the sample app
#   make test   - the whole test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test serve lint bench graphviz crecorder clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pylon-trace needs Python 3.11+"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Graphviz's `dot` renders the call diagrams; install it when it is missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; }
	@command -v dot >/dev/null 2>&1 || { echo "could not install graphviz (dot)"; exit 1; }

# The compiled recorder (tracer/_crecorder.c) needs a C compiler and Python's headers;
# without them pip skips it and the pure-Python recorder is used. `make test` tests
# both, so install them when missing (as graphviz above) and build it.
crecorder: $(STAMP)
	@$(PY) -c 'import tracer._crecorder' 2>/dev/null || { \
	  { command -v cc >/dev/null 2>&1 && $(PY) -c 'import os, sys, sysconfig; \
	      sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; \
	  } || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	      $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gcc python3-dev >/dev/null; }; \
	  $(PY) -m pip install -q -e '.[test]'; }
	@$(PY) -c 'import tracer._crecorder' || { \
	  echo "could not build the compiled recorder (tracer/_crecorder.c)"; exit 1; }

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Serves the sample app traced, requests every path, prints the /page2 timeline and a
# table of all requests; traces, diagrams and the walkthrough go to ./pylon-trace-demo/.
demo: $(STAMP) graphviz
	$(VENV)/bin/pylon-trace demo

# Regenerate docs/walkthrough.md from a live run (tests fail when it is out of date).
.PHONY: walkthrough
walkthrough: $(STAMP)
	$(VENV)/bin/pylon-trace walkthrough sample_app/development.ini --path /page2 \
	  --no-diagrams -o docs

# The whole suite once per recorder. PYLON_TRACE_CORE=c refuses to fall back to Python,
# so a compiled recorder that did not build cannot pass unnoticed.
test: $(STAMP) graphviz crecorder
	$(VENV)/bin/ruff check .
	PYLON_TRACE_CORE=py $(PY) -m pytest -q
	PYLON_TRACE_CORE=c $(PY) -m pytest -q

serve: $(STAMP)
	$(VENV)/bin/pylon-trace serve sample_app/development.ini

# What tracing costs, every mode side by side (about two minutes; the results also go to
# benchmarks/results.json), then how long reports take on a big trace.
bench: $(BENCH_STAMP) crecorder
	$(PY) -m benchmarks.bench
	$(PY) benchmarks/bench_reports.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) traces pylon-trace-demo build *.egg-info
