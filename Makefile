# Two commands for a newcomer: `make reproduce` and `make test` (see README.md).
# PYTHON: the interpreter that builds the venv. Empty = the first of python3, python3.13, python3.12,
# python3.11 whose version the kit supports (3.11-3.13); a PYTHON given but unsupported is an error.
PYTHON      ?=
VENV        ?= .venv
PROFILE     ?= workshop
NB          ?=
FORCE       ?=
# TORCH_INDEX: a pip index for torch only, e.g. https://download.pytorch.org/whl/cpu for the CPU build
# on a machine without a GPU (PyPI's Linux wheels for Python 3.12+ are the CUDA build, several GB).
TORCH_INDEX ?=
PY          := $(VENV)/bin/python
PIP         := $(VENV)/bin/python -m pip
STAMP       := $(VENV)/.installed
SUPPORTED   := 3.11 3.12 3.13
# The exact versions the recorded numbers were measured with, for the venv's Python version.
PYVER        = $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCK         = constraints/py$(PYVER).txt

# Full MNIST for development and CI, when the shared copy sits beside the checkout.
SHARED_MNIST := $(abspath ../shared/data/mnist)
ifeq ($(HPO_KIT_DATA),)
  ifneq ($(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),)
    export HPO_KIT_DATA := $(SHARED_MNIST)
  endif
endif

.PHONY: install reproduce record test check sync lab bench calibration gpu-check clean help

help:
	@echo "make reproduce [PROFILE=smoke|workshop|reference|paper] [NB=<name> ...] [FORCE=1]  run notebooks (skips ones done with the same code), write runs/<profile>/REPORT.md and report.html"
	@echo "make record PROFILE=reference [NB=04]                          copy finished runs into results/<profile>/ (committed), the README's table of record"
	@echo "make test                                                      unit tests + every notebook at the smoke profile"
	@echo "make check                                                     set-up check: environment and data, under a minute"
	@echo "make lab                                                       JupyterLab on notebooks/ with the kit's kernel"
	@echo "make sync                                                      sync notebooks/*.ipynb with their py:percent scripts (notebooks/scripts/), create missing ones"
	@echo "make bench                                                     speed benchmarks (print figures)"
	@echo "make gpu-check                                                 the GPU path: trainer on CUDA vs CPU, speed-up, notebooks 01 and 03 on CUDA"
	@echo "make calibration [FAST=1] [DESIGN=workshop] [ONLY='04 nas']    end-to-end null checks (resumable; results/calibration/TABLE.md)"
	@echo "make clean                                                     remove runs/"
	@echo "install options: PYTHON=python3.X (3.11-3.13)  VENV=<dir>  TORCH_INDEX=https://download.pytorch.org/whl/cpu"

install: $(STAMP)

$(STAMP): pyproject.toml $(wildcard constraints/py3.*.txt)
	@py="$(PYTHON)"; \
	if [ -x "$(PY)" ]; then py="$(PY)"; \
	elif [ -z "$$py" ]; then \
	  for c in python3 python3.13 python3.12 python3.11; do \
	    v=$$($$c -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue; \
	    case " $(SUPPORTED) " in *" $$v "*) py=$$c; break;; esac; \
	  done; \
	  if [ -z "$$py" ]; then \
	    echo "error: no supported Python found (tried python3, python3.13, python3.12, python3.11; the kit needs 3.11, 3.12 or 3.13)." >&2; \
	    echo "       Install one, or pass its path: make install PYTHON=/path/to/python3.12" >&2; exit 1; \
	  fi; \
	fi; \
	said=$$(mktemp); \
	v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>$$said) || { \
	  echo "error: PYTHON=$$py cannot be run. It said:" >&2; sed 's/^/    /' $$said >&2; \
	  case "$$(command -v $$py)" in *pyenv/shims*) \
	    echo "  $$py is a pyenv shim: choose a version first (PYENV_VERSION=3.12.x make install, or pyenv global/local 3.12.x)," >&2; \
	    echo "  or pass the interpreter itself: make install PYTHON=\$$(PYENV_VERSION=3.12.x pyenv which python)" >&2;; \
	  *) echo "  Pass an interpreter of Python 3.11, 3.12 or 3.13: make install PYTHON=/path/to/python3.12" >&2;; esac; \
	  rm -f $$said; exit 1; }; \
	rm -f $$said; \
	case " $(SUPPORTED) " in *" $$v "*) ;; *) \
	  echo "error: $$py is Python $$v; the kit supports $(SUPPORTED). Pass PYTHON=python3.X, or VENV=<new dir> if $(VENV) was made by another Python." >&2; exit 1;; esac; \
	test -f constraints/py$$v.txt || { echo "error: constraints/py$$v.txt is missing (the exact versions for Python $$v)" >&2; exit 1; }; \
	echo "Python $$v ($$py) -> $(VENV), exact versions from constraints/py$$v.txt"; \
	test -x "$(PY)" || $$py -m venv $(VENV)
	$(PIP) install -q --upgrade -c $(LOCK) pip setuptools wheel
	@# torch first, alone and without its dependencies, so that TORCH_INDEX picks only torch's build;
	@# its dependencies come from the ordinary index in the next line.
	@# An unreachable TORCH_INDEX makes pip speak of "conflicting dependencies": say what is wrong instead.
	$(if $(TORCH_INDEX),$(PY) constraints/check_index.py $(TORCH_INDEX))
	$(PIP) install -q --no-deps -c $(LOCK) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(PIP) install -q -c $(LOCK) torch==2.13.0
	@# fanova needs pyrfr, compiled here: SWIG >= 4.2 builds forests that lack methods, and the
	@# build needs numpy and swig from this venv (no build isolation, venv bin on PATH).
	$(PIP) install -q -c $(LOCK) "swig<4.2" numpy
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PIP) install -q -c $(LOCK) --no-build-isolation pyrfr==0.9.0
	$(PIP) install -q -c $(LOCK) -e ".[dev]"
	@touch $@

reproduce: $(STAMP)
	$(PY) -m hpo_kit.run --profile $(PROFILE) $(if $(NB),--only $(NB)) $(if $(FORCE),--force)

record: $(STAMP)
	$(PY) -m hpo_kit.record --profile $(PROFILE) $(if $(NB),--only $(NB))

test: $(STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(PY) -m hpo_kit.check

# Each notebooks/<name>.ipynb is paired with notebooks/scripts/<name>.py (jupytext py:percent);
# the pairing is set in notebooks/jupytext.toml. `sync` updates whichever side is older and creates
# the script of a notebook that has none yet (so pairing a new notebook is `make sync`).
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/*.ipynb

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	@for script in bench/*.py; do case $$script in */calibration_e2e.py|*/gpu_check.py) continue;; esac; \
	  echo "== $$script"; $(PY) $$script || exit 1; done

# The GPU path: trainer CPU vs CUDA, speed-up, notebooks 01 and 03 on CUDA (exits 0 without CUDA).
gpu-check: $(STAMP)
	$(PY) bench/gpu_check.py

# End-to-end null checks of every claim (long: hours at every case's own replicate count; FAST=1 for
# the cases make test runs).
calibration: $(STAMP)
	$(PY) bench/calibration_e2e.py $(if $(FAST),--fast) $(if $(DESIGN),--design $(DESIGN)) $(if $(ONLY),--only $(ONLY))
	$(PY) bench/calibration_e2e.py --report $(if $(DESIGN),--design $(DESIGN)) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf runs
