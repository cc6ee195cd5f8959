"""JointSpaceObjective: trains ShakeResNets of the joint space, continues paused trials exactly."""
from __future__ import annotations

import pickle

import pytest
from ConfigSpace import ConfigurationSpace

from hpo_kit.nas import joint_space
from hpo_kit.nas.joint_space import ARCHITECTURE_NAMES, TRAINING_NAMES
from hpo_kit.nas.objective import JointSpaceObjective, downsample_splits, loss_at_budgets
from hpo_kit.train.synthetic import synthetic_splits


def tiny_splits(n_train: int, n_val: int, n_test: int, seed: int):
    """Learnable 1 x 12 x 12 images (module-level, so objectives using it pickle)."""
    return synthetic_splits(n_train, n_val, n_test, seed, input_shape=(1, 12, 12), noise=1.0)


CONFIG = {**dict(joint_space("smoke").get_default_configuration()),
          "learning_rate": 0.05, "batch_size": 32, "momentum": 0.9, "mixup_alpha": 0.2, "cutout_length": 4,
          "shakedrop_rate": 0.5, "n_branches_1": 2}


def make_objective(tmp_path, **changes) -> JointSpaceObjective:
    settings = dict(scale="smoke", n_train=64, n_val=32, n_test=32, min_resource=1, max_resource=3,
                    checkpoint_dir=tmp_path, splits_factory=tiny_splits)
    return JointSpaceObjective(**{**settings, **changes})


def test_evaluation_reports_curve_and_test_error_and_is_deterministic(tmp_path):
    objective = make_objective(tmp_path)
    result = objective.evaluate(CONFIG, 2, seed=1)
    assert result.loss == result.curve[-1] == result.info["val_curve"][-1]
    assert len(result.info["val_curve"]) == 2 and all(0 <= e <= 1 for e in result.curve)
    assert 0 <= result.info["test_error"] <= 1 and result.info["n_parameters"] > 0
    assert result.info["depth"] == 2 + 2 * 3 and result.info["data"].startswith("synthetic")
    assert objective.evaluate(CONFIG, 2, seed=1).curve == result.curve
    assert not list(tmp_path.iterdir())  # no trial_id: no checkpoint


def test_continuing_a_trial_equals_training_it_in_one_go(tmp_path):
    objective = make_objective(tmp_path)
    whole = objective.evaluate(CONFIG, 3, seed=5)
    first = objective.evaluate(CONFIG, 1, seed=5, trial_id=0)
    assert (tmp_path / "trial_0.pt").exists()
    rest = objective.evaluate(CONFIG, 3, seed=5, trial_id=0, previous_resource=1)
    assert rest.info["continued_from"] == 1 and rest.info["epochs_trained"] == 2
    assert rest.curve == whole.curve and first.curve == whole.curve[:1]
    assert rest.info["test_error"] == whole.info["test_error"]
    # a checkpoint of another configuration is not continued
    objective.evaluate({**CONFIG, "learning_rate": 0.01}, 1, seed=5, trial_id=1)
    other = objective.evaluate(CONFIG, 3, seed=5, trial_id=1, previous_resource=1)
    assert other.info["continued_from"] == 0 and other.curve == whole.curve


def test_fixed_values_complete_configurations_of_a_sub_space(tmp_path):
    joint = joint_space("smoke")
    arch_only = ConfigurationSpace(seed=0)
    arch_only.add(*(joint[n] for n in ARCHITECTURE_NAMES))
    fixed = {n: CONFIG[n] for n in TRAINING_NAMES}
    objective = make_objective(tmp_path, space=arch_only, fixed_values=fixed)
    arch = {n: CONFIG[n] for n in ARCHITECTURE_NAMES}
    assert objective.full_config(arch) == make_objective(tmp_path).full_config(CONFIG)
    assert objective.evaluate(arch, 1, seed=0).curve == make_objective(tmp_path).evaluate(CONFIG, 1, seed=0).curve
    with pytest.raises(ValueError, match="fixed_values holds fixed"):
        objective.full_config(CONFIG)
    with pytest.raises(ValueError, match="both searched"):
        make_objective(tmp_path, fixed_values={"learning_rate": 0.1})
    with pytest.raises(ValueError, match="neither in space nor in fixed_values"):
        make_objective(tmp_path, space=arch_only)
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        make_objective(tmp_path, fixed_values={"dropout": 0.1})


