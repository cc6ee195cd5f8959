"""One intra-op thread per training process, by default.

Why: PyTorch starts as many intra-op threads as there are cores in *every* process. HPO runs several
trainings at once (worker processes, Dask workers, the notebook kernel itself), so on a 2-core
machine several processes end up fighting with many spinning OpenMP threads. A small CNN trained
25x slower that way than with one thread per process (``bench/trainer_throughput.py`` measures
it again: 1 vs 2 threads per process, alone and side by side). The kit gets its parallelism from
running trials side by side, so each process uses one thread unless told otherwise.
"""
from __future__ import annotations

import os

import torch

_limited = False  # set once limit_torch_threads ran in this process (explicitly or via the trainer)


def limit_torch_threads(n: int = 1) -> None:
    """Use ``n`` intra-op (and, if still possible, inter-op) threads in this process and its children.

    The environment variables reach child processes started afterwards (worker pools, Dask workers),
    whose OpenMP/MKL runtimes read them at start-up.
    """
    global _limited
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        # torch allows setting inter-op threads only before any parallel work started; the
        # intra-op setting above is the one that matters for small CPU models.
        pass
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    _limited = True


def ensure_threads_limited(n: int = 1) -> None:
    """Limit threads to ``n`` unless this process already chose a thread count (called by ``train``)."""
    if not _limited:
        limit_torch_threads(n)


def threads_limited() -> bool:
    """True once this process chose its thread count through this module."""
    return _limited
