"""Rules between notebook 00's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    return (rules.images_fit(values, ["n_train", "n_val"], "n_test")
            + rules.backend_and_workers(values))
