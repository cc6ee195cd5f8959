"""The small vocabulary every part of the HPO engine speaks.

A *trial* is one configuration followed over increasing resource (epochs). A *job* asks a backend
to bring one trial from the resource it already has to a larger one. An *evaluation* is what the
objective reports back. Schedulers, searchers and backends only exchange these objects, which is
what keeps them swappable (the Syne Tune separation).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Job:
    """Run ``trial_id`` with ``config`` until ``resource`` (it already has ``previous_resource``)."""

    trial_id: int
    config: dict[str, Any]
    resource: int
    previous_resource: int = 0
    #: bookkeeping for the scheduler that issued the job (bracket and rung index), logged as is
    bracket: int = 0
    rung: int = 0


@dataclass(frozen=True)
class Evaluation:
    """The objective's answer for one job.

    ``loss`` is the validation loss at ``resource`` (lower is better); ``cost`` the seconds this call
    spent, which for a continued trial covers only the extra resource; ``curve`` the loss after each
    unit of resource 1..resource when the objective knows it; ``info`` free extras (test error, ...).
    """

    loss: float
    cost: float
    curve: tuple[float, ...] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        loss = as_real(self.loss)
        return loss is not None and math.isfinite(loss)


@dataclass(frozen=True)
class Failure:
    """An evaluation that raised, returned NaN/inf or exceeded its time-out."""

    reason: str
    cost: float = 0.0


def as_real(value: Any) -> float | None:
    """``value`` as a float when it is a real number (numpy scalars included), else None.

    Booleans are not numbers here: ``True`` as a loss is a bug in the objective, not a loss of 1.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real):
        return None
    return float(value)


def trial_seed(run_seed: int, trial_id: int) -> int:
    """Seed of one trial's evaluations, derived from the run seed only (same on every backend)."""
    return (run_seed * 1_000_003 + trial_id * 7919) % (2**31 - 1)
