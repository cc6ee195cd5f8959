"""A backend decides *where* jobs run: in process, in worker processes, on Dask, or on a simulated clock."""
from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass

from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Evaluation, Failure, Job


def check_n_workers(n_workers) -> int:
    """``n_workers`` as an int (numpy integers accepted), or a ValueError naming the rule."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    return int(n_workers)


def check_timeout(timeout) -> float | None:
    """``timeout`` as a float, or None; NaN and inf are refused here (they would busy-spin or never fire)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise ValueError(f"timeout must be a finite number of seconds > 0, or None for no time-out; got {timeout!r}")
    return float(timeout)


@dataclass(frozen=True)
class Finished:
    """A job that came back, when (backend clock, seconds since start) and on which worker."""

    job: Job
    outcome: Evaluation | Failure
    started_at: float
    finished_at: float
    worker: int


class Backend(ABC):
    n_workers: int
    #: True when the same jobs always finish in the same order at the same (virtual) times: the run
    #: log then holds only deterministic fields and is byte-identical across runs (the simulator).
    deterministic: bool = False
    #: True for backends whose evaluations are replayed, not run (the simulator): their logs are cheap to
    #: redo, so the tuner does not force each line to disk (see :mod:`hpo_kit.runlog`)
    simulated: bool = False

    @abstractmethod
    def start(self, objective: Objective, run_seed: int) -> None:
        """Prepare workers; the objective is shipped to them once, not with every job."""

    @abstractmethod
    def submit(self, job: Job) -> None:
        """Start ``job`` on a free worker (callers check ``free_workers`` first)."""

    @abstractmethod
    def wait_one(self) -> Finished:
        """Block until the next job finishes (the earliest on the virtual clock for the simulator)."""

    @property
    @abstractmethod
    def free_workers(self) -> int: ...

    @abstractmethod
    def now(self) -> float:
        """Seconds since ``start``: wall clock, or the virtual clock of the simulator."""

    def close(self) -> None:
        """Release workers."""
