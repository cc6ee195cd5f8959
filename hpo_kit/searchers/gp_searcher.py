"""Gaussian-process searchers: GP-EI (single fidelity) and A-BOHB's joint (x, resource) GP.

Both follow one recipe per suggestion:

1. fewer than ``init_random`` observations: a uniform random configuration;
2. pick the *target resource* ``r*``: the largest resource with at least ``min_points_at_target``
   observations (default ``d + 1``; if none has that many, the resource with most observations, or
   with ``target_fallback="smallest"`` the smallest resource, as Syne Tune does).
   For A-BOHB this is the largest rung with enough data, as in Klein et al. (2020); the rung
   levels are inferred from the resources seen, no scheduler knowledge is needed;
3. standardise the losses (zero mean, unit variance) and (re)fit the GP hyperparameters by
   maximum marginal likelihood - from scratch with restarts the first time, then warm-started
   once ``max(refit_every, refit_growth * n_last_fit)`` new observations arrived - always on at
   most ``max_fit_points`` observations (a seeded random subset), which keeps suggestions fast at
   1000 observations. Between refits the GP is conditioned exactly on all data with the cached
   hyperparameters;
4. pending evaluations become ``n_fantasies`` fantasies (see :mod:`gp.acquisition`); each
   fantasy's EI incumbent is the best observed or fantasised loss at ``r*`` (Snoek et al. 2012);
5. maximise EI at ``r*`` over ``n_random_candidates`` uniform points plus Gaussian perturbations of
   the ``n_local_centres`` best configurations observed at ``r*``.

Data cap (cost stays flat as observations grow): with ``max_model_points`` set and more
observations than that, the GP is conditioned on a subset: the ``top_fraction`` best observations
at ``r*`` (they decide EI's incumbent) plus a seeded uniform sample of the rest, ``max_model_points
// 2`` in all when the subset is drawn. Observations arriving later are appended to the subset, so
its Cholesky factor grows incrementally (``O(m^2)`` per row), until it holds ``max_model_points``;
then a new subset is drawn and factorised once. The hyperparameters are refitted on the schedule of
step 3 (counted in observations, not subset rows). A suggestion then costs ``O(candidates x m^2)``
with ``m <= max_model_points``, whatever the number of observations (``bench/abohb_cost.py``).
Syne Tune caps its data in the same spirit (``max_size_data_for_model`` = 500,
``max_size_top_fraction`` = 0.25); the kit's default cap is 256, :func:`mobster_config` uses 500.

Two modes: :class:`GPSearcherConfig` defaults are the kit's (constant prior mean, ...);
:func:`mobster_config` gives Syne Tune's MOBSTER defaults (exp-decay-sum mean
``mu + gamma * kappa(r)``, 6 initial random points, 20 fantasies, a rung needs 3 observations to
be the target resource, else the smallest resource). :data:`MOBSTER_DIFFERENCES` lists what differs.
Single-fidelity GP-EI (:class:`GPSearcher` without a config) uses :func:`gp_ei_config`: refits at
every observation below 100, MAP hyperparameters under weak priors (:mod:`gp.priors`) and one-hot
categoricals, the settings with which it matches Optuna's GPSampler on public tables.

Model inputs: the encoded configuration (inactive hyperparameters imputed with their encoded
default, see :mod:`hpo_kit.spaces`) and, for A-BOHB, the resource normalised as
``r / max_resource`` (``max_resource`` given to the constructor, else the largest resource seen).

:class:`GPMultiFidelitySearcher` models all observations at all resources jointly with the
Matern-5/2 + exponential-decay kernel. :class:`GPSearcher` is plain GP-EI with a Matern-5/2 kernel
on the observations at ``r*`` only (for single-fidelity runs that is every observation) and treats
every pending job as pending at ``r*``.

Failed evaluations (``on_failure`` or a non-finite loss) are not modelled - a GP cannot fit an
infinite loss - they only stop being pending.

Speed (the model is exact; only *how* it is computed was tuned, after profiling simulated A-BOHB
runs, where the searcher is ~97 % of the CPU time):

* refits are warm-started, with one start and at most ``max_opt_iter_refit`` L-BFGS-B iterations
  once ``full_refit_below`` observations exist (see :class:`GPSearcherConfig`);
* the data's Cholesky factor is kept between suggestions and grown by the new rows
  (:class:`gp.model.IncrementalFactor`); it is refactorised only after a refit;
* fantasies reuse that factor, grown by the pending block, and all fantasies' EI comes from one
  shared variance and one matrix product for the means (see :mod:`gp.acquisition`);
* EI is scored on 750 candidates instead of thousands, in row blocks (see ``GPPosterior.predict``);
* BLAS runs on one thread during a suggestion (see :func:`gp.model.one_blas_thread`).

With these a simulated 2-hour, 4-worker A-BOHB run on an 81-epoch table takes ~8 CPU s instead
of ~300 (``bench/engine_speed.py --only-abohb``); ``bench/searcher_speed.py`` times
single suggestions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from hpo_kit.searchers.base import Searcher
from hpo_kit.searchers.candidates import CandidatePool
from hpo_kit.searchers.gp.acquisition import (
    expected_improvement,
    fantasy_posterior,
    local_and_random_candidates,
)
from hpo_kit.searchers.gp.kernels import Matern52, Matern52ExpDecay
from hpo_kit.searchers.gp.model import (
    GPPosterior,
    IncrementalFactor,
    fit_hyperparameters,
    one_blas_thread,
)
from hpo_kit.searchers.gp.priors import PRIORS
from hpo_kit.spaces import UnitCubeEncoder


#: the choices of ``GPSearcherConfig.categorical_inputs``
CATEGORICAL_INPUTS = ("index", "onehot", "hamming")


@dataclass
class GPSearcherConfig:
    """Hyperparameters of the GP searchers (defaults follow A-BOHB's spirit, see module doc)."""

    #: suggestions drawn uniformly at random while fewer than this many results exist
    init_random: int = 10
    #: uniform random candidates on which EI is evaluated each suggestion. Scoring a candidate
    #: costs O(n) kernel terms plus O(n^2) for its variance (n observations), the bulk of a
    #: suggestion: 500 random + 250 local candidates instead of thousands keep a suggestion at
    #: 1000 observations near 30 ms, and the local perturbations below do the fine search
    n_random_candidates: int = 500
    #: number of best configurations (at the target resource) around which to search locally
    n_local_centres: int = 5
    #: Gaussian perturbations drawn around each local centre
    n_local_per_centre: int = 50
    #: standard deviation of those perturbations in the unit cube
    local_std: float = 0.05
    #: joint posterior samples of the pending targets; EI is averaged over them
    n_fantasies: int = 10
    #: observations a resource needs to become the target resource; None means d + 1
    min_points_at_target: int | None = None
    #: L-BFGS-B starts of the first hyperparameter fit (defaults first, then seeded random)
    n_restarts: int = 3
    #: starts of later refits (the previous optimum first, then the defaults, ...). One: in a
    #: simulated 1.5-hour A-BOHB run, the warm start matched the best of two starts in all 15
    #: refits on >= 100 points, at half the cost (the likelihood surface moves little by then)
    n_restarts_refit: int = 1
    #: refits on fewer observations than this still use ``n_restarts`` starts: they are cheap and
    #: the optimum can still jump between basins while data are scarce
    full_refit_below: int = 100
    #: L-BFGS-B iteration limit per start of the first fit ...
    max_opt_iter: int = 100
    #: ... and of later refits: a warm start converges in ~20-30 iterations; the cap bounds the
    #: rare slow case (each iteration is an O(n^3) likelihood evaluation)
    max_opt_iter_refit: int = 50
    #: re-optimise the hyperparameters after this many new observations (1 = every suggestion) ...
    refit_every: int = 10
    #: ... and at least this fraction of the observations used by the last fit (geometric
    #: schedule: hyperparameters settle as data grows, so long runs refit ever more rarely).
    #: 0.25 rather than 0.1: a simulated 180 s, 4-worker A-BOHB run (~3,900 jobs) drops from 21 to
    #: 17 CPU s with the same anytime error (mean over 3 seeds: 0.0773 vs 0.0776; bench/abohb_cost.py)
    refit_growth: float = 0.25
    #: hyperparameters are fitted on a seeded random subset of at most this many observations
    #: (a fit costs O(n^3) per L-BFGS-B step: ~2 ms at 200 points, ~90 ms at 1000 on one core,
    #: and a fit takes 20-100 steps). Between refits the GP conditions exactly on all data.
    max_fit_points: int = 200
    #: the GP is conditioned on at most this many observations (a subset, see the module doc);
    #: None: on all of them (the cost of a suggestion then grows with n^2). 256: ~5 CPU ms per
    #: suggestion at 5,000 observations and 512 scored candidates (500: ~11 ms; bench/abohb_cost.py)
    max_model_points: int | None = 256
    #: share of a freshly drawn subset that is the best observations at the target resource
    top_fraction: float = 0.25
    #: prior mean of the multi-fidelity GP: "constant" or "exp_decay_sum" (MOBSTER's mu + gamma kappa(r))
    mean: str = "constant"
    #: target resource when no resource has min_points_at_target observations: "most" observations
    #: (the kit) or "smallest" resource (Syne Tune)
    target_fallback: str = "most"
    #: below this many observations the hyperparameters are refitted at *every* new observation
    #: (0: never; the schedule above applies throughout). The schedule above was tuned for A-BOHB
    #: runs with thousands of jobs; a single-fidelity run of 30-100 evaluations spends all of it
    #: with hyperparameters fitted on 10, 20, ... points. On Hartmann-6, 30 evaluations, 4 seeds,
    #: GP-EI's mean normalised regret was 0.288 with the schedule and 0.068 with refits at every
    #: observation below 100, at ~0.03 instead of ~0.004 CPU s per suggestion (Optuna's GPSampler:
    #: ~0.1-0.16; bench/searcher_quality.py). Off by default so existing runs (A-BOHB, notebook
    #: baselines) stay as they were; :func:`gp_ei_config` turns it on.
    refit_every_below: int = 0
    #: how categorical dimensions enter the GP: "index" (the unit-cube coordinate, as if the
    #: choices were ordered: the kit's original encoding), "onehot" (one 0/1 column per choice,
    #: scaled by 1/sqrt(2) so that two different choices are at distance 1, with its own
    #: lengthscale each; Syne Tune's encoding) or "hamming" (the same columns sharing one lengthscale
    #: per hyperparameter: any two different choices are equally far apart, Optuna's GPSampler)
    categorical_inputs: str = "index"
    #: "none": hyperparameters by maximum marginal likelihood; "gamma": maximum a posteriori under
    #: weak priors (:mod:`hpo_kit.searchers.gp.priors`, Optuna's GPSampler's densities), which keep
    #: lengthscales and noise off their bounds while data are scarce. GP-EI only (the priors are
    #: written for the Matern-5/2 kernel, not A-BOHB's resource kernel)
    hyperparameter_prior: str = "none"

    def validate(self) -> None:
        if self.mean not in ("constant", "exp_decay_sum"):
            raise ValueError(f"mean must be 'constant' or 'exp_decay_sum', got {self.mean!r}")
        if self.categorical_inputs not in CATEGORICAL_INPUTS:
            raise ValueError(f"categorical_inputs must be one of {list(CATEGORICAL_INPUTS)}, got {self.categorical_inputs!r}")
        if self.hyperparameter_prior not in PRIORS:
            raise ValueError(f"hyperparameter_prior must be one of {list(PRIORS)}, got {self.hyperparameter_prior!r}")
        if self.hyperparameter_prior != "none" and self.mean != "constant":
            raise ValueError(f"hyperparameter_prior={self.hyperparameter_prior!r} is for GP-EI's Matern-5/2 kernel; "
                             f"it contradicts mean={self.mean!r} (A-BOHB's resource kernel): use hyperparameter_prior='none'")
        if isinstance(self.refit_every_below, bool) or not isinstance(self.refit_every_below, int) \
                or self.refit_every_below < 0:
            raise ValueError(f"refit_every_below must be an integer >= 0, got {self.refit_every_below!r}")
        if self.target_fallback not in ("most", "smallest"):
            raise ValueError(f"target_fallback must be 'most' or 'smallest', got {self.target_fallback!r}")
        cap = self.max_model_points
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 4):
            raise ValueError(f"max_model_points must be None (no cap) or an integer >= 4, got {cap!r}")
        if not (isinstance(self.top_fraction, (int, float)) and 0 <= self.top_fraction <= 1):
            raise ValueError(f"top_fraction must be a number in [0, 1], got {self.top_fraction!r}")
        for name in ("init_random", "n_random_candidates", "n_fantasies", "n_restarts",
                     "n_restarts_refit", "max_opt_iter", "max_opt_iter_refit", "refit_every",
                     "max_fit_points"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("n_local_centres", "n_local_per_centre", "full_refit_below"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if not (isinstance(self.refit_growth, (int, float)) and self.refit_growth >= 0):
            raise ValueError(f"refit_growth must be a number >= 0, got {self.refit_growth!r}")
        if not (isinstance(self.local_std, (int, float)) and self.local_std > 0):
            raise ValueError(f"local_std must be a number > 0, got {self.local_std!r}")
        m = self.min_points_at_target
        if m is not None and (not isinstance(m, int) or m < 1):
            raise ValueError(f"min_points_at_target must be None or an integer >= 1, got {m!r}")
        if self.max_fit_points < 2:
            raise ValueError(f"max_fit_points must be an integer >= 2, got {self.max_fit_points}")


def mobster_config(**overrides: Any) -> GPSearcherConfig:
    """Syne Tune's MOBSTER defaults (``gp_searcher_factory`` of Syne Tune, model "gp_multitask" with
    the "exp-decay-sum" resource kernel), with ``overrides`` on top; see :data:`MOBSTER_DIFFERENCES`."""
    values: dict[str, Any] = dict(init_random=6, n_fantasies=20, min_points_at_target=3, target_fallback="smallest",
                                  mean="exp_decay_sum", max_model_points=500, top_fraction=0.25, n_restarts=2,
                                  max_opt_iter=50)
    values.update(overrides)
    return GPSearcherConfig(**values)


def gp_ei_config(**overrides: Any) -> GPSearcherConfig:
    """Single-fidelity GP-EI settings for runs of 30-100 evaluations (``bench/searcher_quality.py``),
    GPSearcher's default, with ``overrides`` on top:

    * hyperparameters refitted at every observation below 100;
    * fitted by MAP under weak priors (``hyperparameter_prior="gamma"``, :mod:`gp.priors`);
    * categoricals as unordered one-hot inputs (``categorical_inputs="onehot"``).

    Measured on the 15 public tables and Branin, Hartmann-6 (5 seeds x 30 evaluations, 7 Dec 2026;
    mean normalised regret at 30, average rank among six searchers): refits alone 0.127 (rank 3.59),
    + priors 0.110 (3.27), + priors and one-hot 0.091 (3.10), + priors and Hamming 0.098 (3.11),
    Optuna's GPSampler 0.103 (3.12), random search 0.198 (4.80). The priors mattered most on FCNet
    (protein structure 0.117 -> 0.027), one-hot inputs on NAS-Bench-201 (six categoricals: cifar10
    0.233 -> 0.107, imagenet 0.211 -> 0.075)."""
    values: dict[str, Any] = dict(refit_every_below=100, hyperparameter_prior="gamma", categorical_inputs="onehot")
    values.update(overrides)
    return GPSearcherConfig(**values)


#: (topic, kit default, MOBSTER mode = Syne Tune, what the kit keeps in both modes)
MOBSTER_DIFFERENCES: list[tuple[str, str, str]] = [
    ("prior mean", "constant mu", "mu + gamma * kappa(r) (exp-decay-sum, delta = 0)"),
    ("initial random configurations", "10", "6"),
    ("fantasies per pending job", "10", "20"),
    ("observations a rung needs to be the target", "d + 1", "3"),
    ("target when no rung has enough", "the rung with most observations", "the smallest rung"),
    ("data the GP is conditioned on", "<= 256 (top 25 % at the target + random)",
     "<= 500 (max_size_data_for_model, top 25 % + random)"),
    ("hyperparameter refits", "every max(10, 25 % of n) observations, warm-started",
     "kit schedule (Syne Tune refits at every suggestion; too slow for simulated grids)"),
    ("EI maximisation", "750 candidates (random + local), no gradient step",
     "same (Syne Tune: 250 random candidates + L-BFGS)"),
]


class _GPSearcherBase(Searcher):
    multi_fidelity: bool = False

    def __init__(
        self,
        space: ConfigurationSpace,
        seed: int,
        config: GPSearcherConfig | None = None,
        max_resource: int | None = None,
        candidates: list[dict[str, Any]] | None = None,
        on_exhausted: str = "repeat",
    ):
        super().__init__(space, seed)
        # Single-fidelity GP-EI runs are short (tens of evaluations): refits at every observation, MAP
        # priors and unordered categoricals are what keep it level with Optuna's GPSampler (gp_ei_config).
        self.config = config if config is not None else (GPSearcherConfig() if self.multi_fidelity else gp_ei_config())
        self.config.validate()
        if max_resource is not None and (
            isinstance(max_resource, bool) or not isinstance(max_resource, (int, np.integer))
            or max_resource < 1
        ):
            raise ValueError(f"max_resource must be None or an integer >= 1, got {max_resource!r}")
        self.max_resource = max_resource
        self.encoder = UnitCubeEncoder(space)
        d = self.encoder.dim
        if self.config.mean != "constant" and not self.multi_fidelity:
            raise ValueError(f"mean={self.config.mean!r} needs the multi-fidelity GP (A-BOHB); GP-EI has a constant mean")
        if self.config.hyperparameter_prior != "none" and self.multi_fidelity:
            raise ValueError(f"hyperparameter_prior={self.config.hyperparameter_prior!r} is for GP-EI; the multi-fidelity "
                             f"GP (A-BOHB) fits by maximum likelihood: use hyperparameter_prior='none'")
        # categorical dimensions fed to the GP as one-hot columns ("onehot", "hamming")
        self._onehot = [i for i, kind in enumerate(self.encoder.kinds) if kind == "categorical"] \
            if self.config.categorical_inputs in ("onehot", "hamming") else []
        width = d + sum(int(self.encoder.n_choices[i]) - 1 for i in self._onehot)
        if self.multi_fidelity:
            self.kernel = Matern52ExpDecay(width, mean=self.config.mean)
        elif self.config.categorical_inputs == "hamming":  # a categorical's columns share one lengthscale
            sizes = [int(self.encoder.n_choices[i]) if i in self._onehot else 1 for i in range(d)]
            self.kernel = Matern52(width, groups=np.repeat(np.arange(d), sizes))
        else:
            self.kernel = Matern52(width)
        self.min_points_at_target = self.config.min_points_at_target or d + 1
        self._x: list[np.ndarray] = []  # encoded configs (NaN = inactive), one per result
        self._r: list[int] = []
        self._y: list[float] = []
        # numpy copies of the three lists and the GP inputs of every observation, extended as
        # observations arrive (a suggestion at 5,000 observations must not convert 5,000 rows)
        self._cache: dict[str, Any] = {"n": 0, "X": None, "r": None, "y": None, "Z": None, "scale": None}
        self._pending: dict[int, tuple[np.ndarray, int]] = {}
        self.theta: np.ndarray | None = None  # fitted GP hyperparameters (see gp.model)
        self._n_at_fit = 0
        self._target_at_fit: int | None = None
        # Cholesky factor of the data covariance under ``theta``, grown between suggestions
        self._factor: IncrementalFactor | None = None
        # the subset of observations the GP is conditioned on (None: all; see the module doc)
        self._subset: np.ndarray | None = None
        self._subset_n = 0
        self._subset_key: Any = None
        self.n_subset_draws = 0  # for tests and benchmarks
        # optional finite candidate set: suggest only untried candidates (see GPSearcher doc)
        self.pool = None if candidates is None else CandidatePool(candidates, self.encoder, on_exhausted)

    # ------------------------------------------------------------------ scheduler callbacks
    def on_pending(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        self._pending[trial_id] = (self.encoder.encode(config), int(resource))

    def on_result(self, trial_id: int, config: dict[str, Any], resource: int, loss: float) -> None:
        pending = self._pending.get(trial_id)
        if pending is not None and resource >= pending[1]:
            del self._pending[trial_id]
        if not math.isfinite(loss):
            return  # a failure in disguise: not modelled (see module doc)
        self._x.append(self.encoder.encode(config))
        self._r.append(int(resource))
        self._y.append(float(loss))

    def on_failure(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        self._pending.pop(trial_id, None)

    # ------------------------------------------------------------------------- the model
    @property
    def n_observations(self) -> int:
        return len(self._y)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(encoded configs, resources, losses, GP inputs) of all observations, as arrays."""
        c, n = self._cache, len(self._y)
        scale = self._resource_scale() if self.multi_fidelity and n else None
        if c["n"] == 0 or scale != c["scale"]:
            c.update(n=0, X=np.empty((0, self.encoder.dim)), r=np.empty(0, dtype=np.int64), y=np.empty(0),
                     Z=None, scale=scale)
        if n > c["n"]:
            X_new = np.asarray(self._x[c["n"]:], dtype=float)
            r_new = np.asarray(self._r[c["n"]:], dtype=np.int64)
            Z_new = self._inputs(X_new, r_new)
            c["X"] = np.concatenate([c["X"], X_new])
            c["r"] = np.concatenate([c["r"], r_new])
            c["y"] = np.concatenate([c["y"], np.asarray(self._y[c["n"]:], dtype=float)])
            c["Z"] = Z_new if c["Z"] is None else np.concatenate([c["Z"], Z_new])
            c["n"] = n
        return c["X"], c["r"], c["y"], c["Z"]

    def target_resource(self) -> int | None:
        """Resource at which EI is evaluated (see module doc); None without observations."""
        if not self._r:
            return None
        levels, counts = np.unique(self._arrays()[1], return_counts=True)
        enough = levels[counts >= self.min_points_at_target]
        if len(enough):
            return int(enough.max())
        return int(levels.min()) if self.config.target_fallback == "smallest" else int(levels[np.argmax(counts)])

    def _resource_scale(self) -> float:
        if self.max_resource is not None:
            return float(self.max_resource)
        seen = self._r + [r for _, r in self._pending.values()]
        return float(max(seen))

    def _inputs(self, X: np.ndarray, resources: np.ndarray | float) -> np.ndarray:
        """GP inputs: imputed encodings, plus the normalised resource column for A-BOHB."""
        X = self.encoder.impute(X)
        if self._onehot:
            X = self._expand_categoricals(X)
        if not self.multi_fidelity:
            return X
        r = np.broadcast_to(np.asarray(resources, dtype=float), (len(X),)) / self._resource_scale()
        return np.concatenate([X, r[:, None]], axis=1)

    def _expand_categoricals(self, X: np.ndarray) -> np.ndarray:
        """Each one-hot categorical column replaced by its k 0/1 columns, times 1/sqrt(2)."""
        parts, start = [], 0
        for i in self._onehot:
            k = int(self.encoder.n_choices[i])
            choice = np.minimum(np.floor(X[:, i] * k).astype(np.int64), k - 1)  # bin centres -> index
            parts += [X[:, start:i], np.eye(k)[choice] / math.sqrt(2.0)]
            start = i + 1
        parts.append(X[:, start:])
        return np.concatenate(parts, axis=1)

    def _training_set(self, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(inputs, raw losses, mask of rows observed at the target resource)."""
        _, r, y, Z = self._arrays()
        if not self.multi_fidelity:
            keep = r == target
            Z, r, y = Z[keep], r[keep], y[keep]
        return Z, y, r == target

    def _pending_inputs(self, target: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs of pending jobs, mask of those pending at the target resource)."""
        if not self._pending:
            width = self.kernel.dim + (1 if self.multi_fidelity else 0)
            return np.empty((0, width)), np.zeros(0, dtype=bool)
        X = np.asarray([x for x, _ in self._pending.values()])
        r = np.asarray([r for _, r in self._pending.values()])
        if not self.multi_fidelity:
            r = np.full(len(r), target)
        return self._inputs(X, r), r == target

    def model_subset(self, y_std: np.ndarray, at_target: np.ndarray, key: Any) -> np.ndarray | None:
        """Rows of the training set the GP is conditioned on (None: all), see the module doc.

        ``key`` identifies the training set (the target resource for GP-EI, whose data are the
        observations at the target): a new key draws a new subset.
        """
        cap, n = self.config.max_model_points, len(y_std)
        if cap is None or n <= cap:
            self._subset = None
            return None
        if self._subset is not None and key == self._subset_key and n >= self._subset_n:
            grown = len(self._subset) + n - self._subset_n
            if grown <= cap:  # append the new observations: the factor grows incrementally
                self._subset = np.concatenate([self._subset, np.arange(self._subset_n, n)])
                self._subset_n = n
                return self._subset
        size = cap // 2
        on_target = np.flatnonzero(at_target)
        n_top = min(int(self.config.top_fraction * size), len(on_target))
        best = on_target[np.argsort(y_std[on_target], kind="stable")[:n_top]]
        rest = np.setdiff1d(np.arange(n), best, assume_unique=True)
        extra = self.rng.choice(rest, size - n_top, replace=False)
        self._subset = np.sort(np.concatenate([best, extra]))
        self._subset_n, self._subset_key = n, key
        self.n_subset_draws += 1
        return self._subset

    def fit(self, Z: np.ndarray, y_std: np.ndarray, target: int, n_total: int | None = None) -> np.ndarray:
        """(Re)fit the hyperparameters when due (see module doc) and return them.

        A change of target resource also triggers a refit for :class:`GPSearcher`, whose data set
        is the observations at the target. ``n_total``: observations in all (the schedule counts
        them), when ``Z`` is a subset.
        """
        n = len(y_std) if n_total is None else int(n_total)
        due = max(self.config.refit_every, math.ceil(self.config.refit_growth * self._n_at_fit))
        if n < self.config.refit_every_below:
            due = 1  # small data: every observation can move the hyperparameters (see GPSearcherConfig)
        same_data = self.multi_fidelity or target == self._target_at_fit
        if self.theta is not None and same_data and n - self._n_at_fit < due:
            return self.theta
        first = self.theta is None
        if len(y_std) > self.config.max_fit_points:
            rows = np.sort(self.rng.choice(len(y_std), self.config.max_fit_points, replace=False))
            Z, y_std = Z[rows], y_std[rows]
        # cheaper refits (see GPSearcherConfig): warm-started, fewer starts and iterations
        full = first or n < self.config.full_refit_below
        self.theta = fit_hyperparameters(
            self.kernel, Z, y_std, self.rng,
            n_restarts=self.config.n_restarts if full else self.config.n_restarts_refit,
            max_iter=self.config.max_opt_iter if first else self.config.max_opt_iter_refit,
            init=None if first else self.theta, prior=self.config.hyperparameter_prior,
        )
        self._n_at_fit, self._target_at_fit = n, target
        return self.theta

    # --------------------------------------------------------------------------- suggest
    def _random(self) -> dict[str, Any]:
        if self.pool is not None:
            return self.pool.take_random(self.rng)
        return self.encoder.decode(self.encoder.sample(self.rng, 1)[0])

    def suggest(self) -> dict[str, Any]:
        if self.n_observations < self.config.init_random:
            return self._random()
        with one_blas_thread():  # small matrices: extra BLAS threads only spin (see its doc)
            best = self._maximise_ei()
        if best is None:  # forbidden clauses rejected every candidate
            return self._random()
        x, row = best
        return self.encoder.decode(x) if row is None else self.pool.take(row)

    def _maximise_ei(self) -> tuple[np.ndarray, int | None] | None:
        """The encoded candidate with the largest fantasy-averaged EI at the target resource,
        with its index in the candidate pool (None without a pool)."""
        cfg = self.config
        target = self.target_resource()
        Z, y, at_target = self._training_set(target)
        mu, sd = y.mean(), y.std()
        y_std = (y - mu) / (sd if sd > 0 else 1.0)
        subset = self.model_subset(y_std, at_target, None if self.multi_fidelity else target)
        best_observed = y_std[at_target].min()
        if subset is not None:
            Z, y_std = Z[subset], y_std[subset]
        theta = self.fit(Z, y_std, target, n_total=len(y))

        X_all, r_all, y_all, _ = self._arrays()
        X_obs = X_all[r_all == target]
        order = np.argsort(y_all[r_all == target])
        rows = None
        if self.pool is None:
            candidates = local_and_random_candidates(
                self.encoder, self.rng, X_obs[order[: cfg.n_local_centres]],
                cfg.n_random_candidates, cfg.n_local_per_centre, cfg.local_std,
            )
        else:  # the untried candidates, at most as many as random + local candidates
            rows = self.pool.untried(
                self.rng, cfg.n_random_candidates + cfg.n_local_centres * cfg.n_local_per_centre)
            candidates = self.pool.X[rows]
        if len(candidates) == 0:
            return None
        # the data's Cholesky factor: kept from the last suggestion and grown by the rows observed
        # since (O(n^2) per new row) unless the hyperparameters or the inputs changed (O(n^3))
        if self._factor is None or not np.array_equal(self._factor.theta, theta):
            self._factor = IncrementalFactor(self.kernel, theta)
        L = self._factor.update(Z)
        posterior = GPPosterior(self.kernel, theta, Z, y_std, L=L, jitter=self._factor.jitter)
        Z_pending, pending_at_target = self._pending_inputs(target)
        posterior, fantasies = fantasy_posterior(posterior, Z_pending, cfg.n_fantasies, self.rng)
        # incumbent per fantasy: best observed or fantasised standardised loss at r*. Counting the
        # fantasised values is what makes EI vanish at a pending point: given the fantasy y_f there,
        # improving on min(best, y_f) at the same point is impossible
        best = np.full(fantasies.shape[0], best_observed)
        if pending_at_target.any():
            best = np.minimum(best, fantasies[:, pending_at_target].min(axis=1))
        mean, var = posterior.predict(self._inputs(candidates, target))
        if mean.ndim == 1:
            mean = mean[:, None]
        ei = expected_improvement(mean, np.sqrt(var), best).mean(axis=1)
        i = int(np.argmax(ei))
        return candidates[i], (None if rows is None else int(rows[i]))


class GPSearcher(_GPSearcherBase):
    """Plain GP-EI (Matern-5/2 ARD) for single-fidelity optimisation; see the module doc.

    ``candidates`` (both GP searchers): an optional finite list of configuration dicts, e.g. a
    table's rows. Suggestions are then untried candidates only (see
    :mod:`hpo_kit.searchers.candidates`): uniform among them while data are scarce, afterwards the
    one with the largest fantasy-averaged EI among the untried candidates (a seeded random subset
    of ``n_random_candidates + n_local_centres * n_local_per_centre`` when there are more).

    ``max_resource`` is accepted for a uniform constructor and not used (no resource input).
    """

    multi_fidelity = False


class GPMultiFidelitySearcher(_GPSearcherBase):
    """A-BOHB's searcher (Klein et al. 2020): a joint GP over (configuration, resource).

    ``max_resource`` normalises the resource input (``r / max_resource``); pass the objective's
    ``max_resource`` (without it the largest resource seen so far is used).
    """

    multi_fidelity = True
