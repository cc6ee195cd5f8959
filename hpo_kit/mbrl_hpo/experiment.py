"""What notebook 02 runs: the agents and the baselines on the task registry, and the frames the claims read.

Every run is ``run_hpo(task.objective, scheduler, SequentialBackend(), <run folder>, seed)``, its folder
``<root>/settings-<digest of the settings>/<task>/<label>/seed<s>``: the
RL agents are :class:`~hpo_kit.mbrl_hpo.searcher.MBRLSearcher` behind a FIFO scheduler, the
baselines are the kit's methods (random, GP-EI, Hyperband, BOHB) and Optuna's samplers (TPE,
CMA-ES) through :class:`~hpo_kit.searchers.optuna_searcher.OptunaSearcher`. Each run has its own
folder and log, so re-running the notebook resumes (finished runs are replayed from their logs,
not evaluated again). Runs are independent and spread over ``n_processes`` processes, each with
one thread; a run's result depends only on its (task, method, order, delta, seed) and settings.

Seeds: seed ``s`` fixes the task's split (``get_task(name, s)``) *and* the run, so every method of
one seed sees the same data: comparisons are paired by (task, seed).

Budget: ``n_episodes`` real evaluations at full fidelity for every single-fidelity method (one
episode = one evaluation); Hyperband and BOHB get the same total resource,
``n_episodes x max_resource`` (their low-fidelity evaluations are cheaper). The default
configuration is one evaluation.

Frames (one row per run; ``curves`` one row per finished evaluation):

* ``runs``: task, method, label, seed, order, delta, val_error (best validation error, the
  incumbent's), accuracy (test accuracy of that incumbent), wall_s (the engine's wall clock: real
  evaluations *and* the searcher's own time, i.e. model phases), n_evaluations, failures,
  model_updates, model_time_s;
* ``curves``: task, label, seed, evaluation (full-fidelity equivalents), best_val_error, time_s.
"""
from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from hpo_kit.mbrl_hpo.agent import AgentConfig
from hpo_kit.mbrl_hpo.searcher import GENERIC_ORDERS, XGB_ORDERS, MBRLSearcher, ModelConfig, check_delta, resolve_order
from hpo_kit.parallel import limit_threads

#: every method the notebook can run: name -> what it is
METHODS: dict[str, str] = {
    "rl_sdp": "RL-SDP (LSTM agent, PPO, no reward model)",
    "rl_doc": "RL-DOC (one-step agent, PPO, no reward model)",
    "mbrl_sdp": "MBRL-SDP (RL-SDP + learned reward model, bounded by delta)",
    "random": "random search",
    "tpe": "TPE (Optuna)",
    "cmaes": "CMA-ES (Optuna)",
    "gp": "GP-EI (kit)",
    "hyperband": "Hyperband (kit)",
    "bohb": "BOHB (kit)",
    "default": "default configuration",
}
AGENTS = ("rl_sdp", "rl_doc", "mbrl_sdp")
BASELINES = ("random", "tpe", "cmaes", "gp", "hyperband", "bohb", "default")
DEFAULT_ORDER = "listed"  # the paper's table order (the XGBoost tasks' hp_order)


@dataclass(frozen=True)
class RunSpec:
    """One run: which method, on which task, with which seed (and order / delta for the agents)."""

    task: str
    method: str
    seed: int
    order: str = DEFAULT_ORDER
    delta: float = math.nan  # mbrl_sdp only: the bound; inf = unbounded model use

    @property
    def label(self) -> str:
        if self.method not in AGENTS:
            return self.method
        parts = [self.method]
        if self.order != DEFAULT_ORDER:
            parts.append(f"order={self.order}")
        if self.method == "mbrl_sdp":
            parts.append("delta=inf" if math.isinf(self.delta) else f"delta={self.delta:g}")
        return parts[0] + (f"[{', '.join(parts[1:])}]" if len(parts) > 1 else "")


