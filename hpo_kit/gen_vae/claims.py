"""Notebook 05's claims, decided by the kit's one rule (hpo_kit.claims) from the regret frame.

The frame is :func:`hpo_kit.gen_vae.analysis.regret_frame`'s: one row per (method, space, dataset,
seed, trial) with ``regret`` = 1 - normalised incumbent. Every comparison is paired: two methods
on the same task from the same initial design (HPO-B seed).

**Estimand and interval** (:func:`regret_difference`): the mean over the benchmark's test tasks
of the seed-averaged paired difference in regret at one trial. The tasks are the benchmark's fixed
set (HPO-B's six for space 5971), the seeds are the random replicates, so the variance is the
within-task one: var = sum_t s_t^2 / n_t / T^2, with Satterthwaite's degrees of freedom. This is
the interval of "these tasks", not of "tasks like these" (a few tasks dominate the mean regret:
on HPO-B's published GEN-VAE curves one task of six carries two thirds of the gap).

**Where the numbers come from.** ``paper`` quotes figures the kit derived from HPO-B's published
result files (kept in ``data/hpob_reference_5971.json``, see :mod:`hpo_kit.gen_vae.reference`):

* GEN-VAE vs random search on space 5971, continuous protocol, 6 tasks x 5 seeds, mean of
  1 - incumbent at trial 50 (index 50 of each curve): GEN-VAE.json 0.070, RS-C.json 0.024;
* GP vs random search, continuous protocol, trial 100: 0.036 vs 0.056 is the mean over *all 16*
  search spaces' runs (GP-C.json, RS-C.json); on space 5971 alone the files give 0.0046 vs 0.018.

On the kit's own meta-dataset (or the test fixture) the directions are tested; HPO-B's numbers
are only compared with runs on HPO-B's own data (``data_source == "hpob"``), else those rows are
"not measured".
"""
from __future__ import annotations

import math
import numpy as np
import pandas as pd
from scipy import stats as sps

from hpo_kit import stats
from hpo_kit.claims import Claim, ClaimRow, decide, require_columns
from hpo_kit.gen_vae import reference
from hpo_kit.stats import Estimate

COLUMNS = ("method", "dataset", "seed", "trial", "regret")
SRC_GEN = "youssefnassar95/HPO-B results/GEN-VAE.json vs HPO-B results/RS-C.json, space 5971 (derived by the kit)"
SRC_GP = "machinelearningnuremberg/HPO-B results/GP-C.json vs RS-C.json (derived by the kit)"
SRC_KIT = "this kit (hpo_kit/gen_vae/method.py, QUIRKS)"
PAPER_GEN_TRIAL, PAPER_GP_TRIAL = 50, 100
MIN_RUNS = 6          # paired runs (task x seed) at least
#: "within noise of HPO-B's curve": within +-0.02 regret (2 points of normalised accuracy). At HPO-B's
#: sample (6 tasks x 5 seeds) and the published run-to-run spread of random search at 50 trials, a
#: +-0.01 margin would be decided in only about half of exact reproductions.
REFERENCE_MARGIN = 0.02
DATA_LABEL = {"hpob": "HPO-B's data", "kit": "the kit's own meta-dataset (not HPO-B's numbers)",
              "fixture": "the synthetic test fixture"}


def _wide(frame: pd.DataFrame, a: str, b: str, trial: int) -> pd.DataFrame:
    """Regret of ``a`` and ``b`` side by side, one row per (dataset, seed) both ran at ``trial``."""
    require_columns(frame, "frame", COLUMNS)
    f = frame[(frame.trial == trial) & frame.method.isin([a, b])]
    w = f.groupby(["method", "dataset", "seed"]).regret.mean().unstack("method")
    return w.dropna() if {a, b} <= set(w.columns) else pd.DataFrame(columns=[a, b])


def stratified_paired_ci(d: pd.Series, level: float) -> Estimate:
    """Mean over tasks (index level ``dataset``) of the mean paired difference, within-task variance.

    Tasks with a single seed carry no within-task variance and are left out.
    """
    stats.check_level(level)
    g = d.groupby(level="dataset")
    n_t, m_t, v_t = g.count(), g.mean(), g.var(ddof=1)
    keep = n_t >= 2
    n_t, m_t, v_t = n_t[keep], m_t[keep], v_t[keep]
    T, n = len(n_t), int(n_t.sum())
    if T == 0:
        return Estimate(math.nan, math.nan, math.nan, level, n, "stratified paired t")
    est = float(m_t.mean())
    comp = (v_t / n_t).to_numpy(float) / T**2
    var = float(comp.sum())
    if var == 0:
        return Estimate(est, est, est, level, n, "stratified paired t", scale=0.0, p_value=0.0 if est else 1.0)
    dof = var**2 / float(np.sum(comp**2 / (n_t.to_numpy(float) - 1)))
    se = math.sqrt(var)
    half = float(sps.t.ppf(0.5 + level / 2, dof)) * se
    p = float(2 * sps.t.sf(abs(est) / se, dof))
    return Estimate(est, est - half, est + half, level, n, "stratified paired t (tasks fixed, seeds random)",
                    scale=se * math.sqrt(n), p_value=p)


