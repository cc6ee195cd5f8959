"""The tuner loop, stop criteria, results, and the method factory."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.methods import METHODS, make_scheduler
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.schedulers.async_hyperband import AsynchronousHyperband
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.schedulers.hyperband import SynchronousHyperband
from hpo_kit.stopping import StopCriteria
from hpo_kit.tuner import run_hpo


@pytest.fixture(scope="module")
def objective():
    return TabularObjective(synthetic_table(n_configs=300, n_epochs=27, seed=2))


def simulate(objective, run_dir, method="asha-stopping", n_workers=4, stop=None, seed=0, **options):
    scheduler = make_scheduler(method, objective.space, 1, 27, eta=3, seed=seed, **options)
    return run_hpo(objective, scheduler, SimulatorBackend(n_workers), run_dir, seed=seed, stop=stop or StopCriteria(),
                   progress=False)


def finished(log):
    return log[log.event.isin(["result", "failure"])]


def test_stop_after_a_number_of_evaluations(objective, tmp_path):
    result = simulate(objective, tmp_path, stop=StopCriteria(max_evaluations=37))
    assert result.stop_reason == "max_evaluations" and result.n_evaluations == 37
    assert len(finished(result.log)) == 37


def test_stop_after_total_resource(objective, tmp_path):
    result = simulate(objective, tmp_path, stop=StopCriteria(max_total_resource=200))
    done = finished(result.log)
    spent = (done.resource - done.previous_resource).sum()
    assert result.stop_reason == "max_total_resource" and spent == result.total_resource >= 200
    last = done.iloc[-1]
    assert spent - (last.resource - last.previous_resource) < 200     # stopped at the first job past it


def test_stop_after_simulated_time(objective, tmp_path):
    result = simulate(objective, tmp_path, method="random", stop=StopCriteria(max_time=3600.0))
    times = finished(result.log).time
    assert result.stop_reason == "max_time" and times.iloc[-1] >= 3600.0 > times.iloc[-2]
    assert result.elapsed == times.iloc[-1]
    # four workers all busy all the time: the work done is close to 4 x the time
    assert finished(result.log).cost.sum() > 3.5 * 3600 * 0.9


def test_a_finite_scheduler_ends_the_run(tmp_path):
    table = synthetic_table(n_configs=300, n_epochs=27, seed=2)
    table.val_error[np.isnan(table.val_error)] = 1.0     # no failures: every rung is full
    result = simulate(TabularObjective(table), tmp_path, method="hyperband", n_iterations=1)
    assert result.stop_reason == "scheduler finished"
    done = finished(result.log)
    assert (done.event == "result").all()
    # one Hyperband iteration at R=27, eta=3, rung by rung (bracket 0 is s=3)
    assert done.groupby(["bracket", "resource"]).size().to_dict() == {
        (0, 1): 27, (0, 3): 9, (0, 9): 3, (0, 27): 1, (1, 3): 12, (1, 9): 4, (1, 27): 1,
        (2, 9): 6, (2, 27): 2, (3, 27): 4}
    assert (result.log.event == "completed").sum() == 8


def test_synchronous_hyperband_leaves_workers_idle_and_asha_does_not(objective, tmp_path):
    def idle_fraction(result, n_workers):
        done = finished(result.log)
        busy = (done.time - done.started).sum()
        return 1 - busy / (n_workers * result.elapsed)
    # textbook synchronous Hyperband (no overlapping brackets: the kit's default overlaps, as HpBandSter does)
    sync = simulate(objective, tmp_path / "sync", method="hyperband", n_workers=8, n_iterations=1,
                    overlap_brackets=False)
    asha = simulate(objective, tmp_path / "asha", method="asha-promotion", n_workers=8,
                    stop=StopCriteria(max_time=sync.elapsed))
    # ASHA's only idle time is the end of the horizon, where the job cut at max_time is no result
    assert idle_fraction(sync, 8) > 0.2
    assert idle_fraction(asha, 8) < min(0.1, idle_fraction(sync, 8) / 4)


def test_result_fields(objective, tmp_path):
    result = simulate(objective, tmp_path, method="asha-promotion", stop=StopCriteria(max_evaluations=120))
    results = result.results
    assert set(results.event) == {"result"}
    top = results[results.resource == result.best_resource]
    assert result.best_loss == top.loss.min()
    assert result.best_trial_id == int(top.loc[top.loss.idxmin(), "trial_id"])
    assert set(result.best_config) == {"learning_rate", "width", "dropout"}
    assert result.trajectory.best_loss.is_monotonic_decreasing
    assert list(result.trajectory.columns) == ["time", "best_loss", "trial_id", "resource", "n_evaluations"]
    assert result.run_dir == tmp_path and (tmp_path / "trials.jsonl").exists()


@pytest.mark.parametrize("method", ["random", "hyperband", "bohb", "asha-stopping", "asha-promotion"])
def test_every_fast_method_runs(objective, tmp_path, method):
    result = simulate(objective, tmp_path, method=method, stop=StopCriteria(max_evaluations=60))
    assert result.n_evaluations == 60 and math.isfinite(result.best_loss)


@pytest.mark.parametrize("method", ["abohb-promotion", "gp"])
def test_gp_methods_run(objective, tmp_path, method):
    # init_random=3 so the GP really proposes some of the 8 configurations
    result = simulate(objective, tmp_path, method=method, stop=StopCriteria(max_evaluations=8), n_workers=2,
                      searcher_config={"init_random": 3, "n_random_candidates": 200, "n_restarts": 1})
    assert result.n_evaluations == 8 and math.isfinite(result.best_loss)


def test_make_scheduler_builds_the_documented_pairs():
    space = ConfigurationSpace()
    space.add(Float("x", (0.0, 1.0)))
    kinds = {}
    for method in METHODS:
        scheduler = make_scheduler(method, space, 1, 27, eta=3, seed=0)
        kinds[method] = (type(scheduler).__name__, type(scheduler.searcher).__name__,
                         getattr(scheduler, "variant", None))
    assert kinds == {
        "random": ("FIFOScheduler", "RandomSearcher", None),
        "gp": ("FIFOScheduler", "GPSearcher", None),
        "hyperband": ("SynchronousHyperband", "RandomSearcher", None),
        "bohb": ("SynchronousHyperband", "KDESearcher", None),
        "asha-stopping": ("AsynchronousHyperband", "RandomSearcher", "stopping"),
        "asha-promotion": ("AsynchronousHyperband", "RandomSearcher", "promotion"),
        "abohb-stopping": ("AsynchronousHyperband", "GPMultiFidelitySearcher", "stopping"),
        "abohb-promotion": ("AsynchronousHyperband", "GPMultiFidelitySearcher", "promotion"),
    }
    asha = make_scheduler("asha-promotion", space, 1, 27, brackets=3, max_trials=5)
    assert isinstance(asha, AsynchronousHyperband) and asha.n_brackets == 3 and asha.max_trials == 5
    hb = make_scheduler("hyperband", space, 1, 27, n_iterations=2)
    assert isinstance(hb, SynchronousHyperband) and hb.n_iterations == 2
    assert isinstance(make_scheduler("random", space, 1, 27, max_trials=3), FIFOScheduler)
    # a dict of GP fields overrides GP-EI's own defaults (gp_ei_config), A-BOHB's the bare config's
    gp = make_scheduler("gp", space, 1, 27, searcher_config={"n_fantasies": 4}).searcher.config
    assert (gp.n_fantasies, gp.hyperparameter_prior, gp.refit_every_below) == (4, "gamma", 100)
    mf = make_scheduler("abohb-stopping", space, 1, 27, searcher_config={"n_fantasies": 4}).searcher.config
    assert (mf.n_fantasies, mf.hyperparameter_prior, mf.refit_every_below) == (4, "none", 0)


def test_bad_input_is_rejected_with_clear_errors(objective, tmp_path):
    space = objective.space
    with pytest.raises(ValueError, match=r"method must be one of \['random', 'gp', 'hyperband', 'bohb'"):
        make_scheduler("tpe", space, 1, 27)
    with pytest.raises(ValueError, match="eta must be an integer >= 2, got 1"):
        make_scheduler("hyperband", space, 1, 27, eta=1)
    with pytest.raises(ValueError, match="min_resource must be <= max_resource"):
        make_scheduler("asha-promotion", space, 28, 27)
    with pytest.raises(TypeError, match="space must be a ConfigSpace.ConfigurationSpace"):
        make_scheduler("random", {"x": (0, 1)}, 1, 27)
    with pytest.raises(ValueError, match="space has no hyperparameters"):
        make_scheduler("random", ConfigurationSpace(), 1, 27)
    with pytest.raises(TypeError, match=r"does not take option\(s\) \['n_iterations'\]"):
        make_scheduler("asha-promotion", space, 1, 27, n_iterations=2)
    with pytest.raises(TypeError, match="searcher_config has unknown field"):
        make_scheduler("bohb", space, 1, 27, searcher_config={"bandwidth": 2})
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        make_scheduler("random", space, 1, 27, seed=-1)
    scheduler = make_scheduler("random", space, 1, 27)
    with pytest.raises(ValueError, match="the run would never end"):
        run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path, seed=0, progress=False)
    with pytest.raises(ValueError, match="max_evaluations must be an integer > 0"):
        StopCriteria(max_evaluations=0)
    with pytest.raises(ValueError, match=r"scheduler's resources \[1, 81\] must lie within the objective's \[1, 27\]"):
        run_hpo(objective, make_scheduler("random", space, 1, 81), SimulatorBackend(2), tmp_path, seed=0,
                stop=StopCriteria(max_evaluations=3), progress=False)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path, seed=-3,
                stop=StopCriteria(max_evaluations=3), progress=False)


def test_progress_bar_in_batch_mode(objective, tmp_path, capsys):
    scheduler = make_scheduler("random", objective.space, 1, 27)
    run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path, seed=0, stop=StopCriteria(max_evaluations=5),
            progress=True)
    assert "HPO" in capsys.readouterr().out


@pytest.mark.parametrize("charge", [False, True])
def test_simulated_runs_do_not_force_log_lines_to_disk(objective, tmp_path, monkeypatch, charge):
    # a simulator charging decision time is not deterministic, but its runs are still cheap to redo:
    # fsync per line made them several times slower in wall time
    import os

    calls = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd))
    scheduler = make_scheduler("asha-stopping", objective.space, 1, 27, eta=3, seed=0)
    run_hpo(objective, scheduler, SimulatorBackend(2, charge_decision_time=charge), tmp_path / "sim", seed=0,
            stop=StopCriteria(max_evaluations=20), progress=False)
    assert calls == []
    run_hpo(objective, make_scheduler("asha-stopping", objective.space, 1, 27, eta=3, seed=0),
            SimulatorBackend(2, charge_decision_time=charge), tmp_path / "forced", seed=0,
            stop=StopCriteria(max_evaluations=5), progress=False, fsync=True)
    assert len(calls) >= 5
