"""Parallel workers through a ``concurrent.futures`` executor: worker processes on this machine.

:class:`ExecutorBackend` holds the logic shared with :class:`~hpo_kit.backends.dask_backend.DaskBackend`
(Dask's ``Client.get_executor()`` is a ``concurrent.futures.Executor`` too): submit a job, wait for
the first one to finish, turn errors and time-outs into :class:`~hpo_kit.trial.Failure`.

:class:`LocalProcessBackend` uses a ``ProcessPoolExecutor`` with the "spawn" (default) or
"forkserver" start method ("fork" is refused: forking a process that already runs torch or Dask
threads can deadlock). The objective is pickled once and handed to each worker by the pool's
initializer, which also limits every worker to one torch/OpenMP thread (parallelism comes from
running trials side by side; see ``hpo_kit/train/threads.py``). Objectives must therefore be
picklable *and importable* in a fresh process: a class defined in a notebook cell is not, and a
script using this backend must run under ``if __name__ == "__main__":`` (spawn re-imports it).
Starting a pool costs a second or more per worker (each imports ConfigSpace, torch, ...), paid once
in ``start`` (the workers are warmed up there, so start-up never counts against a time-out).

Start methods: "spawn" is the portable default (each worker is a fresh interpreter). With
"forkserver" (Linux, macOS) a server process imports the kit and the objective's module once and
workers fork from it, so pools start, and are recycled after a time-out, several times faster.

Time-outs: a running call in a ``ProcessPoolExecutor`` cannot be cancelled (Python < 3.14 has no
way to stop one worker), so when a job exceeds ``timeout`` the job is marked failed and the whole
pool is *recycled*: its processes are terminated and a fresh pool starts. The other jobs that were
running on the old pool are submitted again to the new one and start over (their earlier progress
is lost; live-training objectives that checkpoint per epoch lose less). If a worker process dies
(e.g. killed for lack of memory) the pool breaks and every job running on it is marked failed.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from hpo_kit.backends.base import Backend, Finished
from hpo_kit.backends.sequential import evaluate_safely
from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Evaluation, Failure, Job

START_METHODS = ("spawn", "forkserver")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def check_n_workers(n_workers) -> None:
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")


def check_timeout(timeout) -> None:
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")


def limit_threads_in_this_process() -> None:
    """One OpenMP/torch thread: the env variables reach torch if it is imported later, the call if not."""
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


# -- what runs inside a worker process ---------------------------------------------------------
_worker_objective: Objective | None = None
_worker_run_seed = 0


def _init_worker(objective_bytes: bytes, run_seed: int) -> None:
    """Pool initializer: limit threads *before* unpickling (which may import torch), keep the objective."""
    global _worker_objective, _worker_run_seed
    limit_threads_in_this_process()
    _worker_objective = pickle.loads(objective_bytes)
    _worker_run_seed = run_seed
    limit_threads_in_this_process()


def _run_job_in_worker(job: Job) -> Evaluation | Failure:
    return evaluate_safely(_worker_objective, job, _worker_run_seed)


def _ping() -> int:
    time.sleep(0.05)  # keeps this worker busy so the next ping goes to another one
    return os.getpid()


# -- shared executor logic ----------------------------------------------------------------------
@dataclass
class _Running:
    job: Job
    worker: int        # slot 0..n_workers-1 (a logical worker id, the same on every backend)
    started: float
    order: int         # submission number: breaks ties between jobs done at the same moment
    generation: int    # which pool ran it (LocalProcessBackend replaces a broken pool)


class ExecutorBackend(Backend):
    """Jobs run on a ``concurrent.futures.Executor`` made by the subclass (``_submit_call``)."""

    deterministic = False

    def __init__(self, n_workers: int, timeout: float | None = None):
        check_n_workers(n_workers)
        check_timeout(timeout)
        self.n_workers = n_workers
        self.timeout = timeout
        self._running: dict[cf.Future, _Running] = {}
        self._free_slots = list(range(n_workers))
        self._submitted = 0
        self._generation = 0
        self._t0 = time.perf_counter()

    # subclass hooks
    def _submit_call(self, job: Job) -> cf.Future:
        raise NotImplementedError

    def _handle_timeout(self, future: cf.Future) -> None:
        """Make the timed-out call stop occupying a worker, if the executor allows it."""
        future.cancel()

    def _note_error(self, error: BaseException, record: _Running) -> None:
        """Called when a future raised (not the objective: infrastructure errors)."""

    def now(self) -> float:
        return time.perf_counter() - self._t0

    @property
    def free_workers(self) -> int:
        return self.n_workers - len(self._running)

    def submit(self, job: Job) -> None:
        if not self._free_slots:
            raise RuntimeError(f"all {self.n_workers} workers are busy; call wait_one first (check free_workers)")
        self._free_slots.sort()
        slot = self._free_slots.pop(0)
        future = self._submit_call(job)
        self._running[future] = _Running(job, slot, self.now(), self._submitted, self._generation)
        self._submitted += 1

    def _finish(self, future: cf.Future, outcome: Evaluation | Failure | None = None) -> Finished:
        record = self._running.pop(future)
        self._free_slots.append(record.worker)
        if outcome is None:
            try:
                outcome = future.result()
            except BaseException as error:  # noqa: BLE001 - infrastructure failure of one job
                self._note_error(error, record)
                outcome = Failure(f"worker error: {type(error).__name__}: {error}", cost=self.now() - record.started)
        return Finished(record.job, outcome, record.started, self.now(), record.worker)

    def wait_one(self) -> Finished:
        if not self._running:
            raise RuntimeError("wait_one called while no job is running")
        while True:
            done = [f for f in self._running if f.done()]
            if done:
                return self._finish(min(done, key=lambda f: self._running[f].order))
            wait_for = None
            if self.timeout is not None:
                first_deadline = min(r.started for r in self._running.values()) + self.timeout
                wait_for = max(0.0, first_deadline - self.now())
            cf.wait(list(self._running), timeout=wait_for, return_when=cf.FIRST_COMPLETED)
            if self.timeout is not None and not any(f.done() for f in self._running):
                expired = [f for f, r in self._running.items() if self.now() - r.started >= self.timeout]
                if expired:
                    future = min(expired, key=lambda f: self._running[f].order)
                    record = self._running[future]
                    elapsed = self.now() - record.started
                    finished = self._finish(future, Failure(f"time-out: ran {elapsed:.1f} s > timeout {self.timeout} s",
                                                            cost=elapsed))
                    self._handle_timeout(future)
                    return finished


class LocalProcessBackend(ExecutorBackend):
    """``n_workers`` worker processes on this machine (see the module docstring for time-outs)."""

    def __init__(self, n_workers: int, timeout: float | None = None, start_method: str = "spawn"):
        super().__init__(n_workers, timeout)
        if start_method not in START_METHODS:
            raise ValueError(f"start_method must be one of {START_METHODS}, got {start_method!r}")
        self.start_method = start_method
        self._executor: cf.ProcessPoolExecutor | None = None
        self._initargs: tuple[bytes, int] | None = None

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        pool = cf.ProcessPoolExecutor(
            max_workers=self.n_workers, mp_context=multiprocessing.get_context(self.start_method),
            initializer=_init_worker, initargs=self._initargs,
        )
        # Start every worker now (and run the initializer) so start-up time is not charged to the
        # first jobs' time-outs, and a broken objective fails here with a clear message. A round of
        # pings may all land on the workers that came up first: repeat until each one answered.
        seen: set[int] = set()
        deadline = time.monotonic() + 300
        try:
            while len(seen) < self.n_workers and time.monotonic() < deadline:
                seen.update(future.result() for future in [pool.submit(_ping) for _ in range(self.n_workers)])
        except BrokenProcessPool as error:
            self._kill_pool(pool)
            raise RuntimeError(
                "worker processes could not start or could not load the objective. Objectives run in "
                "fresh processes, so their class must be importable from a module (not defined in a "
                "notebook cell), and a script must start the run under `if __name__ == \"__main__\":` "
                f"(see the multiprocessing docs on the spawn start method): {error}"
            ) from error
        return pool

    @staticmethod
    def _kill_pool(pool: cf.ProcessPoolExecutor) -> None:
        # ProcessPoolExecutor cannot stop a running call; terminating its processes is the only way.
        # `_processes` is private, but stable since Python 3.2 (3.14 adds terminate_workers()).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=5)

    def start(self, objective: Objective, run_seed: int) -> None:
        if self.start_method == "forkserver":
            # The fork server imports these once; every worker (also after a recycle) forks from it
            # instead of importing ConfigSpace, torch, ... again. Only has an effect before the
            # server first starts in this process.
            modules = ["hpo_kit.backends.local"]
            if type(objective).__module__ != "__main__":
                modules.append(type(objective).__module__)
            multiprocessing.get_context("forkserver").set_forkserver_preload(modules)
        try:
            objective_bytes = pickle.dumps(objective)
        except Exception as error:
            raise TypeError(
                f"objective {type(objective).__name__} must be picklable to run in worker processes: {error}"
            ) from error
        self._initargs = (objective_bytes, run_seed)
        self._executor = self._new_pool()
        self._t0 = time.perf_counter()

    def _submit_call(self, job: Job) -> cf.Future:
        if self._executor is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        return self._executor.submit(_run_job_in_worker, job)

    def _note_error(self, error: BaseException, record: _Running) -> None:
        if isinstance(error, BrokenProcessPool) and record.generation == self._generation:
            # A worker died: every job of this pool fails (their futures report it one by one);
            # new jobs go to a fresh pool.
            self._kill_pool(self._executor)
            self._executor = self._new_pool()
            self._generation += 1

    def _recycle(self) -> None:
        """Replace the pool; jobs still running on the old one start again on the new one."""
        self._kill_pool(self._executor)
        self._executor = self._new_pool()
        self._generation += 1
        for old_future in list(self._running):
            record = self._running.pop(old_future)
            record.started = self.now()
            record.generation = self._generation
            self._running[self._executor.submit(_run_job_in_worker, record.job)] = record

    def _handle_timeout(self, future: cf.Future) -> None:
        self._recycle()

    def close(self) -> None:
        if self._executor is not None:
            self._kill_pool(self._executor)
            self._executor = None
        self._running.clear()
        self._free_slots = list(range(self.n_workers))
