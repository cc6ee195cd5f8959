"""Summaries of run logs over time (hpo_kit.analysis.curves): hand-made logs with known answers,
plus one small simulated grid to check the pieces fit the real engine."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpo_kit.analysis import curves


def make_log(jobs: list[dict]) -> pd.DataFrame:
    """A run log in load_log's layout from job dicts: trial, prev, res, start, end, loss, test, [failed, unfinished]."""
    rows = []
    for j in jobs:
        event = "start" if j["prev"] == 0 else "promote"
        rows.append({"event": event, "trial_id": j["trial"], "resource": j["res"], "previous_resource": j["prev"],
                     "loss": np.nan, "started": np.nan, "time": j["start"], "worker": pd.NA, "info_test_error": np.nan})
        if j.get("unfinished"):
            continue
        rows.append({"event": "failure" if j.get("failed") else "result", "trial_id": j["trial"], "resource": j["res"],
                     "previous_resource": j["prev"], "loss": np.nan if j.get("failed") else j["loss"],
                     "started": j["start"], "time": j["end"], "worker": 0, "info_test_error": j.get("test", np.nan)})
    frame = pd.DataFrame(rows).sort_values("time", kind="stable").reset_index(drop=True)
    return frame


LOG = make_log([
    dict(trial=0, prev=0, res=1, start=0.0, end=1.0, loss=0.5, test=0.55),
    dict(trial=1, prev=0, res=1, start=0.0, end=2.0, loss=0.6, test=0.61),
    dict(trial=0, prev=1, res=3, start=1.0, end=4.0, loss=0.3, test=0.35),
    dict(trial=2, prev=0, res=1, start=2.0, end=3.0, loss=0.9, failed=True),
    dict(trial=3, prev=0, res=1, start=3.0, end=5.0, loss=0.3, test=0.1),   # ties the incumbent: no change
    dict(trial=4, prev=0, res=1, start=4.0, end=9.0, loss=0.1, unfinished=True),
])


def test_incumbent_path_keeps_improvements_and_the_incumbents_test_error():
    path = curves.incumbent_path(LOG)
    assert path["time"].tolist() == [1.0, 4.0]
    assert path["best_loss"].tolist() == [0.5, 0.3]
    assert path["test_error"].tolist() == [0.55, 0.35]  # not the lower test error of the tied trial 3
    assert path["resource"].tolist() == [1, 3]
    # min_resource ignores low-fidelity results
    assert curves.incumbent_path(LOG, min_resource=3)["time"].tolist() == [4.0]


def test_incumbent_on_grid_is_a_step_function_nan_before_the_first_result():
    grid = [0.5, 1.0, 3.9, 4.0, 100.0]
    values = curves.incumbent_on_grid(LOG, grid)
    assert np.isnan(values[0])
    assert values[1:].tolist() == [0.5, 0.5, 0.3, 0.3]
    assert curves.incumbent_on_grid(LOG, grid, "test_error")[1:].tolist() == [0.55, 0.55, 0.35, 0.35]
    with pytest.raises(ValueError, match="column"):
        curves.incumbent_on_grid(LOG, grid, "loss")
    with pytest.raises(ValueError, match="grid"):
        curves.incumbent_on_grid(LOG, [2.0, 1.0])


def test_mean_and_se_ignore_missing_runs():
    mean, se, n = curves.mean_and_se(np.array([[1.0, np.nan], [3.0, 2.0]]))
    assert mean.tolist() == [2.0, 2.0]
    assert n.tolist() == [2, 1]
    assert se[0] == pytest.approx(math.sqrt(2.0) / math.sqrt(2.0))
    assert np.isnan(se[1])


def test_summarise_trajectories_long_table():
    summary = curves.summarise_trajectories({"a": [LOG, LOG], "b": [LOG]}, [1.0, 4.0])
    assert summary["method"].tolist() == ["a", "a", "b", "b"]
    assert summary["mean"].tolist() == [0.5, 0.3, 0.5, 0.3]
    assert summary.loc[0, "se"] == 0.0 and summary.loc[0, "n"] == 2
    with pytest.raises(ValueError, match="no runs"):
        curves.summarise_trajectories({"a": []}, [1.0])


def test_time_and_resource_to_target():
    assert curves.time_to_target(LOG, 0.4) == 4.0
    assert curves.time_to_target(LOG, 0.5) == 1.0
    assert curves.time_to_target(LOG, 0.01) == math.inf
    # finished by t=4: 1 + 1 + 2 (continued 1->3) + 1 (the failure) epochs
    assert curves.resource_to_target(LOG, 0.4) == 5.0
    assert curves.resource_to_target(LOG, 0.01) == math.inf


def test_time_to_target_table_speedups_use_medians():
    fast = make_log([dict(trial=0, prev=0, res=1, start=0.0, end=2.0, loss=0.2)])
    slow = make_log([dict(trial=0, prev=0, res=1, start=0.0, end=8.0, loss=0.2)])
    never = make_log([dict(trial=0, prev=0, res=1, start=0.0, end=1.0, loss=0.9)])
    table = curves.time_to_target_table({"fast": [fast, fast, never], "slow": [slow, slow]}, [0.5],
                                        references=["slow"])
    row = table.set_index("method").loc["fast"]
    assert row["median"] == 2.0 and row["reached"] == 2 and row["runs"] == 3
    assert row["speedup_vs_slow"] == 4.0
    assert table.set_index("method").loc["slow", "speedup_vs_slow"] == 1.0
    resource = curves.time_to_target_table({"fast": [fast]}, [0.5], measure="resource")
    assert resource["median"].tolist() == [1.0]
    with pytest.raises(ValueError, match="reference"):
        curves.time_to_target_table({"fast": [fast]}, [0.5], references=["nope"])
    with pytest.raises(ValueError, match="measure"):
        curves.time_to_target_table({"fast": [fast]}, [0.5], measure="epochs")


