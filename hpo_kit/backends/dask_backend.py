"""Workers of a Dask cluster: a local one started here, or a running cluster given by its address.

The same code path as :class:`~hpo_kit.backends.local.LocalProcessBackend`: Dask's
``Client.get_executor()`` is a ``concurrent.futures.Executor``, so submitting, waiting and turning
errors into failures is shared (:class:`~hpo_kit.backends.local.ExecutorBackend`).

``DaskBackend(n_workers=4)`` starts a ``LocalCluster`` on 127.0.0.1 with one thread per worker,
in worker *processes* by default: each training then has its own torch RNG and its own process
(a GPU profile can give each worker its own device), and a crash or a hung evaluation can be
ended by restarting one worker. ``processes=False`` runs the workers as threads of this process
(quick to start, fine for objectives that release the GIL or for tests; all threads share one
objective instance, which must be thread-safe, and an ``os._exit`` in an evaluation ends the run
itself). ``DaskBackend(address="tcp://host:8786")`` connects to an existing scheduler;
``n_workers`` then defaults to the number of worker threads.

The objective is sent to every worker by a worker plugin, which Dask also runs on every worker
that joins later, so a worker restarted after a crash has the objective again (a scattered object
would be lost with the workers holding it, and every later job would fail).

Crashes: Dask normally re-runs a task whose worker died on another worker (up to
``distributed.scheduler.allowed-failures`` times), so one configuration that kills its process
kills the next worker too. The local cluster is started with no such retry; on a given cluster a
job that finds it has already been started once (a cluster-wide Dask ``Event``) returns a failure
instead of running again. The job whose worker died is recorded as failed; jobs that were lost for
other reasons (cancelled, lost data) are run again. A cluster with no worker left (or that cannot
be reached) raises a RuntimeError naming it, instead of failing every remaining job: the log is
intact and the run can be resumed.

Time-outs count from when a job starts on its worker (each worker reports its jobs' start), not
from submission: a job queued behind a busy worker is not failed for waiting; a finished job is
judged by the start and end its worker measured, so one read late is still a time-out. A timed-out
job on worker processes of the local cluster is ended by restarting its worker, in the background
(the run goes on with the other workers; the restarting worker's slot waits for it); a thread (``processes=
False``) or a worker of a given cluster cannot be stopped and keeps its worker busy until the
evaluation returns (later jobs wait for it, without their time-out running).
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
import threading
import time
import uuid

from distributed.diagnostics.plugin import WorkerPlugin

from hpo_kit.backends.local import ExecutorBackend, Timed, _Running, check_n_workers, check_timeout, \
    limit_threads_in_this_process, run_timed
from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Failure, Job

# -- what runs on a worker ----------------------------------------------------------------------
_OBJECTIVES: dict[str, tuple[Objective, int]] = {}    # token -> (objective, run seed), set by the plugin
_STARTED: dict[tuple[str, int], float] = {}           # (token, call) -> wall time the job started
_LOCK = threading.Lock()


class ObjectiveMissing(RuntimeError):
    """The worker does not hold the objective (yet): the job is sent again."""


class ObjectivePlugin(WorkerPlugin):
    """Installs the objective on every worker, also on workers that start after a crash."""

    idempotent = False

    def __init__(self, token: str, objective_bytes: bytes, run_seed: int):
        self.token, self.objective_bytes, self.run_seed = token, objective_bytes, run_seed
        self.name = f"hpo-kit-objective-{token}"

    def setup(self, worker) -> None:
        limit_threads_in_this_process()   # before unpickling, which may import torch
        with _LOCK:
            if self.token not in _OBJECTIVES:      # threads of one process share one instance
                _OBJECTIVES[self.token] = (pickle.loads(self.objective_bytes), self.run_seed)

    def teardown(self, worker) -> None:
        with _LOCK:
            _OBJECTIVES.pop(self.token, None)


def _event_name(token: str, call: int) -> str:
    return f"hpo-kit-{token}-{call}"


def _run_job_on_dask(token: str, job: Job, call: int) -> Timed | Failure:
    from distributed import Event

    entry = _OBJECTIVES.get(token)
    if entry is None:
        raise ObjectiveMissing(f"worker {os.getpid()} has no objective for run {token} yet")
    # A cluster-wide mark that this job started: a job the cluster re-runs after its worker died
    # does not run again (the next worker would die of it too), and when a worker dies the backend
    # tells the job that was running there (marked) from jobs only queued there (not marked).
    started = Event(_event_name(token, call))
    if started.is_set():
        return Failure("worker process died while running this job (the cluster re-ran it; a job runs once)")
    started.set()
    _STARTED[(token, call)] = time.time()
    try:
        outcome = run_timed(entry[0], job, entry[1])
    finally:
        _STARTED.pop((token, call), None)
    started.clear()
    return outcome


def _started_jobs(token: str) -> dict[int, float]:
    return {call: wall for (t, call), wall in list(_STARTED.items()) if t == token}


# -- the backend --------------------------------------------------------------------------------
class DaskBackend(ExecutorBackend):
    """``n_workers`` Dask workers: a new local cluster, or the cluster at ``address``.

    ``lost_after``: seconds a cluster may have no worker (while nannies restart them) before the
    run stops with an error.
    """

    HEALTH_CHECK_EVERY = 5.0
    #: seconds a call that asks every worker (which jobs started) may take; a worker in the middle
    #: of a restart must not hold up the run loop (the jobs then count from submission)
    ASK_WORKERS_TIMEOUT = 5.0
    #: unanswered start checks after which a job's time-out counts from its submission
    UNANSWERED_CHECKS = 3
    #: seconds beyond ``lost_after`` that a local cluster whose nannies are restarting their
    #: workers is waited for (worker processes start slowly on a loaded machine)
    WORKER_START_ALLOWANCE = 120.0

    def __init__(self, n_workers: int | None = None, address: str | None = None, timeout: float | None = None,
                 processes: bool = True, lost_after: float = 30.0):
        if address is None and n_workers is None:
            raise ValueError("give n_workers (to start a local Dask cluster) or address (of a running scheduler)")
        if address is not None and (not isinstance(address, str) or "://" not in address and ":" not in address):
            raise ValueError(f"address must be a Dask scheduler address such as 'tcp://127.0.0.1:8786', got {address!r}")
        if n_workers is not None:
            n_workers = check_n_workers(n_workers)
        if not isinstance(processes, bool):
            raise ValueError(f"processes must be True (worker processes) or False (threads), got {processes!r}")
        if isinstance(lost_after, bool) or not isinstance(lost_after, (int, float)) or not lost_after > 0:
            raise ValueError(f"lost_after must be a number of seconds > 0, got {lost_after!r}")
        super().__init__(n_workers or 1, check_timeout(timeout))
        self.address = address
        self.processes = processes
        self.lost_after = float(lost_after)
        self._requested_workers = n_workers
        self._cluster = None
        self._client = None
        self._executor = None
        self._token = uuid.uuid4().hex[:12]
        self._plugin_name = None
        self._where: dict[int, str] = {}       # call -> address of the worker that runs it
        self._last_check = 0.0
        self._restarts: list[threading.Thread] = []   # worker restarts under way (see _handle_timeout)

    @property
    def _owns_processes(self) -> bool:
        return self.address is None and self.processes

    def start(self, objective: Objective, run_seed: int) -> None:
        import dask
        from dask.distributed import Client, LocalCluster

        try:
            objective_bytes = pickle.dumps(objective)
        except Exception as error:
            raise TypeError(f"objective {type(objective).__name__} must be picklable to run on Dask workers: "
                            f"{error}") from error
        if self.address is None:
            # Threads in this process talk over Dask's in-process transport; worker processes over
            # TCP on the loopback interface only (nothing is exposed to the network). No retry of a
            # task whose worker died: the next worker would die of the same configuration.
            network = {"host": "127.0.0.1"} if self.processes else {}
            # worker-saturation 1: a worker holds only the job it runs, others wait at the scheduler
            # (a worker that dies takes no queued innocent job with it).
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.scheduler.worker-saturation": 1.0}):
                # death_timeout: a nanny whose new worker process does not start within it closes
                # for good (the cluster then shrinks); on a loaded machine a restart after a crash or
                # a time-out takes tens of seconds, so it gets as long as the health check waits
                patience = {"death_timeout": self.lost_after + self.WORKER_START_ALLOWANCE} if self.processes else {}
                self._cluster = LocalCluster(
                    n_workers=self._requested_workers, threads_per_worker=1, processes=self.processes,
                    dashboard_address=None, **network, **patience,
                )
            self._client = Client(self._cluster)
        else:
            self._client = Client(self.address)
        n_threads = sum(self._client.nthreads().values())
        if n_threads < 1:
            raise RuntimeError(f"the Dask cluster at {self.address or 'localhost'} has no workers")
        if self._requested_workers is None:
            self.n_workers = n_threads
            self._free_slots = list(range(n_threads))
        plugin = ObjectivePlugin(self._token, objective_bytes, run_seed)
        self._plugin_name = plugin.name
        self._client.register_plugin(plugin)
        self._executor = self._client.get_executor(pure=False, retries=0)
        self._t0 = time.perf_counter()
        self._wall0 = time.time()
        self._last_check = time.monotonic()

    def _submit_call(self, job: Job, call: int) -> cf.Future:
        if self._executor is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        return self._executor.submit(_run_job_on_dask, self._token, job, call)

    # -- crashes ---------------------------------------------------------------------------------
    def _cluster_name(self) -> str:
        return f"the Dask cluster at {self.address}" if self.address else "the local Dask cluster"

    def _check_cluster(self) -> None:
        """Raise when the cluster has had no worker for ``lost_after`` seconds or cannot be reached."""
        deadline = time.monotonic() + self.lost_after
        while True:
            try:
                if self._client.status not in ("running", "connecting"):
                    raise OSError(f"the client is {self._client.status}")
                if sum(self._client.nthreads().values()) > 0:
                    self._last_check = time.monotonic()
                    return
                why = "it has no workers left"
            except (OSError, TimeoutError) as error:
                why = f"it cannot be reached ({type(error).__name__}: {error})"
            if time.monotonic() >= deadline and not (time.monotonic() < deadline + self.WORKER_START_ALLOWANCE
                                                     and self._workers_coming_back()):
                raise RuntimeError(
                    f"{self._cluster_name()} is lost: {why} for {self.lost_after:.0f} s. The run stopped instead "
                    "of failing every remaining job; the log is intact: start the cluster again and resume "
                    "with the same run_dir"
                )
            time.sleep(0.5)

    def _workers_coming_back(self) -> bool:
        """True while a nanny of this backend's local cluster is (re)starting its worker process.

        After a crash or a time-out every worker may be restarting at once; on a loaded machine a
        worker process takes well over ``lost_after`` to start (imports, the objective), and that
        is not a lost cluster. A given cluster's nannies are not visible from here.
        """
        from distributed.core import Status

        for nanny in list(getattr(self._cluster, "workers", {}).values()):
            process = getattr(nanny, "process", None)
            if getattr(nanny, "status", None) == Status.running and process is not None \
                    and getattr(process, "status", None) in (Status.starting, Status.running):
                return True
        return False

    def _outcome_after_error(self, future: cf.Future, record: _Running, error: BaseException) -> Failure | None:
        if type(error).__name__ == "KilledWorker":
            from distributed import Event

            mark = Event(_event_name(self._token, record.call), client=self._client)
            if mark.is_set():      # it had started on the worker that died: it is the culprit
                mark.clear()
                return Failure("worker process died while running this job (Dask KilledWorker); it was not "
                               "run again", cost=self.now() - record.started)
            self._resubmit(future, record)     # it only waited in that worker's queue
            return None
        if isinstance(error, ObjectiveMissing):
            time.sleep(0.2)                   # a restarted worker gets the objective from the plugin
        else:                                 # cancelled or lost: innocent, unless the cluster is gone
            self._check_cluster()
        self._resubmit(future, record)
        return None

    def _poll_interval(self) -> float | None:
        return min(self.HEALTH_CHECK_EVERY, self.lost_after)

    def _between_waits(self) -> None:
        if time.monotonic() - self._last_check >= min(self.HEALTH_CHECK_EVERY, self.lost_after) and not any(
                f.done() for f in self._running):
            self._check_cluster()

    # -- time-outs -------------------------------------------------------------------------------
    def _confirm_started(self, records: list[_Running]) -> None:
        try:
            reports = self._client.run(_started_jobs, self._token, callback_timeout=self.ASK_WORKERS_TIMEOUT)
        except Exception:  # noqa: BLE001 - workers restarting, or none at all
            # Nothing tells whether these jobs run: while no worker can answer (all of them
            # restarting after a crash) they cannot be running, so their time-out starts again.
            # A worker that never answers (stuck in C code holding the GIL) must not keep its job
            # alive forever: after a few unanswered checks the job counts from submission.
            for record in records:
                record.unanswered += 1
                if record.unanswered >= self.UNANSWERED_CHECKS:
                    record.confirmed = True
                else:
                    record.started = self.now()
            return
        started: dict[int, tuple[str, float]] = {}
        for address, calls in reports.items():
            for call, wall in calls.items():
                started[call] = (address, wall)
        for record in records:
            if record.call in started:
                address, wall = started[record.call]
                self._where[record.call] = address
                record.started = max(record.started, self.wall_to_clock(wall))
                record.confirmed = True
            else:
                record.started = self.now()   # still queued: its time-out has not begun

    def _handle_timeout(self, future: cf.Future, record: _Running) -> None:
        future.cancel()
        address = self._where.pop(record.call, None)
        if not self._owns_processes or address is None:
            return
        # The only way to stop a running task: its worker process is restarted by its nanny (and
        # gets the objective again from the plugin). Dask's orderly restart (the nanny waits a few
        # seconds for the task, then kills the process and starts a new one) took up to ~120 s in
        # the measured runs, and blocked the run loop all along; it runs in the background now,
        # while the other workers go on (the restarting worker's slot is held, see free_workers).
        # Killing the process directly was tried instead: on a loaded machine the nanny then fails
        # to unregister the dead worker in time and closes for good.
        self._restarts = [t for t in self._restarts if t.is_alive()]
        thread = threading.Thread(target=self._restart_worker, args=(address,), daemon=True,
                                  name=f"hpo-kit-restart-{address}")
        thread.start()
        self._restarts.append(thread)

    @property
    def free_workers(self) -> int:
        """Free workers, not counting one being restarted after a time-out.

        No new job goes out for a restarting worker's slot until it is back (a job sent meanwhile
        could land on the worker being shut down); the other workers' results are taken as they
        come. With nothing else running one job may still go out, so that a run on one worker
        waits for it at the scheduler instead of ending for want of a free worker.
        """
        restarting = sum(t.is_alive() for t in self._restarts)
        free = self.n_workers - len(self._running) - restarting
        return max(free, 1 if not self._running else 0)

    def _restart_worker(self, address: str) -> None:
        client = self._client
        if client is None:
            return
        try:
            client.restart_workers([address], raise_for_error=False)
        except Exception:  # noqa: BLE001 - a worker that does not come back: the health check says so
            pass

    def close(self) -> None:
        for future in list(self._running):
            future.cancel()
        for thread in self._restarts:      # a restart still under way ends when the cluster closes
            thread.join(timeout=1.0)
        self._restarts.clear()
        self._running.clear()
        self._decided.clear()
        if self._client is not None:
            if self.address is not None and self._plugin_name is not None:
                try:   # leave a given cluster as it was
                    self._client.unregister_worker_plugin(self._plugin_name)
                except Exception:  # noqa: BLE001 - the cluster may be gone already
                    pass
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self._executor = None
