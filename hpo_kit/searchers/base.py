"""A searcher decides *which configuration* to try next. It never decides budgets."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace


class Searcher(ABC):
    """Base class. Configurations travel as plain dicts (inactive hyperparameters absent).

    The scheduler tells the searcher about every job it starts (``on_pending``), every result
    (``on_result``, at any resource) and every failure (``on_failure``); model-based searchers use
    all three (pending jobs become fantasies in A-BOHB), random search ignores them.
    """

    def __init__(self, space: ConfigurationSpace, seed: int):
        self.space = space
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def suggest(self) -> dict[str, Any]:
        """A new configuration to start."""

    def on_pending(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        """A job for ``trial_id`` up to ``resource`` has started."""

    def on_result(self, trial_id: int, config: dict[str, Any], resource: int, loss: float) -> None:
        """``trial_id`` reached ``resource`` with validation ``loss``."""

    def on_failure(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        """The job of ``trial_id`` up to ``resource`` failed; forget it as pending."""

    def exhausted(self) -> bool:
        """True when the searcher has no configuration left to suggest (a candidate list used up
        with ``on_exhausted="stop"``); schedulers then start no new trials."""
        pool = getattr(self, "pool", None)
        return pool is not None and pool.exhausted

    def stops_when_exhausted(self) -> bool:
        """True when the searcher proposes from a finite list that ends the run once used up
        (``on_exhausted="stop"``): a scheduler over it ends by itself, with no trial limit."""
        pool = getattr(self, "pool", None)
        return pool is not None and pool.on_exhausted == "stop"

    def pop_notices(self) -> list[dict[str, Any]]:
        """Events worth logging since the last call (e.g. the candidate list ran out)."""
        pool = getattr(self, "pool", None)
        return pool.pop_notices() if pool is not None else []
