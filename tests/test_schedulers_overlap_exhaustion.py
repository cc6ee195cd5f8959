"""Synchronous Hyperband with overlapping brackets keeps every worker busy; restricted searchers that
run out of candidates stop or repeat, as asked, and the run log says when."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from hpo_kit.analysis import curves
from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.methods import make_scheduler
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.runlog import load_log
from hpo_kit.stopping import StopCriteria
from hpo_kit.tuner import run_hpo


def _objective(n_configs=40, n_epochs=9, seed=0):
    return TabularObjective(synthetic_table(n_configs, n_epochs, seed=seed))


def _run(tmp_path, method, name="run", max_time=400.0, **options):
    objective = _objective(options.pop("n_configs", 400))
    restrict = options.pop("restrict", False)
    scheduler = make_scheduler(method, objective.space, 1, objective.max_resource, 3, seed=1,
                               candidates=objective.candidates() if restrict else None, **options)
    return run_hpo(objective, scheduler, SimulatorBackend(4), tmp_path / name, 1,
                   stop=StopCriteria(max_time=max_time), progress=False)


@pytest.mark.parametrize("method", ["hyperband", "bohb"])
def test_overlapping_brackets_never_leave_a_worker_idle(tmp_path, method):
    # With overlap (the default) a free worker always finds a job: the running brackets' next job,
    # or the first job of a new bracket. Utilisation is 1 from the first to the last second.
    overlap = _run(tmp_path, method, "overlap", bracket_rule="hpbandster")
    horizon = float(overlap.log["time"].max())
    assert curves.mean_utilisation(overlap.log, 4, horizon) == pytest.approx(1.0, abs=1e-9)
    # every job starts the moment a worker became free: at time 0 or when a job ended
    ends = set(overlap.log.loc[overlap.log["event"] == "result", "time"].tolist()) | {0.0}
    starts = overlap.log.loc[overlap.log["event"].isin(["start", "promote"]), "time"]
    assert set(starts.tolist()) <= ends
    # the textbook algorithm idles while a rung waits for its slowest job
    textbook = _run(tmp_path, method, "textbook", overlap_brackets=False)
    assert curves.mean_utilisation(textbook.log, 4, horizon) < 0.95


def test_overlap_idles_only_when_no_bracket_has_a_job():
    # n_iterations=1: once every bracket is open, workers may idle, but only when no open bracket
    # can hand out a job (checked directly on the scheduler at every free worker)
    from hpo_kit.schedulers.hyperband import SynchronousHyperband
    from scripted_searcher import ScriptedSearcher
    from hpo_kit.trial import Evaluation

    rng = np.random.default_rng(0)
    hb = SynchronousHyperband(ScriptedSearcher(), 1, 27, eta=3, n_iterations=1, bracket_rule="hpbandster")
    running, clock, free = [], 0.0, 4
    while not hb.is_done():
        while free > 0 and (job := hb.next_job()) is not None:
            running.append((clock + rng.uniform(0.5, 2.0) * job.resource, job))
            free -= 1
        if free > 0:   # an idle worker: every open bracket must be waiting for results
            assert hb._schedule_exhausted()
            assert all(not run.promotions and run.new_to_start == 0 for run in hb._active)
        running.sort(key=lambda item: item[0])
        clock, job = running.pop(0)
        hb.on_result(job, Evaluation(float(rng.random()), 1.0))
        hb.pop_decisions()
        free += 1


METHODS = ["random", "hyperband", "bohb", "asha-stopping", "asha-promotion", "abohb-promotion"]


@pytest.mark.parametrize("method", METHODS)
def test_exhaustion_stop_ends_new_trials_and_is_logged(tmp_path, method):
    options = {"searcher_config": {"n_random_candidates": 20, "n_fantasies": 2}} if method.startswith("abohb") else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the run ends as asked: nothing to warn about
        result = _run(tmp_path, method, n_configs=30, max_time=5000.0, restrict=True, on_exhausted="stop",
                      **options)
    log = result.log
    starts = log[log["event"] == "start"]
    assert len(starts) == 30
    event = log[log["event"] == "exhausted"]
    assert len(event) == 1
    # recorded at the start of the trial that took the last candidate; no trial starts after it
    assert result.exhausted_at == float(event["time"].iloc[0]) == float(starts["time"].max())
    assert int(event["trial_id"].iloc[0]) == int(starts["trial_id"].iloc[-1])
    config_columns = [c for c in log.columns if c.startswith("config_")]
    assert len(starts[config_columns].drop_duplicates()) == 30     # every candidate once, none twice
    assert result.stop_reason == "candidates exhausted"
    assert result.elapsed < 5000.0
    raw = (result.run_dir / "trials.jsonl").read_text()
    assert '"event":"exhausted"' in raw and '"on_exhausted":"stop"' in raw


@pytest.mark.parametrize("method", ["random", "asha-promotion", "bohb"])
def test_exhaustion_repeat_starts_a_new_pass_and_is_logged(tmp_path, method):
    with pytest.warns(RuntimeWarning, match="a new pass"):
        result = _run(tmp_path, method, n_configs=30, max_time=3000.0, restrict=True, on_exhausted="repeat")
    log = result.log
    starts = log[log["event"] == "start"]
    assert len(starts) > 30                               # repeats after the first pass
    events = log[log["event"] == "exhausted"]
    assert len(events) >= 1 and result.exhausted_at == float(events["time"].iloc[0])
    first30 = starts["trial_id"].iloc[:30]
    assert int(events["trial_id"].iloc[0]) == int(first30.iloc[-1])
    assert result.stop_reason == "max_time"


def test_exhaustion_resume_replays_the_event(tmp_path):
    # the event is part of the deterministic log: an interrupted run resumes byte for byte
    first = _run(tmp_path, "asha-promotion", "r", n_configs=30, max_time=5000.0, restrict=True, on_exhausted="stop")
    text = (first.run_dir / "trials.jsonl").read_text()
    again = _run(tmp_path, "asha-promotion", "r", n_configs=30, max_time=5000.0, restrict=True, on_exhausted="stop")
    assert (again.run_dir / "trials.jsonl").read_text() == text and again.exhausted_at == first.exhausted_at
    assert again.n_replayed > 0
    assert load_log(first.run_dir)["event"].eq("exhausted").sum() == 1


def test_on_exhausted_is_validated():
    objective = _objective()
    with pytest.raises(ValueError, match="on_exhausted must be one of"):
        make_scheduler("random", objective.space, 1, 9, 3, candidates=objective.candidates(), on_exhausted="halt")


def test_without_candidates_nothing_is_exhausted(tmp_path):
    result = _run(tmp_path, "asha-promotion", max_time=200.0, n_configs=30, on_exhausted="stop")
    assert result.exhausted_at is None and "exhausted" not in set(result.log["event"])
    assert not math.isnan(result.best_loss)


# ---------------------------------------------------------------------------- promotion rule
def test_interpolated_cutoff_is_numpys_linear_quantile():
    from hpo_kit.schedulers.async_hyperband import interpolated_cutoff

    rng = np.random.default_rng(3)
    for n in range(2, 40):
        losses = sorted(rng.random(n).round(2).tolist())
        for eta in (2, 3, 4):
            assert interpolated_cutoff(losses, eta) == pytest.approx(float(np.quantile(losses, 1 / eta)))
    assert interpolated_cutoff([0.3], 3) is None


def test_interpolated_rule_promotes_earlier_than_the_floor():
    from hpo_kit.schedulers.async_hyperband import AsynchronousHyperband
    from hpo_kit.trial import Evaluation
    from scripted_searcher import ScriptedSearcher

    def after_two(rule):
        asha = AsynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, promotion_rule=rule)
        a, b = asha.next_job(), asha.next_job()
        asha.on_result(a, Evaluation(0.4, 1.0))
        asha.on_result(b, Evaluation(0.2, 1.0))
        return asha.next_job()

    floor, interpolated = after_two("asha_floor"), after_two("interpolated")
    assert floor.previous_resource == 0                      # floor(2/3) = 0: a new trial
    assert (interpolated.trial_id, interpolated.resource) == (1, 3)   # cutoff 0.2 + (0.4-0.2)/3: best promoted
    with pytest.raises(ValueError, match="promotion_rule must be one of"):
        AsynchronousHyperband(ScriptedSearcher(), 1, 9, promotion_rule="syne")


@pytest.mark.parametrize("variant", ["stopping", "promotion"])
def test_interpolated_rule_reaches_the_top_rung_more_often(tmp_path, variant):
    full = {}
    for rule in ("asha_floor", "interpolated"):
        result = _run(tmp_path, f"asha-{variant}", rule, max_time=150.0, promotion_rule=rule)
        full[rule] = int(((result.log["event"] == "result") & (result.log["resource"] == 9)).sum())
    assert full["interpolated"] >= full["asha_floor"]


@pytest.mark.parametrize("method", ["random", "hyperband", "asha-promotion"])
def test_a_candidate_list_that_stops_ends_the_run_without_a_trial_limit(tmp_path, method):
    """One pass over a table's rows needs no max_trials or max_time: the scheduler is finite."""
    objective = _objective(30)
    scheduler = make_scheduler(method, objective.space, 1, objective.max_resource, 3, seed=1,
                               candidates=objective.candidates(), on_exhausted="stop")
    assert scheduler.is_finite()
    result = run_hpo(objective, scheduler, SimulatorBackend(4), tmp_path / method, 1, progress=False)
    assert result.stop_reason in ("candidates exhausted", "scheduler finished")
    starts = result.log[result.log["event"] == "start"]
    assert starts["trial_id"].nunique() == 30
