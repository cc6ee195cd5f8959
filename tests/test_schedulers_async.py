"""Asynchronous Hyperband (Klein et al. 2020): stopping and promotion decisions on scripted results."""
from __future__ import annotations

import numpy as np
import pytest

from hpo_kit.schedulers.async_hyperband import AsynchronousHyperband, bracket_weights, rung_levels
from hpo_kit.schedulers.base import TrialStatus
from scripted_searcher import ScriptedSearcher
from hpo_kit.trial import Evaluation, Failure

C, S, P, D = TrialStatus.CONTINUE, TrialStatus.STOPPED, TrialStatus.PAUSED, TrialStatus.COMPLETED


def ev(loss):
    return Evaluation(loss, 1.0)


def test_rung_levels_and_bracket_weights():
    assert rung_levels(1, 27, 3) == [1, 3, 9, 27]
    assert rung_levels(1, 100, 3) == [1, 3, 9, 27, 81, 100]
    assert rung_levels(2, 2, 3) == [2]
    # the number of configurations synchronous Hyperband's brackets s = 3..0 start (R=27, eta=3)
    assert bracket_weights([1, 3, 9, 27]) == [27, 12, 6, 4]


def test_bracket_sampling_follows_synchronous_hyperband_sizes():
    ahb = AsynchronousHyperband(ScriptedSearcher(), 1, 27, eta=3, brackets=4, seed=3)
    np.testing.assert_allclose(ahb.bracket_probabilities, np.array([27, 12, 6, 4]) / 49)
    counts = np.bincount([ahb.next_job().bracket for _ in range(20000)], minlength=4) / 20000
    np.testing.assert_allclose(counts, np.array([27, 12, 6, 4]) / 49, atol=0.015)
    # a new trial starts at its bracket's first level
    ahb2 = AsynchronousHyperband(ScriptedSearcher(), 1, 27, eta=3, brackets=4, seed=3)
    for _ in range(50):
        job = ahb2.next_job()
        assert job.resource == [1, 3, 9, 27][job.bracket] and job.rung == 0 and job.previous_resource == 0
    asha = AsynchronousHyperband(ScriptedSearcher(), 1, 27, eta=3, brackets=1)
    assert {asha.next_job().bracket for _ in range(100)} == {0}


def test_same_seed_same_brackets():
    def brackets(seed):
        ahb = AsynchronousHyperband(ScriptedSearcher(), 1, 27, eta=3, brackets=3, seed=seed)
        return [ahb.next_job().bracket for _ in range(200)]
    assert brackets(5) == brackets(5) and brackets(5) != brackets(6)


def test_stopping_variant_hand_worked():
    searcher = ScriptedSearcher()
    ahb = AsynchronousHyperband(searcher, 1, 9, eta=3, variant="stopping")  # levels 1, 3, 9
    jobs = [ahb.next_job() for _ in range(9)]
    assert [(j.trial_id, j.resource) for j in jobs] == [(i, 1) for i in range(9)]
    # n results at the rung (itself included): continue iff fewer than ceil(n/3) are strictly better
    script = [
        (0, 0.5, C),   # n=1: nothing better, 0 < 1
        (1, 0.7, S),   # n=2: 0.5 better, 1 !< 1
        (2, 0.4, C),   # n=3: best
        (3, 0.6, S),   # n=4: ceil(4/3)=2, but 0.4 and 0.5 are better
        (4, 0.45, C),  # n=5: only 0.4 better, 1 < 2
        (5, 0.45, C),  # n=6: tie with 0.45 is not "better", 1 < 2
        (6, 0.9, S),   # n=7: ceil=3, six better
    ]
    for trial, loss, expected in script:
        assert ahb.on_result(jobs[trial], ev(loss)) == expected, (trial, loss)
        if expected == C:
            nxt = ahb.next_job()      # the continuation comes first, before any new trial
            assert (nxt.trial_id, nxt.resource, nxt.previous_resource, nxt.rung) == (trial, 3, 1, 1)
            assert nxt.config == jobs[trial].config
    assert ahb.on_failure(jobs[7], Failure("boom")) == S       # n=8, recorded as +inf
    # n=9: ceil(9/3)=3 but 0.4, 0.45, 0.45, 0.5 are better -> stop; the failure did not help it
    assert ahb.on_result(jobs[8], ev(0.55)) == S
    new = ahb.next_job()
    assert (new.trial_id, new.resource) == (9, 1)
    assert ("failure", 7, 1) in searcher.calls


