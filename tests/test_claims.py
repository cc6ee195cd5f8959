"""Claims verdicts are computed from measured values, never typed."""
from __future__ import annotations

import math

import pytest

from hpo_kit.claims import Claim, at_least, at_most, between, claims_markdown, greater_than, is_true, less_than


def make(measured, test):
    return Claim("c", paper="p", source="s", measured=measured, test=test)


@pytest.mark.parametrize("test, measured, holds", [
    (less_than(1.0), 0.5, True), (less_than(1.0), 1.0, False),
    (at_most(1.0), 1.0, True), (greater_than(0), 0.0, False), (at_least(0), 0.0, True),
    (between(0.2, 0.4), 0.3, True), (between(0.2, 0.4), 0.5, False),
    (is_true(), True, True), (is_true(), False, False),
])
def test_verdicts(test, measured, holds):
    c = make(measured, test)
    assert c.holds is holds
    assert c.verdict == ("holds" if holds else "does not hold")


@pytest.mark.parametrize("missing", [None, math.nan])
def test_missing_measurement_is_not_measured(missing):
    c = make(missing, at_least(0))
    assert c.holds is None and c.verdict == "not measured"
    assert c.as_dict()["measured"] is None


def test_between_checks_its_bounds():
    with pytest.raises(ValueError, match="lo <= hi"):
        between(2, 1)


def test_markdown_table_has_one_row_per_claim_with_verdict():
    md = claims_markdown([make(0.5, less_than(1)), make(2.0, less_than(1))])
    rows = [line for line in md.splitlines() if line.startswith("| c ")]
    assert len(rows) == 2 and "**holds**" in rows[0] and "**does not hold**" in rows[1]
    assert "measured < 1" in rows[0]
