# make lab   : set up .venv, make FashionMNIST available, open JupyterLab on the lessons
# make test  : the same set-up plus test tools, then unit tests and every notebook under nbval
# make test-browser : JupyterLab in headless Chromium runs lesson 01 (needs `apt-get install chromium`)
# make bench : throughput benchmarks (ratios against baselines measured in the same run), 2 processes vs 1
# Each target is idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Jupyter refuses to run as root (containers often are) unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test test-browser bench data clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.lab: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[lab]'
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The browser test drives JupyterLab itself, so it builds on the lab set-up.
$(VENV)/.browser: $(VENV)/.lab
	$(PY) -m pip install --quiet -e '.[browser]'
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

data: $(VENV)/.base
	$(PY) -m lrcourse data

lab: $(VENV)/.lab data
	$(VENV)/bin/jupyter lab notebooks/ $(ROOT_FLAG)

test: $(VENV)/.test data
	TQDM_DISABLE=1 $(PY) -m pytest

test-browser: $(VENV)/.test $(VENV)/.browser data
	TQDM_DISABLE=1 $(PY) -m pytest -m browser tests/browser

bench: $(VENV)/.bench data
	$(PY) benchmarks/throughput.py
	TQDM_DISABLE=1 $(PY) benchmarks/range_test.py
	$(PY) benchmarks/distributed.py

clean:
	rm -rf $(VENV)
