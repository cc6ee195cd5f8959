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
  step earns a lower reward than the other layer pairs *at the same depth in the same run*. The unit
  is the **run** (one method, one seed): steps of one run share its critic or controller, its
  initial weights and its cache, so they are not independent measurements (pseudo-replication). Each
  run gives one number, its within-slot difference of means combined over slots with weights
  n_a n_b / (n_a + n_b); the claim is a t interval over runs, one row per environment mode (faithful
  and fixed mode are different search spaces).
* :func:`attention_claims` -- one attention frame per TRL-HPO variant (``seed``, ``slot``,
  ``weight_new``, ``reward``, ``valid``, ``n_updates`` and optionally ``prefix``): the newest slot's
  attention weight rises with the step's reward. The unit is the **seed** (each run has its own
  critic): per seed, Spearman's rho of weight and reward ranked within slot over distinct networks
  after the first layer; the claim is a t interval over seeds of those rhos, > 0. A seed whose critic
  was never updated (``n_updates == 0``: ``learning_starts`` not reached) has nothing to attend with
  and is left out; with none left the row is "not measured".

A network a run evaluates again (the cache returns the same reward) is one measurement: both claims
keep one row per distinct network per run (the attention claim averages its weights over the visits).
Invalid steps (reward -1, the network could not be built) are left out of both step-level claims:
with them, the claims would measure "valid versus invalid" rather than how layer pairs or attention
relate to accuracy gains. Their counts are in each row's detail.
"""
from __future__ import annotations

import math
from dataclasses import replace
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
MIN_RUNS = 3  # runs (method x seed) with an fc -> fc comparison: a t interval over fewer has 1 degree of freedom
MIN_ATTENTION_SEEDS = 3  # seeds with an updated critic and a within-seed rho
MIN_SEED_STEPS = 5  # ranked distinct networks a seed needs for its own rho


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
    """One row per baseline ("more accurate within the same time") and the abstract's +6.8 points row.

    Paired t over seeds. End-to-end null (``hpo_kit/trl_hpo/null_checks.py``): both arms random search
    under other seeds, through :func:`~hpo_kit.trl_hpo.compare.final_frame` and this function.
    """
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
    """Per (mode, method, slot), seeds pooled: fc -> fc steps and other pairs, their mean rewards (points) and weights.

    For reading (the notebook's table); the claim is decided per run (:func:`fc_stacking_runs`).
    """
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
    """Weighted mean of per-stratum differences of means, with a Welch-Satterthwaite t interval over steps.

    Not the claim's rule: it treats every step as independent, which steps of one run are not (they
    share its policy, initial weights and cache), so with run-to-run differences its interval is too
    narrow. Kept to show that defect (tests/test_claims_trl_hpo.py).

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