@dataclass(frozen=True)
class ExperimentSettings:
    """What every run of the notebook shares."""

    n_episodes: int = 30                 # real evaluations per run (full-fidelity equivalents for HB/BOHB)
    agent: AgentConfig = AgentConfig()   # the agents' PPO settings (variant is set per method)
    model: ModelConfig = ModelConfig()   # the reward-model settings (use_model and delta set per run)
    max_n_estimators: int | None = None  # XGBoost task option: cap on boosting rounds (None: the paper's 1200)
    max_rows: int | None = None          # sklearn / OpenML task option: stratified row subsample
    task_options: dict[str, Any] = field(default_factory=dict)  # further get_task options, for every task
    eta: int = 3                         # Hyperband / BOHB reduction factor

    def digest(self) -> str:
        """A short digest of these settings: runs with other settings go to another folder, so changing a
        parameter and re-running starts fresh runs instead of failing to resume logs of different runs."""
        import hashlib
        import json

        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def options_for(self, task: str) -> dict[str, Any]:
        from hpo_kit.tasks import task_options

        allowed = task_options(task)
        options = {k: v for k, v in self.task_options.items() if k in allowed}
        if "max_n_estimators" in allowed and self.max_n_estimators is not None:
            options["max_n_estimators"] = self.max_n_estimators
        if "max_rows" in allowed and self.max_rows is not None:
            options["max_rows"] = self.max_rows
        return options


# ------------------------------------------------------------------------------ checks before any work
def check_tasks(tasks: Sequence[str]) -> list[str]:
    from hpo_kit.tasks import TASKS

    bad = [t for t in tasks if t not in TASKS]
    if bad:
        raise ValueError(f"tasks {bad} are not in the task registry; allowed: {list(TASKS)}")
    if not tasks:
        raise ValueError("tasks is empty; give at least one of hpo_kit.tasks.TASKS")
    return list(tasks)


def check_methods(methods: Sequence[str]) -> list[str]:
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"methods {bad} are unknown; allowed: {list(METHODS)}")
    return list(methods)


def check_orders(orders: Sequence[str]) -> list[str]:
    allowed = (*XGB_ORDERS, *GENERIC_ORDERS)
    bad = [o for o in orders if o not in allowed]
    if bad:
        raise ValueError(f"orders {bad} are unknown; allowed: {list(allowed)}")
    return list(orders)


def plan_runs(tasks: Sequence[str], seeds: Sequence[int], *, compare_doc: bool = True,
              orders: Sequence[str] = (), delta: float = 0.4, delta_values: Sequence[float] = (),
              unbounded: bool = True, baselines: Sequence[str] = BASELINES) -> list[RunSpec]:
    """The runs of experiments (a)-(e), each once (RL-SDP and MBRL-SDP at ``delta`` are shared).

    Orders other than the default are run on XGBoost tasks only (the named orders are XGBoost's).
    """
    check_tasks(tasks)
    check_orders(orders)
    check_methods(baselines)
    for d in (delta, *delta_values):
        check_delta(d)
    specs: list[RunSpec] = []
    for task in tasks:
        is_xgb = task.startswith("xgb_")
        for seed in seeds:
            specs.append(RunSpec(task, "rl_sdp", seed))
            if compare_doc:
                specs.append(RunSpec(task, "rl_doc", seed))
            for order in orders:
                if order != DEFAULT_ORDER and is_xgb:
                    specs.append(RunSpec(task, "rl_sdp", seed, order=order))
            for d in dict.fromkeys([float(delta), *map(float, delta_values)]):
                specs.append(RunSpec(task, "mbrl_sdp", seed, delta=d))
            if unbounded:
                specs.append(RunSpec(task, "mbrl_sdp", seed, delta=math.inf))
            specs += [RunSpec(task, b, seed) for b in baselines]
    return list(dict.fromkeys(specs))


# ------------------------------------------------------------------------------ one run
def build_scheduler(spec: RunSpec, task: Any, settings: ExperimentSettings):
    """The scheduler (with its searcher) of one run, and the stop criteria of its budget."""
    from hpo_kit.schedulers.fifo import FIFOScheduler
    from hpo_kit.stopping import StopCriteria

    fid = task.fidelity
    n = settings.n_episodes
    if spec.method in AGENTS:
        order = list(task.hp_order) if spec.order == DEFAULT_ORDER else resolve_order(task.space, spec.order)
        agent = replace(settings.agent, variant="doc" if spec.method == "rl_doc" else "sdp")
        model = replace(settings.model, use_model=spec.method == "mbrl_sdp",
                        delta=None if spec.method != "mbrl_sdp" or math.isinf(spec.delta) else float(spec.delta))
        searcher = MBRLSearcher(task.space, spec.seed, agent=agent, model=model, order=order)
        return FIFOScheduler(searcher, fid.min, fid.max, max_trials=n), StopCriteria(max_evaluations=n)
    if spec.method in ("tpe", "cmaes"):
        from hpo_kit.searchers.optuna_searcher import OptunaSearcher

        searcher = OptunaSearcher(task.space, spec.seed, sampler=spec.method)
        return FIFOScheduler(searcher, fid.min, fid.max, max_trials=n), StopCriteria(max_evaluations=n)
    from hpo_kit.methods import make_scheduler

    if spec.method in ("random", "gp"):
        return (make_scheduler(spec.method, task.space, fid.min, fid.max, seed=spec.seed, max_trials=n),
                StopCriteria(max_evaluations=n))
    if spec.method in ("hyperband", "bohb"):
        return (make_scheduler(spec.method, task.space, fid.min, fid.max, eta=settings.eta, seed=spec.seed),
                StopCriteria(max_total_resource=float(n * fid.max)))
    raise ValueError(f"method must be one of {list(METHODS)}, got {spec.method!r}")


