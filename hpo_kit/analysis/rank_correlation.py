"""Do small budgets rank configurations like large ones? Spearman's rho between every pair of budgets.

Zela et al. (2018, Sec. 5) measure how well the ranking of configurations after a few epochs
predicts the ranking after many. The input is a results table with one row per evaluation:
a configuration id, a budget and a loss. Which table you pass decides what is measured:

* the evaluations of a successive-halving / BOHB run: only the survivors of each rung reach the
  next budget, so the correlation between two budgets is computed on the (better) configurations
  that were evaluated at both — the view of the optimiser;
* a fixed random sample of configurations, each evaluated at every budget: the unbiased view.

``n`` (configurations behind each rho) is always reported, because a rho from five survivors and
a rho from two hundred random configurations are very different kinds of evidence. The bootstrap
interval of each rho (for the heat map) resamples configurations (with replacement) and is seeded.

Claims are not decided from these per-cell intervals: notebook 03's claims (``hpo_kit.nas.claims``)
use :func:`far_pair` (with ``hpo_kit.stats.spearman_ci``) and :func:`bootstrap_neighbour_far`, a
paired bootstrap of the *difference* between neighbouring and far correlations.
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hpo_kit.validation import check_int

#: Columns of the table returned by :func:`rank_correlation_table`.
TABLE_COLUMNS = ("budget_a", "budget_b", "rho", "n", "ci_low", "ci_high", "p_value")


def _spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and its two-sided p-value; NaN when either side has no variation."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    result = stats.spearmanr(a, b)
    return float(result.statistic), float(result.pvalue)


def bootstrap_spearman_ci(a: Any, b: Any, *, n_bootstrap: int = 1000, ci: float = 0.95,
                          seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's rho between paired samples ``a`` and ``b``.

    Each replicate draws ``len(a)`` pairs with replacement (ties from repeated pairs get average
    ranks). Replicates without variation on one side are skipped; if more than half are, the
    interval is (NaN, NaN).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D and of equal length, got shapes {a.shape} and {b.shape}")
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 1)
    seed = check_int("seed", seed, 0)
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95, got {ci!r}")
    n = len(a)
    if n < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_bootstrap, n))
    ra = stats.rankdata(a[idx], axis=1)
    rb = stats.rankdata(b[idx], axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = np.where(denom > 0, (ra * rb).sum(axis=1) / denom, np.nan)
    if np.isnan(rhos).mean() > 0.5:
        return float("nan"), float("nan")
    tail = (1 - ci) / 2
    low, high = np.nanquantile(rhos, [tail, 1 - tail])
    return float(low), float(high)


def _loss_matrix(results: pd.DataFrame, config_col: str, budget_col: str, loss_col: str) -> pd.DataFrame:
    """Configurations x budgets of losses; NaN where a configuration was not (validly) evaluated."""
    for col in (config_col, budget_col, loss_col):
        if col not in results.columns:
            raise ValueError(f"results has no column {col!r}; columns: {list(results.columns)}")
    frame = results[[config_col, budget_col, loss_col]].copy()
    frame[loss_col] = frame[loss_col].astype(float)
    frame = frame[np.isfinite(frame[loss_col])]
    # Repeated evaluations of a configuration at one budget (e.g. several seeds) are averaged.
    return frame.pivot_table(index=config_col, columns=budget_col, values=loss_col, aggfunc="mean").sort_index(axis=1)


def rank_correlation_table(results: pd.DataFrame, *, config_col: str = "config_id", budget_col: str = "budget",
                           loss_col: str = "loss", n_bootstrap: int = 1000, ci: float = 0.95,
                           seed: int = 0) -> pd.DataFrame:
    """Spearman's rho between the losses at every pair of budgets ``budget_a < budget_b``.

    Only configurations with a finite loss at both budgets count; ``n`` says how many there were.
    Losses of repeated evaluations (same configuration and budget) are averaged first. rho is NaN
    with fewer than 3 configurations or when the losses at one budget are all equal.
    Columns: :data:`TABLE_COLUMNS`.
    """
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 1)
    seed = check_int("seed", seed, 0)
    matrix = _loss_matrix(results, config_col, budget_col, loss_col)
    budgets = list(matrix.columns)
    rows = []
    for (i, budget_a), (j, budget_b) in itertools.combinations(enumerate(budgets), 2):
        both = matrix[[budget_a, budget_b]].dropna()
        a, b = both[budget_a].to_numpy(), both[budget_b].to_numpy()
        rho, p_value = _spearman(a, b)
        # One seed per pair of budget positions: adding a budget does not change other intervals.
        pair_seed = int(np.random.SeedSequence([seed, i, j]).generate_state(1)[0])
        low, high = (bootstrap_spearman_ci(a, b, n_bootstrap=n_bootstrap, ci=ci, seed=pair_seed)
                     if not np.isnan(rho) else (float("nan"), float("nan")))
        rows.append({"budget_a": budget_a, "budget_b": budget_b, "rho": rho, "n": len(both),
                     "ci_low": low, "ci_high": high, "p_value": p_value})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def neighbour_and_far(table: pd.DataFrame) -> dict[str, Any]:
    """Mean rho between neighbouring budgets against rho between the smallest and largest budget.

    ``table`` comes from :func:`rank_correlation_table`. Returns ``neighbour_rho`` (mean over the
    pairs of consecutive budgets with a finite rho), ``far_rho`` (smallest vs largest budget),
    ``difference`` (neighbour - far; NaN if either is missing), ``neighbour_pairs`` and ``far_pair``.
    With only two budgets the far pair is the only neighbour pair: there is nothing to compare, and
    the difference is NaN.
    """
    missing = [c for c in ("budget_a", "budget_b", "rho") if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; pass the output of rank_correlation_table")
    budgets = sorted(set(table["budget_a"]) | set(table["budget_b"]))
    if len(budgets) < 2:
        raise ValueError("table needs at least two budgets")
    rho = {(row.budget_a, row.budget_b): float(row.rho) for row in table.itertuples(index=False)}
    neighbours = [(a, b) for a, b in zip(budgets[:-1], budgets[1:]) if np.isfinite(rho.get((a, b), np.nan))]
    neighbour_rho = float(np.mean([rho[p] for p in neighbours])) if neighbours else float("nan")
    far = (budgets[0], budgets[-1])
    far_rho = rho.get(far, float("nan"))
    difference = neighbour_rho - far_rho if len(budgets) > 2 else float("nan")
    return {"neighbour_rho": neighbour_rho, "far_rho": far_rho, "difference": difference,
            "neighbour_pairs": neighbours, "far_pair": far}


def configs_per_budget(results: pd.DataFrame, *, config_col: str = "config_id", budget_col: str = "budget",
                       loss_col: str = "loss") -> pd.Series:
    """Number of configurations with a finite loss at each budget (the diagonal of the plot)."""
    return _loss_matrix(results, config_col, budget_col, loss_col).notna().sum(axis=0)


def plot_rank_correlation(table: pd.DataFrame, *, counts: pd.Series | None = None, ax: Any = None,
                          title: str | None = None) -> Any:
    """Lower-triangular heatmap of rho between budgets, each cell annotated with rho, n and the CI.

    ``table`` comes from :func:`rank_correlation_table`; ``counts`` (optional, from
    :func:`configs_per_budget`) labels the diagonal with the number of configurations per budget.
    Returns the figure.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    missing = [c for c in TABLE_COLUMNS[:6] if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; pass the output of rank_correlation_table")
    budgets = sorted(set(table["budget_a"]) | set(table["budget_b"]))
    if not budgets:
        raise ValueError("table is empty: the results need at least two budgets")
    k = len(budgets)
    pos = {b: i for i, b in enumerate(budgets)}
    rho = np.full((k, k), np.nan)
    labels = np.full((k, k), "", dtype=object)
    for row in table.itertuples(index=False):
        r, c = pos[row.budget_b], pos[row.budget_a]  # larger budget on the rows: lower triangle
        rho[r, c] = row.rho
        interval = "" if np.isnan(row.ci_low) else f"\n[{row.ci_low:.2f}, {row.ci_high:.2f}]"
        value = "n/a" if np.isnan(row.rho) else f"ρ={row.rho:.2f}"
        labels[r, c] = f"{value}\nn={row.n}{interval}"
    for i, budget in enumerate(budgets):
        rho[i, i] = 1.0
        labels[i, i] = f"n={int(counts[budget])}" if counts is not None and budget in counts.index else ""
    mask = np.triu(np.ones((k, k), dtype=bool), k=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * k + 2, 1.3 * k + 1))
    names = [f"{b:g}" if isinstance(b, (int, float, np.integer, np.floating)) else str(b) for b in budgets]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN colour range when every rho is n/a
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # seaborn 0.13 vs matplotlib >= 3.10
        sns.heatmap(pd.DataFrame(rho, index=names, columns=names), mask=mask, annot=labels, fmt="",
                    vmin=-1, vmax=1, cmap="RdBu_r", center=0, square=True, ax=ax,
                    annot_kws={"fontsize": 8}, cbar_kws={"label": "Spearman ρ"})
    # seaborn leaves NaN cells blank; say why they are empty (too few configurations, ties).
    for r, c in zip(*np.nonzero(np.isnan(rho) & ~mask)):
        ax.text(c + 0.5, r + 0.5, labels[r, c], ha="center", va="center", fontsize=8, color="0.4")
    ax.set_xlabel("budget")
    ax.set_ylabel("budget")
    ax.set_title(title or "Rank correlation of losses between budgets")
    return ax.figure


