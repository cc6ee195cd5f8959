"""A backend of your own: a pool of threads in this process.

A backend decides *where* jobs run. It subclasses :class:`hpo_kit.backends.base.Backend` and
implements ``start``, ``submit``, ``wait_one``, ``free_workers`` and ``now`` (``close`` to clean
up). The tuner fills free workers with the scheduler's jobs, waits for the next one to finish and
hands its outcome back to the scheduler; a backend never decides what runs.

Threads suit objectives that mostly *wait*: a training job on a remote machine or a GPU, a
subprocess, a web service. Python code that computes holds the GIL, so it does not get faster on
threads; use the kit's ``local`` (processes) or ``dask`` backends for that.

``python docs/examples/custom_backend.py`` runs 12 evaluations that each wait a fraction of a
second, on 4 threads and on the kit's sequential backend, and prints both wall times.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import heapq
import math
import tempfile
import time

from hpo_kit.backends.base import Backend, Finished, check_n_workers
from hpo_kit.backends.sequential import evaluate_safely
from hpo_kit.trial import Job


class ThreadPoolBackend(Backend):
    """``n_workers`` threads; each job is evaluated by :func:`evaluate_safely`, which turns an
    exception or a NaN loss into a :class:`~hpo_kit.trial.Failure` so that one bad configuration
    never ends the run. No time-out: a thread cannot be stopped from outside (the ``local``
    backend's processes can)."""

    def __init__(self, n_workers: int):
        self.n_workers = check_n_workers(n_workers)
        self._pool: cf.ThreadPoolExecutor | None = None
        self._running: dict[cf.Future, tuple[int, Job, float, int]] = {}   # future -> (order, job, start, worker)
        self._free: list[int] = []
        self._t0 = time.perf_counter()

    def start(self, objective, run_seed: int) -> None:
        self._objective, self._run_seed = objective, run_seed
        self._pool = cf.ThreadPoolExecutor(self.n_workers, thread_name_prefix="hpo-worker")
        self._free = list(range(self.n_workers))     # lowest free worker first: a readable log
        self._submitted = 0
        self._t0 = time.perf_counter()

    def submit(self, job: Job) -> None:
        if self._pool is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        if not self._free:
            raise RuntimeError("all workers are busy; call wait_one first (the tuner checks free_workers)")
        worker = heapq.heappop(self._free)
        future = self._pool.submit(evaluate_safely, self._objective, job, self._run_seed)
        self._running[future] = (self._submitted, job, self.now(), worker)
        self._submitted += 1

    def wait_one(self) -> Finished:
        if not self._running:
            raise RuntimeError("wait_one called while no job is running")
        done, _ = cf.wait(self._running, return_when=cf.FIRST_COMPLETED)
        future = min(done, key=lambda f: self._running[f][0])   # several done: the one submitted first
        _, job, started, worker = self._running.pop(future)
        heapq.heappush(self._free, worker)
        return Finished(job, future.result(), started, self.now(), worker)

    @property
    def free_workers(self) -> int:
        return len(self._free)

    def now(self) -> float:
        return time.perf_counter() - self._t0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()


class WaitingBranin:
    """Branin whose evaluation *waits* ``seconds_per_unit`` times Branin's cost units, as if the
    training ran elsewhere (the stand-in for a remote job; the loss is the real Branin value)."""

    def __init__(self, seconds_per_unit: float = 0.01):
        from hpo_kit.objectives.synthetic import BraninMF

        self._branin = BraninMF(max_resource=9)
        self.space, self.min_resource, self.max_resource = self._branin.space, 1, 9
        self.seconds_per_unit = seconds_per_unit

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        evaluation = self._branin.evaluate(config, resource, seed, previous_resource=previous_resource)
        seconds = self.seconds_per_unit * evaluation.cost
        time.sleep(seconds)
        return dataclasses.replace(evaluation, cost=seconds)   # cost: the seconds this call took


def compare(n_trials: int = 12, n_workers: int = 4, seed: int = 0):
    """(thread-pool result, sequential result) of random search on :class:`WaitingBranin`."""
    from hpo_kit.backends.sequential import SequentialBackend
    from hpo_kit.schedulers.fifo import FIFOScheduler
    from hpo_kit.searchers.random_search import RandomSearcher
    from hpo_kit.tuner import run_hpo

    objective = WaitingBranin()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name, backend in (("threads", ThreadPoolBackend(n_workers)), ("sequential", SequentialBackend())):
            scheduler = FIFOScheduler(RandomSearcher(objective.space, seed), 1, 9, max_trials=n_trials)
            results.append(run_hpo(objective, scheduler, backend, f"{folder}/{name}", seed=seed, progress=False))
    return tuple(results)


if __name__ == "__main__":
    threads, sequential = compare()
    assert math.isclose(threads.best_loss, sequential.best_loss), "a backend changes where jobs run, not what"
    print(f"4 threads: {threads.elapsed:.2f} s, sequential: {sequential.elapsed:.2f} s wall; "
          f"same best loss {threads.best_loss:.3f}")
