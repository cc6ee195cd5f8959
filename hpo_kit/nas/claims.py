"""The claims of notebook 03 (Zela et al. 2018, arXiv 1807.06906), decided by the kit's one rule.

Each function takes the measurement frames the notebook builds (``hpo_kit.nas.experiments``,
``hpo_kit.analysis``) and returns a :class:`hpo_kit.claims.ClaimRow`; :func:`claims_table` returns
them all. What each claim says is fixed here, before anything is measured:

* **far-pair correlation is low**: Spearman's rho between the losses at the smallest and the largest
  budget, on the *same* configurations, lies below :data:`FAR_RHO_LIMIT` = 0.5 (upper end of the
  Fisher-z interval). The abstract speaks of "little correlation" between short and long training;
  below 0.5 the small budget's ranking explains under a quarter of the variance of the large
  budget's ranks (rho^2 < 0.25), the usual upper end of a "weak" correlation. Any stricter limit
  (0.3) would call moderate correlations "little" less often; the limit is a parameter.
* **neighbouring budgets correlate more than far ones**: mean rho of consecutive budgets minus rho of
  smallest vs largest > 0, with a paired bootstrap over configurations (the same resampled
  configurations for every pair of budgets; percentile interval).
* **importance changes with the budget**: for at least one hyperparameter, its fANOVA importance at
  the largest budget differs from that at the smallest. The uncertainty comes from refitting on
  bootstrap resamples of the configurations (paired: the same draw at both budgets), never from the
  spread between the trees of one forest (that spread shrinks as trees are added, whatever the data).
  A change can go either way, so the family has two one-sided comparisons per hyperparameter
  (increase, decrease): 2 k comparisons at alpha / (2 k) each, which is a two-sided test at
  alpha / k per hyperparameter, Holm/Bonferroni over the k hyperparameters (``decide_family``).
  Intervals are normal with the refits' standard deviation: the family's tails (0.15 % for 17
  hyperparameters) are far beyond what percentiles of a few hundred refits can resolve.
* **joint search is at least as good as separate search** (non-inferiority): test error of the
  separate search's incumbent minus the joint search's, paired over seeds, in percentage points,
  is greater than -:data:`NONINFERIORITY_MARGIN` (0.5 points: the same tolerance the kit uses for
  the paper's headline number; a smaller loss than that counts as "as good").
* **BOHB beats random search**: test error of random search's incumbent minus BOHB's, paired over
  seeds, > 0 (test error: the incumbents' validation errors are biased by selection, and by
  differently much for methods that evaluate different numbers of configurations at full budget).
* **3.18 % CIFAR-10 test error**: mean test error of the joint search's incumbents lies within
  3.18 +- 0.5 points (equivalence, TOST); measured only with ``dataset == "cifar10"``.

Every claim is decided at alpha = 0.05 (one-sided) with the ``min_n`` stated below.
"""
from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd

from hpo_kit import stats
from hpo_kit.analysis.importance import ImportanceChange
from hpo_kit.analysis.rank_correlation import bootstrap_neighbour_far, far_pair
from hpo_kit.claims import Claim, ClaimRow, require_columns, decide, decide_family
from hpo_kit.stats import Estimate

ALPHA = 0.05
FAR_RHO_LIMIT = 0.5
NONINFERIORITY_MARGIN = 0.5  # percentage points of test error
PAPER_TEST_ERROR = 3.18  # percent, CIFAR-10
PAPER_MARGIN = 0.5  # percentage points
MIN_CONFIGS_RHO = 10  # Fisher-z intervals of rho are poor below about 10 pairs
MIN_CONFIGS_BOOTSTRAP = 20  # a bootstrap over fewer configurations has too few distinct draws
MIN_CONFIGS_IMPORTANCE = 30  # fANOVA in 17 dimensions: fewer than ~2 configurations per hyperparameter say little
MIN_SEEDS = 2  # a paired t interval needs two seeds

