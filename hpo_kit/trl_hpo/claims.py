"""The claims of TRL-HPO (Shaer, Nikan, Shami 2024, arXiv 2403.12237), decided by the kit's one rule.

What can be checked in the paper's abstract: TRL-HPO was compared "with state-of-the-art approaches
that build CNN models from scratch" and "outperforms the classification results of these approaches
by 6.8% within the same time frame"; and "the main culprit for performance degradation [is]
stacking fully connected layers". The abstract also names the lack of transparency of HPO as a
problem the method addresses; the attention-versus-reward claim below is the kit's reading of that
(no number of the paper is quoted for it).

Each function takes the measurement frames the notebook builds and returns
:class:`hpo_kit.claims.ClaimRow` objects (alpha 0.05 one-sided per decision, intervals at
``claim.ci_level``):

* :func:`accuracy_claims` -- ``final`` (one row per method and seed: ``method``, ``seed``,
  ``best_accuracy``): per baseline, the mean over seeds of the paired gain in best validation accuracy
  (same seed, same data, same time budget), in percentage points, > 0 (a tie does not pass); and the
  abstract's number as its own row: a gain of at least 6.8 points over at least one of the methods
  that build CNNs from scratch (random search, the LSTM controller, MetaQNN), a family of three
  comparisons decided by Holm's first step (the abstract gives one number for several approaches
  without naming which, so the weakest reading is tested; the per-baseline rows show each).
* :func:`fc_stacking_claims` -- ``steps`` (one row per environment step: ``method``, ``mode``, ``seed``,
  ``slot``, ``previous_kind``, ``kind``, ``reward``, ``valid`` and optionally ``prefix``): an fc -> fc
  step earns a lower reward than the other layer pairs *at the same depth by the same method*: the
  per-(method, slot) differences of means combined with weights n_a n_b / (n_a + n_b) (the
  inverse-variance weights when variances are equal), one row per environment mode (faithful and
  fixed mode are different search spaces).
* :func:`attention_claims` -- one attention frame per TRL-HPO variant (``seed``, ``slot``,
  ``weight_new``, ``reward``, ``valid``): Spearman's rho between the newest slot's attention weight and
  the step's reward, both ranked within (seed, slot), over valid steps after the first layer, > 0.

Invalid steps (reward -1, the network could not be built) are left out of both step-level claims:
with them, the claims would measure "valid versus invalid" rather than how layer pairs or attention
relate to accuracy gains. Their counts are in each row's detail.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from hpo_kit import stats
from hpo_kit.claims import Claim, ClaimRow, require_columns, decide, decide_family
from hpo_kit.stats import Estimate
from hpo_kit.trl_hpo.compare import METHODS

SOURCE = "arXiv 2403.12237, abstract"
FROM_SCRATCH = ("random", "lstm", "metaqnn")  # the baselines that build CNNs from scratch
PAPER_GAIN_POINTS = 6.8  # "outperforms ... by 6.8%" (abstract), read as percentage points of accuracy
MIN_SEEDS = 3  # a paired t interval on 2 seeds has 1 degree of freedom: too wide to decide anything
MIN_STEPS = 10  # fc -> fc steps (the smaller group) at least
MIN_ATTENTION_STEPS = 20  # ranked steps at least


def _label(method: str) -> str:
    return METHODS.get(method, method)


# ------------------------------------------------------------------------------ accuracy
def paired_accuracy_gain(final: pd.DataFrame, method: str, baseline: str, level: float) -> Estimate:
    """Mean over seeds of ``method``'s best accuracy minus ``baseline``'s (same seed), in points."""
    require_columns(final, "final", ("method", "seed", "best_accuracy"))
    a = final[final.method == method].groupby("seed").best_accuracy.first()
    b = final[final.method == baseline].groupby("seed").best_accuracy.first()
    seeds = a.index.intersection(b.index)  # seeds both ran
    return stats.paired_mean_ci(100 * a[seeds].to_numpy(float), 100 * b[seeds].to_numpy(float), level)


def accuracy_claims(final: pd.DataFrame, method: str = "trl_hpo", baselines: Sequence[str] | None = None, *,
                    budget_s: float | None = None, alpha: float = 0.05, min_n: int = MIN_SEEDS) -> list[ClaimRow]:
    """One row per baseline ("more accurate within the same time") and the abstract's +6.8 points row."""
    require_columns(final, "final", ("method", "seed", "best_accuracy"))
    present = list(dict.fromkeys(final.method))
    if method not in present:
        raise ValueError(f"method {method!r} has no runs in final; methods present: {present}")
    if baselines is None:
        baselines = [m for m in present if not m.startswith("trl_hpo")]
    budget = f"; {budget_s:g} s per run" if budget_s is not None else ""
    estimand = f"mean over seeds of the paired gain: best validation accuracy of {_label(method)} minus the baseline's, in points (> 0: {_label(method)} better)"
    rows = []
    for baseline in baselines:
        claim = Claim(claim=f"{_label(method)} finds a more accurate CNN than {_label(baseline)} within the same time",
                      paper="outperforms approaches that build CNNs from scratch within the same time frame",
                      source=SOURCE, estimand=estimand, direction="greater", threshold=0.0, alpha=alpha,
                      min_n=min_n, unit="seeds")
        e = paired_accuracy_gain(final, method, baseline, claim.ci_level)
        a = final[final.method == method].best_accuracy.mean()
        b = final[final.method == baseline].best_accuracy.mean()
        rows.append(decide(claim, e, detail=f"mean best accuracy {100 * a:.2f} vs {100 * b:.2f} %{budget}"))

    family = [b for b in FROM_SCRATCH if b in present]
    claim = Claim(claim=f"{_label(method)} beats a method that builds CNNs from scratch by at least "
                        f"{PAPER_GAIN_POINTS:g} accuracy points within the same time",
                  paper=f"+{PAPER_GAIN_POINTS:g} % classification results vs approaches building CNNs from scratch",
                  source=SOURCE, estimand=estimand + "; the best of random / LSTM / MetaQNN (Holm)",
                  direction="greater", threshold=PAPER_GAIN_POINTS, alpha=alpha, min_n=min_n, unit="seeds")
    if not family:
        rows.append(decide(claim, None, not_measured=f"none of {list(FROM_SCRATCH)} ran"))
        return rows
    level = claim.with_comparisons(len(family)).ci_level
    estimates = [paired_accuracy_gain(final, method, b, level) for b in family]
    rows.append(decide_family(claim, estimates, [f"vs {_label(b)}" for b in family],
                              detail=f"{len(family)} comparison(s){budget}"))
    return rows


