"""Does the engine lose or mix results under faults and kills? Prints figures; not a test.

For each backend, ``--rounds`` runs of ``--trials`` trials in which every ``--period``-th trial fails
in one of the ways an objective can (raise, NaN, inf, wrong type, hang past the time-out, and
``os._exit`` where evaluations run in other processes; ``hpo_kit.objectives.synthetic.FaultInjector``).
Half of the runs are killed with SIGKILL at a random point and resumed. Printed per backend:
faults injected, runs completed, good results lost (a good trial without its true result), faults
recorded with a wrong or missing reason, kills, evaluations lost (a trial without an outcome) and
duplicated (a trial with two), the longest stall (the largest gap between two outcomes in a log,
on the backend's clock, virtual for the simulator; it must stay near the time-out: a blocking worker
restart showed as ~120 s) and the seconds it
took. All the lost/wrong/duplicated columns should read 0.

Run: ``python bench/fault_injection.py`` (``--backends sequential simulator`` to choose,
``--rounds 2`` for a quick pass). Uses at most 2 worker processes.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hpo_kit.methods import make_backend  # noqa: E402
from hpo_kit.objectives.synthetic import FAULT_KINDS, FAULT_REASONS, BraninMF, FaultInjector  # noqa: E402
from hpo_kit.runlog import read_events  # noqa: E402
from hpo_kit.schedulers.fifo import FIFOScheduler  # noqa: E402
from hpo_kit.searchers.random_search import RandomSearcher  # noqa: E402
from hpo_kit.trial import trial_seed  # noqa: E402
from hpo_kit.tuner import run_hpo  # noqa: E402

MAX_RESOURCE = 3
IN_PROCESS = tuple(k for k in FAULT_KINDS if k != "exit")
SETUPS = {
    "sequential": dict(kinds=IN_PROCESS, hang_seconds=0.3, timeout=0.15, options={}, n_workers=None),
    "simulator": dict(kinds=IN_PROCESS, hang_seconds=0.0, timeout=1000.0, options={}, n_workers=2),
    "local": dict(kinds=FAULT_KINDS, hang_seconds=60.0, timeout=1.5, options={"start_method": "forkserver"},
                  n_workers=2),
    "dask": dict(kinds=FAULT_KINDS, hang_seconds=60.0, timeout=2.0, options={"processes": True}, n_workers=2),
}


def objective_for(backend: str, period: int, delay: float) -> FaultInjector:
    setup = SETUPS[backend]
    return FaultInjector(BraninMF(max_resource=MAX_RESOURCE), period=period, kinds=setup["kinds"],
                         hang_seconds=setup["hang_seconds"], delay=delay)


def run(run_dir: str, backend: str, trials: int, period: int, seed: int, delay: float = 0.0):
    setup = SETUPS[backend]
    objective = objective_for(backend, period, delay)
    scheduler = FIFOScheduler(RandomSearcher(objective.space, seed), MAX_RESOURCE, MAX_RESOURCE, max_trials=trials)
    engine = make_backend(backend, setup["n_workers"], timeout=setup["timeout"], **setup["options"])
    return run_hpo(objective, scheduler, engine, run_dir, seed=seed, progress=False)


def kill_part_way(run_dir: Path, backend: str, trials: int, period: int, seed: int, after: int) -> bool:
    """Run in a child process and SIGKILL it once ``after`` outcomes are logged; False if it ended first."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import fault_injection as f; "
            f"f.run({str(run_dir)!r}, {backend!r}, {trials}, {period}, {seed}, 0.05)")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    log = run_dir / "trials.jsonl"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if log.exists():
                text = log.read_bytes()
                if text.count(b'"event":"result"') + text.count(b'"event":"failure"') >= after:
                    break
            time.sleep(0.02)
    finally:
        killed = child.poll() is None
        if killed:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
    return killed


def audit(run_dir: Path, backend: str, trials: int, period: int, seed: int) -> dict[str, int]:
    """Count what a finished log got wrong against what the objective must have given."""
    objective = objective_for(backend, period, 0.0)
    configs, outcomes = {}, {}
    for event in read_events(run_dir / "trials.jsonl")[1:]:
        if event["event"] == "start":
            configs[event["trial_id"]] = event["config"]
        elif event["event"] in ("result", "failure"):
            outcomes.setdefault(event["trial_id"], []).append(event)
    counts = {"lost": 0, "duplicated": 0, "good_lost": 0, "wrong_reason": 0}
    times = sorted(e["time"] for found in outcomes.values() for e in found)
    counts["stall"] = max((b - a for a, b in zip(times, times[1:])), default=0.0)
    for trial in range(trials):
        logged = outcomes.get(trial, [])
        counts["lost"] += not logged
        counts["duplicated"] += max(0, len(logged) - 1)
        fault = objective.fault_of(trial)
        first = logged[0] if logged else None
        if fault is None:
            truth = None if trial not in configs else objective.inner.evaluate(
                configs[trial], MAX_RESOURCE, trial_seed(seed, trial)).loss
            if first is None or first["event"] != "result" or not math.isclose(first["loss"], truth, rel_tol=1e-12):
                counts["good_lost"] += 1
        elif first is None or first["event"] != "failure" or not first["reason"].startswith(FAULT_REASONS[fault]):
            counts["wrong_reason"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--rounds", type=int, default=4, help="runs per backend (half of them killed)")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--period", type=int, default=5, help="every period-th trial is faulty (5: 20 %%)")
    args = parser.parse_args()
    header = ("backend", "faults", "runs", "good lost", "wrong reason", "kills", "evals lost", "duplicated",
              "max stall s", "s")
    print(("{:<11}" + "{:>13}" * (len(header) - 1)).format(*header))
    rng = random.Random(0)
    for backend in args.backends:
        totals = dict(faults=0, runs=0, good_lost=0, wrong_reason=0, kills=0, lost=0, duplicated=0, stall=0.0)
        started = time.perf_counter()
        for round_ in range(args.rounds):
            seed = 100 + round_
            with tempfile.TemporaryDirectory() as tmp:
                run_dir = Path(tmp) / "run"
                if round_ % 2 == 1:
                    after = rng.randint(3, args.trials - 5)
                    totals["kills"] += kill_part_way(run_dir, backend, args.trials, args.period, seed, after)
                try:
                    run(str(run_dir), backend, args.trials, args.period, seed)
                    totals["runs"] += 1
                except Exception as error:  # noqa: BLE001 - a figure, not a crash of the benchmark
                    print(f"  {backend} round {round_}: the run raised {type(error).__name__}: {error}")
                objective = objective_for(backend, args.period, 0.0)
                totals["faults"] += sum(objective.fault_of(t) is not None for t in range(args.trials))
                for key, value in audit(run_dir, backend, args.trials, args.period, seed).items():
                    totals[key] = max(totals[key], value) if key == "stall" else totals[key] + value
        row = (backend, totals["faults"], f"{totals['runs']}/{args.rounds}", totals["good_lost"],
               totals["wrong_reason"], totals["kills"], totals["lost"], totals["duplicated"],
               f"{totals['stall']:.1f}", f"{time.perf_counter() - started:.1f}")
        print(("{:<11}" + "{:>13}" * (len(header) - 1)).format(*row), flush=True)


if __name__ == "__main__":
    main()
