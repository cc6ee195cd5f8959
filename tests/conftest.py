"""Shared test set-up: every test writes runs under a temporary folder, never into runs/."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HPO_KIT_RUNS", str(tmp_path_factory.mktemp("runs")))
    # Plain-text progress bars in tests (as in batch runs).
    monkeypatch.setenv("HPO_KIT_BATCH", "1")
    yield


def pytest_configure(config):
    # One torch thread in the test process too (the machine has 2 cores; see hpo_kit/train/threads.py).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
