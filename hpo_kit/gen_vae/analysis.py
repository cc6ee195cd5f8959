"""Regret curves, ranks, a regret table and critical-difference diagrams from HPO-B result dicts.

Input: ``{method: {space: {dataset: {seed: [incumbents]}}}}`` (HPO-B's results layout per method).
Normalised regret = 1 - incumbent (HPO-B's incumbents are normalised to the task's range, so the
best configuration has regret 0). Ranks are taken among the methods within each (dataset, seed)
run at each trial (ties share their mean rank), as HPO-B's rank plots do.

Ranks and critical differences follow HPO-B's published procedure, the kit's one implementation
(:mod:`hpo_kit.analysis.ranks`): regrets rounded to 8 decimals and ranked within each (dataset, seed)
block, average ranks over blocks; Friedman's test first, and only if it rejects, pairwise Wilcoxon
signed-rank tests on the per-block ranks with Holm's correction. The diagrams use Demsar (2006)'s layout:
methods on an axis of average rank, a bar joining methods that are not significantly different.
Drawn here with matplotlib (no third-party CD code).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from hpo_kit.analysis.ranks import ROUND_DECIMALS, block_ranks, rank_analysis

TABLE_TRIALS = (5, 10, 25, 50, 100)
LOG_FLOOR = 1e-4  # regret 0 (the task's best found) is drawn at this value on the log axis


def regret_frame(results: Mapping[str, Mapping]) -> pd.DataFrame:
    """Long frame: method, space, dataset, seed, trial, incumbent, regret (one row per incumbent)."""
    rows = []
    for method, by_space in results.items():
        for space, by_ds in by_space.items():
            for ds, by_seed in by_ds.items():
                for seed, curve in by_seed.items():
                    c = np.asarray(curve, dtype=float)
                    rows.append(pd.DataFrame({"method": method, "space": str(space), "dataset": str(ds),
                                              "seed": str(seed), "trial": np.arange(len(c)), "incumbent": c,
                                              "regret": np.clip(1.0 - c, 0.0, None)}))
    if not rows:
        return pd.DataFrame(columns=["method", "space", "dataset", "seed", "trial", "incumbent", "regret"])
    return pd.concat(rows, ignore_index=True)


def common_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the (space, dataset, seed, trial) cells every method has (ranks need complete blocks)."""
    n = frame.method.nunique()
    key = ["space", "dataset", "seed", "trial"]
    counts = frame.groupby(key).method.transform("nunique")
    return frame[counts == n]