def run_one(spec: RunSpec, settings: ExperimentSettings, root: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run (or resume) one spec; its (runs row, curve rows)."""
    from hpo_kit.backends.sequential import SequentialBackend
    from hpo_kit.tasks import get_task
    from hpo_kit.trial import trial_seed
    from hpo_kit.tuner import run_hpo

    limit_threads()
    task = get_task(spec.task, spec.seed, **settings.options_for(spec.task))
    row: dict[str, Any] = {"task": spec.task, "method": spec.method, "label": spec.label, "seed": spec.seed,
                           "order": spec.order if spec.method in AGENTS else "", "delta": spec.delta,
                           "model_updates": 0, "model_time_s": 0.0, "failures": 0}
    if spec.method == "default":
        evaluation = task.objective.evaluate(task.default_config(), task.fidelity.max, trial_seed(spec.seed, 0))
        row.update(val_error=float(evaluation.loss), accuracy=1.0 - float(evaluation.info["test_error"]),
                   wall_s=float(evaluation.cost), n_evaluations=1)
        return row, [{"task": spec.task, "label": spec.label, "seed": spec.seed, "evaluation": 1.0,
                      "best_val_error": row["val_error"], "time_s": row["wall_s"]}]
    scheduler, stop = build_scheduler(spec, task, settings)
    run_dir = Path(root) / f"settings-{settings.digest()}" / spec.task / spec.label.replace("[", "_").replace("]", "").replace(", ", "_") / f"seed{spec.seed}"
    result = run_hpo(task.objective, scheduler, SequentialBackend(), run_dir, spec.seed, stop=stop, progress=False)
    log = result.log
    done = log[log.event.isin(["result", "failure"])].reset_index(drop=True)
    losses = done.loss.where(done.event == "result", math.inf).to_numpy(float)
    resource = (done.resource.to_numpy(float) - done.previous_resource.to_numpy(float)) / task.fidelity.max
    best = np.minimum.accumulate(losses) if len(losses) else losses
    curve = [{"task": spec.task, "label": spec.label, "seed": spec.seed, "evaluation": float(e),
              "best_val_error": float(b), "time_s": float(t)}
             for e, b, t in zip(np.cumsum(resource), best, done.time.to_numpy(float))]
    accuracy = math.nan
    if result.best_trial_id is not None:
        hit = done[(done.event == "result") & (done.trial_id == result.best_trial_id)
                   & (done.resource == result.best_resource)]
        if len(hit) and "info_test_error" in hit:
            accuracy = 1.0 - float(hit.info_test_error.iloc[0])
    searcher = scheduler.searcher
    if isinstance(searcher, MBRLSearcher):
        row["model_updates"] = int(sum(h["model_updates"] for h in searcher.history))
        row["model_time_s"] = float(sum(h["model_time_s"] for h in searcher.history))
    row.update(val_error=float(result.best_loss), accuracy=accuracy, wall_s=float(result.elapsed),
               n_evaluations=int(result.n_evaluations), failures=int((done.event == "failure").sum()))
    return row, curve


def _run_one_star(args: tuple) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    i, spec, settings, root = args
    row, curve = run_one(spec, settings, root)
    return i, row, curve


def run_all(specs: Sequence[RunSpec], settings: ExperimentSettings, root: str | Path, n_processes: int = 1,
            progress: Callable | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every spec (resuming finished ones from their logs); the ``runs`` and ``curves`` frames.

    The rows come back in the order of ``specs`` whatever order the processes finish in.
    """
    specs = list(specs)
    jobs = [(i, s, settings, str(root)) for i, s in enumerate(specs)]
    bar = progress(total=len(jobs), desc="runs") if progress is not None else None
    out: dict[int, tuple[dict, list]] = {}
    if n_processes <= 1:
        for job in jobs:
            i, row, curve = _run_one_star(job)
            out[i] = (row, curve)
            if bar is not None:
                bar.update(1)
    else:
        from hpo_kit.parallel import process_pool

        # spawn: a clean interpreter per worker (no forked torch / BLAS thread state from the kernel)
        with process_pool(n_processes, "spawn") as pool:
            futures = [pool.submit(_run_one_star, job) for job in jobs]
            for future in as_completed(futures):
                i, row, curve = future.result()
                out[i] = (row, curve)
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    runs = pd.DataFrame([out[i][0] for i in range(len(jobs))])
    curves = pd.DataFrame([c for i in range(len(jobs)) for c in out[i][1]],
                          columns=["task", "label", "seed", "evaluation", "best_val_error", "time_s"])
    return runs, curves


# ------------------------------------------------------------------------------ derived frames
def reach_frame(runs: pd.DataFrame, curves: pd.DataFrame, reference: str = "rl_sdp") -> pd.DataFrame:
    """Per run: real evaluations and wall seconds until its best validation error first reached the
    reference run's (same task and seed) final best; inf when it never did.

    The reference run's own row is the evaluation at which it reached its final best.
    """
    rows = []
    ref = runs[runs.label == reference].set_index(["task", "seed"]).val_error
    for r in runs.itertuples():
        target = ref.get((r.task, r.seed), math.nan)
        c = curves[(curves.task == r.task) & (curves.label == r.label) & (curves.seed == r.seed)]
        hit = c[c.best_val_error <= target + 1e-12]
        rows.append({"task": r.task, "label": r.label, "method": r.method, "seed": r.seed, "delta": r.delta,
                     "target_val_error": target,
                     "evals_to_target": float(hit.evaluation.iloc[0]) if len(hit) else math.inf,
                     "time_to_target_s": float(hit.time_s.iloc[0]) if len(hit) else math.inf,
                     "wall_s": r.wall_s, "val_error": r.val_error, "accuracy": r.accuracy,
                     "model_updates": r.model_updates})
    return pd.DataFrame(rows)


def mean_curves(curves: pd.DataFrame, n_points: int = 50) -> pd.DataFrame:
    """Best validation error vs evaluations, mean and s.e. over seeds, on a common grid per task."""
    rows = []
    for (task, label), part in curves.groupby(["task", "label"], sort=False):
        grid = np.linspace(0, part.evaluation.max(), n_points)[1:]
        values = []
        for _, c in part.groupby("seed"):
            idx = np.searchsorted(c.evaluation.to_numpy(), grid, side="right") - 1
            v = np.where(idx >= 0, c.best_val_error.to_numpy()[np.maximum(idx, 0)], np.nan)
            values.append(v)
        values = np.array(values, dtype=float)
        values[~np.isfinite(values)] = np.nan
        n = np.sum(np.isfinite(values), axis=0)
        with warnings.catch_warnings():  # grid points before a seed's first result are all-NaN columns
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(values, axis=0) if len(values) else grid * np.nan
            se = np.nanstd(values, axis=0, ddof=1) / np.sqrt(n) if len(values) > 1 else grid * np.nan
        rows += [{"task": task, "label": label, "evaluation": g, "mean": m, "se": s, "n": k}
                 for g, m, s, k in zip(grid, mean, se, n)]
    return pd.DataFrame(rows)


def rank_table(runs: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per task: each method's mean test accuracy over seeds and its rank (1 = best; ties share the mean rank)."""
    part = runs[runs.label.isin(labels)]
    means = part.groupby(["task", "label"]).accuracy.mean().unstack("label")
    ranks = means.rank(axis=1, ascending=False, method="average")
    return pd.concat({"accuracy": means, "rank": ranks}, axis=1)


def default_counts(runs: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per method: tasks where its mean test accuracy is above / equal to / below the default configuration's."""
    means = runs.groupby(["task", "label"]).accuracy.mean().unstack("label")
    if "default" not in means:
        return pd.DataFrame(columns=["method", "better", "equal", "worse"])
    rows = []
    for label in labels:
        if label == "default" or label not in means:
            continue
        d = means[label] - means["default"]
        rows.append({"method": label, "better": int((d > 0).sum()), "equal": int((d == 0).sum()),
                     "worse": int((d < 0).sum())})
    return pd.DataFrame(rows)


__all__ = ["AGENTS", "BASELINES", "DEFAULT_ORDER", "ExperimentSettings", "METHODS", "RunSpec", "build_scheduler",
           "check_methods", "check_orders", "check_tasks", "default_counts", "mean_curves", "plan_runs", "rank_table",
           "reach_frame", "run_all", "run_one"]
