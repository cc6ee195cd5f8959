"""FIFO: every trial runs once, straight to the full budget (random search, GP-EI)."""
from __future__ import annotations

from typing import Any

from hpo_kit.schedulers.base import Scheduler, TrialStatus
from hpo_kit.schedulers.hyperband import check_resources
from hpo_kit.searchers.base import Searcher
from hpo_kit.trial import Evaluation, Job


class FIFOScheduler(Scheduler):
    """Starts a new configuration whenever a worker is free; each job runs to ``max_resource``.

    ``max_trials`` bounds the number of configurations (``None``: until the tuner's stop criteria).
    ``min_resource`` is only validated: single-fidelity methods never use low fidelities.
    """

    def __init__(self, searcher: Searcher, min_resource: int, max_resource: int, max_trials: int | None = None):
        check_resources(min_resource, max_resource)
        if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1):
            raise ValueError(f"max_trials must be an integer >= 1 or None (no limit), got {max_trials!r}")
        super().__init__(searcher, min_resource, max_resource)
        self.max_trials = max_trials
        self._n_started = 0
        self._running = 0

    def _no_new_trials(self) -> bool:
        return (self.max_trials is not None and self._n_started >= self.max_trials) or self.searcher.exhausted()

    def next_job(self) -> Job | None:
        if self._no_new_trials():
            return None
        trial_id = self._n_started
        self._n_started += 1
        self._running += 1
        config = self.searcher.suggest()
        self.searcher.on_pending(trial_id, config, self.max_resource)
        return Job(trial_id, config, self.max_resource, 0)

    def on_result(self, job: Job, evaluation: Evaluation) -> TrialStatus:
        self._running -= 1
        self.searcher.on_result(job.trial_id, job.config, job.resource, evaluation.loss)
        return TrialStatus.COMPLETED

    def on_failure(self, job, failure) -> TrialStatus:
        self._running -= 1
        return super().on_failure(job, failure)

    def is_done(self) -> bool:
        return self._no_new_trials() and self._running == 0

    def is_finite(self) -> bool:
        return self.max_trials is not None or self.searcher.stops_when_exhausted()

    def describe(self) -> dict[str, Any]:
        return {"name": "fifo", "min_resource": self.min_resource, "max_resource": self.max_resource,
                "max_trials": self.max_trials}