def regret_difference(frame: pd.DataFrame, a: str, b: str, trial: int, level: float) -> tuple[Estimate, str]:
    """Estimate of regret(a) - regret(b) at ``trial`` and a detail text (means, tasks, runs)."""
    w = _wide(frame, a, b, trial)
    if w.empty:
        return Estimate(math.nan, math.nan, math.nan, level, 0, "stratified paired t"), f"no paired runs at trial {trial}"
    e = stratified_paired_ci(w[a] - w[b], level)
    ties = int((w[a] == w[b]).sum())  # e.g. both at regret 0: the initial design already held the task's best
    detail = (f"mean regret {w[a].mean():.4f} vs {w[b].mean():.4f} at trial {trial}; "
              f"{w.index.get_level_values('dataset').nunique()} tasks, {len(w)} paired runs, {ties} tied")
    return e, detail


def _has(frame: pd.DataFrame, *methods: str) -> str:
    missing = [m for m in methods if m not in set(frame.method)]
    return f"method(s) {missing} did not run" if missing else ""


def _where(trial: int, data_source: str) -> str:
    return f"at {trial} trials on {DATA_LABEL.get(data_source, data_source)}"


def faithful_vs_random_claims(frame: pd.DataFrame, trial: int, data_source: str, *, alpha: float = 0.05,
                              min_n: int = MIN_RUNS) -> list[ClaimRow]:
    """Faithful GEN-VAE has higher regret than random search (the published direction, on any data).

    The published size of the gap (0.046) is not its own row: at HPO-B's sample (6 tasks x 5 seeds)
    GEN-VAE's run-to-run spread (0.18 within one task) makes a +-0.02 equivalence test of it
    undecidable (the published runs themselves give a 90 % interval of [0.015, 0.077]); the row's
    detail shows the published means next to the kit's when HPO-B's data is used.
    """
    a, b = "gen_vae_faithful", "random"
    est = f"regret(GEN-VAE faithful) - regret(random search) at trial {trial}, paired by task and seed; mean over tasks (> 0: GEN-VAE worse)"
    claim = Claim(claim=f"Faithful GEN-VAE is worse than random search ({_where(trial, data_source)})",
                  paper="mean regret at 50 trials: GEN-VAE 0.070 vs random search 0.024 (space 5971)", source=SRC_GEN,
                  estimand=est, direction="greater", threshold=0.0, alpha=alpha, min_n=min_n, unit="runs")
    e, detail = regret_difference(frame, a, b, trial, claim.ci_level)
    published = (f"; published on HPO-B's data: {reference.mean_regret('GEN-VAE', PAPER_GEN_TRIAL):.3f} vs "
                 f"{reference.mean_regret('RS-C', PAPER_GEN_TRIAL):.3f}" if data_source == "hpob" else "")
    rows = [decide(claim, e, detail=detail + published, not_measured=_has(frame, a, b))]
    return rows


def lower_regret_claim(frame: pd.DataFrame, a: str, b: str, trial: int, data_source: str, *, claim_text: str,
                       paper: str, source: str, alpha: float = 0.05, min_n: int = MIN_RUNS) -> ClaimRow:
    """``a`` reaches lower regret than ``b`` at ``trial`` (paired by task and seed)."""
    claim = Claim(claim=f"{claim_text} ({_where(trial, data_source)})", paper=paper, source=source,
                  estimand=f"regret({a}) - regret({b}) at trial {trial}, paired by task and seed; mean over tasks "
                           f"(< 0: {a} better)",
                  direction="less", threshold=0.0, alpha=alpha, min_n=min_n, unit="runs")
    e, detail = regret_difference(frame, a, b, trial, claim.ci_level)
    return decide(claim, e, detail=detail, not_measured=_has(frame, a, b))


