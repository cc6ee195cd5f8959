"""Engine input and file checks: odd values, limits, resume identity, one run per folder, damaged files."""
from __future__ import annotations

import json
import math
import threading
import time
import zipfile

import numpy as np
import pytest

from hpo_kit.backends.dask_backend import DaskBackend
from hpo_kit.backends.local import LocalProcessBackend
from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.methods import make_backend, make_scheduler
from hpo_kit.objectives.synthetic import BraninMF
from hpo_kit.objectives.tabular import LearningCurveTable, TabularObjective, synthetic_table
from hpo_kit.runlog import ResumeMismatch, RunDirLocked, RunLock, RunLog, read_events
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.searchers.random_search import RandomSearcher
from hpo_kit.stopping import StopCriteria
from hpo_kit.trial import Evaluation
from hpo_kit.tuner import run_hpo


class OddValues:
    """Trial ``i`` answers with ``ANSWERS[i % len(ANSWERS)]`` as (loss, cost)."""

    ANSWERS = [(np.float32(0.25), 1.0), (True, 1.0), (0.5, None), (0.5, -1.0), (np.float64(0.75), np.int64(2)),
               (0.5, math.nan), ("0.5", 1.0), (0.5, math.inf)]

    def __init__(self):
        self.space = BraninMF().space
        self.min_resource, self.max_resource = 1, 3

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        loss, cost = self.ANSWERS[trial_id % len(self.ANSWERS)]
        return Evaluation(loss, cost)


def fifo(objective, n_trials, seed=0):
    return FIFOScheduler(RandomSearcher(objective.space, seed), objective.max_resource, objective.max_resource,
                         max_trials=n_trials)


def test_numpy_losses_count_bools_and_bad_costs_fail(tmp_path):
    objective = OddValues()
    result = run_hpo(objective, fifo(objective, 8), SequentialBackend(), tmp_path, seed=0, progress=False)
    done = result.log[result.log.event.isin(["result", "failure"])].set_index("trial_id")
    assert done.loc[0].event == "result" and done.loc[0].loss == 0.25          # np.float32 loss
    assert done.loc[1].event == "failure" and "loss is True (bool)" in done.loc[1].reason
    assert done.loc[2].event == "failure" and done.loc[2].reason.startswith("cost is None")
    assert done.loc[3].event == "failure" and done.loc[3].reason.startswith("cost is -1.0")
    assert done.loc[4].event == "result" and done.loc[4].cost == 2.0           # numpy cost
    assert done.loc[5].event == "result" and math.isnan(done.loc[5].cost)      # NaN = unknown, kept
    assert done.loc[6].event == "failure" and "loss is '0.5' (str)" in done.loc[6].reason
    assert done.loc[7].event == "failure" and done.loc[7].reason.startswith("cost is inf")
    assert result.best_loss == 0.25


def test_limits_are_validated_up_front():
    for bad in (math.nan, math.inf, -1.0, True, "10"):
        with pytest.raises(ValueError, match="max_time must be a finite number > 0, or None"):
            StopCriteria(max_time=bad)
    with pytest.raises(ValueError, match="max_total_resource must be a finite number"):
        StopCriteria(max_total_resource=math.nan)
    stop = StopCriteria(max_evaluations=np.int64(5), max_time=np.float32(2.5))
    assert stop.max_evaluations == 5 and type(stop.max_evaluations) is int and stop.max_time == 2.5
    for backend in (lambda t: SequentialBackend(timeout=t), lambda t: LocalProcessBackend(1, timeout=t),
                    lambda t: DaskBackend(1, timeout=t), lambda t: make_backend("local", 2, timeout=t)):
        for bad in (math.nan, math.inf, 0, True):
            with pytest.raises(ValueError, match="timeout must be a finite number of seconds > 0"):
                backend(bad)
    assert SequentialBackend(timeout=np.float64(1.5)).timeout == 1.5
    with pytest.raises(ValueError, match="processes must be True"):
        DaskBackend(1, processes="no")
    with pytest.raises(ValueError, match="address must be a Dask scheduler address"):
        DaskBackend(address="nowhere")


