"""End-to-end null checks of notebook 03 (hpo_kit/nas/null_checks.py): the notebook's own experiment and
claim code on a stand-in objective where the compared factor cannot matter; false verdicts within the bar.

The fast cases run in make test; the rest (``@pytest.mark.long``) with ``pytest -m long`` or
``bench/calibration_e2e.py --only nas``.
"""
from __future__ import annotations

import numpy as np
import pytest

from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED, ClaimRow
from hpo_kit.nas import experiments as ex
from hpo_kit.nas import null_checks as nn
from hpo_kit.nas.stand_in import StandInObjective, decaying_corr, equal_corr

CASES = nn.cases()
FAST = [c for c in CASES if not c.slow]
SLOW = [c for c in CASES if c.slow]


def test_every_comparative_claim_has_a_case_at_both_designs():
    claims = {c.claim.split(" (")[0] for c in CASES}
    assert len(claims) == 5
    for claim in claims:
        assert {c.design for c in CASES if c.claim.startswith(claim)} == {"workshop", "reference", "paper"}
    assert FAST and all(c.false_verdicts in ((HOLDS,), (HOLDS, FAILS)) for c in CASES)


def test_designs_are_read_from_the_parameter_files():
    paper = nn.design("paper")
    assert (paper["n_seeds"], paper["n_random_sample"], paper["n_iterations"]) == (5, 100, 32)
    assert ex.rung_budgets(paper["min_budget"], paper["max_budget"], paper["eta"]) == [4, 12, 36, 108]
    workshop = nn.design("workshop")
    assert workshop["n_seeds"] == 2 and workshop["n_random_sample"] == 40


def test_stand_in_has_the_truth_it_is_built_with(tmp_path):
    """The stand-in's losses over random configurations have the correlation between budgets it was given,
    it is a fixed function of the configuration, and its test error can ignore the configuration."""
    from scipy import stats

    objective = StandInObjective(scale="paper", min_resource=4, max_resource=108, eta=3,
                                 budget_corr=decaying_corr(4, 0.5), replicate=3)
    sample = ex.random_sample_at_budgets(objective, 600, 0, tmp_path, objective.budgets, progress=False)
    wide = sample.pivot(index="config_id", columns="budget", values="loss")
    rho = stats.spearmanr(wide[4], wide[108]).statistic
    assert abs(rho - 0.5) < 0.1
    config = dict(objective.space.sample_configuration())
    a, b = objective.evaluate(config, 108, 0), objective.evaluate(config, 108, 7)
    assert a.loss == b.loss and a.info["test_error"] == b.info["test_error"] and len(a.curve) == 108
    assert a.curve[0] == a.curve[3] and a.curve[3] != a.curve[11]  # constant until the next rung budget
    equal = StandInObjective(scale="paper", min_resource=4, max_resource=108, budget_corr=equal_corr(4, 0.5))
    assert np.allclose(equal._chol @ equal._chol.T, equal_corr(4, 0.5))
    with pytest.raises(ValueError, match="budget_corr must be 4 x 4"):
        StandInObjective(scale="paper", min_resource=4, max_resource=108, budget_corr=np.eye(3))
    with pytest.raises(ValueError, match="weights has unknown"):
        StandInObjective(scale="paper", min_resource=4, max_resource=108, weights={"dropout": 1.0})


def test_replicates_are_seeded():
    case = next(c for c in FAST)
    assert case.replicate(5).estimate == case.replicate(5).estimate


def test_every_case_runs_one_replicate():
    """Each case's replicate runs the notebook's code end to end and returns a decided row (the cheap ones
    here; the searches at the paper's design take minutes per replicate)."""
    for case in CASES:
        if case.design == "workshop" and "fANOVA" not in case.claim:
            row = case.replicate(0)
            assert isinstance(row, ClaimRow) and row.verdict in (HOLDS, FAILS, INCONCLUSIVE, UNMEASURED), case.key
