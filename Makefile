# make lab   : set up .venv, make FashionMNIST available, open JupyterLab on the lessons
# make test  : the same set-up plus test tools, then unit tests and every notebook under nbval
# make test-browser : JupyterLab in headless Chromium runs lesson 01 (needs `apt-get install chromium`)
# make bench : throughput benchmarks (ratios against baselines measured in the same run), 2 processes vs 1
# make test-binder : the versions Binder ships (binder/environment.yml's pins, from PyPI) in .venv-binder,
#                    then unit tests and every notebook there with one PyTorch thread, as on Binder's one CPU
# make gpu-check : on a CUDA machine, unit tests and every notebook on the GPU, then both benchmarks;
#                  without CUDA it says so and stops (exit 1)
# Each target is idempotent: a venv is rebuilt only when pyproject.toml (or the Binder pins) change.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BINDER_VENV ?= .venv-binder
BPY := $(BINDER_VENV)/bin/python
# The Python version Binder pins (3.11 -> python3.11).
BINDER_PYTHON ?= python$(shell $(PYTHON) binder/pins.py --python)
# Jupyter refuses to run as root (containers often are) unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test test-browser test-binder binder-env gpu-check bench data clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# Also the course's JupyterLab defaults (binder/overrides.json: no "Jupyter news?" pop-up), as on Binder.
$(VENV)/.lab: $(VENV)/.base binder/overrides.json binder/install_lab_settings.py
	$(PY) -m pip install --quiet -e '.[lab]'
	$(PY) binder/install_lab_settings.py
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

# Binder's versions, installed from PyPI (PyPI's torch is conda-forge's pytorch-cpu release; on Linux it
# brings its nvidia-* libraries, which it needs to import even on a CPU). Rebuilt from scratch when the
# pins change, so nothing but the pins and the test tools is in it; binder/pins.py --check proves it.
$(BINDER_VENV)/.pins: binder/environment.yml binder/pins.py pyproject.toml
	rm -rf $(BINDER_VENV)
	$(BINDER_PYTHON) -m venv $(BINDER_VENV)
	$(BPY) binder/pins.py > $(BINDER_VENV)/pins.txt
	$(BPY) -m pip install --quiet -r $(BINDER_VENV)/pins.txt -e '.[test]'
	$(BPY) binder/pins.py --check
	touch $@

binder-env: $(BINDER_VENV)/.pins

# One PyTorch thread, as `%load_ext lrcourse` sets on Binder's one CPU (the notebooks' kernels inherit
# it: tests/test_extension.py checks).
test-binder: $(BINDER_VENV)/.pins
	$(BPY) -m lrcourse data
	OMP_NUM_THREADS=1 TQDM_DISABLE=1 $(BPY) -m pytest

# Asks torch for a CUDA device first, so that a machine without one installs and runs nothing more.
gpu-check: $(VENV)/.base
	$(PY) -m lrcourse gpu-check --probe
	$(MAKE) --no-print-directory $(VENV)/.test $(VENV)/.bench data
	$(PY) -m lrcourse gpu-check

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
	rm -rf $(VENV) $(BINDER_VENV)
