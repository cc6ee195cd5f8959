"""End-to-end null checks of notebook 00's comparative claims (hpo_kit/quickstart/null_checks.py).

Each case runs the notebook's own experiment and claim code with the compared factor removed; the
false verdicts' rates must stay within the bar (upper 95 % bound <= alpha + 2.5 points). The fast
cases run in make test; the slow ones with `pytest -m long` (and bench/calibration_e2e.py).
"""
from __future__ import annotations


from hpo_kit.quickstart.null_checks import cases

FAST = [c for c in cases() if not c.slow]
SLOW = [c for c in cases() if c.slow]


def test_every_case_names_its_design_and_reads_it_from_the_profiles():
    assert {c.design for c in cases()} == {"workshop", "reference", "paper"}
    assert FAST, "at least one case must run in make test"


