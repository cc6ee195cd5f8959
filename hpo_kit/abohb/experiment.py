"""Many simulated HPO runs on a learning-curve table, and the per-run frames the claims are decided on.

Each run is ``run_hpo(TabularObjective(table), make_scheduler(method, ...), SimulatorBackend(n),
...)`` stopped after ``horizon`` simulated seconds, logged to its own folder. Runs are independent,
so they are spread over ``n_processes`` local processes (the simulator itself is single-threaded
Python); with ``n_processes=1`` they run in this process, one after the other. Without decision-time
charging the result is the same either way: every run is a deterministic function of its
(method, n_workers, seed).

With ``charge_decision_time=True`` the scheduler's own time between backend calls (A-BOHB's GP
fits and proposals, BOHB's KDE, ...) is added to the simulated clock, measured as the CPU time of
the simulating thread (``decision_clock="thread"``, less sensitive to other processes on a shared
machine than wall time). Such runs are closer to what a real cluster would see, but they are no
longer bit-reproducible: the same seed gives slightly different clocks from run to run.

The second half of the module turns run logs into the long frames ``hpo_kit.abohb.claims`` reads:
one row per run (``method``, ``seed``, ``charged``, ...), so the claims can be calibrated on
frames simulated directly (``tests/test_claims_abohb.py``).
"""
from __future__ import annotations

import math
import os
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hpo_kit.progress import show_item

from hpo_kit.analysis import curves
from hpo_kit.parallel import limit_threads
from hpo_kit.validation import check_int

#: methods whose searcher takes a ``GPSearcherConfig`` (A-BOHB)
GP_METHODS = ("gp", "abohb-stopping", "abohb-promotion")
#: synchronous Hyperband methods (take ``overlap_brackets``)
SYNC_METHODS = ("hyperband", "bohb")
DECISION_CLOCKS = ("thread", "wall")


BRACKET_RULES = ("hpbandster", "li")
KDE_MODES = ("hpbandster", "kit")
GP_MODES = ("kit", "mobster")
PROMOTION_RULES = ("asha_floor", "interpolated")
ON_EXHAUSTED = ("stop", "repeat")


