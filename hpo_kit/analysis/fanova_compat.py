"""The one place that talks to the ``fanova`` package (functional ANOVA, Hutter et al. 2014).

fanova 2.0.19 is the reference implementation, but it predates today's numpy and ConfigSpace.
Every workaround lives in this module, so the rest of the kit calls plain functions:

* ``np.float`` (removed in numpy 1.24) is still used by fanova when it computes marginals. We do
  not put ``float`` back on numpy itself: that would change numpy for every library in the process
  and hide the same bug elsewhere. Instead, while one of our calls runs, the name ``np`` *inside
  fanova's own module* points to a thin proxy that answers ``float`` and forwards everything else
  to numpy (:func:`_fanova_patched`). Outside our calls fanova's module is left as installed.
* ``fANOVA.__init__`` calls ``logging.basicConfig(level=INFO)``, which would configure the root
  logger of the whole process (every library's INFO messages would start to appear in notebooks).
  The same context swaps fanova's ``logging`` name for a proxy whose ``basicConfig`` does nothing.
* ConfigSpace 1.x still supports the 0.x methods fanova calls, but warns on each call, and it orders
  hyperparameters alphabetically rather than in insertion order. We silence the deprecation
  warnings raised from fanova, and always give fanova a DataFrame with named columns so it reorders
  the columns itself; results are looked up by name, never by position.
* fanova's importances are fractions of variance over the box spanned by the hyperparameters'
  bounds, taken from the ConfigSpace it is given. We build that space here from explicit bounds
  (by default the data's range), on the log scale for log-scaled hyperparameters: fanova would
  otherwise measure a learning rate over its raw range, where 1e-3..1e-2 is 1 % of the box.
* fanova needs finite inputs; inactive hyperparameters (NaN) are imputed with given values.

pyrfr (the random-forest library fanova uses) must be built with SWIG < 4.2; see the Makefile.
"""
from __future__ import annotations

import itertools
import logging
import math
import threading
import types
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Columns of the table returned by :func:`fanova_importances`.
IMPORTANCE_COLUMNS = ("term", "params", "order", "importance", "std", "total_importance", "total_std")


class _NumpyWithFloat(types.ModuleType):
    """numpy as fanova expects it: ``np.float`` is the builtin ``float`` (what it always aliased)."""

    float = float

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


class _LoggingWithoutBasicConfig(types.ModuleType):
    """The ``logging`` module minus ``basicConfig``, which must not configure the caller's root logger."""

    @staticmethod
    def basicConfig(*args: Any, **kwargs: Any) -> None:  # noqa: N802 (logging's own name)
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(logging, name)


_PATCH_LOCK = threading.RLock()
_patch_depth = 0


def _fanova_module() -> types.ModuleType:
    try:
        import fanova.fanova as module
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            "fANOVA needs the packages 'fanova' (2.0.19) and 'pyrfr' (0.9.0, built with SWIG < 4.2); "
            f"install them as the Makefile does. Import failed with: {err}"
        ) from err
    return module


@contextmanager
def _fanova_patched() -> Iterator[types.ModuleType]:
    """fanova's module with ``np``/``logging`` swapped for the proxies above, restored on exit.

    Re-entrant and guarded by a lock, so nested calls and threads see a consistent module.
    """
    global _patch_depth
    module = _fanova_module()
    with _PATCH_LOCK:
        if _patch_depth == 0:
            saved = (module.np, module.logging)
            module.np = _NumpyWithFloat("numpy")
            module.logging = _LoggingWithoutBasicConfig("logging")
        _patch_depth += 1
        try:
            with warnings.catch_warnings():
                # ConfigSpace 1.x deprecation warnings triggered by fanova's 0.x-style calls.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"fanova(\.|$)")
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ConfigSpace(\.|$)")
                yield module
        finally:
            _patch_depth -= 1
            if _patch_depth == 0:
                module.np, module.logging = saved


