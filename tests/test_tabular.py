"""Learning-curve tables: file format, nearest-row lookup, costs, and errors."""
from __future__ import annotations

import numpy as np
import pytest

from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.methods import make_scheduler
from hpo_kit.objectives.base import Objective
from hpo_kit.objectives.tabular import LearningCurveTable, TabularObjective, synthetic_table
from hpo_kit.stopping import StopCriteria
from hpo_kit.trial import Job
from hpo_kit.tuner import run_hpo


def small_table(**overrides) -> LearningCurveTable:
    # Two hyperparameters: lr on a log scale in [1e-3, 1], momentum linear in [0, 1].
    arrays = dict(
        names=["lr", "momentum"], lower=[1e-3, 0.0], upper=[1.0, 1.0], log=[True, False],
        X=[[1e-3, 0.5], [0.03, 0.5], [1.0, 0.5]],
        val_error=[[0.9, 0.8, 0.7, 0.6], [0.5, 0.4, 0.3, 0.2], [0.7, np.nan, np.nan, np.nan]],
        epoch_time=[[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 10.0, 10.0], [0.5, 0.5, 0.5, 0.5]],
        test_error=[[0.91, 0.81, 0.71, 0.61], [0.51, 0.41, 0.31, 0.21], [0.7, 0.7, 0.7, 0.7]],
    )
    arrays.update(overrides)
    return LearningCurveTable(**arrays)


def test_npz_round_trip_uses_the_documented_array_names(tmp_path):
    table = small_table()
    path = tmp_path / "table.npz"
    table.to_npz(path)
    with np.load(path, allow_pickle=False) as data:   # readable without hpo_kit
        assert sorted(data.files) == sorted(["names", "lower", "upper", "log", "X", "val_error", "epoch_time", "test_error"])
        assert data["names"].tolist() == ["lr", "momentum"]
    again = LearningCurveTable.from_npz(path)
    for name in ("lower", "upper", "log", "X", "val_error", "epoch_time", "test_error"):
        np.testing.assert_array_equal(getattr(again, name), getattr(table, name))
    no_costs = small_table(epoch_time=None, test_error=None)
    no_costs.to_npz(tmp_path / "lean.npz")
    lean = LearningCurveTable.from_npz(tmp_path / "lean.npz")
    assert lean.epoch_time is None and lean.test_error is None


def test_space_and_nearest_row_honour_the_log_scale():
    objective = TabularObjective(small_table())
    assert isinstance(objective, Objective)
    assert (objective.min_resource, objective.max_resource) == (1, 4)
    lr = objective.space["lr"]
    assert lr.log and (lr.lower, lr.upper) == (1e-3, 1.0)
    assert not objective.space["momentum"].log
    # Rows have lr = 0.001, 0.03, 1. In the unit cube of log10(lr) in [-3, 0] they sit at 0, 0.49, 1.
    # lr = 0.3 is at 0.83 on the log scale -> row 2 (a linear scale would pick row 1: |0.3-0.03| < |0.3-1|).
    assert objective.row_of({"lr": 0.3, "momentum": 0.5}) == 2
    # lr = 0.01 is at 0.33 -> row 1 (linearly it is nearest to 0.001, row 0).
    assert objective.row_of({"lr": 0.01, "momentum": 0.5}) == 1
    # momentum counts too: equal lr distance, the momentum decides nothing here, but stays in range
    assert objective.row_of({"lr": 0.002, "momentum": 0.0}) == 0
    assert [c["lr"] for c in objective.candidates()] == [1e-3, 0.03, 1.0]


def test_evaluate_reads_loss_cost_curve_and_test_error():
    objective = TabularObjective(small_table())
    config = {"lr": 1e-3, "momentum": 0.5}
    fresh = objective.evaluate(config, 3, seed=0)
    assert fresh.loss == 0.7 and fresh.cost == 6.0 and fresh.curve == (0.9, 0.8, 0.7)
    assert {k: v for k, v in fresh.info.items() if k != "epoch_errors"} == {"row": 0, "test_error": 0.71}
    assert fresh.info["epoch_errors"] == list(fresh.curve)   # a fresh trial reports epochs 1..resource
    continued = objective.evaluate(config, 4, seed=0, previous_resource=1)
    assert continued.loss == 0.6 and continued.cost == 2.0 + 3.0 + 4.0
    assert continued.info["epoch_errors"] == [0.8, 0.7, 0.6]    # epochs 2..4: the ones this job trained
    with pytest.raises(ValueError, match=r"resource must be an integer in \[1, 4\]"):
        objective.evaluate(config, 5, seed=0)
    with pytest.raises(ValueError, match="previous_resource"):
        objective.evaluate(config, 2, seed=0, previous_resource=2)
    with pytest.raises(ValueError, match="lacks hyperparameter 'momentum'"):
        objective.evaluate({"lr": 0.1}, 1, seed=0)


