# Two entry points: `make demo` (set up and run the main job) and `make test` (set up and run the tests).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test setup setup-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools announces every editable install with a warning that asks nothing of the user: hide that one
PIP     = PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip

setup: $(BIN)/python
	$(PIP) install --quiet -e .

setup-test: $(BIN)/python
	$(PIP) install --quiet -e ".[test,dask]"

demo: setup
	$(BIN)/tunelab demo

test: setup-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info
