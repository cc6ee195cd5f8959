"""GP machinery: kernels against their formulas, PSD, exact posterior, likelihood fit, EI."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.stats import norm

from hpo_kit.searchers.gp.acquisition import expected_improvement, fantasy_posterior
from hpo_kit.searchers.gp.kernels import ExpDecayResource, Matern52, Matern52ExpDecay
from hpo_kit.searchers.gp.model import (
    GPPosterior,
    IncrementalFactor,
    append_rows,
    default_theta,
    fit_hyperparameters,
    full_bounds,
    neg_log_marginal_likelihood,
)


def matern_by_hand(x, y, lengthscales, variance):
    r = math.sqrt(sum(((a - b) / l) ** 2 for a, b, l in zip(x, y, lengthscales)))
    return variance * (1 + math.sqrt(5) * r + 5 / 3 * r * r) * math.exp(-math.sqrt(5) * r)


def kappa(r, alpha, beta):
    return (beta / (r + beta)) ** alpha


def test_matern_matches_formula():
    rng = np.random.default_rng(0)
    X1, X2 = rng.random((4, 3)), rng.random((5, 3))
    ls, var = np.array([0.3, 1.2, 0.7]), 1.7
    theta = np.log(np.concatenate([ls, [var]]))
    K = Matern52(3)(theta, X1, X2)
    expected = [[matern_by_hand(a, b, ls, var) for b in X2] for a in X1]
    np.testing.assert_allclose(K, expected, rtol=1e-10)
    np.testing.assert_allclose(np.diag(Matern52(3)(theta, X1, X1)), var)


def test_resource_kernel_matches_formula_and_is_psd():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.random((30, 2)), rng.choice([1 / 27, 1 / 9, 1 / 3, 1.0], (30, 1))], 1)
    for alpha, beta, gamma2 in [(1.0, 1.0, 1.0), (0.3, 5.0, 2.0), (20.0, 0.05, 0.5)]:
        theta_r = np.log([alpha, beta, gamma2])
        r = X[:, 2]
        Kr = ExpDecayResource()(theta_r, r, r)
        for i in range(5):
            for j in range(5):
                expected = gamma2 * (kappa(r[i] + r[j], alpha, beta)
                                     - kappa(r[i], alpha, beta) * kappa(r[j], alpha, beta))
                assert Kr[i, j] == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(np.diag(Kr), ExpDecayResource().diag(theta_r, r), rtol=1e-10)
        assert np.linalg.eigvalsh(Kr).min() > -1e-10
        kernel = Matern52ExpDecay(2)
        theta = np.concatenate([np.log([0.4, 0.6, 1.3]), theta_r])
        K = kernel(theta, X, X)
        Kx = Matern52(2)(theta[:3], X, X)
        np.testing.assert_allclose(K, Kx + Kr, rtol=1e-12)  # the sum structure
        assert np.linalg.eigvalsh(K).min() > -1e-10


def test_posterior_equals_closed_form():
    rng = np.random.default_rng(0)
    X, Xs = rng.random((6, 2)), rng.random((4, 2))
    y = rng.standard_normal(6)
    ls, var, mean, noise = np.array([0.5, 0.8]), 1.3, 0.2, 0.05
    theta = np.concatenate([np.log(ls), [math.log(var), mean, math.log(noise)]])
    K = np.array([[matern_by_hand(a, b, ls, var) for b in X] for a in X]) + noise * np.eye(6)
    Ks = np.array([[matern_by_hand(a, b, ls, var) for b in X] for a in Xs])
    Kss = np.array([[matern_by_hand(a, b, ls, var) for b in Xs] for a in Xs])
    mu_expected = mean + Ks @ np.linalg.solve(K, y - mean)
    cov_expected = Kss - Ks @ np.linalg.solve(K, Ks.T)
    post = GPPosterior(Matern52(2), theta, X, y)
    mu, v = post.predict(Xs)
    np.testing.assert_allclose(mu, mu_expected, rtol=1e-9)
    np.testing.assert_allclose(v, np.diag(cov_expected), rtol=1e-8)
    mu_j, cov = post.predict_joint(Xs)
    np.testing.assert_allclose(mu_j, mu_expected, rtol=1e-9)
    np.testing.assert_allclose(cov, cov_expected, atol=1e-10)
    # several target columns share one factorisation: each column is its own posterior
    Y = np.stack([y, 2 * y + 1], axis=1)
    mu2, v2 = GPPosterior(Matern52(2), theta, X, Y).predict(Xs)
    np.testing.assert_allclose(mu2[:, 1], mean + Ks @ np.linalg.solve(K, 2 * y + 1 - mean))
    np.testing.assert_allclose(v2, v)
    # and the log marginal likelihood is the Gaussian log density of y
    nll, _ = neg_log_marginal_likelihood(theta, Matern52(2), X, y)
    sign, logdet = np.linalg.slogdet(K)
    expected = 0.5 * (y - mean) @ np.linalg.solve(K, y - mean) + 0.5 * logdet + 3 * math.log(2 * math.pi)
    assert nll == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("kernel", [Matern52(3), Matern52ExpDecay(3)], ids=["matern", "mf"])
def test_likelihood_gradient_matches_finite_differences(kernel):
    rng = np.random.default_rng(1)
    X = rng.random((25, 3))
    if isinstance(kernel, Matern52ExpDecay):
        X = np.concatenate([X, rng.choice([1 / 9, 1 / 3, 1.0], (25, 1))], axis=1)
    y = np.sin(3 * X.sum(1)) + 0.1 * rng.standard_normal(25)
    lo, hi = np.array(full_bounds(kernel)).T
    for _ in range(3):
        theta = lo + (0.2 + 0.6 * rng.random(len(lo))) * (hi - lo)
        _, grad = neg_log_marginal_likelihood(theta, kernel, X, y)
        numeric = approx_fprime(theta, lambda t: neg_log_marginal_likelihood(t, kernel, X, y)[0], 1e-6)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4 * (1 + np.abs(numeric).max()))


def test_fit_increases_likelihood_and_is_seeded():
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.random((40, 2)), rng.choice([1 / 9, 1 / 3, 1.0], (40, 1))], axis=1)
    y = np.sin(6 * X[:, 0]) + 0.5 * X[:, 1] + 0.3 * np.exp(-3 * X[:, 2])
    y = (y - y.mean()) / y.std()
    kernel = Matern52ExpDecay(2)
    start = neg_log_marginal_likelihood(default_theta(kernel), kernel, X, y)[0]
    theta = fit_hyperparameters(kernel, X, y, np.random.default_rng(0), n_restarts=2)
    assert neg_log_marginal_likelihood(theta, kernel, X, y)[0] < start - 5.0
    again = fit_hyperparameters(kernel, X, y, np.random.default_rng(0), n_restarts=2)
    np.testing.assert_array_equal(theta, again)
    lo, hi = np.array(full_bounds(kernel)).T
    assert np.all((theta >= lo - 1e-12) & (theta <= hi + 1e-12))
    with pytest.raises(ValueError, match="n_restarts must be an integer >= 1"):
        fit_hyperparameters(kernel, X, y, np.random.default_rng(0), n_restarts=0)


def test_expected_improvement_formula():
    mean, std, best = np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.5, 2.0]), 0.3
    z = (best - mean) / std
    expected = std * (z * norm.cdf(z) + norm.pdf(z))
    np.testing.assert_allclose(expected_improvement(mean, std, best), expected, rtol=1e-12)
    # Monte Carlo check of one value
    draws = np.random.default_rng(0).normal(1.0, 0.5, 400_000)
    assert np.maximum(best - draws, 0).mean() == pytest.approx(expected[1], rel=0.02)
    # fantasy layout: (m, F) means with one best per fantasy
    both = expected_improvement(np.stack([mean, mean + 1], 1), std, np.array([best, best + 1]))
    np.testing.assert_allclose(both[:, 0], both[:, 1])


def test_fantasies_shrink_variance_at_pending_points():
    rng = np.random.default_rng(3)
    X = rng.random((10, 2))
    y = np.sin(4 * X[:, 0])
    kernel = Matern52(2)
    theta = np.concatenate([np.log([0.3, 0.3, 1.0]), [0.0, math.log(1e-4)]])
    pending = np.array([[0.9, 0.1]])
    base = GPPosterior(kernel, theta, X, y)
    post, fantasies = fantasy_posterior(base, pending, 7, rng)
    assert fantasies.shape == (7, 1) and np.std(fantasies) > 0
    mean, var = post.predict(pending)
    assert mean.shape == (1, 7)
    np.testing.assert_allclose(mean[0], fantasies[:, 0], atol=1e-2)  # each model fits its fantasy
    assert var[0] < 0.1 * base.predict(pending)[1][0]


def naive_fantasy_models(kernel, theta, X, y, pending, n_fantasies, rng):
    """The textbook route: sample the fantasies from the joint predictive distribution, then
    condition one GP per fantasy by refactorising the (data + pending) covariance from scratch."""
    mean_p, cov_p = GPPosterior(kernel, theta, X, y).predict_joint(pending)
    cov_p = cov_p + math.exp(theta[-1]) * np.eye(len(pending))
    fantasies = mean_p + rng.standard_normal((n_fantasies, len(pending))) @ np.linalg.cholesky(cov_p).T
    inputs = np.concatenate([X, pending])
    return fantasies, [GPPosterior(kernel, theta, inputs, np.concatenate([y, f])) for f in fantasies]


@pytest.mark.parametrize("kernel", [Matern52(2), Matern52ExpDecay(2)], ids=["matern", "mf"])
def test_fast_fantasy_path_equals_refactorising_per_fantasy(kernel):
    rng = np.random.default_rng(4)
    n, p, F = 40, 4, 6
    X = rng.random((n, 2))
    pending = rng.random((p, 2))
    if isinstance(kernel, Matern52ExpDecay):
        X = np.concatenate([X, rng.choice([1 / 9, 1 / 3, 1.0], (n, 1))], axis=1)
        pending = np.concatenate([pending, [[1 / 9], [1 / 3], [1.0], [1.0]]], axis=1)
    y = np.sin(5 * X[:, 0]) + X[:, 1] + 0.05 * rng.standard_normal(n)
    theta = default_theta(kernel)
    theta[-1] = math.log(1e-3)
    candidates = np.concatenate([rng.random((30, 2)), np.ones((30, 1))], axis=1)[:, : X.shape[1]]

    fast, fantasies = fantasy_posterior(GPPosterior(kernel, theta, X, y), pending, F,
                                        np.random.default_rng(7))
    naive_fantasies, models = naive_fantasy_models(kernel, theta, X, y, pending, F,
                                                   np.random.default_rng(7))
    np.testing.assert_allclose(fantasies, naive_fantasies, rtol=1e-9, atol=1e-9)
    mean, var = fast.predict(candidates)
    assert mean.shape == (30, F) and var.shape == (30,)
    best = fantasies.min(axis=1)
    ei_fast = expected_improvement(mean, np.sqrt(var), best).mean(axis=1)
    ei_naive = np.zeros(30)
    for f, model in enumerate(models):
        mean_f, var_f = model.predict(candidates)
        np.testing.assert_allclose(mean[:, f], mean_f, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(var, var_f, rtol=1e-7, atol=1e-10)  # shared by all fantasies
        ei_naive += expected_improvement(mean_f, np.sqrt(var_f), best[f]) / F
    np.testing.assert_allclose(ei_fast, ei_naive, rtol=1e-7, atol=1e-10)
    # nothing pending: the data posterior itself, one column
    same, none = fantasy_posterior(GPPosterior(kernel, theta, X, y), pending[:0], F, rng)
    assert none.shape == (1, 0) and same.Y.shape == (n, 1)


def test_incremental_factor_equals_refactorising():
    rng = np.random.default_rng(5)
    kernel = Matern52ExpDecay(2)
    theta = default_theta(kernel)
    X = np.concatenate([rng.random((60, 2)), rng.choice([1 / 9, 1 / 3, 1.0], (60, 1))], axis=1)
    factor = IncrementalFactor(kernel, theta)
    for n in (10, 11, 25, 60):  # grows by one row and by blocks
        L = factor.update(X[:n])
        K = kernel(theta[: kernel.n_params], X[:n], X[:n]) + math.exp(theta[-1]) * np.eye(n)
        np.testing.assert_allclose(L, np.linalg.cholesky(K), rtol=1e-9, atol=1e-11)
    assert factor.n_refactorisations == 1
    factor.update(X[5:30])  # not an extension of the cached inputs: refactorised
    assert factor.n_refactorisations == 2
    # the block formula itself, on a random SPD matrix
    A = rng.random((9, 9))
    A = A @ A.T + 9 * np.eye(9)
    L = append_rows(np.linalg.cholesky(A[:6, :6]), A[:6, 6:], A[6:, 6:])
    np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=1e-12, atol=1e-12)
