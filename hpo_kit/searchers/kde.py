"""BOHB's searcher: a TPE-style pair of kernel density estimators (Falkner et al., ICML 2018).

For every resource (budget) ``b`` the searcher keeps all results ``D_b``. When a suggestion is
asked for, with probability ``random_fraction`` it returns a uniform random configuration;
otherwise it takes the largest budget with ``|D_b| >= min_points_in_model + 2`` (the paper's
condition; random if there is none), splits ``D_b`` by loss into

* good: the best ``n_good = max(min_points_in_model, floor(top_n_percent/100 * |D_b|))`` points,
* bad:  the worst ``n_bad = max(min_points_in_model, |D_b| - n_good)`` points

(for small ``|D_b|`` the two sets overlap, as in the paper), fits one density ``l`` on the good
and one ``g`` on the bad points, draws ``num_samples`` candidates from ``l`` with every bandwidth
multiplied by ``bandwidth_factor`` (wider, to explore), and returns the candidate maximising
``l(x) / g(x)`` (which is what maximises expected improvement under the TPE model).

Densities live on the unit cube of :mod:`hpo_kit.spaces` and are products of one kernel per
dimension:

* continuous, integer and ordinal dimensions: a Gaussian truncated to [0, 1] (renormalised), with
  the normal-reference (Scott) bandwidth ``1.06 * std * n^(-1/(d+4))``;
* categorical dimensions (choice index ``c`` of ``k``): the Aitchison-Aitken kernel
  ``K(c, c') = 1 - lambda`` if ``c == c'`` else ``lambda / (k - 1)``, with ``lambda`` from the same
  rule applied to the choice indices and capped at ``(k - 1) / k`` (where the kernel is uniform).

Every bandwidth is at least ``min_bandwidth``, so a dimension where all good points agree still
gets explored. Inactive (conditional) coordinates of the training points are imputed as in the
BOHB reference implementation: by the value of a random point of the same set where that
hyperparameter is active, or uniformly at random if it is inactive everywhere.

Failures (``on_failure`` or a non-finite loss) are recorded as loss ``+inf`` at their budget when
``failures_as_bad`` is True (default, as in BOHB): they land in the bad set, steering the search
away from regions that crash. With ``failures_as_bad=False`` they are ignored.

``KDEConfig(mode="hpbandster")`` reproduces three choices of HpBandSter 0.7.4 (the code behind the
BOHB paper) where ``mode="kit"`` (default) follows the paper's text:

=============================  =====================================  =====================================
topic                          kit (default)                          hpbandster
=============================  =====================================  =====================================
``min_points_in_model`` < d+1  used as given                          raised to d + 1 (warning)
budget usable when             ``|D_b| >= N_min + 2``                 good and bad set both have > d points
good / bad sets                best ``n_good`` / worst ``n_bad``:     best ``n_good`` / the next ``n_bad``
                               overlap while ``|D_b|`` is small       (disjoint); ``n_bad = max(N_min,
                                                                      (100 - top_n_percent)% of |D_b|)``
categorical sampling           bandwidth widened by                   bandwidth *not* widened; keep the
                               ``bandwidth_factor``, move to another  centre's choice w.p. 1 - lambda,
                               choice w.p. lambda                     else a uniform choice (any of k)
=============================  =====================================  =====================================

HpBandSter refuses a KDE with ``n <= d`` points (the normal-reference bandwidth of a d-dimensional
KDE from d points is degenerate); the kit's default fits one anyway, e.g. 6 points in 17 dimensions.

With ``candidates`` (a finite list of configurations, e.g. a table's rows) every suggestion is a
candidate not suggested before (see :mod:`hpo_kit.searchers.candidates`): random suggestions are
uniform among the untried candidates, and model-based ones maximise ``l(x) / g(x)`` over the
untried candidates (a seeded random subset of ``MAX_SCORED_CANDIDATES`` when there are more)
instead of over draws from ``l``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.special import ndtr, ndtri

from hpo_kit.searchers.base import Searcher
from hpo_kit.searchers.candidates import CandidatePool
from hpo_kit.spaces import UnitCubeEncoder
from hpo_kit.validation import check_choice

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
KDE_MODES = ("kit", "hpbandster")
#: with a candidate list, l(x)/g(x) is scored on at most this many untried candidates per suggestion
MAX_SCORED_CANDIDATES = 500


@dataclass
class KDEConfig:
    """Hyperparameters of BOHB's KDE searcher (defaults are those of Falkner et al. 2018)."""

    #: N_min: points each density needs; a budget needs N_min + 2 results. None means d + 1
    min_points_in_model: int | None = None
    #: percentage of the results (by loss) that make up the good set
    top_n_percent: float = 15.0
    #: candidates drawn from the widened good density per suggestion
    num_samples: int = 64
    #: probability of a uniform random suggestion even when a model exists
    random_fraction: float = 1.0 / 3.0
    #: factor by which bandwidths are widened when sampling candidates
    bandwidth_factor: float = 3.0
    #: lower bound on every bandwidth
    min_bandwidth: float = 1e-3
    #: True: failed evaluations count as loss +inf (bad); False: they are ignored
    failures_as_bad: bool = True
    #: "kit" (the paper's text) or "hpbandster" (HpBandSter's code), see the module doc
    mode: str = "kit"

    def validate(self) -> None:
        check_choice("mode", self.mode, KDE_MODES)
        m = self.min_points_in_model
        if m is not None and (not isinstance(m, int) or m < 1):
            raise ValueError(f"min_points_in_model must be None or an integer >= 1, got {m!r}")
        if not 0 < self.top_n_percent < 100:
            raise ValueError(f"top_n_percent must be in (0, 100), got {self.top_n_percent}")
        if not isinstance(self.num_samples, int) or self.num_samples < 1:
            raise ValueError(f"num_samples must be an integer >= 1, got {self.num_samples!r}")
        if not 0 <= self.random_fraction <= 1:
            raise ValueError(f"random_fraction must be in [0, 1], got {self.random_fraction}")
        if not self.bandwidth_factor > 0:
            raise ValueError(f"bandwidth_factor must be > 0, got {self.bandwidth_factor}")
        if not self.min_bandwidth > 0:
            raise ValueError(f"min_bandwidth must be > 0, got {self.min_bandwidth}")