def test_stopping_variant_final_rung_completes():
    ahb = AsynchronousHyperband(ScriptedSearcher(), 1, 3, eta=3, variant="stopping")  # levels 1, 3
    job = ahb.next_job()
    assert ahb.on_result(job, ev(0.5)) == C
    nxt = ahb.next_job()
    assert nxt.resource == 3 and nxt.rung == 1
    assert ahb.on_result(nxt, ev(0.4)) == D


def test_promotion_variant_hand_worked():
    searcher = ScriptedSearcher()
    asha = AsynchronousHyperband(searcher, 1, 9, eta=3, variant="promotion")  # levels 1, 3, 9
    t = {i: asha.next_job() for i in range(3)}                       # trials 0, 1, 2 at resource 1
    assert asha.on_result(t[0], ev(0.5)) == P
    t[3] = asha.next_job()                                           # n=1: floor(1/3)=0, nothing to promote
    assert (t[3].trial_id, t[3].resource) == (3, 1)
    assert asha.on_result(t[1], ev(0.3)) == P
    t[4] = asha.next_job()                                           # n=2: still nothing
    assert t[4].trial_id == 4
    assert asha.on_result(t[2], ev(0.4)) == P
    promo = asha.next_job()                                          # n=3: top-1 = trial 1
    assert (promo.trial_id, promo.resource, promo.previous_resource, promo.rung) == (1, 3, 1, 1)
    t[5] = asha.next_job()                                           # trial 1 already promoted; 2 not in top-1
    assert t[5].trial_id == 5
    assert asha.on_result(t[3], ev(0.1)) == P                      # n=4: top-1 = trial 3
    assert asha.next_job().trial_id == 3
    asha.on_result(t[4], ev(0.2))
    asha.on_result(t[5], ev(0.25))                                   # n=6: top-2 = trials 3, 4
    assert asha.next_job().trial_id == 4
    assert asha.next_job().trial_id == 6                             # trial 1 (0.3) is 4th: no promotion
    assert searcher.calls.count(("pending", 1, 3)) == 1 and ("result", 5, 1, 0.25) in searcher.calls


def test_promotion_serves_the_highest_rung_first_and_failures_count():
    asha = AsynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, variant="promotion")
    level1 = [asha.next_job() for _ in range(9)]
    for job, loss in zip(level1, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]):
        asha.on_result(job, ev(loss))
    # n=9: top-3 are trials 8, 7, 6 -> promoted best first
    level3 = [asha.next_job() for _ in range(3)]
    assert [(j.trial_id, j.resource) for j in level3] == [(8, 3), (7, 3), (6, 3)]
    assert asha.on_result(level3[0], ev(0.3)) == P
    assert asha.on_failure(level3[1], Failure("x")) == S        # counts as +inf at level 3
    assert asha.on_result(level3[2], ev(0.2)) == P
    # level 3 has n=3 (one failure): top-1 = trial 6, promoted to 9 before any level-1 promotion
    top = asha.next_job()
    assert (top.trial_id, top.resource, top.previous_resource, top.rung) == (6, 9, 3, 2)
    assert asha.on_result(top, ev(0.15)) == D
    assert asha.next_job().trial_id == 9                              # nothing else promotable


def test_max_trials_and_is_done():
    asha = AsynchronousHyperband(ScriptedSearcher(), 1, 3, eta=3, variant="promotion", max_trials=3)
    jobs = [asha.next_job() for _ in range(3)]
    assert asha.next_job() is None
    for job, loss in zip(jobs, [0.3, 0.2, 0.1]):
        asha.on_result(job, ev(loss))
    assert not asha.is_done()                 # trial 2 can still be promoted
    final = asha.next_job()
    assert (final.trial_id, final.resource) == (2, 3)
    assert not asha.is_done()
    asha.on_result(final, ev(0.05))
    assert asha.is_done() and asha.next_job() is None and asha.is_finite()


@pytest.mark.parametrize("kwargs, message", [
    (dict(variant="median"), "variant must be one of"),
    (dict(brackets=5), r"brackets must be an integer in \[1, 4\]"),
    (dict(brackets=0), "brackets must be"),
    (dict(eta=1), "eta must be an integer >= 2"),
    (dict(max_trials=0), "max_trials"),
])
def test_bad_options(kwargs, message):
    args = dict(min_resource=1, max_resource=27, eta=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        AsynchronousHyperband(ScriptedSearcher(), **args)
