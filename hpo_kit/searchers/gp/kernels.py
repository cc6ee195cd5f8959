"""Covariance functions of the GP searchers, with analytic gradients.

All kernel parameters live in log space (``theta``), which is what the marginal-likelihood
optimiser moves, and every kernel can contract its parameter gradients with a weight matrix ``W``
(``sum(W * dK/dtheta_j)`` for every j) without ever materialising one ``n x n`` matrix per
parameter; that contraction is all the log marginal likelihood gradient needs.
``gram_and_grad(theta, X)`` returns the Gram matrix together with that contraction (as a function
of ``W``) and shares the distances and exponentials between the two: the likelihood optimiser
needs both at every step, and the ``n x n`` elementwise terms are most of a step's cost at a few
hundred points, so computing them once instead of twice nearly halves the kernel work of a fit.

* :class:`Matern52` - Matern-5/2 with one lengthscale per input dimension (ARD) and a signal
  variance, for ``x`` in the unit cube.
* :class:`Matern52ExpDecay` - the multi-fidelity kernel of A-BOHB (Klein et al. 2020,
  arXiv:2003.10865), the exponential-decay resource kernel of Swersky et al. (2014) added to a
  Matern-5/2 over ``x``::

      k((x, r), (x', r')) = k_x(x, x') + gamma^2 * [kappa(r + r') - kappa(r) * kappa(r')]
      kappa(r) = (beta / (r + beta)) ** alpha

  The resource enters as the *last input column*, normalised to ``r / max_resource`` in (0, 1]
  by the searcher, so the bounds of ``alpha`` and ``beta`` below do not depend on the units of the
  resource (epochs, iterations, ...). ``kappa(r + r') - kappa(r) kappa(r')`` is the covariance of
  ``exp(-lambda r)`` and ``exp(-lambda r')`` for ``lambda ~ Gamma(alpha, rate=beta)``, hence
  positive semi-definite.

  The GP's prior mean is a constant by default (``mean="constant"``). ``mean="exp_decay_sum"`` is
  Syne Tune's MOBSTER model ("exp-decay-sum", ``delta = 0``): the mean of ``gamma * exp(-lambda r)``
  is added, so the prior mean is ``mu + gamma * kappa(r)`` with the kernel's own ``alpha``, ``beta``
  and ``gamma = sqrt(gamma^2)``: the prior expects losses to fall with the resource, towards ``mu``.
  The kernel then provides :meth:`Matern52ExpDecay.mean_offset` and its gradient, which
  :mod:`gp.model` adds to the constant.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

SQRT5 = math.sqrt(5.0)

#: ``W -> [sum(W * dK/dtheta_j) for j]``, as returned by ``gram_and_grad``
GradContraction = Callable[[np.ndarray], np.ndarray]


def _scaled_sqdist(X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``X1 / l`` and ``X2 / l``.

    Written with in-place updates of one ``m x n`` buffer: on large matrices every fresh
    temporary costs page faults, and the out-of-place expression was 5x slower.
    """
    A, B = X1 / lengthscales, X2 / lengthscales
    d2 = A @ B.T
    d2 *= -2.0
    d2 += (A * A).sum(1)[:, None]
    d2 += (B * B).sum(1)[None, :]
    return np.maximum(d2, 0.0, out=d2)  # rounding can make tiny negatives


