"""The claims of Wu, Chen & Liu (2020), decided from notebook 02's frames by the kit's one rule.

Inputs are the frames of :mod:`hpo_kit.mbrl_hpo.experiment`: ``runs`` (one row per run: task,
method, label, seed, order, delta, val_error, accuracy, wall_s, ...) and ``reach`` (per run, real
evaluations and wall seconds until RL-SDP's final validation error, inf = never). Units are
(task, seed) pairs: every method of one seed saw the same split, so differences are paired.

Accuracy is the **test** accuracy of each run's incumbent (chosen by validation error), in
percentage points. Ratios of evaluations or times are compared on a log2 scale with the median
and its exact sign-test interval (:func:`median_ci`), which stays valid when a run never reached
the target (an infinite ratio) and for skewed ratios.

The paper's numbers could not be checked (no public code; the article was not accessible while the
kit was written), so every ``paper`` field says which figure or table the claim comes from and
that it is not verified; no number of the paper is quoted.

Composite claims ("every pair of orders is equivalent", "better than every baseline") are
intersection-union tests: each comparison is decided at alpha and the claim holds only if all
hold (no multiplicity correction is needed for "all"); it does not hold if any does not.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from hpo_kit import stats
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED, Claim, ClaimRow, decide, require_columns
from hpo_kit.stats import Estimate, median_ci

SOURCE = "Wu, Chen, Liu, Neurocomputing 409 (2020)"
NOT_VERIFIED = "figure not verified (no public code; article not accessible to the kit)"
MIN_UNITS = 3      # (task, seed) pairs at least
MIN_TASKS = 3
ORDER_MARGIN_POINTS = 1.0   # "the order does not matter": within +-1 accuracy point
DELTA_MARGIN_POINTS = 1.0   # "error close to the smallest delta": at most 1 point worse
HALF_MARGIN_LOG2 = 0.5      # "about half": log2 ratio within -1 +- 0.5, i.e. ratio in [0.35, 0.71]
RUN_COLUMNS = ("task", "method", "label", "seed", "accuracy")


# ------------------------------------------------------------------------------ estimates
def _paired(runs: pd.DataFrame, label_a: str, label_b: str, column: str = "accuracy") -> tuple[np.ndarray, np.ndarray]:
    """Values of ``column`` for two labels on the (task, seed) pairs both have."""
    labels = runs.label.to_numpy()
    a = runs.loc[labels == label_a, ["task", "seed", column]].drop_duplicates(["task", "seed"])
    b = runs.loc[labels == label_b, ["task", "seed", column]].drop_duplicates(["task", "seed"])
    both = a.merge(b, on=["task", "seed"], suffixes=("_a", "_b"))  # the pairs both have, in a's order
    return both[f"{column}_a"].to_numpy(float), both[f"{column}_b"].to_numpy(float)


def paired_gain_points(runs: pd.DataFrame, label_a: str, label_b: str, level: float) -> Estimate:
    """Mean over (task, seed) of label_a's test accuracy minus label_b's, in points."""
    a, b = _paired(runs, label_a, label_b)
    return stats.paired_mean_ci(100 * a, 100 * b, level)


def log2_ratio(reach: pd.DataFrame, label_a: str, label_b: str, column: str, level: float) -> Estimate:
    """Median over (task, seed) of log2(column of a / column of b) with its sign-test interval."""
    a, b = _paired(reach, label_a, label_b, column)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log2(a) - np.log2(b)
    r[np.isinf(a) & np.isinf(b)] = 0.0  # neither reached it: no difference observed
    return median_ci(r, level)


def all_of(claim: Claim, estimates: Sequence[Estimate], labels: Sequence[str], *, detail: str = "") -> ClaimRow:
    """Intersection-union decision: holds if every comparison holds, fails if any fails."""
    if not estimates:
        return decide(claim, None, not_measured="no comparison could be made")
    rows = [decide(claim, e) for e in estimates]
    each = "; ".join(f"{lab}: {e.text()} ({r.verdict})" for lab, e, r in zip(labels, estimates, rows))
    text = f"{each}; {detail}" if detail else each
    verdicts = [r.verdict for r in rows]
    if UNMEASURED in verdicts:
        i = verdicts.index(UNMEASURED)
    elif FAILS in verdicts:
        i = verdicts.index(FAILS)
    elif INCONCLUSIVE in verdicts:
        i = verdicts.index(INCONCLUSIVE)
    else:  # all hold: show the least favourable comparison
        i = int(np.argmax([e.p_value if math.isfinite(e.p_value) else 1.0 for e in estimates])) \
            if claim.direction != "equivalent" else \
            int(np.argmax([abs(e.value - claim.threshold) + e.half_width for e in estimates]))
    row = rows[i]
    return ClaimRow(row.claim, row.estimate, row.verdict, row.reason, f"decided by {labels[i]}; {text}",
                    {"decided_by": labels[i]})


def _has(runs: pd.DataFrame, *labels: str) -> str:
    missing = [lab for lab in labels if lab not in set(runs.label)]
    return f"needs runs of {missing}" if missing else ""


# ------------------------------------------------------------------------------ (a) SDP vs DOC
def sdp_vs_doc_claim(runs: pd.DataFrame, alpha: float = 0.05, min_n: int = MIN_UNITS) -> ClaimRow:
    require_columns(runs, "runs", RUN_COLUMNS)
    claim = Claim(claim="The sequential agent (RL-SDP) finds more accurate configurations than the one-step agent (RL-DOC)",
                  paper=f"RL-SDP above RL-DOC on every task (Fig. 7 shape); {NOT_VERIFIED}", source=f"{SOURCE}, Fig. 7",
                  estimand="mean over (task, seed) of RL-SDP's test accuracy minus RL-DOC's, points (> 0: SDP better)",
                  direction="greater", alpha=alpha, min_n=min_n, unit="(task, seed) pairs")
    missing = _has(runs, "rl_sdp", "rl_doc")
    e = None if missing else paired_gain_points(runs, "rl_sdp", "rl_doc", claim.ci_level)
    return decide(claim, e, not_measured=missing)


# ------------------------------------------------------------------------------ (b) order
def order_claim(runs: pd.DataFrame, margin: float = ORDER_MARGIN_POINTS, alpha: float = 0.05,
                min_n: int = MIN_UNITS) -> ClaimRow:
    """Every pair of hyperparameter orders (RL-SDP) has test accuracies within +-margin points."""
    require_columns(runs, "runs", (*RUN_COLUMNS, "order"))
    claim = Claim(claim=f"The order of the hyperparameters does not change RL-SDP's accuracy (within ±{margin:g} points)",
                  paper=f"errors of the three orders differ by well under a point (Tables 6-7 shape); {NOT_VERIFIED}",
                  source=f"{SOURCE}, Tables 6-7",
                  estimand="for each pair of orders: mean over (task, seed) of the test-accuracy difference, points; "
                           "all pairs must lie within the margin (intersection-union TOST)",
                  direction="equivalent", threshold=0.0, margin=margin, alpha=alpha, min_n=min_n,
                  unit="(task, seed) pairs")
    sdp = runs[runs.method == "rl_sdp"]
    labels = list(dict.fromkeys(sdp.label))
    if len(labels) < 2:
        return decide(claim, None, not_measured="needs RL-SDP runs with at least two orders")
    pairs = list(itertools.combinations(labels, 2))
    estimates = [paired_gain_points(sdp, a, b, claim.ci_level) for a, b in pairs]
    return all_of(claim, estimates, [f"{a} - {b}" for a, b in pairs])


# ------------------------------------------------------------------------------ (c) reward model
def shared_real_evaluations(batch_episodes: int, min_model_data: int) -> int:
    """Real evaluations that RL-SDP and MBRL-SDP of one seed share by construction.

    Both start from the same seeded policy, and they differ only from the first model phase on,
    which follows the first PPO update with at least ``min_model_data`` real evaluations in hand
    (runs are sequential, so no suggestion is made ahead of an update).
    """
    if batch_episodes < 1 or min_model_data < 1:
        raise ValueError(f"batch_episodes and min_model_data must be >= 1, got {batch_episodes}, {min_model_data}")
    return batch_episodes * math.ceil(min_model_data / batch_episodes)


def ties_by_construction(reach: pd.DataFrame, shared_evaluations: int, reference: str = "rl_sdp") -> str:
    """How many (task, seed) pairs reached the reference's final error within the shared evaluations.

    In those pairs the reward model never had a chance to act: both runs reach the target at the
    same evaluation, a tie that says nothing about the method. The count is context for the reader,
    not part of the verdict.
    """
    if shared_evaluations <= 0:
        return ""
    ref = reach[reach.label == reference]
    if ref.empty:
        return ""
    early = int((ref.evals_to_target <= shared_evaluations).sum())
    return (f"{early} of {len(ref)} (task, seed) pairs: RL-SDP reached its final error within the first "
            f"{shared_evaluations} real evaluations, which both runs share (same seed, before any model phase), "
            "so they tie by construction")


def reward_model_claims(reach: pd.DataFrame, mbrl_label: str = "mbrl_sdp[delta=0.4]", alpha: float = 0.05,
                        min_n: int = MIN_UNITS, shared_evaluations: int = 0) -> list[ClaimRow]:
    """MBRL reaches RL-SDP's final error in fewer real evaluations, in about half of them, and in less wall time.

    ``shared_evaluations`` (:func:`shared_real_evaluations`): the evaluations the two runs share; the
    rows' notes count the pairs decided inside them.
    """
    require_columns(reach, "reach", ("task", "label", "seed", "evals_to_target", "time_to_target_s"))
    missing = _has(reach, "rl_sdp", mbrl_label)
    common = dict(alpha=alpha, min_n=min_n, unit="(task, seed) pairs", source=f"{SOURCE}, Table 8")
    est = ("median over (task, seed) of log2({x} of {m} / {x} of RL-SDP) until RL-SDP's final validation error "
           "(inf: never reached; < 0: the reward model is faster)")
    fewer = Claim(claim=f"The learned reward model ({mbrl_label}) reaches RL-SDP's final error in fewer real evaluations",
                  paper=f"the same error with fewer real evaluations (Table 8 shape); {NOT_VERIFIED}",
                  estimand=est.format(x="real evaluations", m=mbrl_label), direction="less", threshold=0.0, **common)
    half = Claim(claim=f"... in about half the real evaluations (ratio within [0.35, 0.71])",
                 paper=f"about half the time (Table 8's ratio); {NOT_VERIFIED}",
                 estimand=est.format(x="real evaluations", m=mbrl_label), direction="equivalent", threshold=-1.0,
                 margin=HALF_MARGIN_LOG2, **common)
    wall = Claim(claim=f"The learned reward model ({mbrl_label}) reaches RL-SDP's final error in less wall time",
                 paper=f"the same error in about half the time (Table 8 shape); {NOT_VERIFIED}",
                 estimand=est.format(x="wall seconds", m=mbrl_label) + "; model phases are charged",
                 direction="less", threshold=0.0, **common)
    rows = []
    for claim, column in ((fewer, "evals_to_target"), (half, "evals_to_target"), (wall, "time_to_target_s")):
        e = None if missing else log2_ratio(reach, mbrl_label, "rl_sdp", column, claim.ci_level)
        rows.append(decide(claim, e, not_measured=missing, detail=ties_by_construction(reach, shared_evaluations)))
    return rows


# ------------------------------------------------------------------------------ (d) delta
def _mbrl_label(delta: float) -> str:
    return "mbrl_sdp[delta=inf]" if math.isinf(delta) else f"mbrl_sdp[delta={delta:g}]"


def delta_claims(runs: pd.DataFrame, reach: pd.DataFrame, delta: float = 0.4, margin: float = DELTA_MARGIN_POINTS,
                 alpha: float = 0.05, min_n: int = MIN_UNITS, shared_evaluations: int = 0) -> list[ClaimRow]:
    """delta near 0.4: test error at most ``margin`` points above the smallest delta's, in less time to target.

    ``shared_evaluations``: as in :func:`reward_model_claims` (every delta shares them too).
    """
    require_columns(runs, "runs", (*RUN_COLUMNS, "delta"))
    deltas = sorted(d for d in runs[runs.method == "mbrl_sdp"].delta.unique() if math.isfinite(d))
    chosen = _mbrl_label(delta)
    common = dict(alpha=alpha, min_n=min_n, unit="(task, seed) pairs", source=f"{SOURCE}, Table 9")
    smallest = deltas[0] if deltas else math.nan
    low = _mbrl_label(smallest) if deltas else "the smallest delta"
    err = Claim(claim=f"delta = {delta:g} loses at most {margin:g} accuracy points against the smallest delta ({smallest:g})",
                paper=f"delta near 0.4: error close to the smallest delta's (Table 9 shape); {NOT_VERIFIED}",
                estimand=f"mean over (task, seed) of the test error of {chosen} minus that of {low}, points "
                         f"(non-inferiority: < {margin:g})",
                direction="less", threshold=margin, **common)
    time = Claim(claim=f"delta = {delta:g} reaches RL-SDP's final error in less wall time than the smallest delta",
                 paper=f"delta near 0.4 at a fraction of the smallest delta's time (Table 9 shape); {NOT_VERIFIED}",
                 estimand=f"median over (task, seed) of log2(wall seconds to RL-SDP's final validation error of "
                          f"{chosen} / of {low}) (< 0: faster)",
                 direction="less", threshold=0.0, **common)
    if not deltas or chosen not in set(runs.label) or smallest == delta:
        why = f"needs runs of {chosen} and of a smaller delta"
        return [decide(err, None, not_measured=why), decide(time, None, not_measured=why)]
    a, b = _paired(runs, chosen, low)
    e_err = stats.paired_mean_ci(100 * (1 - a), 100 * (1 - b), err.ci_level)
    e_time = log2_ratio(reach, chosen, low, "time_to_target_s", time.ci_level)
    return [decide(err, e_err), decide(time, e_time, detail=ties_by_construction(reach, shared_evaluations))]


def unbounded_claim(runs: pd.DataFrame, delta: float = 0.4, alpha: float = 0.05, min_n: int = MIN_UNITS) -> ClaimRow:
    require_columns(runs, "runs", RUN_COLUMNS)
    chosen, free = _mbrl_label(delta), _mbrl_label(math.inf)
    claim = Claim(claim="Unbounded model use plateaus at a lower accuracy than model use bounded by delta",
                  paper=f"without the policy-distance bound the agent over-trusts the model (Fig. 3 motivation); {NOT_VERIFIED}",
                  source=f"{SOURCE}, Fig. 3",
                  estimand=f"mean over (task, seed) of the test accuracy of {free} minus {chosen}, points (< 0: unbounded worse)",
                  direction="less", alpha=alpha, min_n=min_n, unit="(task, seed) pairs")
    missing = _has(runs, chosen, free)
    return decide(claim, None if missing else paired_gain_points(runs, free, chosen, claim.ci_level), not_measured=missing)


# ------------------------------------------------------------------------------ (e) all methods
def default_claim(runs: pd.DataFrame, label: str = "mbrl_sdp[delta=0.4]", alpha: float = 0.05,
                  min_n: int = MIN_TASKS) -> ClaimRow:
    """On most tasks (a share > 1/2), the method's mean test accuracy is above the default configuration's."""
    require_columns(runs, "runs", RUN_COLUMNS)
    claim = Claim(claim=f"{label} beats the default configuration on most tasks",
                  paper=f"better than the default on most tasks (Fig. 5 shape, counts of better / worse); {NOT_VERIFIED}",
                  source=f"{SOURCE}, Fig. 5",
                  estimand="share of tasks where its mean test accuracy over seeds is above the default's (ties count "
                           "as not better; > 0.5: most tasks)",
                  direction="greater", threshold=0.5, alpha=alpha, min_n=min_n, unit="tasks")
    missing = _has(runs, label, "default")
    if missing:
        return decide(claim, None, not_measured=missing)
    means = runs[runs.label.isin([label, "default"])].groupby(["task", "label"]).accuracy.mean().unstack("label").dropna()
    better = int((means[label] > means["default"]).sum())
    worse = int((means[label] < means["default"]).sum())
    e = stats.proportion_ci(better, len(means), claim.ci_level)
    return decide(claim, e, detail=f"{better} better, {len(means) - better - worse} equal, {worse} worse of {len(means)} tasks")


def rank_claim(runs: pd.DataFrame, label: str = "mbrl_sdp[delta=0.4]", baselines: Sequence[str] | None = None,
               alpha: float = 0.05, min_n: int = MIN_UNITS) -> ClaimRow:
    """The method is more accurate than every baseline (intersection-union over the baselines present)."""
    require_columns(runs, "runs", RUN_COLUMNS)
    from hpo_kit.mbrl_hpo.experiment import BASELINES

    present = set(runs.label)
    baselines = [b for b in (BASELINES if baselines is None else baselines) if b in present and b != label]
    claim = Claim(claim=f"{label} ranks first: more accurate than every baseline",
                  paper=f"MBRL-SDP ranks first among the compared methods (Fig. 5 shape); {NOT_VERIFIED}",
                  source=f"{SOURCE}, Fig. 5",
                  estimand="for each baseline: mean over (task, seed) of the test-accuracy gain, points; all must be > 0 "
                           "(intersection-union)",
                  direction="greater", alpha=alpha, min_n=min_n, unit="(task, seed) pairs")
    if label not in present or not baselines:
        return decide(claim, None, not_measured=f"needs runs of {label} and at least one baseline")
    estimates = [paired_gain_points(runs, label, b, claim.ci_level) for b in baselines]
    return all_of(claim, estimates, [f"vs {b}" for b in baselines])


def mbrl_claims(runs: pd.DataFrame, reach: pd.DataFrame, delta: float = 0.4, alpha: float = 0.05,
                shared_evaluations: int = 0) -> list[ClaimRow]:
    """Every claim of the notebook, in table order (``shared_evaluations``: see :func:`reward_model_claims`)."""
    label = _mbrl_label(delta)
    return ([sdp_vs_doc_claim(runs, alpha), order_claim(runs, alpha=alpha)]
            + reward_model_claims(reach, label, alpha, shared_evaluations=shared_evaluations)
            + delta_claims(runs, reach, delta, alpha=alpha, shared_evaluations=shared_evaluations)
            + [unbounded_claim(runs, delta, alpha), default_claim(runs, label, alpha), rank_claim(runs, label, alpha=alpha)])


__all__ = ["DELTA_MARGIN_POINTS", "HALF_MARGIN_LOG2", "ORDER_MARGIN_POINTS", "SOURCE", "all_of", "default_claim",
           "delta_claims", "log2_ratio", "mbrl_claims", "median_ci", "order_claim", "paired_gain_points", "rank_claim",
           "reward_model_claims", "sdp_vs_doc_claim", "shared_real_evaluations", "ties_by_construction",
           "unbounded_claim"]
