"""Tabular benchmarks: learning curves recorded once, replayed as an objective in microseconds.

A :class:`LearningCurveTable` stores, for ``n_configs`` configurations trained for ``n_epochs``
epochs, the validation error and the seconds of every epoch. :class:`TabularObjective` answers an
evaluation by looking the configuration up, so with the simulator backend a multi-hour tuning run
is replayed in seconds, with its real costs (the idea of tabular benchmarks such as LCBench and
NAS-Bench-201 used by Klein et al. 2020).

File format (``to_npz`` / ``from_npz``): a plain ``numpy.savez_compressed`` archive, readable
without this package (``numpy.load(path)``), holding exactly these arrays:

=============  ==========================  ================================================
name           shape, dtype                meaning
=============  ==========================  ================================================
``names``      (n_hps,) unicode            hyperparameter names
``lower``      (n_hps,) float64            lower bound of each hyperparameter
``upper``      (n_hps,) float64            upper bound
``log``        (n_hps,) bool               True: the hyperparameter is searched on a log scale
``X``          (n_configs, n_hps) float64  the configurations, in the original scale
``val_error``  (n_configs, n_epochs)       validation error after epoch 1..n_epochs (NaN: diverged)
``epoch_time`` (n_configs, n_epochs)       seconds each epoch took (optional)
``test_error`` (n_configs, n_epochs)       test error after each epoch (optional)
=============  ==========================  ================================================
"""
from __future__ import annotations

import hashlib
import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.trial import Evaluation

MODES = ("nearest", "exact")
_REQUIRED = ("names", "lower", "upper", "log", "X", "val_error")
_OPTIONAL = ("epoch_time", "test_error")


@dataclass
class LearningCurveTable:
    """Learning curves of a fixed set of configurations (see the module docstring for the arrays)."""

    names: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    log: np.ndarray
    X: np.ndarray
    val_error: np.ndarray
    epoch_time: np.ndarray | None = None
    test_error: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.names = np.asarray(self.names, dtype=str)
        self.lower = np.asarray(self.lower, dtype=float)
        self.upper = np.asarray(self.upper, dtype=float)
        self.log = np.asarray(self.log, dtype=bool)
        self.X = np.asarray(self.X, dtype=float)
        self.val_error = np.asarray(self.val_error, dtype=float)
        d = self.names.shape[0] if self.names.ndim == 1 else -1
        if d < 1 or len(set(self.names.tolist())) != d:
            raise ValueError(f"names must be a 1-d array of distinct hyperparameter names, got {self.names!r}")
        for field_name in ("lower", "upper", "log"):
            if getattr(self, field_name).shape != (d,):
                raise ValueError(f"{field_name} must have shape ({d},) (one entry per name), "
                                 f"got {getattr(self, field_name).shape}")
        if not (np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)) and np.all(self.lower < self.upper)):
            raise ValueError("lower and upper must be finite with lower < upper for every hyperparameter")
        if np.any(self.log & (self.lower <= 0)):
            bad = self.names[self.log & (self.lower <= 0)].tolist()
            raise ValueError(f"log-scale hyperparameters need lower > 0: {bad}")
        if self.X.ndim != 2 or self.X.shape[1] != d or self.X.shape[0] < 1:
            raise ValueError(f"X must have shape (n_configs >= 1, {d}), got {self.X.shape}")
        if not np.all(np.isfinite(self.X)):
            raise ValueError("X must be finite")
        span = self.upper - self.lower
        if np.any(self.X < self.lower - 1e-9 * span) or np.any(self.X > self.upper + 1e-9 * span):
            raise ValueError("every configuration in X must lie within [lower, upper]")
        n = self.X.shape[0]
        if self.val_error.ndim != 2 or self.val_error.shape[0] != n or self.val_error.shape[1] < 1:
            raise ValueError(f"val_error must have shape ({n}, n_epochs >= 1), got {self.val_error.shape}")
        for field_name in _OPTIONAL:
            value = getattr(self, field_name)
            if value is None:
                continue
            value = np.asarray(value, dtype=float)
            if value.shape != self.val_error.shape:
                raise ValueError(f"{field_name} must have the shape of val_error {self.val_error.shape}, got {value.shape}")
            setattr(self, field_name, value)
        if self.epoch_time is not None and np.any(self.epoch_time < 0):
            raise ValueError("epoch_time must be >= 0 seconds (NaN marks an unknown time)")

    @property
    def n_configs(self) -> int:
        return self.X.shape[0]

    @property
    def n_epochs(self) -> int:
        return self.val_error.shape[1]

    def digest(self) -> str:
        """SHA-256 (first 16 hex digits) of every array: equal digests, equal tables."""
        sha = hashlib.sha256()
        for name in _REQUIRED + _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                sha.update(f"{name}:{value.dtype.str}:{value.shape};".encode())
                sha.update(np.ascontiguousarray(value).tobytes())
        return sha.hexdigest()[:16]

    def to_npz(self, path: str | Path) -> None:
        """Write the arrays with ``numpy.savez_compressed`` (optional arrays only when present)."""
        arrays = {name: getattr(self, name) for name in _REQUIRED}
        arrays.update({name: getattr(self, name) for name in _OPTIONAL if getattr(self, name) is not None})
        np.savez_compressed(path, **arrays)

    @classmethod
    def from_npz(cls, path: str | Path) -> "LearningCurveTable":
        """Read a table; a truncated or corrupt file is a ValueError naming the file and the array.

        Every array in the archive is read in full, also those this class does not use (a real
        table may hold ``epoch_cpu_time``, ``metadata``, ...): that makes the zip format check the
        CRC-32 it stores for every member and the member's name against the directory, so a single
        flipped byte anywhere in the data is an error here instead of a silently different table.
        No extra checksum is needed for that (bytes outside the members' data, such as
        timestamps, change nothing that is loaded).
        """
        path = Path(path)
        advice = ("the file is damaged (truncated, or changed on disk): regenerate it, or copy it again "
                  "from where it came from")
        arrays: dict[str, np.ndarray] = {}
        name = None
        try:
            with np.load(path, allow_pickle=False) as data:
                names = list(data.files)
                for name in names:
                    arrays[name] = data[name]
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as error:
            where = f"array {name!r}" if name is not None else "the archive"
            raise ValueError(f"cannot read {where} of {path}: {type(error).__name__}: {error}; {advice}") from error
        missing = [n for n in _REQUIRED if n not in arrays]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}; a learning-curve table needs {list(_REQUIRED)} "
                             f"(it holds {sorted(arrays)}); {advice}")
        try:
            return cls(**{n: arrays[n] for n in _REQUIRED + _OPTIONAL if n in arrays})
        except ValueError as error:
            raise ValueError(f"{path}: {error}; {advice}") from error


