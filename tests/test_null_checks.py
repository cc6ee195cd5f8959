"""The end-to-end null-check framework (hpo_kit.null_checks): counting, the bar, and the registry."""
import numpy as np
import pytest

from hpo_kit import stats
from hpo_kit.claims import FAILS, HOLDS, Claim, decide
from hpo_kit.null_checks import BAR_SLACK, PACKAGES, NullCase, NullResult, all_cases, check, upper_bound

CLAIM = Claim(claim="A beats B", paper="p", source="s", estimand="mean of A - B", direction="greater", min_n=3)


def _paired_replicate(shift: float, n: int = 10):
    def replicate(r: int):
        rng = np.random.default_rng(r)
        a, b = rng.normal(shift, 1.0, n), rng.normal(0.0, 1.0, n)
        return decide(CLAIM, stats.paired_mean_ci(a, b, CLAIM.ci_level))
    return replicate


def test_upper_bound_is_clopper_pearson():
    assert upper_bound(0, 100) == pytest.approx(1 - 0.05 ** (1 / 100))
    assert upper_bound(5, 5) == 1.0 and upper_bound(0, 0) == 1.0
    assert upper_bound(20, 400) < 0.05 + BAR_SLACK < upper_bound(30, 400)


def test_a_calibrated_symmetric_null_is_within_the_bar():
    case = NullCase("00_test", "A beats B", "workshop", "both arms the same distribution", _paired_replicate(0.0),
                    n_replicates=800)
    result = check(case, show_progress=False)
    assert result.n == 800 and result.within_bar and result.status == "within", result.summary()
    assert check(case, 20, show_progress=False).status == "open"  # too few replicates to show either
    assert 0.02 < result.rate(HOLDS) < 0.08 and 0.02 < result.rate(FAILS) < 0.08


def test_a_design_that_favours_one_arm_is_caught():
    """A quarter of a standard deviation of bias (say, a target one arm reaches by definition)."""
    case = NullCase("00_test", "A beats B", "workshop", "biased design", _paired_replicate(0.4), n_replicates=400)
    result = check(case, show_progress=False)
    assert not result.within_bar and "OUTSIDE" in result.summary() and result.status == "outside"
    row = result.as_row()
    assert row["replicates"] == 400 and row["false_holds"] > 0.1 and not row["within_bar"]


def test_only_the_counted_verdicts_are_held_to_the_bar():
    always_fails = NullCase("00_test", "x", "paper", "r", lambda r: decide(CLAIM, stats.paired_mean_ci(
        np.zeros(5), np.ones(5) + np.arange(5) * 1e-3, CLAIM.ci_level)), false_verdicts=(HOLDS,), n_replicates=50)
    assert check(always_fails, show_progress=False).within_bar
    assert not NullResult(always_fails).within_bar  # no replicate: nothing shown


def test_bad_cases_are_refused():
    with pytest.raises(ValueError, match="design"):
        NullCase("00", "c", "huge", "r", _paired_replicate(0.0))
    with pytest.raises(ValueError, match="false_verdicts"):
        NullCase("00", "c", "paper", "r", _paired_replicate(0.0), false_verdicts=("wrong",))
    with pytest.raises(TypeError, match="ClaimRow"):
        check(NullCase("00", "c", "paper", "r", lambda r: "holds", n_replicates=1), show_progress=False)


def test_a_stored_measurement_resumes_without_rerunning_and_only_under_the_same_settings(tmp_path):
    from hpo_kit.null_checks import VerdictStore, stored_result

    calls = []

    def counted(r):
        calls.append(r)
        return _paired_replicate(0.0)(r)

    case = NullCase("00_test", "A beats B", "workshop", "same distribution", counted, n_replicates=30)
    first = check(case, 20, store=tmp_path, show_progress=False)
    assert calls == list(range(20))
    again = check(case, store=tmp_path, show_progress=False)  # 30: only the 10 missing run
    assert calls[20:] == list(range(20, 30)) and again.verdicts[:20] == first.verdicts
    assert again.verdicts == check(case, show_progress=False).verdicts  # same as a run without a store
    shard = VerdictStore(tmp_path, case).path
    with open(shard, "a") as f:
        f.write('{"r": 30, "verdi')  # a write cut short by an interruption
    assert stored_result(case, tmp_path)[0].n == 30
    # other settings (here: what was removed) never resume into the stored verdicts
    other = NullCase("00_test", "A beats B", "workshop", "another null", counted, n_replicates=5)
    assert stored_result(other, tmp_path)[0].n == 0 and shard.exists()
    n_calls = len(calls)
    check(other, store=tmp_path, show_progress=False)
    assert len(calls) == n_calls + 5 and shard.with_suffix(".jsonl.stale").exists()
    with pytest.raises(ValueError, match="n_replicates"):
        check(case, -1, show_progress=False)


def test_code_digest_covers_what_a_case_imports_and_nothing_else():
    from hpo_kit.null_checks import code_digest, code_files, package_of

    assert package_of(FAST[0]) in PACKAGES and package_of(NullCase("00", "c", "paper", "r", len)) == ""
    names = {p.relative_to(p.parents[1]).as_posix() if p.parent.name != "hpo_kit" else p.name
             for p in code_files("abohb")}
    assert {"claims.py", "stats.py", "null_checks.py", "abohb/null_checks.py", "abohb/claims.py"} <= names
    assert not any(n.startswith(("gen_vae/", "nas/")) for n in names) and "report.py" not in names
    assert any(p.name == "table_task.py" for p in code_files("mbrl_hpo"))  # through hpo_kit.tasks, imported in a function
    assert code_digest("abohb") != code_digest("nas") and len(code_digest()) == 16


def test_every_registered_case_is_well_formed():
    cases = all_cases(PACKAGES)
    keys = [c.key for c in cases]
    assert len(keys) == len(set(keys)), "two cases share a notebook, claim and design"
    for c in cases:
        assert c.notebook[:2].isdigit() and c.removed and callable(c.replicate)


# ------------------------------------------------------------------ every paper package's cases, against the bar
FAST = [c for c in all_cases() if not c.slow]
SLOW = [c for c in all_cases() if c.slow]


@pytest.mark.parametrize("case", FAST, ids=[c.key for c in FAST])
def test_fast_null_case_within_the_bar(case):
    result = check(case, show_progress=False)
    assert result.within_bar, result.summary()


@pytest.mark.long
@pytest.mark.parametrize("case", SLOW, ids=[c.key for c in SLOW])
def test_slow_null_case_within_the_bar(case):
    result = check(case, show_progress=False)
    assert result.within_bar, result.summary()
