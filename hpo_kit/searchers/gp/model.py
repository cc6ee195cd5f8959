"""Exact GP regression: constant mean (plus the kernel's mean offset, if any), Gaussian noise,
type-II maximum likelihood (or, with ``prior="gamma"``, maximum a posteriori under the priors of
:mod:`gp.priors`).

The prior mean is ``theta[-2]`` plus ``kernel.mean_offset(kt, X)`` for kernels that define one
(``has_mean_offset``: the exp-decay-sum mean of MOBSTER, see :mod:`kernels`).

The full parameter vector is ``theta = [kernel params..., mean, log noise_variance]`` (kernel
params in log space, see :mod:`kernels`). :func:`fit_hyperparameters` maximises the log marginal
likelihood with L-BFGS-B over ``theta`` from a few starting points (a warm start and the defaults
first, then starts drawn from the given numpy Generator, so the fit is deterministic given the
seed). :class:`GPPosterior` conditions on data through one Cholesky factor and predicts; it accepts
several target columns sharing the same inputs, which is how fantasies are handled cheaply (same
inputs, different fantasised targets: one factorisation, one solve with many right-hand sides).

Speed: a suggestion must not refactorise the ``n x n`` covariance (``O(n^3)``) when only a few
rows were added since the last one. :func:`append_rows` grows a Cholesky factor by a block of new
rows in ``O(n^2 k)`` (the factor of ``[[A, B], [B^T, C]]`` is ``[[L, 0], [V^T, chol(C - V^T V)]]``
with ``V = L^-1 B``), and :class:`IncrementalFactor` keeps the data's factor between suggestions
for as long as the hyperparameters stay the same, appending the newly observed rows. The same
block update conditions the model on fantasised pending outcomes (see :mod:`acquisition`).
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, ContextManager

import numpy as np
import scipy.linalg
import scipy.optimize

from hpo_kit.searchers.gp.priors import check_prior, neg_log_prior

#: relative jitter tried in turn when a Cholesky factorisation fails
JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2)

_blas_controller: Any = None  # threadpoolctl.ThreadpoolController, created on first use


def one_blas_thread() -> ContextManager[Any]:
    """Context in which BLAS/LAPACK use a single thread (a no-op without ``threadpoolctl``).

    Why: the GP's matrices (at most ~1000 x 1000, solves in blocks of ~150 columns) are too small
    for a multithreaded BLAS to pay off, and OpenBLAS's idle threads spin: on the shared, loaded
    2-core machine a simulated 2-hour A-BOHB run took 125 CPU s (250 s wall) with the default two
    BLAS threads and 8 CPU s (20 s wall) with one. One thread also makes the floating-point
    results, and so the suggestions, independent of the machine's core count. ``threadpoolctl``
    comes with scikit-learn (a dependency of mlxtend); the limit is scoped: the caller's setting is
    restored on exit.
    """
    global _blas_controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    if _blas_controller is None:
        # created once (scanning the loaded libraries takes ~10 ms); numpy's and scipy's OpenBLAS
        # are both loaded by now because this module imports scipy.linalg
        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def cholesky_and_jitter(K: np.ndarray) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor of ``K + jitter * I`` and the (absolute) ``jitter`` that was needed;
    jitters are tried in turn as fractions of ``mean(diag K)``, see :data:`JITTERS`."""
    scale = float(np.mean(np.diag(K))) if K.size else 1.0
    for relative in JITTERS:
        jitter = relative * scale
        try:
            A = K if jitter == 0.0 else K + jitter * np.eye(K.shape[0])
            return scipy.linalg.cholesky(A, lower=True, check_finite=False), jitter
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("covariance matrix is not positive definite even with jitter 1e-2")