def test_numpy_integers_are_accepted_for_resources_seeds_and_workers(tmp_path):
    objective = BraninMF(max_resource=np.int64(9), min_resource=np.int64(1))
    assert type(objective.max_resource) is int
    scheduler = make_scheduler("asha-promotion", objective.space, np.int64(1), np.int64(9), eta=np.int64(3),
                               seed=np.int64(4))
    result = run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path, seed=np.int64(2),
                     stop=StopCriteria(max_evaluations=np.int64(10)), progress=False)
    assert result.n_evaluations == 10 and read_events(tmp_path / "trials.jsonl")[0]["seed"] == 2
    table = TabularObjective(synthetic_table(n_configs=20, n_epochs=9), min_resource=np.int64(1))
    assert table.min_resource == 1 and LocalProcessBackend(np.int64(2)).n_workers == 2


def test_run_dir_none_and_other_bad_arguments_give_clear_errors(tmp_path):
    objective = BraninMF(max_resource=3)
    with pytest.raises(ValueError, match="run_dir must be a folder path"):
        run_hpo(objective, fifo(objective, 2), SimulatorBackend(1), None, seed=0, progress=False)
    with pytest.raises(ValueError, match="resume must be True or False"):
        run_hpo(objective, fifo(objective, 2), SimulatorBackend(1), tmp_path, seed=0, resume="no", progress=False)


# -- resume identity -----------------------------------------------------------------------------
def asha_run(run_dir, scheduler_seed=3, noise=0.0, backend=None, max_evaluations=40, seed=1):
    objective = BraninMF(max_resource=9, noise_std=noise)
    scheduler = make_scheduler("asha-promotion", objective.space, 1, 9, eta=3, seed=scheduler_seed)
    return run_hpo(objective, scheduler, backend or SimulatorBackend(2), run_dir, seed=seed,
                   stop=StopCriteria(max_evaluations=max_evaluations), progress=False)


def test_header_records_settings_and_resume_refuses_another_seed_or_objective_setting(tmp_path):
    asha_run(tmp_path)
    header = read_events(tmp_path / "trials.jsonl")[0]
    assert header["scheduler"]["seed"] == 3 and header["searcher"]["seed"] == 3
    assert header["objective"]["noise_std"] == 0.0 and header["objective"]["max_resource"] == 9
    assert header["backend"]["name"] == "SimulatorBackend" and "version" in header["kit"]
    # the run seed is the same; the scheduler's seed is not: refused, naming the field
    with pytest.raises(ValueError, match=r"searcher\.seed: logged 3, now 4"):
        asha_run(tmp_path, scheduler_seed=4)
    with pytest.raises(ValueError, match=r"objective\.noise_std: logged 0\.0, now 0\.1"):
        asha_run(tmp_path, noise=0.1)
    for method in ("random", "gp", "hyperband", "bohb"):     # the other methods' seeds reach the header too
        objective = BraninMF(max_resource=9)
        a = make_scheduler(method, objective.space, 1, 9, seed=1)
        run_hpo(objective, a, SimulatorBackend(1), tmp_path / method, seed=0, stop=StopCriteria(max_evaluations=2),
                progress=False)
        b = make_scheduler(method, objective.space, 1, 9, seed=2)
        with pytest.raises(ValueError, match=r"seed: logged 1, now 2"):
            run_hpo(objective, b, SimulatorBackend(1), tmp_path / method, seed=0,
                    stop=StopCriteria(max_evaluations=2), progress=False)


