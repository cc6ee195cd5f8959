"""Backends: failures become log entries, the simulator is exact, processes and Dask really run jobs."""
from __future__ import annotations

import math
import os
import time

import pytest
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.backends.dask_backend import DaskBackend
from hpo_kit.backends.local import LocalProcessBackend
from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.methods import make_backend, make_scheduler
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.searchers.random_search import RandomSearcher
from hpo_kit.stopping import StopCriteria
from hpo_kit.trial import Evaluation, Failure, Job
from hpo_kit.tuner import run_hpo


class FlakyObjective:
    """Trial ``i`` misbehaves according to ``i % 5``: raise, NaN, inf, too slow, fine.

    Defined at module level so worker processes can import it.
    """

    def __init__(self, max_resource: int = 9, slow_seconds: float = 0.0):
        self.space = ConfigurationSpace()
        self.space.add(Float("x", (0.0, 1.0)))
        self.min_resource, self.max_resource = 1, max_resource
        self.slow_seconds = slow_seconds

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        kind = trial_id % 5
        if kind == 0:
            raise RuntimeError("injected error")
        if kind == 1:
            return Evaluation(float("nan"), 1.0)
        if kind == 2:
            return Evaluation(float("inf"), 1.0)
        cost = float(resource - previous_resource)
        if kind == 3:
            time.sleep(self.slow_seconds)
            cost = 1000.0
        return Evaluation(config["x"] + 1.0 / resource, cost,
                          info={"pid": os.getpid(), "omp_threads": os.environ.get("OMP_NUM_THREADS")})


def expect_injected_failures(log, n_trials):
    outcomes = log[log.event.isin(["result", "failure"])].set_index("trial_id")
    assert sorted(outcomes.index) == list(range(n_trials))     # every trial has exactly one outcome
    expected = {0: "RuntimeError: injected error", 1: "loss is nan", 2: "loss is inf", 3: "time-out"}
    for trial_id, row in outcomes.iterrows():
        kind = trial_id % 5
        if kind == 4:
            assert row.event == "result" and math.isfinite(row.loss)
        else:
            assert row.event == "failure" and row.reason.startswith(expected[kind]), (trial_id, row.reason)
    stops = log[log.event == "stop"].trial_id.tolist()
    assert sorted(stops) == [t for t in range(n_trials) if t % 5 != 4]


def fifo(objective, n_trials, seed=0):
    return FIFOScheduler(RandomSearcher(objective.space, seed), 1, objective.max_resource, max_trials=n_trials)


def test_sequential_backend_records_every_kind_of_failure_and_goes_on(tmp_path):
    objective = FlakyObjective(slow_seconds=0.25)
    result = run_hpo(objective, fifo(objective, 10), SequentialBackend(timeout=0.1), tmp_path, seed=0,
                     progress=False)
    assert result.stop_reason == "scheduler finished" and result.n_evaluations == 10
    expect_injected_failures(result.log, 10)
    assert result.best_trial_id in (4, 9)


def test_simulator_failures_and_virtual_time_out(tmp_path):
    objective = FlakyObjective()
    result = run_hpo(objective, fifo(objective, 10), SimulatorBackend(2, timeout=50.0), tmp_path, seed=0,
                     progress=False)
    log = result.log
    expect_injected_failures(log, 10)
    timed_out = log[(log.event == "failure") & (log.trial_id == 3)].iloc[0]
    assert timed_out.cost == 50.0 and timed_out.time - timed_out.started == 50.0
    raised = log[(log.event == "failure") & (log.trial_id == 0)].iloc[0]
    assert raised.cost == 0.0                     # deterministic: no wall time in the simulator


def test_simulator_assigns_lowest_free_worker_and_breaks_ties_by_submission():
    objective = FlakyObjective()
    backend = SimulatorBackend(3)
    backend.start(objective, run_seed=0)
    config = {"x": 0.5}
    for trial_id, resource in ((4, 2), (9, 1), (14, 1)):      # kind 4: cost = resource
        backend.submit(Job(trial_id, config, resource))
    assert backend.free_workers == 0 and backend.now() == 0.0
    got = [backend.wait_one() for _ in range(2)]
    assert [(f.job.trial_id, f.finished_at, f.worker) for f in got] == [(9, 1.0, 1), (14, 1.0, 2)]
    backend.submit(Job(19, config, 3))                         # starts at t=1 on worker 1
    got = [backend.wait_one() for _ in range(2)]
    assert [(f.job.trial_id, f.started_at, f.finished_at, f.worker) for f in got] == [
        (4, 0.0, 2.0, 0), (19, 1.0, 4.0, 1)]
    assert backend.now() == 4.0 and backend.free_workers == 3
    with pytest.raises(RuntimeError, match="no job is running"):
        backend.wait_one()


def test_simulator_charges_decision_time_only_when_asked():
    for charge in (False, True):
        backend = SimulatorBackend(2, charge_decision_time=charge)
        backend.start(FlakyObjective(), run_seed=0)
        backend.submit(Job(4, {"x": 0.1}, 1))
        time.sleep(0.05)
        backend.submit(Job(9, {"x": 0.1}, 1))
        first, second = backend.wait_one(), backend.wait_one()
        if charge:
            assert second.started_at >= 0.05 and not backend.deterministic
        else:
            assert second.started_at == 0.0 and first.finished_at == 1.0 and backend.deterministic