class ProductKDE:
    """Mixed product-kernel density on the unit cube (see the module doc).

    ``data`` is ``(n, d)`` without NaN; ``n_choices[j] > 0`` where dimension ``j`` is categorical
    (its coordinates are bin centres ``(c + 0.5) / k``), 0 elsewhere.
    """

    def __init__(self, data: np.ndarray, n_choices: np.ndarray, min_bandwidth: float):
        self.data = np.asarray(data, dtype=float)
        n, d = self.data.shape
        self.n_choices = np.asarray(n_choices, dtype=np.int64)
        self.cat = self.n_choices > 0
        k = np.maximum(self.n_choices, 1)
        # categorical dimensions as integer choice indices, the rest as is
        self.points = self.data.copy()
        self.points[:, self.cat] = np.minimum(
            np.floor(self.data[:, self.cat] * k[self.cat]), k[self.cat] - 1
        )
        # normal-reference rule (Scott), the statsmodels "normal_reference" bandwidths
        bw = 1.06 * self.points.std(axis=0) * n ** (-1.0 / (d + 4))
        bw = np.maximum(bw, min_bandwidth)
        self.max_lambda = (k - 1) / k  # Aitchison-Aitken is uniform at lambda = (k-1)/k
        bw[self.cat] = np.minimum(bw[self.cat], self.max_lambda[self.cat])
        self.bandwidths = bw

    def _bandwidths(self, factor: float, widen_categorical: bool = True) -> np.ndarray:
        bw = self.bandwidths * factor
        if not widen_categorical:
            bw[self.cat] = self.bandwidths[self.cat]
        bw[self.cat] = np.minimum(bw[self.cat], self.max_lambda[self.cat])
        return bw

    def logpdf(self, X: np.ndarray) -> np.ndarray:
        """Log density at the rows of ``X`` (unit-cube coordinates), ``(m,)``."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        Q = X.copy()
        k = np.maximum(self.n_choices, 1)
        Q[:, self.cat] = np.minimum(np.floor(X[:, self.cat] * k[self.cat]), k[self.cat] - 1)
        total = np.zeros((len(X), len(self.points)))
        cont = ~self.cat
        if cont.any():
            h = self.bandwidths[cont]
            mu = self.points[:, cont]  # (n, c)
            # truncated Gaussian: phi((x - mu)/h) / (h * (Phi((1 - mu)/h) - Phi(-mu/h)))
            log_z = np.log(ndtr((1.0 - mu) / h) - ndtr(-mu / h))  # (n, c)
            u = (Q[:, None, cont] - mu[None]) / h  # (m, n, c)
            total += (-0.5 * u * u - _LOG_SQRT_2PI - np.log(h) - log_z[None]).sum(-1)
        for j in np.flatnonzero(self.cat):
            lam, kj = self.bandwidths[j], int(self.n_choices[j])
            same = Q[:, j][:, None] == self.points[:, j][None, :]
            other = math.log(lam / (kj - 1)) if kj > 1 else -math.inf
            total += np.where(same, math.log1p(-lam), other)
        # log of the mean over the data points, computed stably
        top = total.max(axis=1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        return np.log(np.exp(total - top).sum(axis=1)) + top[:, 0] - math.log(len(self.points))

    def sample(self, rng: np.random.Generator, n: int, factor: float = 1.0, hpbandster: bool = False) -> np.ndarray:
        """``n`` draws (unit-cube coordinates) with all bandwidths multiplied by ``factor``.

        ``hpbandster=True``: categorical bandwidths are not widened, and a categorical coordinate keeps
        its centre's choice with probability ``1 - lambda``, else takes a uniform choice (HpBandSter).
        """
        bw = self._bandwidths(factor, widen_categorical=not hpbandster)
        centres = self.points[rng.integers(len(self.points), size=n)]
        out = np.empty_like(centres)
        cont = ~self.cat
        if cont.any():
            # inverse-CDF sampling of the Gaussian truncated to [0, 1]
            mu, h = centres[:, cont], bw[cont]
            lo, hi = ndtr(-mu / h), ndtr((1.0 - mu) / h)
            p = lo + rng.random(mu.shape) * (hi - lo)
            out[:, cont] = np.clip(mu + h * ndtri(np.clip(p, 1e-300, 1 - 1e-16)), 0.0, 1.0)
        for j in np.flatnonzero(self.cat):
            kj = int(self.n_choices[j])
            c = centres[:, j].astype(np.int64)
            move = rng.random(n) < bw[j]
            if hpbandster:   # keep w.p. 1 - lambda, else any of the k choices (possibly the same)
                c = np.where(move, rng.integers(0, kj, size=n), c)
            else:            # Aitchison-Aitken: keep w.p. 1 - lambda, else one of the others
                shift = rng.integers(1, max(kj, 2), size=n)  # 1..k-1 steps away
                c = np.where(move & (kj > 1), (c + shift) % kj, c)
            out[:, j] = (c + 0.5) / kj
        return out


class KDESearcher(Searcher):
    """BOHB's model-based searcher; see the module doc for the algorithm and :class:`KDEConfig`."""

    def __init__(self, space: ConfigurationSpace, seed: int, config: KDEConfig | None = None,
                 candidates: list[dict[str, Any]] | None = None, on_exhausted: str = "repeat"):
        super().__init__(space, seed)
        self.config = config if config is not None else KDEConfig()
        self.config.validate()
        self.encoder = UnitCubeEncoder(space)
        self.hpbandster = self.config.mode == "hpbandster"
        self.min_points_in_model = self.config.min_points_in_model or self.encoder.dim + 1
        if self.hpbandster and self.min_points_in_model < self.encoder.dim + 1:
            import warnings

            warnings.warn(f"min_points_in_model={self.min_points_in_model} is below d + 1 = {self.encoder.dim + 1}; "
                          "HpBandSter mode raises it to d + 1", RuntimeWarning, stacklevel=2)
            self.min_points_in_model = self.encoder.dim + 1
        # categorical dimensions get Aitchison-Aitken kernels, everything else Gaussians
        self._n_choices = np.where(self.encoder.is_categorical, self.encoder.n_choices, 0)
        self.observations: dict[int, list[tuple[np.ndarray, float]]] = {}
        self._models: dict[int, tuple[int, ProductKDE, ProductKDE]] = {}  # budget -> (n, l, g)
        self.pool = None if candidates is None else CandidatePool(candidates, self.encoder, on_exhausted)

    # ------------------------------------------------------------------ scheduler callbacks
    def on_result(self, trial_id: int, config: dict[str, Any], resource: int, loss: float) -> None:
        loss = float(loss)
        if not math.isfinite(loss):
            if not self.config.failures_as_bad:
                return
            loss = math.inf
        self.observations.setdefault(int(resource), []).append((self.encoder.encode(config), loss))

    def on_failure(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        if self.config.failures_as_bad:
            self.on_result(trial_id, config, resource, math.inf)

    # ------------------------------------------------------------------------- the model
    def _set_sizes(self, n: int) -> tuple[int, int]:
        """(n_good, n_bad) for ``n`` results at a budget (see the module doc)."""
        m, top = self.min_points_in_model, self.config.top_n_percent
        n_good = max(m, int(top * n) // 100)
        if self.hpbandster:
            return n_good, max(m, int((100 - top) * n) // 100)
        return n_good, max(m, n - n_good)

    def _usable(self, n: int) -> bool:
        if not self.hpbandster:
            return n >= self.min_points_in_model + 2
        # HpBandSter: disjoint sets, each with more points than dimensions
        d = self.encoder.dim
        n_good, n_bad = self._set_sizes(n)
        return n >= self.min_points_in_model and min(n_good, n) > d and min(n_bad, n - n_good) > d

    def model_budget(self) -> int | None:
        """Largest budget whose results admit a model (see the module doc), or None."""
        enough = [b for b, obs in self.observations.items() if self._usable(len(obs))]
        return max(enough) if enough else None

    def split(self, budget: int) -> tuple[np.ndarray, np.ndarray]:
        """Encoded (NaN = inactive) good and bad points of ``budget``, see the module doc."""
        obs = self.observations[budget]
        X = np.asarray([x for x, _ in obs])
        losses = np.asarray([loss for _, loss in obs])
        order = np.argsort(losses, kind="stable")
        n = len(obs)
        n_good, n_bad = self._set_sizes(n)
        if self.hpbandster:
            return X[order[:n_good]], X[order[n_good:n_good + n_bad]]
        return X[order[:n_good]], X[order[n - n_bad:]]

    def _impute(self, X: np.ndarray) -> np.ndarray:
        """Fill inactive coordinates with the value of a random active point of the same set."""
        X = X.copy()
        for j in range(X.shape[1]):
            missing = np.isnan(X[:, j])
            if not missing.any():
                continue
            active = X[~missing, j]
            X[missing, j] = (active[self.rng.integers(len(active), size=int(missing.sum()))]
                             if len(active) else self.rng.random(int(missing.sum())))
        return X

    def models(self, budget: int) -> tuple[ProductKDE, ProductKDE]:
        """(good density l, bad density g) for ``budget``, refitted when new results arrived."""
        n = len(self.observations[budget])
        cached = self._models.get(budget)
        if cached is None or cached[0] != n:
            good, bad = self.split(budget)
            mb = self.config.min_bandwidth
            cached = (n, ProductKDE(self._impute(good), self._n_choices, mb),
                      ProductKDE(self._impute(bad), self._n_choices, mb))
            self._models[budget] = cached
        return cached[1], cached[2]

    # --------------------------------------------------------------------------- suggest
    def _random(self) -> dict[str, Any]:
        if self.pool is not None:
            return self.pool.take_random(self.rng)
        return self.encoder.decode(self.encoder.sample(self.rng, 1)[0])

    def suggest(self) -> dict[str, Any]:
        if self.rng.random() < self.config.random_fraction:
            return self._random()
        budget = self.model_budget()
        if budget is None:
            return self._random()
        good, bad = self.models(budget)
        if self.pool is not None:
            return self._best_candidate(good, bad)
        candidates = good.sample(self.rng, self.config.num_samples, self.config.bandwidth_factor,
                                 hpbandster=self.hpbandster)
        candidates = candidates[~self.encoder.is_forbidden(candidates)]
        if len(candidates) == 0:
            return self._random()
        # score the sampled vectors themselves (inactive coordinates keep their sampled values,
        # matching the imputation of the training points)
        score = good.logpdf(candidates) - bad.logpdf(candidates)
        if not np.isfinite(score).any():
            return self._random()
        score = np.where(np.isnan(score), -np.inf, score)
        return self.encoder.decode(candidates[int(np.argmax(score))])

    def _best_candidate(self, good: ProductKDE, bad: ProductKDE) -> dict[str, Any]:
        """The untried candidate maximising ``l(x) / g(x)`` (see the module doc)."""
        rows = self.pool.untried(self.rng, MAX_SCORED_CANDIDATES)
        # inactive coordinates take the defaults: the densities need a value in every dimension
        X = self.encoder.impute(self.pool.X[rows])
        score = good.logpdf(X) - bad.logpdf(X)
        if not np.isfinite(score).any():
            return self._random()
        score = np.where(np.isnan(score), -np.inf, score)
        return self.pool.take(int(rows[int(np.argmax(score))]))