def fc_stacking_runs(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per run (mode, method, seed): its own fc -> fc minus other-pairs difference, in points.

    Within the run, each slot with at least one distinct fc -> fc network and one other gives a
    difference of means; the run's difference combines them with weights n_a n_b / (n_a + n_b)
    (``usable`` False when no slot has both).
    """
    require_columns(steps, "steps", ("method", "mode", "seed", "slot", "previous_kind", "kind", "reward", "valid"))
    later, _ = _later_valid(steps)
    keys = ["mode", "method", "seed"]
    columns = [*keys, "n_fc_fc", "n_other", "slots_compared", "difference", "usable"]
    if later.empty:
        return pd.DataFrame(columns=columns)
    later = later.assign(fc_fc=(later.previous_kind == "fc") & (later.kind == "fc"),
                         points=100 * later.reward.astype(float))
    # mean and count per (run, slot, group), one column per group (True: fc -> fc)
    cells = later.groupby([*keys, "slot", "fc_fc"]).points.agg(["mean", "size"]).unstack("fc_fc")
    mean = cells["mean"].reindex(columns=[True, False])
    size = cells["size"].reindex(columns=[True, False]).fillna(0)
    both = (size[True] > 0) & (size[False] > 0)
    w = (size[True] * size[False] / (size[True] + size[False])).where(both, 0.0)
    per_slot = pd.DataFrame({"wd": (w * (mean[True] - mean[False])).where(both, 0.0), "w": w,
                             "compared": both, "n_fc_fc": size[True], "n_other": size[False]})
    runs = per_slot.groupby(level=keys).sum()
    out = pd.DataFrame({"n_fc_fc": runs.n_fc_fc.astype(int), "n_other": runs.n_other.astype(int),
                        "slots_compared": runs.compared.astype(int),
                        "difference": (runs.wd / runs.w).where(runs.w > 0), "usable": runs.w > 0})
    return out.reset_index()[columns]


def fc_stacking_claims(steps: pd.DataFrame, modes: Sequence[str] | None = None, *, alpha: float = 0.05,
                       min_n: int = MIN_RUNS) -> list[ClaimRow]:
    """One row per environment mode: in a run, fc -> fc steps earn less than other pairs at the same slot.

    Decided by a t interval over runs (method x seed) of each run's own difference
    (:func:`fc_stacking_runs`), not over steps: steps of one run are not independent. The end-to-end
    null (``hpo_kit/trl_hpo/null_checks.py``) runs random search, whose layer choices cannot favour or
    avoid fc -> fc, on an objective where the pair has no effect.
    """
    require_columns(steps, "steps", ("method", "mode", "seed", "slot", "previous_kind", "kind", "reward", "valid"))
    modes = list(dict.fromkeys(steps["mode"])) if modes is None else list(modes)
    runs = fc_stacking_runs(steps)
    rows = []
    for mode in modes:
        part = steps[steps["mode"] == mode]
        claim = Claim(claim=f"Stacking fully connected layers lowers the reward ({mode} mode)",
                      paper="stacking fully connected layers is the main culprit for performance degradation",
                      source=SOURCE,
                      estimand="per run (method x seed): reward (accuracy gain, points) of an fc -> fc step minus "
                               "that of other layer pairs at the same slot, distinct valid networks after the first "
                               "layer; mean over runs (< 0: fc -> fc worse)",
                      direction="less", threshold=0.0, alpha=alpha, min_n=min_n, unit="runs")
        r = runs[runs["mode"] == mode]
        used = r[r.usable]
        e = replace(stats.mean_ci(used.difference.to_numpy(float), claim.ci_level), method="t over runs")
        _, left_out = _later_valid(part)
        detail = (f"{len(used)} of {len(r)} runs compare fc -> fc with other pairs at some slot "
                  f"({int(used.n_fc_fc.sum())} fc -> fc vs {int(used.n_other.sum())} other distinct networks); "
                  f"methods {sorted(set(part.method))}; left out: {left_out['invalid']} invalid steps (reward -1), "
                  f"{left_out['first layers']} first layers, {left_out.get('repeated', 0)} repeated networks")
        none = "" if len(used) else "no run has an fc -> fc and another network at the same slot"
        rows.append(decide(claim, e, detail=detail, not_measured=none))
    return rows


# ------------------------------------------------------------------------------ attention
def distinct_networks(frame: pd.DataFrame) -> pd.DataFrame:
    """Valid visited steps after the first layer, one row per distinct network of a seed.

    A network visited again gets the same reward from the cache: it is one measurement. Its attention
    weights (the actions, hence the tokens, differ a little between visits) are averaged. Without a
    ``prefix`` column every step counts as its own network.
    """
    used = frame[frame.valid.astype(bool) & (frame.slot > 0)]
    used = used[np.isfinite(used.weight_new.astype(float)) & np.isfinite(used.reward.astype(float))]
    if "prefix" not in used:
        return used
    return (used.groupby(["seed", "slot", "prefix"], sort=False, as_index=False)
            .agg(weight_new=("weight_new", "mean"), reward=("reward", "first"), valid=("valid", "first")))


def within_slot_ranks(frame: pd.DataFrame, by: Sequence[str] = ("seed", "slot")) -> pd.DataFrame:
    """Distinct valid networks after the first layer with ``weight_rank`` and ``reward_rank`` in (0, 1) within ``by``.

    Ranks within a slot remove what depth does to both sides (attention weights depend on the slot's
    position, rewards shrink with depth), and within a seed what differs between the critics of
    different runs. Ties get their mean rank; groups of one step carry no ranking and are dropped.
    """
    require_columns(frame, "attention frame", ("slot", "weight_new", "reward", "valid", *by))
    used = distinct_networks(frame)
    groups = used.groupby(list(by))
    size = groups.weight_new.transform("size")
    out = used.assign(weight_rank=(groups.weight_new.rank(method="average") - 0.5) / size,
                      reward_rank=(groups.reward.rank(method="average") - 0.5) / size)
    return out[size >= 2]


def pooled_attention_estimate(frame: pd.DataFrame, level: float) -> Estimate:
    """Spearman's rho of the within-(seed, slot) ranks, all seeds' networks pooled as if independent.

    Shown in :func:`attention_rho_table` only: steps of one seed share a critic, so the Fisher-z interval
    over pooled steps is too narrow (the claim uses :func:`attention_estimate`).
    """
    ranked = within_slot_ranks(frame)
    return stats.spearman_ci(ranked.weight_rank.to_numpy(float), ranked.reward_rank.to_numpy(float), level)


def seed_rhos(frame: pd.DataFrame, min_steps: int = MIN_SEED_STEPS) -> pd.Series:
    """Per seed: Spearman's rho of weight and reward ranked within slot (seeds with >= ``min_steps`` networks)."""
    ranked = within_slot_ranks(frame)
    out = {}
    for seed, part in ranked.groupby("seed", sort=True):
        if len(part) >= min_steps and part.weight_rank.nunique() > 1 and part.reward_rank.nunique() > 1:
            out[seed] = float(sps.spearmanr(part.weight_rank, part.reward_rank).statistic)
    return pd.Series(out, name="rho", dtype=float)


def attention_estimate(frame: pd.DataFrame, level: float) -> Estimate:
    """Mean over seeds of each seed's within-slot Spearman rho, with a t interval over seeds."""
    return replace(stats.mean_ci(seed_rhos(frame).to_numpy(float), level), method="t over seeds of rho")


def attention_claims(attention: dict[str, pd.DataFrame], *, alpha: float = 0.05,
                     min_n: int = MIN_ATTENTION_SEEDS) -> list[ClaimRow]:
    """One row per TRL-HPO variant: the newest slot's attention weight rises with its reward.

    Decided by a t interval over seeds of per-seed rhos; seeds whose critic was never updated are
    left out, and a variant none of whose critics was updated is "not measured".

    No strict end-to-end null exists in the kit's code: the critic's tokens contain the performance
    vectors the reward is computed from, so on any objective a trained critic may attend with the
    reward. The end-to-end check (``hpo_kit/trl_hpo/null_checks.py``) runs TRL-HPO on a stand-in whose
    rewards do not depend on the layers in expectation: a weaker null (no layer-driven attention).
    """
    rows = []
    for method, frame in attention.items():
        claim = Claim(claim=f"{_label(method)}: the critic's attention to the newest layer rises with its reward",
                      paper="the attention makes the search transparent (no number in the abstract)",
                      source=SOURCE,
                      estimand="per seed: Spearman rho between the final critic's attention weight of the newest "
                               "slot and the step's reward, ranked within slot, distinct valid networks after the "
                               "first layer; mean over seeds whose critic was updated (> 0)",
                      direction="greater", threshold=0.0, alpha=alpha, min_n=min_n, unit="seeds")
        require_columns(frame, f"attention[{method!r}]", ("seed", "slot", "weight_new", "reward", "valid", "n_updates"))
        updates = frame.groupby("seed").n_updates.max()
        untrained = sorted(int(s) for s in updates.index[updates <= 0])
        trained = frame[~frame.seed.isin(untrained)]
        valid = frame.valid.astype(bool)
        later = int((valid & (frame.slot > 0)).sum())
        detail = (f"left out: {int((~valid).sum())} invalid steps (reward -1), "
                  f"{int((valid & (frame.slot == 0)).sum())} first layers, "
                  f"{later - len(distinct_networks(frame))} revisits of a network; "
                  f"seeds with a never-updated critic: {untrained or 'none'}")
        if len(updates) and not len(trained):
            rows.append(decide(claim, None, detail=detail,
                               not_measured="the critic was never updated in any run (n_updates = 0: the replay "
                                            "buffer never reached learning_starts), so its attention is its random "
                                            "initialisation"))
            continue
        e = attention_estimate(trained, claim.ci_level)
        rows.append(decide(claim, e, detail=detail + f"; {e.n} seeds with >= {MIN_SEED_STEPS} ranked networks"))
    return rows


def attention_rho_table(frame: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Spearman's rho of attention weight and reward on several step sets (the claim's is the last; its n is seeds).

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
    add("distinct valid networks, slots >= 1, ranked within (seed, slot), seeds pooled (not the claim: "
        "pooled steps are not independent)", ranked.weight_rank, ranked.reward_rank)
    e = attention_estimate(frame, level)
    rows.append({"steps": "[claim] mean over seeds of each seed's within-slot rho (t over seeds)", "rho": e.value,
                 "ci_low": e.low, "ci_high": e.high, "n": e.n, "p_value": e.p_value})
    return pd.DataFrame(rows)


def trl_claims(final: pd.DataFrame, steps: pd.DataFrame, attention: dict[str, pd.DataFrame], *,
               method: str | None, budget_s: float | None = None, alpha: float = 0.05) -> list[ClaimRow]:
    """Every claim of the notebook, in table order (accuracy rows only when a TRL-HPO variant ran)."""
    rows = accuracy_claims(final, method, budget_s=budget_s, alpha=alpha) if method is not None else []
    return rows + fc_stacking_claims(steps, alpha=alpha) + attention_claims(attention, alpha=alpha)


__all__ = ["FROM_SCRATCH", "PAPER_GAIN_POINTS", "SOURCE", "accuracy_claims", "attention_claims", "attention_estimate",
           "attention_rho_table", "distinct_networks", "fc_stacking_claims", "fc_stacking_runs", "fc_stacking_strata",
           "paired_accuracy_gain", "pooled_attention_estimate", "seed_rhos", "stratified_difference", "trl_claims",
           "within_slot_ranks"]
