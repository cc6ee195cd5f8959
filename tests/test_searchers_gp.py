"""GP searchers: random start, target resource, pending fantasies, refit schedule, validation."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from ConfigSpace import Configuration

from hpo_kit.objectives.synthetic import BraninMF, MixedSpaceMF
from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher, GPSearcher, GPSearcherConfig
from hpo_kit.searchers.random_search import RandomSearcher

BRANIN = BraninMF()


def run_sequential(searcher, objective, n, resource=None):
    resource = resource or objective.max_resource
    for t in range(n):
        config = searcher.suggest()
        searcher.on_result(t, config, resource, objective.evaluate(config, resource, 0).loss)
    return searcher


def cube_distance(encoder, a, b):
    return float(np.linalg.norm(encoder.impute(encoder.encode(a)) - encoder.impute(encoder.encode(b))))


def test_starts_like_random_search_then_uses_the_model():
    config = GPSearcherConfig(init_random=5)
    gp, rs = GPSearcher(BRANIN.space, 4, config), RandomSearcher(BRANIN.space, 4)
    for t in range(5):
        suggestion = gp.suggest()
        assert suggestion == rs.suggest()
        gp.on_result(t, suggestion, 81, BRANIN.evaluate(suggestion, 81, 0).loss)
    assert gp.theta is None
    gp.suggest()
    assert gp.theta is not None  # the model was fitted


def test_pending_job_at_the_chosen_point_changes_the_suggestion():
    """A job pending at exactly the point EI would pick must move the suggestion elsewhere: given
    the fantasies there, the GP's variance at that point collapses and EI with it. How far it moves
    depends on the EI landscape, so the distance is judged over several seeds (median)."""
    moves = []
    for seed in range(8):
        searcher = run_sequential(GPSearcher(BRANIN.space, seed, GPSearcherConfig(init_random=8)),
                                  BRANIN, 25)
        twin = copy.deepcopy(searcher)  # same data, same random state
        plain = searcher.suggest()
        twin.on_pending(99, plain, 81)
        spread = twin.suggest()
        assert spread != plain
        moves.append(cube_distance(searcher.encoder, spread, plain))
        # once the pending job fails it no longer matters
        twin.on_failure(99, plain, 81)
        assert twin._pending == {}
    assert np.median(moves) > 0.1, moves


def test_multi_fidelity_target_resource_and_pending_bookkeeping():
    searcher = GPMultiFidelitySearcher(BRANIN.space, 0, GPSearcherConfig(init_random=4),
                                       max_resource=81)
    assert searcher.target_resource() is None
    rng = np.random.default_rng(0)
    t = 0
    for resource, count in [(1, 9), (3, 4), (9, 2)]:  # d = 2 -> a target needs 3 results
        for _ in range(count):
            config = {"x1": float(rng.uniform(-5, 10)), "x2": float(rng.uniform(0, 15))}
            searcher.on_pending(t, config, resource)
            searcher.on_result(t, config, resource, BRANIN.evaluate(config, resource, 0).loss)
            t += 1
    assert searcher.target_resource() == 3
    assert searcher._pending == {}
    searcher.on_pending(50, {"x1": 0.0, "x2": 1.0}, 9)
    searcher.on_result(50, {"x1": 0.0, "x2": 1.0}, 3, 5.0)  # an intermediate result: still pending
    assert 50 in searcher._pending
    searcher.on_pending(51, {"x1": 1.0, "x2": 1.0}, 3)
    config = searcher.suggest()
    Configuration(BRANIN.space, values=config)
    searcher.on_result(50, {"x1": 0.0, "x2": 1.0}, 9, 4.0)
    assert set(searcher._pending) == {51}
    assert searcher.target_resource() == 9  # 9 now has 3 results


def test_same_seed_same_suggestions_on_a_conditional_space():
    objective = MixedSpaceMF()
    runs = []
    for _ in range(2):
        searcher = GPMultiFidelitySearcher(
            objective.space, 1, GPSearcherConfig(init_random=6, n_random_candidates=300),
            max_resource=objective.max_resource,
        )
        configs = []
        for t in range(12):
            config = searcher.suggest()
            resource = 3 if t % 2 else 9
            searcher.on_result(t, config, resource, objective.evaluate(config, resource, 0).loss)
            assert ("momentum" in config) == (config["optimizer"] == "sgd")
            configs.append(config)
        runs.append(configs)
    assert runs[0] == runs[1]


def test_hyperparameters_are_refitted_every_k_observations():
    config = GPSearcherConfig(init_random=5, refit_every=3, n_random_candidates=200)
    searcher = run_sequential(GPSearcher(BRANIN.space, 0, config), BRANIN, 6)
    first = searcher.theta.copy()
    for t in range(2):  # 7 and 8 observations: fewer than 3 new since the fit at 6
        config_ = searcher.suggest()
        searcher.on_result(100 + t, config_, 81, BRANIN.evaluate(config_, 81, 0).loss)
        np.testing.assert_array_equal(searcher.theta, first)
    run_sequential(searcher, BRANIN, 2)
    assert not np.array_equal(searcher.theta, first)


def test_non_finite_losses_are_not_modelled():
    searcher = GPSearcher(BRANIN.space, 0)
    searcher.on_pending(0, {"x1": 0.0, "x2": 0.0}, 81)
    searcher.on_result(0, {"x1": 0.0, "x2": 0.0}, 81, math.inf)
    assert searcher.n_observations == 0 and searcher._pending == {}


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="n_fantasies must be an integer >= 1"):
        GPSearcher(BRANIN.space, 0, GPSearcherConfig(n_fantasies=0))
    with pytest.raises(ValueError, match="local_std must be a number > 0"):
        GPSearcher(BRANIN.space, 0, GPSearcherConfig(local_std=0.0))
    with pytest.raises(ValueError, match="max_resource must be None or an integer >= 1"):
        GPMultiFidelitySearcher(BRANIN.space, 0, max_resource=0)
    with pytest.raises(ValueError, match="min_points_at_target"):
        GPSearcher(BRANIN.space, 0, GPSearcherConfig(min_points_at_target=0))


def test_refits_become_rarer_as_data_grows():
    config = GPSearcherConfig(init_random=4, refit_every=1, refit_growth=0.5, n_random_candidates=100)
    searcher = run_sequential(GPSearcher(BRANIN.space, 0, config), BRANIN, 4)
    fitted_at = []
    for t in range(12):  # suggest with 4, 5, ..., 15 observations
        config_ = searcher.suggest()
        if searcher._n_at_fit not in fitted_at:
            fitted_at.append(searcher._n_at_fit)
        searcher.on_result(100 + t, config_, 81, BRANIN.evaluate(config_, 81, 0).loss)
    assert fitted_at == [4, 6, 9, 14]  # each refit waits for half the previous count


def test_cached_factor_gives_the_same_suggestions_as_refactorising():
    """The searcher's speed-ups (Cholesky factor kept and grown between suggestions, fantasies by
    a block update) must not change what it suggests: compare with a twin that refactorises."""
    config = GPSearcherConfig(init_random=6, refit_every=5, n_random_candidates=200)
    fast = GPMultiFidelitySearcher(BRANIN.space, 3, config, max_resource=81)
    slow = GPMultiFidelitySearcher(BRANIN.space, 3, config, max_resource=81)
    grown = 0
    for t in range(16):
        before = (fast._factor, None if fast._factor is None else fast._factor.L.shape[0])
        slow._factor = None  # forces a factorisation from scratch
        suggestion = fast.suggest()
        assert slow.suggest() == suggestion
        if fast._factor is not None and fast._factor is before[0]:
            assert fast._factor.n_refactorisations == 1
            grown += fast._factor.L.shape[0] > before[1]
        resource = (1, 3, 9)[t % 3]
        for searcher in (fast, slow):
            searcher.on_pending(t, suggestion, resource)  # stays pending while others run
            if t >= 2:  # the job started two steps ago finishes
                old = t - 2
                config_old = searcher.encoder.decode(searcher._pending[old][0])
                loss = BRANIN.evaluate(config_old, searcher._pending[old][1], 0).loss
                searcher.on_result(old, config_old, searcher._pending[old][1], loss)
    assert grown >= 3  # the cache was used: rows were appended between refits
