"""Average ranks and critical differences, as HPO-B computes them (one procedure for the whole kit).

Input: a matrix of regrets, one row per *block* (a task and seed: every method ran from the same
initial design), one column per method, lower is better. The procedure (HPO-B's ``benchmark_plot.py``
and ``cd_diagram.py``, read for the facts, not copied):

1. in every block the regrets are rounded to 8 decimals and ranked, 1 = best, ties sharing their mean
   rank (rounding makes float noise a tie, as it is in HPO-B's tables); the average rank of a method is
   its mean over blocks;
2. Friedman's test over the blocks; only if it rejects at ``alpha`` (the gate) are pairs compared;
3. every pair: Wilcoxon's signed-rank test on the two methods' per-block ranks
   (``zero_method="pratt"``), with Holm's step-down correction over the pairs. HPO-B's own copy of
   ``cd_diagram.py`` has the Holm line commented out, so its published diagrams are uncorrected; the
   kit corrects.

Nemenyi's critical difference (Demsar 2006) is returned for reference; decisions use the tests above.
Used by notebook 05's critical-difference diagrams (:mod:`hpo_kit.gen_vae.analysis`) and by the
searcher-quality suite (``bench/searcher_quality.py``).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps

from hpo_kit.stats import holm

#: HPO-B rounds regrets to this many decimals before ranking
ROUND_DECIMALS = 8


def block_ranks(regrets: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) within each row of ``regrets`` (blocks x methods) after rounding; ties share."""
    return np.apply_along_axis(sps.rankdata, 1, np.round(np.asarray(regrets, dtype=float), ROUND_DECIMALS))


def holm_reject(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Which comparisons Holm's step-down rejects at family-wise level ``alpha``."""
    return [bool(q <= alpha) for q in holm(p_values)]


def nemenyi_cd(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks for ``k`` methods over ``n_blocks`` blocks."""
    q = sps.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n_blocks)))


def rank_analysis(regrets: np.ndarray, methods: Sequence[str], alpha: float = 0.05) -> dict[str, Any]:
    """The procedure of the module docstring on ``regrets`` (blocks >= 2 x methods >= 3).

    Returns ``avg_rank`` (method -> average rank), ``n_blocks``, ``friedman_stat``, ``friedman_p``,
    ``nemenyi_cd`` and ``pairs``: one dict per pair (``a``, ``b``, ``p``, ``p_holm``, ``different``),
    empty when Friedman's test does not reject (the gate).
    """
    regrets = np.asarray(regrets, dtype=float)
    methods = list(methods)
    if regrets.ndim != 2 or regrets.shape[1] != len(methods) or len(methods) < 3 or regrets.shape[0] < 2:
        raise ValueError(f"regrets must be (blocks >= 2) x (methods >= 3) with one column per method "
                         f"({len(methods)} named), got shape {regrets.shape}")
    if not np.all(np.isfinite(regrets)):
        raise ValueError("regrets must be finite: drop the blocks a method did not complete first")
    ranks = block_ranks(regrets)
    out: dict[str, Any] = {"avg_rank": dict(zip(methods, ranks.mean(axis=0).tolist())), "n_blocks": len(ranks),
                           "pairs": [], "nemenyi_cd": nemenyi_cd(len(methods), len(ranks), alpha),
                           "friedman_stat": 0.0, "friedman_p": 1.0}
    if np.all(ranks == ranks[:, :1]):  # every block a complete tie: nothing to test
        return out
    result = sps.friedmanchisquare(*ranks.T)
    out["friedman_stat"], out["friedman_p"] = float(result.statistic), float(result.pvalue)
    if not out["friedman_p"] < alpha:
        return out
    pairs, p_values = [], []
    for i in range(len(methods)):
        for j in range(i + 1, len(methods)):
            differ = np.any(ranks[:, i] != ranks[:, j])
            p = float(sps.wilcoxon(ranks[:, i], ranks[:, j], zero_method="pratt").pvalue) if differ else 1.0
            pairs.append((methods[i], methods[j]))
            p_values.append(p)
    adjusted = holm(p_values)
    out["pairs"] = [{"a": a, "b": b, "p": p, "p_holm": float(q), "different": bool(q <= alpha)}
                    for (a, b), p, q in zip(pairs, p_values, adjusted)]
    return out


__all__ = ["ROUND_DECIMALS", "block_ranks", "holm_reject", "nemenyi_cd", "rank_analysis"]