def test_downsampling_pools_images_and_shrinks_cutout_with_them(tmp_path):
    objective = make_objective(tmp_path, downsample=2)
    splits = objective.splits()
    assert splits.input_shape == (1, 6, 6) and "average-pooled 2x2" in splits.source
    assert objective.training_for(CONFIG)[1].cutout_length == 2  # 4 pixels of the original image
    assert make_objective(tmp_path).training_for(CONFIG)[1].cutout_length == 4
    assert 0 <= objective.evaluate(CONFIG, 1, seed=0).loss <= 1
    full = tiny_splits(8, 4, 4, 0)
    assert downsample_splits(full, 1) is full
    with pytest.raises(ValueError, match="below 4x4"):
        downsample_splits(full, 4)
    with pytest.raises(ValueError, match="downsample must be an integer >= 1"):
        downsample_splits(full, 0)


def test_settings_follow_the_configuration_with_the_horizon_at_max_resource(tmp_path):
    full, settings = make_objective(tmp_path, max_resource=7).training_for(CONFIG)
    assert full == CONFIG
    assert (settings.optimizer, settings.nesterov, settings.lr_schedule) == ("sgd", True, "cosine")
    assert settings.max_epochs == 7 and settings.lr == 0.05 and settings.batch_size == 32


@pytest.mark.parametrize("changes, error, match", [
    ({"dataset": "svhn"}, ValueError, "dataset must be one of"),
    ({"scale": "huge"}, ValueError, "scale must be one of"),
    ({"downsample": 0}, ValueError, "downsample must be an integer >= 1"),
    ({"config_to_training": lambda c: c}, ValueError, "do not pass config_to_training"),
    ({"device": "abacus"}, ValueError, "device"),
    ({"fixed_values": [("learning_rate", 0.1)]}, TypeError, "fixed_values must be a dict"),
    ({"n_train": 0}, ValueError, "n_train must be an integer >= 1"),
])
def test_bad_arguments_are_rejected_before_training(tmp_path, changes, error, match):
    with pytest.raises(error, match=match):
        make_objective(tmp_path, **changes)


def test_bad_resources_and_configurations_are_rejected(tmp_path):
    objective = make_objective(tmp_path)
    with pytest.raises(ValueError, match=r"resource must be an integer in \[1, 3\]"):
        objective.evaluate(CONFIG, 4, seed=0)
    with pytest.raises(ValueError, match="previous_resource"):
        objective.evaluate(CONFIG, 2, seed=0, previous_resource=3)
    with pytest.raises(ValueError, match="n_blocks_1"):
        objective.evaluate({**CONFIG, "n_blocks_1": 5}, 1, seed=0)  # outside the smoke scale's range


def test_cifar10_without_its_files_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HPO_KIT_DATA_ROOT", str(tmp_path))
    objective = JointSpaceObjective(dataset="cifar10", n_train=100, n_val=100, n_test=100)
    with pytest.raises(FileNotFoundError, match="CIFAR-10 not found"):
        objective.splits()


def test_objective_pickles_for_worker_processes(tmp_path):
    objective = make_objective(tmp_path, downsample=2, fixed_values={})
    clone = pickle.loads(pickle.dumps(objective))
    assert clone.evaluate(CONFIG, 1, seed=3).curve == objective.evaluate(CONFIG, 1, seed=3).curve


def test_loss_at_budgets_reads_the_curve():
    assert loss_at_budgets([0.9, 0.5, 0.4], [1, 3]) == {1: 0.9, 3: 0.4}
    assert loss_at_budgets([0.9], [2])[2] != loss_at_budgets([0.9], [2])[2]  # NaN past the end
