"""The 17-d joint space and its mapping to a network and training settings."""
from __future__ import annotations

import math

import pytest
import torch
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

from hpo_kit.nas.joint_space import (
    HYPERPARAMETER_NAMES,
    SCALES,
    JointSpaceScale,
    check_config,
    config_to_model_and_settings,
    config_to_spec,
    joint_space,
    with_scale,
)
from hpo_kit.nas.resnet_shake import ShakeResNet
from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.train.trainer import TrainSettings, train

torch.set_num_threads(1)

# name -> (kind, lower, upper, log): the ranges of the authors' code
PAPER_RANGES = {
    "n_blocks_1": ("int", 1, 16, True), "n_blocks_2": ("int", 1, 16, True), "n_blocks_3": ("int", 1, 16, True),
    "initial_filters": ("int", 8, 32, True),
    "widen_factor_1": ("float", 0.5, 8, True), "widen_factor_2": ("float", 0.5, 4, True),
    "widen_factor_3": ("float", 0.5, 4, True),
    "n_branches_1": ("int", 1, 5, False), "n_branches_2": ("int", 1, 5, False), "n_branches_3": ("int", 1, 5, False),
    "learning_rate": ("float", 1e-3, 1, True), "batch_size": ("int", 32, 128, True),
    "weight_decay": ("float", 1e-5, 1e-3, True), "momentum": ("float", 1e-3, 0.99, False),
    "mixup_alpha": ("float", 0, 1, False), "cutout_length": ("int", 0, 20, False),
    "shakedrop_rate": ("float", 0, 1, False),
}


def tiny_config(**changes) -> dict:
    config = {"n_blocks_1": 1, "n_blocks_2": 1, "n_blocks_3": 1, "initial_filters": 8,
              "widen_factor_1": 1.0, "widen_factor_2": 1.0, "widen_factor_3": 1.0,
              "n_branches_1": 2, "n_branches_2": 1, "n_branches_3": 2,
              "learning_rate": 0.05, "batch_size": 32, "weight_decay": 5e-4, "momentum": 0.9,
              "mixup_alpha": 0.2, "cutout_length": 4, "shakedrop_rate": 0.5}
    return config | changes


def test_paper_space_has_the_17_hyperparameters_with_the_papers_ranges():
    space = joint_space("paper")
    assert sorted(space.keys()) == sorted(PAPER_RANGES) and len(HYPERPARAMETER_NAMES) == 17
    for name, (kind, lower, upper, log) in PAPER_RANGES.items():
        hp = space[name]
        assert isinstance(hp, IntegerHyperparameter if kind == "int" else FloatHyperparameter), name
        assert (hp.lower, hp.upper, hp.log) == (pytest.approx(lower), pytest.approx(upper), log), name


def test_scales_shrink_only_block_and_branch_upper_bounds():
    paper, smoke = joint_space("paper"), joint_space("smoke")
    assert smoke["n_blocks_1"].upper == 2 and smoke["n_branches_3"].upper == 2
    for name in ("initial_filters", "widen_factor_1", "learning_rate", "cutout_length"):
        assert (smoke[name].lower, smoke[name].upper) == (paper[name].lower, paper[name].upper)
    custom = with_scale("workshop", max_blocks=4)
    assert joint_space(custom)["n_blocks_2"].upper == 4 and custom.width_multiplier == SCALES["workshop"].width_multiplier
    with pytest.raises(ValueError, match="scale must be one of"):
        joint_space("huge")
    with pytest.raises(ValueError, match="max_blocks"):
        JointSpaceScale(max_blocks=1)


def test_sampling_is_seeded_and_samples_map_to_working_networks():
    a = [dict(c) for c in joint_space("smoke", seed=3).sample_configuration(4)]
    b = [dict(c) for c in joint_space("smoke", seed=3).sample_configuration(4)]
    assert a == b
    x = torch.randn(2, 1, 28, 28)
    for config in a:
        model, settings = config_to_model_and_settings(config, (1, 28, 28), 10, max_epochs=3, scale="smoke")
        assert model(x).shape == (2, 10)
        assert max(model.spec.stage_widths()) <= SCALES["smoke"].max_channels


