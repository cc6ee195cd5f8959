"""End-to-end null checks of notebook 02 (hpo_kit/mbrl_hpo/null_checks.py): the notebook's own experiment and
claim code on a stand-in task, the compared factor removed; false verdicts within the bar.

Every case is slow (one replicate at the workshop design runs 18-126 agent runs), so the bar is asserted under
``@pytest.mark.long`` (``pytest -m long`` or ``bench/calibration_e2e.py --only 02``); make test checks that the
cases exist at both designs, read their designs from the parameter files and run the notebook's code.
"""
from __future__ import annotations

import math

import pytest

from hpo_kit import paths
from hpo_kit.claims import FAILS, HOLDS, ClaimRow
from hpo_kit.mbrl_hpo import null_checks as nc
from hpo_kit.mbrl_hpo.stand_in import StandInObjective, stand_in_task
from hpo_kit.params import read_params_file

CASES = nc.cases()


def test_every_comparative_claim_has_a_case_at_both_designs():
    claims = {c.claim for c in CASES}
    assert len(claims) == 11  # the ten of (a)-(e) and the headline (f)
    for claim in claims:
        assert {c.design for c in CASES if c.claim == claim} == {"workshop", "reference", "paper"}
    assert all(c.false_verdicts in ((HOLDS,), (FAILS,), (HOLDS, FAILS)) for c in CASES)
    assert all(c.slow for c in CASES)


def test_designs_are_read_from_the_parameter_files():
    paper = read_params_file(paths.PARAMS_DIR / "paper" / f"{nc.NOTEBOOK}.yaml")
    d = nc.design("paper")
    assert (d.n_tasks, d.n_seeds, d.settings.n_episodes) == (len(paper["tasks"]), paper["n_seeds"], paper["n_episodes"])
    assert (d.n_reference, d.target_quantile) == (paper["n_reference"], paper["target_quantile"])
    assert d.shared == 8 and d.smallest_delta == 0.1
    w = nc.design("workshop")
    assert (w.n_tasks, w.n_seeds, w.settings.n_episodes, w.shared) == (3, 3, 16, 4)
    assert "default" not in w.baselines and len(w.baselines) == 6
    assert (w.n_headline_tasks, d.n_headline_tasks) == (3 + 15, 15 + 15)  # tasks + suite_tasks (all 15 tables)


def test_stand_in_is_the_papers_space_with_small_validation_sets():
    task = stand_in_task("stand_in_1", 4)
    assert list(task.hp_order)[0] == "max_depth" and len(list(task.space.values())) == 10
    e = task.objective.evaluate(task.default_config(), 27, 5)
    assert (e.loss * 120) == pytest.approx(round(e.loss * 120)) and 0 <= e.info["test_error"] <= 1
    assert task.objective.evaluate(task.default_config(), 27, 5).loss == e.loss  # seeded
    with pytest.raises(ValueError, match="resource"):
        task.objective.evaluate(task.default_config(), 28, 5)
    with pytest.raises(ValueError, match="n_val"):
        StandInObjective(0, n_val=0)


def test_a_replicate_runs_the_notebooks_code_with_the_factor_removed():
    """One workshop replicate of the reward-model case: two RL-SDP arms relabelled as RL-SDP and MBRL-SDP."""
    case = next(c for c in CASES if c.design == "workshop" and c.claim.startswith("reward model: fewer"))
    row = case.replicate(0)
    assert isinstance(row, ClaimRow) and "fewer real evaluations" in row.claim.claim
    assert row.extra["pairs"] == 9 and row.extra["decided_on"] + row.extra["forced_ties"] + row.extra["ties"] \
        + row.extra["neither"] == 9
    runs, reach = nc._frames("workshop", 0, [("rl_sdp", 0, nc._role("rl_sdp")), ("rl_sdp", 1, nc._role("rl_doc"))])
    assert set(runs.label) == {"rl_sdp", "rl_doc"} and (runs.run_seed != runs.seed).all()
    seeds = runs.groupby("label").run_seed.apply(set)
    assert not seeds["rl_sdp"] & seeds["rl_doc"]  # the two arms never share a run seed
    assert reach.target_val_error.map(math.isfinite).all()


