"""Summaries of HPO run logs over time: incumbents, time to target, worker utilisation, epochs spent.

Every function takes run logs as returned by :func:`hpo_kit.runlog.load_log` (one row per event:
``event``, ``trial_id``, ``resource``, ``previous_resource``, ``loss``, ``started``, ``time``,
``worker``, ``info_*`` ...), so they work the same for simulated and live runs. Several runs of one
method (different seeds) are summarised as mean ± standard error on a common time grid, as in the
anytime plots of Klein et al. (2020) and Li et al. (2020).

Conventions, each with its reason:

* The *incumbent* at time ``t`` is the result with the lowest validation loss among those finished
  by ``t`` (at any resource >= ``min_resource``): a low-fidelity loss is a real loss of a real
  model, and this is what the papers plot. Its *test error* is the test error reported with that
  same result (no peeking at test errors to choose).
* Which results count (``convention``): ``"rung"`` (default) counts a job's result at the resource
  it ended at (a rung end); ``"epoch"`` counts every epoch's validation error the job reported
  (``info_epoch_errors`` of the tabular and live objectives), as Syne Tune records results and the
  A-BOHB paper plots them: a trial trained from 27 to 81 epochs also reports epochs 28..80, and one
  of those may be better than epoch 81. Epoch ``k`` of a job from ``r0`` to ``r1`` is counted at
  ``started + (time - started) * (k - r0) / (r1 - r0)``, i.e. epochs of one job are taken as equally
  long (the log keeps a job's start and end, not every epoch's end). Only rung-end results carry a
  test error; under ``"epoch"`` an incumbent reached mid-job has test error NaN.
* Before the first result a curve is NaN: methods are compared only where they have something.
* A run that never reaches a target gets time ``inf``; tables use the median over seeds, which
  stays finite as long as more than half of the seeds reach it, and say how many did.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpo_kit.validation import check_choice

RESULT, FAILURE = "result", "failure"
JOB_EVENTS = ("start", "promote")
CONVENTIONS = ("rung", "epoch")


def check_convention(convention: str) -> str:
    return check_choice("convention", convention, CONVENTIONS,
                        "rung: results at the end of each job; epoch: every epoch reported, info_epoch_errors")


def _epoch_rows(rows: pd.DataFrame, min_resource: int, test_column: str) -> pd.DataFrame:
    """Every reported epoch of the result rows as its own row (see the module doc), time-sorted."""
    if "info_epoch_errors" in rows.columns:
        lists = rows["info_epoch_errors"]
    elif "info_val_curve" in rows.columns:  # live logs written before epoch_errors existed
        lists = pd.Series([c[int(r0):int(r1)] if isinstance(c, (list, tuple)) else None for c, r0, r1 in
                           zip(rows["info_val_curve"], rows["previous_resource"], rows["resource"])], index=rows.index)
    else:
        raise ValueError("convention='epoch' needs per-epoch errors in the log (info_epoch_errors, reported by "
                         "the tabular and live objectives); this log has none")
    # a result without a list counts at its own resource only
    lists = pd.Series([e if isinstance(e, (list, tuple)) and len(e) else [l] for e, l in zip(lists, rows["loss"])],
                      index=rows.index)
    frame = pd.DataFrame({"errors": lists, "r0": rows["previous_resource"].astype(float),
                          "r1": rows["resource"].astype(float), "t0": rows["started"].astype(float),
                          "t1": rows["time"].astype(float), "trial_id": rows["trial_id"].astype(int),
                          "n": lists.map(len),
                          "test": rows[test_column].astype(float) if test_column in rows.columns else np.nan})
    frame["order"] = np.arange(len(frame))
    long = frame.explode("errors")
    # epochs r1 - n + 1 .. r1 of each job
    k = long["r1"] - long["n"] + 1 + long.groupby("order").cumcount()
    loss = pd.to_numeric(long["errors"], errors="coerce").astype(float)
    time = long["t0"] + (long["t1"] - long["t0"]) * (k - long["r0"]) / np.maximum(long["r1"] - long["r0"], 1)
    out = pd.DataFrame({"time": time.to_numpy(float), "loss": loss.to_numpy(float),
                        "trial_id": long["trial_id"].to_numpy(int), "resource": k.to_numpy(int),
                        "test": np.where(k.to_numpy() == long["r1"].to_numpy(), long["test"].to_numpy(float), np.nan)})
    out = out[np.isfinite(out["loss"]) & (out["resource"] >= min_resource)]
    return out.sort_values("time", kind="stable")


def _results(log: pd.DataFrame, min_resource: int = 1) -> pd.DataFrame:
    """Finished, valid results in the order they finished (at resources >= min_resource)."""
    if not isinstance(log, pd.DataFrame) or "event" not in log.columns:
        raise TypeError("log must be a run log DataFrame from hpo_kit.runlog.load_log")
    rows = log[(log["event"] == RESULT)]
    rows = rows[np.isfinite(rows["loss"].astype(float)) & (rows["resource"].astype(float) >= min_resource)]
    # Stable sort: the log is already in event order; sorting by time only guards against
    # hand-made frames, and keeps ties in logged order.
    return rows.sort_values("time", kind="stable")


def check_grid(grid: Sequence[float] | np.ndarray) -> np.ndarray:
    """A 1-d, non-decreasing array of times (raises ``ValueError`` otherwise)."""
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(np.diff(grid) < 0):
        raise ValueError("grid must be a non-empty, non-decreasing 1-d sequence of finite times")
    return grid


def time_grid(horizon: float, n_points: int = 200, start: float | None = None, log_scale: bool = True) -> np.ndarray:
    """``n_points`` times up to ``horizon``: log-spaced from ``start`` (default horizon / 1000) or linear from 0."""
    if not horizon > 0:
        raise ValueError(f"horizon must be a number > 0, got {horizon!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}")
    if log_scale:
        start = horizon / 1000.0 if start is None else start
        if not 0 < start < horizon:
            raise ValueError(f"start must be in (0, horizon={horizon}), got {start!r}")
        return np.geomspace(start, horizon, n_points)
    return np.linspace(0.0 if start is None else start, horizon, n_points)


def step_on_grid(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The right-continuous step function through ``(times, values)`` read at ``grid`` (NaN before the first)."""
    times, values, grid = np.asarray(times, float), np.asarray(values, float), check_grid(grid)
    idx = np.searchsorted(times, grid, side="right") - 1
    out = np.full(grid.shape, np.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


# ------------------------------------------------------------------------------ incumbents
def incumbent_path(log: pd.DataFrame, min_resource: int = 1, test_column: str = "info_test_error",
                   convention: str = "rung") -> pd.DataFrame:
    """One row each time the incumbent improves: ``time``, ``best_loss``, ``test_error``, ``trial_id``, ``resource``.

    ``test_error`` is ``test_column`` of the incumbent's result (NaN when the log has no such column).
    ``convention``: "rung" or "epoch" (see the module doc).
    """
    if check_convention(convention) == "epoch":
        rows = _epoch_rows(_results(log, 1), min_resource, test_column)
        best_so_far = np.minimum.accumulate(rows["loss"].to_numpy()) if len(rows) else np.empty(0)
        improved = best_so_far < np.concatenate([[math.inf], best_so_far[:-1]])
        kept = rows[improved]
        return pd.DataFrame({"time": kept["time"].to_numpy(float), "best_loss": kept["loss"].to_numpy(float),
                             "test_error": kept["test"].to_numpy(float), "trial_id": kept["trial_id"].to_numpy(int),
                             "resource": kept["resource"].to_numpy(int)},
                            columns=["time", "best_loss", "test_error", "trial_id", "resource"])
    rows = _results(log, min_resource)
    out = []
    best = math.inf
    has_test = test_column in rows.columns
    for row in rows.itertuples(index=False):
        loss = float(row.loss)
        if loss < best:
            best = loss
            test = float(getattr(row, test_column)) if has_test and getattr(row, test_column) is not None else math.nan
            out.append((float(row.time), loss, test, int(row.trial_id), int(row.resource)))
    return pd.DataFrame(out, columns=["time", "best_loss", "test_error", "trial_id", "resource"])


def incumbent_on_grid(log: pd.DataFrame, grid: Sequence[float], column: str = "best_loss", min_resource: int = 1,
                      test_column: str = "info_test_error", convention: str = "rung") -> np.ndarray:
    """``column`` (``best_loss`` or ``test_error``) of the incumbent at each time of ``grid``."""
    if column not in ("best_loss", "test_error"):
        raise ValueError(f"column must be 'best_loss' or 'test_error', got {column!r}")
    path = incumbent_path(log, min_resource, test_column, convention)
    return step_on_grid(path["time"].to_numpy(), path[column].to_numpy(), np.asarray(grid, float))


def mean_and_se(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean, standard error and count over the finite entries of ``matrix`` (runs x points).

    The standard error is ``std(ddof=1) / sqrt(n)``; NaN where fewer than two runs have a value.
    """
    matrix = np.atleast_2d(np.asarray(matrix, dtype=float))
    finite = np.isfinite(matrix)
    n = finite.sum(axis=0)
    filled = np.where(finite, matrix, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
        sq = np.where(finite, (matrix - mean) ** 2, 0.0).sum(axis=0)
        se = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)) / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, se, n


def summarise_trajectories(logs: Mapping[str, Sequence[pd.DataFrame]], grid: Sequence[float],
                           column: str = "best_loss", min_resource: int = 1,
                           test_column: str = "info_test_error", convention: str = "rung") -> pd.DataFrame:
    """Long table ``method, time, mean, se, n`` of the incumbent's ``column`` over the runs of each method."""
    grid = check_grid(grid)
    frames = []
    for method, runs in logs.items():
        if len(runs) == 0:
            raise ValueError(f"method {method!r} has no runs")
        matrix = np.vstack([incumbent_on_grid(r, grid, column, min_resource, test_column, convention) for r in runs])
        mean, se, n = mean_and_se(matrix)
        frames.append(pd.DataFrame({"method": method, "time": grid, "mean": mean, "se": se, "n": n}))
    return pd.concat(frames, ignore_index=True)


def plot_trajectories(summary: pd.DataFrame, ax: Any, ylabel: str = "best validation error",
                      xlabel: str = "simulated wall-clock time (s)", log_x: bool = True, log_y: bool = False,
                      styles: Mapping[str, Mapping[str, Any]] | None = None,
                      methods: Sequence[str] | None = None, bands: bool = True) -> Any:
    """Mean ± one standard error per method (as produced by :func:`summarise_trajectories`).

    ``methods``: only these (in this order; default all). ``bands=False`` draws the means only: more
    than three or four overlapping bands blend into one colour, so a figure with many methods reads
    better as small multiples of a few methods each, with bands, beside one panel of means.
    """
    for method, part in summary.groupby("method", sort=False):
        if methods is not None and method not in methods:
            continue
        style = dict((styles or {}).get(method, {}))
        line = ax.plot(part["time"], part["mean"], label=method, **style)[0]
        if bands:
            lo, hi = part["mean"] - part["se"].fillna(0.0), part["mean"] + part["se"].fillna(0.0)
            ax.fill_between(part["time"], lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return ax


# ------------------------------------------------------------------------------ targets
def epochs_until(log: pd.DataFrame) -> pd.DataFrame:
    """Finished jobs in finishing order with the cumulative epochs spent: ``time``, ``epochs``, ``cumulative``."""
    done = log[log["event"].isin((RESULT, FAILURE))].sort_values("time", kind="stable")
    epochs = (done["resource"].astype(float) - done["previous_resource"].astype(float)).to_numpy()
    return pd.DataFrame({"time": done["time"].astype(float).to_numpy(), "epochs": epochs,
                         "cumulative": np.cumsum(epochs)})


def time_to_target(log: pd.DataFrame, target: float, min_resource: int = 1, convention: str = "rung") -> float:
    """First time the incumbent's validation loss is <= ``target`` (``inf`` if never)."""
    path = incumbent_path(log, min_resource, convention=convention)
    hit = path[path["best_loss"] <= target]
    return float(hit["time"].iloc[0]) if len(hit) else math.inf


def resource_to_target(log: pd.DataFrame, target: float, min_resource: int = 1, convention: str = "rung") -> float:
    """Epochs spent by finished jobs (all workers together) when the target was first reached (``inf`` if never)."""
    t = time_to_target(log, target, min_resource, convention)
    if not math.isfinite(t):
        return math.inf
    spent = epochs_until(log)
    return float(spent.loc[spent["time"] <= t, "epochs"].sum())


def time_to_target_table(logs: Mapping[str, Sequence[pd.DataFrame]], targets: Sequence[float],
                         references: Sequence[str] = (), min_resource: int = 1,
                         measure: str = "time", convention: str = "rung") -> pd.DataFrame:
    """Median time (or epochs, ``measure="resource"``) to reach each target, with speed-ups.

    Columns: ``method``, ``target``, ``median``, ``reached`` (runs that reached it), ``runs``, and
    one ``speedup_vs_<ref>`` per reference method: ``median(ref) / median(method)`` (> 1: faster
    than the reference; NaN when either median is infinite).
    """
    if measure not in ("time", "resource"):
        raise ValueError(f"measure must be 'time' or 'resource', got {measure!r}")
    unknown = [r for r in references if r not in logs]
    if unknown:
        raise ValueError(f"reference methods {unknown} are not among the methods {list(logs)}")
    how = time_to_target if measure == "time" else resource_to_target
    medians: dict[tuple[str, float], float] = {}
    rows = []
    for target in targets:
        for method, runs in logs.items():
            values = np.array([how(r, float(target), min_resource, convention) for r in runs])
            median = float(np.median(values)) if len(values) else math.nan
            medians[(method, float(target))] = median
            rows.append({"method": method, "target": float(target), "median": median,
                         "reached": int(np.isfinite(values).sum()), "runs": len(values)})
    table = pd.DataFrame(rows)
    for ref in references:
        speedups = []
        for row in rows:
            ref_median, median = medians[(ref, row["target"])], row["median"]
            ok = math.isfinite(ref_median) and math.isfinite(median) and median > 0
            speedups.append(ref_median / median if ok else math.nan)
        table[f"speedup_vs_{ref}"] = speedups
    return table


# ------------------------------------------------------------------------------ workers and epochs
def busy_intervals(log: pd.DataFrame, horizon: float | None = None) -> pd.DataFrame:
    """Every job as ``[start, end)`` on the backend clock: ``trial_id``, ``resource``, ``start``, ``end``, ``finished``.

    Jobs still running when the run stopped (a start/promote without a result) are busy until
    ``horizon`` (default: the last time in the log).
    """
    horizon = float(log["time"].max()) if horizon is None else float(horizon)
    done = log[log["event"].isin((RESULT, FAILURE))]
    intervals = [(int(r.trial_id), int(r.resource), float(r.started), float(r.time), True)
                 for r in done.itertuples(index=False)]
    finished_keys = {(t, res) for t, res, *_ in intervals}
    for r in log[log["event"].isin(JOB_EVENTS)].itertuples(index=False):
        key = (int(r.trial_id), int(r.resource))
        if key not in finished_keys:
            intervals.append((key[0], key[1], float(r.time), max(horizon, float(r.time)), False))
    return pd.DataFrame(intervals, columns=["trial_id", "resource", "start", "end", "finished"])


def utilisation_on_grid(log: pd.DataFrame, n_workers: int, grid: Sequence[float],
                        horizon: float | None = None) -> np.ndarray:
    """Fraction of the ``n_workers`` workers busy at each time of ``grid`` (0..1)."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    grid = check_grid(grid)
    jobs = busy_intervals(log, horizon)
    starts, ends = np.sort(jobs["start"].to_numpy()), np.sort(jobs["end"].to_numpy())
    busy = np.searchsorted(starts, grid, side="right") - np.searchsorted(ends, grid, side="right")
    return np.clip(busy / n_workers, 0.0, 1.0)


def utilisation_in_windows(log: pd.DataFrame, n_workers: int, edges: Sequence[float],
                           horizon: float | None = None) -> np.ndarray:
    """Busy fraction of the workers in each window ``[edges[i], edges[i+1])``: busy worker-seconds / (n x width).

    Smoother than :func:`utilisation_on_grid` (which samples instants), so better for plots.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    edges = check_grid(edges)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be at least two strictly increasing times")
    jobs = busy_intervals(log, horizon)
    start, end = jobs["start"].to_numpy()[:, None], jobs["end"].to_numpy()[:, None]
    lo, hi = edges[None, :-1], edges[None, 1:]
    busy = np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0.0, None).sum(axis=0)
    return busy / (n_workers * np.diff(edges))


def mean_utilisation(log: pd.DataFrame, n_workers: int, horizon: float | None = None) -> float:
    """Busy worker-seconds / (n_workers * horizon): the average fraction of workers kept busy."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    jobs = busy_intervals(log, horizon)
    horizon = float(log["time"].max()) if horizon is None else float(horizon)
    if not horizon > 0:
        return math.nan
    busy = (np.minimum(jobs["end"], horizon) - np.minimum(jobs["start"], horizon)).clip(lower=0).sum()
    return float(busy / (n_workers * horizon))


def epochs_spent(log: pd.DataFrame) -> float:
    """Epochs trained by finished jobs (a continued trial counts only its extra epochs)."""
    return float(epochs_until(log)["epochs"].sum())


def epochs_on_grid(log: pd.DataFrame, grid: Sequence[float]) -> np.ndarray:
    """Cumulative epochs of finished jobs at each time of ``grid`` (0 before the first)."""
    spent = epochs_until(log)
    values = step_on_grid(spent["time"].to_numpy(), spent["cumulative"].to_numpy(), grid)
    return np.nan_to_num(values, nan=0.0)


def epochs_per_resource(log: pd.DataFrame) -> pd.Series:
    """Epochs spent on jobs ending at each resource level (rung), indexed by resource."""
    done = log[log["event"].isin((RESULT, FAILURE))]
    epochs = done["resource"].astype(float) - done["previous_resource"].astype(float)
    return epochs.groupby(done["resource"].astype(int)).sum().sort_index()


# ------------------------------------------------------------------------------ values at a time
def values_at(runs: Sequence[pd.DataFrame], time: float, column: str = "best_loss", min_resource: int = 1,
              test_column: str = "info_test_error", convention: str = "rung") -> np.ndarray:
    """The incumbent's ``column`` at ``time`` in each run (one value per run, NaN before its first result)."""
    return np.array([incumbent_on_grid(r, [float(time)], column, min_resource, test_column, convention)[0]
                     for r in runs])


def distinct_configurations(log: pd.DataFrame, key: str | None = "info_row") -> tuple[int, int]:
    """(trials started, distinct configurations among them), counted over finished first jobs.

    ``key`` names the log column identifying a configuration (a tabular objective reports its table
    row as ``info_row``); with ``key=None``, or when the column is missing, the ``config_*``
    columns are compared. On a finite table, proposals that land on an already evaluated row
    bring no new information, so the ratio shows how much of a budget went to repeats.
    """
    first = log[(log["event"] == RESULT) & (log["previous_resource"].astype(float) == 0)]
    if key is not None and key in first.columns:
        distinct = first[key].nunique()
    else:
        columns = [c for c in first.columns if c.startswith("config_")]
        if not columns:
            raise ValueError(f"the log has neither a {key!r} column nor config_* columns")
        distinct = len(first[columns].astype(str).drop_duplicates())
    return int(len(first)), int(distinct)
