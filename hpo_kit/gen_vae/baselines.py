"""The baselines GEN-VAE is compared with, as HPO-B method objects (``observe_and_suggest``).

All of them work on both HPO-B protocols: without ``X_pen`` they return a point of [0, 1]^d
(shape (1, d), the continuous protocol), with ``X_pen`` the index of a pending configuration.
HPO-B's inputs already live in the unit cube (its preprocessing scales every column), so no
encoding is needed; y is maximised.

* :class:`RandomSearch` -- uniform points / uniform pending indices.
* :class:`GPEI` -- GP-EI with the kit's GP (:mod:`hpo_kit.searchers.gp`: ARD Matern-5/2, constant
  mean and noise fitted by marginal likelihood on standardised y, warm-started refits); EI is
  maximised over 500 uniform points plus Gaussian perturbations of the 5 best observations
  (continuous) or over the whole pending pool (discrete).
* :class:`TPE` -- Optuna's TPESampler through ask-and-tell on d FloatDistribution(0, 1)
  parameters (not :class:`hpo_kit.searchers.optuna_searcher.OptunaSearcher`: the protocol hands
  over finished observations as arrays, which ``Study.add_trial`` takes directly). The initial
  design is told as completed trials; on the discrete protocol the pending point nearest to TPE's
  proposal is returned.
* :class:`TransferBest` -- the transfer baseline: configurations ranked by their average
  normalised y over the meta-train tasks (:func:`transfer_ranking`), tried in that order
  (discrete: the pending point nearest to the next one).
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from hpo_kit.searchers.gp.acquisition import expected_improvement
from hpo_kit.searchers.gp.kernels import Matern52
from hpo_kit.searchers.gp.model import GPPosterior, fit_hyperparameters, one_blas_thread
from hpo_kit.searchers.gp.priors import check_prior
from hpo_kit.validation import check_int


def _xy(X_obs: Any, y_obs: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X_obs, dtype=float)
    y = np.asarray(y_obs, dtype=float).reshape(-1)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X_obs must be (N, d) with one y per row, got {X.shape} and {y.shape}")
    return X, y


def _pending(X_pen: Any, dim: int) -> np.ndarray:
    P = np.asarray(X_pen, dtype=float)
    if P.ndim != 2 or P.shape[1] != dim or len(P) == 0:
        raise ValueError(f"X_pen must have shape (M >= 1, {dim}), got {P.shape}")
    return P


def nearest_index(x: np.ndarray, P: np.ndarray) -> int:
    """Index of the row of ``P`` nearest to ``x`` (Euclidean; first one on ties)."""
    return int(np.argmin(((P - np.asarray(x, float).reshape(1, -1)) ** 2).sum(axis=1)))


class RandomSearch:
    def __init__(self, dim: int, seed: int = 0):
        self.dim = check_int("dim", dim, 1)
        self.rng = np.random.default_rng(check_int("seed", seed, 0))

    def observe_and_suggest(self, X_obs: Any, y_obs: Any, X_pen: Any = None):
        if X_pen is not None:
            return int(self.rng.integers(len(_pending(X_pen, self.dim))))
        return self.rng.random((1, self.dim))


class GPEI:
    """GP-EI on [0, 1]^d with the kit's GP (maximising y = minimising -y), hyperparameters by MAP (``prior``)."""

    def __init__(self, dim: int, seed: int = 0, n_random: int = 500, n_local_centres: int = 5,
                 n_per_centre: int = 50, local_std: float = 0.05, n_restarts: int = 3, prior: str = "gamma"):
        self.dim = check_int("dim", dim, 1)
        self.rng = np.random.default_rng(check_int("seed", seed, 0))
        self.n_random, self.n_local_centres, self.n_per_centre = n_random, n_local_centres, n_per_centre
        self.local_std, self.n_restarts = local_std, n_restarts
        # MAP under weak priors, as the engine's GP-EI (``gp_ei_config``): with 5-30 observations the
        # likelihood alone often puts lengthscales on a bound (hpo_kit.searchers.gp.priors)
        self.prior = check_prior(prior)
        self.kernel = Matern52(self.dim)
        self.theta: np.ndarray | None = None

    def posterior(self, X: np.ndarray, y: np.ndarray) -> tuple[GPPosterior, float, float]:
        loss = -y
        mu, sd = loss.mean(), loss.std()
        sd = sd if sd > 0 else 1.0
        z = (loss - mu) / sd
        with one_blas_thread():
            # the first fit has restarts, later ones warm-start from the previous optimum
            self.theta = fit_hyperparameters(self.kernel, X, z, self.rng,
                                             n_restarts=self.n_restarts if self.theta is None else 1,
                                             max_iter=100 if self.theta is None else 50, init=self.theta,
                                             prior=self.prior)
            return GPPosterior(self.kernel, self.theta, X, z), mu, sd

    def candidates(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        parts = [self.rng.random((self.n_random, self.dim))]
        best = X[np.argsort(-y)[: self.n_local_centres]]
        if len(best) and self.n_per_centre:
            C = np.repeat(best, self.n_per_centre, axis=0)
            parts.append(np.clip(C + self.local_std * self.rng.standard_normal(C.shape), 0.0, 1.0))
        return np.concatenate(parts)

    def observe_and_suggest(self, X_obs: Any, y_obs: Any, X_pen: Any = None):
        X, y = _xy(X_obs, y_obs)
        cand = self.candidates(X, y) if X_pen is None else _pending(X_pen, self.dim)
        if np.ptp(y) == 0:  # nothing to model yet: every candidate looks the same
            i = int(self.rng.integers(len(cand)))
        else:
            gp, _, _ = self.posterior(X, y)
            with one_blas_thread():
                mean, var = gp.predict(cand)
            best = float(gp.Y[:, 0].min())
            i = int(np.argmax(expected_improvement(mean, np.sqrt(var), best)))
        return i if X_pen is not None else cand[i][None]


class TPE:
    """Optuna's TPE via ask-and-tell on d uniform [0, 1] parameters (maximising y)."""

    sampler_name = "TPESampler"

    def __init__(self, dim: int, seed: int = 0, **sampler_options: Any):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.dim = check_int("dim", dim, 1)
        self._optuna = optuna
        self.names = [f"x{i:02d}" for i in range(self.dim)]
        self.dists = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in self.names}
        sampler = getattr(optuna.samplers, self.sampler_name)(seed=check_int("seed", seed, 0), **sampler_options)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.n_told = 0

    def observe_and_suggest(self, X_obs: Any, y_obs: Any, X_pen: Any = None):
        X, y = _xy(X_obs, y_obs)
        for x, v in zip(X[self.n_told:], y[self.n_told:]):  # only the new observations
            params = {n: float(min(max(xi, 0.0), 1.0)) for n, xi in zip(self.names, x)}
            self.study.add_trial(self._optuna.trial.create_trial(params=params, distributions=self.dists,
                                                                  value=float(v)))
        self.n_told = len(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = self.study.ask(self.dists)
        x = np.array([trial.params[n] for n in self.names])
        # the proposal is told when its observation comes back (next call); this trial stays open
        self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
        if X_pen is not None:
            return nearest_index(x, _pending(X_pen, self.dim))
        return x[None]


class OptunaGP(TPE):
    """Optuna's GPSampler, the same way (the reference GP-EI: what a reviewer would run). HPO-B's initial
    design is already observed when it is first asked, so its own random start-up is switched off."""

    sampler_name = "GPSampler"

    def __init__(self, dim: int, seed: int = 0, **sampler_options: Any):
        super().__init__(dim, seed, **{"n_startup_trials": 0, **sampler_options})


def transfer_ranking(meta_train: Mapping[str, Mapping[str, Any]], n_per_task: int = 20,
                     max_configs: int = 200) -> np.ndarray:
    """Meta-train configurations ordered by their mean normalised y over the meta-train tasks.

    ``meta_train`` is one search space of an HPO-B meta-train file: ``{dataset: {"X", "y"}}``.
    Each task's y is min-max normalised. The candidates are each task's ``n_per_task`` best
    configurations; a candidate's score on a task is the normalised y of that task's nearest
    configuration (exact when the tasks share configurations, as the kit's own meta-dataset does,
    a 1-nearest-neighbour estimate when they do not, as on real HPO-B). Returns the best
    ``max_configs`` candidates, best first (duplicates removed).
    """
    check_int("n_per_task", n_per_task, 1)
    check_int("max_configs", max_configs, 1)
    tasks = []
    for name in sorted(meta_train):
        X, y = _xy(meta_train[name]["X"], meta_train[name]["y"])
        span = np.ptp(y)
        tasks.append((X, (y - y.min()) / span if span > 0 else np.zeros_like(y)))
    if not tasks:
        raise ValueError("meta_train has no tasks: the transfer baseline needs meta-train data")
    cand = np.unique(np.concatenate([X[np.argsort(-y, kind="stable")[:n_per_task]] for X, y in tasks]), axis=0)
    score = np.zeros(len(cand))
    for X, y in tasks:
        d2 = (cand ** 2).sum(1)[:, None] - 2 * cand @ X.T + (X ** 2).sum(1)[None, :]
        score += y[np.argmin(d2, axis=1)]
    order = np.lexsort((np.arange(len(cand)), -score))  # stable: ties keep the candidates' order
    return cand[order[:max_configs]]


class TransferBest:
    """Tries the meta-train-best-on-average configurations in order; random once they run out."""

    def __init__(self, dim: int, seed: int = 0, ranking: np.ndarray | None = None):
        self.dim = check_int("dim", dim, 1)
        if ranking is None or np.asarray(ranking).ndim != 2 or np.asarray(ranking).shape[1] != self.dim:
            raise ValueError(f"ranking must be an (M, {dim}) array from transfer_ranking(meta_train)")
        self.ranking = np.asarray(ranking, dtype=float)
        self.rng = np.random.default_rng(check_int("seed", seed, 0))
        self.next = 0

    def observe_and_suggest(self, X_obs: Any, y_obs: Any, X_pen: Any = None):
        if self.next >= len(self.ranking):
            x = self.rng.random(self.dim)
        else:
            x = self.ranking[self.next]
        self.next += 1
        if X_pen is not None:
            return nearest_index(x, _pending(X_pen, self.dim))
        return x[None].copy()


__all__ = ["GPEI", "RandomSearch", "TPE", "TransferBest", "nearest_index", "transfer_ranking"]