class TabularObjective:
    """A table as a multi-fidelity objective (resource = epochs, 1..n_epochs).

    The search space has one float hyperparameter per column (log scale where the table says so),
    so searchers may propose any point; ``mode="nearest"`` answers with the table row closest to it,
    distance measured in the unit cube where each hyperparameter spans [0, 1] (on log scales after
    taking logs), ties going to the lowest row. ``mode="exact"`` accepts only configurations that
    are rows of the table. :meth:`candidates` lists the rows, for searchers that prefer to choose
    among them.

    ``evaluate`` returns ``loss = val_error[row, resource-1]``, ``cost = sum(epoch_time[row,
    previous_resource:resource])`` (a continued trial pays only for its extra epochs; NaN without
    ``epoch_time``), ``curve = val_error[row, :resource]`` and ``info = {"row", "test_error",
    "epoch_errors"}``: ``epoch_errors`` is the validation error after each epoch this job trained
    (``previous_resource + 1 .. resource``), so the run log holds every epoch's result, as a trial
    reporting after every epoch would (Syne Tune's convention; see
    :func:`hpo_kit.analysis.curves.incumbent_path` with ``convention="epoch"``).
    The seed is ignored: a table holds one curve per configuration.
    """

    def __init__(self, table: LearningCurveTable, mode: str = "nearest", min_resource: int = 1):
        if not isinstance(table, LearningCurveTable):
            raise TypeError(f"table must be a LearningCurveTable, got {type(table).__name__}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if isinstance(min_resource, bool) or not isinstance(min_resource, (int, np.integer)) \
                or not 1 <= min_resource <= table.n_epochs:
            raise ValueError(f"min_resource must be an integer in [1, {table.n_epochs}], got {min_resource!r}")
        self.table = table
        self.mode = mode
        self.min_resource = int(min_resource)
        self.max_resource = table.n_epochs
        self.space = ConfigurationSpace()
        for name, low, high, is_log in zip(table.names.tolist(), table.lower, table.upper, table.log):
            self.space.add(Float(name, (float(low), float(high)), log=bool(is_log)))
        # The unit cube: each column mapped to [0, 1], after taking logs on log-scale columns.
        self._log = table.log
        self._low = self._logged(table.lower)
        self._span = self._logged(table.upper) - self._low
        self._unit_rows = self._to_unit(table.X)
        self._row_cache: dict[tuple[float, ...], int] = {}

    def describe(self) -> dict[str, Any]:
        """The settings the run log's header records: a digest of the table, not its arrays."""
        return {"name": type(self).__name__, "mode": self.mode, "min_resource": self.min_resource,
                "max_resource": self.max_resource, "n_configs": self.table.n_configs,
                "table_sha256": self.table.digest()}

    @property
    def has_costs(self) -> bool:
        """True when every epoch has a finite time: the simulator backend needs it."""
        t = self.table.epoch_time
        return t is not None and bool(np.all(np.isfinite(t)))

    def _logged(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float)                     # a copy
        X[..., self._log] = np.log(np.maximum(X[..., self._log], 1e-300))
        return X

    def _to_unit(self, X: np.ndarray) -> np.ndarray:
        return (self._logged(X) - self._low) / self._span

    def row_of(self, config: dict[str, Any]) -> int:
        """The table row answering ``config`` (see the class docstring)."""
        try:
            x = tuple(float(config[name]) for name in self.table.names.tolist())
        except KeyError as error:
            raise ValueError(f"config lacks hyperparameter {error.args[0]!r}; expected {self.table.names.tolist()}") from None
        row = self._row_cache.get(x)
        if row is not None:
            return row
        if self.mode == "exact":
            matches = np.flatnonzero(np.all(self.table.X == np.array(x), axis=1))
            if matches.size == 0:
                raise ValueError(f"config {config} is not a row of the table (mode='exact'); use candidates() "
                                 "or mode='nearest'")
            row = int(matches[0])
        else:
            distance = np.square(self._unit_rows - self._to_unit(np.array(x))).sum(axis=1)
            row = int(np.argmin(distance))
        if len(self._row_cache) < 1_000_000:
            self._row_cache[x] = row
        return row

    def candidates(self) -> list[dict[str, float]]:
        """Every configuration of the table, as config dicts."""
        names = self.table.names.tolist()
        return [dict(zip(names, map(float, row))) for row in self.table.X]

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        if isinstance(resource, bool) or not isinstance(resource, (int, np.integer)) or not 1 <= resource <= self.max_resource:
            raise ValueError(f"resource must be an integer in [1, {self.max_resource}] epochs, got {resource!r}")
        if not 0 <= previous_resource < resource:
            raise ValueError(f"previous_resource must be in [0, resource={resource}), got {previous_resource!r}")
        t = self.table
        row = self.row_of(config)
        cost = math.nan if t.epoch_time is None else float(t.epoch_time[row, previous_resource:resource].sum())
        info: dict[str, Any] = {"row": row}
        if t.test_error is not None:
            info["test_error"] = float(t.test_error[row, resource - 1])
        info["epoch_errors"] = t.val_error[row, previous_resource:resource].tolist()
        return Evaluation(loss=float(t.val_error[row, resource - 1]), cost=cost,
                          curve=tuple(t.val_error[row, :resource].tolist()), info=info)


def synthetic_table(n_configs: int = 1000, n_epochs: int = 81, seed: int = 0) -> LearningCurveTable:
    """A made-up but plausible table for tests and engine benchmarks (not a benchmark result).

    Three hyperparameters (learning rate on a log scale, width on a log scale, dropout); the error
    decays like a power law towards a floor that depends on the distance to a hidden optimum, with
    noise; about 3 % of the largest learning rates diverge (NaN from some epoch on). Epochs take
    1-20 s, growing with the width. Deterministic given ``seed``.
    """
    rng = np.random.default_rng(seed)
    names = np.array(["learning_rate", "width", "dropout"])
    lower, upper = np.array([1e-4, 16.0, 0.0]), np.array([1.0, 512.0, 0.8])
    log = np.array([True, True, False])
    u = rng.random((n_configs, 3))
    X = np.column_stack([
        1e-4 * (1.0 / 1e-4) ** u[:, 0],        # log-uniform in [1e-4, 1]
        16.0 * (512.0 / 16.0) ** u[:, 1],      # log-uniform in [16, 512]
        0.8 * u[:, 2],                         # uniform in [0, 0.8]
    ])
    floor = 0.02 + 0.3 * ((u[:, 0] - 0.6) ** 2 + 0.5 * (u[:, 1] - 0.7) ** 2 + 0.3 * (u[:, 2] - 0.3) ** 2)
    speed = 0.3 + 1.5 * u[:, 0]                                 # larger learning rates learn faster
    epochs = np.arange(1, n_epochs + 1)
    curve = floor[:, None] + (0.9 - floor[:, None]) * epochs[None, :] ** (-speed[:, None])
    val_error = np.clip(curve + rng.normal(0, 0.005, curve.shape), 0.0, 1.0)
    diverged = (u[:, 0] > 0.9) & (rng.random(n_configs) < 0.3)
    start = rng.integers(1, n_epochs + 1, n_configs)
    val_error[diverged[:, None] & (epochs[None, :] >= start[:, None])] = np.nan
    test_error = np.clip(val_error + rng.normal(0.005, 0.005, val_error.shape), 0.0, 1.0)
    epoch_time = (1.0 + 19.0 * u[:, 1])[:, None] * rng.uniform(0.9, 1.1, (n_configs, n_epochs))
    return LearningCurveTable(names, lower, upper, log, X, val_error, epoch_time, test_error)
