"""End-to-end null checks of notebook 03's comparative claims (see :mod:`hpo_kit.null_checks`).

Each case runs the notebook's own experiment code (``hpo_kit.nas.experiments``: ``run_search``,
``separate_search``, ``random_sample_at_budgets``, ``final_table``, ``separate_table``), its analysis
(``hpo_kit.analysis``) and its claim function, on :class:`hpo_kit.nas.stand_in.StandInObjective` (a
synthetic objective over the same 17-d space, milliseconds per evaluation, where training a ShakeResNet
would take minutes to days) built so that the compared factor cannot matter:

* **far-pair correlation is low**: the population Spearman rho between the smallest and the largest
  budget is exactly the claim's limit (0.5), decaying evenly over the budgets between. "Holds" is false.
* **neighbours correlate more than far budgets**: every pair of budgets has the same rho (0.5), so the
  difference is exactly 0 (a symmetric null).
* **importance changes with the budget**: the same function of three hyperparameters at every budget,
  with five times the noise at the smallest budget as at the largest (the threat of issue 22). "Holds" is
  false; "does not hold" is right.
* **joint beats separate search**: the test error does not depend on the configuration, so neither search
  can find a better one (a symmetric null; the validation loss still has a signal for the searches to
  follow, so both run their full course).
* **BOHB beats random search**: both arms are random search under different seeds, on a stand-in whose
  test error follows the validation loss (a symmetric null).

The paper-number row (3.18 % on CIFAR-10) compares one method with a published number: nothing can be
removed, and it has no end-to-end null (see ``hpo_kit.nas.claims.paper_error_claim``).

Designs are read from ``params/<profile>/03_bohb_joint_nas_hpo.yaml`` (with the notebook's defaults):
seeds, budgets, eta, Hyperband iterations, bracket rule, KDE mode, random-sample size and bootstrap
sizes. Every replicate ``r`` seeds the stand-in's function and the searches from ``r``.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from hpo_kit.analysis import binned_main_effects, bootstrap_importance_change, fanova_main_effects
from hpo_kit.claims import FAILS, HOLDS, ClaimRow
from hpo_kit.nas import claims as nc
from hpo_kit.nas import experiments as ex
from hpo_kit.nas.stand_in import StandInObjective, decaying_corr, equal_corr
from hpo_kit.null_checks import NullCase

NOTEBOOK = "03_bohb_joint_nas_hpo"
#: the stand-in's signal for the searches and the importance null: three hyperparameters matter
WEIGHTS = {"learning_rate": 1.0, "weight_decay": 0.6, "n_blocks_1": 0.4}
#: noise s.d. (in the stand-in's units) at the smallest and the largest budget for the importance null
NOISE_SMALL, NOISE_LARGE = 0.5, 0.1
#: seeds of replicate r are r * SEED_STRIDE + 0, 1, ...; the other random-search arm adds SEED_OFFSET
SEED_STRIDE, SEED_OFFSET = 1000, 500


@lru_cache(maxsize=None)
def design(profile: str) -> dict[str, Any]:
    """The settings of notebook 03 at ``profile`` that the null checks follow (from its parameter files)."""
    from hpo_kit.params import profile_params

    p = profile_params(NOTEBOOK, profile)
    return {"profile": profile, "n_seeds": int(p["n_seeds"]), "min_budget": int(p["min_budget"]),
            "max_budget": int(p["max_budget"]), "eta": int(p["eta"]), "n_iterations": int(p["n_iterations"]),
            "kde_min_points": int(p["kde_min_points"]), "kde_mode": p["kde_mode"], "bracket_rule": p["bracket_rule"],
            "overlap_brackets": bool(p["overlap_brackets"]), "n_random_sample": int(p["n_random_sample"]),
            "n_bootstrap": int(p["n_bootstrap"]), "importance_bootstrap": int(p["importance_bootstrap"]),
            "importance_trees": int(p["importance_trees"]), "scale": p["scale"]}


def _search_kwargs(d: dict[str, Any]) -> dict[str, Any]:
    # the backend does not change what a search finds (the runs are deterministic given the seed);
    # sequential keeps a replicate in one process
    return dict(eta=d["eta"], kde_min_points=d["kde_min_points"], backend="sequential", n_workers=1,
                overlap_brackets=d["overlap_brackets"], bracket_rule=d["bracket_rule"], kde_mode=d["kde_mode"],
                progress=False)


def stand_in(d: dict[str, Any], r: int, **truth: Any) -> StandInObjective:
    return StandInObjective(scale=d["scale"], min_resource=d["min_budget"], max_resource=d["max_budget"],
                            eta=d["eta"], replicate=int(r), **truth)


def _sample(objective: StandInObjective, d: dict[str, Any], r: int, run_dir: Path) -> pd.DataFrame:
    return ex.random_sample_at_budgets(objective, d["n_random_sample"], int(r), run_dir / "sample",
                                       objective.budgets, backend="sequential", n_workers=1, progress=False)


def _seeds(d: dict[str, Any], r: int) -> list[int]:
    return [int(r) * SEED_STRIDE + i for i in range(d["n_seeds"])]


# -- one replicate per claim ----------------------------------------------------------------------
def far_correlation_replicate(profile: str, r: int) -> ClaimRow:
    """Population rho(smallest, largest) exactly at the limit; the notebook's random sample decides."""
    d = design(profile)
    k = len(ex.rung_budgets(d["min_budget"], d["max_budget"], d["eta"]))
    objective = stand_in(d, r, budget_corr=decaying_corr(k, nc.FAR_RHO_LIMIT))
    with tempfile.TemporaryDirectory() as tmp:
        return nc.far_correlation_claim(_sample(objective, d, r, Path(tmp)), "random sample")


