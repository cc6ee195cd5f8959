"""Hyperparameter importance per budget with fANOVA (as in Zela et al. 2018, Sec. 5).

Multi-fidelity optimisers such as BOHB evaluate many configurations on small budgets and a few on
large ones. Fitting fANOVA separately to the evaluations of each budget shows whether the
hyperparameters that matter after a few epochs are those that matter after many.

The results table has one row per evaluation with a ``budget`` column, a ``loss`` column and the
configuration, either as one column per hyperparameter or as a single column of dicts
(``config_col``). Failed evaluations (NaN or infinite loss) are dropped.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, Constant, OrdinalHyperparameter
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

from hpo_kit.analysis.fanova_compat import FittedFanova, fit_fanova


@dataclass(frozen=True)
class FanovaInputs:
    """Configurations of a space as the matrix fANOVA takes (raw units; see ``fit_fanova``)."""

    X: np.ndarray  # configurations x hyperparameters; NaN where a hyperparameter is inactive
    names: list[str]  # one per column: the space's non-constant hyperparameters
    log_mask: np.ndarray  # columns on a log scale in the space
    bounds: list[tuple[float, float]]  # the space's range of each column (choice indices for categoricals)
    impute_values: np.ndarray  # value used for inactive entries: the hyperparameter's default
    categories: np.ndarray  # 0 for numeric columns, else the number of choices


def space_to_fanova_inputs(configs: Sequence[Mapping[str, Any]], space: ConfigurationSpace) -> FanovaInputs:
    """Encode configurations (dicts; inactive hyperparameters absent) for :func:`fit_fanova`.

    Floats and integers keep their values (fANOVA is told which are log-scaled); ordinals become
    their position in the sequence (a number), categoricals the index of the choice. Constants
    carry no variance and are left out.
    """
    if not isinstance(space, ConfigurationSpace):
        raise TypeError(f"space must be a ConfigSpace.ConfigurationSpace, got {type(space).__name__}")
    hps = [hp for hp in space.values() if not isinstance(hp, Constant)]
    if not hps:
        raise ValueError("space has no non-constant hyperparameters to analyse")
    names = [hp.name for hp in hps]
    X = np.full((len(configs), len(hps)), np.nan)
    log_mask = np.zeros(len(hps), dtype=bool)
    categories = np.zeros(len(hps), dtype=int)
    bounds: list[tuple[float, float]] = []
    defaults = np.empty(len(hps))
    for j, hp in enumerate(hps):
        if isinstance(hp, (FloatHyperparameter, IntegerHyperparameter)):
            log_mask[j] = bool(hp.log)
            bounds.append((float(hp.lower), float(hp.upper)))
            defaults[j] = float(hp.default_value)
            encode = float
        elif isinstance(hp, OrdinalHyperparameter):
            seq = list(hp.sequence)
            bounds.append((0.0, float(len(seq) - 1)))
            defaults[j] = seq.index(hp.default_value)
            encode = seq.index
        elif isinstance(hp, CategoricalHyperparameter):
            choices = list(hp.choices)
            categories[j] = len(choices)
            bounds.append((0.0, float(len(choices) - 1)))
            defaults[j] = choices.index(hp.default_value)
            encode = choices.index
        else:
            raise TypeError(f"hyperparameter {hp.name!r} has unsupported type {type(hp).__name__}")
        for i, config in enumerate(configs):
            if hp.name in config and config[hp.name] is not None:
                try:
                    X[i, j] = encode(config[hp.name])
                except ValueError:
                    raise ValueError(f"configuration {i}: {hp.name}={config[hp.name]!r} is not a value of the "
                                     f"space ({hp})") from None
    for i, config in enumerate(configs):
        unknown = set(config) - {hp.name for hp in space.values()}
        if unknown:
            raise ValueError(f"configuration {i} has hyperparameters {sorted(unknown)} that the space lacks")
    return FanovaInputs(X=X, names=names, log_mask=log_mask, bounds=bounds, impute_values=defaults,
                        categories=categories)


def _configs_of(results: pd.DataFrame, space: ConfigurationSpace, config_col: str | None) -> list[dict[str, Any]]:
    if config_col is not None:
        if config_col not in results.columns:
            raise ValueError(f"results has no column {config_col!r}; columns: {list(results.columns)}")
        return [dict(c) for c in results[config_col]]
    names = [hp.name for hp in space.values() if not isinstance(hp, Constant)]
    missing = [n for n in names if n not in results.columns]
    if missing:
        raise ValueError(f"results lacks columns for hyperparameters {missing}; pass config_col= if the "
                         "configurations are stored as dicts in one column")
    rows = results[names].to_dict("records")
    return [{k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))} for row in rows]


def fit_fanova_per_budget(results: pd.DataFrame, space: ConfigurationSpace, *, budget_col: str = "budget",
                          loss_col: str = "loss", config_col: str | None = None, min_configs: int = 10,
                          n_trees: int = 32, seed: int = 0, min_samples_leaf: int = 1) -> dict[float, FittedFanova]:
    """One fitted fANOVA per budget that has at least ``min_configs`` valid evaluations.

    Variance is measured over the whole search space (the space's bounds, log-scaled ranges on the
    log scale), so importances of different budgets are comparable.
    """
    for col in (budget_col, loss_col):
        if col not in results.columns:
            raise ValueError(f"results has no column {col!r}; columns: {list(results.columns)}")
    if isinstance(min_configs, bool) or not isinstance(min_configs, int) or min_configs < 2:
        raise ValueError(f"min_configs must be an integer >= 2, got {min_configs!r}")
    valid = results[np.isfinite(results[loss_col].astype(float))]
    fitted: dict[float, FittedFanova] = {}
    for budget, group in valid.groupby(budget_col, sort=True):
        if len(group) < min_configs or group[loss_col].nunique() < 2:
            continue
        inputs = space_to_fanova_inputs(_configs_of(group, space, config_col), space)
        fitted[budget] = fit_fanova(inputs.X, group[loss_col].to_numpy(float), inputs.names, inputs.log_mask,
                                    bounds=inputs.bounds, impute_values=inputs.impute_values,
                                    categories=inputs.categories, n_trees=n_trees, seed=seed,
                                    min_samples_leaf=min_samples_leaf)
    return fitted


def importance_per_budget(results: pd.DataFrame, space: ConfigurationSpace, *, budget_col: str = "budget",
                          loss_col: str = "loss", config_col: str | None = None, min_configs: int = 10,
                          n_trees: int = 32, seed: int = 0, pairs: int = 5, pair_candidates: int | None = 6,
                          min_samples_leaf: int = 1) -> pd.DataFrame:
    """fANOVA importance table of every budget, stacked; adds columns ``budget`` and ``n_configs``.

    Budgets with fewer than ``min_configs`` valid evaluations (or constant losses) are skipped:
    a forest fitted to a handful of points says little. See :meth:`FittedFanova.importances` for
    ``pairs`` and ``pair_candidates`` and for the meaning of the columns.
    """
    fitted = fit_fanova_per_budget(results, space, budget_col=budget_col, loss_col=loss_col, config_col=config_col,
                                   min_configs=min_configs, n_trees=n_trees, seed=seed,
                                   min_samples_leaf=min_samples_leaf)
    if not fitted:
        raise ValueError(f"no budget has {min_configs} or more valid evaluations with differing losses; "
                         "lower min_configs or evaluate more configurations")
    return importance_table(fitted, pairs=pairs, pair_candidates=pair_candidates)


def importance_table(fitted: Mapping[Any, FittedFanova], *, pairs: int = 5,
                     pair_candidates: int | None = 6) -> pd.DataFrame:
    """The importance table of :func:`importance_per_budget` from forests already fitted per budget
    (e.g. by :func:`fit_fanova_per_budget`, whose forests can then also draw marginal curves)."""
    if not fitted:
        raise ValueError("fitted is empty: no budget had enough evaluations for a forest")
    tables = []
    for budget, model in fitted.items():
        table = model.importances(pairs=pairs, pair_candidates=pair_candidates)
        table.insert(0, "n_configs", model.n_configs)
        table.insert(0, "budget", budget)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def importance_change(table: pd.DataFrame, budget_from: Any = None, budget_to: Any = None, *,
                      n_trees: int | None = None) -> pd.DataFrame:
    """How each hyperparameter's individual importance changes from one budget to another.

    ``table`` comes from :func:`importance_per_budget`; the budgets default to its smallest and
    largest. One row per hyperparameter, sorted by the size of the change: ``importance_from``,
    ``importance_to``, ``change`` (to - from, in variance fractions), ``std`` (the spread of the
    change from tree to tree, combining the two standard deviations over trees as independent) and
    ``z`` (change / std). With ``n_trees`` (trees per forest) also ``se`` = std / sqrt(n_trees),
    the standard error of the forests' mean change (it ignores that trees share their data).
    """
    singles = table[table["order"] == 1]
    if singles.empty:
        raise ValueError("table has no first-order importances (order == 1)")
    budgets = sorted(singles["budget"].unique())
    budget_from = budgets[0] if budget_from is None else budget_from
    budget_to = budgets[-1] if budget_to is None else budget_to
    for name, budget in (("budget_from", budget_from), ("budget_to", budget_to)):
        if budget not in budgets:
            raise ValueError(f"{name}={budget!r} is not a budget of the table; budgets: {budgets}")
    a = singles[singles["budget"] == budget_from].set_index("term")
    b = singles[singles["budget"] == budget_to].set_index("term")
    terms = [t for t in a.index if t in b.index]
    frame = pd.DataFrame({"importance_from": a.loc[terms, "importance"], "importance_to": b.loc[terms, "importance"]})
    frame["change"] = frame["importance_to"] - frame["importance_from"]
    frame["std"] = np.sqrt(a.loc[terms, "std"] ** 2 + b.loc[terms, "std"] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["z"] = frame["change"] / frame["std"]
    if n_trees is not None:
        if isinstance(n_trees, bool) or not isinstance(n_trees, (int, np.integer)) or n_trees < 1:
            raise ValueError(f"n_trees must be None or an integer >= 1, got {n_trees!r}")
        frame["se"] = frame["std"] / math.sqrt(int(n_trees))
    frame.attrs.update(budget_from=budget_from, budget_to=budget_to)
    order = frame["change"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].rename_axis("hyperparameter").reset_index()


def marginal_curves(fitted: Mapping[Any, FittedFanova], names: Sequence[str], n_points: int = 30) -> pd.DataFrame:
    """Marginal predicted loss of each hyperparameter in ``names`` at every budget, stacked.

    Columns ``budget``, ``hyperparameter``, ``value`` (raw units; the grid is even on the log scale
    of log-scaled hyperparameters), ``mean``, ``std`` (across trees) and ``log_scale``.
    """
    frames = []
    for budget, model in fitted.items():
        for name in names:
            curve = model.marginal_curve(name, n_points=n_points)
            curve.insert(0, "hyperparameter", name)
            curve.insert(0, "budget", budget)
            curve["log_scale"] = bool(model.log_mask[model.names.index(name)])
            frames.append(curve)
    if not frames:
        raise ValueError("nothing to draw: fitted is empty or names is empty")
    return pd.concat(frames, ignore_index=True)


def _log_axis(ax: Any, low: float, high: float) -> None:
    """Log x-axis with plain-number labels: 1-2-5 ticks over a few decades, powers of ten beyond."""
    from matplotlib import ticker

    ax.set_xscale("log")
    subs = (1.0,) if high / low > 30 else (1.0, 2.0, 5.0)
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def plot_marginal_curves(curves: pd.DataFrame, *, ncols: int = 3, title: str | None = None) -> Any:
    """One panel per hyperparameter: its marginal predicted loss at every budget (seaborn lines,
    ± one standard deviation across trees as a band; log x-axis for log-scaled hyperparameters)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    missing = [c for c in ("budget", "hyperparameter", "value", "mean", "std", "log_scale") if c not in curves.columns]
    if missing:
        raise ValueError(f"curves lacks columns {missing}; pass the output of marginal_curves")
    names = list(dict.fromkeys(curves["hyperparameter"]))
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    budgets = sorted(curves["budget"].unique())
    palette = dict(zip(budgets, sns.color_palette("viridis", len(budgets))))
    for ax, name in zip(axes.flat, names):
        part = curves[curves["hyperparameter"] == name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)  # seaborn 0.13 vs matplotlib >= 3.10
            sns.lineplot(data=part, x="value", y="mean", hue="budget", palette=palette, ax=ax, legend=ax is axes.flat[0])
        for budget, group in part.groupby("budget"):
            ax.fill_between(group["value"], group["mean"] - group["std"], group["mean"] + group["std"],
                            color=palette[budget], alpha=0.15, linewidth=0)
        if bool(part["log_scale"].iloc[0]):
            _log_axis(ax, part["value"].min(), part["value"].max())
        ax.set(xlabel=name, ylabel="predicted validation error")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(title or "fANOVA marginal predictions per budget")
    fig.tight_layout()
    return fig


