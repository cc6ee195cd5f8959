"""The MNIST MLP learning-curve benchmark: space, measurement (on tiny synthetic data), table file."""
from __future__ import annotations


import numpy as np
import pytest

from hpo_kit.blackboxes import mnist_mlp_curves as mc
from hpo_kit.train import build_network, synthetic_splits, train


@pytest.fixture(scope="module")
def splits():
    return synthetic_splits(48, 24, 24, seed=3)


def test_design_is_in_bounds_typed_and_seeded():
    X = mc.sobol_design(64, seed=1)
    assert X.shape == (64, len(mc.HYPERPARAMETERS))
    for j, hp in enumerate(mc.HYPERPARAMETERS):
        assert X[:, j].min() >= hp.lower and X[:, j].max() <= hp.upper, hp.name
        if hp.integer or hp.is_categorical:
            assert np.all(X[:, j] == np.round(X[:, j])), hp.name
        if hp.is_categorical:  # a balanced design uses every choice
            assert set(X[:, j].tolist()) == set(range(len(hp.choices)))
    np.testing.assert_array_equal(X, mc.sobol_design(64, seed=1))
    assert not np.array_equal(X, mc.sobol_design(64, seed=2))
    np.testing.assert_array_equal(mc.sobol_design(10, seed=1), X[:10])  # a prefix of the balanced design
    with pytest.raises(ValueError, match="n_configs"):
        mc.sobol_design(0, seed=1)


def test_decode_unit_corners_and_log_scale():
    X = mc.decode_unit(np.vstack([np.zeros(9), np.ones(9), np.full(9, 0.5)]))
    lower = [hp.lower for hp in mc.HYPERPARAMETERS]
    upper = [hp.upper for hp in mc.HYPERPARAMETERS]
    np.testing.assert_allclose(X[0], lower)
    np.testing.assert_allclose(X[1], upper)
    lr = mc.NAMES.index("lr")
    assert X[2, lr] == pytest.approx(np.sqrt(1e-4 * 1e-1))  # the middle of a log range is the geometric mean
    with pytest.raises(ValueError, match="columns"):
        mc.decode_unit(np.zeros((2, 3)))


def test_config_round_trip_space_and_training_mapping():
    x = mc.sobol_design(8, seed=0)[5]
    config = mc.row_to_config(x)
    assert config["activation"] in ("relu", "tanh") and config["lr_schedule"] in ("constant", "cosine")
    assert isinstance(config["n_units_1"], int)
    np.testing.assert_allclose(mc.config_to_row(config), x)
    space = mc.mnist_mlp_space()
    assert sorted(space.keys()) == sorted(mc.NAMES)
    __import__("ConfigSpace").Configuration(space, values=config).check_valid_configuration()
    layers, settings = mc.config_to_training(config, max_epochs=7)
    assert [layer["units"] for layer in layers] == [config["n_units_1"], config["n_units_2"]]
    assert settings.max_epochs == 7 and settings.lr == config["lr"] and settings.batch_size == config["batch_size"]
    with pytest.raises(ValueError, match="activation"):
        mc.config_to_row({**config, "activation": "swish"})
    with pytest.raises(ValueError, match="missing"):
        mc.config_to_row({"lr": 0.1})


def test_measured_curve_equals_the_trainer(splits):
    config = mc.row_to_config(mc.sobol_design(4, seed=0)[2])
    curves = mc.measure_config(config, splits, max_epochs=3, seed=11)
    layers, settings = mc.config_to_training(config, max_epochs=3)
    model = build_network(layers, input_shape=splits.input_shape, seed=11)
    reference = train(model, splits, settings, epochs=3, seed=11)
    np.testing.assert_allclose(curves.val_error, reference.val_errors, atol=1e-6)
    assert curves.test_error[-1] == pytest.approx(reference.test_error, abs=1e-6)
    assert len(curves.epoch_time) == len(curves.eval_time) == len(curves.epoch_cpu_time) == 3
    assert all(t > 0 for t in curves.epoch_time)


