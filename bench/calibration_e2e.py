"""End-to-end null checks of every comparative claim: one row per claim and design.

Each case (``hpo_kit/<paper>/null_checks.py``) runs the notebook's own experiment and claim code with
the compared factor removed, many times, and counts the verdicts that are then false (see
``hpo_kit/null_checks.py``). The row gives the replicates, the false-holds rate with its one-sided upper
95 % bound, the does-not-hold rate (marked where it is not a false verdict for that case), and whether
the case stays within the bar (every counted bound at most alpha + 2.5 points). Prints figures; the
fast cases are also asserted by ``tests/test_null_checks_*.py`` in ``make test``.

Run: ``python bench/calibration_e2e.py`` (every case at its own replicate count),
``--fast`` (only the cases ``make test`` runs), ``--only 04 nas`` (notebook numbers or package
names), ``--design workshop`` (one design), ``--claim "Neighbouring"`` (claims containing the text), ``--replicates N`` (override), ``--csv out.csv`` (the
table as CSV as well).

Each finished replicate's verdict is written to ``results/calibration/<design>/<case>.jsonl``
(``--store``; ``--no-store`` keeps nothing), so an interrupted measurement resumes where it stopped, and
only into the same code and case settings (a shard from other code is moved aside as ``.stale``).
``--report`` runs nothing: it prints the stored measurements and writes them to
``results/calibration/TABLE.md`` and ``table.csv``, the record the README links.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hpo_kit.null_checks import DESIGNS, PACKAGES, all_cases, check, code_digest, package_of, stored_result  # noqa: E402
from hpo_kit.parallel import limit_threads  # noqa: E402


STATUS_TEXT = {"within": "yes", "outside": "**no**", "open": "open ({n} of {N})"}
STORE = Path(__file__).resolve().parent.parent / "results" / "calibration"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="only the cases make test runs (slow=False)")
    parser.add_argument("--only", nargs="+", default=[], help="notebook numbers (01) or packages (mbrl_hpo)")
    parser.add_argument("--replicates", type=int, default=0, help="override every case's replicate count")
    parser.add_argument("--csv", default="", help="also write the table to this CSV file")
    parser.add_argument("--design", choices=DESIGNS, default=None, help="only the cases of this design")
    parser.add_argument("--claim", default="", help="only the cases whose claim contains this text")
    parser.add_argument("--store", default=str(STORE), help="folder of the resumable verdict shards")
    parser.add_argument("--no-store", action="store_true", help="keep nothing on disk (and resume nothing)")
    parser.add_argument("--report", action="store_true", help="run nothing: table the stored verdicts")
    args = parser.parse_args()
    if args.replicates < 0:
        parser.error(f"--replicates must be >= 0, got {args.replicates}")
    if args.report and args.no_store:
        parser.error("--report reads the stored verdicts: it cannot be combined with --no-store")
    limit_threads()
    packages = PACKAGES
    cases = all_cases(packages)
    if args.only:
        cases = [c for c in cases if any(c.notebook.startswith(o) or o in c.notebook for o in args.only)
                 or any(o == p for o in args.only for p in packages if f"hpo_kit.{p}." in c.replicate.__module__)]
    if args.fast:
        cases = [c for c in cases if not c.slow]
    if args.design:
        cases = [c for c in cases if c.design == args.design]
    if args.claim:
        cases = [c for c in cases if args.claim.lower() in c.claim.lower()]
    if not cases:
        print("no case selected", file=sys.stderr)
        sys.exit(2)
    rows = []
    store = None if args.no_store else Path(args.store)
    for case in cases:
        started = time.process_time()
        code = code_digest(package_of(case))
        if args.report:
            result, code = stored_result(case, store, any_code=True)
            if not result.n:
                continue
        else:
            result = check(case, args.replicates or None, store=store)
        row = result.as_row()
        row["package"] = package_of(case)
        row["code"] = code
        row["current_code"] = code == code_digest(package_of(case))
        row["cpu_s"] = round(time.process_time() - started, 1)
        rows.append(row)
        print(result.summary(), f"({row['cpu_s']} CPU s)", flush=True)
    if not rows:
        print("nothing stored for the selected cases", file=sys.stderr)
        sys.exit(1)
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
    if args.report:
        write_record(table, store, len(cases))


def write_record(table: pd.DataFrame, store: Path, n_selected: int) -> None:
    """The stored measurements as the table of record (Markdown for readers, CSV for tools)."""
    table.drop(columns=["cpu_s"]).to_csv(store / "table.csv", index=False)
    lines = ["# End-to-end null checks: measured false-verdict rates", "",
             "Written by `python bench/calibration_e2e.py --report` from the verdict shards beside this file",
             "(one JSON line per replicate; `make calibration` adds to them and resumes). Each row runs the",
             "notebook's own experiment and claim code with the compared factor removed; a false rate is within",
             "the bar when its one-sided upper 95 % Clopper-Pearson bound is at most alpha + 2.5 points.",
             "\"n/a\" marks a rate of a verdict that is correct for that case (not a false one). \"code\" is the digest",
             "of the kit's code the row was measured with (`hpo_kit.null_checks.code_digest`); a row marked",
             "\"older code\" was measured before the last change to the code it depends on.", "",
             f"{int((table.status == 'within').sum())} of {len(table)} measured cases within the bar, "
             f"{int((table.status == 'outside').sum())} shown outside it, {int((table.status == 'open').sum())} "
             f"not decided yet (too few replicates); {n_selected - len(table)} registered case(s) not measured.", "",
             "\"open\" rows: neither within the bar nor outside it yet (the lower 95 % bound of each counted",
             "rate is below the limit and the upper one above it); more replicates decide them.", "",
             "| notebook | claim | design | replicates | false holds (upper 95 %) | does not hold (upper 95 %) "
             "| within the bar | code |", "|---|---|---|---:|---|---|---|---|"]
    for r in table.itertuples():
        dnh = f"{r.does_not_hold:.1%} ({r.does_not_hold_upper95:.1%})" + ("" if r.does_not_hold_counted else " n/a")
        lines.append(f"| {r.notebook[:2]} | {r.claim} | {r.design} | {r.replicates} | "
                     f"{r.false_holds:.1%} ({r.false_holds_upper95:.1%}){'' if r.holds_counted else ' n/a'} | {dnh} | "
                     f"{STATUS_TEXT[r.status].format(n=r.replicates, N=r.planned_replicates)} | `{r.code}`{'' if r.current_code else ' (older code)'} |")
    (store / "TABLE.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {store / 'TABLE.md'} and {store / 'table.csv'}")


if __name__ == "__main__":
    main()