def test_wall_clock_replay_checks_each_configuration(tmp_path):
    asha_run(tmp_path, backend=SequentialBackend(), max_evaluations=12)
    path = tmp_path / "trials.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if '"event":"start"' in line and i > 3)
    record = json.loads(lines[index])
    record["config"]["x1"] = 0.123                  # the same trial id, another configuration
    lines[index] = json.dumps(record, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(ResumeMismatch, match=f"line {index + 1} of the log differs in config"):
        asha_run(tmp_path, backend=SequentialBackend(), max_evaluations=12)


def test_resuming_with_a_smaller_limit_reports_the_run_that_was_asked_for(tmp_path):
    full = asha_run(tmp_path / "full", max_evaluations=60)
    before = (tmp_path / "full" / "trials.jsonl").read_bytes()
    short = asha_run(tmp_path / "full", max_evaluations=20)
    fresh = asha_run(tmp_path / "fresh", max_evaluations=20)
    assert (tmp_path / "full" / "trials.jsonl").read_bytes() == before        # the log keeps all 60
    assert short.n_evaluations == 20 and short.stop_reason == "max_evaluations"
    assert short.log.equals(fresh.log) and short.best_loss == fresh.best_loss
    assert len(short.results) + (short.log.event == "failure").sum() == 20
    assert full.n_evaluations == 60 and asha_run(tmp_path / "full", max_evaluations=60).log.equals(full.log)


# -- one run per folder ----------------------------------------------------------------------------
def test_a_second_run_on_the_same_folder_fails_at_once_naming_folder_and_holder(tmp_path):
    import os
    import socket

    with RunLock(tmp_path):
        with pytest.raises(RunDirLocked, match=rf"{tmp_path}.*in use by another run \(pid {os.getpid()} on "
                                               rf"{socket.gethostname()}"):
            asha_run(tmp_path)
    assert not (tmp_path / "trials.jsonl").exists()         # the second run touched nothing
    asha_run(tmp_path)                                      # released: the folder is usable again
    # two runs at once, as two notebooks would start them
    objective = BraninMF(max_resource=3)
    errors = []

    class Slow(BraninMF):
        def evaluate(self, *args, **kwargs):
            time.sleep(0.05)
            return super().evaluate(*args, **kwargs)

    def first():
        slow = Slow(max_resource=3)
        run_hpo(slow, fifo(slow, 10), SequentialBackend(), tmp_path / "both", seed=0, progress=False)

    thread = threading.Thread(target=first)
    thread.start()
    while not (tmp_path / "both" / "trials.jsonl").exists():
        time.sleep(0.01)
    try:
        run_hpo(objective, fifo(objective, 10), SequentialBackend(), tmp_path / "both", seed=0, progress=False)
    except RunDirLocked as error:
        errors.append(error)
    thread.join()
    assert len(errors) == 1
    asha_check = read_events(tmp_path / "both" / "trials.jsonl")
    assert sum(e["event"] == "result" for e in asha_check) == 10        # one run's log, resumable


# -- damaged files ---------------------------------------------------------------------------------
def test_a_log_line_that_lacks_a_field_is_rejected_naming_file_line_and_field(tmp_path):
    asha_run(tmp_path, max_evaluations=10)
    path = tmp_path / "trials.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if '"event":"result"' in line)
    record = json.loads(lines[index])
    del record["loss"]
    lines[index] = json.dumps(record, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=rf"{path}: line {index + 1} \(result event\) lacks the field\(s\) "
                                         r"\['loss'\].*resume=False"):
        asha_run(tmp_path, max_evaluations=10)
    lines[index] = '{"event":"result","trial_id":"three","resource":1}\n'
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=rf"line {index + 1} .*lacks the field"):
        read_events(path)


def test_two_outcomes_of_one_job_name_the_log_file(tmp_path):
    asha_run(tmp_path, max_evaluations=10)
    path = tmp_path / "trials.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    result = next(line for line in lines if '"event":"result"' in line)
    path.write_text("".join(lines) + result)
    with pytest.raises(ValueError, match=rf"{path} holds two outcomes for trial \d+ at resource \d+"):
        asha_run(tmp_path, max_evaluations=10)


def table_file(tmp_path, extra=None):
    table = synthetic_table(n_configs=40, n_epochs=9)
    path = tmp_path / "table.npz"
    arrays = {name: getattr(table, name) for name in ("names", "lower", "upper", "log", "X", "val_error",
                                                      "epoch_time", "test_error")}
    arrays.update(extra or {})
    np.savez_compressed(path, **arrays)
    return path


