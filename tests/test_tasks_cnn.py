"""The 16-hyperparameter CNN task: space, shape plan and repairs, failures, determinism, engine runs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import Configuration
from torch import nn

from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.searchers.base import Searcher
from hpo_kit.spaces import UnitCubeEncoder
from hpo_kit.tasks import get_task
from hpo_kit.tasks.cnn_task import CNN_DEFAULTS, CNN_HP_ORDER, build_cnn, cnn_space, plan_network
from hpo_kit.train.networks import InvalidNetwork
from hpo_kit.tuner import run_hpo

TINY = {"n_train": 100, "n_val": 50, "n_test": 50, "max_epochs": 2, "download": False}
SMALL_NET = dict(CNN_DEFAULTS, conv1_channels=8, conv2_channels=8, fc1_units=16, fc2_units=16, batch_size=50)
#: shrinks 28 -> 8 -> 2 -> 1 -> 1: conv2's 7x7 kernel gets a 1x1 input after padding 3 ... see the plan test
SHRINKING = dict(SMALL_NET, conv1_kernel=7, conv1_stride=3, pool1_kernel=4, pool1_stride=3, conv2_kernel=2,
                 conv2_stride=3, pool2_kernel=4, pool2_stride=1)


@pytest.fixture(scope="module")
def task():
    return get_task("cnn_mnist", 0, **TINY)


def test_space_has_the_papers_16_hyperparameters():
    space = cnn_space()
    assert len(list(space.values())) == 16 and set(space.keys()) == set(CNN_HP_ORDER) and len(CNN_HP_ORDER) == 16
    for block in (1, 2):
        assert list(space[f"pool{block}_type"].choices) == ["max", "avg"]
        for part in ("conv", "pool"):
            assert {f"{part}{block}_kernel", f"{part}{block}_stride"} <= set(space.keys())
    assert space["learning_rate"].log and space["batch_size"].log
    Configuration(space, values=CNN_DEFAULTS)


def test_plan_of_hand_worked_configurations():
    plan, repairs = plan_network(CNN_DEFAULTS)
    # conv 5x5 pad 2: 28 -> 28; max 2/2: 14; conv 5x5 pad 2: 14; max 2/2: 7
    assert [layer["out"] for layer in plan] == [28, 14, 14, 7] and repairs == []
    plan, repairs = plan_network(SHRINKING)
    # conv 7/3 pad 3: floor((28+6-7)/3)+1 = 10; pool 4/3: floor((10-4)/3)+1 = 3;
    # conv 2/3 pad 0: floor((3-2)/3)+1 = 1; pool 4 on 1x1 does not fit -> kernel 1: 1
    assert [layer["out"] for layer in plan] == [10, 3, 1, 1]
    assert repairs == ["pool2: kernel 4 -> 1 (input is 1x1), padding 0 -> 0"] and plan[3]["kernel"] == 1
    with pytest.raises(InvalidNetwork, match=r"pool2 kernel 4 \(padding 0\) does not fit its 1x1 input"):
        plan_network(SHRINKING, invalid="fail")
    with pytest.raises(ValueError, match=r"missing \['batch_size'\]"):
        plan_network({k: v for k, v in CNN_DEFAULTS.items() if k != "batch_size"})


def test_every_configuration_of_the_space_builds_after_repair():
    encoder = UnitCubeEncoder(cnn_space())
    rng = np.random.default_rng(0)
    n_repaired = 0
    for x in encoder.sample(rng, 400):
        config = encoder.decode(x)
        plan, repairs = plan_network(config)
        assert min(layer["out"] for layer in plan) >= 1
        n_repaired += bool(repairs)
    assert n_repaired > 0  # the space does contain invalid combinations


def test_avg_pooling_and_deterministic_weights():
    config = dict(SMALL_NET, pool1_type="avg")
    net = build_cnn(config, seed=3)
    assert isinstance(net[2], nn.AvgPool2d) and isinstance(net[5], nn.MaxPool2d)
    again = build_cnn(config, seed=3)
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy()) for a, b in zip(net.parameters(), again.parameters()))


def test_evaluation_is_deterministic_and_reports_repairs(task):
    a = task.objective.evaluate(SMALL_NET, 1, 7)
    b = task.objective.evaluate(SMALL_NET, 1, 7)
    assert a.loss == b.loss and a.info["test_error"] == b.info["test_error"] and a.info["repairs"] == []
    assert 0.0 <= a.loss <= 1.0 and len(a.curve) == 1
    repaired = task.objective.evaluate(SHRINKING, 1, 7)
    assert repaired.info["repairs"] == ["pool2: kernel 4 -> 1 (input is 1x1), padding 0 -> 0"]
    assert task.test_score(SMALL_NET, seed=7) == pytest.approx(1 - task.objective.evaluate(SMALL_NET, 2, 7).info["test_error"])
    assert (task.fidelity.name, task.fidelity.min, task.fidelity.max) == ("epochs", 1, 2)


def test_data_identity_and_description(task):
    text = json.dumps(task.describe()) + task.description
    for path in (str(Path.home()), "/work", "/tmp", ".cache"):
        assert path not in text
    assert "MNIST" in task.data["source"] and task.data["sizes"] == {"train": 100, "val": 50, "test": 50}
    assert "invalid shape combinations: repair" in task.description.lower()


class _Fixed(Searcher):
    def __init__(self, space, configs):
        super().__init__(space, 0)
        self.configs = list(configs)

    def suggest(self):
        return self.configs.pop(0)


def test_fail_policy_records_a_failed_trial_in_the_engine(tmp_path):
    task = get_task("cnn_mnist", 0, **dict(TINY, invalid="fail", max_epochs=1))
    scheduler = FIFOScheduler(_Fixed(task.space, [SHRINKING, SMALL_NET]), 1, 1, max_trials=2)
    result = run_hpo(task.objective, scheduler, SequentialBackend(), tmp_path, seed=0, progress=False)
    events = result.log[result.log.event.isin(["result", "failure"])]
    assert list(events.event) == ["failure", "result"]
    assert events.iloc[0].reason.startswith("InvalidNetwork: pool2 kernel 4 (padding 0) does not fit its 1x1 input")
