"""End-to-end null checks of notebook 02's comparative claims (see :mod:`hpo_kit.null_checks`).

Each replicate runs the notebook's own code -- :func:`~hpo_kit.mbrl_hpo.experiment.run_one` (the same
schedulers, searchers, engine, run logs and CPU clock), ``reference_targets``, ``reach_frame`` and the
claim functions of :mod:`hpo_kit.mbrl_hpo.claims` -- at the design of a profile (its number of tasks,
seeds, episodes, PPO and model settings, target quantile and reference size, read from
``params/<profile>/02_mbrl_hpo_ablations.yaml`` and the notebook's defaults), with the compared factor
removed by construction: the arms the claim compares are the *same* method under different run seeds
on the same split, relabelled as the arms of the claim. The task is a stand-in for XGBoost
(:mod:`hpo_kit.mbrl_hpo.stand_in`: the paper's space, errors on a small validation set); one XGBoost
evaluation costs more than the whole stand-in run.

Arms are cached per (design, replicate, method, index), so the cases of one design that need the same
arms share them (e.g. the RL-SDP pair behind the SDP-vs-DOC and the three reward-model cases): each
case's rate is still over its own replicates.

Not covered here: "sequential beats one-step" and "the order does not matter" are nulls by relabelling
(RL-SDP against RL-SDP); whether RL-SDP and RL-DOC, or two orders, *can* differ is a property of the
agent (:mod:`hpo_kit.mbrl_hpo.agent`), outside these checks.
"""
from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pandas as pd

from hpo_kit.claims import FAILS, HOLDS, ClaimRow
from hpo_kit.mbrl_hpo import claims as C
from hpo_kit.mbrl_hpo.experiment import (DEFAULT_ORDER, ExperimentSettings, RunSpec, reach_frame, reference_targets, run_one,
                                         settings_from_params, task_run_seed)
from hpo_kit.mbrl_hpo.stand_in import stand_in_task
from hpo_kit.null_checks import NullCase

NOTEBOOK = "02_mbrl_hpo_ablations"
#: replicate r's split seeds are r * SEED_STRIDE + 0..n_seeds-1; arm j's run seed is the notebook's
#: task_run_seed(task, seed) + (j + 1) * ARM_STRIDE
SEED_STRIDE, ARM_STRIDE = 100, 10_000_000


@dataclass(frozen=True)
class Design:
    """What a replicate of one profile's design runs (from the profile's parameters)."""

    profile: str
    n_tasks: int
    n_seeds: int
    settings: ExperimentSettings
    n_reference: int
    target_quantile: float
    shared: int              # real evaluations two runs of one seed share (claims.shared_real_evaluations)
    delta: float
    smallest_delta: float
    n_orders: int            # orders the order claim compares
    baselines: tuple[str, ...]  # the rank claim's baselines (the default configuration has its own row)
    n_headline_tasks: int = 0   # the headline row's tasks: tasks + suite_tasks


@lru_cache(maxsize=None)
def design(profile: str) -> Design:
    from hpo_kit.params import profile_params

    p = profile_params(NOTEBOOK, profile)
    deltas = [float(d) for d in (p["delta"], *p["delta_values"])]
    return Design(profile=profile, n_tasks=len(p["tasks"]), n_seeds=int(p["n_seeds"]),
                  settings=settings_from_params(p), n_reference=int(p["n_reference"]),
                  target_quantile=float(p["target_quantile"]),
                  shared=C.shared_real_evaluations(int(p["batch_episodes"]), int(p["min_model_data"])),
                  delta=float(p["delta"]), smallest_delta=min(deltas), n_orders=max(len(set(p["orders"])), 2),
                  baselines=tuple(b for b in p["baselines"] if b != "default"),
                  n_headline_tasks=len(p["tasks"]) + len(p.get("suite_tasks", [])))


def _tasks(d: Design, headline: bool = False) -> list[str]:
    return [f"stand_in_{i}" for i in range(d.n_headline_tasks if headline else d.n_tasks)]


def _seeds(d: Design, r: int) -> list[int]:
    return [r * SEED_STRIDE + s for s in range(d.n_seeds)]