def test_config_maps_to_network_and_sgd_nesterov_cosine_settings():
    config = tiny_config(initial_filters=16, widen_factor_1=2.0, widen_factor_2=1.5, widen_factor_3=0.5)
    model, settings = config_to_model_and_settings(config, (3, 32, 32), 10, max_epochs=7,
                                                   settings_overrides={"eval_batch_size": 64})
    assert isinstance(model, ShakeResNet) and isinstance(settings, TrainSettings)
    spec = model.spec
    assert spec.blocks_per_stage == (1, 1, 1) and spec.branches_per_stage == (2, 1, 2)
    assert spec.stage_widths() == (32, 48, 24) and spec.in_channels == 3
    assert spec.shakedrop_rate == 0.5
    assert (settings.optimizer, settings.nesterov, settings.lr_schedule, settings.max_epochs) == ("sgd", True, "cosine", 7)
    assert (settings.lr, settings.batch_size, settings.weight_decay, settings.momentum) == (0.05, 32, 5e-4, 0.9)
    assert (settings.mixup_alpha, settings.cutout_length, settings.eval_batch_size) == (0.2, 4, 64)
    # scale options thin the network without changing the configuration
    thin = config_to_spec(config, (3, 32, 32), 10, scale=with_scale("paper", width_multiplier=0.5, max_channels=20))
    assert thin.stage_widths() == (16, 20, 12)
    # ShakeDrop placement as in the authors' code is selectable
    authors = config_to_spec(config, (3, 32, 32), 10, shakedrop_where="single_branch")
    assert authors.shakedrop_rates()[0] == 0.0 and authors.shakedrop_rates()[1] > 0


def test_integral_floats_and_numpy_numbers_are_accepted():
    import numpy as np

    clean = check_config(tiny_config(n_blocks_1=np.int64(2), batch_size=64.0, momentum=np.float32(0.5)))
    assert clean["n_blocks_1"] == 2 and isinstance(clean["n_blocks_1"], int)
    assert clean["batch_size"] == 64 and isinstance(clean["batch_size"], int)
    assert math.isclose(clean["momentum"], 0.5) and isinstance(clean["momentum"], float)


@pytest.mark.parametrize("config, scale, match", [
    (tiny_config(n_blocks_1=17), "paper", "n_blocks_1 must be in \\[1, 16\\]"),
    (tiny_config(n_blocks_1=3), "smoke", "n_blocks_1 must be in \\[1, 2\\]"),
    (tiny_config(batch_size=40.5), "paper", "batch_size must be an integer"),
    (tiny_config(learning_rate=float("nan")), "paper", "learning_rate must be a finite number"),
    (tiny_config(momentum="0.9"), "paper", "momentum must be a finite number"),
    ({k: v for k, v in tiny_config().items() if k != "momentum"}, "paper", "missing \\['momentum'\\]"),
    (tiny_config(dropout=0.1), "paper", "unknown \\['dropout'\\]"),
])
def test_bad_configurations_are_rejected_naming_the_hyperparameter(config, scale, match):
    with pytest.raises(ValueError, match=match):
        config_to_model_and_settings(config, (1, 28, 28), 10, max_epochs=2, scale=scale)


def test_bad_shapes_and_overrides_are_rejected():
    with pytest.raises(ValueError, match="input_shape"):
        config_to_model_and_settings(tiny_config(), (28, 28), 10, max_epochs=2)
    with pytest.raises(ValueError, match="may not set \\['lr'\\]"):
        config_to_model_and_settings(tiny_config(), (1, 28, 28), 10, max_epochs=2, settings_overrides={"lr": 0.1})
    with pytest.raises(ValueError, match="max_epochs"):
        config_to_model_and_settings(tiny_config(), (1, 28, 28), 10, max_epochs=0)


def test_training_is_reproducible_and_resumable_with_shake_randomness():
    """The trainer seeds the global RNG per epoch; shake/drop draws from it, so resuming is exact."""
    splits = synthetic_splits(48, 16, 16, seed=0)
    config = tiny_config(batch_size=32, cutout_length=3, mixup_alpha=0.3, shakedrop_rate=0.7)

    def fresh():
        torch.manual_seed(0)
        return config_to_model_and_settings(config, splits.input_shape, 10, max_epochs=2, scale="smoke")

    model, settings = fresh()
    straight = train(model, splits, settings, epochs=2, seed=11)
    model, settings = fresh()
    first = train(model, splits, settings, epochs=1, seed=11)
    model, settings = fresh()
    resumed = train(model, splits, settings, epochs=2, seed=11, state=first.state)
    assert resumed.val_errors == straight.val_errors
    for key, value in straight.state.model_state.items():
        assert torch.equal(value, resumed.state.model_state[key]), key
    assert all(0 <= e <= 1 for e in straight.val_errors)
