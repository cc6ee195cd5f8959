"""How long a simulated run may last before a method runs out of a table's rows.

In a simulated run the cost of an epoch is the table's ``epoch_time``. An asynchronous
successive-halving run (ASHA, A-BOHB promotion/stopping) with eta = 3 over 1..81 epochs spends a share
``f`` of its ``W * H`` worker-seconds on rung 1, one epoch per *new* configuration, so it tries about
``f * W * H / c`` rows for a mean per-epoch cost ``c``; it is the method that tries the most rows
(synchronous Hyperband/BOHB with overlapping brackets try about a third as many, random search one
per 81 epochs). In steady state ``f = 1 / (1 + 4 * 2/3) = 0.27`` (each rung gets 1/3 of the
previous one's trials, for 2/3 of the epochs so far); measured with the kit's ASHA on a 20,000-row
synthetic table scaled to ``c = 0.1`` s, 8 workers, 180 s, restricted to the table (distinct rows
x ``c`` / worker-seconds): ASHA promotion 0.206, ASHA stopping 0.217, A-BOHB promotion 0.178,
Hyperband with overlapping brackets 0.085, BOHB 0.070, random search 0.012. ASHA tries the most
because promoted configurations tend to be the more expensive ones. :data:`RUNG1_SHARE` = 0.25
is on the safe side of every measured method.
"""
from __future__ import annotations

import numpy as np

#: share of worker time ASHA-type methods spend on rung 1 (eta 3, 1..81 epochs); see the module docstring
RUNG1_SHARE = 0.25


def supported_horizon(n_configs: int, mean_epoch_cost: float, n_workers: int, share: float = RUNG1_SHARE,
                      headroom: float = 0.8) -> float:
    """The longest horizon (simulated s) at which ASHA is expected to try at most ``headroom`` of the rows.

    From ``tried = share * n_workers * H / c <= headroom * n_configs``.
    """
    if not (n_configs >= 1 and mean_epoch_cost > 0 and n_workers >= 1 and 0 < share <= 1 and 0 < headroom <= 1):
        raise ValueError("need n_configs >= 1, mean_epoch_cost > 0, n_workers >= 1, 0 < share <= 1, "
                         f"0 < headroom <= 1; got {n_configs}, {mean_epoch_cost}, {n_workers}, {share}, {headroom}")
    return headroom * n_configs * mean_epoch_cost / (share * n_workers)


def table_supported_horizon(table, n_workers: int, share: float = RUNG1_SHARE, headroom: float = 0.8) -> float:
    """:func:`supported_horizon` for a :class:`~hpo_kit.objectives.tabular.LearningCurveTable`'s rows and costs."""
    if table.epoch_time is None or not np.all(np.isfinite(table.epoch_time)):
        raise ValueError("the table has no finite epoch_time: a simulated run needs per-epoch costs")
    return supported_horizon(table.n_configs, float(np.mean(table.epoch_time)), n_workers, share, headroom)


def expected_rows_tried(table, n_workers: int, horizon: float, share: float = RUNG1_SHARE) -> float:
    """Rows an ASHA-type run is expected to try in ``horizon`` simulated seconds."""
    return share * n_workers * horizon / float(np.mean(table.epoch_time))


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