def neighbour_far_replicate(profile: str, r: int) -> ClaimRow:
    """Every pair of budgets has the same rho: neighbours correlate exactly as much as the far pair."""
    d = design(profile)
    k = len(ex.rung_budgets(d["min_budget"], d["max_budget"], d["eta"]))
    objective = stand_in(d, r, budget_corr=equal_corr(k, 0.5))
    with tempfile.TemporaryDirectory() as tmp:
        return nc.neighbour_far_claim(_sample(objective, d, r, Path(tmp)), "random sample",
                                      n_bootstrap=d["n_bootstrap"], seed=int(r))


def importance_replicate(profile: str, r: int, estimator: str = "fanova") -> ClaimRow:
    """The same function at every budget, five times the noise at the smallest: nothing changes but noise.

    ``estimator``: "fanova" (the notebook's: ``importance_trees`` trees per refit, ``importance_bootstrap``
    refits) or "binned" (binned main effects instead of the forests: the same pipeline, seconds).
    """
    d = design(profile)
    k = len(ex.rung_budgets(d["min_budget"], d["max_budget"], d["eta"]))
    noise = [NOISE_SMALL + (NOISE_LARGE - NOISE_SMALL) * i / (k - 1) for i in range(k)]
    objective = stand_in(d, r, weights=dict(WEIGHTS), noise_sd=tuple(noise))
    importance = fanova_main_effects(d["importance_trees"]) if estimator == "fanova" else binned_main_effects(4)
    with tempfile.TemporaryDirectory() as tmp:
        sample = _sample(objective, d, r, Path(tmp))
    change = bootstrap_importance_change(sample, objective.space, importance=importance,
                                         n_bootstrap=d["importance_bootstrap"], seed=int(r))
    return nc.importance_change_claim(change)


def joint_vs_separate_replicate(profile: str, r: int) -> ClaimRow:
    """Joint BOHB against the two-stage search, on a stand-in whose test error ignores the configuration."""
    d = design(profile)
    objective = stand_in(d, r, weights=dict(WEIGHTS), test_weight=0.0)
    search = _search_kwargs(d)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {("bohb", s): ex.run_search("bohb", objective, Path(tmp) / f"bohb_{s}", s,
                                           n_iterations=d["n_iterations"], **search) for s in _seeds(d, r)}
        separate = {s: ex.separate_search(objective, Path(tmp) / f"separate_{s}", s, n_iterations=d["n_iterations"],
                                          **search) for s in _seeds(d, r)}
        table = pd.concat([ex.final_table(runs), ex.separate_table(separate)], ignore_index=True)
    return nc.joint_vs_separate_claim(table)


