# Two commands set everything up on a fresh Debian machine:
#   make demo   - the main job: serve, trace and report on the sample app
#   make test   - the whole test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test serve lint bench graphviz clean

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

demo: $(STAMP) graphviz
	$(VENV)/bin/pylon-trace serve sample_app/development.ini

test: $(STAMP) graphviz
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

serve: $(STAMP)
	$(VENV)/bin/pylon-trace serve sample_app/development.ini

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) traces pylon-trace-demo build *.egg-info
