"""End-to-end null checks of every comparative claim: one row per claim and design.

Each case (``hpo_kit/<paper>/null_checks.py``) runs the notebook's own experiment and claim code with
the compared factor removed, many times, and counts the verdicts that are then false (see
``hpo_kit/null_checks.py``). The row gives the replicates, the false-holds rate with its one-sided upper
95 % bound, the does-not-hold rate (marked where it is not a false verdict for that case), and whether
the case stays within the bar (every counted bound at most alpha + 2.5 points). Prints figures; the
fast cases are also asserted by ``tests/test_null_checks_*.py`` in ``make test``.

Run: ``python bench/calibration_e2e.py`` (every case at its own replicate count),
``--fast`` (only the cases ``make test`` runs), ``--only 04 nas`` (notebook numbers or package
names), ``--replicates N`` (override), ``--csv out.csv`` (the table as CSV as well).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hpo_kit.null_checks import PACKAGES, all_cases, check  # noqa: E402
from hpo_kit.parallel import limit_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="only the cases make test runs (slow=False)")
    parser.add_argument("--only", nargs="+", default=[], help="notebook numbers (01) or packages (mbrl_hpo)")
    parser.add_argument("--replicates", type=int, default=0, help="override every case's replicate count")
    parser.add_argument("--csv", default="", help="also write the table to this CSV file")
    args = parser.parse_args()
    limit_threads()
    packages = PACKAGES
    cases = all_cases(packages)
    if args.only:
        cases = [c for c in cases if any(c.notebook.startswith(o) or o in c.notebook for o in args.only)
                 or any(o == p for o in args.only for p in packages if f"hpo_kit.{p}." in c.replicate.__module__)]
    if args.fast:
        cases = [c for c in cases if not c.slow]
    if not cases:
        print("no case selected", file=sys.stderr)
        sys.exit(2)
    rows = []
    for case in cases:
        started = time.process_time()
        result = check(case, args.replicates or None)
        row = result.as_row()
        row["cpu_s"] = round(time.process_time() - started, 1)
        rows.append(row)
        print(result.summary(), f"({row['cpu_s']} CPU s)", flush=True)
    table = pd.DataFrame(rows)
    shown = table.assign(
        false_holds=[f"{r:.1%} (<= {u:.1%})" for r, u in zip(table.false_holds, table.false_holds_upper95)],
        does_not_hold=[f"{r:.1%} (<= {u:.1%})" + ("" if counted else " n/a") for r, u, counted in
                       zip(table.does_not_hold, table.does_not_hold_upper95, table.does_not_hold_counted)])
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print()
        print(shown[["notebook", "claim", "design", "replicates", "false_holds", "does_not_hold", "within_bar",
                     "cpu_s"]].to_string(index=False))
    outside = table[~table.within_bar]
    print(f"\n{len(table) - len(outside)} of {len(table)} cases within the bar")
    if args.csv:
        table.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
