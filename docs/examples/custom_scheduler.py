"""A scheduler of your own: the median stopping rule (Golovin et al. 2017, "Google Vizier", KDD).

A scheduler decides *when to stop or promote*: which trial runs next, up to which resource, and
what becomes of a trial after each result. It subclasses :class:`hpo_kit.schedulers.base.Scheduler`,
asks its searcher for new configurations and never knows where jobs run.

The rule: every trial trains in steps of ``step`` epochs. After each step from ``grace_period`` on,
it stops if its best loss so far is worse than the median of the best losses the other trials had
at the same epoch (once ``min_samples`` of them reached it); otherwise it continues at once.

``python docs/examples/custom_scheduler.py`` runs it and FIFO (every trial to the full budget) on
the same 40 random configurations of the multi-fidelity Branin function and prints what each
found and how many epochs it spent.
"""
from __future__ import annotations

import math
import statistics
import tempfile
from collections import deque
from typing import Any

from hpo_kit.schedulers.base import Scheduler, TrialStatus
from hpo_kit.trial import Evaluation, Failure, Job


class MedianStopping(Scheduler):
    """The median stopping rule; ``max_trials`` configurations in all (None: until the stop criteria)."""

    def __init__(self, searcher, min_resource: int, max_resource: int, step: int = 3, grace_period: int = 3,
                 min_samples: int = 3, max_trials: int | None = None):
        for name, value in (("step", step), ("grace_period", grace_period), ("min_samples", min_samples)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1):
            raise ValueError(f"max_trials must be an integer >= 1 or None (no limit), got {max_trials!r}")
        super().__init__(searcher, min_resource, max_resource)
        self.step, self.grace_period, self.min_samples, self.max_trials = step, grace_period, min_samples, max_trials
        self._continuations: deque[Job] = deque()   # trials that go on: handed out before new ones
        self._best_at: dict[int, dict[int, float]] = {}   # epoch -> {trial_id: best loss so far}
        self._best: dict[int, float] = {}                  # trial_id -> best loss so far
        self._n_started = 0
        self._running = 0

    def _next_resource(self, resource: int) -> int:
        return min(resource + self.step, self.max_resource)

    def _no_new_trials(self) -> bool:
        return (self.max_trials is not None and self._n_started >= self.max_trials) or self.searcher.exhausted()

    def next_job(self) -> Job | None:
        if self._continuations:
            job = self._continuations.popleft()
        elif self._no_new_trials():
            return None
        else:
            first = min(max(self.step, self.min_resource), self.max_resource)   # epochs step, 2 step, ...
            job = Job(self._n_started, self.searcher.suggest(), first)
            self._n_started += 1
        self._running += 1
        self.searcher.on_pending(job.trial_id, job.config, job.resource)   # model-based searchers use it
        return job

    def on_result(self, job: Job, evaluation: Evaluation) -> TrialStatus:
        self._running -= 1
        self.searcher.on_result(job.trial_id, job.config, job.resource, evaluation.loss)
        best = min(self._best.get(job.trial_id, math.inf), evaluation.loss)
        self._best[job.trial_id] = best
        at_epoch = self._best_at.setdefault(job.resource, {})
        others = list(at_epoch.values())     # before this trial's own entry: "the other trials"
        at_epoch[job.trial_id] = best
        if job.resource >= self.max_resource:
            return TrialStatus.COMPLETED
        if job.resource >= self.grace_period and len(others) >= self.min_samples \
                and best > statistics.median(others):
            return TrialStatus.STOPPED
        self._continuations.append(Job(job.trial_id, job.config, self._next_resource(job.resource), job.resource,
                                       rung=job.rung + 1))
        return TrialStatus.CONTINUE

    def on_failure(self, job: Job, failure: Failure) -> TrialStatus:
        self._running -= 1
        return super().on_failure(job, failure)   # tells the searcher, ends the trial

    def is_done(self) -> bool:
        return self._no_new_trials() and self._running == 0 and not self._continuations

    def is_finite(self) -> bool:
        return self.max_trials is not None

    def describe(self) -> dict[str, Any]:
        return {"name": "median_stopping", "min_resource": self.min_resource, "max_resource": self.max_resource,
                "step": self.step, "grace_period": self.grace_period, "min_samples": self.min_samples,
                "max_trials": self.max_trials}


def compare(seed: int = 0, n_trials: int = 40):
    """(median stopping's result, FIFO's result) on the same ``n_trials`` random Branin configurations."""
    from hpo_kit.backends.simulator import SimulatorBackend
    from hpo_kit.objectives.synthetic import BraninMF
    from hpo_kit.schedulers.fifo import FIFOScheduler
    from hpo_kit.searchers.random_search import RandomSearcher
    from hpo_kit.tuner import run_hpo

    objective = BraninMF(max_resource=27)
    # random search ignores results, so both schedulers see the same configurations in the same order
    median = MedianStopping(RandomSearcher(objective.space, seed), 1, 27, max_trials=n_trials)
    fifo = FIFOScheduler(RandomSearcher(objective.space, seed), 1, 27, max_trials=n_trials)
    with tempfile.TemporaryDirectory() as folder:
        return tuple(run_hpo(objective, scheduler, SimulatorBackend(n_workers=4), f"{folder}/{name}", seed=seed,
                             progress=False)
                     for name, scheduler in (("median", median), ("fifo", fifo)))


if __name__ == "__main__":
    for name, result in zip(("median stopping", "FIFO"), compare()):
        print(f"{name:>15}: best loss {result.best_loss:.3f} (optimum 0.398), {result.total_resource:.0f} epochs, "
              f"{result.elapsed:.0f} simulated seconds")
