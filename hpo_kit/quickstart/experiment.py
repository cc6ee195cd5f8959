"""What the quickstart measures beyond the engine's own log.

The claims compare models on **held-out** images: random search picks its configuration by
validation error, so the pick's validation error is optimistically biased; its test error is not.
Within one search seed both models are trained with the **same seed**, so the comparison is not
between two draws of the initial weights as well. "Random search beats the default" is a statement
about searches, not about one pair of trained models, so :func:`compare_on_seed` is repeated for
several search seeds and the claim is decided over them (hpo_kit/quickstart/claims.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from hpo_kit.methods import make_backend, make_scheduler
from hpo_kit.objectives.mnist_live import MnistObjective
from hpo_kit.stopping import StopCriteria
from hpo_kit.train.trainer import predict, train
from hpo_kit.tuner import HPOResult, run_hpo


@dataclass(frozen=True)
class TrainedModel:
    config: dict[str, Any]
    seed: int
    val_curve: list[float]      # validation error after every epoch
    test_error: float
    test_correct: np.ndarray    # one bool per test image: classified correctly
    train_time_s: float


def train_and_predict(objective: MnistObjective, config: dict[str, Any], epochs: int, seed: int) -> TrainedModel:
    """Train ``config`` for ``epochs`` with ``seed`` exactly as ``objective`` does, keep per-image test results."""
    splits = objective.splits()
    model, settings = objective.build(dict(config), splits, int(seed))
    result = train(model, splits, settings, epochs=int(epochs), seed=int(seed))
    correct = (predict(model, splits.test_x, settings.eval_batch_size) == splits.test_y.cpu()).numpy()
    return TrainedModel(config=dict(config), seed=int(seed), val_curve=[float(e) for e in result.val_errors],
                        test_error=float(result.test_error), test_correct=correct, train_time_s=result.train_time_s)


def curves_frame(results: pd.DataFrame, extra: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """One row per (configuration, epoch) with its validation error, from a search's results table.

    ``results`` is ``HPOResult.results`` (its ``info_val_curve`` column); ``extra`` adds named curves
    (e.g. the default configuration's).
    """
    rows = []
    for trial_id, curve in zip(results["trial_id"], results["info_val_curve"]):
        rows += [{"config": f"trial {trial_id}", "epoch": e + 1, "val_error": float(v)} for e, v in enumerate(curve)]
    for name, curve in (extra or {}).items():
        rows += [{"config": name, "epoch": e + 1, "val_error": float(v)} for e, v in enumerate(curve)]
    return pd.DataFrame(rows, columns=["config", "epoch", "val_error"])


@dataclass(frozen=True)
class SeedComparison:
    """One search seed: random search with that seed, its pick and the default both trained with it."""

    seed: int
    default: TrainedModel
    pick: TrainedModel
    search: HPOResult


def compare_on_seed(objective: Any, default_config: dict[str, Any], *, epochs: int, n_random: int, seed: int,
                    run_dir: str | Path, backend: str = "sequential", n_workers: int = 1,
                    dask_address: str | None = None, progress: bool = True,
                    train_model: Callable[..., TrainedModel] = train_and_predict,
                    default: TrainedModel | None = None, fsync: bool | None = None) -> SeedComparison:
    """Random search with ``seed`` (``n_random`` configurations, FIFO, full ``epochs``), then the default
    and the search's pick (lowest validation error) both trained with ``seed`` for the test comparison.

    ``train_model(objective, config, epochs, seed)`` trains one model and keeps its per-image test
    results (:func:`train_and_predict`; the end-to-end null checks pass a stand-in's). ``default``: the
    default already trained with ``seed`` (the notebook trains it first, for its learning curve).
    ``fsync``: as :func:`~hpo_kit.tuner.run_hpo` (the null checks' throw-away logs skip it).
    """
    if default is not None and (default.seed != seed or default.config != dict(default_config)):
        raise ValueError(f"default was trained with seed {default.seed} and config {default.config}; "
                         f"this comparison needs seed {seed} and config {dict(default_config)}")
    scheduler = make_scheduler("random", objective.space, min_resource=epochs, max_resource=epochs, seed=seed,
                               max_trials=n_random)
    workers = 1 if backend == "sequential" else n_workers
    engine = make_backend(backend, n_workers=workers, address=dask_address or None)
    search = run_hpo(objective, scheduler, engine, run_dir, seed=seed, stop=StopCriteria(max_evaluations=n_random),
                     progress=progress, fsync=fsync)
    if default is None:
        default = train_model(objective, default_config, epochs, seed)
    pick = train_model(objective, search.best_config, epochs, seed)
    return SeedComparison(int(seed), default, pick, search)


def comparisons_frame(comparisons: list[SeedComparison]) -> pd.DataFrame:
    """One row per search seed: the default's and the pick's test errors (same seed), and the pick."""
    return pd.DataFrame([{"seed": c.seed, "default_test_error": c.default.test_error,
                          "pick_test_error": c.pick.test_error, "pick_val_error": float(c.search.best_loss),
                          "pick": c.pick.config} for c in comparisons],
                        columns=["seed", "default_test_error", "pick_test_error", "pick_val_error", "pick"])