ABSTRACT = "arXiv 1807.06906, abstract"
NOT_VERIFIED = "Zela et al. 2018 (arXiv 1807.06906), analysis in the paper's body; not verified here"


# ------------------------------------------------------------------------------ the claims
def far_correlation_claim_spec(view: str, limit: float = FAR_RHO_LIMIT) -> Claim:
    return Claim(
        claim=f"Little rank correlation between the smallest and the largest budget ({view})",
        paper="'little correlation in the relative rankings' of very few vs many training epochs",
        source=ABSTRACT,
        estimand="Spearman rho of the losses at the smallest and the largest budget, same configurations",
        direction="less", threshold=float(limit), alpha=ALPHA, min_n=MIN_CONFIGS_RHO, unit="configurations")


def neighbour_far_claim_spec(view: str) -> Claim:
    return Claim(
        claim=f"Neighbouring budgets correlate more than the smallest and the largest ({view})",
        paper="rank correlation high between neighbouring budgets, low between far ones",
        source=NOT_VERIFIED,
        estimand="mean Spearman rho of consecutive budgets minus rho(smallest, largest); > 0: neighbours higher",
        direction="greater", threshold=0.0, alpha=ALPHA, min_n=MIN_CONFIGS_BOOTSTRAP, unit="configurations")


def importance_change_claim_spec() -> Claim:
    return Claim(
        claim="The importance of some hyperparameter changes between the smallest and the largest budget",
        paper="hyperparameter importance differs between budgets (fANOVA per budget)",
        source=NOT_VERIFIED,
        estimand="individual fANOVA importance at the largest minus at the smallest budget (variance fraction), "
                 "per hyperparameter and sign; > 0 in the claimed direction",
        direction="greater", threshold=0.0, alpha=ALPHA, min_n=MIN_CONFIGS_IMPORTANCE, unit="configurations")


def joint_vs_separate_claim_spec(margin: float = NONINFERIORITY_MARGIN) -> Claim:
    return Claim(
        claim=f"Joint search is at least as good as separate search at equal budget (non-inferiority, "
              f"margin {margin:g} points)",
        paper="architectural choices and other hyperparameter settings 'interact in a way that can render this "
              "separation suboptimal'",
        source=ABSTRACT,
        estimand="test error of the separate search's incumbent minus the joint search's, percentage points, "
                 "paired over seeds; > 0: joint better",
        direction="greater", threshold=-float(margin), alpha=ALPHA, min_n=MIN_SEEDS, unit="seeds")


def bohb_vs_random_claim_spec() -> Claim:
    return Claim(
        claim="BOHB finds better configurations than random search at equal budget",
        paper="BOHB outperforms random search",
        source="Falkner et al. 2018 (arXiv 1807.01774), the optimiser Zela et al. use; not verified here",
        estimand="test error of random search's incumbent minus BOHB's, percentage points, paired over seeds; "
                 "> 0: BOHB better",
        direction="greater", threshold=0.0, alpha=ALPHA, min_n=MIN_SEEDS, unit="seeds")


def paper_error_claim_spec() -> Claim:
    return Claim(
        claim=f"Joint BOHB finds a CIFAR-10 network with {PAPER_TEST_ERROR} % test error "
              f"(within {PAPER_MARGIN:g} points)",
        paper=f"{PAPER_TEST_ERROR} % test error on CIFAR-10",
        source="as quoted by the kit; not in the abstract of arXiv 1807.06906, not verified here",
        estimand="mean test error of the joint search's incumbents over seeds, percent",
        direction="equivalent", threshold=PAPER_TEST_ERROR, margin=PAPER_MARGIN, alpha=ALPHA, min_n=MIN_SEEDS,
        unit="seeds")