def test_exact_mode_accepts_only_table_rows():
    objective = TabularObjective(small_table(), mode="exact")
    assert objective.evaluate({"lr": 0.03, "momentum": 0.5}, 1, seed=0).loss == 0.5
    with pytest.raises(ValueError, match="not a row of the table"):
        objective.evaluate({"lr": 0.031, "momentum": 0.5}, 1, seed=0)
    with pytest.raises(ValueError, match="mode must be one of"):
        TabularObjective(small_table(), mode="interpolate")


@pytest.mark.parametrize("overrides, message", [
    (dict(lower=[0.0, 0.0]), "log-scale hyperparameters need lower > 0"),
    (dict(upper=[1.0, 0.0]), "lower < upper"),
    (dict(X=[[2.0, 0.5], [0.03, 0.5], [1.0, 0.5]]), "within"),
    (dict(val_error=[[0.1, 0.2]]), "val_error must have shape"),
    (dict(epoch_time=[[1.0]]), "epoch_time must have the shape"),
    (dict(names=["lr", "lr"]), "distinct"),
])
def test_invalid_tables_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        small_table(**overrides)


def test_simulator_needs_costs(tmp_path):
    objective = TabularObjective(small_table(epoch_time=None))
    assert not objective.has_costs
    with pytest.raises(ValueError, match="reports no evaluation costs"):
        SimulatorBackend(2).start(objective, 0)
    scheduler = make_scheduler("random", objective.space, 1, 4, seed=0)
    with pytest.raises(ValueError, match="has_costs is False"):
        run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path, seed=0,
                stop=StopCriteria(max_evaluations=3), progress=False)
    assert not (tmp_path / "trials.jsonl").exists()     # refused before anything was written
    # costs missing only for some epochs: the table says so up front too
    partial = small_table(epoch_time=[[1.0, np.nan, 3.0, 4.0], [1.0] * 4, [1.0] * 4])
    assert not TabularObjective(partial).has_costs


def test_simulator_rejects_a_nan_cost_reported_at_run_time():
    class NoCostObjective(TabularObjective):
        has_costs = True  # claims costs but returns NaN

    backend = SimulatorBackend(1)
    objective = NoCostObjective(small_table(epoch_time=None))
    backend.start(objective, 0)
    with pytest.raises(ValueError, match="cost=nan"):
        backend.submit(Job(0, {"lr": 0.03, "momentum": 0.5}, 1))


def test_diverged_curves_become_failures_in_a_simulated_run(tmp_path):
    table = synthetic_table(n_configs=200, n_epochs=9, seed=0)
    table.val_error[::4, 2:] = np.nan          # every 4th configuration diverges after 2 epochs
    objective = TabularObjective(table)
    scheduler = make_scheduler("asha-promotion", objective.space, 1, 9, seed=1)
    result = run_hpo(objective, scheduler, SimulatorBackend(4), tmp_path, seed=0,
                     stop=StopCriteria(max_evaluations=150), progress=False)
    log = result.log
    failures = log[log.event == "failure"]
    assert (failures.reason == "loss is nan").all()
    # a failure is reported exactly when the nearest row is NaN at that epoch
    results = log[log.event.isin(["result", "failure"])]
    for row in results.itertuples():
        config = {"learning_rate": row.config_learning_rate, "width": row.config_width, "dropout": row.config_dropout}
        expected_nan = np.isnan(table.val_error[objective.row_of(config), row.resource - 1])
        assert (row.event == "failure") == expected_nan
    assert result.n_evaluations == 150
    assert len(failures) > 0 and (log.event == "result").sum() > 0
