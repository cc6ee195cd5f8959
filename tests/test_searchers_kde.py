"""BOHB's KDE searcher: split sizes, bandwidth rules, budget choice, densities, behaviour."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.objectives.synthetic import MixedSpaceMF
from hpo_kit.searchers.kde import KDEConfig, KDESearcher, ProductKDE


def two_d_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add([Float("a", (0.0, 1.0)), Float("b", (0.0, 1.0))])
    return space


def feed(searcher: KDESearcher, budget: int, points: np.ndarray, losses: np.ndarray) -> None:
    for t, (p, loss) in enumerate(zip(points, losses)):
        searcher.on_result(t, {"a": float(p[0]), "b": float(p[1])}, budget, float(loss))


@pytest.mark.parametrize("n, n_good, n_bad", [(5, 3, 3), (20, 3, 17), (40, 6, 34), (100, 15, 85)])
def test_good_bad_split_sizes_and_membership(n, n_good, n_bad):
    searcher = KDESearcher(two_d_space(), 0)  # d = 2 -> min_points_in_model = 3
    rng = np.random.default_rng(n)
    points = rng.random((n, 2))
    losses = rng.permutation(n).astype(float)  # distinct losses 0..n-1
    feed(searcher, 1, points, losses)
    good, bad = searcher.split(1)
    assert len(good) == n_good and len(bad) == n_bad
    order = np.argsort(losses)
    np.testing.assert_allclose(good, points[order[:n_good]])
    np.testing.assert_allclose(bad, points[order[n - n_bad:]])


def test_model_uses_largest_budget_with_enough_points():
    searcher = KDESearcher(two_d_space(), 0)  # a budget needs min_points_in_model + 2 = 5 results
    rng = np.random.default_rng(0)
    assert searcher.model_budget() is None
    feed(searcher, 1, rng.random((20, 2)), rng.random(20))
    feed(searcher, 3, rng.random((6, 2)), rng.random(6))
    feed(searcher, 9, rng.random((4, 2)), rng.random(4))
    assert searcher.model_budget() == 3
    feed(searcher, 9, rng.random((1, 2)), rng.random(1))
    assert searcher.model_budget() == 9
    custom = KDESearcher(two_d_space(), 0, KDEConfig(min_points_in_model=10))
    feed(custom, 1, rng.random((11, 2)), rng.random(11))
    assert custom.model_budget() is None
    feed(custom, 1, rng.random((1, 2)), rng.random(1))
    assert custom.model_budget() == 1


def test_normal_reference_bandwidths_minimum_and_categorical_cap():
    rng = np.random.default_rng(0)
    n = 30
    cont = rng.random(n)
    constant = np.full(n, 0.4)
    cat = (rng.integers(0, 3, size=n) + 0.5) / 3  # 3 choices, bin centres
    data = np.stack([cont, constant, cat], axis=1)
    kde = ProductKDE(data, n_choices=np.array([0, 0, 3]), min_bandwidth=1e-3)
    factor = n ** (-1 / (3 + 4))
    assert kde.bandwidths[0] == pytest.approx(1.06 * cont.std() * factor)
    assert kde.bandwidths[1] == pytest.approx(1e-3)  # all equal -> minimum bandwidth
    idx = np.floor(cat * 3)
    assert kde.bandwidths[2] == pytest.approx(min(1.06 * idx.std() * factor, 2 / 3))
    # a wide categorical spread hits the Aitchison-Aitken cap (k - 1) / k
    spread = np.array([[0.5 / 3], [2.5 / 3]] * 2)  # indices 0, 2, 0, 2: std 1
    assert ProductKDE(spread, np.array([3]), 1e-3).bandwidths[0] == pytest.approx(2 / 3)


def test_density_is_normalised_on_the_cube():
    rng = np.random.default_rng(1)
    data = np.stack([rng.random(12) * 0.2, (rng.integers(0, 4, 12) + 0.5) / 4], axis=1)
    kde = ProductKDE(data, np.array([0, 4]), 1e-3)
    grid = (np.arange(4000) + 0.5) / 4000
    total = 0.0
    for c in range(4):  # categorical dimension: sum over the 4 choices, each of cube width 1/4
        X = np.stack([grid, np.full_like(grid, (c + 0.5) / 4)], axis=1)
        total += np.exp(kde.logpdf(X)).mean()
    assert total == pytest.approx(1.0, abs=1e-3)  # truncated Gaussians renormalised to [0, 1]


def test_samples_follow_the_widened_kernels():
    data = np.array([[0.3, 0.5 / 2]] * 10)  # one location, categorical choice 0 of 2
    kde = ProductKDE(data, np.array([0, 2]), min_bandwidth=0.01)
    rng = np.random.default_rng(0)
    s = kde.sample(rng, 4000, factor=3.0)
    assert s[:, 0].std() == pytest.approx(0.03, rel=0.1)  # min bandwidth 0.01 x factor 3
    assert s[:, 0].mean() == pytest.approx(0.3, abs=0.005)
    assert np.mean(s[:, 1] > 0.5) == pytest.approx(0.03, abs=0.01)  # lambda 0.01 x 3
    assert np.all((s >= 0) & (s <= 1))


def test_suggestions_concentrate_where_good_points_are():
    searcher = KDESearcher(two_d_space(), 0, KDEConfig(random_fraction=0.0))
    rng = np.random.default_rng(0)
    points = rng.random((60, 2))
    losses = np.linalg.norm(points - [0.15, 0.8], axis=1)
    feed(searcher, 1, points, losses)
    configs = [searcher.suggest() for _ in range(30)]
    dist = [math.dist((c["a"], c["b"]), (0.15, 0.8)) for c in configs]
    # random points would be ~0.45 away; l/g favours the good region's side away from bad points
    assert np.median(dist) < 0.25
    assert all(c["a"] < 0.4 and c["b"] > 0.55 for c in configs)


def test_failures_count_as_bad_or_are_ignored():
    space = two_d_space()
    bad_as_inf = KDESearcher(space, 0)
    bad_as_inf.on_failure(0, {"a": 0.1, "b": 0.2}, 3)
    bad_as_inf.on_result(1, {"a": 0.1, "b": 0.2}, 3, float("nan"))
    assert [loss for _, loss in bad_as_inf.observations[3]] == [math.inf, math.inf]
    ignored = KDESearcher(space, 0, KDEConfig(failures_as_bad=False))
    ignored.on_failure(0, {"a": 0.1, "b": 0.2}, 3)
    assert ignored.observations == {}


def test_mixed_conditional_space_seeded_and_valid():
    objective = MixedSpaceMF()
    runs = []
    for _ in range(2):
        searcher = KDESearcher(objective.space, 5, KDEConfig(random_fraction=0.2))
        configs = []
        for t in range(40):
            config = searcher.suggest()
            searcher.on_result(t, config, 81, objective.evaluate(config, 81, 0).loss)
            assert ("momentum" in config) == (config["optimizer"] == "sgd")
            configs.append(config)
        runs.append(configs)
    assert runs[0] == runs[1]


def test_bad_settings_are_rejected():
    space = ConfigurationSpace({"a": (0.0, 1.0), "c": ["x", "y"]})
    with pytest.raises(ValueError, match="top_n_percent must be in"):
        KDESearcher(space, 0, KDEConfig(top_n_percent=0))
    with pytest.raises(ValueError, match="num_samples must be an integer >= 1"):
        KDESearcher(space, 0, KDEConfig(num_samples=0))
    with pytest.raises(ValueError, match="random_fraction"):
        KDESearcher(space, 0, KDEConfig(random_fraction=1.5))
    with pytest.raises(ValueError, match="min_points_in_model"):
        KDESearcher(space, 0, KDEConfig(min_points_in_model=0))
