# Two commands for a newcomer: `make reproduce` and `make test` (see README.md).
PYTHON  ?= python3.11
VENV    ?= .venv
PROFILE ?= workshop
NB      ?=
FORCE   ?=
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/python -m pip
STAMP   := $(VENV)/.installed

# Full MNIST for development and CI, when the shared copy sits beside the checkout.
SHARED_MNIST := $(abspath ../shared/data/mnist)
ifeq ($(HPO_KIT_DATA),)
  ifneq ($(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),)
    export HPO_KIT_DATA := $(SHARED_MNIST)
  endif
endif

.PHONY: install reproduce test lab bench clean help

help:
	@echo "make reproduce [PROFILE=smoke|workshop|paper] [NB=<name> ...] [FORCE=1]  run notebooks (skips ones done with the same code), write runs/<profile>/REPORT.md"
	@echo "make test                                                      unit tests + every notebook at the smoke profile"
	@echo "make lab                                                       JupyterLab on notebooks/ with the kit's kernel"
	@echo "make bench                                                     speed benchmarks (print figures)"
	@echo "make clean                                                     remove runs/"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	@# torch first and pinned: later requirements find it satisfied and never pull a CUDA build.
	$(PIP) install -q torch==2.13.0
	@# fanova needs pyrfr, compiled here: SWIG >= 4.2 builds forests that lack methods, and the
	@# build needs numpy and swig from this venv (no build isolation, venv bin on PATH).
	$(PIP) install -q "swig<4.2" numpy==2.4.6
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PIP) install -q --no-build-isolation pyrfr==0.9.0
	$(PIP) install -q -e ".[dev]"
	@touch $@

reproduce: $(STAMP)
	$(PY) -m hpo_kit.run --profile $(PROFILE) $(if $(NB),--only $(NB)) $(if $(FORCE),--force)

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf runs
