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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, Constant, OrdinalHyperparameter
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

from hpo_kit.analysis.fanova_compat import FittedFanova, fit_fanova
from hpo_kit.validation import check_int


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


def importance_change(table: pd.DataFrame, budget_from: Any = None, budget_to: Any = None) -> pd.DataFrame:
    """How each hyperparameter's individual importance changes from one budget to another (display).

    ``table`` comes from :func:`importance_per_budget`; the budgets default to its smallest and
    largest. One row per hyperparameter, sorted by the size of the change: ``importance_from``,
    ``importance_to``, ``change`` (to - from, in variance fractions) and ``tree_std`` (the spread of
    the change from tree to tree of the two forests). ``tree_std`` is *not* an uncertainty of the
    change: the trees share their data, and their mean becomes exact as trees are added whatever
    the data were. Whether a change is real is decided from refits on resampled configurations
    (:func:`bootstrap_importance_change`).
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
    frame["tree_std"] = np.sqrt(a.loc[terms, "std"] ** 2 + b.loc[terms, "std"] ** 2)
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


# -- is a change of importance between budgets real? Bootstrap over configurations --------------------
#: An importance estimator: (encoded configurations, losses, seed) -> one individual importance (variance
#: fraction) per column of ``inputs.names``. :func:`fanova_main_effects` is fANOVA's;
#: :func:`binned_main_effects` a cheap one (the calibration tests use it to run the claim end to end).
ImportanceFn = Callable[[FanovaInputs, np.ndarray, int], np.ndarray]


def fanova_main_effects(n_trees: int = 16, min_samples_leaf: int = 1) -> ImportanceFn:
    """fANOVA's individual importance of every hyperparameter (a forest of ``n_trees`` per call).

    The forest's randomness comes from ``seed``: a bootstrap that passes a new seed per refit
    counts the spread between forests as part of the uncertainty, as it should.
    """
    for pname, value in (("n_trees", n_trees), ("min_samples_leaf", min_samples_leaf)):
        check_int(pname, value, 1)

    def importance(inputs: FanovaInputs, y: np.ndarray, seed: int) -> np.ndarray:
        model = fit_fanova(inputs.X, y, inputs.names, inputs.log_mask, bounds=inputs.bounds,
                           impute_values=inputs.impute_values, categories=inputs.categories, n_trees=int(n_trees),
                           seed=int(seed), min_samples_leaf=int(min_samples_leaf))
        table = model.importances(pairs=0)
        return table.set_index("term").loc[inputs.names, "importance"].to_numpy(float)

    importance.__qualname__ = f"fanova_main_effects(n_trees={n_trees}, min_samples_leaf={min_samples_leaf})"
    return importance


def binned_main_effects(n_bins: int = 4) -> ImportanceFn:
    """Main-effect variance fractions from binned means (the correlation ratio of each hyperparameter).

    Each numeric column is cut into ``n_bins`` equal-width bins over the space's range (on the log
    scale for log-scaled hyperparameters), a categorical into its choices; the importance is the
    variance of the bin means (weighted by bin size) over the variance of the losses. A crude,
    deterministic fANOVA main effect (no forest, ``seed`` unused), thousands of times cheaper.
    """
    check_int("n_bins", n_bins, 2)

    def importance(inputs: FanovaInputs, y: np.ndarray, seed: int) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        total = y.var()
        if not total > 0:
            return np.full(len(inputs.names), np.nan)
        X = np.where(np.isnan(inputs.X), inputs.impute_values[None, :], inputs.X)
        cats = np.asarray(inputs.categories)
        lo, hi = np.array(inputs.bounds, dtype=float).T
        logs = np.asarray(inputs.log_mask, dtype=bool) & (cats == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            X = np.where(logs, np.log(np.where(logs, X, 1.0)), X)
            lo = np.where(logs, np.log(np.where(logs, lo, 1.0)), lo)
            hi = np.where(logs, np.log(np.where(logs, hi, 1.0)), hi)
        width = np.where(hi > lo, (hi - lo) / n_bins, 1.0)
        numeric_bins = np.clip(((X - lo) / width).astype(int), 0, n_bins - 1)
        bins = np.where(cats > 0, X.astype(int), numeric_bins)
        size = int(max(n_bins, cats.max(initial=0)))
        k = X.shape[1]
        # one bincount for all columns: column j's bins are offset by j * size
        flat = (bins + np.arange(k)[None, :] * size).ravel()
        counts = np.bincount(flat, minlength=k * size).reshape(k, size)
        sums = np.bincount(flat, weights=np.repeat(y, k), minlength=k * size).reshape(k, size)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        between = (counts * (means - y.mean()) ** 2).sum(axis=1) / len(y)
        return between / total

    importance.__qualname__ = f"binned_main_effects(n_bins={n_bins})"
    return importance


@dataclass(frozen=True)
class ImportanceChange:
    """Importance at two budgets on the same configurations, and paired bootstrap refits of the change.

    ``replicates[b, j]`` is the change (to - from) of hyperparameter ``names[j]`` in refit ``b``: the
    same resampled configurations (and the same forest seed) at both budgets.
    """

    names: list[str]
    budget_from: Any
    budget_to: Any
    n_configs: int
    importance_from: np.ndarray
    importance_to: np.ndarray
    replicates: np.ndarray  # n_bootstrap x hyperparameters
    method: str
    #: the refits' importances at each budget (n_bootstrap x hyperparameters), for comparisons within a
    #: budget (the order of two hyperparameters); None where an older caller built the object
    replicates_from: np.ndarray | None = None
    replicates_to: np.ndarray | None = None

    @property
    def change(self) -> np.ndarray:
        return self.importance_to - self.importance_from

    @property
    def bootstrap_se(self) -> np.ndarray:
        """Standard deviation of each change over the refits (NaN refits dropped)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanstd(self.replicates, axis=0, ddof=1)

    def table(self) -> pd.DataFrame:
        """One row per hyperparameter, largest change (in bootstrap standard errors) first."""
        frame = pd.DataFrame({"hyperparameter": self.names, "importance_from": self.importance_from,
                              "importance_to": self.importance_to, "change": self.change,
                              "bootstrap_se": self.bootstrap_se})
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["z"] = frame["change"] / frame["bootstrap_se"]
        frame.attrs.update(budget_from=self.budget_from, budget_to=self.budget_to, n_configs=self.n_configs,
                           n_bootstrap=len(self.replicates))
        return frame.reindex(frame["z"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)


def bootstrap_importance_change(results: pd.DataFrame, space: ConfigurationSpace, *, budget_from: Any = None,
                                budget_to: Any = None, importance: ImportanceFn | None = None,
                                n_bootstrap: int = 100, seed: int = 0, config_id_col: str = "config_id",
                                budget_col: str = "budget", loss_col: str = "loss") -> ImportanceChange:
    """Importance of every hyperparameter at two budgets, with ``n_bootstrap`` paired refits.

    ``results`` has one row per (configuration, budget) with the hyperparameters as columns (the
    random sample of notebook 03); only configurations with a finite loss at both budgets count
    (budgets default to the smallest and largest). Each refit draws the configurations with
    replacement and fits the importance estimator (default :func:`fanova_main_effects`) at both
    budgets on that same draw: the spread of the refits' change is the uncertainty of the change due
    to *which configurations were sampled* (and, for forests, which trees were grown). The spread
    between the trees of one forest is not such an uncertainty: it shrinks as trees are added while
    the data stay the same. Same ``seed``, same refits.
    """
    importance = importance or fanova_main_effects()
    if not callable(importance):
        raise TypeError("importance must be a function (inputs, y, seed) -> importances, e.g. fanova_main_effects()")
    n_bootstrap = int(check_int("n_bootstrap", n_bootstrap, 2))
    seed = int(check_int("seed", seed, 0))
    for col in (config_id_col, budget_col, loss_col):
        if col not in results.columns:
            raise ValueError(f"results has no column {col!r}; columns: {list(results.columns)}")
    budgets = sorted(results[budget_col].unique())
    budget_from = budgets[0] if budget_from is None else budget_from
    budget_to = budgets[-1] if budget_to is None else budget_to
    for name, budget in (("budget_from", budget_from), ("budget_to", budget_to)):
        if budget not in budgets:
            raise ValueError(f"{name}={budget!r} is not a budget of results; budgets: {budgets}")
    if budget_from == budget_to:
        raise ValueError("budget_from and budget_to must differ")
    valid = results[np.isfinite(results[loss_col].astype(float))]
    a = valid[valid[budget_col] == budget_from].drop_duplicates(config_id_col).set_index(config_id_col)
    b = valid[valid[budget_col] == budget_to].drop_duplicates(config_id_col).set_index(config_id_col)
    ids = sorted(set(a.index) & set(b.index))
    if len(ids) < 3:
        raise ValueError(f"only {len(ids)} configurations have a finite loss at both budgets {budget_from} and "
                         f"{budget_to}; at least 3 are needed")
    inputs = space_to_fanova_inputs(_configs_of(a.loc[ids].reset_index(), space, None), space)
    y_from, y_to = a.loc[ids, loss_col].to_numpy(float), b.loc[ids, loss_col].to_numpy(float)
    n = len(ids)

    def both(rows: np.ndarray | None, forest_seed: int) -> np.ndarray:
        part = inputs if rows is None else replace(inputs, X=inputs.X[rows])
        yf, yt = (y_from, y_to) if rows is None else (y_from[rows], y_to[rows])
        if np.ptp(yf) == 0 or np.ptp(yt) == 0:  # a draw with one distinct loss has no variance to split
            return np.full((2, len(inputs.names)), np.nan)
        return np.vstack([importance(part, yf, forest_seed), importance(part, yt, forest_seed)])

    point = both(None, seed)
    draws = np.random.default_rng(np.random.SeedSequence([seed, 1807])).integers(0, n, size=(n_bootstrap, n))
    forest_seeds = np.random.SeedSequence([seed, 6906]).generate_state(n_bootstrap) % (2**31 - 1)
    at_from = np.empty((n_bootstrap, len(inputs.names)))
    at_to = np.empty((n_bootstrap, len(inputs.names)))
    for k in range(n_bootstrap):
        at_from[k], at_to[k] = both(draws[k], int(forest_seeds[k]))
    replicates = at_to - at_from
    return ImportanceChange(names=list(inputs.names), budget_from=budget_from, budget_to=budget_to, n_configs=n,
                            importance_from=point[0], importance_to=point[1], replicates=replicates,
                            method=getattr(importance, "__qualname__", repr(importance)),
                            replicates_from=at_from, replicates_to=at_to)


