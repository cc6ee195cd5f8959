"""Process pools for experiment runners: many independent runs side by side, one thread each.

Notebooks 02, 04 and 05 run whole HPO runs (not single evaluations) in parallel. Their pools share two
rules, kept here once: every worker uses one torch/BLAS/OpenMP thread (two cores shared by several
processes are the first CPU trap), and every worker dies with the process that started it, so an
interrupted notebook or a killed runner leaves no orphan burning CPU.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

START_METHODS = ("forkserver", "spawn", "fork")


def limit_threads() -> None:
    """One torch thread (intra- and inter-op, and OpenMP through the environment) and one BLAS thread."""
    from threadpoolctl import threadpool_limits

    from hpo_kit.train.threads import limit_torch_threads

    limit_torch_threads(1)
    threadpool_limits(1)


def _init_worker(owner_pid: int) -> None:
    from hpo_kit.backends.local import die_with_parent, limit_threads_in_this_process

    die_with_parent(owner_pid)
    limit_threads_in_this_process()  # the environment first, before anything imports torch
    limit_threads()


def process_pool(n_processes: int, start_method: str | None = None) -> ProcessPoolExecutor:
    """A pool of ``n_processes`` one-thread workers that die with this process.

    ``start_method`` defaults to forkserver (else spawn): a forked Jupyter kernel with torch loaded is
    not a safe place to compute. ``"fork"`` is for runners that hand workers large read-only state
    through module globals; they must not have started torch threads before.
    """
    if start_method is None:
        start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    if start_method not in START_METHODS:
        raise ValueError(f"start_method must be one of {START_METHODS}, got {start_method!r}")
    return ProcessPoolExecutor(max_workers=n_processes, mp_context=multiprocessing.get_context(start_method),
                               initializer=_init_worker, initargs=(os.getpid(),))
