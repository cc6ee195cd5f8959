"""What a task is: a search space, an objective for the kit's engine, a held-out test score.

A :class:`Task` bundles everything an HPO experiment on real data needs::

    task.name: str                       # registry name, e.g. "xgb_digits"
    task.seed: int                       # seed of the train / validation / test split
    task.space: ConfigurationSpace       # the search space
    task.hp_order: tuple[str, ...]       # hyperparameter names in the paper's order (the space's
                                         # own order is ConfigSpace's, i.e. alphabetical)
    task.objective                       # hpo_kit.objectives.base.Objective: evaluate(config,
                                         # resource, seed, *, trial_id=None, previous_resource=0)
                                         # -> Evaluation(loss = 1 - validation accuracy, ...)
    task.fidelity: Fidelity              # (name, min, max, description) = the objective's resources
    task.default_config() -> dict        # the default configuration, inside the space
    task.library_default_config() -> dict  # the library's own defaults (XGBoost: some outside the space)
    task.test_score(config, seed=0) -> float   # held-out test accuracy (see below)
    task.description: str                # one paragraph: data, split, caps, fidelity
    task.data: dict                      # data identity (name, source, checksum, sizes) - no paths
    task.options: dict                   # the options the task was built with (after defaults)

``test_score(config, seed)``: the model is trained on the **training split only** at the full
fidelity (``fidelity.max``), with evaluation seed ``seed``, and its accuracy on the test split is
returned. It is exactly the model whose validation accuracy the searcher saw at full fidelity
(same data, same seed), so validation and test numbers describe one model; no refit on
train + validation (that would change the model the validation score belongs to).
"""
from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field
from typing import Any

from ConfigSpace import ConfigurationSpace

from hpo_kit import validation


@dataclass(frozen=True)
class Fidelity:
    """The resource axis of a task's objective: integers ``min..max`` of ``name``."""

    name: str  # e.g. "train_fraction_27ths" or "epochs"
    min: int
    max: int
    description: str = ""  # what one unit means


@dataclass
class Task:
    """A named HPO task (built by :func:`hpo_kit.tasks.get_task`)."""

    name: str
    seed: int
    space: ConfigurationSpace
    objective: Any
    fidelity: Fidelity
    hp_order: tuple[str, ...]
    description: str
    data: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    _default: dict[str, Any] = field(default_factory=dict, repr=False)
    _library_default: dict[str, Any] | None = field(default=None, repr=False)

    def default_config(self) -> dict[str, Any]:
        """The default configuration, a point of ``space`` (see the task family's module for its origin)."""
        return dict(self._default)

    def library_default_config(self) -> dict[str, Any]:
        """The library's own defaults, possibly outside ``space`` (XGBoost); else :meth:`default_config`."""
        return dict(self._library_default if self._library_default is not None else self._default)

    def test_score(self, config: dict[str, Any], seed: int = 0) -> float:
        """Test accuracy of ``config`` trained on the training split at full fidelity (module doc)."""
        evaluation = self.objective.evaluate(dict(config), self.fidelity.max, int(seed))
        return 1.0 - float(evaluation.info["test_error"])

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary (for run headers and notebooks)."""
        options = {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in self.options.items()}
        return {"name": self.name, "seed": self.seed, "fidelity": dict(vars(self.fidelity)),
                "hp_order": list(self.hp_order), "description": self.description, "data": dict(self.data),
                "options": options}


def check_options(task: str, options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``options``; an unknown option name is a ValueError naming it."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"task {task!r} does not take option(s) {unknown}; allowed: {sorted(defaults)}")
    return {**defaults, **options}


def check_int(task: str, name: str, value: Any, minimum: int, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as an int in ``[minimum, maximum]`` or a ValueError naming the option."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum \
            or (maximum is not None and value > maximum):
        allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
        raise ValueError(f"task {task!r}: option {name} must be {allowed}{' or None' if allow_none else ''}, "
                         f"got {value!r}")
    return int(value)


def check_choice(task: str, name: str, value: Any, allowed: tuple[Any, ...]) -> Any:
    if value not in allowed:
        raise ValueError(f"task {task!r}: option {name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_seed(seed: Any) -> int:
    return validation.check_int("seed", seed, 0)
