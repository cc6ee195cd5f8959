"""Expected improvement, fantasies for pending evaluations, and the candidate set it is maximised on.

Pending evaluations (jobs started but not finished) are handled as in A-BOHB (Klein et al. 2020):
draw ``F`` joint posterior samples of the pending points' targets (*fantasies*), condition the GP
on the observed data plus each fantasy, and average EI over the ``F`` conditioned models. EI then
drops near pending points, because the GP's variance there shrinks, which spreads parallel
workers out.

How this is made cheap (:func:`fantasy_posterior`), without changing the result:

* the ``F`` conditioned models share their inputs (data + pending points), so they share one
  Cholesky factor, and that factor is the data's factor grown by a ``p``-row block
  (as in :func:`model.append_rows`, ``O(n^2 p)``) instead of a fresh ``O((n + p)^3)`` factorisation;
* the posterior covariance does not depend on the fantasised values, so the predictive variance
  at the candidates is computed once for all ``F`` models (one triangular solve), and only the
  means differ: ``mean_f = mean + K_*p S^-1 (y_f - mu_p)``, linear in the fantasy values, which
  the conditioned model evaluates for all ``F`` at once as one matrix product with ``F`` columns.

``tests/test_gp_model.py`` checks this against the naive route (one refactorised GP per fantasy).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr

from hpo_kit.searchers.gp.model import GPPosterior, cholesky_and_jitter

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: np.ndarray | float) -> np.ndarray:
    """EI for minimisation: ``E[max(best - f, 0)]`` with ``f ~ N(mean, std^2)``.

    ``mean`` is ``(m,)`` or ``(m, F)``; ``std`` is ``(m,)``; ``best`` a scalar or ``(F,)``.
    """
    s = std[:, None] if mean.ndim == 2 else std
    z = (best - mean) / s
    return s * (z * ndtr(z) + _INV_SQRT_2PI * np.exp(-0.5 * z * z))


def fantasy_posterior(
    posterior: GPPosterior, Z_pending: np.ndarray, n_fantasies: int, rng: np.random.Generator
) -> tuple[GPPosterior, np.ndarray]:
    """The GP ``posterior`` (single target column) further conditioned on ``n_fantasies`` joint
    samples of the observed targets (noise included) at ``Z_pending``.

    Returns the conditioned posterior (``F`` target columns, one per fantasy; ``posterior`` itself
    when nothing is pending) and the fantasised targets ``(F, p)`` (``(1, 0)`` when nothing is
    pending).
    """
    if posterior.Y.shape[1] != 1:
        raise ValueError(f"posterior must have one target column, got {posterior.Y.shape[1]}")
    p = len(Z_pending)
    if p == 0:
        return posterior, np.empty((1, 0))
    kernel, theta, kt = posterior.kernel, posterior.theta, posterior._kt
    # predictive distribution of the pending targets given the data: N(mean_p, S), where
    # S = (K_pp - V^T V) + (noise + jitter) I is also the Schur complement of the grown factor
    Kpz, V = posterior.cross(Z_pending)
    mean_p = posterior.prior_mean(Z_pending) + Kpz @ posterior.alpha[:, 0]
    K_pp = kernel(kt, Z_pending, Z_pending)
    K_pp[np.diag_indices(p)] += posterior.noise + posterior.jitter
    S = K_pp - V.T @ V
    L_S, extra = cholesky_and_jitter(0.5 * (S + S.T))
    fantasies = mean_p[None, :] + rng.standard_normal((n_fantasies, p)) @ L_S.T
    # factor of the (data + pending) covariance: the data's factor grown by the pending block
    L = np.zeros((len(posterior.X) + p, len(posterior.X) + p))
    L[: len(posterior.X), : len(posterior.X)] = posterior.L
    L[len(posterior.X):, : len(posterior.X)] = V.T
    L[len(posterior.X):, len(posterior.X):] = L_S
    # (``extra`` jitter, if S needed any, sits on the pending rows only: a tiny inconsistency in a
    # degenerate case that is preferable to failing the suggestion)
    Y = np.concatenate([np.repeat(posterior.Y, n_fantasies, axis=1), fantasies.T], axis=0)
    return GPPosterior(kernel, theta, np.concatenate([posterior.X, Z_pending]), Y,
                       L=L, jitter=posterior.jitter), fantasies


def local_and_random_candidates(
    encoder: Any,
    rng: np.random.Generator,
    centres: np.ndarray,
    n_random: int,
    n_per_centre: int,
    local_std: float,
) -> np.ndarray:
    """Canonical candidate points: uniform draws plus Gaussian perturbations of ``centres``.

    Perturbations have standard deviation ``local_std`` in every continuous/integer/ordinal
    dimension; a categorical dimension is redrawn uniformly with probability ``1 / d``. Forbidden
    points are dropped; inactive dimensions come back NaN (see ``UnitCubeEncoder.canonicalize``).
    """
    parts = [rng.random((n_random, encoder.dim))]
    if len(centres) and n_per_centre > 0:
        C = encoder.impute(np.repeat(centres, n_per_centre, axis=0))
        P = C + local_std * rng.standard_normal(C.shape)
        P[:, encoder.is_categorical] = C[:, encoder.is_categorical]  # no order: no small steps
        redraw = (rng.random(C.shape) < 1.0 / encoder.dim) & encoder.is_categorical[None, :]
        P[redraw] = rng.random(int(redraw.sum()))
        parts.append(np.clip(P, 0.0, 1.0))
    X = np.concatenate(parts)
    X = X[~encoder.is_forbidden(X)]
    return encoder.canonicalize(X)
