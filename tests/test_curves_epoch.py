"""Per-epoch results: the tabular objective logs every epoch's error, and incumbents can count them."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpo_kit.analysis import curves
from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.methods import make_scheduler
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.stopping import StopCriteria
from hpo_kit.tuner import run_hpo


def _log(rows):
    return pd.DataFrame(rows, columns=["event", "trial_id", "resource", "previous_resource", "loss", "started", "time",
                                       "info_epoch_errors", "info_test_error"])


def test_epoch_convention_counts_inner_epochs_at_interpolated_times():
    log = _log([
        ("result", 0, 1, 0, 0.50, 0.0, 1.0, [0.50], 0.55),
        ("result", 0, 4, 1, 0.40, 1.0, 4.0, [0.45, 0.30, 0.40], 0.42),   # epoch 3 (0.30) beats epoch 4
    ])
    rung = curves.incumbent_path(log)
    epoch = curves.incumbent_path(log, convention="epoch")
    assert rung["best_loss"].tolist() == [0.5, 0.4]
    assert epoch["best_loss"].tolist() == [0.5, 0.45, 0.30]
    assert epoch["time"].tolist() == [1.0, 2.0, 3.0]            # epochs of a job taken as equally long
    assert epoch["resource"].tolist() == [1, 2, 3]
    assert epoch["test_error"].iloc[0] == 0.55 and math.isnan(epoch["test_error"].iloc[2])  # mid-job: no test error
    assert curves.time_to_target(log, 0.35, convention="epoch") == 3.0
    assert curves.time_to_target(log, 0.35) == math.inf
    with pytest.raises(ValueError, match="convention must be"):
        curves.incumbent_path(log, convention="every")


def test_epoch_convention_on_a_simulated_run_finds_the_best_epoch_trained(tmp_path):
    table = synthetic_table(60, 27, seed=2)
    objective = TabularObjective(table)
    scheduler = make_scheduler("asha-promotion", objective.space, 1, 27, 3, seed=0, candidates=objective.candidates())
    result = run_hpo(objective, scheduler, SimulatorBackend(4), tmp_path / "r", 0,
                     stop=StopCriteria(max_time=2000.0), progress=False)
    log = result.log
    grid = curves.time_grid(2000.0, 50)
    rung = curves.incumbent_on_grid(log, grid)
    epoch = curves.incumbent_on_grid(log, grid, convention="epoch")
    finite = np.isfinite(rung)
    assert np.all(epoch[finite] <= rung[finite] + 1e-12)       # counting more results never hurts
    # the final per-epoch incumbent is the best error among all (row, epoch) pairs trained
    done = log[log["event"] == "result"]
    trained = [table.val_error[int(r.info_row), e - 1] for r in done.itertuples()
               for e in range(int(r.previous_resource) + 1, int(r.resource) + 1)]
    assert curves.incumbent_path(log, convention="epoch")["best_loss"].iloc[-1] == pytest.approx(np.nanmin(trained))
