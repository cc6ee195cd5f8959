"""A scheduler decides *budgets*: which trial runs next to which resource, and which stop.

It asks its searcher for new configurations; it never knows where jobs run.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum

from hpo_kit.searchers.base import Searcher
from hpo_kit.trial import Evaluation, Failure, Job


class TrialStatus(str, Enum):
    """What happens to a trial after a result; the tuner logs it."""

    CONTINUE = "continue"    # the scheduler will hand out its next job right away (stopping variant)
    PAUSED = "paused"        # waits at its rung, may be promoted later (promotion variant, sync SH)
    STOPPED = "stopped"      # will never run again
    COMPLETED = "completed"  # reached the maximum resource


class Scheduler(ABC):
    def __init__(self, searcher: Searcher, min_resource: int, max_resource: int):
        self.searcher = searcher
        self.min_resource = min_resource
        self.max_resource = max_resource

    @abstractmethod
    def next_job(self) -> Job | None:
        """The next job for a free worker, or None when nothing may start until a result arrives."""

    @abstractmethod
    def on_result(self, job: Job, evaluation: Evaluation) -> TrialStatus:
        """Record a finished job and say what becomes of its trial."""

    def on_failure(self, job: Job, failure: Failure) -> TrialStatus:
        """A failed job ends its trial by default."""
        self.searcher.on_failure(job.trial_id, job.config, job.resource)
        return TrialStatus.STOPPED

    def is_done(self) -> bool:
        """True when the scheduler will never hand out another job (e.g. all brackets finished)."""
        return False

    def is_finite(self) -> bool:
        """True when the scheduler ends by itself (a run needs no stop criterion)."""
        return False

    def pop_decisions(self) -> list[tuple[int, TrialStatus]]:
        """Decisions about *other* trials taken while handling the last result (e.g. the losers of a
        synchronous successive-halving rung), for the tuner to log."""
        return []

    def pop_notices(self) -> list[dict]:
        """Events for the run log that are not about one job (the searcher ran out of candidates)."""
        return self.searcher.pop_notices()

    def describe(self) -> dict:
        """What the run log's header records about this scheduler."""
        return {"name": type(self).__name__}