def _check_inputs(X: Any, y: Any, names: Sequence[str], log_mask: Sequence[bool],
                  bounds: Sequence[tuple[float, float]] | None,
                  impute_values: Sequence[float] | None,
                  categories: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray,
                                                              list[tuple[float, float]], np.ndarray]:
    """Validate shapes and values; return X (raw, imputed), y, names, log mask, raw bounds, categories."""
    X = np.array(X, dtype=float, copy=True)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D matrix (configurations x hyperparameters), got shape {X.shape}")
    n, d = X.shape
    names = [str(name) for name in names]
    if len(names) != d:
        raise ValueError(f"names must give one name per column of X ({d}), got {len(names)}")
    if len(set(names)) != d:
        raise ValueError(f"names must be unique, got {names}")
    log_mask = np.asarray(log_mask, dtype=bool).ravel()
    if log_mask.shape != (d,):
        raise ValueError(f"log_mask must have one entry per column of X ({d}), got {log_mask.shape[0]}")
    if len(y) != n:
        raise ValueError(f"y must have one value per row of X ({n}), got {len(y)}")
    if n < 2:
        raise ValueError(f"fANOVA needs at least 2 configurations, got {n}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite (drop failed evaluations before calling fANOVA)")
    if np.ptp(y) == 0:
        raise ValueError("y is constant: there is no variance to decompose")
    cats = np.zeros(d, dtype=int) if categories is None else np.asarray(categories, dtype=int).ravel()
    if cats.shape != (d,) or np.any(cats < 0) or np.any(cats == 1):
        raise ValueError("categories must give, per column, 0 (numeric) or the number of choices (>= 2)")
    if np.any(log_mask & (cats > 0)):
        raise ValueError("a categorical column cannot be log-scaled (log_mask and categories both set)")

    nan = np.isnan(X)
    if nan.any():
        if impute_values is None:
            raise ValueError("X contains NaN (inactive hyperparameters): pass impute_values, one per column")
        fill = np.asarray(impute_values, dtype=float).ravel()
        if fill.shape != (d,) or not np.all(np.isfinite(fill)):
            raise ValueError(f"impute_values must give {d} finite numbers, got {impute_values!r}")
        X[nan] = np.broadcast_to(fill, X.shape)[nan]
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite apart from NaN for inactive values")

    raw_bounds: list[tuple[float, float]] = []
    for j in range(d):
        if cats[j]:
            values = X[:, j]
            if np.any(values != np.round(values)) or values.min() < 0 or values.max() > cats[j] - 1:
                raise ValueError(f"categorical column {names[j]!r} must hold choice indices 0..{cats[j] - 1}")
            raw_bounds.append((0.0, float(cats[j] - 1)))
            continue
        if bounds is None:
            lo, hi = float(X[:, j].min()), float(X[:, j].max())
        else:
            if len(bounds) != d:
                raise ValueError(f"bounds must give one (lower, upper) pair per column ({d}), got {len(bounds)}")
            lo, hi = (float(b) for b in bounds[j])
            if not lo <= hi:
                raise ValueError(f"bounds of {names[j]!r} must have lower <= upper, got ({lo}, {hi})")
            if X[:, j].min() < lo or X[:, j].max() > hi:
                raise ValueError(f"values of {names[j]!r} lie outside its bounds ({lo}, {hi})")
        if log_mask[j] and lo <= 0:
            raise ValueError(f"{names[j]!r} is log-scaled, so its values and bounds must be > 0, got lower {lo}")
        raw_bounds.append((lo, hi))
    return X, y, names, log_mask, raw_bounds, cats


def _to_model_scale(values: np.ndarray, is_log: bool) -> np.ndarray:
    return np.log(values) if is_log else values


