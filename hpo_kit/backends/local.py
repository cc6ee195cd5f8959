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
is lost; live-training objectives that checkpoint per epoch lose less). Time-outs are checked
before finished jobs are read, and a finished job is judged by the start and end its worker
measured (:class:`Timed`): a job that ran past its time-out is a time-out even when the run loop
only reads it later.

Crashes: if a worker process dies (``os._exit`` in the objective, a segfault, the OOM killer) the
pool breaks. Each worker reports which job it starts (job number and pid, through a pipe), so the
job whose process died is marked failed ("worker process ... died while running this job") and
the other jobs of the broken pool, innocent, are run again on a fresh pool. Workers die with the
process that started them (a watchdog thread, and on Linux ``PR_SET_PDEATHSIG``): a killed
notebook or run leaves no orphaned worker behind.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from hpo_kit.backends.base import Backend, Finished, check_n_workers, check_timeout
from hpo_kit.backends.sequential import evaluate_safely
from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Evaluation, Failure, Job

START_METHODS = ("spawn", "forkserver")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
__all__ = ["ExecutorBackend", "LocalProcessBackend", "Timed", "check_n_workers", "check_timeout",
           "limit_threads_in_this_process", "die_with_parent", "run_timed"]


def limit_threads_in_this_process() -> None:
    """One OpenMP/torch thread: the env variables reach torch if it is imported later, the call if not."""
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent(owner_pid: int, interval: float = 0.5) -> None:
    """End this worker process when ``owner_pid`` (the run) or this process's parent dies.

    A worker killed with its run is the only way a ``kill -9`` of the run does not leave workers
    (and the resource tracker they keep open) running forever. On Linux the kernel sends SIGKILL
    when the parent exits (``PR_SET_PDEATHSIG``); the thread covers other systems and the
    forkserver start method, where the parent is the fork server rather than the run itself.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent or not _alive(owner_pid):
                os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


# -- what runs inside a worker process ---------------------------------------------------------
_worker_objective: Objective | None = None
_worker_run_seed = 0
_worker_starts = None     # a SimpleQueue: (call number, pid, wall time) of every job this worker starts


def _init_worker(objective_bytes: bytes, run_seed: int, starts, owner_pid: int) -> None:
    """Pool initializer: limit threads *before* unpickling (which may import torch), keep the objective."""
    global _worker_objective, _worker_run_seed, _worker_starts
    die_with_parent(owner_pid)
    limit_threads_in_this_process()
    _worker_objective = pickle.loads(objective_bytes)
    _worker_run_seed = run_seed
    _worker_starts = starts
    limit_threads_in_this_process()


@dataclass(frozen=True)
class Timed:
    """An outcome with the wall times (``time.time()`` of the worker) its evaluation began and ended.

    The backend judges the time-out by these, not by when it reads the result: a job that ran past
    its time-out while the run loop was busy elsewhere is a time-out, not a good result.
    """

    outcome: Evaluation | Failure
    started: float
    finished: float


def run_timed(objective: Objective, job: Job, run_seed: int) -> Timed:
    """:func:`evaluate_safely` with the wall times it began and ended."""
    started = time.time()
    outcome = evaluate_safely(objective, job, run_seed)
    return Timed(outcome, started, time.time())


def _run_job_in_worker(job: Job, call: int) -> Timed:
    # SimpleQueue.put writes to the pipe before returning, so the report survives an os._exit
    # that follows at once (a Queue's feeder thread would lose it).
    _worker_starts.put((call, os.getpid(), time.time()))
    return run_timed(_worker_objective, job, _worker_run_seed)


def _ping() -> int:
    time.sleep(0.05)  # keeps this worker busy so the next ping goes to another one
    return os.getpid()


# -- shared executor logic ----------------------------------------------------------------------
@dataclass
class _Running:
    job: Job
    worker: int        # slot 0..n_workers-1 (a logical worker id, the same on every backend)
    started: float     # backend clock: submission, until the worker reports the real start
    order: int         # submission number: breaks ties between jobs done at the same moment
    generation: int    # which pool ran it (LocalProcessBackend replaces a broken pool)
    call: int = 0      # number of the current attempt (a job re-run after a crash gets a new one)
    confirmed: bool = False  # True once ``started`` is the time the job really started
    resubmits: int = 0
    unanswered: int = 0      # start checks the workers could not answer (see DaskBackend._confirm_started)


class ExecutorBackend(Backend):
    """Jobs run on a ``concurrent.futures.Executor`` made by the subclass (``_submit_call``).

    Infrastructure errors (a future that raised: the objective's own errors are already failures)
    go to ``_outcome_after_error``, which either blames the job (a Failure) or runs it again
    (``_resubmit``: an innocent job caught in a crash). A job re-run more than ``MAX_RESUBMITS``
    times fails with the last error, so a broken executor cannot loop forever.
    """

    deterministic = False
    MAX_RESUBMITS = 3

    def __init__(self, n_workers: int, timeout: float | None = None):
        self.n_workers = check_n_workers(n_workers)
        self.timeout = check_timeout(timeout)
        self._running: dict[cf.Future, _Running] = {}
        self._decided: dict[cf.Future, Failure] = {}   # outcomes fixed before the future is read
        self._free_slots = list(range(self.n_workers))
        self._submitted = 0
        self._calls = 0
        self._generation = 0
        self._t0 = time.perf_counter()
        self._wall0 = time.time()

    # subclass hooks
    def _submit_call(self, job: Job, call: int) -> cf.Future:
        raise NotImplementedError

    def _handle_timeout(self, future: cf.Future, record: _Running) -> None:
        """Make the timed-out call stop occupying a worker, if the executor allows it."""
        future.cancel()

    def _outcome_after_error(self, future: cf.Future, record: _Running, error: BaseException) -> Failure | None:
        """The Failure of a job whose future raised, or None after running the job again."""
        return Failure(f"worker error: {type(error).__name__}: {error}", cost=self.now() - record.started)

    def _give_up(self, record: _Running, error: BaseException) -> Failure:
        """The Failure of a job that was run again ``MAX_RESUBMITS`` times and still did not finish."""
        return Failure(f"worker error after {record.resubmits} re-runs: {type(error).__name__}: {error}",
                       cost=self.now() - record.started)

    def _confirm_started(self, records: list[_Running]) -> None:
        """Set ``started`` to when each job really started (the default: it started when submitted)."""
        for record in records:
            record.confirmed = True

    def _between_waits(self) -> None:
        """Called after every wait (health checks, draining reports)."""

    def _poll_interval(self) -> float | None:
        """Longest wait before ``_between_waits`` runs again (None: only when a job finishes)."""
        return None

    def wall_to_clock(self, wall: float) -> float:
        """A worker's ``time.time()`` on this backend's clock."""
        return wall - self._wall0

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
        call = self._next_call()
        future = self._submit_call(job, call)
        self._running[future] = _Running(job, slot, self.now(), self._submitted, self._generation, call)
        self._submitted += 1

    def _next_call(self) -> int:
        self._calls += 1
        return self._calls

    def _resubmit(self, future: cf.Future, record: _Running) -> None:
        """Run ``record.job`` again from the start (it was innocent: another job broke its worker)."""
        self._running.pop(future, None)
        record.resubmits += 1
        record.call = self._next_call()
        record.started = self.now()
        record.confirmed = False
        record.generation = self._generation
        self._running[self._submit_call(record.job, record.call)] = record

    def _finish(self, future: cf.Future, outcome: Evaluation | Failure) -> Finished:
        record = self._running.pop(future)
        self._free_slots.append(record.worker)
        return Finished(record.job, outcome, record.started, self.now(), record.worker)

    def _read(self, future: cf.Future) -> Evaluation | Failure | None:
        """The outcome of a finished future, or None when the job was sent to run again."""
        if future in self._decided:
            return self._decided.pop(future)
        record = self._running[future]
        try:
            result = future.result()
        except BaseException as error:  # noqa: BLE001 - infrastructure failure, not the objective's
            if record.resubmits >= self.MAX_RESUBMITS:
                return self._give_up(record, error)
            return self._outcome_after_error(future, record, error)
        return self._accept(record, result)

    def _accept(self, record: _Running, result: Timed | Evaluation | Failure) -> Evaluation | Failure:
        """The outcome of a finished job; one that ran longer than the time-out is a time-out.

        Judged by the evaluation's own start and end on its worker: the run loop may have been busy
        (restarting a worker, writing the log) while the job ran on, and reading its result late
        must not turn an evaluation that hung far past its time-out into a good result.
        """
        if not isinstance(result, Timed):
            return result
        record.started = self.wall_to_clock(result.started)
        record.confirmed = True
        ran = result.finished - result.started
        if self.timeout is not None and ran > self.timeout:
            return Failure(f"time-out: ran {ran:.1f} s > timeout {self.timeout} s (it ended on its own, after its "
                           "time-out)", cost=ran)
        return result.outcome

    def wait_one(self) -> Finished:
        if not self._running:
            raise RuntimeError("wait_one called while no job is running")
        while True:
            if self.timeout is not None:
                # time-outs first: a job past its time-out is ended before any result is taken, so
                # a loop kept busy by a stream of results cannot leave a hung job running on
                timed_out = self._timed_out()
                if timed_out is not None:
                    return timed_out
            for future in sorted((f for f in self._running if f.done()), key=lambda f: self._running[f].order):
                if future not in self._running:      # re-submitted while handling another one
                    continue
                outcome = self._read(future)
                if outcome is not None:
                    return self._finish(future, outcome)
            waits = [w for w in (self._poll_interval(), self._time_to_deadline()) if w is not None]
            cf.wait(list(self._running), timeout=min(waits) if waits else None, return_when=cf.FIRST_COMPLETED)
            self._between_waits()

    def _time_to_deadline(self) -> float | None:
        if self.timeout is None or not self._running:
            return None
        return max(0.0, min(r.started for r in self._running.values()) + self.timeout - self.now())

    def _timed_out(self) -> Finished | None:
        """Fail the first job still running longer than the time-out, counted from its real start.

        Jobs already done are judged by their own times when read (:meth:`_accept`).
        """
        now = self.now()
        expired = [r for f, r in self._running.items() if not f.done() and now - r.started >= self.timeout]
        if not expired:
            return None
        self._confirm_started([r for r in expired if not r.confirmed])
        expired = [(r.order, f) for f, r in self._running.items()
                   if not f.done() and r.confirmed and self.now() - r.started >= self.timeout]
        if not expired:
            return None
        future = min(expired)[1]
        record = self._running[future]
        elapsed = self.now() - record.started
        finished = self._finish(future, Failure(f"time-out: ran {elapsed:.1f} s > timeout {self.timeout} s",
                                                cost=elapsed))
        self._handle_timeout(future, record)
        return finished


class LocalProcessBackend(ExecutorBackend):
    """``n_workers`` worker processes on this machine (see the module docstring for time-outs)."""

    def __init__(self, n_workers: int, timeout: float | None = None, start_method: str = "spawn"):
        super().__init__(n_workers, timeout)
        if start_method not in START_METHODS:
            raise ValueError(f"start_method must be one of {START_METHODS}, got {start_method!r}")
        self.start_method = start_method
        self._executor: cf.ProcessPoolExecutor | None = None
        self._objective_args: tuple[bytes, int] | None = None
        self._starts = None
        self._started: dict[int, tuple[int, float]] = {}    # call -> (pid, backend time it started)

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        context = multiprocessing.get_context(self.start_method)
        self._starts = context.SimpleQueue()      # a new pipe per pool: a dead writer may leave it dirty
        pool = cf.ProcessPoolExecutor(
            max_workers=self.n_workers, mp_context=context, initializer=_init_worker,
            initargs=(*self._objective_args, self._starts, os.getpid()),
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
        self._objective_args = (objective_bytes, run_seed)
        self._executor = self._new_pool()
        self._t0 = time.perf_counter()
        self._wall0 = time.time()

    def _submit_call(self, job: Job, call: int) -> cf.Future:
        if self._executor is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        return self._executor.submit(_run_job_in_worker, job, call)

    def _drain_starts(self) -> None:
        """Read the workers' start reports (often: the pipe must not fill up and block them)."""
        try:
            while self._starts is not None and not self._starts.empty():
                call, pid, wall = self._starts.get()
                self._started[call] = (pid, self.wall_to_clock(wall))
        except (EOFError, OSError):  # a worker died while writing: the rest of this pipe is lost
            pass
        live = {record.call for record in self._running.values()}
        for call in [c for c in self._started if c not in live]:
            del self._started[call]

    def _between_waits(self) -> None:
        self._drain_starts()

    def _confirm_started(self, records: list[_Running]) -> None:
        self._drain_starts()
        for record in records:
            if record.call in self._started:
                record.started = max(record.started, self._started[record.call][1])
            record.confirmed = True      # a pool never queues: a job not reported yet is starting now

    def _give_up(self, record: _Running, error: BaseException) -> Failure:
        if isinstance(error, BrokenProcessPool):
            return Failure(f"worker process died while running this job (its worker pool broke {record.resubmits + 1} "
                           "times while it ran)", cost=self.now() - record.started)
        return super()._give_up(record, error)

    def _outcome_after_error(self, future: cf.Future, record: _Running, error: BaseException) -> Failure | None:
        if not isinstance(error, BrokenProcessPool):
            return super()._outcome_after_error(future, record, error)
        if record.generation == self._generation:
            self._replace_broken_pool()
        elif future in self._running:     # a late report of a pool already replaced: run it again
            self._resubmit(future, record)
        return self._decided.pop(future, None)

    def _replace_broken_pool(self) -> None:
        """A worker died: blame the job it was running, re-run the others on a fresh pool."""
        pool, generation = self._executor, self._generation
        processes = dict(getattr(pool, "_processes", None) or {})
        for process in processes.values():
            process.join(timeout=5)
        self._drain_starts()
        # The pool terminates the survivors itself (-SIGTERM); under forkserver an exit code that
        # could not be read is 255. Neither tells a culprit: such a job runs again, and a job that
        # keeps breaking pools fails after MAX_RESUBMITS re-runs.
        died = {pid: p.exitcode for pid, p in processes.items()
                if p.exitcode is not None and p.exitcode not in (-signal.SIGTERM, 255)}
        self._kill_pool(pool)
        self._executor = self._new_pool()
        self._generation += 1
        for future, record in list(self._running.items()):
            if record.generation != generation:
                continue
            if future.done() and not future.cancelled() and future.exception() is None:
                continue                # it finished before the pool broke: keep its result
            pid = self._started.get(record.call, (None, 0.0))[0]
            if pid in died:
                code = died[pid]
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                self._decided[future] = Failure(
                    f"worker process died while running this job ({how}); the other jobs were run again",
                    cost=self.now() - record.started)
            else:
                self._resubmit(future, record)

    def _recycle(self) -> None:
        """Replace the pool; jobs still running on the old one start again on the new one."""
        self._kill_pool(self._executor)
        self._executor = self._new_pool()
        self._generation += 1
        for old_future, record in list(self._running.items()):
            if old_future.done() and not old_future.cancelled() and old_future.exception() is None:
                continue                # finished before the recycle: its result is kept, not re-run
            self._resubmit(old_future, record)
            record.resubmits -= 1       # a time-out of another job is not this job's re-run

    def _handle_timeout(self, future: cf.Future, record: _Running) -> None:
        self._recycle()

    def close(self) -> None:
        if self._executor is not None:
            self._kill_pool(self._executor)
            self._executor = None
        self._running.clear()
        self._decided.clear()
        self._free_slots = list(range(self.n_workers))