def _matern52_parts(
    s: float, X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(K, t, exp(-t))`` with ``t = sqrt5 * r``, ``r`` the scaled distance.

    ``K = s (1 + t + t^2 / 3) exp(-t)``, built in place in the distance buffer (three ``m x n``
    allocations in all): these passes are most of the cost of scoring the EI candidates.
    """
    K = _scaled_sqdist(X1, X2, lengthscales)  # r^2, becomes K below
    t = np.sqrt(K)
    t *= SQRT5
    e = np.negative(t)
    np.exp(e, out=e)
    K *= 5.0 / 3.0  # t^2 / 3
    K += t
    K += 1.0
    K *= e
    K *= s
    return K, t, e


class Matern52:
    """ARD Matern-5/2: ``s * (1 + sqrt5 r + 5/3 r^2) * exp(-sqrt5 r)``, ``r`` the scaled distance.

    ``theta = [log l_1, ..., log l_k, log s]`` (lengthscales, signal variance). By default every
    input column has its own lengthscale (``k = dim``). ``groups`` (one integer per column, ``0 ..
    k - 1``) lets columns share one: the one-hot columns of a categorical hyperparameter, scaled by
    ``1 / sqrt 2``, sharing a lengthscale give the Hamming distance (a different choice adds
    ``1 / l^2`` to ``r^2`` whatever the two choices are; see ``GPSearcherConfig.categorical_inputs``).
    """

    def __init__(self, dim: int, groups: np.ndarray | None = None):
        self.dim = dim
        if groups is None:
            groups = np.arange(dim)
        groups = np.asarray(groups, dtype=np.int64)
        n_groups = int(groups.max()) + 1 if len(groups) else 0
        if groups.shape != (dim,) or groups.min(initial=0) < 0 or set(groups.tolist()) != set(range(n_groups)):
            raise ValueError(f"groups must give each of the {dim} columns a lengthscale index 0 .. k - 1, using "
                             f"each index, got {groups.tolist()!r}")
        self.groups = groups
        self.n_lengthscales = n_groups
        self._shared = n_groups < dim
        self.n_params = n_groups + 1
        self.names = [f"log_lengthscale_{i}" for i in range(n_groups)] + ["log_signal_variance"]

    def default_theta(self) -> np.ndarray:
        # lengthscale 0.5 of the unit cube, unit variance (targets are standardised)
        return np.concatenate([np.full(self.n_lengthscales, math.log(0.5)), [0.0]])

    def bounds(self) -> list[tuple[float, float]]:
        return [(math.log(1e-2), math.log(20.0))] * self.n_lengthscales + [(math.log(1e-2), math.log(20.0))]

    def _lengthscales(self, theta: np.ndarray) -> np.ndarray:
        lengthscales = np.exp(theta[: self.n_lengthscales])
        return lengthscales[self.groups] if self._shared else lengthscales

    def __call__(self, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        s = math.exp(theta[self.n_lengthscales])
        return _matern52_parts(s, X1[:, : self.dim], X2[:, : self.dim], self._lengthscales(theta))[0]

    def diag(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], math.exp(theta[self.n_lengthscales]))

    def gram_and_grad(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, GradContraction]:
        """``K(X, X)`` and the gradient contraction ``W -> [sum(W * dK/dtheta_j) for j]``."""
        lengthscales, s = self._lengthscales(theta), math.exp(theta[self.n_lengthscales])
        Xd = X[:, : self.dim]
        K, t, e = _matern52_parts(s, Xd, Xd, lengthscales)

        def contract(W: np.ndarray) -> np.ndarray:
            # dK/dlog l_d = 5/3 s (1 + sqrt5 r) exp(-sqrt5 r) (x_d - x'_d)^2 / l_d^2, t = sqrt5 r
            B = W * ((5.0 / 3.0) * s * (1.0 + t) * e)
            # sum_ij B_ij (x_id - x_jd)^2 = 2 sum_i rowsum(B)_i x_id^2 - 2 x_d^T B x_d (B symmetric)
            rows = B.sum(1)
            g_len = 2.0 * (rows @ (Xd * Xd) - ((B @ Xd) * Xd).sum(0)) / lengthscales**2
            if self._shared:  # a shared lengthscale moves all of its columns
                g_len = np.bincount(self.groups, weights=g_len, minlength=self.n_lengthscales)
            return np.concatenate([g_len, [(W * K).sum()]])  # dK/dlog s = K

        return K.copy(), contract  # a copy: callers add the noise to the diagonal in place

    def grad_contract(self, theta: np.ndarray, X: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``[sum(W * dK(X, X)/dtheta_j) for j]`` for a symmetric ``W``."""
        return self.gram_and_grad(theta, X)[1](W)


class ExpDecayResource:
    """``gamma^2 * [kappa(r + r') - kappa(r) kappa(r')]``, ``kappa(r) = (beta / (r + beta))^alpha``.

    Acts on the last input column (the normalised resource). ``theta = [log alpha, log beta,
    log gamma^2]``.
    """

    n_params = 3
    names = ["log_alpha", "log_beta", "log_gamma2"]

    def default_theta(self) -> np.ndarray:
        return np.array([0.0, 0.0, 0.0])  # alpha = beta = gamma^2 = 1

    def bounds(self) -> list[tuple[float, float]]:
        return [(math.log(1e-2), math.log(1e2)), (math.log(1e-2), math.log(1e2)),
                (math.log(1e-3), math.log(1e2))]

    @staticmethod
    def _kappa(t: np.ndarray, alpha: float, beta: float) -> np.ndarray:
        return np.exp(alpha * (math.log(beta) - np.log(t + beta)))

    def _levels_gram(self, theta: np.ndarray, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
        alpha, beta, gamma2 = np.exp(theta)
        k12 = self._kappa(u1[:, None] + u2[None, :], alpha, beta)
        return gamma2 * (k12 - np.outer(self._kappa(u1, alpha, beta), self._kappa(u2, alpha, beta)))

    def __call__(self, theta: np.ndarray, r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
        return self.add_to(np.zeros((len(r1), len(r2))), theta, r1, r2)

    def add_to(self, K: np.ndarray, theta: np.ndarray, r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
        """``K += k(r1, r2)`` in place (and returned)."""
        # resources take few distinct values (the rung levels): evaluate on those, then expand.
        # Row/column ``take`` is several times faster than 2-D fancy indexing, and when r1 is a
        # single level (EI candidates all sit at the target resource) one row is broadcast
        u1, i1 = np.unique(r1, return_inverse=True)
        u2, i2 = np.unique(r2, return_inverse=True)
        columns = self._levels_gram(theta, u1, u2).take(i2, axis=1)  # (levels of r1, len(r2))
        K += columns if len(u1) == 1 else columns.take(i1, axis=0)  # one level: broadcast
        return K

    def diag(self, theta: np.ndarray, r: np.ndarray) -> np.ndarray:
        alpha, beta, gamma2 = np.exp(theta)
        return gamma2 * (self._kappa(2 * r, alpha, beta) - self._kappa(r, alpha, beta) ** 2)

    def gram_and_grad(self, theta: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, GradContraction]:
        """``K(r, r)`` and the gradient contraction ``W -> [sum(W * dK/dtheta_j) for j]``."""
        alpha, beta, gamma2 = np.exp(theta)
        u, inv = np.unique(r, return_inverse=True)
        t = u[:, None] + u[None, :]
        k2, k1 = self._kappa(t, alpha, beta), self._kappa(u, alpha, beta)
        Ku = gamma2 * (k2 - np.outer(k1, k1))

        def contract(W: np.ndarray) -> np.ndarray:
            # sum(W * dK) only depends on W summed over blocks of equal resource levels
            onehot = np.zeros((len(r), len(u)))
            onehot[np.arange(len(r)), inv] = 1.0
            Wu = onehot.T @ W @ onehot
            # d kappa(t) / d log alpha = alpha * kappa(t) * log(beta / (t + beta))
            # d kappa(t) / d log beta  = alpha * kappa(t) * t / (t + beta)
            da2 = alpha * k2 * (math.log(beta) - np.log(t + beta))
            da1 = alpha * k1 * (math.log(beta) - np.log(u + beta))
            db2 = alpha * k2 * t / (t + beta)
            db1 = alpha * k1 * u / (u + beta)
            d_alpha = gamma2 * (da2 - np.outer(da1, k1) - np.outer(k1, da1))
            d_beta = gamma2 * (db2 - np.outer(db1, k1) - np.outer(k1, db1))
            return np.array([(Wu * d_alpha).sum(), (Wu * d_beta).sum(), (Wu * Ku).sum()])

        return Ku.take(inv, axis=0).take(inv, axis=1), contract

    def grad_contract(self, theta: np.ndarray, r: np.ndarray, W: np.ndarray) -> np.ndarray:
        return self.gram_and_grad(theta, r)[1](W)


MEANS = ("constant", "exp_decay_sum")


class Matern52ExpDecay:
    """``Matern52(x) + ExpDecayResource(r)``; inputs are ``[x_1..x_d, r / max_resource]``.

    ``theta = [Matern52 params (d + 1), log alpha, log beta, log gamma^2]``. ``mean``: "constant"
    or "exp_decay_sum" (see the module doc).
    """

    def __init__(self, dim: int, mean: str = "constant"):
        if mean not in MEANS:
            raise ValueError(f"mean must be one of {list(MEANS)}, got {mean!r}")
        self.mean = mean
        self.has_mean_offset = mean == "exp_decay_sum"
        self.dim = dim
        self.matern = Matern52(dim)
        self.resource = ExpDecayResource()
        self.n_params = self.matern.n_params + self.resource.n_params
        self.names = self.matern.names + self.resource.names

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return theta[: self.matern.n_params], theta[self.matern.n_params :]

    def default_theta(self) -> np.ndarray:
        return np.concatenate([self.matern.default_theta(), self.resource.default_theta()])

    def bounds(self) -> list[tuple[float, float]]:
        return self.matern.bounds() + self.resource.bounds()

    def __call__(self, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        tx, tr = self._split(theta)
        return self.resource.add_to(self.matern(tx, X1, X2), tr, X1[:, self.dim], X2[:, self.dim])

    def diag(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        tx, tr = self._split(theta)
        return self.matern.diag(tx, X) + self.resource.diag(tr, X[:, self.dim])

    def gram_and_grad(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, GradContraction]:
        tx, tr = self._split(theta)
        Kx, grad_x = self.matern.gram_and_grad(tx, X)
        Kr, grad_r = self.resource.gram_and_grad(tr, X[:, self.dim])
        Kx += Kr  # Kx is a copy, free to modify
        return Kx, lambda W: np.concatenate([grad_x(W), grad_r(W)])

    def grad_contract(self, theta: np.ndarray, X: np.ndarray, W: np.ndarray) -> np.ndarray:
        return self.gram_and_grad(theta, X)[1](W)

    def mean_offset(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """``gamma * kappa(r)`` at the rows of ``X`` (zeros for the constant mean)."""
        if not self.has_mean_offset:
            return np.zeros(len(X))
        alpha, beta, gamma2 = np.exp(self._split(theta)[1])
        return math.sqrt(gamma2) * ExpDecayResource._kappa(X[:, self.dim], alpha, beta)

    def mean_offset_grad(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """``d mean_offset / d theta``, shape ``(len(X), n_params)``."""
        G = np.zeros((len(X), self.n_params))
        if not self.has_mean_offset:
            return G
        alpha, beta, gamma2 = np.exp(self._split(theta)[1])
        r = X[:, self.dim]
        m = math.sqrt(gamma2) * ExpDecayResource._kappa(r, alpha, beta)
        base = self.matern.n_params
        G[:, base] = m * alpha * (math.log(beta) - np.log(r + beta))   # d / d log alpha
        G[:, base + 1] = m * alpha * r / (r + beta)                    # d / d log beta
        G[:, base + 2] = 0.5 * m                                       # d / d log gamma^2
        return G