def test_measurement_resumes_after_an_interruption(tmp_path, splits):
    settings = mc.MeasurementSettings(n_configs=3, max_epochs=2, n_train=48, n_val=24, n_test=24)
    partial = tmp_path / "p.jsonl"
    rows = mc.measure(settings, partial, splits=splits, show_progress=False)
    assert sorted(rows) == [0, 1, 2]
    lines = partial.read_text().splitlines()
    # keep the header and row 0, plus half a line: a kill in the middle of writing row 1
    partial.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])
    resumed = mc.measure(settings, partial, splits=splits, show_progress=False)
    assert sorted(resumed) == [0, 1, 2]
    for i in range(3):
        assert resumed[i]["val_error"] == rows[i]["val_error"]  # deterministic: same numbers again
    other = mc.MeasurementSettings(n_configs=3, max_epochs=3, n_train=48, n_val=24, n_test=24)
    with pytest.raises(ValueError, match="other settings"):
        mc.measure(other, partial, splits=splits, show_progress=False)


def test_table_file_loads_as_learning_curve_table(tmp_path, splits):
    from hpo_kit.objectives.tabular import TabularObjective

    path = mc.build_small_table(tmp_path / "t.npz", splits, n_configs=4, max_epochs=3, seed=0)
    table = mc.load_table(path)
    assert table.X.shape == (4, 9) and table.val_error.shape == (4, 3)
    assert table.names.tolist() == list(mc.NAMES)
    assert np.all((table.val_error >= 0) & (table.val_error <= 1))
    meta = mc.read_metadata(path)
    for key in ("data_source", "torch_version", "cpu_model", "date", "command", "settings", "seeds",
                "categorical_encoding", "timing"):
        assert key in meta, key
    assert meta["categorical_encoding"] == {"activation": ["relu", "tanh"], "lr_schedule": ["constant", "cosine"]}
    with np.load(path) as data:
        cpu = data["epoch_cpu_time"]
    np.testing.assert_array_equal(mc.load_table(path, cost="cpu").epoch_time, cpu)
    assert mc.load_table(path, max_rows=2).n_configs == 2
    objective = TabularObjective(table)
    config = dict(zip(table.names.tolist(), table.X[1]))
    evaluation = objective.evaluate(config, 2, seed=0)
    assert evaluation.loss == table.val_error[1, 1]
    with pytest.raises(ValueError, match="cost"):
        mc.load_table(path, cost="gpu")
    with pytest.raises(FileNotFoundError, match="regenerate"):
        mc.load_table(tmp_path / "missing.npz")


def test_cli_finalizes_a_partial_file(tmp_path, splits, capsys):
    settings = mc.MeasurementSettings(n_configs=2, max_epochs=2, n_train=48, n_val=24, n_test=24)
    out = tmp_path / "table.npz"
    mc.measure(settings, tmp_path / "table.npz.partial.jsonl", splits=splits, show_progress=False)
    assert mc.main(["--out", str(out), "--finalize-only"]) == 0
    assert "2 configurations x 2 epochs" in capsys.readouterr().out
    meta = mc.read_metadata(out)
    assert meta["n_configs_measured"] == 2 and "--finalize-only" in meta["command"]


def test_settings_are_validated():
    with pytest.raises(ValueError, match="n_configs"):
        mc.MeasurementSettings(n_configs=0).validate()
    with pytest.raises(ValueError, match="max_minutes"):
        mc.measure(mc.MeasurementSettings(), "unused.jsonl", max_minutes=0)


def test_shipped_table_has_provenance_and_a_useful_size():
    if not mc.DEFAULT_TABLE.exists():
        pytest.skip("the shipped table is not in this checkout")
    table = mc.load_table()
    meta = mc.read_metadata()
    assert table.n_configs >= 100 and table.n_epochs == meta["settings"]["max_epochs"]
    assert "MNIST" in meta["data_source"]
    assert np.all(np.isfinite(table.epoch_time)) and np.all(table.epoch_time > 0)
    # a benchmark worth tuning on: configurations differ a lot
    final = table.val_error[:, -1]
    assert final.min() < 0.15 and final.max() > 0.5