def fixed_claims(frame: pd.DataFrame, trial: int, data_source: str, *, alpha: float = 0.05,
                 min_n: int = MIN_RUNS) -> list[ClaimRow]:
    """Fixed GEN-VAE beats random search, and beats faithful GEN-VAE (the kit's repair; no published number)."""
    return [lower_regret_claim(frame, "gen_vae_fixed", "random", trial, data_source,
                               claim_text="Fixed GEN-VAE has lower regret than random search",
                               paper="no published number: the kit's repair of the faithful quirks", source=SRC_KIT,
                               alpha=alpha, min_n=min_n),
            lower_regret_claim(frame, "gen_vae_fixed", "gen_vae_faithful", trial, data_source,
                               claim_text="Fixed GEN-VAE has lower regret than faithful GEN-VAE",
                               paper="no published number: what repairing the quirks changes", source=SRC_KIT,
                               alpha=alpha, min_n=min_n)]


def gp_claim(frame: pd.DataFrame, trial: int, data_source: str, *, alpha: float = 0.05,
             min_n: int = MIN_RUNS) -> ClaimRow:
    gp_all = "0.036 vs 0.056 mean regret at 100 trials, all 16 search spaces (GP-C vs RS-C)"
    gp5971 = (f"{reference.mean_regret('GP-C', 100):.4f} vs {reference.mean_regret('RS-C', 100):.4f} on space 5971")
    return lower_regret_claim(frame, "gp_ei", "random", trial, data_source,
                              claim_text="GP-EI has lower regret than random search",
                              paper=f"HPO-B continuous reference: {gp_all}; {gp5971}", source=SRC_GP,
                              alpha=alpha, min_n=min_n)


def reference_claims(frame: pd.DataFrame, trial: int, data_source: str, protocol: str, *, alpha: float = 0.05,
                     min_n: int = MIN_RUNS, margin: float = REFERENCE_MARGIN,
                     reference_frames: dict[str, pd.DataFrame] | None = None) -> list[ClaimRow]:
    """With HPO-B's data: the kit's random search and GP regrets are within ``margin`` of HPO-B's curves.

    Paired by (dataset, seed): same task, same initial design, different random numbers.
    ``reference_frames`` (method -> frame with dataset, seed, trial, regret) replaces the shipped
    published curves (for tests).
    """
    files = {"random": "RS-C" if protocol == "continuous" else "Random",
             "gp_ei": "GP-C" if protocol == "continuous" else "GP"}
    rows = []
    for method, name in files.items():
        claim = Claim(claim=f"The kit's {'random search' if method == 'random' else 'GP-EI'} matches HPO-B's "
                            f"published {name} curve within noise (at {trial} trials, {protocol} protocol)",
                      paper=f"HPO-B results/{name}.json, space 5971: mean regret "
                            f"{reference.mean_regret(name, min(trial, 100)) if trial in reference.TRIALS else float('nan'):.4f}",
                      source="machinelearningnuremberg/HPO-B results/ (derived by the kit)",
                      estimand=f"regret(kit {method}) - regret(HPO-B {name}) at trial {trial}, paired by task and seed; "
                               "mean over tasks",
                      direction="equivalent", threshold=0.0, margin=margin, alpha=alpha, min_n=min_n, unit="runs")
        why = ""
        if data_source != "hpob":
            why = "needs HPO-B's own data (data = hpob): not measurable on the kit's meta-dataset"
        elif trial not in reference.TRIALS:
            why = f"HPO-B's curves are kept at trials {reference.TRIALS}; ran {trial}"
        elif method not in set(frame.method):
            why = f"{method} did not run"
        if why:
            rows.append(decide(claim, None, not_measured=why))
            continue
        ref = (reference_frames or {}).get(method)
        ref = reference.reference_frame(name) if ref is None else ref
        mine = frame[frame.method == method]
        both = pd.concat([mine.assign(method="kit"), ref.assign(method="hpob")], ignore_index=True)
        e, detail = regret_difference(both, "kit", "hpob", trial, claim.ci_level)
        rows.append(decide(claim, e, detail=detail))
    return rows


def gen_vae_claims(frame: pd.DataFrame, data_source: str, protocol: str, n_trials: int, *,
                   alpha: float = 0.05) -> list[ClaimRow]:
    """Every claim of notebook 05, in table order, each at its published trial (or the last one run)."""
    t_gen, t_gp = min(PAPER_GEN_TRIAL, n_trials), min(PAPER_GP_TRIAL, n_trials)
    return (faithful_vs_random_claims(frame, t_gen, data_source, alpha=alpha)
            + fixed_claims(frame, t_gen, data_source, alpha=alpha)
            + [gp_claim(frame, t_gp, data_source, alpha=alpha)]
            + reference_claims(frame, t_gp, data_source, protocol, alpha=alpha))


__all__ = ["MIN_RUNS", "REFERENCE_MARGIN", "faithful_vs_random_claims", "fixed_claims", "gen_vae_claims",
           "gp_claim", "lower_regret_claim", "reference_claims", "regret_difference", "stratified_paired_ci"]
