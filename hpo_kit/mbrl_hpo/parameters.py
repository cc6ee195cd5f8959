"""Rules between notebook 02's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

import math

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    problems = rules.not_empty(values, "tasks")
    problems += _known(values)
    problems += rules.ordered(values, "min_model_data", "model_window")
    problems += rules.ordered(values, "batch_episodes", "n_episodes")
    if values.get("delta_values") and "delta" in values and not min(values["delta_values"]) < values["delta"]:
        problems.append(f"delta_values = {values['delta_values']!r} must contain a value below delta = "
                        f"{values['delta']!r}: the delta claims compare delta with the smallest one; add a smaller "
                        "delta, or leave delta_values empty to skip the sweep")
    problems += _n_estimators_cap(values.get("max_n_estimators", 0))
    problems += _max_rows(values.get("max_rows", 0), values.get("tasks", []))
    return problems


def _max_rows(max_rows: int, tasks: list) -> list[str]:
    """A subsample at least as large as every task's data keeps every row: the parameter would do nothing."""
    from hpo_kit.tasks import TASKS, full_rows

    sizes = {t: full_rows(t) for t in tasks if t in TASKS}
    sized = {t: n for t, n in sizes.items() if n is not None}
    if not max_rows or not sized or len(sized) < len(sizes):
        return []  # no subsample, or a task whose size the kit does not know (MNIST subsets, CNN tasks)
    largest = max(sized, key=sized.get)
    if max_rows >= sized[largest]:
        return [f"max_rows = {max_rows} is at least the row count of every task (largest: {largest}, "
                f"{sized[largest]} rows), so it would keep every row; use a smaller value, or 0 for no subsample"]
    return []


def _n_estimators_cap(cap: int) -> list[str]:
    """A cap at or below n_estimators' lower bound trains every configuration for the same number of rounds
    (min(n, cap) = cap for every n in the range), so n_estimators would have no effect."""
    from hpo_kit.tasks.xgboost_task import XGB_BOUNDS

    lower = int(XGB_BOUNDS["n_estimators"][0])
    if cap and 0 < cap <= lower:
        return [f"max_n_estimators = {cap} is at or below n_estimators' lower bound {lower}: every configuration "
                f"would train min(n_estimators, {cap}) = {cap} rounds, so n_estimators would have no effect; use "
                f"> {lower} (e.g. 100), or 0 for no cap"]
    return []


def _known(values: dict) -> list[str]:
    """Task, order and baseline names must exist (checked before any data is loaded)."""
    problems = []
    from hpo_kit.mbrl_hpo.experiment import BASELINES
    from hpo_kit.mbrl_hpo.searcher import GENERIC_ORDERS, XGB_ORDERS

    from hpo_kit.tasks import TASKS

    bad = [t for t in values.get("tasks", []) if t not in TASKS]
    if bad:
        problems.append(f"tasks {bad} are not in the task registry; allowed: {sorted(TASKS)}")
    bad = [t for t in values.get("suite_tasks", []) if t not in TASKS]
    if bad:
        problems.append(f"suite_tasks {bad} are not in the task registry; allowed: {sorted(TASKS)}")
    both = sorted(set(values.get("tasks", [])) & set(values.get("suite_tasks", [])))
    if both:
        problems.append(f"suite_tasks repeats {both} from tasks: a task of the experiments already counts in the "
                        "headline row; remove it from one of the two lists")
    bad = [o for o in values.get("orders", []) if o not in (*XGB_ORDERS, *GENERIC_ORDERS)]
    if bad:
        problems.append(f"orders {bad} are unknown; allowed: {[*XGB_ORDERS, *GENERIC_ORDERS]}")
    bad = [b for b in values.get("baselines", []) if b not in BASELINES]
    if bad:
        problems.append(f"baselines {bad} are unknown; allowed: {list(BASELINES)}")
    for name in ("delta", *[f"delta_values[{i}]" for i in range(len(values.get("delta_values", [])))]):
        v = values.get("delta") if name == "delta" else values["delta_values"][int(name[13:-1])]
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            problems.append(f"{name} = {v!r} must be a number > 0 (unbounded model use is the 'unbounded' switch)")
    return problems
