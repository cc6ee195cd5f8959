"""When a tuning run ends: a budget of time, of evaluations or of total resource (epochs)."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


def _check_limit(name: str, value, integer: bool):
    """The limit as a plain int/float (numpy scalars accepted); NaN and inf are refused up front:
    ``elapsed >= nan`` is never true, so such a limit would silently mean "no limit"."""
    if value is None:
        return None
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value <= 0:
        what = "an integer" if integer else "a finite number"
        raise ValueError(f"{name} must be {what} > 0, or None for no limit; got {value!r}")
    return int(value) if integer else float(value)


@dataclass(frozen=True)
class StopCriteria:
    """The run stops as soon as any limit is reached (checked after every finished job).

    Jobs still running at that moment are abandoned (their ``start`` line has no result). A run
    also ends when the scheduler has nothing left to run (e.g. all Hyperband iterations done).
    """

    max_time: float | None = None          # seconds on the backend clock: wall time, or simulated time
    max_evaluations: int | None = None     # finished jobs (results + failures); each rung result counts once
    max_total_resource: float | None = None  # epochs spent: sum of (resource - previous_resource) of finished jobs

    def __post_init__(self) -> None:
        for name, integer in (("max_time", False), ("max_evaluations", True), ("max_total_resource", False)):
            object.__setattr__(self, name, _check_limit(name, getattr(self, name), integer))

    @property
    def is_bounded(self) -> bool:
        return any(v is not None for v in (self.max_time, self.max_evaluations, self.max_total_resource))

    def reason_to_stop(self, elapsed: float, n_evaluations: int, total_resource: float) -> str | None:
        """The name of the first limit reached, or None to go on."""
        if self.max_time is not None and elapsed >= self.max_time:
            return "max_time"
        if self.max_evaluations is not None and n_evaluations >= self.max_evaluations:
            return "max_evaluations"
        if self.max_total_resource is not None and total_resource >= self.max_total_resource:
            return "max_total_resource"
        return None
