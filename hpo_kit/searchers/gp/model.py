"""Exact GP regression: constant mean, Gaussian noise, type-II maximum likelihood.

The full parameter vector is ``theta = [kernel params..., mean, log noise_variance]`` (kernel
params in log space, see :mod:`kernels`). :func:`fit_hyperparameters` maximises the log marginal
likelihood with L-BFGS-B over ``theta`` from a few starting points (the defaults first, then
starts drawn from the given numpy Generator, so the fit is deterministic given the seed).
:class:`GPPosterior` conditions on data once (one Cholesky factor) and predicts; it accepts
several target columns sharing the same inputs, which is how fantasies are handled cheaply (same
inputs, different fantasised targets: one factorisation, one solve with many right-hand sides).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

#: relative jitter tried in turn when a Cholesky factorisation fails
JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2)


def cholesky_with_jitter(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of ``K``, adding ``jitter * mean(diag K)`` to the diagonal if needed."""
    scale = float(np.mean(np.diag(K))) if K.size else 1.0
    for jitter in JITTERS:
        try:
            A = K if jitter == 0.0 else K + (jitter * scale) * np.eye(K.shape[0])
            return scipy.linalg.cholesky(A, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("covariance matrix is not positive definite even with jitter 1e-2")


def _mean_and_noise_bounds() -> list[tuple[float, float]]:
    # targets are standardised: the constant mean sits within a few standard deviations and the
    # noise variance between (almost) noiseless and as large as the whole signal
    return [(-3.0, 3.0), (math.log(1e-6), math.log(1.0))]


def full_bounds(kernel: Any) -> list[tuple[float, float]]:
    return kernel.bounds() + _mean_and_noise_bounds()


def default_theta(kernel: Any) -> np.ndarray:
    return np.concatenate([kernel.default_theta(), [0.0, math.log(1e-2)]])


def neg_log_marginal_likelihood(
    theta: np.ndarray, kernel: Any, X: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """``-log p(y | X, theta)`` and its gradient with respect to ``theta``."""
    n = len(y)
    kt, mean, log_noise = theta[: kernel.n_params], theta[-2], theta[-1]
    noise = math.exp(log_noise)
    K = kernel(kt, X, X) + noise * np.eye(n)
    try:
        L = cholesky_with_jitter(K)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)  # tell L-BFGS-B this region is terrible
    resid = y - mean
    alpha = scipy.linalg.cho_solve((L, True), resid, check_finite=False)
    nll = 0.5 * resid @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * math.log(2 * math.pi)
    # d(-lml)/dtheta_j = -0.5 tr((alpha alpha^T - K^-1) dK/dtheta_j)
    Kinv, info = scipy.linalg.lapack.dpotri(L, lower=1)
    if info != 0:
        return 1e25, np.zeros_like(theta)
    Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
    W = np.outer(alpha, alpha) - Kinv
    grad = np.empty_like(theta)
    grad[: kernel.n_params] = -0.5 * kernel.grad_contract(kt, X, W)
    grad[-2] = -alpha.sum()
    grad[-1] = -0.5 * noise * np.trace(W)
    return float(nll), grad


def fit_hyperparameters(
    kernel: Any,
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    n_restarts: int = 3,
    max_iter: int = 100,
    init: np.ndarray | None = None,
) -> np.ndarray:
    """``theta`` maximising the log marginal likelihood (L-BFGS-B, ``n_restarts`` starts).

    Starts: ``init`` (e.g. the previous fit, a warm start) if given, the defaults, then uniform
    draws from ``rng`` inside the bounds, up to ``n_restarts`` starts in total.
    """
    if n_restarts < 1:
        raise ValueError(f"n_restarts must be an integer >= 1, got {n_restarts}")
    bounds = full_bounds(kernel)
    lo, hi = np.array(bounds).T
    starts = ([np.clip(init, lo, hi)] if init is not None else []) + [default_theta(kernel)]
    while len(starts) < n_restarts:
        starts.append(lo + rng.random(len(lo)) * (hi - lo))
    best_theta, best_nll = starts[0], math.inf
    for theta0 in starts[:n_restarts]:
        res = scipy.optimize.minimize(
            neg_log_marginal_likelihood, theta0, args=(kernel, X, y), jac=True,
            method="L-BFGS-B", bounds=bounds, options={"maxiter": max_iter},
        )
        if np.isfinite(res.fun) and res.fun < best_nll:
            best_theta, best_nll = np.asarray(res.x), float(res.fun)
    return best_theta


class GPPosterior:
    """The GP conditioned on ``(X, Y)``; ``Y`` is ``(n,)`` or ``(n, F)`` (F target versions)."""

    def __init__(self, kernel: Any, theta: np.ndarray, X: np.ndarray, Y: np.ndarray):
        self.kernel, self.theta, self.X = kernel, np.asarray(theta, dtype=float), X
        self._kt = self.theta[: kernel.n_params]
        self.mean_const = float(self.theta[-2])
        self.noise = math.exp(self.theta[-1])
        Y = np.asarray(Y, dtype=float)
        self._squeeze = Y.ndim == 1
        self.Y = Y[:, None] if self._squeeze else Y
        K = kernel(self._kt, X, X) + self.noise * np.eye(len(X))
        self.L = cholesky_with_jitter(K)
        self.alpha = scipy.linalg.cho_solve((self.L, True), self.Y - self.mean_const,
                                            check_finite=False)

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean ``(m,)`` or ``(m, F)`` and variance ``(m,)`` of the latent function."""
        Ks = self.kernel(self._kt, Xs, self.X)
        mean = self.mean_const + Ks @ self.alpha
        V = scipy.linalg.solve_triangular(self.L, Ks.T, lower=True, check_finite=False)
        var = np.maximum(self.kernel.diag(self._kt, Xs) - (V * V).sum(0), 1e-12)
        return (mean[:, 0] if self._squeeze else mean), var

    def predict_joint(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean ``(m,)`` (first target column) and full covariance ``(m, m)``."""
        Ks = self.kernel(self._kt, Xs, self.X)
        mean = self.mean_const + Ks @ self.alpha[:, 0]
        V = scipy.linalg.solve_triangular(self.L, Ks.T, lower=True, check_finite=False)
        cov = self.kernel(self._kt, Xs, Xs) - V.T @ V
        return mean, 0.5 * (cov + cov.T)