# ------------------------------------------------------------------------------ fc -> fc
def _later_valid(steps: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Valid steps after the first layer, one per distinct network of a run; counts of what was left out."""
    valid = steps.valid.astype(bool)
    later = steps[valid & (steps.slot > 0)]
    counts = {"invalid": int((~valid).sum()), "first layers": int((valid & (steps.slot == 0)).sum())}
    if "prefix" in later:
        # A network evaluated again (the cache returns the same reward) is one measurement, not two.
        deduped = later.drop_duplicates(["method", "seed", "prefix"])
        counts["repeated"] = len(later) - len(deduped)
        later = deduped
    return later, counts


def fc_stacking_strata(steps: pd.DataFrame) -> pd.DataFrame:
    """Per (mode, method, slot): fc -> fc steps and other pairs, their mean rewards (points) and weights."""
    require_columns(steps, "steps", ("method", "mode", "seed", "slot", "previous_kind", "kind", "reward", "valid"))
    later, _ = _later_valid(steps)
    fc_fc = (later.previous_kind == "fc") & (later.kind == "fc")
    rows = []
    for (mode, method, slot), part in later.assign(fc_fc=fc_fc, points=100 * later.reward.astype(float)).groupby(
            ["mode", "method", "slot"], sort=True):
        a, b = part.points[part.fc_fc].to_numpy(), part.points[~part.fc_fc].to_numpy()
        usable = len(a) >= 2 and len(b) >= 2
        rows.append({"mode": mode, "method": method, "slot": int(slot), "n_fc_fc": len(a), "n_other": len(b),
                     "mean_fc_fc": a.mean() if len(a) else math.nan, "mean_other": b.mean() if len(b) else math.nan,
                     "var_fc_fc": a.var(ddof=1) if len(a) > 1 else math.nan,
                     "var_other": b.var(ddof=1) if len(b) > 1 else math.nan,
                     "difference": a.mean() - b.mean() if len(a) and len(b) else math.nan,
                     "weight": len(a) * len(b) / (len(a) + len(b)) if usable else 0.0, "usable": usable})
    return pd.DataFrame(rows, columns=["mode", "method", "slot", "n_fc_fc", "n_other", "mean_fc_fc", "mean_other",
                                       "var_fc_fc", "var_other", "difference", "weight", "usable"])


def stratified_difference(strata: pd.DataFrame, level: float) -> Estimate:
    """Weighted mean of per-stratum differences of means, with a Welch-Satterthwaite t interval.

    Each stratum (n_a fc -> fc and n_b other steps, both >= 2) contributes d = mean_a - mean_b with
    weight w = n_a n_b / (n_a + n_b); the estimate is sum w d / sum w and its variance
    sum (w / W)^2 (var_a / n_a + var_b / n_b). The weights use only the counts (weights estimated from
    the same variances would make the interval too narrow in small strata). The degrees of freedom
    are Satterthwaite's over the 2 x strata variance components.
    """
    stats.check_level(level)
    s = strata[strata.usable]
    if s.empty:
        return Estimate(math.nan, math.nan, math.nan, level, 0, "stratified Welch t")
    w = s.weight.to_numpy(float) / s.weight.sum()
    d = float(np.sum(w * s.difference))
    components = np.concatenate([w**2 * s.var_fc_fc / s.n_fc_fc, w**2 * s.var_other / s.n_other])
    dofs = np.concatenate([s.n_fc_fc - 1, s.n_other - 1]).astype(float)
    var = float(components.sum())
    n = int(min(s.n_fc_fc.sum(), s.n_other.sum()))
    if var == 0:
        return Estimate(d, d, d, level, n, "stratified Welch t", scale=0.0, p_value=0.0 if d else 1.0)
    df = var**2 / float(np.sum(components**2 / dofs))
    se = math.sqrt(var)
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * sps.t.sf(abs(d) / se, df))
    return Estimate(d, d - half, d + half, level, n, "stratified Welch t", scale=se * math.sqrt(n), p_value=p)


def fc_stacking_claims(steps: pd.DataFrame, modes: Sequence[str] | None = None, *, alpha: float = 0.05,
                       min_n: int = MIN_STEPS) -> list[ClaimRow]:
    """One row per environment mode: fc -> fc steps earn less than other pairs at the same slot and method."""
    require_columns(steps, "steps", ("method", "mode", "seed", "slot", "previous_kind", "kind", "reward", "valid"))
    modes = list(dict.fromkeys(steps["mode"])) if modes is None else list(modes)
    strata = fc_stacking_strata(steps)
    rows = []
    for mode in modes:
        part = steps[steps["mode"] == mode]
        claim = Claim(claim=f"Stacking fully connected layers lowers the reward ({mode} mode)",
                      paper="stacking fully connected layers is the main culprit for performance degradation",
                      source=SOURCE,
                      estimand="reward (accuracy gain, points) of an fc -> fc step minus that of other layer pairs "
                               "at the same slot, by the same method; valid steps after the first layer "
                               "(< 0: fc -> fc worse)",
                      direction="less", threshold=0.0, alpha=alpha, min_n=min_n, unit="fc -> fc steps")
        s = strata[strata["mode"] == mode]
        e = stratified_difference(s, claim.ci_level)
        _, left_out = _later_valid(part)
        unusable = s[~s.usable]
        detail = (f"{int(s[s.usable].n_fc_fc.sum())} fc -> fc vs {int(s[s.usable].n_other.sum())} other steps in "
                  f"{int(s.usable.sum())} (method, slot) strata; methods {sorted(set(part.method))}; left out: "
                  f"{left_out['invalid']} invalid steps (reward -1), {left_out['first layers']} first layers, "
                  f"{left_out.get('repeated', 0)} repeated networks, "
                  f"{int(unusable.n_fc_fc.sum() + unusable.n_other.sum())} steps in (method, slot) strata with fewer than "
                  f"2 of either group (slot 1 never follows an fc layer)")
        none = "" if s.usable.any() else "no (method, slot) stratum has 2 fc -> fc and 2 other steps"
        rows.append(decide(claim, e, detail=detail, not_measured=none))
    return rows


# ------------------------------------------------------------------------------ attention
def within_slot_ranks(frame: pd.DataFrame, by: Sequence[str] = ("seed", "slot")) -> pd.DataFrame:
    """Valid steps after the first layer with ``weight_rank`` and ``reward_rank`` in (0, 1) within ``by``.

    Ranks within a slot remove what depth does to both sides (attention weights depend on the slot's
    position, rewards shrink with depth), and within a seed what differs between the critics of
    different runs. Ties get their mean rank; groups of one step carry no ranking and are dropped.
    """
    require_columns(frame, "attention frame", ("slot", "weight_new", "reward", "valid", *by))
    used = frame[frame.valid.astype(bool) & (frame.slot > 0)]
    used = used[np.isfinite(used.weight_new.astype(float)) & np.isfinite(used.reward.astype(float))]
    groups = used.groupby(list(by))
    size = groups.weight_new.transform("size")
    out = used.assign(weight_rank=(groups.weight_new.rank(method="average") - 0.5) / size,
                      reward_rank=(groups.reward.rank(method="average") - 0.5) / size)
    return out[size >= 2]


def attention_estimate(frame: pd.DataFrame, level: float) -> Estimate:
    """Spearman's rho of the within-(seed, slot) ranks of attention weight and reward (Fisher z)."""
    ranked = within_slot_ranks(frame)
    return stats.spearman_ci(ranked.weight_rank.to_numpy(float), ranked.reward_rank.to_numpy(float), level)


def attention_claims(attention: dict[str, pd.DataFrame], *, alpha: float = 0.05,
                     min_n: int = MIN_ATTENTION_STEPS) -> list[ClaimRow]:
    """One row per TRL-HPO variant: the newest slot's attention weight rises with that step's reward."""
    rows = []
    for method, frame in attention.items():
        claim = Claim(claim=f"{_label(method)}: the critic's attention to the newest layer rises with its reward",
                      paper="the attention makes the search transparent (no number in the abstract)",
                      source=SOURCE,
                      estimand="Spearman rho between the final critic's attention weight of the newest slot and the "
                               "step's reward, both ranked within (seed, slot); valid steps after the first layer",
                      direction="greater", threshold=0.0, alpha=alpha, min_n=min_n, unit="steps")
        require_columns(frame, f"attention[{method!r}]", ("seed", "slot", "weight_new", "reward", "valid"))
        e = attention_estimate(frame, claim.ci_level)
        valid = frame.valid.astype(bool)
        detail = (f"left out: {int((~valid).sum())} invalid steps (reward -1), "
                  f"{int((valid & (frame.slot == 0)).sum())} first layers, "
                  f"{int((valid & (frame.slot > 0)).sum()) - e.n} steps alone in their (seed, slot)")
        rows.append(decide(claim, e, detail=detail))
    return rows


def attention_rho_table(frame: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Spearman's rho of attention weight and reward on several step sets (the claim's is the last).

    "all steps" keeps invalid ones (reward -1) and first layers, and so mostly measures valid versus
    invalid and depth; it is shown to make that visible, not to decide anything.
    """
    rows: list[dict[str, Any]] = []

    def add(name: str, x: Any, y: Any) -> None:
        e = stats.spearman_ci(np.asarray(x, float), np.asarray(y, float), level)
        rows.append({"steps": name, "rho": e.value, "ci_low": e.low, "ci_high": e.high, "n": e.n, "p_value": e.p_value})

    add("all (invalid and first layers included)", frame.weight_new, frame.reward)
    valid = frame[frame.valid.astype(bool)]
    for slot, part in valid.groupby("slot"):
        add(f"valid, slot {int(slot)}", part.weight_new, part.reward)
    later = valid[valid.slot > 0]
    add("valid, slots >= 1, pooled", later.weight_new, later.reward)
    ranked = within_slot_ranks(frame)
    add("valid, slots >= 1, ranked within (seed, slot) [claim]", ranked.weight_rank, ranked.reward_rank)
    return pd.DataFrame(rows)


def trl_claims(final: pd.DataFrame, steps: pd.DataFrame, attention: dict[str, pd.DataFrame], *,
               method: str | None, budget_s: float | None = None, alpha: float = 0.05) -> list[ClaimRow]:
    """Every claim of the notebook, in table order (accuracy rows only when a TRL-HPO variant ran)."""
    rows = accuracy_claims(final, method, budget_s=budget_s, alpha=alpha) if method is not None else []
    return rows + fc_stacking_claims(steps, alpha=alpha) + attention_claims(attention, alpha=alpha)


__all__ = ["FROM_SCRATCH", "PAPER_GAIN_POINTS", "SOURCE", "accuracy_claims", "attention_claims", "attention_estimate",
           "attention_rho_table", "fc_stacking_claims", "fc_stacking_strata", "paired_accuracy_gain",
           "stratified_difference", "trl_claims", "within_slot_ranks"]