# -- the quantities notebook 03's claims are decided on ------------------------------------------------
def far_pair(results: pd.DataFrame, *, config_col: str = "config_id", budget_col: str = "budget",
             loss_col: str = "loss") -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """The smallest and largest budget and the losses there of the configurations evaluated at both.

    Returns ``(budget_small, budget_large, losses_small, losses_large)``.
    """
    matrix = _loss_matrix(results, config_col, budget_col, loss_col)
    if matrix.shape[1] < 2:
        raise ValueError(f"results need at least two budgets, got {list(matrix.columns)}")
    small, large = matrix.columns[0], matrix.columns[-1]
    both = matrix[[small, large]].dropna()
    return small, large, both[small].to_numpy(float), both[large].to_numpy(float)


def _rowwise_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of every row of ``a`` against the same row of ``b`` (rows x configurations).

    Entries missing (NaN) on either side are left out of that row; rows with fewer than 3 pairs or
    no variation give NaN. Repeated configurations (bootstrap draws) share average ranks.
    """
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = np.where(keep, a, np.nan), np.where(keep, b, np.nan)
    ra = stats.rankdata(a, axis=1, nan_policy="omit")
    rb = stats.rankdata(b, axis=1, nan_policy="omit")
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with nothing left
        ra = np.where(keep, ra - np.nanmean(ra, axis=1, keepdims=True), 0.0)
        rb = np.where(keep, rb - np.nanmean(rb, axis=1, keepdims=True), 0.0)
        denom = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
        rho = np.where((denom > 0) & (keep.sum(axis=1) >= 3), (ra * rb).sum(axis=1) / denom, np.nan)
    return rho


def bootstrap_neighbour_far(results: pd.DataFrame, *, n_bootstrap: int = 1000, seed: int = 0,
                            config_col: str = "config_id", budget_col: str = "budget",
                            loss_col: str = "loss") -> dict[str, Any]:
    """Mean rho of neighbouring budgets minus rho of the smallest vs the largest, with paired bootstrap refits.

    Each replicate draws the configurations with replacement *once* and recomputes every rho on that
    draw (each from the drawn configurations evaluated at both of its budgets), so the neighbouring
    and the far correlations share their resampling as they share their configurations. Returns
    ``difference`` (the point estimate, as :func:`neighbour_and_far` computes it), ``replicates``,
    ``neighbour_rho``, ``far_rho``, ``n`` (the fewest configurations behind any of the rhos) and
    ``budgets``. Needs three or more budgets (with two, the far pair is the only neighbour pair).
    """
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 1)
    seed = check_int("seed", seed, 0)
    matrix = _loss_matrix(results, config_col, budget_col, loss_col)
    budgets = list(matrix.columns)
    if len(budgets) < 3:
        raise ValueError(f"comparing neighbouring with far budgets needs three or more budgets, got {budgets}")
    values = matrix.to_numpy(float)
    pairs = [(i, i + 1) for i in range(len(budgets) - 1)]
    far = (0, len(budgets) - 1)
    counts = [int((np.isfinite(values[:, i]) & np.isfinite(values[:, j])).sum()) for i, j in pairs + [far]]

    complete = bool(np.isfinite(values).all())

    def statistic(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if complete:  # rank each budget's column once (the same draw serves every pair)
            ranked = [stats.rankdata(values[rows, i], axis=1) for i in range(len(budgets))]

            def rho(i: int, j: int) -> np.ndarray:
                return _rowwise_spearman(ranked[i], ranked[j])  # Spearman of ranks = Spearman
        else:
            def rho(i: int, j: int) -> np.ndarray:
                return _rowwise_spearman(values[rows, i], values[rows, j])
        neighbour = np.vstack([rho(i, j) for i, j in pairs])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a replicate where no neighbour rho exists
            neighbour_mean = np.nanmean(neighbour, axis=0)
        far_rho = rho(*far)
        return neighbour_mean - far_rho, neighbour_mean, far_rho

    identity = np.arange(len(values))[None, :]
    difference, neighbour_rho, far_rho = (float(x[0]) for x in statistic(identity))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    replicates = statistic(rng.integers(0, len(values), size=(n_bootstrap, len(values))))[0]
    return {"difference": difference, "replicates": replicates, "neighbour_rho": neighbour_rho, "far_rho": far_rho,
            "n": min(counts), "budgets": budgets}
