"""Resuming a killed run: give the logged results back instead of running them again.

How resume works (see :func:`hpo_kit.tuner.run_hpo`): the scheduler and searcher are rebuilt from
the seed and the tuner runs its usual loop, but through this wrapper. Every job whose result (or
failure) is in the log is *not* run: ``wait_one`` hands back the logged outcomes in the logged
completion order. The decision logic is deterministic given that order, so it re-issues exactly the
logged jobs and re-takes exactly the logged decisions, ending in the state the killed run had.
Jobs that were running when the run was killed have no logged outcome: they go to the real backend
and run again. Once the logged outcomes are used up the wrapper simply passes through.

With the simulator the wrapper gives the known outcomes to the simulator itself
(``submit_replayed``): the simulated workers are occupied exactly as before, so the virtual clock,
worker ids and the order of later events are those of an uninterrupted run, byte for byte. With
wall-clock backends the logged times are reported during the replay and the clock then continues
from the last logged time; worker ids of re-run jobs may differ from a run that was never killed.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from hpo_kit.backends.base import Backend, Finished
from hpo_kit.objectives.base import Objective
from hpo_kit.runlog import ResumeMismatch, finished_from_record
from hpo_kit.trial import Job


class ReplayBackend(Backend):
    """Wrap ``inner``; ``completions`` are the logged result/failure records in logged order."""

    def __init__(self, inner: Backend, completions: list[dict[str, Any]], resume_time: float = 0.0,
                 source: str = "the log"):
        self.inner = inner
        self.n_workers = inner.n_workers
        self.deterministic = getattr(inner, "deterministic", False)
        self.simulated = getattr(inner, "simulated", False)
        # The simulator can rebuild its exact state from known outcomes.
        self._rebuild_inner = hasattr(inner, "submit_replayed")
        self._records: dict[tuple[int, int], dict[str, Any]] = {}
        for record in completions:
            key = (record["trial_id"], record["resource"])
            if key in self._records:
                raise ValueError(
                    f"{source} holds two outcomes for trial {key[0]} at resource {key[1]}: it is damaged "
                    "(two runs wrote to one folder before runs were locked, or the file was edited). "
                    "Start over with resume=False or use another run_dir."
                )
            self._records[key] = record
        self._order = deque((r["trial_id"], r["resource"]) for r in completions)
        self.n_logged = len(completions)   # outcomes that will be handed back instead of run
        self._held: dict[tuple[int, int], tuple[Job, dict[str, Any]]] = {}
        self._resume_time = resume_time
        self._last_time = 0.0

    @property
    def replaying(self) -> bool:
        """True while logged outcomes remain to be handed back."""
        return bool(self._order)

    def start(self, objective: Objective, run_seed: int) -> None:
        """Start the real backend (the tuner starts it itself before wrapping it)."""
        self.inner.start(objective, run_seed)

    def submit(self, job: Job) -> None:
        record = self._records.pop((job.trial_id, job.resource), None)
        if record is None:
            self.inner.submit(job)          # never finished before the kill: run it for real
        elif self._rebuild_inner:
            self.inner.submit_replayed(job, finished_from_record(record, job).outcome)
        else:
            self._held[(job.trial_id, job.resource)] = (job, record)

    def wait_one(self) -> Finished:
        if self._order:
            key = self._order.popleft()
            if self._rebuild_inner:
                finished = self.inner.wait_one()
                if (finished.job.trial_id, finished.job.resource) != key:
                    raise ResumeMismatch(
                        f"resuming: the log says trial {key[0]} finished resource {key[1]} next, but the "
                        f"replayed run finished trial {finished.job.trial_id} at {finished.job.resource} first; "
                        "the run was started with other settings"
                    )
                return finished
            if key not in self._held:
                raise ResumeMismatch(
                    f"resuming: the log has a result of trial {key[0]} at resource {key[1]}, but the replayed "
                    "run did not issue that job before waiting for it; the run was started with other settings"
                )
            job, record = self._held.pop(key)
            finished = finished_from_record(record, job)
            self._last_time = finished.finished_at
            return finished
        finished = self.inner.wait_one()
        if self._rebuild_inner:
            return finished
        shift = self._resume_time
        return Finished(finished.job, finished.outcome, finished.started_at + shift, finished.finished_at + shift,
                        finished.worker)

    @property
    def free_workers(self) -> int:
        return self.inner.free_workers - len(self._held)

    def now(self) -> float:
        if self._rebuild_inner:
            return self.inner.now()
        if self._order:
            return self._last_time
        return self._resume_time + self.inner.now()

    def close(self) -> None:
        self.inner.close()
