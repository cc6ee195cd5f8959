"""Workers of a Dask cluster: a local one started here, or a running cluster given by its address.

The same code path as :class:`~hpo_kit.backends.local.LocalProcessBackend`: Dask's
``Client.get_executor()`` is a ``concurrent.futures.Executor``, so submitting, waiting and turning
errors into failures is shared (:class:`~hpo_kit.backends.local.ExecutorBackend`). The objective
is sent to the workers once (``Client.scatter(..., broadcast=True)``); jobs only carry a reference.

``DaskBackend(n_workers=4)`` starts a ``LocalCluster`` on 127.0.0.1 with one thread per worker
(``processes=True`` for worker processes, ``False`` for threads in this process: quick to start,
fine for objectives that release the GIL or for tests; all worker threads then share one objective
instance, which must be thread-safe). ``DaskBackend(address="tcp://host:8786")``
connects to an existing scheduler; ``n_workers`` then defaults to the number of worker threads.

Time-outs: a Dask task that is already running cannot be interrupted. The job is marked failed
and its future cancelled, but the worker thread stays busy until the evaluation returns; jobs
submitted meanwhile wait in Dask's queue. Use the local process backend when evaluations may hang.
"""
from __future__ import annotations

import concurrent.futures as cf
import time

from hpo_kit.backends.local import ExecutorBackend, check_n_workers, check_timeout, limit_threads_in_this_process
from hpo_kit.backends.sequential import evaluate_safely
from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Evaluation, Failure, Job


def _run_job_on_dask(objective: Objective, job: Job, run_seed: int) -> Evaluation | Failure:
    return evaluate_safely(objective, job, run_seed)


class DaskBackend(ExecutorBackend):
    """``n_workers`` Dask workers: a new local cluster, or the cluster at ``address``."""

    def __init__(self, n_workers: int | None = None, address: str | None = None, timeout: float | None = None,
                 processes: bool = False):
        if address is None and n_workers is None:
            raise ValueError("give n_workers (to start a local Dask cluster) or address (of a running scheduler)")
        if address is not None and (not isinstance(address, str) or not address):
            raise ValueError(f"address must be a Dask scheduler address such as 'tcp://127.0.0.1:8786', got {address!r}")
        if n_workers is not None:
            check_n_workers(n_workers)
        check_timeout(timeout)
        super().__init__(n_workers or 1, timeout)
        self.address = address
        self.processes = bool(processes)
        self._requested_workers = n_workers
        self._cluster = None
        self._client = None
        self._executor = None
        self._objective_ref = None
        self._run_seed = 0

    def start(self, objective: Objective, run_seed: int) -> None:
        from dask.distributed import Client, LocalCluster

        if self.address is None:
            # Threads in this process talk over Dask's in-process transport; worker processes over
            # TCP on the loopback interface only (nothing is exposed to the network).
            network = {"host": "127.0.0.1"} if self.processes else {}
            self._cluster = LocalCluster(
                n_workers=self._requested_workers, threads_per_worker=1, processes=self.processes,
                dashboard_address=None, **network,
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
        self._client.run(limit_threads_in_this_process)  # one torch thread per worker process
        self._objective_ref = self._client.scatter(objective, broadcast=True, hash=False)
        self._executor = self._client.get_executor(pure=False)
        self._run_seed = run_seed
        self._t0 = time.perf_counter()

    def _submit_call(self, job: Job) -> cf.Future:
        if self._executor is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        return self._executor.submit(_run_job_on_dask, self._objective_ref, job, self._run_seed)

    def close(self) -> None:
        for future in list(self._running):
            future.cancel()
        self._running.clear()
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self._executor = None
