"""How fast is the HPO engine itself? Prints figures; not a test.

1. Decision time: microseconds per scheduler decision (next_job + on_result) after 100, 300 and
   1000 observations, with pre-drawn configurations so the scheduler's own cost shows; and
   milliseconds per ``suggest()`` of each searcher at the same numbers of observations.
2. Simulator throughput: log events per second (and evaluations per second) of ASHA + random search
   on an 81-epoch table with 4 and 32 simulated workers. Goal: >= 10,000 events/s.
3. A 2-hour simulated A-BOHB run with 4 workers on an 81-epoch table: CPU seconds. Goal: <= 30 s.

Run: ``python bench/engine_speed.py`` (``--quick`` for a fast smoke pass; ``--only-abohb`` for
part 3 alone, with both A-BOHB variants, promotion and stopping). The table is
synthetic (``hpo_kit.objectives.tabular.synthetic_table``) unless ``--table path.npz`` is given.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hpo_kit.backends.simulator import SimulatorBackend  # noqa: E402
from hpo_kit.methods import make_scheduler, make_searcher  # noqa: E402
from hpo_kit.objectives.tabular import LearningCurveTable, TabularObjective, synthetic_table  # noqa: E402
from hpo_kit.searchers.base import Searcher  # noqa: E402
from hpo_kit.stopping import StopCriteria  # noqa: E402
from hpo_kit.trial import Evaluation  # noqa: E402
from hpo_kit.tuner import run_hpo  # noqa: E402

SCHEDULERS = ("random", "hyperband", "asha-stopping", "asha-promotion")
SEARCHERS = ("random", "kde", "gp", "gp-multi-fidelity")


def limit_threads() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def feed_scheduler(scheduler, objective: TabularObjective, n: int, seed: int) -> None:
    """Drive ``scheduler`` with 4 imaginary workers until ``n`` results were reported."""
    pending = []
    reported = 0
    while reported < n:
        while len(pending) < 4 and (job := scheduler.next_job()) is not None:
            pending.append(job)
        job = pending.pop(0)
        scheduler.on_result(job, objective.evaluate(job.config, job.resource, seed,
                                                     previous_resource=job.previous_resource))
        if hasattr(scheduler, "pop_decisions"):
            scheduler.pop_decisions()
        reported += 1
    scheduler._bench_pending = pending


class PreDrawnSearcher(Searcher):
    """Hands out the table's configurations in turn: costs nothing, so the scheduler's own time shows."""

    def __init__(self, objective: TabularObjective):
        super().__init__(objective.space, seed=0)
        self.configs = objective.candidates()
        self.count = 0

    def suggest(self):
        self.count += 1
        return self.configs[self.count % len(self.configs)]


def scheduler_decision_time(method: str, objective: TabularObjective, n_obs: int, repeats: int) -> float:
    """Microseconds per decision (one next_job + one on_result) after ``n_obs`` results."""
    scheduler = make_scheduler(method, objective.space, 1, objective.max_resource, eta=3, seed=0)
    scheduler.searcher = PreDrawnSearcher(objective)
    feed_scheduler(scheduler, objective, n_obs, seed=0)
    pending = scheduler._bench_pending
    evaluation = Evaluation(0.5, 1.0)
    started = time.perf_counter()
    decisions = 0
    for i in range(repeats):
        job = scheduler.next_job()
        if job is not None:
            pending.append(job)
        if pending:
            scheduler.on_result(pending.pop(0), Evaluation(0.5 + 1e-6 * i, 1.0) if i % 2 else evaluation)
            decisions += 1
    return (time.perf_counter() - started) / max(decisions, 1) * 1e6


def searcher_suggest_time(kind: str, objective: TabularObjective, n_obs: int, repeats: int) -> float:
    """Milliseconds per suggest() after ``n_obs`` observations spread over ASHA's rungs."""
    searcher = make_searcher(kind, objective.space, seed=0, max_resource=objective.max_resource)
    rng = np.random.default_rng(0)
    levels = [1, 3, 9, 27, 81] if kind != "gp" else [objective.max_resource]
    weights = np.array([81, 27, 9, 3, 1][: len(levels)], dtype=float)
    for trial_id in range(n_obs):
        config = objective.candidates()[int(rng.integers(objective.table.n_configs))]
        resource = int(rng.choice(levels, p=weights / weights.sum()))
        loss = objective.evaluate(config, resource, 0).loss
        searcher.on_result(trial_id, config, resource, loss if math.isfinite(loss) else 1.0)
    for trial_id in range(n_obs, n_obs + 4):   # four running jobs, as with four workers
        searcher.on_pending(trial_id, objective.candidates()[trial_id % objective.table.n_configs], levels[0])
    searcher.suggest()                        # first call may fit hyperparameters from scratch
    started = time.perf_counter()
    for _ in range(repeats):
        searcher.suggest()
    return (time.perf_counter() - started) / repeats * 1e3


def time_searcher(searcher) -> list[float]:
    """Make ``searcher`` add the CPU seconds of its suggest/on_result/on_pending calls to a counter."""
    spent = [0.0]
    for name in ("suggest", "on_result", "on_pending", "on_failure"):
        method = getattr(searcher, name)

        def timed(*args, _method=method, **kwargs):
            started = time.process_time()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - started

        setattr(searcher, name, timed)
    return spent


