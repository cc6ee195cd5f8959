"""Many simulated HPO runs on a learning-curve table: methods x worker counts x seeds.

Each run is ``run_hpo(TabularObjective(table), make_scheduler(method, ...), SimulatorBackend(n),
...)`` stopped after ``horizon`` simulated seconds, logged to its own folder. Runs are independent,
so they are spread over ``n_processes`` local processes (the simulator itself is single-threaded
Python); with ``n_processes=1`` they run in this process, one after the other. The result is the
same either way: every run is a deterministic function of its (method, n_workers, seed).
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: methods whose searcher takes a ``GPSearcherConfig`` (A-BOHB)
GP_METHODS = ("gp", "abohb-stopping", "abohb-promotion")


@dataclass(frozen=True)
class SimulationSettings:
    """What every simulated run of a grid shares."""

    table_path: str  # learning-curve table (.npz) to replay
    cost: str = "cpu"  # per-epoch cost column: "wall" or "cpu" (see mnist_mlp_curves.load_table)
    max_rows: int | None = None  # use only the first rows of the table (None = all)
    min_resource: int = 1  # smallest resource (epochs) a scheduler hands out
    max_resource: int = 81  # largest resource (epochs); <= the table's epochs
    eta: int = 3  # reduction factor of the Hyperband family
    horizon: float = 600.0  # simulated seconds each run lasts
    gp_config: dict[str, Any] = field(default_factory=dict)  # GPSearcherConfig fields for A-BOHB
    seed_offset: int = 0  # run r of a method uses seed seed_offset + r
    restrict_to_table: bool = False  # searchers choose among the table's untried rows (no repeats)

    def validate(self) -> None:
        if self.cost not in ("wall", "cpu"):
            raise ValueError(f"cost must be 'wall' or 'cpu', got {self.cost!r}")
        if not self.horizon > 0:
            raise ValueError(f"horizon must be a number of simulated seconds > 0, got {self.horizon!r}")
        if not Path(self.table_path).exists():
            raise FileNotFoundError(f"table_path {self.table_path} does not exist")
        if not isinstance(self.restrict_to_table, bool):
            raise TypeError(f"restrict_to_table must be True or False, got {self.restrict_to_table!r}")


def _limit_threads() -> None:
    """One thread for torch and for numpy's BLAS: processes share two cores."""
    from hpo_kit.train.threads import limit_torch_threads

    limit_torch_threads(1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn/scipy stacks
        pass


def run_dir_of(root: Path, method: str, n_workers: int, seed: int) -> Path:
    return Path(root) / f"{method}_w{n_workers}_s{seed}"


def simulate_one(settings: SimulationSettings, method: str, n_workers: int, seed: int, root: str | Path) -> str:
    """One simulated run; returns the path of its ``trials.jsonl``."""
    from hpo_kit.benchmarks.mnist_mlp_curves import load_table
    from hpo_kit.methods import make_backend, make_scheduler
    from hpo_kit.objectives.tabular import TabularObjective
    from hpo_kit.stopping import StopCriteria
    from hpo_kit.tuner import run_hpo

    _limit_threads()
    table = load_table(settings.table_path, cost=settings.cost, max_rows=settings.max_rows)
    objective = TabularObjective(table, min_resource=1)
    options: dict[str, Any] = {}
    if method in GP_METHODS and settings.gp_config:
        options["searcher_config"] = dict(settings.gp_config)
    # without the restriction, model-based searchers keep proposing points whose nearest row is
    # one they already tried, and the simulator replays that row's curve again
    candidates = objective.candidates() if settings.restrict_to_table else None
    scheduler = make_scheduler(method, objective.space, settings.min_resource, settings.max_resource,
                               settings.eta, seed=seed, candidates=candidates, **options)
    backend = make_backend("simulator", n_workers)
    folder = run_dir_of(Path(root), method, n_workers, seed)
    result = run_hpo(objective, scheduler, backend, folder, seed, stop=StopCriteria(max_time=settings.horizon),
                     resume=False, progress=False)
    return str(result.run_dir / "trials.jsonl")


def simulate_grid(settings: SimulationSettings, methods: list[str], n_workers: list[int], n_seeds: int,
                  root: str | Path, n_processes: int = 1, progress: Any = None) -> dict[tuple[str, int], list[pd.DataFrame]]:
    """Run every (method, n_workers, seed) and return the logs by ``(method, n_workers)``, seeds in order.

    ``progress`` is an optional wrapper such as ``run.progress`` (called as ``progress(iterable,
    desc=..., total=...)``). Slow searchers (A-BOHB, BOHB) are submitted first so the processes
    finish together.
    """
    from hpo_kit.methods import METHODS
    from hpo_kit.runlog import load_log

    settings.validate()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; allowed: {list(METHODS)}")
    if not methods:
        raise ValueError("methods must name at least one method")
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in n_workers) or not n_workers:
        raise ValueError(f"n_workers must be a non-empty list of integers >= 1, got {n_workers!r}")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be an integer >= 1, got {n_seeds!r}")
    if isinstance(n_processes, bool) or not isinstance(n_processes, int) or n_processes < 1:
        raise ValueError(f"n_processes must be an integer >= 1, got {n_processes!r}")

    def slowness(m: str) -> int:
        return 0 if m in GP_METHODS else 1 if m == "bohb" else 2

    tasks = [(m, w, settings.seed_offset + r) for m in sorted(methods, key=slowness) for w in n_workers
             for r in range(n_seeds)]
    paths: dict[tuple[str, int, int], str] = {}
    wrap = progress or (lambda it, **_: it)
    if n_processes == 1:
        for m, w, s in wrap(tasks, desc="simulated runs", total=len(tasks)):
            paths[(m, w, s)] = simulate_one(settings, m, w, s, root)
    else:
        import multiprocessing

        # forkserver/spawn: a forked Jupyter kernel with torch loaded is not safe to compute in.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=n_processes, mp_context=context, initializer=_limit_threads) as pool:
            futures = {pool.submit(simulate_one, settings, m, w, s, str(root)): (m, w, s) for m, w, s in tasks}
            for future in wrap(as_completed(futures), desc="simulated runs", total=len(tasks)):
                paths[futures[future]] = future.result()
    logs: dict[tuple[str, int], list[pd.DataFrame]] = {}
    for m in methods:
        for w in n_workers:
            logs[(m, w)] = [load_log(paths[(m, w, settings.seed_offset + r)]) for r in range(n_seeds)]
    return logs


def describe(settings: SimulationSettings) -> dict[str, Any]:
    """The settings as a plain dict (for results.json)."""
    out = asdict(settings)
    out["n_cpus"] = os.cpu_count()
    return out
