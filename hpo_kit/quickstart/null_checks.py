"""End-to-end null checks of notebook 00's comparative claims (see hpo_kit/null_checks.py).

Each replicate runs the notebook's own experiment (:func:`~hpo_kit.quickstart.experiment.compare_on_seed`:
the engine's random search with the FIFO scheduler, the pick chosen by validation error, the default and
the pick trained with the search's seed) and the notebook's claim functions, on a **stand-in objective**
on which the compared factor cannot matter. Training real CNNs thousands of times is too slow, so the
stand-in draws what a training would give:

* every trained model (configuration, seed) gets its own test error, normal around 3 % with a
  seed-to-seed spread of 0.4 points: **the same distribution for every configuration**, so the search's
  pick equals the default in expectation;
* its validation errors (one per epoch) are drawn independently of its test error and have the same
  expectation at every epoch: selection on validation finds nothing, and training longer changes nothing;
* per test image, a model is right unless the image is among its errors; images have a shared
  difficulty (two models err on mostly the same images, as two CNNs do).
"""
from __future__ import annotations

import tempfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_kit.claims import FAILS, HOLDS, ClaimRow
from hpo_kit.null_checks import NullCase
from hpo_kit.objectives.mnist_live import default_space
from hpo_kit.params import profile_params
from hpo_kit.quickstart.claims import longer_training_helps, random_beats_default
from hpo_kit.quickstart.experiment import TrainedModel, compare_on_seed, comparisons_frame, curves_frame
from hpo_kit.trial import Evaluation

NOTEBOOK = "00_quickstart"
#: the stand-in's test error and its spread between trainings (about what the workshop CNN shows)
BASE_ERROR, MODEL_SD = 0.03, 0.004
#: validation errors: level and spread between epochs and trainings
VAL_ERROR, VAL_SD = 0.05, 0.01


@dataclass
class ConfigBlindObjective:
    """Stands in for MnistObjective: no configuration is better than another in expectation.

    ``replicate`` seeds everything (the test images' difficulty and every model's draws).
    """

    replicate: int
    epochs: int
    n_test: int
    space: Any = field(init=False)

    def __post_init__(self) -> None:
        self.space = default_space("cnn", seed=self.replicate)
        self.min_resource = self.max_resource = int(self.epochs)
        # image difficulty, shared by every model of this replicate (one test set)
        self._difficulty = np.random.default_rng([self.replicate, 0]).random(self.n_test)

    def _rng(self, config: dict[str, Any], seed: int) -> np.random.Generator:
        key = zlib.crc32(repr(sorted(config.items())).encode())
        return np.random.default_rng([self.replicate, 1, key, int(seed)])

    def _model(self, config: dict[str, Any], seed: int) -> tuple[list[float], np.ndarray]:
        rng = self._rng(config, seed)
        error = float(np.clip(BASE_ERROR + rng.normal(0, MODEL_SD), 0.001, 0.5))
        val_curve = [float(v) for v in VAL_ERROR + rng.normal(0, VAL_SD, self.epochs)]
        # right unless among the `error` share of hardest images, with a little model-specific jitter
        score = self._difficulty + rng.normal(0, 0.05, self.n_test)
        correct = score >= np.quantile(score, error)
        return val_curve, correct

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        val_curve, correct = self._model(dict(config), seed)
        return Evaluation(loss=val_curve[-1], cost=1.0, curve=tuple(val_curve),
                          info={"test_error": float(1 - correct.mean()), "val_curve": val_curve})

    def describe(self) -> dict[str, Any]:
        return {"name": "config-blind stand-in", "replicate": self.replicate}


def train_stand_in(objective: ConfigBlindObjective, config: dict[str, Any], epochs: int, seed: int) -> TrainedModel:
    """What :func:`~hpo_kit.quickstart.experiment.train_and_predict` returns, drawn by the stand-in."""
    val_curve, correct = objective._model(dict(config), seed)
    return TrainedModel(config=dict(config), seed=int(seed), val_curve=val_curve,
                        test_error=float(1 - correct.mean()), test_correct=correct, train_time_s=0.0)


def _experiment(r: int, design: dict[str, Any], n_seeds: int):
    objective = ConfigBlindObjective(replicate=r, epochs=int(design["epochs"]), n_test=int(design["n_test"]))
    default_config = dict(objective.space.get_default_configuration())
    seed = 1000 * r  # the notebook's seed, seed + 1, ... (replicates never share a seed)
    with tempfile.TemporaryDirectory(prefix="qs_null_") as folder:
        return [compare_on_seed(objective, default_config, epochs=int(design["epochs"]),
                                n_random=int(design["n_random"]), seed=seed + i, run_dir=f"{folder}/seed{i}",
                                progress=False, train_model=train_stand_in, fsync=False) for i in range(n_seeds)]


def random_beats_default_replicate(design: dict[str, Any]):
    def replicate(r: int) -> ClaimRow:
        return random_beats_default(comparisons_frame(_experiment(r, design, int(design["n_search_seeds"]))))
    return replicate


def longer_training_replicate(design: dict[str, Any]):
    def replicate(r: int) -> ClaimRow:
        first = _experiment(r, design, 1)[0]
        return longer_training_helps(curves_frame(first.search.results, extra={"default": first.default.val_curve}))
    return replicate


def cases() -> list[NullCase]:
    found = []
    for design, slow_beats, slow_longer in (("workshop", True, False), ("reference", True, True),
                                                  ("paper", True, True)):
        values = profile_params(NOTEBOOK, design)
        note = (f"stand-in objective (every configuration the same in expectation; "
                f"{values['n_search_seeds']} search seeds x {values['n_random']} configurations, "
                f"{values['epochs']} epochs, {values['n_test']} test images; backend sequential)")
        found.append(NullCase(NOTEBOOK, "Random search finds a configuration better than the default one", design,
                              "the pick equals the default in expectation (config-blind stand-in)",
                              random_beats_default_replicate(values), (HOLDS, FAILS), slow=slow_beats,
                              n_replicates=1000, note=note))
        found.append(NullCase(NOTEBOOK, "Training longer lowers validation error", design,
                              "validation error has the same expectation at every epoch (stand-in)",
                              longer_training_replicate(values), (HOLDS, FAILS), slow=slow_longer,
                              n_replicates=1000, note=note))
    return found
