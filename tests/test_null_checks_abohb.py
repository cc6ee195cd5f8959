"""End-to-end null checks of notebook 04 (hpo_kit.abohb.null_checks): the notebook's own simulation,
frames and claim functions with the compared factor removed. The fast cases (the smoke profile's table
slice and horizon, the claims' minimum of seeds) run here; the workshop and paper designs are long."""

from hpo_kit.abohb import null_checks as N
from hpo_kit.claims import FAILS, HOLDS

FAST = [c for c in N.cases() if not c.slow]
SLOW = [c for c in N.cases() if c.slow]


def test_every_comparative_claim_has_cases_at_both_designs():
    from hpo_kit.abohb import claims as C

    claims = {C.ASHA_BEATS_HYPERBAND_EARLY.claim, C.ABOHB_BEATS_BOHB_EARLY.claim, C.faster_claim("stopping").claim,
              C.faster_claim("promotion").claim, C.FEWER_EPOCHS.claim, C.ABOUT_HALF.claim,
              C.stopping_vs_promotion_claim("asha").claim, C.stopping_vs_promotion_claim("abohb").claim,
              C.STOPPING_BETTER.claim}
    for design in ("workshop", "paper"):
        covered = {c.claim.split(" [")[0] for c in SLOW if c.design == design}
        assert covered == claims, claims - covered
    # the equivalence claims are checked at the margin (holds false) and with no difference (fails false)
    equal = [c for c in SLOW if c.claim.startswith("Stopping and promotion are equally good")]
    assert {c.false_verdicts for c in equal} == {(HOLDS,), (FAILS,)}
    assert FAST and all(c.design == "smoke" and c.n_replicates >= 40 for c in FAST)


def test_the_designs_are_read_from_the_profiles():
    from hpo_kit.params import profile_params

    for profile in ("workshop", "paper"):
        d, values = N.design(profile), profile_params(N.NOTEBOOK, profile)
        assert d.n_seeds == values["n_seeds"] and d.horizon == values["horizon_s"]
        assert d.n_rows == (values["table_rows"] or 4096) and d.n_workers == values["n_workers"][0]
        assert d.time_target == f"q{values['target_quantiles'][len(values['target_quantiles']) // 2]:g}"
    assert N.design("smoke").n_seeds == 5  # the smoke profile's 2 seeds lifted to the claims' minimum