def bohb_vs_random_replicate(profile: str, r: int) -> ClaimRow:
    """Both arms random search (the "bohb" arm under other seeds), with the notebook's equal-epoch budget."""
    d = design(profile)
    objective = stand_in(d, r, weights=dict(WEIGHTS), test_weight=1.0)
    search = _search_kwargs(d)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for s in _seeds(d, r):
            runs[("bohb", s)] = ex.run_search("random", objective, Path(tmp) / f"a_{s}", s + SEED_OFFSET,
                                              n_iterations=d["n_iterations"], **search)
            runs[("random", s)] = ex.run_search("random", objective, Path(tmp) / f"b_{s}", s,
                                                n_iterations=d["n_iterations"], **search)
        return nc.bohb_vs_random_claim(ex.final_table(runs))


# -- the cases ------------------------------------------------------------------------------------
def _bind(fn, profile: str, **options: Any):
    def replicate(r: int) -> ClaimRow:
        return fn(profile, r, **options)

    replicate.__module__ = __name__  # bench/calibration_e2e.py selects cases by module
    return replicate


def cases() -> list[NullCase]:
    """Every comparative claim of notebook 03 at the workshop and the paper profile's design."""
    out: list[NullCase] = []
    for profile in ("workshop", "reference", "paper"):
        d = design(profile)
        size = (f"{d['n_random_sample']} random configurations, budgets "
                f"{ex.rung_budgets(d['min_budget'], d['max_budget'], d['eta'])}")
        searches = (f"{d['n_seeds']} seeds x {d['n_iterations']} Hyperband iterations, budgets "
                    f"{ex.rung_budgets(d['min_budget'], d['max_budget'], d['eta'])}")
        out += [
            NullCase(NOTEBOOK, "Little rank correlation between the smallest and the largest budget", profile,
                     "population rho(smallest, largest) exactly 0.5, the claim's limit (stand-in objective)",
                     _bind(far_correlation_replicate, profile), false_verdicts=(HOLDS,),
                     slow=True, n_replicates=1000, note=size),
            NullCase(NOTEBOOK, "Neighbouring budgets correlate more than the smallest and the largest", profile,
                     "every pair of budgets with rho 0.5 (stand-in objective)", _bind(neighbour_far_replicate, profile),
                     false_verdicts=(HOLDS, FAILS), slow=True, n_replicates=400,
                     note=f"{size}; {d['n_bootstrap']} bootstrap resamples"),
            NullCase(NOTEBOOK, "Importance changes with the budget (binned main effects for the forests)", profile,
                     f"same function at every budget, noise s.d. {NOISE_SMALL} at the smallest and {NOISE_LARGE} at "
                     "the largest budget (stand-in objective)", _bind(importance_replicate, profile, estimator="binned"),
                     false_verdicts=(HOLDS,), slow=profile != "workshop",
                     n_replicates=200 if profile == "workshop" else 400,
                     note=f"{size}; {d['importance_bootstrap']} refits of binned main effects (not fANOVA)"),
            NullCase(NOTEBOOK, "Importance changes with the budget (fANOVA, the notebook's estimator)", profile,
                     f"same function at every budget, noise s.d. {NOISE_SMALL} at the smallest and {NOISE_LARGE} at "
                     "the largest budget (stand-in objective)", _bind(importance_replicate, profile, estimator="fanova"),
                     false_verdicts=(HOLDS,), slow=True, n_replicates=400,
                     note=f"{size}; {d['importance_bootstrap']} refits of {d['importance_trees']}-tree forests"),
            NullCase(NOTEBOOK, "Joint search finds better networks than separate search", profile,
                     "test error independent of the configuration (stand-in objective): neither search can do better",
                     _bind(joint_vs_separate_replicate, profile), false_verdicts=(HOLDS, FAILS), slow=True,
                     n_replicates=1000, note=searches),
            NullCase(NOTEBOOK, "BOHB finds better configurations than random search", profile,
                     "both arms random search under other seeds (stand-in objective; test error follows validation)",
                     _bind(bohb_vs_random_replicate, profile), false_verdicts=(HOLDS, FAILS),
                     slow=True, n_replicates=1000, note=searches),
        ]
    return out


__all__ = ["WEIGHTS", "bohb_vs_random_replicate", "cases", "design", "far_correlation_replicate",
           "importance_replicate", "joint_vs_separate_replicate", "neighbour_far_replicate"]
