"""Differential test against HPO-B's own handler, when a checkout of HPO-B is at hand.

Set ``HPO_KIT_HPOB_CODE`` to a folder holding HPO-B's ``hpob_handler.py`` (repository
machinelearningnuremberg/HPO-B; it is not vendored). Both handlers then run the same random methods
on the fixture and must return identical incumbent curves, discrete and continuous.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os
from pathlib import Path

import numpy as np
import pytest

from hpo_kit.hpob import HPOBHandler

FIXTURE = Path(__file__).parent / "fixtures" / "hpob_tiny"
CODE = os.environ.get("HPO_KIT_HPOB_CODE")

pytestmark = pytest.mark.skipif(not CODE or not (Path(CODE) / "hpob_handler.py").is_file(),
                                reason="HPO_KIT_HPOB_CODE does not point at HPO-B's hpob_handler.py")


class Rand:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
        if X_pen is not None:
            return int(self.rng.integers(len(X_pen)))
        return self.rng.random(X_obs.shape[1])


def test_same_curves_as_hpob():
    spec = importlib.util.spec_from_file_location("hpob_handler_reference", Path(CODE) / "hpob_handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with contextlib.redirect_stdout(io.StringIO()):
        ref = module.HPOBHandler(root_dir=str(FIXTURE / "hpob-data") + "/", mode="v3-test",
                                 surrogates_dir=str(FIXTURE / "saved-surrogates") + "/")
    ours = HPOBHandler(FIXTURE / "hpob-data")
    for space in ours.get_search_spaces():
        for dataset in ours.get_datasets(space):
            for seed in ours.get_seeds():
                for method_seed in range(3):
                    for n_trials in ((1, 3, 10, 40) if space == "5971" else (1, 2, 3, 4)):
                        a = ref.evaluate(Rand(method_seed), space, dataset, seed, n_trials)
                        assert ours.evaluate(Rand(method_seed), space, dataset, seed, n_trials) == pytest.approx(a)
                        a = ref.evaluate_continuous(Rand(method_seed), space, dataset, seed, n_trials)
                        b = ours.evaluate_continuous(Rand(method_seed), space, dataset, seed, n_trials)
                        assert b == pytest.approx(np.asarray(a, dtype=float).tolist())
