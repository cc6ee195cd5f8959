"""Rules between notebook 01's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    # The search subset and the final retraining both draw their validation images from the same
    # training set as their training images.
    return (rules.images_fit(values, ["n_train", "n_val"], "n_test")
            + rules.images_fit(values, ["n_train_final", "n_val"])
            + rules.not_empty(values, "methods")
            + _no_repeats(values, "methods"))


def _no_repeats(values: dict, name: str) -> list[str]:
    seen = values.get(name, [])
    repeated = sorted({m for m in seen if seen.count(m) > 1})
    return [f"{name} lists {repeated} more than once; list each method once"] if repeated else []
