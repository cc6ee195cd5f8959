"""Rules between notebook 04's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    problems = (rules.not_empty(values, "methods", "n_workers", "target_quantiles")
                + _two_rungs_at_least(values)
                + _fit_points(values)
                + rules.images_fit(values, ["live_n_train", "live_n_val"], "live_n_test")
                + rules.backend_and_workers(values, "live_backend", "live_workers")
                + rules.existing_path(values, "benchmark_path", empty_means="the benchmark's shipped file")
                + _rows_within_the_table(values)
                + _benchmark_files(values)
                + _horizon_within_the_measured_rows(values))
    return problems


def _horizon_within_the_measured_rows(values: dict) -> list[str]:
    """``mnist_mlp_4k`` is measured in shards over several sessions and sized for its horizon: a run
    longer than what its finished rows support would let the asynchronous methods exhaust them (the
    defect of the 512-row table, which the notebook shows instead of refusing). Refused with the
    longest supported horizon per worker count (:func:`hpo_kit.blackboxes.sizing.table_supported_horizon`)."""
    if values.get("benchmark") != "mnist_mlp_4k" or values.get("benchmark_path") or not values.get("n_workers"):
        return []
    if _rows_within_the_table(values):
        return []  # reported once, by that rule
    import warnings

    from hpo_kit.blackboxes.mnist_mlp_large import IncompleteBlackboxWarning, shard_status
    from hpo_kit.blackboxes.registry import load_blackbox
    from hpo_kit.blackboxes.sizing import table_supported_horizon

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IncompleteBlackboxWarning)
            table = load_blackbox("mnist_mlp_4k", cost=values.get("cost") or "cpu",
                                  max_rows=values.get("table_rows") or None)
    except ValueError as error:
        return [f"benchmark = 'mnist_mlp_4k': {error}"]
    horizon = values.get("horizon_s")
    methods = values.get("methods") or None
    limits = {w: table_supported_horizon(table, w, methods) for w in values["n_workers"]}
    over = {w: h for w, h in limits.items() if horizon is not None and horizon > h}
    if not over:
        return []
    text = ", ".join(f"{h:.0f} s with {w} workers" for w, h in sorted(over.items()))
    rows = f"the first {table.n_configs} rows" if values.get("table_rows") else f"the {table.n_configs} measured rows"
    return [f"horizon_s = {horizon:g} is longer than {rows} of mnist_mlp_4k support for the methods run "
            f"({shard_status().describe()}): at most {text}. Shorten horizon_s, use fewer n_workers, raise "
            "table_rows, or resume the measurement (python -m hpo_kit.blackboxes.mnist_mlp_large)"]


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


def _rows_within_the_table(values: dict) -> list[str]:
    """``table_rows`` above the table's size would be ignored (every row used): refused, naming the size.
    Public tables are checked by their loaders, which refuse a larger ``max_rows`` when they are read."""
    name, rows = values.get("benchmark"), values.get("table_rows")
    if not rows or values.get("benchmark_path") or name not in ("mnist_mlp", "mnist_mlp_4k"):
        return []
    if name == "mnist_mlp_4k":
        from hpo_kit.blackboxes.mnist_mlp_large import shard_status

        n = shard_status().n_configs
    else:
        from hpo_kit.blackboxes.mnist_mlp_curves import load_table

        n = load_table(cost="wall").n_configs
    return rules.rows_within(values, "table_rows", n, f"benchmark {name!r}")