def simulator_throughput(objective: TabularObjective, n_workers: int, n_evaluations: int) -> dict[str, float]:
    """Events and evaluations per second (wall and CPU) of a simulated ASHA + random-search run,
    log writing and the final log read included; and the share of time spent in the searcher."""
    scheduler = make_scheduler("asha-promotion", objective.space, 1, objective.max_resource, eta=3, seed=0)
    spent_suggesting = time_searcher(scheduler.searcher)
    with tempfile.TemporaryDirectory() as run_dir:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_hpo(objective, scheduler, SimulatorBackend(n_workers), run_dir, seed=0,
                         stop=StopCriteria(max_evaluations=n_evaluations), progress=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    events = len(result.log)
    return {"events_wall": events / wall, "events_cpu": events / cpu, "evaluations_cpu": result.n_evaluations / cpu,
            "suggest_share": spent_suggesting[0] / cpu,
            "events_cpu_without_searcher": events / (cpu - spent_suggesting[0])}


def abohb_cpu_seconds(objective: TabularObjective, hours: float, n_workers: int,
                      method: str = "abohb-promotion") -> tuple[float, float, int]:
    """(CPU seconds in total, of which in the GP searcher, evaluations) of a simulated A-BOHB run."""
    scheduler = make_scheduler(method, objective.space, 1, objective.max_resource, eta=3, seed=0)
    in_searcher = time_searcher(scheduler.searcher)
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.process_time()
        result = run_hpo(objective, scheduler, SimulatorBackend(n_workers), run_dir, seed=0,
                         stop=StopCriteria(max_time=hours * 3600), progress=True)
        return time.process_time() - started, in_searcher[0], result.n_evaluations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds instead of minutes")
    parser.add_argument("--table", type=Path, help="an 81-epoch LearningCurveTable .npz (default: synthetic)")
    parser.add_argument("--skip-abohb", action="store_true", help="skip the 2-hour A-BOHB simulation")
    parser.add_argument("--only-abohb", action="store_true",
                        help="run only part 3, for both A-BOHB variants (promotion and stopping)")
    args = parser.parse_args()
    if args.skip_abohb and args.only_abohb:
        parser.error("--skip-abohb and --only-abohb exclude each other")
    limit_threads()
    table = LearningCurveTable.from_npz(args.table) if args.table else synthetic_table(1000, 81, seed=0)
    objective = TabularObjective(table)
    print(f"table: {table.n_configs} configurations x {table.n_epochs} epochs "
          f"({'file ' + str(args.table) if args.table else 'synthetic'})\n")

    if args.only_abohb:
        abohb_report(objective, args.quick, ("abohb-promotion", "abohb-stopping"))
        return
    sizes = (100, 300) if args.quick else (100, 300, 1000)
    print("1a. scheduler decision time (searcher cost excluded), microseconds per next_job + on_result")
    print(f"{'scheduler':<16}" + "".join(f"{n:>10} obs" for n in sizes))
    for method in SCHEDULERS:
        row = [scheduler_decision_time(method, objective, n, repeats=200 if args.quick else 1000) for n in sizes]
        print(f"{method:<16}" + "".join(f"{v:>14.1f}" for v in row))

    print("\n1b. searcher suggest() time, milliseconds per suggestion (4 pending jobs)")
    print(f"{'searcher':<18}" + "".join(f"{n:>10} obs" for n in sizes))
    for kind in SEARCHERS:
        try:
            row = [searcher_suggest_time(kind, objective, n, repeats=2 if args.quick else 5) for n in sizes]
        except ImportError as error:
            print(f"{kind:<18}  not available ({error})")
            continue
        print(f"{kind:<18}" + "".join(f"{v:>14.1f}" for v in row))

    print("\n2. simulator throughput, ASHA (promotion) + random search, 81-epoch table")
    n_evaluations = 3000 if args.quick else 20000
    print("(per CPU second of this process, so other load on the machine matters less; wall in brackets)")
    for n_workers in (4, 32):
        f = simulator_throughput(objective, n_workers, n_evaluations)
        verdict = "meets" if f["events_cpu"] >= 10_000 else "misses"
        print(f"{n_workers:>3} workers: {f['events_cpu']:>9,.0f} events/s [{f['events_wall']:,.0f} wall] "
              f"({f['evaluations_cpu']:,.0f} evaluations/s) - {verdict} the 10,000 events/s goal; "
              f"random search takes {100 * f['suggest_share']:.0f} % of the time, "
              f"the engine alone runs {f['events_cpu_without_searcher']:,.0f} events/s")

    if not args.skip_abohb:
        abohb_report(objective, args.quick, ("abohb-promotion",))


def abohb_report(objective: TabularObjective, quick: bool, methods: tuple[str, ...]) -> None:
    """Part 3: CPU seconds of a simulated A-BOHB run per method (2 hours, or 15 minutes if quick)."""
    hours = 0.25 if quick else 2.0
    for method in methods:
        variant = method.split("-", 1)[1]
        print(f"\n3. {hours:g}-hour simulated A-BOHB ({variant}) run, 4 workers, 81-epoch table")
        try:
            cpu, in_searcher, n = abohb_cpu_seconds(objective, hours, 4, method)
        except ImportError as error:
            print(f"GP searcher not available ({error})")
        else:
            goal = "meets" if cpu <= 30 else "misses"
            print(f"{cpu:.1f} CPU seconds for {n} evaluations ({in_searcher:.1f} s in the GP searcher, "
                  f"{cpu - in_searcher:.1f} s in the engine) - {goal} the 30 s goal"
                  + (" (quick run: scale up for the real figure)" if quick else ""))


if __name__ == "__main__":
    main()
