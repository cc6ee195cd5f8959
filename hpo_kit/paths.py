"""Where the kit keeps things: one place, so notebooks, runner and tests agree."""
from __future__ import annotations

import os
from pathlib import Path

#: Root of the repository (the folder holding ``notebooks/``, ``params/`` and ``hpo_kit/``).
REPO_ROOT = Path(__file__).resolve().parent.parent
# Overridable so tests can run the runner on notebooks of their own (also inside the kernel process).
NOTEBOOKS_DIR = Path(os.environ.get("HPO_KIT_NOTEBOOKS", REPO_ROOT / "notebooks"))
PARAMS_DIR = Path(os.environ.get("HPO_KIT_PARAMS", REPO_ROOT / "params"))
#: Profiles, smallest first; each is a folder of parameter files ``params/<profile>/<notebook>.yaml``.
#: ``reference``: the largest design a 2-core CPU without a GPU finishes in about 6 CPU-hours per notebook,
#: run for the results of record (``results/reference/``); ``paper``: the papers' own budgets.
PROFILES = ("smoke", "workshop", "reference", "paper")


def runs_dir() -> Path:
    """Root of executed runs; ``HPO_KIT_RUNS`` overrides ``<repo>/runs`` (tests use a temp dir)."""
    return Path(os.environ.get("HPO_KIT_RUNS", REPO_ROOT / "runs"))


def run_dir(profile: str, notebook: str) -> Path:
    """Folder of one notebook's run at one profile: ``runs/<profile>/<notebook>/``."""
    return runs_dir() / profile / notebook


def data_dir(dataset: str = "mnist") -> Path:
    """Directory holding a dataset's files.

    ``HPO_KIT_DATA`` names the MNIST folder directly (CI points it at the shared copy); for
    other datasets ``HPO_KIT_DATA_ROOT`` or the user cache (``$XDG_CACHE_HOME/hpo_kit/<dataset>``).
    """
    if dataset == "mnist" and os.environ.get("HPO_KIT_DATA"):
        return Path(os.environ["HPO_KIT_DATA"]).expanduser()
    root = os.environ.get("HPO_KIT_DATA_ROOT")
    if root:
        return Path(root).expanduser() / dataset
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "hpo_kit" / dataset
