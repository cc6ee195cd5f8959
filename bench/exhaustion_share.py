"""How fast each method uses up a restricted table: the shares behind ``hpo_kit/blackboxes/sizing.py``.

Each method runs on the table's rows (``on_exhausted="stop"``, no decision time charged) with a
horizon long enough to try every row. The script prints, per seed, the simulated time at which the run
had tried every row and its *share*: rows x mean epoch cost / (workers x that time), the part of
the worker time that went to the first epoch of a new row. ``sizing.SHARES`` rounds each method's
worst share up. Prints figures; not a test.

Run: ``python bench/exhaustion_share.py --table-rows 1344 --workers 4 --seeds 10`` (``--methods`` to
pick methods; the defaults are the asynchronous ones, which use a table up fastest).
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abohb_cost import load, simulate  # noqa: E402

from hpo_kit.objectives.tabular import TabularObjective  # noqa: E402
from hpo_kit.parallel import limit_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmark", default="mnist_mlp_4k")
    parser.add_argument("--table-rows", type=int, default=0, help="use only the first rows of the table (0: all)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--horizon", type=float, default=1000.0, help="simulated seconds at most")
    parser.add_argument("--methods", nargs="+",
                        default=["abohb-stopping", "abohb-promotion", "asha-promotion", "asha-stopping"])
    args = parser.parse_args()
    limit_threads()  # one BLAS (and torch) thread per process
    table = load(args.benchmark, args.table_rows)
    objective = TabularObjective(table)
    c = float(np.mean(table.epoch_time))
    print(f"{args.benchmark}: {table.n_configs} rows, mean epoch cost {c:.4f} s, {args.workers} workers, "
          f"horizon {args.horizon:g} s")
    with tempfile.TemporaryDirectory() as root:
        for method in args.methods:
            times, shares = [], []
            for seed in range(args.seeds):
                result, _ = simulate(objective, method, args.horizon, seed, root, workers=args.workers,
                                     on_exhausted="stop")
                t = result.exhausted_at
                times.append(math.inf if t is None else t)
                shares.append(math.nan if t is None else table.n_configs * c / (args.workers * t))
            worst = np.nanmax(shares) if np.isfinite(shares).any() else math.nan
            print(f"  {method:16s} out at {', '.join(f'{t:.0f}' for t in times)} s; share "
                  f"{', '.join(f'{s:.3f}' for s in shares)}; worst {worst:.3f}", flush=True)


if __name__ == "__main__":
    main()
