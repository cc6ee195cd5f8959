"""``load_blackbox``: one entry point for every benchmark, with clear errors before any file is read."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hpo_kit.blackboxes import mnist_mlp_curves as mc
from hpo_kit.blackboxes import mnist_mlp_large as ml
from hpo_kit.blackboxes.registry import BLACKBOX_NAMES, blackbox_info, load_blackbox
from hpo_kit.objectives.tabular import LearningCurveTable

FIXTURES = Path(__file__).parent / "fixtures" / "blackboxes"


def test_names_cover_the_kit_and_the_public_benchmarks():
    assert {"mnist_mlp", "mnist_mlp_4k", "fcnet_protein_structure", "fcnet_naval_propulsion",
            "fcnet_parkinsons_telemonitoring", "fcnet_slice_localization", "lcbench", "nb201_cifar10_valid",
            "nb201_cifar100", "nb201_imagenet16_120"} == set(BLACKBOX_NAMES)


def test_unknown_name_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown blackbox 'mnist'.*'mnist_mlp'.*'lcbench'"):
        load_blackbox("mnist")


def test_shipped_table_is_the_same_as_load_table():
    if not mc.DEFAULT_TABLE.exists():
        pytest.skip("the shipped table is not in this checkout")
    table = load_blackbox("mnist_mlp")  # default cost: cpu, as notebook 04 uses
    assert isinstance(table, LearningCurveTable)
    assert table.digest() == mc.load_table(cost="cpu").digest()
    assert load_blackbox("mnist_mlp", cost="wall", max_rows=7).digest() == mc.load_table(cost="wall", max_rows=7).digest()


def test_bad_arguments_fail_before_any_file_is_read(tmp_path):
    missing = tmp_path / "absent.hdf5"
    with pytest.raises(ValueError, match=r"cost must be one of \['cpu', 'wall'\]"):
        load_blackbox("mnist_mlp", cost="gpu")
    with pytest.raises(ValueError, match="only wall-clock"):
        load_blackbox("fcnet_protein_structure", cost="cpu", path=missing)
    with pytest.raises(ValueError, match="max_rows"):
        load_blackbox("lcbench", max_rows=0, path=missing)
    with pytest.raises(ValueError, match=r"takes no option\(s\) \['task'\]"):
        load_blackbox("mnist_mlp", task="adult")
    with pytest.raises(ValueError, match="not shipped.*fcnet_tabular_benchmarks"):
        load_blackbox("fcnet_protein_structure")
    with pytest.raises(ValueError, match="NAS-Bench-201-v1_1-096897_cifar100.json"):
        load_blackbox("nb201_cifar100")
    with pytest.raises(FileNotFoundError, match="fcnet_naval_propulsion_data.hdf5"):
        load_blackbox("fcnet_naval_propulsion", path=tmp_path)  # a folder without the file


def test_every_public_name_loads_its_fixture():
    fcnet = load_blackbox("fcnet_protein_structure", path=FIXTURES)
    lcbench = load_blackbox("lcbench", path=FIXTURES / "data_2k.json", task="Fashion-MNIST")
    nb201 = load_blackbox("nb201_cifar10_valid", path=FIXTURES)
    for table, epochs in ((fcnet, 100), (lcbench, 50), (nb201, 200)):
        assert isinstance(table, LearningCurveTable) and table.n_epochs == epochs
        assert blackbox_info("lcbench").costs == ("wall",)


def test_large_table_through_the_registry(tmp_path):
    from hpo_kit.train import synthetic_splits

    settings = ml.ShardSettings(n_configs=4, shard_size=2, max_epochs=2, n_train=30, n_val=10, n_test=10)
    ml.measure_shards(settings, tmp_path, splits=synthetic_splits(30, 10, 10, seed=1), data={"dataset": "test"},
                      max_shards=1, log=lambda _m: None)
    with pytest.warns(ml.IncompleteBlackboxWarning, match="1 of 2 shards"):
        table = load_blackbox("mnist_mlp_4k", path=tmp_path)
    assert table.n_configs == 2
    with pytest.raises(ValueError, match="min_shards"):
        load_blackbox("mnist_mlp_4k", path=tmp_path, min_shards=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.IncompleteBlackboxWarning)
        np.testing.assert_array_equal(load_blackbox("mnist_mlp_4k", path=tmp_path, cost="wall").X, table.X)