def simulated_run(run_dir, seed, n_workers=4):
    objective = TabularObjective(synthetic_table(n_configs=300, n_epochs=27, seed=1))
    scheduler = make_scheduler("asha-promotion", objective.space, 1, 27, eta=3, seed=seed, brackets=2)
    return run_hpo(objective, scheduler, SimulatorBackend(n_workers), run_dir, seed=seed,
                   stop=StopCriteria(max_evaluations=200), progress=False)


def test_simulator_same_seed_gives_a_byte_identical_log(tmp_path):
    a = simulated_run(tmp_path / "a", seed=3)
    b = simulated_run(tmp_path / "b", seed=3)
    c = simulated_run(tmp_path / "c", seed=4)
    bytes_a = (tmp_path / "a" / "trials.jsonl").read_bytes()
    assert bytes_a == (tmp_path / "b" / "trials.jsonl").read_bytes()
    assert bytes_a != (tmp_path / "c" / "trials.jsonl").read_bytes()
    assert a.best_config == b.best_config and a.elapsed == b.elapsed
    assert set(a.log.worker.dropna()) == {0, 1, 2, 3}
    assert c.n_evaluations == 200


def test_local_process_backend_runs_in_workers_and_recycles_on_time_out(tmp_path):
    objective = FlakyObjective(slow_seconds=600.0)         # trial 3 would hang for ten minutes
    # forkserver: the recycled pool forks from a server that already imported everything (fast)
    backend = make_backend("local", n_workers=2, timeout=1.0, start_method="forkserver")
    assert isinstance(backend, LocalProcessBackend)
    result = run_hpo(objective, fifo(objective, 10), backend, tmp_path, seed=0, progress=False)
    expect_injected_failures(result.log, 10)
    hung = result.log[(result.log.event == "failure") & (result.log.trial_id == 3)].iloc[0]
    assert 1.0 <= hung.cost < 600.0                  # cut off by the time-out, not waited for
    ok = result.log[result.log.event == "result"]
    assert (ok.info_pid != os.getpid()).all()        # ran in worker processes ...
    assert (ok.info_omp_threads == "1").all()        # ... limited to one thread
    assert set(result.log.worker.dropna()) <= {0, 1}


def test_local_process_backend_rejects_unpicklable_objectives():
    objective = FlakyObjective()
    objective.evaluate_hook = lambda: None            # lambdas cannot be pickled
    with pytest.raises(TypeError, match="must be picklable"):
        LocalProcessBackend(1).start(objective, 0)
    with pytest.raises(ValueError, match="start_method must be one of"):
        LocalProcessBackend(1, start_method="fork")


def test_dask_local_cluster_run(tmp_path):
    objective = FlakyObjective()
    backend = DaskBackend(n_workers=2, processes=False)
    result = run_hpo(objective, fifo(objective, 10), backend, tmp_path, seed=0, progress=False)
    log = result.log
    outcomes = log[log.event.isin(["result", "failure"])]
    assert len(outcomes) == 10 and result.stop_reason == "scheduler finished"
    failed = set(outcomes[outcomes.event == "failure"].trial_id)
    assert failed == {0, 1, 2, 5, 6, 7}                 # raise / NaN / inf; no time-out set here
    assert set(outcomes.worker) <= {0, 1}


def test_dask_backend_connects_to_a_running_cluster_by_address(tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        backend = make_backend("dask", address=cluster.scheduler_address)
        objective = FlakyObjective()
        result = run_hpo(objective, fifo(objective, 5), backend, tmp_path, seed=0, progress=False)
        assert backend.n_workers == 2                      # taken from the cluster
        assert result.n_evaluations == 5
        assert len(cluster.scheduler.workers) == 2         # closing the backend left the cluster alone


def test_backend_arguments_are_checked():
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        SimulatorBackend(0)
    with pytest.raises(ValueError, match="timeout must be"):
        LocalProcessBackend(2, timeout=-1)
    with pytest.raises(ValueError, match="give n_workers"):
        DaskBackend()
    with pytest.raises(ValueError, match=r"backend must be one of \['sequential', 'local', 'dask', 'simulator'\]"):
        make_backend("ray", 2)
    with pytest.raises(TypeError, match="does not take option"):
        make_backend("simulator", 2, start_method="spawn")
    with pytest.raises(ValueError, match="n_workers is required"):
        make_backend("local")
    with pytest.raises(ValueError, match="n_workers must be 1"):
        make_backend("sequential", 2)
    assert isinstance(make_backend("sequential"), SequentialBackend)


def test_failure_cost_from_wall_clock_backends_is_measured():
    backend = SequentialBackend()
    backend.start(FlakyObjective(), 0)
    backend.submit(Job(0, {"x": 0.5}, 1))
    finished = backend.wait_one()
    assert isinstance(finished.outcome, Failure) and finished.outcome.cost >= 0.0