def test_utilisation_counts_running_and_abandoned_jobs():
    jobs = curves.busy_intervals(LOG)
    assert len(jobs) == 6
    abandoned = jobs[~jobs["finished"]]
    assert abandoned["start"].tolist() == [4.0] and abandoned["end"].tolist() == [5.0]  # to the last logged time
    # two workers: at t=0.5 trials 0 and 1 run; at t=4.5 trials 3 and 4 run
    u = curves.utilisation_on_grid(LOG, 2, [0.5, 4.5, 6.0], horizon=5.0)
    assert u.tolist() == [1.0, 1.0, 0.0]
    # busy worker-seconds: 1 + 2 + 3 + 1 + 2 + 1 (abandoned to horizon 5) = 10 of 2 x 5
    assert curves.mean_utilisation(LOG, 2, horizon=5.0) == pytest.approx(1.0)
    assert curves.mean_utilisation(LOG, 4, horizon=5.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n_workers"):
        curves.utilisation_on_grid(LOG, 0, [1.0])
    # windows: [0, 2.5) has 1 + 2 + 1.5 + 0.5 busy seconds, [2.5, 5) 1.5 + 0.5 + 2 + 1, [5, 6) none
    windows = curves.utilisation_in_windows(LOG, 4, [0.0, 2.5, 5.0, 6.0], horizon=5.0)
    assert windows == pytest.approx([5.0 / 10.0, 5.0 / 10.0, 0.0])
    with pytest.raises(ValueError, match="edges"):
        curves.utilisation_in_windows(LOG, 4, [1.0])


def test_epochs_spent_over_time_and_per_rung():
    # finished: four 1-epoch jobs (one a failure) and one continuation 1 -> 3; the abandoned job not
    assert curves.epochs_spent(LOG) == 6.0
    assert curves.epochs_on_grid(LOG, [0.5, 2.0, 10.0]).tolist() == [0.0, 2.0, 6.0]
    per_rung = curves.epochs_per_resource(LOG)
    assert per_rung.to_dict() == {1: 4.0, 3: 2.0}


def test_distinct_configurations_counts_repeats():
    log = LOG.copy()
    log["info_row"] = log["trial_id"].map({0: 7, 1: 7, 2: 8, 3: 9, 4: 9})
    # finished first jobs: trials 0, 1, 3 (2 failed, 4 unfinished); rows 7, 7, 9
    assert curves.distinct_configurations(log) == (3, 2)
    log["config_x"] = log["trial_id"].astype(float)
    assert curves.distinct_configurations(log.drop(columns="info_row")) == (3, 3)
    with pytest.raises(ValueError, match="config_"):
        curves.distinct_configurations(LOG)


def test_time_grid():
    grid = curves.time_grid(100.0, 5)
    assert grid[0] == pytest.approx(0.1) and grid[-1] == pytest.approx(100.0)
    assert curves.time_grid(10.0, 3, log_scale=False).tolist() == [0.0, 5.0, 10.0]
    with pytest.raises(ValueError, match="horizon"):
        curves.time_grid(0.0)


def test_simulated_grid_async_keeps_workers_busier_than_sync(tmp_path):
    from hpo_kit.abohb.experiment import SimulationSettings, simulate_grid
    from hpo_kit.objectives.tabular import synthetic_table

    table = synthetic_table(n_configs=60, n_epochs=9, seed=1)
    table.val_error = np.nan_to_num(table.val_error, nan=0.9)  # diverged curves as plain bad losses
    table.to_npz(tmp_path / "t.npz")
    settings = SimulationSettings(table_path=str(tmp_path / "t.npz"), cost="wall", min_resource=1, max_resource=9,
                                  eta=3, horizon=300.0, overlap_brackets=False)  # textbook: idles
    logs = simulate_grid(settings, ["hyperband", "asha-promotion"], [4], n_seeds=2, root=tmp_path / "runs")
    assert set(logs) == {("hyperband", 4), ("asha-promotion", 4)}
    assert all(len(v) == 2 for v in logs.values())
    horizon = 300.0
    sync = np.mean([curves.mean_utilisation(log, 4, horizon) for log in logs[("hyperband", 4)]])
    asynchronous = np.mean([curves.mean_utilisation(log, 4, horizon) for log in logs[("asha-promotion", 4)]])
    assert asynchronous > 0.99
    assert sync < asynchronous
    # same seed, same run, also when the runs are spread over worker processes
    again = simulate_grid(settings, ["asha-promotion"], [4], n_seeds=1, root=tmp_path / "again", n_processes=2)
    pd.testing.assert_frame_equal(again[("asha-promotion", 4)][0], logs[("asha-promotion", 4)][0])
    with pytest.raises(ValueError, match="unknown methods"):
        simulate_grid(settings, ["nope"], [4], 1, tmp_path)