def test_truncated_or_corrupt_tables_are_rejected_naming_the_file(tmp_path):
    path = table_file(tmp_path)
    data = path.read_bytes()
    for damaged in (data[: len(data) // 2], data[:40], b"not a zip at all"):
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=rf"{path}.*damaged"):
            LearningCurveTable.from_npz(path)
    # one flipped byte inside the data of an array the loader does not use (a real table holds extras)
    path = table_file(tmp_path, extra={"epoch_cpu_time": np.random.default_rng(0).random((40, 9))})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("epoch_cpu_time.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"array 'epoch_cpu_time' of {path}.*damaged"):
        LearningCurveTable.from_npz(path)


def test_disk_full_names_the_file(tmp_path):
    log = RunLog("/dev/full", fsync=False)
    with pytest.raises(OSError, match="cannot write /dev/full.*disk is full"):
        log.write({"event": "stop", "trial_id": 0, "resource": 1, "time": 0.0})
    log._file = open("/dev/null", "a")     # the failed write's buffer must not raise again on close
    log.close()


# -- Dask -------------------------------------------------------------------------------------------
class HangsFirst:
    """Trial 0 blocks its worker thread for ``hang`` seconds; the others take 0.05 s."""

    def __init__(self, hang=3.0):
        self.space = BraninMF().space
        self.min_resource, self.max_resource = 1, 1
        self.hang = hang

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        time.sleep(self.hang if trial_id == 0 else 0.05)
        return Evaluation(float(config["x1"]), 0.05)


@pytest.mark.slow
def test_dask_time_outs_count_from_the_start_of_the_job_not_its_submission(tmp_path):
    # One worker thread (processes=False: a thread cannot be stopped). Trial 0 times out after 1 s but
    # keeps the thread for 3 s; trial 1 waits behind it and must not be failed for waiting.
    backend = DaskBackend(n_workers=1, processes=False, timeout=1.0)
    objective = HangsFirst()
    result = run_hpo(objective, fifo(objective, 3), backend, tmp_path, seed=0, progress=False)
    done = result.log[result.log.event.isin(["result", "failure"])].set_index("trial_id")
    assert done.loc[0].event == "failure" and done.loc[0].reason.startswith("time-out")
    assert (done.loc[[1, 2]].event == "result").all(), done.reason.tolist()
    assert done.loc[1].started >= 2.5          # its real start, after the hung thread returned


def test_dask_runs_worker_processes_by_default():
    assert DaskBackend(n_workers=1).processes is True
    assert make_backend("dask", 1).processes is True


@pytest.mark.slow
def test_a_lost_dask_cluster_raises_a_clear_error_instead_of_failing_every_job(tmp_path):
    from dask.distributed import LocalCluster

    objective = HangsFirst(hang=0.05)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        backend = DaskBackend(address=cluster.scheduler_address, lost_after=1.0)
        threading.Timer(1.0, lambda: cluster.scale(0)).start()
        with pytest.raises(RuntimeError, match=rf"Dask cluster at {cluster.scheduler_address} is lost: it has no "
                                               r"workers left.*resume"):
            run_hpo(objective, fifo(objective, 1000), backend, tmp_path, seed=0, progress=False)
    events = read_events(tmp_path / "trials.jsonl")
    assert sum(e["event"] == "failure" for e in events) <= 1        # not a log full of failures


@pytest.mark.slow
def test_a_crash_on_a_given_dask_cluster_fails_only_its_own_job(tmp_path):
    # A cluster started by someone else keeps Dask's default of re-running a task whose worker died
    # (allowed-failures = 3): the job must notice it already ran once instead of killing the next worker.
    from dask.distributed import LocalCluster

    from hpo_kit.objectives.synthetic import FaultInjector

    objective = FaultInjector(BraninMF(max_resource=1), period=3, kinds=("exit",), delay=0.05)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        backend = DaskBackend(address=cluster.scheduler_address)
        result = run_hpo(objective, fifo(objective, 6), backend, tmp_path, seed=0, progress=False)
    done = result.log[result.log.event.isin(["result", "failure"])].set_index("trial_id").sort_index()
    assert list(done.index) == list(range(6))
    for trial_id, row in done.iterrows():
        if trial_id % 3 == 0:
            assert row.event == "failure" and row.reason.startswith("worker process died"), row.reason
        else:
            assert row.event == "result", row.reason


def test_simulator_refuses_a_non_bool_charge_and_an_infinite_timeout():
    import numpy as np
    import pytest

    from hpo_kit.backends.simulator import SimulatorBackend

    with pytest.raises(ValueError, match="charge_decision_time must be True or False, got 'no'"):
        SimulatorBackend(2, charge_decision_time="no")
    for bad in (float("inf"), float("nan"), 0, True):
        with pytest.raises(ValueError, match="timeout"):
            SimulatorBackend(2, timeout=bad)
    assert SimulatorBackend(np.int64(3)).n_workers == 3
