"""A-BOHB's GP: the constant prior mean and MOBSTER's exp-decay-sum mean mu + gamma * kappa(r), MOBSTER's
defaults, and the data cap that keeps a suggestion's cost flat as observations grow."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.searchers.gp.kernels import ExpDecayResource, Matern52ExpDecay
from hpo_kit.searchers.gp.model import GPPosterior, default_theta, neg_log_marginal_likelihood, prior_mean
from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher, GPSearcher, GPSearcherConfig, mobster_config


def _inputs(n, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    r = rng.choice([1 / 27, 1 / 9, 1 / 3, 1.0], n)
    return np.column_stack([X, r])


def test_constant_mean_is_the_constant_everywhere():
    kernel = Matern52ExpDecay(2)
    theta = default_theta(kernel)
    theta[-2] = 0.7
    assert np.allclose(prior_mean(kernel, theta, _inputs(20)), 0.7)


def test_exp_decay_sum_mean_is_mu_plus_gamma_kappa():
    kernel = Matern52ExpDecay(2, mean="exp_decay_sum")
    theta = default_theta(kernel)
    theta[kernel.matern.n_params:kernel.n_params] = np.log([2.0, 0.5, 0.25])   # alpha, beta, gamma^2
    theta[-2] = -0.3
    Z = _inputs(30)
    r = Z[:, -1]
    kappa = (0.5 / (r + 0.5)) ** 2.0
    assert np.allclose(prior_mean(kernel, theta, Z), -0.3 + 0.5 * kappa)   # gamma = sqrt(0.25)
    # decreasing in the resource, towards mu: the prior expects losses to fall with epochs
    rs = np.linspace(0.01, 1, 50)
    m = prior_mean(kernel, theta, np.column_stack([np.zeros((50, 2)), rs]))
    assert np.all(np.diff(m) < 0) and m[-1] > -0.3
    # it is exactly the mean of gamma * exp(-lambda r), lambda ~ Gamma(alpha, rate beta)
    lam = np.random.default_rng(0).gamma(2.0, 1 / 0.5, 400_000)
    assert 0.5 * np.exp(-lam * 0.3).mean() == pytest.approx(0.5 * ExpDecayResource._kappa(np.array(0.3), 2.0, 0.5),
                                                             rel=5e-3)


def test_likelihood_gradient_includes_the_mean_parameters():
    kernel = Matern52ExpDecay(2, mean="exp_decay_sum")
    Z = _inputs(25, seed=1)
    y = np.sin(3 * Z[:, 0]) + 2 * (1 - Z[:, -1]) + 0.05 * np.random.default_rng(2).standard_normal(25)
    theta = default_theta(kernel) + 0.1 * np.random.default_rng(3).standard_normal(kernel.n_params + 2)
    f = lambda t: neg_log_marginal_likelihood(t, kernel, Z, y)[0]
    numeric = scipy.optimize.approx_fprime(theta, f, 1e-6)
    analytic = neg_log_marginal_likelihood(theta, kernel, Z, y)[1]
    assert np.allclose(analytic, numeric, rtol=1e-3, atol=1e-3)


def test_posterior_uses_the_resource_dependent_mean():
    # with the prior mean falling in r, an unobserved configuration is predicted better at 81 epochs
    # than at 3; the constant mean has no such preference beyond what the kernel transfers
    kernel = Matern52ExpDecay(1, mean="exp_decay_sum")
    theta = default_theta(kernel)
    theta[0] = math.log(0.05)           # short lengthscale
    Z = np.array([[0.0, 1 / 27], [0.02, 1.0]])
    post = GPPosterior(kernel, theta, Z, np.array([1.0, 0.2]))
    far = np.array([[1.0, 1 / 27], [1.0, 1.0]])
    mean, _ = post.predict(far)
    assert mean[0] > mean[1]
    assert post.alpha.shape == (2, 1)
    flat = Matern52ExpDecay(1)
    flat_mean, _ = GPPosterior(flat, theta, Z, np.array([1.0, 0.2])).predict(far)
    assert (mean[0] - mean[1]) > (flat_mean[0] - flat_mean[1])


def _space(d=3):
    space = ConfigurationSpace()
    for i in range(d):
        space.add(Float(f"x{i}", (0.0, 1.0)))
    return space


def _feed(searcher, n, seed=0):
    rng = np.random.default_rng(seed)
    for t in range(n):
        x = rng.random(3)
        r = int(rng.choice([1, 3, 9, 27]))
        searcher.on_result(t, {f"x{i}": float(v) for i, v in enumerate(x)}, r,
                           float((x ** 2).sum() + 1.0 / r + 0.01 * rng.standard_normal()))


def test_mobster_defaults_and_target_fallback():
    cfg = mobster_config()
    assert (cfg.init_random, cfg.n_fantasies, cfg.min_points_at_target, cfg.mean, cfg.target_fallback,
            cfg.max_model_points) == (6, 20, 3, "exp_decay_sum", "smallest", 500)
    assert mobster_config(n_fantasies=4).n_fantasies == 4
    mob = GPMultiFidelitySearcher(_space(), 0, cfg, max_resource=27)
    kit = GPMultiFidelitySearcher(_space(), 0, GPSearcherConfig(), max_resource=27)
    for s in (mob, kit):   # 2 results at 3 epochs, 1 at 9: no rung has 3 (nor d + 1 = 4)
        for t, r in enumerate([3, 3, 9]):
            s.on_result(t, {"x0": 0.1 * t, "x1": 0.5, "x2": 0.5}, r, 0.5)
    assert mob.target_resource() == 3 and kit.target_resource() == 3
    mob.on_result(3, {"x0": 0.9, "x1": 0.5, "x2": 0.5}, 9, 0.4)
    mob.on_result(4, {"x0": 0.8, "x1": 0.5, "x2": 0.5}, 9, 0.4)
    assert mob.target_resource() == 9                     # 3 observations suffice for MOBSTER
    _feed(mob, 40, seed=5)
    assert set(mob.suggest()) == {"x0", "x1", "x2"}
    with pytest.raises(ValueError, match="needs the multi-fidelity GP"):
        GPSearcher(_space(), 0, GPSearcherConfig(mean="exp_decay_sum"))
    with pytest.raises(ValueError, match="mean must be"):
        GPSearcherConfig(mean="linear").validate()


def test_data_cap_bounds_the_model_and_grows_it_incrementally():
    cfg = GPSearcherConfig(max_model_points=40, n_random_candidates=30, n_local_centres=1, n_local_per_centre=5,
                           n_fantasies=2)
    searcher = GPMultiFidelitySearcher(_space(), 0, cfg, max_resource=27)
    _feed(searcher, 100)
    searcher.suggest()
    assert searcher._factor.L.shape[0] == 20 and searcher.n_subset_draws == 1   # a fresh subset: cap // 2
    best = np.argsort(np.where(np.asarray(searcher._r) == searcher.target_resource(), searcher._y, np.inf))[:5]
    assert set(best) <= set(searcher._subset.tolist())     # the top 25 % at the target are kept
    refactorised = searcher._factor.n_refactorisations
    _feed(searcher, 5, seed=9)
    searcher.suggest()
    assert searcher._factor.L.shape[0] == 25 and searcher._factor.n_refactorisations == refactorised  # appended
    _feed(searcher, 30, seed=10)
    searcher.suggest()
    assert searcher._factor.L.shape[0] == 20 and searcher.n_subset_draws == 2     # full: a new subset
    uncapped = GPMultiFidelitySearcher(_space(), 0, GPSearcherConfig(max_model_points=None, n_random_candidates=30),
                                       max_resource=27)
    _feed(uncapped, 100)
    uncapped.suggest()
    assert uncapped._factor.L.shape[0] == 100
    with pytest.raises(ValueError, match="max_model_points"):
        GPSearcherConfig(max_model_points=2).validate()
