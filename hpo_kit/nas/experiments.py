"""The experiments of notebook 03 (Zela et al. 2018): searches at equal budget, and their analyses.

* :func:`run_search` — one BOHB, Hyperband or random-search run over a :class:`JointSpaceObjective`.
  BOHB and Hyperband run ``n_iterations`` synchronous Hyperband iterations; random search gets the
  same number of epochs (``floor(hyperband epochs / max_resource)`` full-budget trainings). Paused
  trials are continued from checkpoints, so every method's budget counts the epochs really trained.
* :func:`compare_methods` — those runs for several methods and seeds; :func:`final_table` — the
  incumbent of each (best validation error at the largest budget) and its test error.
* :func:`separate_search` — the two-stage baseline: architecture search with hand-set training
  hyperparameters (:data:`STANDARD_TRAINING`), then a search over the training hyperparameters of
  the best architecture; together exactly as many Hyperband iterations as the joint search. Its
  final incumbent is the better (by validation error at the largest budget) of the two stages'.
* :func:`random_sample_at_budgets` — a fixed random sample of configurations, each trained once to
  the largest budget; its validation curve gives its loss at every budget (the trainer's schedule
  does not depend on where training stops, so this *is* the loss a scheduler would see there).
* :func:`survivors_table` — the (configuration, budget, loss) triples of BOHB runs: what the rank
  correlation of an optimiser's own run (HpBandSter's analysis) is computed from.

Every run writes ``trials.jsonl`` in its own folder and resumes from it when called again with the
same settings (``settings.json`` records them; other settings start the run over).
"""
from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from ConfigSpace import ConfigurationSpace

from hpo_kit.methods import make_backend, make_scheduler
from hpo_kit.nas.joint_space import ARCHITECTURE_NAMES, HYPERPARAMETER_NAMES, TRAINING_NAMES
from hpo_kit.nas.objective import JointSpaceObjective, loss_at_budgets
from hpo_kit.progress import naming
from hpo_kit.schedulers.hyperband import hyperband_brackets
from hpo_kit.stats import mean_and_se
from hpo_kit.stopping import StopCriteria
from hpo_kit.tuner import HPOResult, run_hpo

SEARCH_METHODS = ("bohb", "hyperband", "random")
BACKENDS = ("sequential", "local", "dask")

#: Hand-set training hyperparameters of the separate search's architecture stage: the usual recipe
#: for ResNets on CIFAR-10 (SGD, learning rate 0.1, Nesterov momentum 0.9, weight decay 1e-4,
#: batch size 128; He et al. 2016, Gastaldi 2017) with the extra regularisers of the space off.
STANDARD_TRAINING: dict[str, float | int] = {
    "learning_rate": 0.1, "batch_size": 128, "weight_decay": 1e-4, "momentum": 0.9,
    "mixup_alpha": 0.0, "cutout_length": 0, "shakedrop_rate": 0.0,
}


# -- budgets ----------------------------------------------------------------------------------------
def rung_budgets(min_resource: int, max_resource: int, eta: int) -> list[int]:
    """The budgets (epochs) Hyperband evaluates at: the rungs of its most aggressive bracket."""
    return list(hyperband_brackets(min_resource, max_resource, eta)[0].r)


def iteration_resource(min_resource: int, max_resource: int, eta: int, rule: str = "li") -> int:
    """Epochs one synchronous Hyperband iteration trains when promoted trials continue from checkpoints.

    Rung ``i`` of a bracket trains ``n_i`` configurations from ``r_{i-1}`` to ``r_i`` epochs; ``rule``
    is the bracket rule ("li" or "hpbandster", see :mod:`hpo_kit.schedulers.hyperband`).
    """
    total = 0
    for bracket in hyperband_brackets(min_resource, max_resource, eta, rule):
        previous = 0
        for n, r in zip(bracket.n, bracket.r):
            total += n * (r - previous)
            previous = r
    return total


def hyperband_evaluations(min_resource: int, max_resource: int, eta: int, n_iterations: int, rule: str = "li") -> int:
    """Evaluations (one per rung a trial reaches) in ``n_iterations`` Hyperband iterations, for progress bars."""
    return n_iterations * sum(sum(b.n) for b in hyperband_brackets(min_resource, max_resource, eta, rule))


