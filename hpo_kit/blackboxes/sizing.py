"""How long a simulated run may last before a method runs out of a table's rows.

In a simulated run the cost of an epoch is the table's ``epoch_time``. A method tries about
``share * W * H / c`` rows in ``H`` simulated seconds with ``W`` workers and a mean per-epoch cost
``c``: ``share`` is the part of its worker time that goes to the first epoch of a *new* row. For
asynchronous successive halving (eta = 3, 1..81 epochs) in steady state ``share = 1 / (1 + 4 * 2/3)
= 0.27`` (each rung gets 1/3 of the previous one's trials, for 2/3 of the epochs so far).

Measured shares (rows tried x ``c`` / worker-seconds until the run had tried every row, restricted to
the table, ``on_exhausted="stop"``, no decision time charged; ``bench/exhaustion_share.py``), worst of
10 seeds on the first 1,344 rows of ``mnist_mlp_4k``, 4 workers:

========================  =======  ====================================================
method                    share    note
========================  =======  ====================================================
``asha-stopping``         0.180    exhausted after 327-444 s
``asha-promotion``        0.173    341-390 s
``abohb-promotion``       0.190    311-364 s
``abohb-stopping``        0.472    125-245 s: see below
``hyperband``, ``bohb``   0.083    not exhausted in 600 s (1,135 / 1,119 rows started)
``random``                0.013    not exhausted in 600 s
========================  =======  ====================================================

A-BOHB with stopping is the outlier. Its GP picks the table's good rows first, so the top third
of first-rung results, which a new trial must join to go on, is soon made of good rows. Once those
are used up, almost every new row is stopped after one epoch (1,234 of 1,344 trials in one run),
and the run goes through the rest of the table at about one row per worker-epoch. A restricted table
is used up from its good end. On a continuous space the GP would keep proposing near its incumbents.
Its worst share elsewhere: 0.343 with 8 workers on the same rows (6 seeds; ASHA stopping 0.169), 0.421
with 4 workers on the first 704 rows (10 seeds, exhausted after 74-180 s), 0.483 with 4 workers on the
first 2,752 rows (10 seeds, exhausted after 235-448 s; A-BOHB promotion 0.190, 596-631 s; ASHA
promotion 0.183, 618-773 s; ASHA stopping 0.194, 583-885 s).

Ten seeds did not show the tail. Notebook 04's paper profile (the same 2,752 rows, 4 workers, 180 s,
30 seeds, 2 December 2026) had one A-BOHB stopping run (seed 12) try every row, at 178.9 s: share
0.633. Its runs are alike until the good rows are used up and then burn the rest of the table at up
to 30 rows a second (more than one row per worker-epoch, as the rows stopped after one epoch are
cheaper than average), so when that phase starts decides everything: rows tried by 180 s ranged
from 85 to 2,752 over the 30 seeds (median 310). A-BOHB promotion tried 247-662, ASHA
stopping 389-800.

:data:`SHARES` rounds each method's measured worst up (earlier synthetic measurements of ASHA, 20,000
rows, 8 workers, were 0.21-0.22), and a run is judged by its worst method. A-BOHB stopping's 0.7
covers the 30-seed worst (0.633); with the 20 % headroom, seed 12 would have tried under half of
the rows at the supported horizon. The same protocol on all 4,096 rows at 180 s (2 December 2026):
no run of any method tried every row; A-BOHB stopping tried 118-1,039 rows (median 261; 87-970 with
decision time charged), A-BOHB promotion 212-566, ASHA stopping 415-962, ASHA promotion 560-848.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

#: rows-tried share of worker time per method (see the module docstring); unknown methods get the largest
SHARES = {"random": 0.02, "hyperband": 0.1, "bohb": 0.1, "asha-stopping": 0.25, "asha-promotion": 0.25,
          "abohb-promotion": 0.25, "abohb-stopping": 0.7}
WORST_SHARE = max(SHARES.values())


def run_share(methods: Iterable[str] | None = None) -> float:
    """The share of the method in ``methods`` that tries rows fastest (all methods when None)."""
    methods = list(methods) if methods is not None else list(SHARES)
    if not methods:
        raise ValueError("methods must name at least one method")
    return max(SHARES.get(m, WORST_SHARE) for m in methods)


def supported_horizon(n_configs: int, mean_epoch_cost: float, n_workers: int, share: float = WORST_SHARE,
                      headroom: float = 0.8) -> float:
    """The longest horizon (simulated s) at which a method is expected to try at most ``headroom`` of the rows.

    From ``tried = share * n_workers * H / c <= headroom * n_configs``.
    """
    if not (n_configs >= 1 and mean_epoch_cost > 0 and n_workers >= 1 and 0 < share <= 1 and 0 < headroom <= 1):
        raise ValueError("need n_configs >= 1, mean_epoch_cost > 0, n_workers >= 1, 0 < share <= 1, "
                         f"0 < headroom <= 1; got {n_configs}, {mean_epoch_cost}, {n_workers}, {share}, {headroom}")
    return headroom * n_configs * mean_epoch_cost / (share * n_workers)


def table_supported_horizon(table, n_workers: int, methods: Iterable[str] | None = None,
                            headroom: float = 0.8) -> float:
    """:func:`supported_horizon` for a :class:`~hpo_kit.objectives.tabular.LearningCurveTable`'s rows and
    costs, for the fastest of ``methods`` (all when None)."""
    if table.epoch_time is None or not np.all(np.isfinite(table.epoch_time)):
        raise ValueError("the table has no finite epoch_time: a simulated run needs per-epoch costs")
    return supported_horizon(table.n_configs, float(np.mean(table.epoch_time)), n_workers, run_share(methods),
                             headroom)


def expected_rows_tried(table, n_workers: int, horizon: float, methods: Iterable[str] | None = None) -> float:
    """Rows the fastest of ``methods`` is expected to try in ``horizon`` simulated seconds."""
    return run_share(methods) * n_workers * horizon / float(np.mean(table.epoch_time))


def target_report(table, quantiles=(0.1, 0.03, 0.01, 0.003, 0.001), epochs=(1, 3, 9, 27, 81)) -> list[dict]:
    """How hard the quantile targets of a table's final validation errors are.

    One dict per quantile: ``target`` (the error), ``gap_to_best`` (target - best final error) and,
    per epoch ``e`` in ``epochs`` (those within the table), ``share_at_<e>``: the share of rows whose
    error after ``e`` epochs is <= the target (a target reached by many rows after one epoch is
    reached within seconds by any method; one that only a few rows reach after many epochs
    separates methods by how fast they find and train those rows).
    """
    final = table.val_error[:, -1]
    finite = np.isfinite(final)
    if not finite.any():
        raise ValueError("the table has no finite final validation error")
    best = float(final[finite].min())
    out = []
    for q in quantiles:
        target = float(np.quantile(final[finite], q))
        row = {"quantile": q, "target": target, "gap_to_best": target - best,
               "rows_reaching_final": int(np.sum(final[finite] <= target))}
        for e in epochs:
            if 1 <= e <= table.n_epochs:
                row[f"share_at_{e}"] = float(np.mean(np.nan_to_num(table.val_error[:, e - 1], nan=np.inf) <= target))
        out.append(row)
    return out