@dataclass
class FittedFanova:
    """A fitted fANOVA forest plus what is needed to talk about it in the user's units.

    Hyperparameters are modelled on the log scale where ``log_mask`` is set; ``bounds`` are always
    given in the user's (raw) units.
    """

    names: list[str]
    log_mask: np.ndarray
    bounds: list[tuple[float, float]]  # raw units; the box over which variance is measured
    categories: np.ndarray  # 0 for numeric columns, else the number of choices
    n_configs: int
    _model: Any  # fanova.fANOVA

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"unknown hyperparameter {name!r}; known: {self.names}")
        return self.names.index(name)

    def importances(self, pairs: int = 10, pair_candidates: int | None = 6) -> pd.DataFrame:
        """Variance fractions of every hyperparameter and of the strongest pairwise interactions.

        ``pairs`` is how many pairwise interactions to report (0 = none). Evaluating a pair costs
        (splits on the first) x (splits on the second) forest predictions, so only pairs among the
        ``pair_candidates`` most important single hyperparameters are computed (None = all pairs).
        Returns the columns :data:`IMPORTANCE_COLUMNS`: ``importance`` is the individual variance
        fraction of the term (for a pair: its interaction only), ``std`` its standard deviation
        over trees, ``total_importance`` includes the term's lower-order parts.
        """
        if isinstance(pairs, bool) or not isinstance(pairs, int) or pairs < 0:
            raise ValueError(f"pairs must be an integer >= 0 (0 = no interactions), got {pairs!r}")
        if pair_candidates is not None and (isinstance(pair_candidates, bool)
                                            or not isinstance(pair_candidates, int) or pair_candidates < 2):
            raise ValueError(f"pair_candidates must be None or an integer >= 2, got {pair_candidates!r}")
        rows = []
        with _fanova_patched():
            for name in self.names:
                stats = self._model.quantify_importance((name,))[(name,)]
                rows.append(_row((name,), stats))
            singles = sorted(rows, key=lambda r: -r["importance"])
            if pairs > 0 and len(self.names) > 1:
                candidates = [r["params"][0] for r in singles]
                if pair_candidates is not None:
                    candidates = candidates[:pair_candidates]
                pair_rows = []
                for a, b in itertools.combinations(candidates, 2):
                    key = tuple(sorted((a, b), key=self.names.index))
                    stats = self._model.quantify_importance(key)[key]
                    pair_rows.append(_row(key, stats))
                pair_rows.sort(key=lambda r: -r["importance"])
                singles += pair_rows[:pairs]
        return pd.DataFrame(singles, columns=list(IMPORTANCE_COLUMNS))

    def marginal_curve(self, name: str, n_points: int = 50) -> pd.DataFrame:
        """Predicted loss as a function of one hyperparameter, averaged over all the others.

        Returns columns ``value`` (raw units; the grid is even on the log scale for log-scaled
        hyperparameters, or the choice indices of a categorical), ``mean`` and ``std`` (standard
        deviation across the forest's trees).
        """
        j = self._index(name)
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
            raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}")
        lo, hi = self.bounds[j]
        if self.categories[j]:
            raw = np.arange(self.categories[j], dtype=float)
            grid = raw
        else:
            grid = np.linspace(_to_model_scale(np.float64(lo), self.log_mask[j]),
                               _to_model_scale(np.float64(hi), self.log_mask[j]), n_points)
            raw = np.exp(grid) if self.log_mask[j] else grid
        # fanova indexes its own (alphabetical) column order.
        dim = self._model.cs.index_of[name]
        means, stds = [], []
        with _fanova_patched():
            for value in grid:
                mean, var = self._model.marginal_mean_variance_for_values([dim], [float(value)])
                means.append(mean)
                stds.append(math.sqrt(max(var, 0.0)))
        return pd.DataFrame({"value": raw, "mean": means, "std": stds})


def _row(params: tuple[str, ...], stats: dict[str, float]) -> dict[str, Any]:
    return {
        "term": " × ".join(params),
        "params": params,
        "order": len(params),
        "importance": float(stats["individual importance"]),
        "std": float(stats["individual std"]),
        "total_importance": float(stats["total importance"]),
        "total_std": float(stats["total std"]),
    }


