"""A-BOHB's cost as observations grow, and what the data cap changes. Prints figures; not a test.

1. ``suggest()`` time of A-BOHB's GP searcher at 500 / 1,000 / 2,000 / 5,000 observations (4 pending
   jobs, candidates = the table's rows), with the cap (``max_model_points``, default 256) and
   without it (uncapped only up to 2,000: beyond that one suggestion takes seconds). Goal: <= 10 ms
   at 5,000 observations with the cap.
2. Simulated A-BOHB (promotion) runs on the table (default: the shipped 512-row one), 4 workers, eta 3,
   1..81 epochs, rows as candidates with ``on_exhausted="repeat"`` (on the 512-row table, runs go on to
   thousands of mostly repeated jobs; on a table the horizon does not exhaust, every job is a new or
   promoted row): CPU seconds at 60 / 180 / 600 simulated seconds with the cap, and the
   180 s run also without it. Goal: the 180 s run in <= 20 CPU s, anytime error (mean over seeds of
   the incumbent on a time grid) not worse than without the cap. The host's speed varies (a shared
   machine): compare the ratio capped / uncapped measured in the same run.
3. Every method on the same table at 60 / 180 / 600 s (``on_exhausted="stop"``): distinct
   configurations started by each horizon and the simulated time at which the method ran out of
   rows (``HPOResult.exhausted_at``; inf = not within the horizon).

Run: ``python bench/abohb_cost.py`` (``--quick``: fewer sizes, one seed, 60 s / 180 s only;
``--benchmark NAME`` picks a table from ``hpo_kit.blackboxes.registry``, ``--table-rows N`` its first N rows,
``--workers W`` the workers of part 3).
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hpo_kit.analysis import curves  # noqa: E402
from hpo_kit.backends.simulator import SimulatorBackend  # noqa: E402
from hpo_kit.methods import make_scheduler, make_searcher  # noqa: E402
from hpo_kit.objectives.tabular import TabularObjective  # noqa: E402
from hpo_kit.parallel import limit_threads  # noqa: E402
from hpo_kit.stopping import StopCriteria  # noqa: E402
from hpo_kit.tuner import run_hpo  # noqa: E402

METHODS = ("random", "hyperband", "bohb", "asha-stopping", "asha-promotion", "abohb-stopping", "abohb-promotion")


def load(benchmark: str, rows: int):
    from hpo_kit.blackboxes.registry import load_blackbox

    return load_blackbox(benchmark, cost="cpu", max_rows=rows or None)


def suggestion_ms(objective: TabularObjective, n_obs: int, cap: int | None, repeats: int = 15) -> float:
    """Median CPU ms per suggest() with ``n_obs`` observations at the rung levels and 4 pending jobs."""
    rng = np.random.default_rng(0)
    config = {"max_model_points": cap}
    searcher = make_searcher("gp-multi-fidelity", objective.space, 0, objective.max_resource, config,
                             candidates=objective.candidates())
    rows = objective.candidates()
    levels = [1, 3, 9, 27, 81]
    weights = np.array([81, 27, 9, 3, 1], float)
    for t in range(n_obs):
        row = int(rng.integers(len(rows)))
        r = int(rng.choice(levels, p=weights / weights.sum()))
        searcher.on_result(t, rows[row], r, objective.evaluate(rows[row], r, 0).loss)
    for t in range(4):
        searcher.on_pending(n_obs + t, rows[t], 1)
    searcher.suggest()  # the first call fits the hyperparameters and factorises: not timed
    times = []
    for i in range(repeats):
        # one new observation per suggestion, as in a run: the factor grows by one row
        row = int(rng.integers(len(rows)))
        searcher.on_result(n_obs + 10 + i, rows[row], 1, objective.evaluate(rows[row], 1, 0).loss)
        searcher.pool._untried[:] = True  # keep all rows scorable: the worst case
        start = time.thread_time()       # CPU time of this thread: robust to a loaded host
        searcher.suggest()
        times.append(time.thread_time() - start)
    return 1000 * float(np.median(times))


def simulate(objective, method, horizon, seed, root, workers=4, **options):
    scheduler = make_scheduler(method, objective.space, 1, objective.max_resource, 3, seed=seed,
                               candidates=objective.candidates(), **options)
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = run_hpo(objective, scheduler, SimulatorBackend(workers),
                         Path(root) / f"{method}_{horizon}_{seed}_{workers}_{id(options)}",
                         seed, stop=StopCriteria(max_time=horizon), resume=False, progress=False)
    return result, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--benchmark", default="mnist_mlp")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--table-rows", type=int, default=0, help="use only the first rows of the table (0: all)")
    parser.add_argument("--workers", type=int, default=4, help="simulated workers of part 3")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip (1,2,3)")
    args = parser.parse_args()
    skip = set(args.skip.split(",")) - {""}
    limit_threads()  # one BLAS (and torch) thread: the figures are per core
    table = load(args.benchmark, args.table_rows)
    objective = TabularObjective(table)
    print(f"benchmark {args.benchmark}: {table.n_configs} configurations x {table.n_epochs} epochs")
    seeds = range(1 if args.quick else args.seeds)
    horizons = (60.0, 180.0) if args.quick else (60.0, 180.0, 600.0)

    if "1" not in skip:
        print("\n1. suggest() time, ms (median; 4 pending jobs; all rows scored)")
        sizes = (500, 5000) if args.quick else (500, 1000, 2000, 5000)
        for n in sizes:
            capped = suggestion_ms(objective, n, 256)
            uncapped = suggestion_ms(objective, n, None, repeats=5) if n <= 2000 else math.nan
            print(f"  {n:5d} observations: capped {capped:7.1f} ms   uncapped {uncapped:7.1f} ms")

    with tempfile.TemporaryDirectory() as root:
        if "2" not in skip:
            print("\n2. A-BOHB (promotion) CPU seconds, on_exhausted='repeat'")
            grid = curves.time_grid(180.0, 60, start=1.0)
            runs = {"capped": [], "uncapped": []}
            for h in horizons:
                cpu, jobs = [], []
                for seed in seeds:
                    result, seconds = simulate(objective, "abohb-promotion", h, seed, root, on_exhausted="repeat")
                    cpu.append(seconds)
                    jobs.append(result.n_evaluations)
                    if h == 180.0:
                        runs["capped"].append(result.log)
                print(f"  {h:5.0f} s capped:   {np.mean(cpu):6.1f} CPU s (mean of {len(cpu)}), {np.mean(jobs):.0f} jobs")
            cpu = []
            for seed in seeds:
                result, seconds = simulate(objective, "abohb-promotion", 180.0, seed, root, on_exhausted="repeat",
                                           searcher_config={"max_model_points": None})
                cpu.append(seconds)
                runs["uncapped"].append(result.log)
            print(f"    180 s uncapped: {np.mean(cpu):6.1f} CPU s")
            anytime = {k: np.nanmean([curves.incumbent_on_grid(log, grid) for log in v], axis=0) for k, v in runs.items()}
            diff = anytime["capped"] - anytime["uncapped"]
            print(f"  anytime error capped - uncapped over 1..180 s: mean {np.nanmean(diff) * 100:+.3f} points, "
                  f"max {np.nanmax(diff) * 100:+.3f} points (<= 0: the cap is not worse)")
            for t in (5, 20, 60, 180):
                i = int(np.argmin(np.abs(grid - t)))
                print(f"    at {grid[i]:5.1f} s: capped {anytime['capped'][i]:.4f}  uncapped {anytime['uncapped'][i]:.4f}")

        if "3" not in skip:
            print(f"\n3. distinct configurations started by each horizon, and when the rows ran out (on_exhausted='stop', "
                  f"{args.workers} workers)")
            header = "  method            " + "".join(f"{f'<= {h:g} s':>12}" for h in horizons) + "   ran out at (s)"
            print(header)
            for method in METHODS:
                distinct = {h: [] for h in horizons}
                out = []
                for seed in seeds:
                    rule = {"bracket_rule": "hpbandster"} if method in ("hyperband", "bohb") else {}
                    result, _ = simulate(objective, method, max(horizons), seed, root, workers=args.workers,
                                         on_exhausted="stop", **rule)
                    starts = result.log[result.log["event"] == "start"]
                    for h in horizons:
                        distinct[h].append(int((starts["time"] <= h).sum()))
                    out.append(math.inf if result.exhausted_at is None else result.exhausted_at)
                print(f"  {method:18s}" + "".join(f"{np.mean(distinct[h]):12.0f}" for h in horizons)
                      + f"   {', '.join(f'{t:.1f}' for t in out)}")


if __name__ == "__main__":
    main()
