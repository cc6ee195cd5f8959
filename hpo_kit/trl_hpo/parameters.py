"""Rules between notebook 01's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules


def check(values: dict) -> list[str]:
    # The search subset and the final retraining both draw their validation images from the same
    # training set as their training images.
    return (rules.images_fit(values, ["n_train", "n_val"], "n_test")
            + rules.images_fit(values, ["n_train_final", "n_val"])
            + rules.not_empty(values, "methods")
            + _no_repeats(values, "methods")
            + _learning_starts_reachable(values))


def _no_repeats(values: dict, name: str) -> list[str]:
    seen = values.get(name, [])
    repeated = sorted({m for m in seen if seen.count(m) > 1})
    return [f"{name} lists {repeated} more than once; list each method once"] if repeated else []


def _learning_starts_reachable(values: dict) -> list[str]:
    """TRL-HPO updates its critic once the replay buffer holds ``learning_starts`` transitions.

    The buffer never holds more than ``buffer_size`` transitions, and a run makes at most
    ``max_episodes * max_layers`` steps (one transition each). Above either, the critic is never
    updated: TRL-HPO would search with its random initial networks and the attention claim would read
    an untrained critic. (Reachable is not the same as reached: short episodes or the time budget can
    still stop a run before; the attention claim then says "not measured".)
    """
    if not any(m.startswith("trl_hpo") for m in values.get("methods", [])):
        return []
    needed = ("learning_starts", "buffer_size", "max_episodes", "max_layers")
    if any(values.get(k) is None for k in needed):
        return []
    start, buffer = int(values["learning_starts"]), int(values["buffer_size"])
    steps = int(values["max_episodes"]) * int(values["max_layers"])
    problems = []
    if start > buffer:
        problems.append(f"learning_starts = {start:,} is above buffer_size = {buffer:,}: the replay buffer never "
                        f"holds that many transitions, so TRL-HPO's critic would never be updated; "
                        f"use learning_starts <= buffer_size")
    if start > steps:
        problems.append(f"learning_starts = {start:,} is above max_episodes * max_layers = "
                        f"{values['max_episodes']:,} * {values['max_layers']} = {steps:,}, the most transitions a run "
                        f"can collect, so TRL-HPO's critic would never be updated; use learning_starts <= {steps:,}")
    return problems
