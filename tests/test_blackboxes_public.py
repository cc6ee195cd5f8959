"""Loaders of FCNet, LCBench and NAS-Bench-201 on tiny files in those benchmarks' own layouts.

The fixtures (tests/fixtures/blackboxes/, written by make_fixtures.py there) are never downloaded;
each test reads the raw file independently and checks the table against it.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hpo_kit.blackboxes import public
from hpo_kit.objectives.tabular import TabularObjective

FIXTURES = Path(__file__).parent / "fixtures" / "blackboxes"
FCNET = FIXTURES / "fcnet_protein_structure_data.hdf5"
LCBENCH = FIXTURES / "data_2k.json"
NB201 = FIXTURES / "NAS-Bench-201-v1_1-096897_cifar10-valid.json"


# ------------------------------------------------------------------------------------ FCNet
def test_fcnet_rows_match_the_hdf5_groups():
    import h5py

    table = public.load_fcnet(FCNET, seed=2)
    assert table.names.tolist() == [n for n, _, _ in public.FCNET_SPACE]
    assert table.X.shape == (5, 9) and table.n_epochs == 100
    with h5py.File(FCNET, "r") as handle:
        keys = sorted(handle.keys())
        for row, key in enumerate(keys):
            config = json.loads(key)
            x = dict(zip(table.names.tolist(), table.X[row]))
            assert x["n_units_1"] == config["n_units_1"] and x["init_lr"] == pytest.approx(config["init_lr"])
            assert x["activation_fn_1"] == ("tanh", "relu").index(config["activation_fn_1"])
            assert x["lr_schedule"] == ("cosine", "const").index(config["lr_schedule"])
            np.testing.assert_array_equal(table.val_error[row], handle[key]["valid_mse"][2])
            # every epoch costs runtime / 100, as the FCNet readers charge
            np.testing.assert_allclose(table.epoch_time[row], handle[key]["runtime"][2] / 100)
    objective = TabularObjective(table)
    config = objective.candidates()[3]
    evaluation = objective.evaluate(config, 10, seed=0, previous_resource=4)
    assert evaluation.loss == table.val_error[3, 9]
    assert evaluation.cost == pytest.approx(6 * table.epoch_time[3, 0])
    assert table.log[table.names.tolist().index("batch_size")]


def test_fcnet_repetition_and_subset():
    a, b = public.load_fcnet(FCNET, seed=0), public.load_fcnet(FCNET, seed=3)
    assert not np.array_equal(a.val_error, b.val_error)
    sub = public.load_fcnet(FCNET, max_rows=3)
    assert sub.n_configs == 3 and all(any(np.array_equal(r, s) for s in a.X) for r in sub.X)
    np.testing.assert_array_equal(sub.X, public.load_fcnet(FCNET, max_rows=3).X)  # same subset every time
    with pytest.raises(ValueError, match=r"seed must be one of \[0, 1, 2, 3\]"):
        public.load_fcnet(FCNET, seed=4)


def test_fcnet_malformed_files_are_named(tmp_path):
    import h5py

    with pytest.raises(FileNotFoundError, match="fcnet_slice_localization_data.hdf5"):
        public.load_fcnet(tmp_path, dataset="slice_localization")
    bad = tmp_path / "fcnet_protein_structure_data.hdf5"
    bad.write_text("not hdf5")
    with pytest.raises(ValueError, match=f"{bad}.*not a readable HDF5 file"):
        public.load_fcnet(bad)
    with h5py.File(bad, "w") as handle:
        handle.create_group(json.dumps({"n_units_1": 16}))["valid_mse"] = np.zeros((4, 100))
    with pytest.raises(ValueError, match="lacks \\['runtime'\\]"):
        public.load_fcnet(bad)
    with h5py.File(bad, "w") as handle:
        group = handle.create_group("not json")
    with pytest.raises(ValueError, match="not a configuration in JSON"):
        public.load_fcnet(bad)
    shutil.copy(FCNET, bad)
    with h5py.File(bad, "a") as handle:
        key = sorted(handle.keys())[0]
        del handle[key]["runtime"]
        handle[key]["runtime"] = np.ones((4, 100))
    with pytest.raises(ValueError, match=r"expected \(repetitions, epochs\) and \(repetitions,\)"):
        public.load_fcnet(bad)


# ------------------------------------------------------------------------------------ LCBench
def test_lcbench_rows_match_the_json():
    raw = json.loads(LCBENCH.read_text())
    table = public.load_lcbench(LCBENCH, task="adult")
    assert table.names.tolist() == [n for n, *_ in public.LCBENCH_SPACE]
    assert table.n_configs == 3 and table.n_epochs == 50
    for row, cid in enumerate(["0", "1", "2"]):
        run = raw["adult"][cid]
        assert table.X[row, 0] == run["config"]["batch_size"]
        log = run["log"]
        # entry 0 is before training and the last is the final evaluation: epoch e is entry e
        np.testing.assert_allclose(table.val_error[row], 1 - np.array(log["Train/val_accuracy"][1:51]) / 100)
        np.testing.assert_allclose(table.test_error[row], 1 - np.array(log["Train/test_result"][1:51]) / 100)
        np.testing.assert_allclose(table.epoch_time[row].sum(), log["time"][50] - log["time"][0])
        assert np.all(table.epoch_time[row] > 0)
    assert TabularObjective(table).evaluate(TabularObjective(table).candidates()[2], 50, 0).loss == table.val_error[2, -1]


def test_lcbench_task_and_file_errors(tmp_path):
    with pytest.raises(ValueError, match=r"task must name one of .*\['Fashion-MNIST', 'adult'\]"):
        public.load_lcbench(LCBENCH, task="higgs")
    with pytest.raises(ValueError, match="task must name"):
        public.load_lcbench(LCBENCH)
    with pytest.raises(FileNotFoundError, match="data_2k.json"):
        public.load_lcbench(tmp_path)
    bad = tmp_path / "data_2k.json"
    bad.write_text(LCBENCH.read_text()[:500])  # truncated download
    with pytest.raises(ValueError, match=f"{bad} is not valid JSON.*LCBench's layout"):
        public.load_lcbench(bad, task="adult")
    raw = json.loads(LCBENCH.read_text())
    del raw["adult"]["1"]["log"]["Train/test_result"]
    bad.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="config '1'.*Train/test_result"):
        public.load_lcbench(bad, task="adult")
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="does not have LCBench's layout"):
        public.load_lcbench(bad, task="adult")


# ------------------------------------------------------------------------------------ NAS-Bench-201
def test_nb201_rows_match_the_json():
    raw = json.loads(NB201.read_text())
    table = public.load_nb201(NB201, dataset="cifar10_valid", seed=888)
    assert table.names.tolist() == list(public.NB201_EDGES) and table.n_epochs == 200
    assert table.test_error is None
    for row, arch in enumerate(sorted(raw["888"])):
        record = raw["888"][arch]
        ops = [public.NB201_OPS[int(i)] for i in table.X[row]]
        assert arch == "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)
        np.testing.assert_allclose(table.val_error[row, [0, 199]],
                                   [1 - record["eval_acc1es"]["x-valid@0"] / 100,
                                    1 - record["eval_acc1es"]["x-valid@199"] / 100])
        assert table.epoch_time[row, 5] == record["train_times"]["5"]
    assert not np.array_equal(table.val_error, public.load_nb201(NB201, seed=777).val_error)


def test_nb201_arch_strings_and_errors(tmp_path):
    assert public.parse_nb201_arch("|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|"
                                   "none~2|") == [0, 1, 2, 3, 4, 0]
    with pytest.raises(ValueError, match="nor_conv_5x5~0"):
        public.parse_nb201_arch("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ValueError, match=r"seed must be one of \[777, 888\]"):
        public.load_nb201(NB201, seed=999)
    with pytest.raises(FileNotFoundError, match="NAS-Bench-201-v1_1-096897_ImageNet16-120.json"):
        public.load_nb201(tmp_path, dataset="imagenet16_120")
    with pytest.raises(ValueError, match="dataset must be one of"):
        public.load_nb201(NB201, dataset="cifar10")
    # the cifar100 file keeps its per-epoch accuracies under ori-test@<epoch>: the fixture (cifar10-valid) has not
    wrong = tmp_path / "NAS-Bench-201-v1_1-096897_cifar100.json"
    shutil.copy(NB201, wrong)
    with pytest.raises(ValueError, match="'ori-test@0'"):
        public.load_nb201(wrong, dataset="cifar100")


def test_download_hints_name_the_file_and_the_source():
    assert "fcnet_parkinsons_telemonitoring_data.hdf5" in public.download_hint("fcnet_parkinsons_telemonitoring")
    assert "figshare" in public.download_hint("lcbench")
    assert "NAS-Bench-201-v1_1-096897_ImageNet16-120.json" in public.download_hint("nb201_imagenet16_120")
