"""Rules between notebook 04's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    problems = (rules.not_empty(values, "methods", "n_workers", "target_quantiles")
                + _two_rungs_at_least(values)
                + _fit_points(values)
                + rules.images_fit(values, ["live_n_train", "live_n_val"], "live_n_test")
                + rules.backend_and_workers(values, "live_backend", "live_workers")
                + _benchmark_files(values))
    return problems


def _benchmark_files(values: dict) -> list[str]:
    """Public benchmarks are not shipped (a path is needed) and record wall-clock times only."""
    name = values.get("benchmark")
    if name is None or name.startswith("mnist_mlp"):
        return []
    problems = []
    if not values.get("benchmark_path"):
        problems.append(f"benchmark = {name!r} is not shipped with the kit: download it and set benchmark_path "
                        "(hpo_kit.blackboxes.registry says from where)")
    if values.get("cost") == "cpu":
        problems.append(f"cost = 'cpu' but benchmark {name!r} records wall-clock seconds only: set cost = 'wall'")
    return problems


def _two_rungs_at_least(values: dict) -> list[str]:
    """Stopping and promotion differ only with at least two rungs: max_resource >= min_resource * eta."""
    low, high, eta = values.get("min_resource"), values.get("max_resource"), values.get("eta")
    if None in (low, high, eta) or high >= low * eta:
        return []
    return [f"max_resource = {high} is below min_resource * eta = {low} * {eta} = {low * eta}: the schedulers "
            "would have a single rung, where stopping and promotion are the same method; raise max_resource "
            "or lower min_resource or eta"]


def _fit_points(values: dict) -> list[str]:
    n = values.get("gp_max_fit_points", 0)
    if 0 < n < 2:
        return [f"gp_max_fit_points = {n}: a GP's hyperparameters need at least 2 observations; use 0 (the "
                "searcher's default) or >= 2"]
    return []
