"""Expected improvement, fantasies for pending evaluations, and the candidate set it is maximised on.

Pending evaluations (jobs started but not finished) are handled as in A-BOHB (Klein et al. 2020):
draw ``F`` joint posterior samples of the pending points' targets (*fantasies*), condition the GP
on the observed data plus each fantasy, and average EI over the ``F`` conditioned models. All ``F``
models share their inputs, so one Cholesky factor serves them all (see ``GPPosterior``); only the
posterior mean differs between fantasies, the variance is common. EI then drops near pending
points, because the GP's variance there shrinks, which spreads parallel workers out.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr

from hpo_kit.searchers.gp.model import GPPosterior, cholesky_with_jitter

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: np.ndarray | float) -> np.ndarray:
    """EI for minimisation: ``E[max(best - f, 0)]`` with ``f ~ N(mean, std^2)``.

    ``mean`` is ``(m,)`` or ``(m, F)``; ``std`` is ``(m,)``; ``best`` a scalar or ``(F,)``.
    """
    s = std[:, None] if mean.ndim == 2 else std
    z = (best - mean) / s
    return s * (z * ndtr(z) + _INV_SQRT_2PI * np.exp(-0.5 * z * z))


def sample_fantasies(
    posterior: GPPosterior, Z_pending: np.ndarray, n_fantasies: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_fantasies, p)`` joint samples of the *observed* targets (noise included) at pending inputs."""
    mean, cov = posterior.predict_joint(Z_pending)
    cov = cov + posterior.noise * np.eye(len(Z_pending))
    L = cholesky_with_jitter(cov)
    return mean[None, :] + rng.standard_normal((n_fantasies, len(mean))) @ L.T


def fantasy_posterior(
    kernel: Any,
    theta: np.ndarray,
    Z: np.ndarray,
    y: np.ndarray,
    Z_pending: np.ndarray,
    n_fantasies: int,
    rng: np.random.Generator,
) -> tuple[GPPosterior, np.ndarray]:
    """GP conditioned on the data and on ``n_fantasies`` fantasised outcomes of ``Z_pending``.

    Returns the posterior (targets with ``F`` columns; ``F = 1`` and no fantasies when nothing is
    pending) and the fantasised targets ``(F, p)``.
    """
    posterior = GPPosterior(kernel, theta, Z, y)
    if len(Z_pending) == 0:
        return posterior, np.empty((1, 0))
    fantasies = sample_fantasies(posterior, Z_pending, n_fantasies, rng)
    Y = np.concatenate([np.repeat(y[:, None], n_fantasies, axis=1), fantasies.T], axis=0)
    return GPPosterior(kernel, theta, np.concatenate([Z, Z_pending]), Y), fantasies


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