def with_ranks(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (complete blocks) with ``rank``: 1 = lowest regret in its (space, dataset, seed, trial)."""
    f = common_runs(frame).copy()
    rounded = f.regret.round(ROUND_DECIMALS)  # as HPO-B ranks: float noise is a tie
    f["rank"] = rounded.groupby([f.space, f.dataset, f.seed, f.trial]).rank(method="average")
    return f


def curve_summary(frame: pd.DataFrame, value: str = "regret", level: float = 0.9) -> pd.DataFrame:
    """Per method and trial: mean of ``value`` over (dataset, seed) runs with a t confidence band."""
    g = frame.groupby(["method", "trial"])[value]
    out = g.agg(["mean", "std", "count"]).reset_index()
    se = out["std"] / np.sqrt(out["count"])
    t = sps.t.ppf(0.5 + level / 2, np.maximum(out["count"] - 1, 1))
    out["low"] = out["mean"] - t * se.fillna(0)
    out["high"] = out["mean"] + t * se.fillna(0)
    return out


def regret_table(frame: pd.DataFrame, trials: Sequence[int] = TABLE_TRIALS) -> pd.DataFrame:
    """Mean normalised regret (and its standard error) per method at the given trials (those run)."""
    n_max = int(frame.trial.max()) if len(frame) else 0
    use = [t for t in trials if t <= n_max]
    f = frame[frame.trial.isin(use)]
    mean = f.pivot_table(index="method", columns="trial", values="regret", aggfunc="mean")
    se = f.pivot_table(index="method", columns="trial", values="regret",
                       aggfunc=lambda x: x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else math.nan)
    table = pd.DataFrame(index=mean.index)
    for t in use:
        table[f"regret@{t}"] = mean[t]
        table[f"s.e.@{t}"] = se[t]
    return table.sort_values(f"regret@{use[-1]}") if use else table


# ------------------------------------------------------------------------------ critical differences
def cd_statistics(frame: pd.DataFrame, trial: int, alpha: float = 0.05) -> dict:
    """Average ranks, Friedman's test and (if it rejects) Holm-corrected pairwise Wilcoxon tests at
    ``trial``, by HPO-B's procedure (:func:`hpo_kit.analysis.ranks.rank_analysis`) over the (dataset, seed)
    blocks every method completed. Fewer than three methods or two blocks: average ranks only."""
    f = common_runs(frame[frame.trial == trial])
    methods = sorted(f.method.unique())
    wide = f.pivot_table(index=["space", "dataset", "seed"], columns="method", values="regret")
    wide = wide.reindex(columns=methods).dropna()
    out = {"trial": trial, "methods": methods, "n_blocks": len(wide), "friedman_p": math.nan, "pairs": []}
    if len(methods) >= 3 and len(wide) >= 2:
        result = rank_analysis(wide.to_numpy(float), methods, alpha)
        out.update(avg_rank=result["avg_rank"], friedman_p=result["friedman_p"], pairs=result["pairs"],
                   friedman_stat=result["friedman_stat"], nemenyi_cd=result["nemenyi_cd"])
    else:
        ranks = block_ranks(wide.to_numpy(float)).mean(axis=0) if len(wide) else [math.nan] * len(methods)
        out["avg_rank"] = dict(zip(methods, map(float, ranks)))
    return out


def _cliques(order: list[str], pairs: list[dict]) -> list[tuple[int, int]]:
    """Maximal runs of methods (in rank order) with no significant pair inside: the bars of a CD diagram."""
    diff = {frozenset((p["a"], p["b"])) for p in pairs if p["different"]}
    spans = []
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and all(frozenset((order[k], order[j + 1])) not in diff for k in range(i, j + 1)):
            j += 1
        if j > i:
            spans.append((i, j))
    return [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]


def plot_cd(stats: dict, ax=None, labels: Mapping[str, str] | None = None):
    """Draw one critical-difference diagram from :func:`cd_statistics`."""
    import matplotlib.pyplot as plt

    labels = labels or {}
    ranks = stats["avg_rank"]
    order = sorted(ranks, key=lambda m: ranks[m])
    k = len(order)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 + 0.3 * k))
    ax.set_xlim(1 - 0.1, k + 0.1)
    ax.set_ylim(-(k // 2 + 2), 1.2)
    ax.hlines(0, 1, k, color="k", lw=1)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.15, color="k", lw=1)
        ax.text(r, 0.3, str(r), ha="center", va="bottom", fontsize=8)
    half = (k + 1) // 2
    for i, m in enumerate(order):
        r = ranks[m]
        left = i < half
        y = -(i + 1) if left else -(k - i)
        xt = 1 - 0.05 if left else k + 0.05
        ax.plot([r, r, xt], [0, y, y], color="k", lw=0.8)
        ax.text(xt, y, f"{labels.get(m, m)} ({r:.2f})", ha="right" if left else "left", va="center", fontsize=8)
    for n, (i, j) in enumerate(_cliques(order, stats["pairs"])):
        yb = -0.3 - 0.25 * n
        ax.plot([ranks[order[i]] - 0.03, ranks[order[j]] + 0.03], [yb, yb], color="tab:red", lw=3)
    p = stats["friedman_p"]
    ax.set_title(f"trial {stats['trial']}: Friedman p = {p:.3g}, {stats['n_blocks']} runs; bars: Wilcoxon-Holm n.s."
                 if math.isfinite(p) else f"trial {stats['trial']} ({stats['n_blocks']} runs)", fontsize=9)
    ax.axis("off")
    return ax


def plot_curves(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, level: float = 0.9,
                reference: str = "random"):
    """Mean normalised regret (log scale) and mean rank vs trials.

    Top row: every method's mean, without bands (seven overlapping bands merge into one block).
    Below: one small panel per method, its mean regret with its confidence band, and ``reference``'s
    mean (grey, dashed) in every panel for comparison.
    """
    import matplotlib.pyplot as plt

    labels = labels or {}
    methods = list(dict.fromkeys(frame["method"]))
    reg = curve_summary(frame.assign(regret=np.maximum(frame.regret, LOG_FLOOR)), "regret", level)
    rnk = curve_summary(with_ranks(frame), "rank", level)
    colors = {m: f"C{i}" for i, m in enumerate(methods)}
    n_cols = 4
    n_rows = -(-len(methods) // n_cols)
    fig = plt.figure(figsize=(12, 4 + 2.4 * n_rows))
    grid = fig.add_gridspec(1 + n_rows, n_cols, height_ratios=[1.7] + [1.0] * n_rows)
    top = [fig.add_subplot(grid[0, :2]), fig.add_subplot(grid[0, 2:])]
    for ax, s, title in ((top[0], reg, "normalised regret (log), mean"), (top[1], rnk, "average rank, mean")):
        for m in methods:
            part = s[s.method == m]
            ax.plot(part.trial, part["mean"], label=labels.get(m, m), color=colors[m])
        ax.set_xlabel("trial")
        ax.set_title(title)
    top[0].set_yscale("log")
    top[0].legend(fontsize=7, loc="lower left")  # regret falls from the top left: that corner stays empty
    ref = reg[reg.method == reference]
    for i, m in enumerate(methods):
        ax = fig.add_subplot(grid[1 + i // n_cols, i % n_cols], sharey=top[0])
        part = reg[reg.method == m]
        ax.plot(part.trial, part["mean"], color=colors[m])
        ax.fill_between(part.trial, np.maximum(part["low"], LOG_FLOOR), part["high"], alpha=0.25, color=colors[m], lw=0)
        if m != reference and len(ref):
            ax.plot(ref.trial, ref["mean"], color="0.5", ls="--", lw=1)
        ax.set_title(labels.get(m, m), fontsize=9)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"small panels: mean regret with its {100 * level:.0f} % band over runs; dashed grey: "
                 f"{labels.get(reference, reference)}", fontsize=9, y=0.995)
    fig.tight_layout()
    return fig


def plot_cd_panel(frame: pd.DataFrame, trials: Sequence[int] = (25, 50, 100), labels: Mapping[str, str] | None = None):
    """CD diagrams at the given trials (those run), stacked; returns (figure, list of statistics)."""
    import matplotlib.pyplot as plt

    n_max = int(frame.trial.max())
    use = [t for t in trials if t <= n_max] or [n_max]
    k = frame.method.nunique()
    fig, axes = plt.subplots(len(use), 1, figsize=(7, len(use) * (0.9 + 0.35 * k)))
    axes = np.atleast_1d(axes)
    all_stats = [cd_statistics(frame, t) for t in use]
    for ax, st in zip(axes, all_stats):
        plot_cd(st, ax, labels)
    fig.tight_layout()
    return fig, all_stats


__all__ = ["LOG_FLOOR", "TABLE_TRIALS", "cd_statistics", "common_runs", "curve_summary", "plot_cd", "plot_cd_panel",
           "plot_curves", "regret_frame", "regret_table", "with_ranks"]
