"""An exact simulator of ``n_workers`` parallel workers on a virtual clock.

Each job is evaluated in this process the moment it is submitted (tabular objectives answer in
microseconds), but it *occupies its worker* from the current virtual time until that time plus
the evaluation's reported ``cost``. ``wait_one`` jumps the clock to the earliest finishing job.
This reproduces what the same scheduler would do with real workers whose evaluations take exactly
``cost`` seconds, hours of tuning in seconds of CPU (the idea of Syne Tune's simulator backend).

Determinism: jobs go to the lowest-numbered free worker; jobs finishing at the same virtual time
come back in submission order; failures raised by the objective cost 0 virtual seconds; nothing
reads the wall clock. So the same seed gives the same run, byte for byte. The scheduler's own
decision time is not charged unless ``charge_decision_time=True``, which adds the time spent
between backend calls to the virtual clock (closer to reality, no longer deterministic).
``decision_clock`` says which time: ``"wall"`` (``time.perf_counter``, everything the host did
meanwhile) or ``"thread"`` (``time.thread_time``, the CPU time of the scheduler's own thread):
on a shared machine the wall time of a decision is inflated by other processes, the thread's CPU
time much less so (it still varies from run to run, so charged runs are not bit-reproducible).
"""
from __future__ import annotations

import heapq
import math
import time
from typing import Any

import numpy as np

from hpo_kit.backends.base import Backend, Finished, check_timeout
from hpo_kit.backends.sequential import evaluate_safely
from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Evaluation, Failure, Job


class SimulatorBackend(Backend):
    """``n_workers`` simulated workers; ``timeout`` (virtual seconds) fails longer evaluations."""

    #: the tuner logs only deterministic fields for backends that set this
    deterministic = True
    simulated = True

    DECISION_CLOCKS = {"wall": time.perf_counter, "thread": time.thread_time}

    def __init__(self, n_workers: int, charge_decision_time: bool = False, timeout: float | None = None,
                 decision_clock: str = "wall"):
        if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
            raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
        n_workers = int(n_workers)
        timeout = check_timeout(timeout)  # virtual seconds; NaN and inf refused
        if not isinstance(charge_decision_time, (bool, np.bool_)):
            # bool('no') is True: a string or number here is a mistake, not a choice
            raise ValueError(f"charge_decision_time must be True or False, got {charge_decision_time!r}")
        if decision_clock not in self.DECISION_CLOCKS:
            raise ValueError(f"decision_clock must be one of {list(self.DECISION_CLOCKS)}, got {decision_clock!r}")
        self.n_workers = n_workers
        self.decision_clock = decision_clock
        self._timer = self.DECISION_CLOCKS[decision_clock]
        self.charge_decision_time = bool(charge_decision_time)
        self.deterministic = not self.charge_decision_time
        self.timeout = timeout
        self._objective: Objective | None = None
        self._run_seed = 0
        self._reset()

    def _reset(self) -> None:
        self._clock = 0.0
        self._free = list(range(self.n_workers))        # heap of free worker ids
        self._events: list[tuple[float, int, Any]] = []  # heap of (finish time, submission no., Finished)
        self._submitted = 0
        self._mark = self._timer()

    def start(self, objective: Objective, run_seed: int) -> None:
        if getattr(objective, "has_costs", True) is False:
            raise ValueError(
                f"objective {type(objective).__name__} reports no evaluation costs (has_costs is False), "
                "but the simulator backend advances its clock by each evaluation's cost; give the "
                "objective costs (a tabular objective needs a finite epoch_time table) or use the "
                "sequential, local or dask backend"
            )
        self._objective = objective
        self._run_seed = run_seed
        self._reset()

    def _charge(self) -> None:
        if self.charge_decision_time:
            self._clock += self._timer() - self._mark

    def _schedule(self, job: Job, outcome: Evaluation | Failure) -> None:
        if not self._free:
            raise RuntimeError("all simulated workers are busy; call wait_one first (check free_workers)")
        worker = heapq.heappop(self._free)
        started = self._clock
        finished = started + outcome.cost
        heapq.heappush(self._events, (finished, self._submitted, Finished(job, outcome, started, finished, worker)))
        self._submitted += 1
        self._mark = self._timer()

    def submit(self, job: Job) -> None:
        if self._objective is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        self._charge()
        outcome = evaluate_safely(self._objective, job, self._run_seed, wall_clock_costs=False)
        cost = outcome.cost
        if not isinstance(cost, (int, float)) or isinstance(cost, bool) or not math.isfinite(cost) or cost < 0:
            raise ValueError(
                f"objective {type(self._objective).__name__} returned cost={cost!r} for trial {job.trial_id} "
                f"at resource {job.resource}; the simulator advances its clock by the cost, so every "
                "evaluation must report a finite cost >= 0 seconds (tabular objectives: epoch_time)"
            )
        if self.timeout is not None and cost > self.timeout:
            outcome = Failure(f"time-out: cost {cost} s > timeout {self.timeout} s", cost=float(self.timeout))
        self._schedule(job, outcome)

    def submit_replayed(self, job: Job, outcome: Evaluation | Failure) -> None:
        """Occupy a worker with a job whose outcome is already known (resuming from a run log)."""
        self._charge()
        self._schedule(job, outcome)

    def wait_one(self) -> Finished:
        if not self._events:
            raise RuntimeError("wait_one called while no job is running")
        self._charge()
        finished_at, _, finished = heapq.heappop(self._events)
        self._clock = max(self._clock, finished_at)
        heapq.heappush(self._free, finished.worker)
        self._mark = self._timer()
        return finished

    @property
    def free_workers(self) -> int:
        return len(self._free)

    def now(self) -> float:
        return self._clock
