"""How long does a searcher take to suggest a configuration, and the GP to fit?

Observations come from Hartmann6MF (d = 6) at Hyperband-like resources (many at low rungs, few at
the top: rungs 1, 3, 9, 27, 81 in proportions 81:27:9:3:1). Prints, one BLAS thread:

* suggest time of Random, KDE (BOHB; the model path, random_fraction=0) and GP-MF (A-BOHB)
  with 100, 300 and 1000 observations. For the GP the first suggestion includes the
  hyperparameter fit ("with fit"); later ones reuse the cached hyperparameters until the next
  refit is due ("steady");
* A-BOHB suggest with 300 observations and 4 pending jobs (goal: <= 0.2 s);
* GP hyperparameter fit time (L-BFGS-B, 3 starts) at 100, 300 and 1000 observations, with the
  default subsample of at most ``max_fit_points`` points, and on all points with --full-fit; and
  the time of a warm-started refit (the searcher's later refits: one start, fewer iterations).

All times are CPU seconds of this process (``time.process_time``), so load from other processes
on a shared machine distorts them less than wall-clock times; the load average is printed too.

    python bench/searcher_speed.py [--repeats 5] [--full-fit]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # a shared 2-core machine: one BLAS thread

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from hpo_kit.objectives.synthetic import Hartmann6MF  # noqa: E402
from hpo_kit.searchers.gp.kernels import Matern52ExpDecay  # noqa: E402
from hpo_kit.searchers.gp.model import fit_hyperparameters  # noqa: E402
from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher  # noqa: E402
from hpo_kit.searchers.kde import KDEConfig, KDESearcher  # noqa: E402
from hpo_kit.searchers.random_search import RandomSearcher  # noqa: E402

RUNGS = np.array([1, 3, 9, 27, 81])
WEIGHTS = np.array([81, 27, 9, 3, 1]) / 121


def observations(objective: Hartmann6MF, n: int, seed: int = 0):
    """``n`` (trial_id, config, resource, loss) tuples at Hyperband-like resources."""
    rng = np.random.default_rng(seed)
    sampler = RandomSearcher(objective.space, seed)
    out = []
    for t in range(n):
        config = sampler.suggest()
        resource = int(rng.choice(RUNGS, p=WEIGHTS))
        out.append((t, config, resource, objective.evaluate(config, resource, 0).loss))
    return out


def feed(searcher, data) -> None:
    for trial_id, config, resource, loss in data:
        searcher.on_result(trial_id, config, resource, loss)


def timed(fn, repeats: int) -> float:
    """Median CPU seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per figure (median)")
    parser.add_argument("--full-fit", action="store_true", help="also fit on all 1000 points")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be an integer >= 1, got {args.repeats}")
    objective = Hartmann6MF()
    data = {n: observations(objective, n) for n in (100, 300, 1000)}

    print("load average (1, 5, 15 min): %.1f %.1f %.1f on %d cores" % (*os.getloadavg(), os.cpu_count()))
    print("suggest CPU time [ms] (median of %d)" % args.repeats)
    print(f"{'observations':>12} {'random':>8} {'KDE':>8} {'GP-MF with fit':>15} {'GP-MF steady':>13}")
    for n, obs in data.items():
        random_searcher = RandomSearcher(objective.space, 0)
        kde = KDESearcher(objective.space, 0, KDEConfig(random_fraction=0.0))  # time the model
        feed(kde, obs)
        gp = GPMultiFidelitySearcher(objective.space, 0, max_resource=objective.max_resource)
        feed(gp, obs)
        start = time.process_time()
        gp.suggest()  # first suggestion: fits the hyperparameters
        with_fit = time.process_time() - start
        t_random = timed(random_searcher.suggest, args.repeats)
        t_kde = timed(kde.suggest, args.repeats)
        t_gp = timed(gp.suggest, args.repeats)
        print(f"{n:>12} {1e3 * t_random:>8.2f} {1e3 * t_kde:>8.2f} {1e3 * with_fit:>15.0f} "
              f"{1e3 * t_gp:>13.1f}")

    gp = GPMultiFidelitySearcher(objective.space, 0, max_resource=objective.max_resource)
    feed(gp, data[300])
    gp.suggest()  # fit once
    pending = RandomSearcher(objective.space, 99)
    for trial_id in range(4):
        gp.on_pending(1000 + trial_id, pending.suggest(), int(RUNGS[trial_id % 3]))
    t_pending = timed(gp.suggest, args.repeats)
    verdict = "OK" if t_pending <= 0.2 else "SLOWER THAN GOAL"
    print(f"\nA-BOHB suggest, 300 observations + 4 pending: {1e3 * t_pending:.1f} ms "
          f"(goal <= 200 ms: {verdict})")
    # the honest average: one result arrives before every suggestion, so one refit per cycle
    cycle = max(gp.config.refit_every, math.ceil(gp.config.refit_growth * 300))
    extra = observations(objective, cycle, seed=1)
    start = time.process_time()
    for trial_id, config, resource, loss in extra:
        gp.on_result(2000 + trial_id, config, resource, loss)
        gp.suggest()
    t_cycle = (time.process_time() - start) / cycle
    verdict = "OK" if t_cycle <= 0.2 else "SLOWER THAN GOAL"
    print(f"  same, averaged over {cycle} result+suggest steps incl. one hyperparameter refit: "
          f"{1e3 * t_cycle:.1f} ms ({verdict})")

    print("\nGP hyperparameter fit (Matern52 + exp-decay) [CPU s]: first fit (3 L-BFGS-B starts, "
          "<= %d iterations each) | warm-started refit (1 start, <= %d iterations)"
          % (gp.config.max_opt_iter, gp.config.max_opt_iter_refit))
    kernel = Matern52ExpDecay(6)
    cap = gp.config.max_fit_points
    sizes = [(100, min(100, cap)), (300, min(300, cap)), (1000, cap)]
    sizes += [(300, 300), (1000, 1000)] if args.full_fit else []
    for n, used in sizes:
        obs = data[n][:n]
        rng = np.random.default_rng(0)
        rows = np.sort(rng.choice(n, used, replace=False)) if used < n else np.arange(n)
        X = gp.encoder.impute(gp.encoder.encode_many([obs[i][1] for i in rows]))
        r = np.array([obs[i][2] for i in rows]) / objective.max_resource
        y = np.array([obs[i][3] for i in rows])
        y = (y - y.mean()) / y.std()
        Z = np.concatenate([X, r[:, None]], axis=1)
        start = time.process_time()
        theta = fit_hyperparameters(kernel, Z, y, rng, n_restarts=3, max_iter=gp.config.max_opt_iter)
        first = time.process_time() - start
        # a refit as the searcher does it: warm start from the previous optimum, on data that
        # changed a little (here: the targets with small noise added)
        y_new = y + 0.05 * rng.standard_normal(len(y))
        start = time.process_time()
        fit_hyperparameters(kernel, Z, y_new, rng, n_restarts=1, max_iter=gp.config.max_opt_iter_refit,
                            init=theta)
        refit = time.process_time() - start
        note = " (all points)" if used == n else f" (subsample of {used} = max_fit_points)"
        print(f"  {n:>5} observations: {first:6.2f} s | {refit:6.2f} s{note}")

if __name__ == "__main__":
    main()
