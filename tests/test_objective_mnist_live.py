"""MnistObjective on tiny synthetic splits: curves, continuation from checkpoints, pickling, errors."""
from __future__ import annotations

import functools
import pickle

import pytest
import torch

from hpo_kit.objectives.base import Objective
from hpo_kit.objectives.mnist_live import (
    MnistObjective,
    clear_splits_cache,
    default_config_to_training,
    default_space,
)
from hpo_kit.train import TrainSettings, check_network, synthetic_splits
from hpo_kit.trial import Evaluation

torch.set_num_threads(1)

# A picklable factory with mnist_splits' signature (n_train, n_val, n_test, seed) -> Splits.
SYNTHETIC = functools.partial(synthetic_splits, noise=3.0)
CONFIG = {"lr": 0.003, "width": 32, "depth": 1, "dropout": 0.1, "batch_size": 32}


def make_objective(tmp_path, **kwargs) -> MnistObjective:
    values = dict(n_train=240, n_val=80, n_test=40, max_resource=5, checkpoint_dir=tmp_path,
                  splits_factory=SYNTHETIC)
    values.update(kwargs)
    return MnistObjective(**values)


def test_is_an_objective_and_reports_a_curve(tmp_path):
    objective = make_objective(tmp_path)
    assert isinstance(objective, Objective)
    result = objective.evaluate(CONFIG, 3, seed=1)
    assert isinstance(result, Evaluation) and result.is_valid
    assert len(result.curve) == 3 and result.loss == result.curve[-1]
    assert 0.0 <= result.info["test_error"] <= 1.0 and result.cost > 0
    assert result.info["epochs_trained"] == 3 and result.info["continued_from"] == 0
    assert result.info["data"].startswith("synthetic")
    assert not list(tmp_path.iterdir())  # no trial_id: nothing saved
    assert objective.evaluate(CONFIG, 3, seed=1).curve == result.curve  # deterministic


def test_continuing_matches_uninterrupted_and_costs_less(tmp_path):
    objective = make_objective(tmp_path)
    full = objective.evaluate(CONFIG, 3, seed=2, trial_id=0)
    first = objective.evaluate(CONFIG, 1, seed=2, trial_id=1)
    assert (tmp_path / "trial_1.pt").exists()
    resumed = objective.evaluate(CONFIG, 3, seed=2, trial_id=1, previous_resource=1)
    assert resumed.curve == full.curve and resumed.curve[:1] == first.curve
    assert resumed.info["test_error"] == full.info["test_error"]
    assert resumed.info["continued_from"] == 1 and resumed.info["epochs_trained"] == 2
    # the continued trial pays for the extra epoch only (checked by what was trained, not by timing)
    bigger = make_objective(tmp_path, n_train=4000)
    bigger.evaluate(CONFIG, 4, seed=2, trial_id=2)
    last = bigger.evaluate(CONFIG, 5, seed=2, trial_id=2, previous_resource=4)
    scratch = bigger.evaluate(CONFIG, 5, seed=2)
    assert last.curve == scratch.curve and last.info["epochs_trained"] == 1
    assert scratch.info["epochs_trained"] == 5
    objective.remove_checkpoint(1)
    assert not (tmp_path / "trial_1.pt").exists()


def test_mismatched_or_missing_checkpoint_starts_over(tmp_path):
    objective = make_objective(tmp_path)
    fresh = objective.evaluate(CONFIG, 2, seed=4)
    objective.evaluate(CONFIG, 1, seed=3, trial_id=7)  # checkpoint of another seed
    other_seed = objective.evaluate(CONFIG, 2, seed=4, trial_id=7, previous_resource=1)
    assert other_seed.info["continued_from"] == 0 and other_seed.curve == fresh.curve
    objective.evaluate({**CONFIG, "lr": 0.01}, 1, seed=4, trial_id=8)  # checkpoint of another config
    other_config = objective.evaluate(CONFIG, 2, seed=4, trial_id=8, previous_resource=1)
    assert other_config.info["continued_from"] == 0 and other_config.curve == fresh.curve
    missing = objective.evaluate(CONFIG, 2, seed=4, trial_id=99, previous_resource=1)
    assert missing.info["continued_from"] == 0 and missing.curve == fresh.curve
    no_dir = make_objective(tmp_path, checkpoint_dir=None).evaluate(CONFIG, 2, seed=4, trial_id=1, previous_resource=1)
    assert no_dir.info["continued_from"] == 0 and no_dir.curve == fresh.curve


def test_pickles_small_and_loads_data_once_per_process(tmp_path):
    clear_splits_cache()
    calls = []

    def counting_factory(n_train, n_val, n_test, seed):
        calls.append(seed)
        return SYNTHETIC(n_train, n_val, n_test, seed)

    objective = make_objective(tmp_path, splits_factory=SYNTHETIC)
    size_before = len(pickle.dumps(objective))
    objective.evaluate(CONFIG, 1, seed=0)
    assert len(pickle.dumps(objective)) == size_before < 100_000  # the data is not shipped along
    clone = pickle.loads(pickle.dumps(objective))
    assert clone.splits() is objective.splits()  # same process: served from the cache
    counting = make_objective(tmp_path, splits_factory=counting_factory)
    counting.evaluate(CONFIG, 1, seed=0)
    counting.evaluate(CONFIG, 1, seed=1)
    assert calls == [0]  # the data seed, once


def test_default_space_maps_to_valid_networks():
    for network in ("mlp", "cnn"):
        space = default_space(network, seed=0)
        configs = [dict(c) for c in space.sample_configuration(30)] + [dict(space.get_default_configuration())]
        for config in configs:
            layers, settings = default_config_to_training(config)
            assert isinstance(settings, TrainSettings)
            assert check_network(layers)  # valid for 1x28x28 inputs
            assert any(layer["type"] == "conv" for layer in layers) == (network == "cnn")
    with pytest.raises(ValueError, match="network must be 'mlp' or 'cnn'"):
        default_space("resnet")


def test_cnn_config_trains(tmp_path):
    objective = make_objective(tmp_path, space=default_space("cnn"), max_resource=2)
    result = objective.evaluate({**CONFIG, "filters": 4, "depth": 2}, 2, seed=0, trial_id=0)
    assert len(result.curve) == 2 and result.info["n_parameters"] > 0


def test_schedule_horizon_is_max_resource(tmp_path):
    objective = make_objective(tmp_path, max_resource=7)
    _, settings = objective.training_for(CONFIG)
    assert settings.max_epochs == 7


@pytest.mark.parametrize("kwargs, message", [
    ({"resource": 0}, r"resource must be an integer in \[1, 5\]"),
    ({"resource": 6}, r"resource must be an integer in \[1, 5\]"),
    ({"resource": 2, "previous_resource": 3}, r"previous_resource must be an integer in \[0, resource=2\]"),
])
def test_bad_resources(tmp_path, kwargs, message):
    objective = make_objective(tmp_path)
    with pytest.raises(ValueError, match=message):
        objective.evaluate(CONFIG, seed=0, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_resource": 3, "max_resource": 2}, r"min_resource \(3\) must be <= max_resource \(2\)"),
    ({"n_train": 0}, "n_train must be an integer >= 1"),
    ({"data_seed": -1}, "data_seed must be an integer >= 0"),
    ({"space": {"lr": (0.1, 1)}}, "space must be a ConfigSpace ConfigurationSpace"),
])
def test_bad_construction(tmp_path, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_objective(tmp_path, **kwargs)
