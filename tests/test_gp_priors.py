"""GP-EI's hyperparameter priors (MAP fits) and the Hamming treatment of categoricals."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from hpo_kit.searchers.gp.kernels import Matern52
from hpo_kit.searchers.gp.model import (
    fit_hyperparameters,
    full_bounds,
    neg_log_marginal_likelihood,
    neg_log_posterior,
)
from hpo_kit.searchers.gp.priors import neg_log_prior


def test_prior_densities_and_gradient():
    kernel = Matern52(3)
    # at l = 1, s = 1: lengthscale terms 0.1 * (1 + 1) each, signal -0 + 1, noise as written
    theta = np.array([0.0, 0.0, 0.0, 0.0, 0.3, math.log(0.01)])
    value, grad = neg_log_prior(kernel, theta)
    assert value == pytest.approx(3 * 0.2 + 1.0 + (-0.1 * math.log(0.01) + 30 * 0.01))
    assert grad[:3] == pytest.approx(0.0) and grad[3] == pytest.approx(0.0)  # modes of l and s
    assert grad[4] == 0.0  # the constant mean has no prior
    rng = np.random.default_rng(0)
    lo, hi = np.array(full_bounds(kernel)).T
    for _ in range(3):
        t = lo + (0.1 + 0.8 * rng.random(len(lo))) * (hi - lo)
        numeric = approx_fprime(t, lambda u: neg_log_prior(kernel, u)[0], 1e-7)
        np.testing.assert_allclose(neg_log_prior(kernel, t)[1], numeric, rtol=1e-4, atol=1e-4)


def test_posterior_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X, kernel = rng.random((20, 3)), Matern52(3)
    y = np.sin(3 * X.sum(1)) + 0.1 * rng.standard_normal(20)
    lo, hi = np.array(full_bounds(kernel)).T
    theta = lo + (0.2 + 0.6 * rng.random(len(lo))) * (hi - lo)
    value, grad = neg_log_posterior(theta, kernel, X, y)
    assert value == pytest.approx(neg_log_marginal_likelihood(theta, kernel, X, y)[0] + neg_log_prior(kernel, theta)[0])
    numeric = approx_fprime(theta, lambda t: neg_log_posterior(t, kernel, X, y)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4 * (1 + np.abs(numeric).max()))


def test_map_fit_keeps_lengthscales_off_the_bounds_on_scarce_data():
    """Ten points in six dimensions, only the first of which matters: maximum likelihood drives the
    irrelevant lengthscales to a bound; the priors keep every one inside."""
    rng = np.random.default_rng(3)
    X = rng.random((10, 6))
    y = np.sin(5 * X[:, 0])
    y = (y - y.mean()) / y.std()
    kernel = Matern52(6)
    lo, hi = np.array(full_bounds(kernel)).T
    ml = fit_hyperparameters(kernel, X, y, np.random.default_rng(0), n_restarts=3)
    mapped = fit_hyperparameters(kernel, X, y, np.random.default_rng(0), n_restarts=3, prior="gamma")
    at_bound = lambda t: np.isclose(t[:6], lo[:6]) | np.isclose(t[:6], hi[:6])  # noqa: E731
    assert at_bound(ml).any()
    assert not at_bound(mapped).any()
    assert mapped[0] < np.median(mapped[1:6])  # the dimension that matters keeps the shortest lengthscale
    with pytest.raises(ValueError, match=r"hyperparameter_prior must be one of \['none', 'gamma'\]"):
        fit_hyperparameters(kernel, X, y, np.random.default_rng(0), prior="normal")


def test_shared_lengthscales_give_the_hamming_distance():
    # columns 0-2: the one-hot columns of one categorical (scaled by 1/sqrt 2), column 3: a number
    kernel = Matern52(4, groups=np.array([0, 0, 0, 1]))
    assert kernel.n_params == 3 and kernel.n_lengthscales == 2
    onehot = np.eye(3) / math.sqrt(2.0)
    X = np.concatenate([onehot[[0, 1, 2, 0]], np.array([[0.2], [0.2], [0.2], [0.7]])], axis=1)
    theta = np.array([math.log(0.8), math.log(0.3), math.log(1.5)])
    K = kernel(theta, X, X)
    unshared = Matern52(4)(np.array([math.log(0.8)] * 3 + [math.log(0.3), math.log(1.5)]), X, X)
    np.testing.assert_allclose(K, unshared)
    assert K[0, 1] == pytest.approx(K[0, 2]) == pytest.approx(K[1, 2])  # any two different choices: equally far
    # the gradient of a shared lengthscale is the sum over its columns
    W = np.random.default_rng(0).standard_normal((4, 4))
    W = W + W.T
    numeric = approx_fprime(theta, lambda t: float((W * kernel(t, X, X)).sum()), 1e-7)
    np.testing.assert_allclose(kernel.grad_contract(theta, X, W), numeric, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="groups must give each of the 4 columns"):
        Matern52(4, groups=np.array([0, 0, 2, 2]))  # index 1 unused


def test_gp_ei_settings_and_contradictions():
    from hpo_kit.objectives.synthetic import BraninMF
    from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher, GPSearcher, GPSearcherConfig, gp_ei_config

    space = BraninMF(max_resource=9).space
    assert gp_ei_config().hyperparameter_prior == "gamma"
    with pytest.raises(ValueError, match="the multi-fidelity GP \\(A-BOHB\\) fits by maximum likelihood"):
        GPMultiFidelitySearcher(space, 0, GPSearcherConfig(hyperparameter_prior="gamma"))
    with pytest.raises(ValueError, match="contradicts mean='exp_decay_sum'"):
        GPMultiFidelitySearcher(space, 0, GPSearcherConfig(hyperparameter_prior="gamma", mean="exp_decay_sum"))
    assert GPSearcher(space, 0).config.hyperparameter_prior == "gamma"  # GP-EI's default
    assert GPMultiFidelitySearcher(space, 0).config.hyperparameter_prior == "none"  # A-BOHB as before