@lru_cache(maxsize=None)
def _targets(profile: str, r: int, headline: bool = False) -> pd.DataFrame:
    d = design(profile)
    return reference_targets(_tasks(d, headline), _seeds(d, r), d.settings, d.n_reference, d.target_quantile,
                             task_for=stand_in_task)


@lru_cache(maxsize=None)
def _arm(profile: str, r: int, method: str, j: int, headline: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arm j of replicate r: ``method`` on every (task, seed) of the design (with ``headline``: of the
    headline row, tasks + suite_tasks), run seed offset by j; its ``runs`` rows and ``reach`` rows
    (against the replicate's fixed targets)."""
    d = design(profile)
    delta = d.delta if method == "mbrl_sdp" else math.nan
    root = Path(tempfile.mkdtemp(prefix="nb02_null_", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        rows, curves = [], []
        for task in _tasks(d, headline):
            for seed in _seeds(d, r):
                run_seed = (task_run_seed(task, seed) + (j + 1) * ARM_STRIDE) % (2**31 - 1)
                spec = RunSpec(task, method, seed, delta=delta, run_seed=run_seed)
                row, curve = run_one(spec, d.settings, root, task=stand_in_task(task, seed))
                rows.append(row)
                curves += curve
    finally:
        shutil.rmtree(root, ignore_errors=True)
    runs = pd.DataFrame(rows)
    return runs, reach_frame(runs, pd.DataFrame(curves), _targets(profile, r, headline))


def _frames(profile: str, r: int, roles: list[tuple[str, int, RunSpec]],
            headline: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``runs`` and ``reach`` of the arms ``(method, j, role)``, each relabelled as its role's run."""
    runs, reach = [], []
    for method, j, role in roles:
        a, b = _arm(profile, r, method, j, headline)
        order = role.order if role.method in ("rl_sdp", "rl_doc", "mbrl_sdp") else ""
        change = dict(label=role.label, method=role.method, delta=role.delta)
        runs.append(a.assign(order=order, **change))
        reach.append(b.assign(**change))
    return pd.concat(runs, ignore_index=True), pd.concat(reach, ignore_index=True)


def _role(method: str, order: str = DEFAULT_ORDER, delta: float = math.nan) -> RunSpec:
    return RunSpec("stand_in", method, 0, order=order, delta=delta)


# ------------------------------------------------------------------------------ the replicates
def _sdp_vs_doc(profile: str) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        runs, _ = _frames(profile, r, [("rl_sdp", 0, _role("rl_sdp")), ("rl_sdp", 1, _role("rl_doc"))])
        return C.sdp_vs_doc_claim(runs)
    return replicate


def _order(profile: str) -> Callable[[int], ClaimRow]:
    from hpo_kit.mbrl_hpo.searcher import XGB_ORDERS

    def replicate(r: int) -> ClaimRow:
        names = list(XGB_ORDERS)[:design(profile).n_orders]
        runs, _ = _frames(profile, r, [("rl_sdp", j, _role("rl_sdp", order=o)) for j, o in enumerate(names)])
        return C.order_claim(runs)
    return replicate


def _reward(profile: str, i: int) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        d = design(profile)
        mbrl = _role("mbrl_sdp", delta=d.delta)
        _, reach = _frames(profile, r, [("rl_sdp", 0, _role("rl_sdp")), ("rl_sdp", 1, mbrl)])
        return C.reward_model_claims(reach, mbrl.label, shared_evaluations=d.shared)[i]
    return replicate


def _delta(profile: str, i: int) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        d = design(profile)
        roles = [("mbrl_sdp", 0, _role("mbrl_sdp", delta=d.delta)),
                 ("mbrl_sdp", 1, _role("mbrl_sdp", delta=d.smallest_delta))]
        runs, reach = _frames(profile, r, roles)
        return C.delta_claims(runs, reach, d.delta, shared_evaluations=d.shared)[i]
    return replicate


def _unbounded(profile: str) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        d = design(profile)
        roles = [("mbrl_sdp", 0, _role("mbrl_sdp", delta=d.delta)), ("mbrl_sdp", 1, _role("mbrl_sdp", delta=math.inf))]
        runs, _ = _frames(profile, r, roles)
        return C.unbounded_claim(runs, d.delta)
    return replicate


def _default(profile: str) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        d = design(profile)
        mbrl = _role("mbrl_sdp", delta=d.delta)
        runs, _ = _frames(profile, r, [("random", 0, mbrl), ("random", 1, _role("default"))])
        return C.default_claim(runs, mbrl.label)
    return replicate


def _rank(profile: str) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        d = design(profile)
        mbrl = _role("mbrl_sdp", delta=d.delta)
        roles = [("rl_sdp", 0, mbrl)] + [("rl_sdp", j + 1, _role(b)) for j, b in enumerate(d.baselines)]
        runs, _ = _frames(profile, r, roles)
        return C.rank_claim(runs, mbrl.label, baselines=d.baselines)
    return replicate


def _headline(profile: str) -> Callable[[int], ClaimRow]:
    def replicate(r: int) -> ClaimRow:
        d = design(profile)
        mbrl = _role("mbrl_sdp", delta=d.delta)
        runs, reach = _frames(profile, r, [("random", 0, mbrl), ("random", 1, _role("random"))], headline=True)
        return C.headline_claim(runs, reach, mbrl.label, baselines=("random",))
    return replicate


def cases() -> list[NullCase]:
    """One case per comparative claim and design (workshop, paper); all slow (see the module docstring)."""
    found = []
    for profile in ("workshop", "reference", "paper"):
        found += [
            NullCase(NOTEBOOK, "RL-SDP beats RL-DOC", profile, "RL-DOC arm = RL-SDP, another run seed",
                     _sdp_vs_doc(profile), slow=True),
            NullCase(NOTEBOOK, "the order does not matter (all pairs within ±1 point)", profile,
                     "every order = the listed order, other run seeds", _order(profile), false_verdicts=(FAILS,),
                     slow=True),
            NullCase(NOTEBOOK, "reward model: fewer real evaluations to the target", profile,
                     "MBRL arm = RL-SDP, another run seed", _reward(profile, 0), slow=True),
            NullCase(NOTEBOOK, "reward model: about half the real evaluations", profile,
                     "MBRL arm = RL-SDP, another run seed (true ratio 1: does not hold is correct)",
                     _reward(profile, 1), false_verdicts=(HOLDS,), slow=True),
            NullCase(NOTEBOOK, "reward model: less CPU time to the target", profile,
                     "MBRL arm = RL-SDP, another run seed", _reward(profile, 2), slow=True),
            NullCase(NOTEBOOK, "delta: at most 1 point worse than the smallest delta", profile,
                     "smallest-delta arm = MBRL-SDP at delta, another run seed (non-inferior by construction)",
                     _delta(profile, 0), false_verdicts=(FAILS,), slow=True),
            NullCase(NOTEBOOK, "delta: less CPU time to the target than the smallest delta", profile,
                     "smallest-delta arm = MBRL-SDP at delta, another run seed", _delta(profile, 1), slow=True),
            NullCase(NOTEBOOK, "unbounded model use ends lower", profile,
                     "unbounded arm = MBRL-SDP at delta, another run seed", _unbounded(profile), slow=True),
            NullCase(NOTEBOOK, "beats the default on most tasks", profile,
                     "method and default both random search, two run seeds (ties count as not better)",
                     _default(profile), false_verdicts=(HOLDS,), slow=True),
            NullCase(NOTEBOOK, "ranks first at equal real evaluations", profile,
                     "every baseline = the method (RL-SDP), other run seeds: the global null", _rank(profile),
                     slow=True),
            NullCase(NOTEBOOK, "better and faster than the strongest baseline on most tasks", profile,
                     "method and its one baseline both random search, two run seeds, on as many tasks as "
                     "tasks + suite_tasks (only 'holds' is false)", _headline(profile), false_verdicts=(HOLDS,),
                     slow=True),
        ]
    note = "stand-in task (hpo_kit.mbrl_hpo.stand_in) in place of XGBoost"
    return [NullCase(**{**c.__dict__, "note": note}) for c in found]


__all__ = ["Design", "NOTEBOOK", "cases", "design"]
