"""Rules between notebook 03's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    if values.get("dataset") == "cifar10":
        sizes = rules.images_fit(values, ["n_train", "n_val"], "n_test", dataset="CIFAR-10",
                                 n_train_images=rules.CIFAR10_TRAIN_IMAGES, n_test_images=rules.CIFAR10_TEST_IMAGES)
    else:
        sizes = rules.images_fit(values, ["n_train", "n_val"], "n_test")
    return (sizes
            + rules.ordered(values, "min_budget", "max_budget")
            + rules.budget_levels(values, "min_budget", "max_budget", "eta",
                                  why="the claims compare configurations across budgets")
            + rules.backend_and_workers(values))
