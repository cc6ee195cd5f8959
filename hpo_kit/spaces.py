"""Search spaces as points of the unit cube, the common language of every searcher.

Every searcher (random, KDE, GP) works on vectors ``x`` in ``[0, 1]^d``; this module translates
between those vectors and ConfigSpace configurations (plain dicts, inactive hyperparameters
absent). One dimension per non-constant hyperparameter, in the space's own (topological) order:

==============  ======================================================================
kind            encoding of a value ``v`` (``u`` is the coordinate in [0, 1])
==============  ======================================================================
``float``       ``u = (v - lower) / (upper - lower)``; on a log scale the same with
                ``log v``, ``log lower``, ``log upper`` (so uniform ``u`` = log-uniform ``v``).
``integer``     as ``float`` but on the widened interval ``[lower - 0.5, upper + 0.5]``;
                decoding rounds to the nearest integer. Every integer owns an interval of the
                same width (same log-width on a log scale), so uniform ``u`` picks integers
                uniformly (log-uniformly).
``categorical`` choice ``i`` of ``k`` is the bin centre ``u = (i + 0.5) / k``; decoding takes
                ``floor(u * k)``. Uniform ``u`` picks every choice with probability ``1/k``
                (choice weights of the space are ignored on purpose: searchers explore
                uniformly).
``ordinal``     like ``categorical`` (bin centres in sequence order), but the order is meaningful,
                so distance-based models may treat it as a number.
``constant``    no dimension; decoding adds the constant back whenever it is active.
==============  ======================================================================

Normal and beta hyperparameters are encoded like uniform ones on their bounds; their prior is
ignored (the searchers of this kit do not use priors).

Conditions: an *inactive* hyperparameter is encoded as ``NaN``. :meth:`UnitCubeEncoder.impute`
replaces NaN by the encoded *default value* of that hyperparameter (a fixed, documented point
inside the cube, so models that need finite inputs see all inactive configurations as equal in
that dimension). Decoding ignores whatever sits in an inactive dimension and uses ConfigSpace's
condition logic to decide which hyperparameters are active, so the result is always a valid
configuration. :meth:`UnitCubeEncoder.canonicalize` does the same for a whole matrix at once
(vectorised, for the thousands of candidates a model-based searcher scores).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
)
from ConfigSpace.conditions import AndConjunction, Condition, OrConjunction
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter
from ConfigSpace.util import deactivate_inactive_hyperparameters

#: the kinds of encoded dimensions (see the module docstring)
KINDS = ("float", "integer", "ordinal", "categorical")


def validate_space(space: Any) -> None:
    """Raise a clear error when ``space`` cannot be searched.

    Checks: it is a ``ConfigSpace.ConfigurationSpace``; it has at least one hyperparameter that is
    not a constant; every hyperparameter has a supported type; numerical bounds are finite with
    ``lower < upper``.
    """
    if not isinstance(space, ConfigurationSpace):
        raise TypeError(
            f"space must be a ConfigSpace.ConfigurationSpace, got {type(space).__name__}"
        )
    hps = list(space.values())
    if not hps:
        raise ValueError("space has no hyperparameters: add at least one non-constant hyperparameter")
    supported = (
        FloatHyperparameter, IntegerHyperparameter, CategoricalHyperparameter,
        OrdinalHyperparameter, Constant,
    )
    for hp in hps:
        if not isinstance(hp, supported):
            raise TypeError(
                f"hyperparameter {hp.name!r} has unsupported type {type(hp).__name__}; allowed: "
                "float, integer, categorical, ordinal and constant hyperparameters"
            )
        if isinstance(hp, (FloatHyperparameter, IntegerHyperparameter)):
            lower, upper = float(hp.lower), float(hp.upper)
            if not (math.isfinite(lower) and math.isfinite(upper)):
                raise ValueError(
                    f"hyperparameter {hp.name!r} needs finite bounds, got [{lower}, {upper}]"
                )
            if not lower < upper:
                raise ValueError(
                    f"hyperparameter {hp.name!r} needs lower < upper, got [{lower}, {upper}]"
                )
    if all(isinstance(hp, Constant) for hp in hps):
        names = ", ".join(hp.name for hp in hps)
        raise ValueError(
            f"space has only constants ({names}); there is nothing to search: "
            "add at least one non-constant hyperparameter"
        )


class UnitCubeEncoder:
    """Bidirectional map between configurations of ``space`` and vectors in ``[0, 1]^d``.

    Attributes:
        dim: number of encoded dimensions ``d`` (non-constant hyperparameters).
        names: hyperparameter name of each dimension.
        kinds: kind of each dimension, one of :data:`KINDS`.
        n_choices: per dimension, the number of values it can take: ``k`` for categorical and
            ordinal, ``upper - lower + 1`` for integer, ``0`` for float (continuous).
        is_categorical: boolean mask of the categorical dimensions (unordered; the KDE uses an
            Aitchison-Aitken kernel there).
        defaults: encoded default value of each dimension (what :meth:`impute` puts into NaN).
        has_conditions: whether some hyperparameter can be inactive.
    """

    def __init__(self, space: ConfigurationSpace):
        validate_space(space)
        self.space = space
        self._all_hps = list(space.values())  # ConfigSpace index order (parents before children)
        self.constants: dict[str, Any] = {
            hp.name: hp.value for hp in self._all_hps if isinstance(hp, Constant)
        }
        self._hps = [hp for hp in self._all_hps if not isinstance(hp, Constant)]
        self.dim = len(self._hps)
        self.names: list[str] = [hp.name for hp in self._hps]
        self._index = {name: i for i, name in enumerate(self.names)}
        kinds, n_choices = [], []
        for hp in self._hps:
            if isinstance(hp, CategoricalHyperparameter):
                kinds.append("categorical")
                n_choices.append(len(hp.choices))
            elif isinstance(hp, OrdinalHyperparameter):
                kinds.append("ordinal")
                n_choices.append(len(hp.sequence))
            elif isinstance(hp, IntegerHyperparameter):
                kinds.append("integer")
                n_choices.append(int(hp.upper) - int(hp.lower) + 1)
            else:
                kinds.append("float")
                n_choices.append(0)
        self.kinds: tuple[str, ...] = tuple(kinds)
        self.n_choices = np.asarray(n_choices, dtype=np.int64)
        self.is_categorical = np.array([k == "categorical" for k in kinds], dtype=bool)
        self._is_binned = np.array([k in ("categorical", "ordinal") for k in kinds], dtype=bool)
        self._is_integer = np.array([k == "integer" for k in kinds], dtype=bool)
        self.has_conditions = len(space.conditional_hyperparameters) > 0
        self._has_forbiddens = len(space.forbidden_clauses) > 0
        self.defaults = np.array(
            [self._encode_value(hp, hp.default_value) for hp in self._hps], dtype=float
        )

    # ----------------------------------------------------------------------------- one value
    def _interval(self, hp: Any) -> tuple[float, float, bool]:
        """The (possibly log-transformed) interval that is mapped linearly onto [0, 1]."""
        lower, upper = float(hp.lower), float(hp.upper)
        if isinstance(hp, IntegerHyperparameter):
            lower, upper = lower - 0.5, upper + 0.5
        if hp.log:
            return math.log(lower), math.log(upper), True
        return lower, upper, False

    def _encode_value(self, hp: Any, value: Any) -> float:
        if isinstance(hp, (CategoricalHyperparameter, OrdinalHyperparameter)):
            seq = list(hp.choices if isinstance(hp, CategoricalHyperparameter) else hp.sequence)
            if value not in seq:
                raise ValueError(f"{hp.name}={value!r} is not one of the allowed values {seq}")
            return (seq.index(value) + 0.5) / len(seq)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{hp.name} must be a number, got {value!r}") from None
        if not float(hp.lower) <= v <= float(hp.upper):
            raise ValueError(f"{hp.name}={value!r} is outside its range [{hp.lower}, {hp.upper}]")
        lo, hi, log = self._interval(hp)
        return ((math.log(v) if log else v) - lo) / (hi - lo)

    def _decode_column(self, i: int, u: np.ndarray) -> np.ndarray:
        """Values of dimension ``i`` for the coordinates ``u`` (no NaN allowed)."""
        hp = self._hps[i]
        u = np.clip(u, 0.0, 1.0)
        if self._is_binned[i]:
            k = int(self.n_choices[i])
            idx = np.minimum(np.floor(u * k).astype(np.int64), k - 1)
            seq = hp.choices if isinstance(hp, CategoricalHyperparameter) else hp.sequence
            out = np.empty(len(u), dtype=object)
            out[:] = [seq[j] for j in idx]
            return out
        lo, hi, log = self._interval(hp)
        t = lo + u * (hi - lo)
        v = np.exp(t) if log else t
        if self._is_integer[i]:
            return np.clip(np.rint(v), hp.lower, hp.upper).astype(np.int64)
        return np.clip(v, hp.lower, hp.upper)

    # ----------------------------------------------------------------------------- public API
    def encode(self, config: Mapping[str, Any] | Configuration) -> np.ndarray:
        """Vector of ``config`` (a dict or Configuration); NaN where a hyperparameter is absent."""
        values = dict(config)
        unknown = set(values) - set(self._index) - set(self.constants)
        if unknown:
            raise ValueError(
                f"config has unknown hyperparameters {sorted(unknown)}; known: {self.names}"
            )
        x = np.full(self.dim, np.nan)
        for name, value in values.items():
            i = self._index.get(name)
            if i is not None:
                x[i] = self._encode_value(self._hps[i], value)
        return x

    def encode_many(self, configs: list[Mapping[str, Any]]) -> np.ndarray:
        """Matrix ``(len(configs), d)`` of encoded configurations."""
        X = np.full((len(configs), self.dim), np.nan)
        for r, config in enumerate(configs):
            X[r] = self.encode(config)
        return X

    def impute(self, X: np.ndarray) -> np.ndarray:
        """Copy of ``X`` with NaN (inactive) entries replaced by the encoded default values."""
        X = np.array(X, dtype=float, copy=True)
        mask = np.isnan(X)
        if mask.any():
            X[mask] = np.broadcast_to(self.defaults, X.shape)[mask]
        return X

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """The valid configuration (plain dict, inactive hyperparameters absent) at ``x``.

        Coordinates are clipped to [0, 1]; NaN coordinates of hyperparameters that turn out to be
        active take the default. Raises ``ConfigSpace.exceptions.ForbiddenValueError`` when the
        point violates a forbidden clause (check with :meth:`is_forbidden` first).
        """
        x = np.asarray(x, dtype=float)
        if x.shape != (self.dim,):
            raise ValueError(f"x must have shape ({self.dim},), got {x.shape}")
        x = self.impute(x[None, :])[0]
        values: dict[str, Any] = dict(self.constants)
        for i, name in enumerate(self.names):
            values[name] = _native(self._decode_column(i, x[i : i + 1])[0])
        if self.has_conditions:
            config = deactivate_inactive_hyperparameters(values, self.space)
        else:
            config = Configuration(self.space, values=values)  # checks forbidden clauses
        return {name: _native(value) for name, value in config.items()}

    # ------------------------------------------------------------------------- vectorised API
    def _configspace_matrix(self, X: np.ndarray) -> np.ndarray:
        """ConfigSpace's own vector representation, shape ``(n_all_hps, n)`` (rows = hps)."""
        X = self.impute(np.clip(X, 0.0, 1.0))
        M = np.empty((len(self._all_hps), X.shape[0]))
        for row, hp in enumerate(self._all_hps):
            if isinstance(hp, Constant):
                M[row] = hp.to_vector(hp.value)
                continue
            i = self._index[hp.name]
            if self._is_binned[i]:
                k = int(self.n_choices[i])
                M[row] = np.minimum(np.floor(X[:, i] * k), k - 1)  # ConfigSpace: choice index
            else:
                M[row] = hp.to_vector(self._decode_column(i, X[:, i]))
        return M

    def _mask_inactive(self, M: np.ndarray) -> None:
        """Set the rows of inactive hyperparameters of ``M`` to NaN (ConfigSpace's conditions).

        A condition holds only if its parent is active and the relation is satisfied; rows are
        processed in ConfigSpace's topological order, so inactivity propagates to grandchildren.
        """
        for row, hp in enumerate(self._all_hps):
            for cond in self.space.parent_conditions_of[hp.name]:
                M[row, ~_satisfied(cond, M)] = np.nan

    def active_mask(self, X: np.ndarray) -> np.ndarray:
        """Boolean ``(n, d)``: which dimension is active in each (clipped, NaN-imputed) row."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if not self.has_conditions:
            return np.ones(X.shape, dtype=bool)
        M = self._configspace_matrix(X)
        self._mask_inactive(M)
        rows = [self.space.index_of[name] for name in self.names]
        return ~np.isnan(M[rows].T)

    def canonicalize(self, X: np.ndarray) -> np.ndarray:
        """The encoding of the configurations the rows of ``X`` decode to (vectorised).

        Clips to [0, 1], snaps integer/ordinal/categorical dimensions to the encoding of the value
        they decode to, and sets inactive dimensions to NaN. ``encode(decode(x))`` for every row,
        only much faster.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        active = self.active_mask(X)
        Y = self.impute(np.clip(X, 0.0, 1.0))
        for i in np.flatnonzero(self._is_binned):
            k = self.n_choices[i]
            Y[:, i] = (np.minimum(np.floor(Y[:, i] * k), k - 1) + 0.5) / k
        for i in np.flatnonzero(self._is_integer):
            hp = self._hps[i]
            lo, hi, log = self._interval(hp)
            v = self._decode_column(i, Y[:, i]).astype(float)
            Y[:, i] = ((np.log(v) if log else v) - lo) / (hi - lo)
        Y[~active] = np.nan
        return Y

    def is_forbidden(self, X: np.ndarray) -> np.ndarray:
        """Boolean ``(n,)``: whether each row violates a forbidden clause of the space."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if not self._has_forbiddens:
            return np.zeros(X.shape[0], dtype=bool)
        M = self._configspace_matrix(X)
        if self.has_conditions:
            self._mask_inactive(M)
        forbidden = np.zeros(X.shape[0], dtype=bool)
        for clause in self.space.forbidden_clauses:
            forbidden |= np.asarray(clause.is_forbidden_vector_array(M), dtype=bool)
        return forbidden

    def sample(self, rng: np.random.Generator, n: int, max_tries: int = 1000) -> np.ndarray:
        """``n`` canonical points drawn uniformly from the cube, forbidden ones rejected."""
        out: list[np.ndarray] = []
        have = 0
        for _ in range(max_tries):
            X = rng.random((max(n - have, 1) * 2, self.dim))
            X = X[~self.is_forbidden(X)][: n - have]
            out.append(X)
            have += len(X)
            if have >= n:
                return self.canonicalize(np.concatenate(out)) if n else np.empty((0, self.dim))
        raise RuntimeError(
            f"could not sample {n} configurations outside the forbidden clauses in {max_tries} "
            "rounds; the forbidden clauses exclude (almost) the whole space"
        )


def _satisfied(cond: Any, M: np.ndarray) -> np.ndarray:
    """Whether ``cond`` holds for each column of ``M``, requiring active parents."""
    if isinstance(cond, AndConjunction):
        return np.logical_and.reduce([_satisfied(c, M) for c in cond.components])
    if isinstance(cond, OrConjunction):
        return np.logical_or.reduce([_satisfied(c, M) for c in cond.components])
    assert isinstance(cond, Condition), f"unknown condition type {type(cond).__name__}"
    parent = M[cond.parent_vector_id]
    with np.errstate(invalid="ignore"):
        ok = np.asarray(cond.satisfied_by_vector_array(M), dtype=bool)
    return ok & ~np.isnan(parent)


def _native(value: Any) -> Any:
    """numpy scalars -> Python scalars, so configurations are plain JSON-able dicts."""
    return value.item() if isinstance(value, np.generic) else value
