"""Priors on the GP's hyperparameters: maximum a posteriori fits for short runs.

With 10-30 observations in 5-10 dimensions the marginal likelihood alone is often maximised by
degenerate hyperparameters: a lengthscale at a bound (one dimension "explains" everything, or
nothing), or the noise absorbing the whole signal, after which EI is nearly flat and GP-EI
behaves like random search. Weak priors keep the fit away from those edges while data are scarce
and are outweighed by the likelihood once data are plenty.

The densities are those of Optuna's GPSampler (``optuna/_gp/prior.py``, Optuna 5.0), the reference
the kit's GP-EI is measured against (``bench/searcher_quality.py``), written on the kit's
parameters (inputs in the unit cube, standardised losses):

* every inverse squared lengthscale ``lambda = 1 / l^2``: ``log p = -(0.1 / lambda + 0.1 lambda)``,
  largest at ``l = 1`` (the width of the unit cube) and symmetric in ``log l``;
* the signal variance ``s``: Gamma(shape 2, rate 1), mode 1 (the losses' variance);
* the noise variance: Gamma(shape 1.1, rate 30), mean 0.037 (a few per cent of the losses' variance).

The constant mean gets no prior (its bounds keep it within three standard deviations). The
densities are on the natural parameters, and the optimiser moves their logarithms without a
Jacobian term, as Optuna's does.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: the choices of ``GPSearcherConfig.hyperparameter_prior``
PRIORS = ("none", "gamma")


def neg_log_prior(kernel: Any, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """``-log p(theta)`` (up to a constant) and its gradient with respect to ``theta``.

    ``theta = [kernel params..., mean, log noise_variance]`` (see :mod:`gp.model`); the kernel must
    be a :class:`~hpo_kit.searchers.gp.kernels.Matern52` (its parameters: log lengthscales, then the
    log signal variance).
    """
    k = getattr(kernel, "n_lengthscales", None)
    if k is None or kernel.n_params != k + 1:
        raise ValueError(f"the hyperparameter prior is defined for the Matern52 kernel only, got {type(kernel).__name__}")
    grad = np.zeros_like(theta, dtype=float)
    # lengthscales: 0.1 / lambda + 0.1 lambda with lambda = l^-2, i.e. 0.1 (l^2 + l^-2)
    l2 = np.exp(2.0 * theta[:k])
    value = 0.1 * float((l2 + 1.0 / l2).sum())
    grad[:k] = 0.2 * (l2 - 1.0 / l2)
    # signal variance ~ Gamma(2, 1): -log p = -(2 - 1) log s + s
    s = math.exp(theta[k])
    value += -theta[k] + s
    grad[k] = -1.0 + s
    # noise variance ~ Gamma(1.1, 30): -log p = -(1.1 - 1) log n + 30 n
    noise = math.exp(theta[-1])
    value += -0.1 * theta[-1] + 30.0 * noise
    grad[-1] = -0.1 + 30.0 * noise
    return value, grad


def check_prior(prior: str) -> str:
    if prior not in PRIORS:
        raise ValueError(f"hyperparameter_prior must be one of {list(PRIORS)}, got {prior!r}")
    return prior