def cholesky_with_jitter(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of ``K``, adding ``jitter * mean(diag K)`` to the diagonal if needed."""
    return cholesky_and_jitter(K)[0]


def cho_solve_lower(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``(L L^T)^-1 B`` by two triangular solves. ``scipy.linalg.cho_solve`` copies a C-ordered
    factor into Fortran order on every call (an ``n x n`` copy that cost more than the solve at
    n ~ 1000); ``solve_triangular`` works on either order without copying."""
    Z = scipy.linalg.solve_triangular(L, B, lower=True, check_finite=False)
    return scipy.linalg.solve_triangular(L, Z, lower=True, trans="T", check_finite=False,
                                         overwrite_b=True)


def append_rows(L: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Cholesky factor of ``[[A, B], [B^T, C]]`` given the factor ``L`` of ``A``, in ``O(n^2 k)``.

    Raises ``numpy.linalg.LinAlgError`` when the Schur complement ``C - B^T A^-1 B`` is not
    positive definite (the caller then refactorises the whole matrix with jitter).
    """
    n, k = L.shape[0], C.shape[0]
    V = scipy.linalg.solve_triangular(L, B, lower=True, check_finite=False) if n else B
    L_new = scipy.linalg.cholesky(C - V.T @ V, lower=True, check_finite=False)
    out = np.zeros((n + k, n + k))
    out[:n, :n] = L
    out[n:, :n] = V.T
    out[n:, n:] = L_new
    return out


def _mean_and_noise_bounds() -> list[tuple[float, float]]:
    # targets are standardised: the constant mean sits within a few standard deviations and the
    # noise variance between (almost) noiseless and as large as the whole signal
    return [(-3.0, 3.0), (math.log(1e-6), math.log(1.0))]


def full_bounds(kernel: Any) -> list[tuple[float, float]]:
    return kernel.bounds() + _mean_and_noise_bounds()


def default_theta(kernel: Any) -> np.ndarray:
    return np.concatenate([kernel.default_theta(), [0.0, math.log(1e-2)]])


def prior_mean(kernel: Any, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The GP's prior mean at the rows of ``X``: the constant, plus the kernel's offset if it has one."""
    mean = np.full(len(X), float(theta[-2]))
    if getattr(kernel, "has_mean_offset", False):
        mean += kernel.mean_offset(theta[: kernel.n_params], X)
    return mean


def neg_log_marginal_likelihood(
    theta: np.ndarray, kernel: Any, X: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """``-log p(y | X, theta)`` and its gradient with respect to ``theta``."""
    n = len(y)
    kt, mean, log_noise = theta[: kernel.n_params], theta[-2], theta[-1]
    noise = math.exp(log_noise)
    K, grad_contract = kernel.gram_and_grad(kt, X)  # one pass for the matrix and its gradient
    K[np.diag_indices(n)] += noise
    try:
        L = cholesky_with_jitter(K)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)  # tell L-BFGS-B this region is terrible
    offset = getattr(kernel, "has_mean_offset", False)
    resid = y - mean - (kernel.mean_offset(kt, X) if offset else 0.0)
    alpha = cho_solve_lower(L, resid)
    nll = 0.5 * resid @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * math.log(2 * math.pi)
    # d(-lml)/dtheta_j = -0.5 tr((alpha alpha^T - K^-1) dK/dtheta_j)
    Kinv, info = scipy.linalg.lapack.dpotri(L, lower=1)
    if info != 0:
        return 1e25, np.zeros_like(theta)
    Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
    W = np.outer(alpha, alpha) - Kinv
    grad = np.empty_like(theta)
    grad[: kernel.n_params] = -0.5 * grad_contract(W)
    if offset:  # d nll / d theta_j of the mean part: -alpha^T d mean / d theta_j
        grad[: kernel.n_params] -= kernel.mean_offset_grad(kt, X).T @ alpha
    grad[-2] = -alpha.sum()
    grad[-1] = -0.5 * noise * np.trace(W)
    return float(nll), grad


def neg_log_posterior(
    theta: np.ndarray, kernel: Any, X: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """``-log p(y | X, theta) - log p(theta)`` (the priors of :mod:`gp.priors`) and its gradient."""
    nll, grad = neg_log_marginal_likelihood(theta, kernel, X, y)
    if nll >= 1e25:  # the likelihood already failed: keep L-BFGS-B's "terrible region" signal
        return nll, grad
    value, prior_grad = neg_log_prior(kernel, theta)
    return nll + value, grad + prior_grad


def fit_hyperparameters(
    kernel: Any,
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    n_restarts: int = 3,
    max_iter: int = 100,
    init: np.ndarray | None = None,
    prior: str = "none",
) -> np.ndarray:
    """``theta`` maximising the log marginal likelihood (L-BFGS-B, ``n_restarts`` starts); with
    ``prior="gamma"`` the log posterior under the priors of :mod:`gp.priors` (a MAP fit).

    Starts: ``init`` (e.g. the previous fit, a warm start) if given, the defaults, then uniform
    draws from ``rng`` inside the bounds, up to ``n_restarts`` starts in total.
    """
    if n_restarts < 1:
        raise ValueError(f"n_restarts must be an integer >= 1, got {n_restarts}")
    objective = neg_log_posterior if check_prior(prior) == "gamma" else neg_log_marginal_likelihood
    bounds = full_bounds(kernel)
    lo, hi = np.array(bounds).T
    starts = ([np.clip(init, lo, hi)] if init is not None else []) + [default_theta(kernel)]
    while len(starts) < n_restarts:
        starts.append(lo + rng.random(len(lo)) * (hi - lo))
    best_theta, best_nll = starts[0], math.inf
    for theta0 in starts[:n_restarts]:
        res = scipy.optimize.minimize(
            objective, theta0, args=(kernel, X, y), jac=True,
            method="L-BFGS-B", bounds=bounds, options={"maxiter": max_iter},
        )
        if np.isfinite(res.fun) and res.fun < best_nll:
            best_theta, best_nll = np.asarray(res.x), float(res.fun)
    return best_theta


def _noisy_gram(kernel: Any, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray | None = None
                ) -> np.ndarray:
    """``K(X1, X2)``; with ``X2`` omitted, ``K(X1, X1) + noise * I``."""
    kt = theta[: kernel.n_params]
    if X2 is not None:
        return kernel(kt, X1, X2)
    K = kernel(kt, X1, X1)
    K[np.diag_indices(len(X1))] += math.exp(theta[-1])
    return K


class IncrementalFactor:
    """Cholesky factor of ``K(X, X) + noise * I`` for fixed ``theta``, kept across suggestions.

    :meth:`update` is given the current inputs; when they extend the inputs of the previous call
    (observations are only ever appended) it appends the new rows with :func:`append_rows`, else
    (or when the update is numerically unsafe) it refactorises from scratch with jitter. The factor
    is bit-for-bit a function of the inputs' history, so runs stay reproducible.
    """

    def __init__(self, kernel: Any, theta: np.ndarray):
        self.kernel, self.theta = kernel, np.array(theta, dtype=float)
        self.X: np.ndarray | None = None
        self.L = np.zeros((0, 0))
        self.jitter = 0.0  # absolute jitter on the diagonal of every row of the factor
        self.n_refactorisations = 0  # from scratch; for tests and benchmarks

    def update(self, X: np.ndarray) -> np.ndarray:
        n = 0 if self.X is None else len(self.X)
        if self.X is not None and len(X) >= n and np.array_equal(X[:n], self.X):
            if len(X) > n:
                new = X[n:]
                C = _noisy_gram(self.kernel, self.theta, new)
                C[np.diag_indices(len(new))] += self.jitter
                try:
                    self.L = append_rows(self.L, _noisy_gram(self.kernel, self.theta, self.X, new), C)
                except np.linalg.LinAlgError:
                    self._refactorise(X)
                self.X = np.array(X)
            return self.L
        self._refactorise(X)
        return self.L

    def _refactorise(self, X: np.ndarray) -> None:
        self.L, self.jitter = cholesky_and_jitter(_noisy_gram(self.kernel, self.theta, X))
        self.X = np.array(X)
        self.n_refactorisations += 1


class GPPosterior:
    """The GP conditioned on ``(X, Y)``; ``Y`` is ``(n,)`` or ``(n, F)`` (F target versions).

    ``L`` (optional) is a ready Cholesky factor of ``K(X, X) + (noise + jitter) * I``, e.g. from
    :class:`IncrementalFactor` or :func:`append_rows`; without it the factor is computed here.
    """

    def __init__(self, kernel: Any, theta: np.ndarray, X: np.ndarray, Y: np.ndarray,
                 L: np.ndarray | None = None, jitter: float = 0.0):
        self.kernel, self.theta, self.X = kernel, np.asarray(theta, dtype=float), X
        self._kt = self.theta[: kernel.n_params]
        self.mean_const = float(self.theta[-2])
        self.noise = math.exp(self.theta[-1])
        Y = np.asarray(Y, dtype=float)
        self._squeeze = Y.ndim == 1
        self.Y = Y[:, None] if self._squeeze else Y
        if L is None:
            L, jitter = cholesky_and_jitter(_noisy_gram(kernel, self.theta, X))
        if L.shape != (len(X), len(X)):
            raise ValueError(f"L must have shape ({len(X)}, {len(X)}), got {L.shape}")
        self.L, self.jitter = L, jitter
        self.alpha = cho_solve_lower(self.L, self.Y - self.prior_mean(X)[:, None])

    def prior_mean(self, Xs: np.ndarray) -> np.ndarray:
        """The prior mean at the rows of ``Xs`` (see :func:`prior_mean`)."""
        return prior_mean(self.kernel, self.theta, Xs)

    def cross(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(Ks, V)``: ``Ks = K(Xs, X)`` ``(m, n)`` and ``V = L^-1 Ks^T`` ``(n, m)``."""
        Ks = self.kernel(self._kt, Xs, self.X)
        V = scipy.linalg.solve_triangular(self.L, Ks.T, lower=True, check_finite=False)
        return Ks, V

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean ``(m,)`` or ``(m, F)`` and variance ``(m,)`` of the latent function.

        All ``F`` target columns share the variance, so it costs one triangular solve for all of
        them; the means are one matrix product. Rows of ``Xs`` are processed in blocks so that
        every ``block x n`` temporary stays below ~1 MB: glibc hands larger freed buffers back to
        the OS and page-faults them in again on the next allocation, which made scoring the EI
        candidates in one piece 2.5x slower than in blocks.
        """
        m, F = len(Xs), self.Y.shape[1]
        mean, var = np.empty((m, F)), np.empty(m)
        block = max(32, (1 << 17) // max(len(self.X), 1))
        for start in range(0, m, block):
            rows = slice(start, min(start + block, m))
            Ks, V = self.cross(Xs[rows])
            mean[rows] = self.prior_mean(Xs[rows])[:, None] + Ks @ self.alpha
            var[rows] = self.kernel.diag(self._kt, Xs[rows]) - np.einsum("ij,ij->j", V, V)
        np.maximum(var, 1e-12, out=var)
        return (mean[:, 0] if self._squeeze else mean), var

    def predict_joint(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean ``(m,)`` (first target column) and full covariance ``(m, m)``."""
        Ks, V = self.cross(Xs)
        mean = self.prior_mean(Xs) + Ks @ self.alpha[:, 0]
        cov = self.kernel(self._kt, Xs, Xs) - V.T @ V
        return mean, 0.5 * (cov + cov.T)
