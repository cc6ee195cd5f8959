"""Fault injection: every backend under ~20 % faulty evaluations of every kind, killed and resumed.

For each backend a run of 30 trials in which every 5th trial fails in one of the ways an objective
can (raise, NaN, inf, wrong type, hang past the time-out, ``os._exit`` where evaluations run in other
processes) must log every good evaluation exactly once with its true loss and every fault as a
failure with its reason. The same run killed with SIGKILL part-way and resumed must end with the
same outcomes as an uninterrupted run (byte-identical on the simulator), and a killed run must not
leave worker processes behind.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from hpo_kit.methods import make_backend
from hpo_kit.objectives.synthetic import FAULT_KINDS, FAULT_REASONS, BraninMF, FaultInjector
from hpo_kit.runlog import load_log, read_events
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.searchers.random_search import RandomSearcher
from hpo_kit.trial import trial_seed
from hpo_kit.tuner import run_hpo

TESTS_DIR = Path(__file__).resolve().parent
N_TRIALS, PERIOD, MAX_RESOURCE, SEED = 30, 5, 3, 11
IN_PROCESS_KINDS = tuple(k for k in FAULT_KINDS if k != "exit")   # os._exit would end the run itself
#: per backend: the faults it can survive, how long a hang lasts, its time-out, its options
SETUPS = {
    "sequential": dict(kinds=IN_PROCESS_KINDS, hang_seconds=0.3, timeout=0.15, options={}),
    "simulator": dict(kinds=IN_PROCESS_KINDS, hang_seconds=0.0, timeout=1000.0, options={}, n_workers=2),
    "local": dict(kinds=FAULT_KINDS, hang_seconds=60.0, timeout=1.5, n_workers=2,
                  options={"start_method": "forkserver"}),
    "dask": dict(kinds=FAULT_KINDS, hang_seconds=60.0, timeout=2.0, n_workers=2, options={"processes": True}),
}


def make_objective(backend: str, delay: float = 0.0) -> FaultInjector:
    setup = SETUPS[backend]
    return FaultInjector(BraninMF(max_resource=MAX_RESOURCE), period=PERIOD, kinds=setup["kinds"],
                         hang_seconds=setup["hang_seconds"], hang_cost=1e6, delay=delay)


def run(run_dir: str, backend: str, delay: float = 0.0):
    """One run (also called in a subprocess by the kill tests)."""
    setup = SETUPS[backend]
    objective = make_objective(backend, delay)
    scheduler = FIFOScheduler(RandomSearcher(objective.space, SEED), MAX_RESOURCE, MAX_RESOURCE,
                              max_trials=N_TRIALS)
    engine = make_backend(backend, setup.get("n_workers"), timeout=setup["timeout"], **setup["options"])
    return run_hpo(objective, scheduler, engine, run_dir, seed=SEED, progress=False)


def outcomes(path: Path) -> list[tuple]:
    """(trial, resource, event, loss or the kind of failure) of every result/failure, in log order."""
    found = []
    for event in read_events(path)[1:]:
        if event["event"] == "result":
            found.append((event["trial_id"], event["resource"], "result", event["loss"]))
        elif event["event"] == "failure":
            kind = next((k for k, reason in FAULT_REASONS.items() if event["reason"].startswith(reason)),
                        event["reason"])
            found.append((event["trial_id"], event["resource"], "failure", kind))
    return found


def check_every_outcome(run_dir: Path, backend: str) -> None:
    """Every trial exactly once; faults with their reason; good results with their true loss."""
    objective = make_objective(backend)
    log = load_log(run_dir)
    done = log[log.event.isin(["result", "failure"])]
    assert sorted(done.trial_id) == list(range(N_TRIALS)), "a trial is missing or logged twice"
    n_faults = 0
    for row in done.itertuples():
        fault = objective.fault_of(row.trial_id)
        if fault is None:
            config = {"x1": row.config_x1, "x2": row.config_x2}
            truth = objective.inner.evaluate(config, MAX_RESOURCE, trial_seed(SEED, row.trial_id)).loss
            assert row.event == "result" and math.isclose(row.loss, truth, rel_tol=1e-12), (row.trial_id, row.reason)
        else:
            n_faults += 1
            assert row.event == "failure" and row.reason.startswith(FAULT_REASONS[fault]), (row.trial_id, row.reason)
    assert n_faults == N_TRIALS // PERIOD
    assert {objective.fault_of(t) for t in range(N_TRIALS)} - {None} == set(SETUPS[backend]["kinds"])


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def start_and_kill(run_dir: Path, backend: str, kill_after: int) -> list[psutil.Process]:
    """Run in a subprocess, SIGKILL it once ``kill_after`` outcomes are logged; its worker processes."""
    code = (f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); import test_faults as t; "
            f"t.run({str(run_dir)!r}, {backend!r}, 0.1)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=TESTS_DIR.parent,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = run_dir / "trials.jsonl"
    deadline = time.monotonic() + 120
    workers: list[psutil.Process] = []
    try:
        while time.monotonic() < deadline:
            if log.exists():
                text = log.read_bytes()
                if text.count(b'"event":"result"') + text.count(b'"event":"failure"') >= kill_after:
                    break
            if process.poll() is not None:
                raise AssertionError(f"the run ended before it was killed: {process.stderr.read().decode()[-3000:]}")
            time.sleep(0.02)
        else:
            raise AssertionError("the run logged too few outcomes within 120 s")
        workers = descendants(process.pid)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert len(outcomes(log)) < N_TRIALS                   # really killed part-way
    return workers


def assert_gone(processes: list[psutil.Process], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    alive = processes
    while time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes outlived the killed run: {[(p.pid, p.name()) for p in alive]}")


def check_kill_and_resume(tmp_path: Path, backend: str) -> None:
    run_dir, reference = tmp_path / "killed", tmp_path / "reference"
    workers = start_and_kill(run_dir, backend, kill_after=12)
    if backend in ("local", "dask"):
        assert len(workers) >= 2, workers            # worker processes (and helpers) were running ...
    assert_gone(workers)                             # ... and died with the killed run
    before = outcomes(run_dir / "trials.jsonl")
    result = run(str(run_dir), backend)
    after = outcomes(run_dir / "trials.jsonl")
    assert after[: len(before)] == before and result.n_replayed == len(before)
    check_every_outcome(run_dir, backend)
    # Parallel wall-clock workers finish in a varying order, so only the outcomes themselves can
    # equal an uninterrupted run's, and check_every_outcome has just compared each one with the
    # objective's true answer. In-process backends are deterministic: compare with a real run.
    if backend in ("simulator", "sequential"):
        run(str(reference), backend)
        check_every_outcome(reference, backend)
        if backend == "simulator":
            assert (run_dir / "trials.jsonl").read_bytes() == (reference / "trials.jsonl").read_bytes()
        else:
            assert after == outcomes(reference / "trials.jsonl")


@pytest.mark.parametrize("backend", ["sequential", "simulator"])
def test_in_process_backends_survive_faults_and_kill(tmp_path, backend):
    check_kill_and_resume(tmp_path, backend)


@pytest.mark.slow
def test_local_processes_survive_faults_and_kill(tmp_path):
    check_kill_and_resume(tmp_path, "local")


@pytest.mark.slow
def test_dask_processes_survive_faults_and_kill(tmp_path):
    check_kill_and_resume(tmp_path, "dask")