def fit_fanova(X: Any, y: Any, names: Sequence[str], log_mask: Sequence[bool], *,
               bounds: Sequence[tuple[float, float]] | None = None,
               impute_values: Sequence[float] | None = None,
               categories: Sequence[int] | None = None,
               n_trees: int = 32, seed: int = 0, min_samples_leaf: int = 1,
               max_depth: int = 64) -> FittedFanova:
    """Fit fANOVA's random forest to losses ``y`` of configurations ``X`` (rows, in raw units).

    ``names``: one per column. ``log_mask``: columns modelled on the log scale. ``bounds``: raw
    (lower, upper) per numeric column — the box over which variance is decomposed, normally the
    search space's ranges (default: the data's range). ``impute_values``: raw value per column
    that replaces NaN (inactive) entries. ``categories``: per column 0 (numeric) or the number of
    choices, the column then holding choice indices. ``min_samples_leaf`` > 1 gives coarser trees,
    which makes pairwise interactions much cheaper to compute.
    """
    for pname, value, minimum in (("n_trees", n_trees, 1), ("seed", seed, 0),
                                  ("min_samples_leaf", min_samples_leaf, 1), ("max_depth", max_depth, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{pname} must be an integer >= {minimum}, got {value!r}")
    X, y, names, log_mask, raw_bounds, cats = _check_inputs(X, y, names, log_mask, bounds, impute_values,
                                                            categories)
    from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, UniformFloatHyperparameter

    space = ConfigurationSpace()
    columns = {}
    for j, name in enumerate(names):
        if cats[j]:
            space.add(CategoricalHyperparameter(name, choices=list(range(int(cats[j])))))
            columns[name] = X[:, j]
            continue
        lo, hi = (float(_to_model_scale(np.float64(b), log_mask[j])) for b in raw_bounds[j])
        if lo == hi:
            # A constant column gets zero importance; fanova only needs a non-empty interval.
            lo, hi = lo - 0.5, hi + 0.5
        hp = UniformFloatHyperparameter(name, lo, hi)
        space.add(hp)
        # ConfigSpace rounds bounds to ~13 digits and log() adds round-off: clip to the stored bounds
        # so fanova's range check never trips on the last digit.
        columns[name] = np.clip(_to_model_scale(X[:, j], log_mask[j]), hp.lower, hp.upper)
    frame = pd.DataFrame(columns)
    with _fanova_patched() as module:
        model = module.fANOVA(frame, y, config_space=space, n_trees=int(n_trees), seed=int(seed),
                              min_samples_leaf=int(min_samples_leaf), max_depth=int(max_depth))
    return FittedFanova(names=names, log_mask=log_mask, bounds=raw_bounds, categories=cats,
                        n_configs=len(y), _model=model)


def fanova_importances(X: Any, y: Any, names: Sequence[str], log_mask: Sequence[bool], *,
                       n_trees: int = 32, seed: int = 0, pairs: int = 10, pair_candidates: int | None = 6,
                       bounds: Sequence[tuple[float, float]] | None = None,
                       impute_values: Sequence[float] | None = None,
                       categories: Sequence[int] | None = None,
                       min_samples_leaf: int = 1) -> pd.DataFrame:
    """Fit fANOVA and return the importance table (see :meth:`FittedFanova.importances`)."""
    model = fit_fanova(X, y, names, log_mask, bounds=bounds, impute_values=impute_values,
                       categories=categories, n_trees=n_trees, seed=seed, min_samples_leaf=min_samples_leaf)
    return model.importances(pairs=pairs, pair_candidates=pair_candidates)


def marginal_curve(model: FittedFanova, name: str, n_points: int = 50) -> pd.DataFrame:
    """Marginal predicted loss over one hyperparameter (see :meth:`FittedFanova.marginal_curve`)."""
    if not isinstance(model, FittedFanova):
        raise TypeError(f"model must be a FittedFanova (from fit_fanova), got {type(model).__name__}")
    return model.marginal_curve(name, n_points=n_points)