def plot_importance_per_budget(table: pd.DataFrame, *, top: int = 8, ax: Any = None, title: str | None = None) -> Any:
    """Heatmap of first-order importance (hyperparameters x budgets) from :func:`importance_per_budget`.

    Rows are the ``top`` hyperparameters by their largest importance over budgets. Each cell shows
    the importance as a percentage with its standard deviation over trees. Returns the figure.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    singles = table[table["order"] == 1]
    if singles.empty:
        raise ValueError("table has no first-order importances (order == 1)")
    mean = singles.pivot(index="term", columns="budget", values="importance")
    std = singles.pivot(index="term", columns="budget", values="std")
    order = mean.max(axis=1).sort_values(ascending=False).index[:top]
    mean, std = mean.loc[order], std.loc[order]
    labels = np.vectorize(lambda m, s: f"{100 * m:.0f}%\n±{100 * s:.0f}")(mean.to_numpy(), std.to_numpy())
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * mean.shape[1] + 3, 0.55 * len(order) + 1.5))
    n_configs = singles.groupby("budget")["n_configs"].first()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # seaborn 0.13 vs matplotlib >= 3.10
        sns.heatmap(mean, annot=labels, fmt="", cmap="viridis", vmin=0, ax=ax,
                    cbar_kws={"label": "variance fraction"},
                    xticklabels=[f"{b:g}\n(n={n_configs[b]})" for b in mean.columns])
    ax.set_xlabel("budget")
    ax.set_ylabel("")
    ax.set_title(title or "fANOVA importance per budget")
    return ax.figure
