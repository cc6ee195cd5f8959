"""RandomSearcher: seeded determinism, valid configurations, uniform coverage."""
from __future__ import annotations

import numpy as np
from ConfigSpace import Configuration

from hpo_kit.objectives.synthetic import MixedSpaceMF
from hpo_kit.searchers.base import Searcher
from hpo_kit.searchers.random_search import RandomSearcher


def test_same_seed_same_configurations_different_seed_different():
    space = MixedSpaceMF().space
    a, b, c = RandomSearcher(space, 7), RandomSearcher(space, 7), RandomSearcher(space, 8)
    first = [a.suggest() for _ in range(20)]
    assert first == [b.suggest() for _ in range(20)]
    assert first != [c.suggest() for _ in range(20)]


def test_configurations_are_valid_under_conditions_and_cover_the_space():
    space = MixedSpaceMF().space
    searcher = RandomSearcher(space, 0)
    assert isinstance(searcher, Searcher)
    configs = [searcher.suggest() for _ in range(300)]
    for config in configs:
        Configuration(space, values=config)  # raises if inactive/active hyperparameters are wrong
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
    assert {c["optimizer"] for c in configs} == {"adam", "sgd", "rmsprop"}
    assert {c["width"] for c in configs} == {16, 32, 64, 128, 256}
    assert {c["n_layers"] for c in configs} == {1, 2, 3, 4, 5}
    lrs = np.log10([c["lr"] for c in configs])
    assert lrs.min() < -4.5 and lrs.max() > -0.5  # log-uniform over [1e-5, 1]


def test_results_do_not_change_the_sequence():
    space = MixedSpaceMF().space
    a, b = RandomSearcher(space, 3), RandomSearcher(space, 3)
    for t in range(10):
        config = a.suggest()
        a.on_pending(t, config, 1)
        a.on_result(t, config, 1, 0.5)
        assert config == b.suggest()