# ------------------------------------------------------------------------------ deciding them
def far_correlation_claim(results: pd.DataFrame, view: str, *, limit: float = FAR_RHO_LIMIT) -> ClaimRow:
    """Is rho(smallest, largest budget) below ``limit``? ``results``: config_id, budget, loss rows."""
    claim = far_correlation_claim_spec(view, limit)
    small, large, a, b = far_pair(results)
    estimate = stats.spearman_ci(a, b, claim.ci_level)
    detail = f"budgets {small:g} and {large:g}"
    if len(a) < 5:
        return decide(claim, estimate, detail=detail,
                      not_measured=f"only {len(a)} configurations evaluated at both budgets (min_n {claim.min_n})")
    return decide(claim, estimate, detail=detail)


def neighbour_far_claim(results: pd.DataFrame, view: str, *, n_bootstrap: int = 1000, seed: int = 0) -> ClaimRow:
    """Do neighbouring budgets correlate more than the smallest and the largest? Paired bootstrap."""
    claim = neighbour_far_claim_spec(view)
    budgets = sorted(results["budget"].unique().tolist()) if "budget" in results.columns else []
    if len(budgets) < 3:
        return decide(claim, None, not_measured=f"needs three or more budgets, got {list(budgets)}")
    s = bootstrap_neighbour_far(results, n_bootstrap=n_bootstrap, seed=seed)
    estimate = stats.percentile_ci(s["difference"], s["replicates"], claim.ci_level, n=s["n"],
                                   method="paired bootstrap over configurations, percentile")
    detail = (f"mean neighbour rho {s['neighbour_rho']:.2f} vs far rho {s['far_rho']:.2f}; n = fewest configurations "
              f"behind a rho; {n_bootstrap} resamples")
    if not estimate.is_finite:
        return decide(claim, estimate, detail=detail,
                      not_measured=f"only {s['n']} configurations behind the sparsest rho (min_n {claim.min_n})")
    return decide(claim, estimate, detail=detail)


def _negated(e: Estimate) -> Estimate:
    return replace(e, value=-e.value, low=-e.high, high=-e.low)


def importance_change_claim(change: ImportanceChange) -> ClaimRow:
    """Did some hyperparameter's importance change between the two budgets of ``change``?

    ``change`` comes from :func:`hpo_kit.analysis.bootstrap_importance_change`.
    """
    claim = importance_change_claim_spec()
    k = len(change.names)
    family = claim.with_comparisons(2 * k)
    estimates, labels = [], []
    for j, name in enumerate(change.names):
        up = stats.bootstrap_se_ci(float(change.change[j]), change.replicates[:, j], family.ci_level,
                                    change.n_configs,
                                    method="paired bootstrap over configurations, normal with the refits' s.d.")
        moves = f"{change.importance_from[j]:.1%} -> {change.importance_to[j]:.1%}"
        estimates += [up, _negated(up)]
        labels += [f"{name} increases ({moves})", f"{name} decreases ({moves})"]
    detail = (f"budgets {change.budget_from} -> {change.budget_to}, {len(change.replicates)} paired refits, "
              f"{k} hyperparameters x 2 signs; estimator {change.method}")
    return decide_family(claim, estimates, labels, detail=detail)


def _paired_points(table: pd.DataFrame, metric: str, a: str, b: str, level: float) -> Estimate:
    """Mean over seeds of ``metric[a] - metric[b]`` in percentage points (errors are fractions)."""
    require_columns(table, "table", ("method", "seed", metric))
    wide = table.pivot_table(index="seed", columns="method", values=metric, aggfunc="first")
    missing = [m for m in (a, b) if m not in wide.columns]
    if missing:
        raise ValueError(f"table has no rows for methods {missing}; methods: {list(wide.columns)}")
    return stats.paired_mean_ci(wide[a].to_numpy(float), wide[b].to_numpy(float), level).scaled(100)