def random_search_trials(min_resource: int, max_resource: int, eta: int, n_iterations: int, rule: str = "li") -> int:
    """Full-budget trainings that fit into the epochs of ``n_iterations`` Hyperband iterations (>= 1)."""
    return max(1, iteration_resource(min_resource, max_resource, eta, rule) * n_iterations // max_resource)


def check_settings(*, min_budget: int, max_budget: int, eta: int, n_iterations: int, n_random_sample: int,
                   backend: str, n_workers: int) -> list[int]:
    """Check the notebook's search settings together (before any training); return the budgets.

    Rank correlations need at least two budgets (``max_budget >= min_budget * eta``), the separate
    search needs two Hyperband iterations (one per stage), the random sample three configurations.
    """
    from hpo_kit.schedulers.hyperband import check_resources

    check_resources(min_budget, max_budget, eta)
    if max_budget < min_budget * eta:
        raise ValueError(f"max_budget must be >= min_budget * eta = {min_budget * eta} so that there are at least "
                         f"two budgets to correlate, got min_budget={min_budget}, max_budget={max_budget}, eta={eta}")
    if isinstance(n_iterations, bool) or not isinstance(n_iterations, int) or n_iterations < 2:
        raise ValueError(f"n_iterations must be an integer >= 2 (the separate search needs one per stage), got {n_iterations!r}")
    if isinstance(n_random_sample, bool) or not isinstance(n_random_sample, int) or n_random_sample < 3:
        raise ValueError(f"n_random_sample must be an integer >= 3, got {n_random_sample!r}")
    _check_search("bohb", n_iterations, 0, backend, n_workers)
    if backend == "sequential" and n_workers != 1:
        raise ValueError(f"the sequential backend runs one training at a time: n_workers must be 1, got {n_workers}")
    return rung_budgets(min_budget, max_budget, eta)


# -- spaces -----------------------------------------------------------------------------------------
def space_table(space: ConfigurationSpace) -> pd.DataFrame:
    """The hyperparameters of a space: name, kind (architecture/training), range, log scale, default."""
    rows = []
    for name in HYPERPARAMETER_NAMES:
        if name not in space:
            continue
        hp = space[name]
        rows.append({"hyperparameter": name, "kind": "architecture" if name in ARCHITECTURE_NAMES else "training",
                     "type": type(hp).__name__.replace("UniformFloatHyperparameter", "float")
                     .replace("UniformIntegerHyperparameter", "integer"),
                     "lower": hp.lower, "upper": hp.upper, "log": bool(hp.log), "default": hp.default_value})
    return pd.DataFrame(rows)


def sub_space(space: ConfigurationSpace, names: Sequence[str], seed: int | None = None) -> ConfigurationSpace:
    """A space with only the hyperparameters ``names`` of ``space`` (same ranges, scales and defaults)."""
    if not isinstance(space, ConfigurationSpace):
        raise TypeError(f"space must be a ConfigSpace.ConfigurationSpace, got {type(space).__name__}")
    unknown = [n for n in names if n not in space]
    if unknown or not names:
        raise ValueError(f"names must be a non-empty list of hyperparameters of the space; unknown: {unknown}")
    part = ConfigurationSpace(name=f"{space.name}_part", seed=seed)
    part.add(*(space[n] for n in names))
    return part


# -- one search -------------------------------------------------------------------------------------
def _check_search(method: str, n_iterations: int, kde_min_points: int, backend: str, n_workers: int) -> None:
    if method not in SEARCH_METHODS:
        raise ValueError(f"method must be one of {list(SEARCH_METHODS)}, got {method!r}")
    if isinstance(n_iterations, bool) or not isinstance(n_iterations, int) or n_iterations < 1:
        raise ValueError(f"n_iterations must be an integer >= 1, got {n_iterations!r}")
    if isinstance(kde_min_points, bool) or not isinstance(kde_min_points, int) or kde_min_points < 0:
        raise ValueError(f"kde_min_points must be an integer >= 0 (0 = d + 1, BOHB's default), got {kde_min_points!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")


def new_backend(backend: str, n_workers: int, dask_address: str = ""):
    """A fresh backend (``run_hpo`` closes the one it is given). Local workers fork from a server
    process that has imported the kit once (``forkserver``) where the platform has it."""
    if backend == "sequential":
        return make_backend("sequential")
    if backend == "local":
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        return make_backend("local", n_workers=n_workers, start_method=method)
    return make_backend("dask", n_workers=n_workers, address=dask_address or None)


def _fingerprint(objective: JointSpaceObjective, **settings: Any) -> dict[str, Any]:
    """What decides a run's results: resuming from a log made with anything else would be wrong."""
    fields = {f.name: getattr(objective, f.name) for f in dataclasses.fields(objective)
              if f.name not in ("checkpoint_dir", "config_to_training", "space", "splits_factory")}
    fields["space"] = str(objective.space)
    fields["splits_factory"] = getattr(objective.splits_factory, "__qualname__", repr(objective.splits_factory))
    fields["scale"] = repr(objective.scale)
    return json.loads(json.dumps({**fields, **settings}, default=repr))


def _may_resume(run_dir: Path, fingerprint: dict[str, Any]) -> bool:
    """True if ``run_dir`` holds a run made with the same settings; records the settings either way."""
    settings_path = run_dir / "settings.json"
    resume = settings_path.exists() and json.loads(settings_path.read_text()) == fingerprint
    if settings_path.exists() and not resume:
        print(f"{run_dir}: settings changed since the logged run; starting it over")
    settings_path.write_text(json.dumps(fingerprint, indent=1, sort_keys=True))
    return resume


def run_search(method: str, objective: JointSpaceObjective, run_dir: str | Path, seed: int, *, n_iterations: int,
               eta: int = 3, kde_min_points: int = 0, backend: str = "sequential", n_workers: int = 1,
               dask_address: str = "", overlap_brackets: bool = True, keep_checkpoints: bool = False,
               progress: bool = True, bracket_rule: str = "li", kde_mode: str = "kit", label: str = "") -> HPOResult:
    """One search over ``objective.space`` between the objective's ``min_resource`` and ``max_resource``.

    ``method``: "bohb" (Hyperband + KDE), "hyperband" (Hyperband + random sampling) or "random"
    (random search with the epochs of ``n_iterations`` Hyperband iterations). ``kde_min_points``:
    BOHB's ``N_min`` (a budget needs ``N_min + 2`` results before its KDE is used); 0 = d + 1.
    ``overlap_brackets``: a worker with nothing to do in the current Hyperband bracket (its rung waits
    for the last results) starts the next bracket, as HpBandSter (the paper's BOHB) does; False is
    the textbook synchronous algorithm, which leaves such workers idle. ``bracket_rule``: configurations
    per bracket, "hpbandster" (HpBandSter's floor, the paper's BOHB code) or "li" (Li et al.'s ceiling);
    ``kde_mode``: BOHB's KDE, "hpbandster" (parity: N_min >= d + 1, no KDE on <= d points, disjoint
    good/bad sets, unwidened categorical bandwidths) or "kit" (see :mod:`hpo_kit.searchers.kde`).
    Checkpoints go to ``<run_dir>/checkpoints`` and are deleted after a finished run unless
    ``keep_checkpoints``. ``label`` names the run's progress bar (default "<method>, seed <seed>").
    """
    _check_search(method, n_iterations, kde_min_points, backend, n_workers)
    if not isinstance(objective, JointSpaceObjective):
        raise TypeError(f"objective must be a JointSpaceObjective, got {type(objective).__name__}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    r_min, r_max = int(objective.min_resource), int(objective.max_resource)
    options: dict[str, Any] = {}
    if method == "random":
        n_trials = random_search_trials(r_min, r_max, eta, n_iterations, bracket_rule)
        scheduler = make_scheduler("random", objective.space, r_max, r_max, eta=eta, seed=seed, max_trials=n_trials)
        stop = StopCriteria(max_evaluations=n_trials)
    else:
        if method == "bohb":
            options["searcher_config"] = {"min_points_in_model": kde_min_points or None, "mode": kde_mode}
        scheduler = make_scheduler(method, objective.space, r_min, r_max, eta=eta, seed=seed,
                                   n_iterations=n_iterations, overlap_brackets=bool(overlap_brackets),
                                   bracket_rule=bracket_rule, **options)
        stop = StopCriteria()

    resume = _may_resume(run_dir, _fingerprint(objective, method=method, seed=seed, n_iterations=n_iterations,
                                               eta=eta, kde_min_points=kde_min_points,
                                               overlap_brackets=bool(overlap_brackets) and method != "random",
                                               bracket_rule=bracket_rule,
                                               **({"kde_mode": kde_mode} if method == "bohb" else {})))

    checkpoints = run_dir / "checkpoints"
    objective = dataclasses.replace(objective, checkpoint_dir=checkpoints)
    planned = stop.max_evaluations or hyperband_evaluations(r_min, r_max, eta, n_iterations, bracket_rule)
    with naming(label or f"{method}, seed {seed}", total=planned):
        result = run_hpo(objective, scheduler, new_backend(backend, n_workers, dask_address), run_dir, seed,
                         stop=stop, resume=resume, progress=progress)
    if not keep_checkpoints and result.stop_reason in ("scheduler finished", "max_evaluations"):
        shutil.rmtree(checkpoints, ignore_errors=True)
    return result


def incumbent(result: HPOResult) -> dict[str, Any]:
    """The run's incumbent (best validation error at the largest budget reached) and its test error.

    The test error is the one measured with that same result: nothing is chosen by test error.
    """
    results = result.results
    if result.best_trial_id is None or results.empty:
        return {"val_error": math.nan, "test_error": math.nan, "trial_id": None, "budget": None, "config": None}
    row = results[(results["trial_id"] == result.best_trial_id) & (results["resource"] == result.best_resource)].iloc[0]
    test_error = float(row["info_test_error"]) if "info_test_error" in row.index else math.nan
    return {"val_error": float(result.best_loss), "test_error": test_error, "trial_id": int(result.best_trial_id),
            "budget": int(result.best_resource), "config": dict(result.best_config or {})}


# -- several searches -------------------------------------------------------------------------------
def compare_methods(objective: JointSpaceObjective, methods: Sequence[str], seeds: Sequence[int],
                    run_dir: str | Path, **search: Any) -> dict[tuple[str, int], HPOResult]:
    """:func:`run_search` for every method and seed; ``search`` are its keyword arguments.

    Runs go to ``<run_dir>/<method>/seed_<seed>``.
    """
    if not methods or not seeds:
        raise ValueError("methods and seeds must not be empty")
    for method in methods:
        if method not in SEARCH_METHODS:
            raise ValueError(f"methods must be among {list(SEARCH_METHODS)}, got {method!r}")
    runs: dict[tuple[str, int], HPOResult] = {}
    for seed in seeds:
        for method in methods:
            runs[(method, int(seed))] = run_search(method, objective, Path(run_dir) / method / f"seed_{seed}",
                                                   int(seed), **search)
    return runs


def final_table(runs: Mapping[tuple[str, int], HPOResult]) -> pd.DataFrame:
    """One row per run: method, seed, incumbent's validation and test error, epochs and evaluations."""
    rows = []
    for (method, seed), result in runs.items():
        best = incumbent(result)
        rows.append({"method": method, "seed": seed, "val_error": best["val_error"], "test_error": best["test_error"],
                     "total_epochs": result.total_resource, "n_evaluations": result.n_evaluations,
                     "n_configs": int(result.results["trial_id"].nunique()) if not result.results.empty else 0,
                     "elapsed_s": result.elapsed})
    return pd.DataFrame(rows)


@dataclass
class SeparateSearch:
    """The two stages of the separate search and what they found."""

    architecture: HPOResult  # BOHB over the 10 architecture hyperparameters, training fixed
    training: HPOResult  # BOHB over the 7 training hyperparameters of the best architecture
    best_config: dict[str, Any]  # all 17 hyperparameters of the final incumbent
    val_error: float  # its validation error at the largest budget
    test_error: float  # its test error, measured with that same result
    total_epochs: float  # epochs trained by both stages
    stage: str = "training"  # which stage's incumbent is the final one: "architecture" or "training"


def better_stage(architecture: Mapping[str, Any], training: Mapping[str, Any], max_resource: int) -> str:
    """Which stage's incumbent (dicts from :func:`incumbent`) the separate search keeps.

    Stage 2 starts from stage 1's architecture but may still end worse than stage 1's incumbent (its
    training hyperparameters are searched from scratch, with fewer iterations): the search keeps
    whichever has the lower validation error at ``max_resource``. Only incumbents at that budget
    count (a lower loss after fewer epochs is no evidence); stage 2 replaces stage 1 only if strictly
    better, and ties keep stage 1. Nothing here looks at test errors.
    """
    def usable(best: Mapping[str, Any]) -> bool:
        return best.get("budget") == max_resource and math.isfinite(best.get("val_error", math.nan))

    if usable(training) and (not usable(architecture) or training["val_error"] < architecture["val_error"]):
        return "training"
    if usable(architecture):
        return "architecture"
    raise RuntimeError(f"neither stage of the separate search has a result at the largest budget ({max_resource})")


def separate_search(objective: JointSpaceObjective, run_dir: str | Path, seed: int, *, n_iterations: int,
                    standard_training: Mapping[str, Any] = STANDARD_TRAINING, **search: Any) -> SeparateSearch:
    """Architecture search, then hyperparameter search, with ``n_iterations`` Hyperband iterations in all.

    Stage 1 (``ceil(n/2)`` iterations) searches the architecture with ``standard_training``; stage 2
    (``floor(n/2)`` iterations) searches the training hyperparameters of stage 1's incumbent. Both
    use BOHB; ``search`` are further :func:`run_search` arguments (eta, backend, ...). The final
    incumbent is the better of the two stages' incumbents (:func:`better_stage`); its test error is
    the one measured with it.
    """
    if isinstance(n_iterations, bool) or not isinstance(n_iterations, int) or n_iterations < 2:
        raise ValueError(f"n_iterations must be an integer >= 2 (one or more per stage), got {n_iterations!r}")
    if set(standard_training) != set(TRAINING_NAMES):
        raise ValueError(f"standard_training must set exactly {list(TRAINING_NAMES)}, got {sorted(standard_training)}")
    joint = objective.space
    run_dir = Path(run_dir)
    arch_objective = dataclasses.replace(objective, space=sub_space(joint, ARCHITECTURE_NAMES),
                                         fixed_values=dict(standard_training))
    arch = run_search("bohb", arch_objective, run_dir / "architecture", seed, n_iterations=math.ceil(n_iterations / 2),
                      label=f"separate search, architecture stage, seed {seed}", **search)
    arch_best = incumbent(arch)
    best_arch = arch_best["config"]
    if not best_arch:
        raise RuntimeError(f"the architecture stage in {run_dir / 'architecture'} produced no result")
    train_objective = dataclasses.replace(objective, space=sub_space(joint, TRAINING_NAMES),
                                          fixed_values={k: best_arch[k] for k in ARCHITECTURE_NAMES})
    training = run_search("bohb", train_objective, run_dir / "training", seed, n_iterations=n_iterations // 2,
                          label=f"separate search, training stage, seed {seed}", **search)
    train_best = incumbent(training)
    stage = better_stage(arch_best, train_best, int(objective.max_resource))
    if stage == "architecture":
        best, config = arch_best, {**dict(standard_training), **best_arch}
    else:
        best, config = train_best, {**train_objective.fixed_values, **(train_best["config"] or {})}
    return SeparateSearch(architecture=arch, training=training, best_config=config,
                          val_error=best["val_error"], test_error=best["test_error"],
                          total_epochs=arch.total_resource + training.total_resource, stage=stage)


def separate_table(searches: Mapping[int, SeparateSearch], method: str = "separate") -> pd.DataFrame:
    """Rows like :func:`final_table`'s for separate searches keyed by seed."""
    rows = [{"method": method, "seed": seed, "val_error": s.val_error, "test_error": s.test_error,
             "stage": s.stage, "total_epochs": s.total_epochs,
             "n_evaluations": s.architecture.n_evaluations + s.training.n_evaluations,
             "n_configs": int(s.architecture.results["trial_id"].nunique() + s.training.results["trial_id"].nunique()),
             "elapsed_s": s.architecture.elapsed + s.training.elapsed}
            for seed, s in searches.items()]
    return pd.DataFrame(rows)


# -- tables for the rank correlation and fANOVA -----------------------------------------------------
def _config_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={f"config_{n}": n for n in HYPERPARAMETER_NAMES})


def random_sample_at_budgets(objective: JointSpaceObjective, n_configs: int, seed: int, run_dir: str | Path,
                             budgets: Sequence[int], **search: Any) -> pd.DataFrame:
    """Train ``n_configs`` random configurations once to ``max_resource``; their loss at every budget.

    Returns one row per (configuration, budget): ``config_id``, ``budget``, ``loss`` (validation
    error after that many epochs), ``test_error`` (at ``max_resource`` only) and the 17
    hyperparameters. ``search``: ``backend``, ``n_workers``, ``dask_address``, ``progress``.
    """
    if isinstance(n_configs, bool) or not isinstance(n_configs, int) or n_configs < 1:
        raise ValueError(f"n_configs must be an integer >= 1, got {n_configs!r}")
    bad = [b for b in budgets if not objective.min_resource <= b <= objective.max_resource]
    if bad or not budgets:
        raise ValueError(f"budgets must be epochs in [{objective.min_resource}, {objective.max_resource}], got {list(budgets)}")
    unknown = sorted(set(search) - {"backend", "n_workers", "dask_address", "progress"})
    if unknown:
        raise TypeError(f"random_sample_at_budgets does not take {unknown}")
    r_max = int(objective.max_resource)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume = _may_resume(run_dir, _fingerprint(objective, method="random_sample", seed=seed, n_configs=n_configs))
    scheduler = make_scheduler("random", objective.space, r_max, r_max, seed=seed, max_trials=n_configs)
    backend = new_backend(search.get("backend", "sequential"), search.get("n_workers", 1), search.get("dask_address", ""))
    result = run_hpo(objective, scheduler, backend, run_dir, seed, stop=StopCriteria(max_evaluations=n_configs),
                     resume=resume, progress=search.get("progress", True))
    rows = []
    for row in _config_columns(result.results).to_dict("records"):
        losses = loss_at_budgets(row["info_val_curve"], list(budgets))
        config = {n: row[n] for n in HYPERPARAMETER_NAMES if n in row}
        for budget, loss in losses.items():
            rows.append({"config_id": int(row["trial_id"]), "budget": budget, "loss": loss,
                         "test_error": row.get("info_test_error", math.nan) if budget == r_max else math.nan,
                         **config})
    return pd.DataFrame(rows)


def survivors_table(runs: Sequence[HPOResult] | Mapping[Any, HPOResult]) -> pd.DataFrame:
    """Every result of the given (BOHB / Hyperband) runs: ``config_id`` ("<run>:<trial>"), ``budget``, ``loss``.

    A configuration has a loss at a budget only if successive halving let it get there.
    """
    items = runs.items() if isinstance(runs, Mapping) else enumerate(runs)
    frames = []
    for key, result in items:
        results = _config_columns(result.results)
        if results.empty:
            continue
        label = "-".join(map(str, key)) if isinstance(key, tuple) else str(key)
        frame = pd.DataFrame({"config_id": [f"{label}:{t}" for t in results["trial_id"]],
                              "budget": results["resource"].astype(int), "loss": results["loss"].astype(float)})
        for name in HYPERPARAMETER_NAMES:
            if name in results.columns:
                frame[name] = results[name].to_numpy()
        frames.append(frame)
    if not frames:
        raise ValueError("the runs have no results")
    return pd.concat(frames, ignore_index=True)


# -- summaries of runs, and over seeds -------------------------------------------------------------
def anytime_table(runs: Mapping[tuple[str, int], HPOResult], max_resource: int) -> pd.DataFrame:
    """Best validation error at ``max_resource`` against epochs trained so far, for every run.

    Columns ``method``, ``seed``, ``epochs`` (cumulative, continued trials count only their new
    epochs) and ``best_val_error`` (NaN until the first result at the largest budget: a 1-epoch
    loss is no evidence of how a configuration does after ``max_resource`` epochs).
    """
    rows = []
    for (method, seed), result in runs.items():
        epochs, best = 0.0, math.nan
        for row in result.results.itertuples(index=False):
            epochs += row.resource - row.previous_resource
            if row.resource == max_resource and not (row.loss >= best):
                best = float(row.loss)
            rows.append({"method": method, "seed": seed, "epochs": epochs, "best_val_error": best})
    return pd.DataFrame(rows, columns=["method", "seed", "epochs", "best_val_error"])


def method_summary(table: pd.DataFrame, metrics: Sequence[str] = ("val_error", "test_error")) -> pd.DataFrame:
    """Mean, standard error and number of seeds of each metric per method (rows of :func:`final_table`)."""
    rows = []
    for method, group in table.groupby("method", sort=False):
        row: dict[str, Any] = {"method": method}
        for metric in metrics:
            mean, se, _ = mean_and_se(group[metric])
            row.update({f"{metric}_mean": mean, f"{metric}_se": se})
        row["n_seeds"] = len(group)
        if "total_epochs" in group.columns:
            row["epochs_per_run"] = float(group["total_epochs"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "BACKENDS", "SEARCH_METHODS", "STANDARD_TRAINING", "SeparateSearch", "anytime_table", "check_settings",
    "better_stage", "compare_methods", "final_table", "incumbent", "iteration_resource", "method_summary",
    "new_backend", "random_sample_at_budgets", "random_search_trials", "rung_budgets", "run_search",
    "separate_search", "separate_table", "space_table", "sub_space", "survivors_table",
]
