"""What the quickstart measures beyond the engine's own log.

The claims compare models on **held-out** images: random search picks its configuration by
validation error, so the pick's validation error is optimistically biased; its test error is not.
Both models are trained with the **same seed**, so the comparison is not between two draws of the
initial weights as well.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpo_kit.objectives.mnist_live import MnistObjective
from hpo_kit.train.trainer import predict, train


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