def _means(table: pd.DataFrame, metric: str, methods: tuple[str, ...]) -> str:
    parts = []
    for m in methods:
        mean, se, n = stats.mean_and_se(table.loc[table["method"] == m, metric])
        parts.append(f"{m} {100 * mean:.2f} %" + (f" ± {100 * se:.2f}" if math.isfinite(se) else ""))
    return "mean " + metric.replace("_", " ") + ": " + ", ".join(parts)


def joint_vs_separate_claim(table: pd.DataFrame, *, joint: str = "bohb", separate: str = "separate",
                            margin: float = NONINFERIORITY_MARGIN) -> ClaimRow:
    """Non-inferiority of joint search: ``table`` has method, seed and test_error rows of both."""
    claim = joint_vs_separate_claim_spec(margin)
    estimate = _paired_points(table, "test_error", separate, joint, claim.ci_level)
    return decide(claim, estimate, detail=_means(table, "test_error", (joint, separate)))


def bohb_vs_random_claim(table: pd.DataFrame, *, bohb: str = "bohb", random: str = "random") -> ClaimRow:
    """BOHB beats random search, paired over seeds (rows of ``experiments.final_table``)."""
    claim = bohb_vs_random_claim_spec()
    estimate = _paired_points(table, "test_error", random, bohb, claim.ci_level)
    return decide(claim, estimate, detail=_means(table, "test_error", (bohb, random)) + "; "
                  + _means(table, "val_error", (bohb, random)))


def paper_error_claim(table: pd.DataFrame, dataset: str, *, joint: str = "bohb", detail: str = "") -> ClaimRow:
    """The paper's 3.18 %, as an equivalence claim; not measured unless ``dataset == "cifar10"``."""
    claim = paper_error_claim_spec()
    if dataset != "cifar10":
        return decide(claim, None, not_measured=f"a CIFAR-10 number: needs dataset = cifar10, got {dataset!r}")
    values = table.loc[table["method"] == joint, "test_error"].to_numpy(float)
    return decide(claim, stats.mean_ci(values, claim.ci_level).scaled(100), detail=detail)


def claims_table(*, final: pd.DataFrame, separate: pd.DataFrame, sample: pd.DataFrame,
                 survivors: pd.DataFrame, importance_change: ImportanceChange | None, dataset: str,
                 n_bootstrap: int = 1000, seed: int = 0, far_limit: float = FAR_RHO_LIMIT,
                 noninferiority_margin: float = NONINFERIORITY_MARGIN, setting: str = "") -> list[ClaimRow]:
    """Every claim of notebook 03, in the order of the notebook's claims table.

    ``final``: ``experiments.final_table``; ``separate``: ``experiments.separate_table``; ``sample``:
    ``experiments.random_sample_at_budgets``; ``survivors``: ``experiments.survivors_table`` of the
    BOHB runs; ``importance_change``: ``analysis.bootstrap_importance_change`` of the sample (None:
    not measured); ``setting`` describes the scale for the paper-number row.
    """
    rows = []
    for view, frame in (("random sample", sample), ("BOHB survivors", survivors)):
        rows.append(far_correlation_claim(frame, view, limit=far_limit))
        rows.append(neighbour_far_claim(frame, view, n_bootstrap=n_bootstrap, seed=seed))
    if importance_change is None:
        rows.append(decide(importance_change_claim_spec(), None, not_measured="fANOVA was not run"))
    else:
        rows.append(importance_change_claim(importance_change))
    both = pd.concat([final, separate], ignore_index=True)
    rows.append(joint_vs_separate_claim(both, margin=noninferiority_margin))
    rows.append(bohb_vs_random_claim(final))
    rows.append(paper_error_claim(final, dataset, detail=setting))
    return rows


__all__ = [
    "ALPHA", "FAR_RHO_LIMIT", "NONINFERIORITY_MARGIN", "PAPER_MARGIN", "PAPER_TEST_ERROR", "bohb_vs_random_claim",
    "claims_table", "far_correlation_claim", "importance_change_claim", "joint_vs_separate_claim",
    "neighbour_far_claim", "paper_error_claim",
]
