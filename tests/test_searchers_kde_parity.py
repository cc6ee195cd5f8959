"""BOHB's KDE in HpBandSter-parity mode: N_min >= d + 1, no KDE on <= d points, disjoint good and bad
sets, categorical bandwidths not widened (hpbandster/optimizers/config_generators/bohb.py, 0.7.4)."""
from __future__ import annotations

import numpy as np
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float

from hpo_kit.searchers.kde import KDEConfig, KDESearcher, ProductKDE


def _space(d=5):
    space = ConfigurationSpace()
    for i in range(d):
        space.add(Float(f"x{i}", (0.0, 1.0)))
    return space


def _fill(searcher, n, budget=1, seed=0):
    rng = np.random.default_rng(seed)
    for t in range(n):
        config = {f"x{i}": float(v) for i, v in enumerate(rng.random(5))}
        searcher.on_result(t, config, budget, float(rng.random()))


def test_min_points_raised_to_d_plus_one_only_in_parity_mode():
    with pytest.warns(RuntimeWarning, match="raises it to d \\+ 1"):
        parity = KDESearcher(_space(), 0, KDEConfig(min_points_in_model=2, mode="hpbandster"))
    assert parity.min_points_in_model == 6
    assert KDESearcher(_space(), 0, KDEConfig(min_points_in_model=2)).min_points_in_model == 2


def test_parity_refuses_a_kde_with_n_at_most_d():
    # d = 5, N_min = 6: n_good = 6; the bad set is sorted[6:6 + n_bad] and needs > 5 points -> n >= 12
    parity = KDESearcher(_space(), 0, KDEConfig(mode="hpbandster"))
    kit = KDESearcher(_space(), 0, KDEConfig())
    _fill(parity, 11)
    _fill(kit, 11)
    assert parity.model_budget() is None        # bad set would hold 5 <= d points
    assert kit.model_budget() == 1              # the kit: n >= N_min + 2 = 8
    _fill(parity, 1, seed=1)
    assert parity.model_budget() == 1           # 12 results: 6 good, 6 bad
    good, bad = parity.split(1)
    assert len(good) == 6 and len(bad) == 6


def test_parity_good_and_bad_sets_are_disjoint():
    parity = KDESearcher(_space(), 0, KDEConfig(mode="hpbandster"))
    kit = KDESearcher(_space(), 0, KDEConfig())
    for searcher in (parity, kit):
        _fill(searcher, 20)
    as_set = lambda X: {tuple(row) for row in np.round(X, 12)}
    good, bad = parity.split(1)
    assert len(good) == 6 and len(bad) == 14 and not (as_set(good) & as_set(bad))   # n_bad = max(6, 85 % of 20)
    kit_good, kit_bad = kit.split(1)
    assert len(kit_good) == 6 and len(kit_bad) == 14
    kit10 = KDESearcher(_space(), 0, KDEConfig())
    _fill(kit10, 10)
    g, b = kit10.split(1)
    assert len(as_set(g) & as_set(b)) == 2      # the kit's sets overlap while data are few (the paper's text)


def test_parity_does_not_widen_categorical_bandwidths():
    # one categorical (k = 4) with data 0, 0, 0, 1 -> lambda from the normal-reference rule
    data = np.array([[0.125], [0.125], [0.125], [0.375]])
    kde = ProductKDE(data, np.array([4]), 1e-3)
    lam = float(kde.bandwidths[0])
    assert 0.05 < lam < 0.5          # widened 3x it hits the cap (k-1)/k: the kit keeps the choice w.p. 1/4
    rng = np.random.default_rng(0)
    n = 40_000
    centre = np.floor(kde.points[:, 0]).astype(int)
    for hpb, keep in ((False, 1 - min(3 * lam, 0.75)), (True, 1 - lam + lam / 4)):
        draws = ProductKDE(data, np.array([4]), 1e-3)
        draws.points = np.zeros_like(draws.points)          # every centre is choice 0
        x = draws.sample(rng, n, factor=3.0, hpbandster=hpb)
        kept = np.mean(np.floor(x[:, 0] * 4).astype(int) == 0)
        assert kept == pytest.approx(keep, abs=0.01), (hpb, kept, keep)
    assert centre.tolist() == [0, 0, 0, 1]


def test_parity_mode_suggests_valid_configurations_with_categoricals():
    space = _space(3)
    space.add(Categorical("c", ["a", "b", "c"]))
    searcher = KDESearcher(space, 0, KDEConfig(mode="hpbandster", random_fraction=0.0))
    rng = np.random.default_rng(1)
    for t in range(30):
        config = {"x0": float(rng.random()), "x1": float(rng.random()), "x2": float(rng.random()),
                  "c": str(rng.choice(["a", "b", "c"]))}
        searcher.on_result(t, config, 3, float(rng.random()))
    assert searcher.model_budget() == 3
    for _ in range(5):
        config = searcher.suggest()
        assert config["c"] in ("a", "b", "c") and 0 <= config["x0"] <= 1


def test_mode_is_validated():
    with pytest.raises(ValueError, match="mode must be one of"):
        KDESearcher(_space(), 0, KDEConfig(mode="HpBandSter"))