@dataclass(frozen=True)
class SimulationSettings:
    """What every simulated run of a grid shares."""

    table_path: str | None = None  # table file (or shard folder) to replay; None: the benchmark's shipped file
    cost: str = "cpu"  # per-epoch cost column: "wall" or "cpu" (see mnist_mlp_curves.load_table)
    max_rows: int | None = None  # use only the first rows of the table (None = all)
    min_resource: int = 1  # smallest resource (epochs) a scheduler hands out
    max_resource: int = 81  # largest resource (epochs); <= the table's epochs
    eta: int = 3  # reduction factor of the Hyperband family
    horizon: float = 600.0  # simulated seconds each run lasts
    gp_config: dict[str, Any] = field(default_factory=dict)  # GPSearcherConfig fields for A-BOHB
    seed_offset: int = 0  # run r of a method uses seed seed_offset + r
    restrict_to_table: bool = False  # searchers choose among the table's untried rows (no repeats)
    overlap_brackets: bool = True  # synchronous Hyperband/BOHB: idle workers open the next bracket (HpBandSter)
    charge_decision_time: bool = False  # add the scheduler's decision time to the simulated clock
    decision_clock: str = "thread"  # which time is charged: "thread" (CPU time of this thread) or "wall"
    benchmark: str = "mnist_mlp"  # hpo_kit.blackboxes.registry name of the table
    bracket_rule: str = "hpbandster"  # synchronous Hyperband/BOHB bracket sizes: HpBandSter's floor or Li et al.'s ceil
    kde_mode: str = "hpbandster"  # BOHB's KDE: HpBandSter parity or the kit's reading of the paper
    gp_mode: str = "kit"  # A-BOHB's GP: the kit's defaults or Syne Tune's MOBSTER defaults
    promotion_rule: str = "asha_floor"  # asynchronous rung rule: ASHA's floor(n/eta) or Syne Tune's quantile
    on_exhausted: str = "stop"  # restricted searchers, all rows tried: stop starting trials, or repeat rows
    table_digest: str | None = None  # digest of the table the grid is planned on; every run checks it replays that one
    error_shift: float = 0.0  # added to every validation error the table answers with (end-to-end nulls: a
    #                           difference planted exactly, e.g. at an equivalence margin); 0 in the notebook

    def validate(self) -> None:
        if self.cost not in ("wall", "cpu"):
            raise ValueError(f"cost must be 'wall' or 'cpu', got {self.cost!r}")
        if not self.horizon > 0:
            raise ValueError(f"horizon must be a number of simulated seconds > 0, got {self.horizon!r}")
        if not (isinstance(self.error_shift, (int, float)) and math.isfinite(self.error_shift)
                and abs(self.error_shift) < 0.5):
            raise ValueError(f"error_shift must be a finite number of error units in (-0.5, 0.5), got {self.error_shift!r}")
        if self.table_path is not None and not Path(self.table_path).exists():
            raise FileNotFoundError(f"table_path {self.table_path} does not exist")
        for name in ("restrict_to_table", "overlap_brackets", "charge_decision_time"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.decision_clock not in DECISION_CLOCKS:
            raise ValueError(f"decision_clock must be one of {list(DECISION_CLOCKS)}, got {self.decision_clock!r}")
        for name, allowed in (("bracket_rule", BRACKET_RULES), ("kde_mode", KDE_MODES), ("gp_mode", GP_MODES),
                              ("promotion_rule", PROMOTION_RULES), ("on_exhausted", ON_EXHAUSTED)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")
        from hpo_kit.blackboxes.registry import BLACKBOX_NAMES

        if self.benchmark not in BLACKBOX_NAMES:
            raise ValueError(f"benchmark must be one of {list(BLACKBOX_NAMES)}, got {self.benchmark!r}")


#: the table a grid was planned on, once loaded and checked against its digest, by settings
_PLANNED_TABLES: dict[tuple, Any] = {}


def _files_fingerprint(settings: SimulationSettings) -> tuple:
    """(name, size, mtime) of the files the table is read from: a file rewritten or a shard landing
    since the table was cached makes a new key, so the digest check runs again on what is there now."""
    path = settings.table_path
    if path is None and settings.benchmark == "mnist_mlp_4k":
        from hpo_kit.blackboxes.mnist_mlp_large import DEFAULT_FOLDER as path
    elif path is None and settings.benchmark == "mnist_mlp":
        from hpo_kit.blackboxes.mnist_mlp_curves import DEFAULT_TABLE as path
    if path is None or not Path(path).exists():
        return ("uncached", id(settings))
    files = sorted(Path(path).rglob("*")) if Path(path).is_dir() else [Path(path)]
    return tuple((str(f), st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()] if f.is_file())


def load_benchmark(settings: SimulationSettings, quiet: bool = False):
    """The table the settings name (``benchmark``, ``table_path``, ``cost``, ``max_rows``).

    With ``settings.table_digest``, a different table is a ValueError: a shard of ``mnist_mlp_4k``
    that lands while a grid runs must not give later runs more rows than the earlier ones had.
    ``quiet`` drops the unfinished-measurement warning (the caller has given it once already).
    """
    import warnings

    from hpo_kit.blackboxes.mnist_mlp_large import IncompleteBlackboxWarning
    from hpo_kit.blackboxes.registry import load_blackbox

    key = (settings.benchmark, settings.table_path, settings.cost, settings.max_rows, settings.table_digest,
           _files_fingerprint(settings))
    if settings.table_digest is not None and key in _PLANNED_TABLES:
        # this process has loaded and checked the planned table before: it is that table (reading 64
        # shards again for every run cost over a second per simulated run, more than most runs)
        return _PLANNED_TABLES[key]
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", IncompleteBlackboxWarning)
        table = load_blackbox(settings.benchmark, cost=settings.cost, max_rows=settings.max_rows,
                              path=settings.table_path)
    if settings.table_digest is not None and table.digest() == settings.table_digest:
        _PLANNED_TABLES.clear()  # one planned table at a time is all a grid needs
        _PLANNED_TABLES[key] = table
    if settings.table_digest is not None and table.digest() != settings.table_digest:
        raise ValueError(f"benchmark {settings.benchmark!r} (max_rows={settings.max_rows}) now loads as table "
                         f"{table.digest()} ({table.n_configs} rows), not the table {settings.table_digest} the grid "
                         "was planned on: pin max_rows to the planned rows, or plan the grid again")
    return table


def method_options(settings: SimulationSettings, method: str) -> dict[str, Any]:
    """The ``make_scheduler`` options of ``method`` under ``settings`` (parity modes, rules)."""
    options: dict[str, Any] = {}
    if method in GP_METHODS:
        if settings.gp_mode == "mobster":
            from hpo_kit.searchers.gp_searcher import mobster_config

            extra = {} if method != "gp" else {"mean": "constant"}  # GP-EI has no resource input
            options["searcher_config"] = asdict(mobster_config(**{**extra, **dict(settings.gp_config)}))
        elif settings.gp_config:
            options["searcher_config"] = dict(settings.gp_config)
    if method in SYNC_METHODS:
        options["overlap_brackets"] = settings.overlap_brackets
        options["bracket_rule"] = settings.bracket_rule
    if method == "bohb":
        options["searcher_config"] = {"mode": settings.kde_mode}
    if method.startswith(("asha-", "abohb-")):
        options["promotion_rule"] = settings.promotion_rule
    if settings.restrict_to_table:
        options["on_exhausted"] = settings.on_exhausted
    return options


def run_dir_of(root: Path, method: str, n_workers: int, seed: int) -> Path:
    return Path(root) / f"{method}_w{n_workers}_s{seed}"


def simulate_one(settings: SimulationSettings, method: str, n_workers: int, seed: int, root: str | Path) -> str:
    """One simulated run; returns the path of its ``trials.jsonl``."""
    from hpo_kit.backends.simulator import SimulatorBackend
    from hpo_kit.methods import make_scheduler
    from hpo_kit.objectives.tabular import TabularObjective
    from hpo_kit.stopping import StopCriteria
    from hpo_kit.tuner import run_hpo

    limit_threads()
    table = load_benchmark(settings, quiet=settings.table_digest is not None)
    if settings.error_shift:
        # every row's curve moved by the same amount: rank-based rules decide exactly as before, and any
        # incumbent is worse (or better) by exactly the shift, which is what a null at a margin needs
        table = replace(table, val_error=table.val_error + settings.error_shift)
    objective = TabularObjective(table, min_resource=1)
    options = method_options(settings, method)
    # without the restriction, model-based searchers keep proposing points whose nearest row is
    # one they already tried, and the simulator replays that row's curve again
    candidates = objective.candidates() if settings.restrict_to_table else None
    scheduler = make_scheduler(method, objective.space, settings.min_resource, settings.max_resource,
                               settings.eta, seed=seed, candidates=candidates, **options)
    backend = SimulatorBackend(n_workers, charge_decision_time=settings.charge_decision_time,
                               decision_clock=settings.decision_clock)
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
    check_int("n_seeds", n_seeds, 1)
    check_int("n_processes", n_processes, 1)

    def slowness(m: str) -> int:
        return 0 if m in GP_METHODS else 1 if m == "bohb" else 2

    tasks = [(m, w, settings.seed_offset + r) for m in sorted(methods, key=slowness) for w in n_workers
             for r in range(n_seeds)]
    paths: dict[tuple[str, int, int], str] = {}
    wrap = progress or (lambda it, **_: it)
    desc = "simulated runs" + (" (decision time charged)" if settings.charge_decision_time else "")
    desc += " (method x workers x seed)"
    if n_processes == 1:
        bar = wrap(tasks, desc=desc, total=len(tasks))
        for m, w, s in bar:
            paths[(m, w, s)] = simulate_one(settings, m, w, s, root)
            show_item(bar, f"last: {m}, {w} workers, seed {s}")
    else:
        from hpo_kit.parallel import process_pool

        with process_pool(n_processes) as pool:
            futures = {pool.submit(simulate_one, settings, m, w, s, str(root)): (m, w, s) for m, w, s in tasks}
            bar = wrap(as_completed(futures), desc=desc, total=len(tasks))
            for future in bar:
                paths[futures[future]] = future.result()
                m, w, s = futures[future]
                show_item(bar, f"last: {m}, {w} workers, seed {s}")
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


def gp_config_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """A-BOHB's searcher overrides from the notebook's ``gp_*`` parameters (0 keeps the searcher's default)."""
    overrides = {"n_random_candidates": values.get("gp_random_candidates", 0), "n_fantasies": values.get("gp_fantasies", 0),
                 "max_fit_points": values.get("gp_max_fit_points", 0), "refit_every": values.get("gp_refit_every", 0),
                 "max_model_points": values.get("gp_max_model_points", 0)}
    return {k: v for k, v in overrides.items() if v > 0}


def settings_from_params(values: Mapping[str, Any], table) -> SimulationSettings:
    """The simulation settings notebook 04 builds from its parameters, replaying exactly ``table``.

    Shared by the notebook and its end-to-end null checks (:mod:`hpo_kit.abohb.null_checks`), so both
    simulate the same design."""
    return SimulationSettings(table_path=values.get("benchmark_path") or None, benchmark=values["benchmark"],
                              cost=values["cost"], max_rows=table.n_configs, table_digest=table.digest(),
                              min_resource=values["min_resource"], max_resource=values["max_resource"],
                              eta=values["eta"], horizon=float(values["horizon_s"]), gp_config=gp_config_of(values),
                              seed_offset=values["seed"], restrict_to_table=values["restrict_to_table"],
                              overlap_brackets=values["overlap_brackets"], bracket_rule=values["bracket_rule"],
                              kde_mode=values["kde_mode"], gp_mode=values["gp_mode"],
                              promotion_rule=values["promotion_rule"], on_exhausted=values["on_exhausted"])


def target_errors(table, max_resource: int, quantiles: Sequence[float]) -> dict[str, float]:
    """The named target errors ``q<quantile>``: quantiles of the table's errors at ``max_resource``.

    They are fixed by the table before any run, the same for every method: no method reaches a target
    by definition (as it would if the target were one arm's own final error)."""
    final = table.val_error[:, max_resource - 1]
    return {f"q{q:g}": float(np.quantile(final, q)) for q in quantiles}


def early_time(table, max_resource: int, full_trainings: float, horizon: float) -> float:
    """"Early in the run": the simulated time of ``full_trainings`` average full trainings, at most the horizon."""
    full_cost = table.epoch_time[:, :max_resource].sum(axis=1)
    return float(min(full_trainings * float(full_cost.mean()), horizon))


ASYNC_METHODS = ("asha-stopping", "asha-promotion", "abohb-stopping", "abohb-promotion")


def claim_frames(logs: Mapping[str, Sequence[pd.DataFrame]], charged_logs: Mapping[str, Sequence[pd.DataFrame]],
                 n_rows: int, horizon: float, seeds: Sequence[int], t_early: float, targets: Mapping[str, float],
                 convention: str) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame, pd.DataFrame]:
    """The frames notebook 04's claims are decided on: ``(exhaustion, times, incumbents, targets)``.

    ``logs`` / ``charged_logs`` map each method to its runs (seeds in order; ``charged_logs`` may be
    empty). The comparison time is the earliest exhaustion over every run of the asynchronous methods
    present (charged and uncharged), at most half the horizon. Used by the notebook and by its
    end-to-end null checks, so both decide on the same frames."""
    exhaustion = pd.concat([exhaustion_frame(logs, n_rows, horizon, seeds, charged=False)]
                           + ([exhaustion_frame(charged_logs, n_rows, horizon, seeds, charged=True)]
                              if charged_logs else []), ignore_index=True)
    present = [m for m in ASYNC_METHODS if m in logs]
    t_compare = comparison_time(exhaustion, present, at_most=horizon / 2) if present else horizon / 2
    times = {"early": float(t_early), "comparison": t_compare, "half-way": horizon / 2, "end": float(horizon)}
    incumbents = pd.concat([incumbent_frame(logs, times, seeds, charged=False, convention=convention)]
                           + ([incumbent_frame(charged_logs, times, seeds, charged=True, convention=convention)]
                              if charged_logs else []), ignore_index=True)
    target_runs = pd.concat([target_frame(logs, targets, seeds, charged=False, convention=convention)]
                            + ([target_frame(charged_logs, targets, seeds, charged=True, convention=convention)]
                               if charged_logs else []), ignore_index=True)
    return exhaustion, times, incumbents, target_runs


def with_decision_time(settings: SimulationSettings) -> SimulationSettings:
    """The same settings with decision time charged to the simulated clock (thread CPU time)."""
    return replace(settings, charge_decision_time=True)


# ------------------------------------------------------------------------------ per-run frames
def _runs(logs: Mapping[str, Sequence[pd.DataFrame]], seeds: Sequence[int] | None):
    for method, runs in logs.items():
        ids = list(seeds) if seeds is not None else list(range(len(runs)))
        if len(ids) != len(runs):
            raise ValueError(f"method {method!r} has {len(runs)} runs but {len(ids)} seeds were given")
        for seed, log in zip(ids, runs):
            yield method, int(seed), log


def trial_rows(log: pd.DataFrame) -> pd.DataFrame:
    """Each trial's start time and table row: ``trial_id``, ``start``, ``row`` (NaN if no result came back).

    The tabular objective reports the row it answered with as ``info_row``; a trial that was still
    running at the end has no result, and so no known row.
    """
    starts = log[log["event"] == "start"][["trial_id", "time"]].rename(columns={"time": "start"})
    starts = starts.drop_duplicates("trial_id")
    if "info_row" in log.columns:
        done = log[(log["event"] == curves.RESULT) & log["info_row"].notna()]
        rows = done.drop_duplicates("trial_id").set_index("trial_id")["info_row"].astype(float)
    else:
        rows = pd.Series(dtype=float)
    out = starts.assign(row=starts["trial_id"].map(rows).astype(float))
    return out.sort_values("start", kind="stable").reset_index(drop=True)


def exhaustion_time(log: pd.DataFrame, n_rows: int) -> tuple[float, float]:
    """(when the run had started a trial on every one of the ``n_rows`` table rows, when it first
    started a trial on a row it had already tried); ``inf`` for what did not happen.

    A restricted searcher (``restrict_to_table``) suggests each row once before it repeats any, so
    the two times are consecutive starts; without the restriction repeats can come much earlier.
    Before the earlier of the two every trial of the run is a configuration never tried before.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 1:
        raise ValueError(f"n_rows must be an integer >= 1, got {n_rows!r}")
    trials = trial_rows(log)
    known = trials[trials["row"].notna()]
    seen: set[float] = set()
    all_tried, first_repeat = math.inf, math.inf
    for start, row in zip(known["start"], known["row"]):
        if row in seen:
            first_repeat = min(first_repeat, float(start))
        else:
            seen.add(row)
            if len(seen) == n_rows:
                all_tried = float(start)
        if math.isfinite(first_repeat) and math.isfinite(all_tried):
            break
    return all_tried, first_repeat


def ran_out_time(log: pd.DataFrame) -> float:
    """Time of the run log's ``exhausted`` event (the searcher took its last untried candidate; see
    :mod:`hpo_kit.searchers.candidates`), ``inf`` if the log has none."""
    events = log.loc[log["event"] == "exhausted", "time"]
    return float(events.iloc[0]) if len(events) else math.inf


def exhaustion_frame(logs: Mapping[str, Sequence[pd.DataFrame]], n_rows: int, horizon: float,
                     seeds: Sequence[int] | None = None, charged: bool = False) -> pd.DataFrame:
    """One row per run: ``method``, ``seed``, ``charged``, ``all_rows_tried``, ``first_repeat``,
    ``exhausted`` (the earlier of the two, ``inf`` if neither happened within ``horizon``),
    ``ran_out`` (the logged ``exhausted`` event: when the restricted searcher used up its rows; with
    ``on_exhausted="stop"`` no trial starts after it), ``trials``, ``distinct``."""
    out = []
    for method, seed, log in _runs(logs, seeds):
        all_tried, repeat = exhaustion_time(log, n_rows)
        n, distinct = curves.distinct_configurations(log)
        out.append({"method": method, "seed": seed, "charged": charged, "all_rows_tried": all_tried,
                    "first_repeat": repeat, "exhausted": min(all_tried, repeat), "ran_out": ran_out_time(log),
                    "horizon": float(horizon), "trials": n, "distinct": distinct})
    return pd.DataFrame(out, columns=["method", "seed", "charged", "all_rows_tried", "first_repeat", "exhausted",
                                      "ran_out", "horizon", "trials", "distinct"])


def comparison_time(exhaustion: pd.DataFrame, methods: Sequence[str], at_most: float) -> float:
    """The latest time at which no run of ``methods`` has exhausted the table: the minimum
    exhaustion time over their runs, capped at ``at_most`` (e.g. half the horizon).

    At that instant the last new row has just been started and not yet measured, so every result
    finished by then (what the incumbent is made of) comes from distinct rows. ``inf`` exhaustion
    times (no run exhausted the table) leave ``at_most``.
    """
    if not at_most > 0:
        raise ValueError(f"at_most must be a time > 0, got {at_most!r}")
    part = exhaustion[exhaustion["method"].isin(list(methods))]
    missing = sorted(set(methods) - set(part["method"]))
    if missing:
        raise ValueError(f"no exhaustion times for methods {missing}")
    first = float(part["exhausted"].min())
    return float(min(at_most, first))


def incumbent_frame(logs: Mapping[str, Sequence[pd.DataFrame]], times: Mapping[str, float],
                    seeds: Sequence[int] | None = None, charged: bool = False,
                    column: str = "best_loss", convention: str = "rung") -> pd.DataFrame:
    """One row per (run, named time): ``method``, ``seed``, ``charged``, ``when``, ``time``, ``value``
    (the incumbent's validation error, ``column="best_loss"``, or its test error; NaN before the run's
    first result)."""
    out = []
    labels = list(times)
    grid_order = np.argsort([times[k] for k in labels], kind="stable")
    grid = [float(times[labels[i]]) for i in grid_order]
    for method, seed, log in _runs(logs, seeds):
        values = curves.incumbent_on_grid(log, grid, column, convention=convention) if len(grid) else []
        for i, v in zip(grid_order, values):
            out.append({"method": method, "seed": seed, "charged": charged, "when": labels[i],
                        "time": float(times[labels[i]]), "value": float(v)})
    return pd.DataFrame(out, columns=["method", "seed", "charged", "when", "time", "value"])


def target_frame(logs: Mapping[str, Sequence[pd.DataFrame]], targets: Mapping[str, float],
                 seeds: Sequence[int] | None = None, charged: bool = False, convention: str = "rung") -> pd.DataFrame:
    """One row per (run, named target): ``method``, ``seed``, ``charged``, ``target_name``, ``target``,
    ``time`` (simulated seconds until the incumbent's validation error is <= target, ``inf`` if never)
    and ``epochs`` (epochs of finished jobs, all workers together, by then; ``inf`` if never)."""
    out = []
    for method, seed, log in _runs(logs, seeds):
        for name, target in targets.items():
            t = curves.time_to_target(log, float(target), convention=convention)
            epochs = curves.resource_to_target(log, float(target), convention=convention) if math.isfinite(t) else math.inf
            out.append({"method": method, "seed": seed, "charged": charged, "target_name": name,
                        "target": float(target), "time": t, "epochs": epochs})
    return pd.DataFrame(out, columns=["method", "seed", "charged", "target_name", "target", "time", "epochs"])


def shifts_over_time(incumbents: pd.DataFrame, pairs: Sequence[tuple[str, str]], level: float = 0.9,
                     charged: bool = False) -> pd.DataFrame:
    """Descriptive table: for each pair ``(a, b)`` and each named time, the Hodges-Lehmann shift of the
    incumbent's validation error ``a - b`` in points with its ``level`` interval (negative: ``a`` better).

    A run without a result by then counts as the worst error (inf). Verdicts are not made here
    (see :mod:`hpo_kit.abohb.claims`); this shows how a difference evolves over a run.
    """
    from hpo_kit import stats

    frame = incumbents[incumbents["charged"].astype(bool) == charged]
    out = []
    for a, b in pairs:
        for when, part in frame.groupby("when", sort=False):
            x = part.loc[part["method"] == a, "value"].to_numpy(float) * 100
            y = part.loc[part["method"] == b, "value"].to_numpy(float) * 100
            if len(x) == 0 or len(y) == 0:
                continue
            e = stats.shift_ci(np.where(np.isnan(x), np.inf, x), np.where(np.isnan(y), np.inf, y), level)
            out.append({"a": a, "b": b, "when": when, "time": float(part["time"].iloc[0]), "shift_points": e.value,
                        "low": e.low, "high": e.high, "level": level, "n": e.n})
    return pd.DataFrame(out, columns=["a", "b", "when", "time", "shift_points", "low", "high", "level", "n"])


def exhaustion_summary(exhaustion: pd.DataFrame) -> pd.DataFrame:
    """Per method (and charged or not): runs, how many exhausted the table, and the earliest / median
    exhaustion time (inf: not within the horizon)."""
    rows = []
    for (method, is_charged), part in exhaustion.groupby(["method", "charged"], sort=False):
        t = part["exhausted"].to_numpy(float)
        rows.append({"method": method, "charged": bool(is_charged), "runs": len(t),
                     "exhausted": int(np.isfinite(t).sum()), "earliest_s": float(t.min()),
                     "median_s": float(np.median(t)), "distinct_rows_median": float(part["distinct"].median())})
        if "ran_out" in part:
            rows[-1]["ran_out_median_s"] = float(np.median(part["ran_out"].to_numpy(float)))
    return pd.DataFrame(rows)
