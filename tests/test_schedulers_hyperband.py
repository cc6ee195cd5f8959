"""Synchronous Hyperband: Li et al.'s bracket arithmetic and rung-by-rung promotions."""
from __future__ import annotations

import math

import pytest

from hpo_kit.schedulers.base import TrialStatus
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.schedulers.hyperband import SynchronousHyperband, hyperband_brackets
from scripted_searcher import ScriptedSearcher
from hpo_kit.trial import Evaluation, Failure


def layout(brackets):
    return [(b.s, list(zip(b.n, b.r))) for b in brackets]


def test_brackets_r27_eta3_hand_worked():
    assert layout(hyperband_brackets(1, 27, 3)) == [
        (3, [(27, 1), (9, 3), (3, 9), (1, 27)]),
        (2, [(12, 3), (4, 9), (1, 27)]),
        (1, [(6, 9), (2, 27)]),
        (0, [(4, 27)]),
    ]


def test_brackets_r8_eta2_hand_worked():
    # s_max = 3; n = ceil(4/(s+1) * 2^s): 8, 6, 4, 4
    assert layout(hyperband_brackets(1, 8, 2)) == [
        (3, [(8, 1), (4, 2), (2, 4), (1, 8)]),
        (2, [(6, 2), (3, 4), (1, 8)]),
        (1, [(4, 4), (2, 8)]),
        (0, [(4, 8)]),
    ]


def test_brackets_min_resource_2_r18():
    # 2 * 3^2 = 18 -> s_max = 2; n = 9, ceil(3/2*3) = 5, 3
    assert layout(hyperband_brackets(2, 18, 3)) == [
        (2, [(9, 2), (3, 6), (1, 18)]),
        (1, [(5, 6), (1, 18)]),
        (0, [(3, 18)]),
    ]


def test_brackets_r81_eta3_both_rules_hand_worked():
    # Li et al.: n = ceil(5 / (s + 1) * 3^s) -> 81, ceil(33.75) = 34, ceil(15) = 15, ceil(7.5) = 8, 5
    assert layout(hyperband_brackets(1, 81, 3, rule="li")) == [
        (4, [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]),
        (3, [(34, 3), (11, 9), (3, 27), (1, 81)]),
        (2, [(15, 9), (5, 27), (1, 81)]),
        (1, [(8, 27), (2, 81)]),
        (0, [(5, 81)]),
    ]
    # HpBandSter: n = floor(5 / (s + 1)) * 3^s -> 1*81, 1*27, 1*9, 2*3, 5*1
    assert layout(hyperband_brackets(1, 81, 3, rule="hpbandster")) == [
        (4, [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]),
        (3, [(27, 3), (9, 9), (3, 27), (1, 81)]),
        (2, [(9, 9), (3, 27), (1, 81)]),
        (1, [(6, 27), (2, 81)]),
        (0, [(5, 81)]),
    ]
    assert layout(hyperband_brackets(1, 81, 3)) == layout(hyperband_brackets(1, 81, 3, rule="li"))


def test_brackets_r9_and_r27_hpbandster_hand_worked():
    # R = 9: s = 1 starts floor(3/2) * 3 = 3 configurations (Li et al.: ceil(3/2 * 3) = 5)
    assert layout(hyperband_brackets(1, 9, 3, rule="hpbandster")) == [
        (2, [(9, 1), (3, 3), (1, 9)]), (1, [(3, 3), (1, 9)]), (0, [(3, 9)])]
    assert layout(hyperband_brackets(1, 9, 3, rule="li"))[1] == (1, [(5, 3), (1, 9)])
    # R = 27: floor(4/3) * 9 = 9, floor(4/2) * 3 = 6, 4
    assert [b.n[0] for b in hyperband_brackets(1, 27, 3, rule="hpbandster")] == [27, 9, 6, 4]


def test_bracket_rule_is_validated_and_recorded():
    with pytest.raises(ValueError, match="bracket_rule must be one of"):
        hyperband_brackets(1, 27, 3, rule="floor")
    with pytest.raises(ValueError, match="bracket_rule must be one of"):
        SynchronousHyperband(ScriptedSearcher(), 1, 27, eta=3, bracket_rule="HpBandSter")
    hb = SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, bracket_rule="hpbandster", n_iterations=1)
    assert hb.describe()["bracket_rule"] == "hpbandster" and hb.describe()["overlap_brackets"] is True
    jobs = run_all(hb)
    assert len({j.trial_id for j in jobs}) == 9 + 3 + 3


def test_brackets_non_power_resources_are_rounded():
    # R = 100, eta = 3: s_max = 4, r = 100/81, 100/27, ... rounded half up
    got = layout(hyperband_brackets(1, 100, 3))
    assert got[0] == (4, [(81, 1), (27, 4), (9, 11), (3, 33), (1, 100)])
    assert got[1] == (3, [(34, 4), (11, 11), (3, 33), (1, 100)])   # ceil(5/4 * 27) = 34
    assert got[2] == (2, [(15, 11), (5, 33), (1, 100)])
    assert got[3] == (1, [(8, 33), (2, 100)])                      # ceil(5/2 * 3) = 8
    assert got[4] == (0, [(5, 100)])


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_resource=1, max_resource=27, eta=1), "eta must be an integer >= 2"),
    (dict(min_resource=1, max_resource=27, eta=2.5), "eta must be an integer >= 2"),
    (dict(min_resource=30, max_resource=27, eta=3), "min_resource must be <= max_resource"),
    (dict(min_resource=0, max_resource=27, eta=3), "min_resource must be an integer >= 1"),
])
def test_bad_resources_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hyperband_brackets(**kwargs)
    with pytest.raises(ValueError, match=message):
        SynchronousHyperband(ScriptedSearcher(), **kwargs)


def test_successive_halving_waits_for_the_whole_rung_then_promotes_the_best():
    searcher = ScriptedSearcher()
    sh = SynchronousHyperband(searcher, 1, 9, eta=3, brackets=1, n_iterations=1)  # 9@1, 3@3, 1@9
    jobs = [sh.next_job() for _ in range(9)]
    assert [(j.trial_id, j.resource, j.previous_resource, j.rung) for j in jobs] == [(i, 1, 0, 0) for i in range(9)]
    assert sh.next_job() is None                         # the rung is full: no more work
    losses = [0.5, 0.3, 0.9, 0.1, 0.8, 0.3, 0.7, 0.6]     # trial 8 will fail
    for job, loss in zip(jobs[:8], losses):
        assert sh.on_result(job, Evaluation(loss, 1.0)) == TrialStatus.PAUSED
        assert sh.next_job() is None                     # synchronous: workers idle meanwhile
    assert sh.pop_decisions() == []
    # The failure completes the rung: best 3 are trial 3 (0.1), then 1 and 5 tied at 0.3 (id order)
    assert sh.on_failure(jobs[8], Failure("boom")) == TrialStatus.STOPPED
    assert sorted(sh.pop_decisions()) == [(t, TrialStatus.STOPPED) for t in (0, 2, 4, 6, 7)]
    promoted = [sh.next_job() for _ in range(3)]
    assert [(j.trial_id, j.resource, j.previous_resource, j.rung) for j in promoted] == [
        (3, 3, 1, 1), (1, 3, 1, 1), (5, 3, 1, 1)]
    assert promoted[0].config == {"x": 3.0}
    assert sh.next_job() is None
    assert sh.on_result(promoted[0], Evaluation(0.2, 1.0)) == TrialStatus.PAUSED
    assert sh.on_result(promoted[2], Evaluation(0.1, 1.0)) == TrialStatus.PAUSED
    # The last result of the rung is a loser: it is stopped directly, the other loser via pop_decisions
    assert sh.on_result(promoted[1], Evaluation(0.25, 1.0)) == TrialStatus.STOPPED
    assert sh.pop_decisions() == [(3, TrialStatus.STOPPED)]
    final = sh.next_job()
    assert (final.trial_id, final.resource, final.previous_resource, final.rung) == (5, 9, 3, 2)
    assert not sh.is_done()
    assert sh.on_result(final, Evaluation(0.05, 1.0)) == TrialStatus.COMPLETED
    assert sh.is_done() and sh.next_job() is None
    # The searcher heard about every job, result and failure
    assert searcher.calls.count(("failure", 8, 1)) == 1
    assert sum(c[0] == "pending" for c in searcher.calls) == 9 + 3 + 1
    assert sum(c[0] == "result" for c in searcher.calls) == 8 + 3 + 1


def run_all(scheduler, loss_of=lambda job: (job.config["x"] * 7919 % 101) / 101):
    """Drive a scheduler with one worker per free job until done; return the job list."""
    issued = []
    while not scheduler.is_done():
        batch = []
        while (job := scheduler.next_job()) is not None:
            batch.append(job)
        assert batch, "scheduler stalled"
        for job in batch:
            scheduler.on_result(job, Evaluation(loss_of(job), 1.0))
            scheduler.pop_decisions()
        issued.extend(batch)
    return issued


def test_hyperband_iteration_runs_every_bracket_in_order():
    hb = SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, n_iterations=1, overlap_brackets=False)
    jobs = run_all(hb)
    by_bracket = {}
    for job in jobs:
        by_bracket.setdefault(job.bracket, []).append(job.resource)
    # s=2 (bracket 0): 9@1 3@3 1@9; s=1: 5@3 1@9; s=0: 3@9
    assert by_bracket == {0: [1] * 9 + [3] * 3 + [9], 1: [3] * 5 + [9], 2: [9] * 3}
    assert [j.bracket for j in jobs] == sorted(j.bracket for j in jobs)   # one bracket after the other
    assert len({j.trial_id for j in jobs}) == 9 + 5 + 3


def test_two_iterations_and_overlapping_brackets():
    jobs = run_all(SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, n_iterations=2))
    assert len({j.trial_id for j in jobs}) == 2 * (9 + 5 + 3)
    hb = SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, n_iterations=1, overlap_brackets=True)
    first = [hb.next_job() for _ in range(9 + 5 + 3)]
    assert [j.bracket for j in first] == [0] * 9 + [1] * 5 + [2] * 3   # idle workers open the next bracket
    assert hb.next_job() is None


def test_rung_where_every_trial_fails_ends_the_bracket():
    sh = SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, brackets=1, n_iterations=1)
    jobs = [sh.next_job() for _ in range(9)]
    for job in jobs:
        assert sh.on_failure(job, Failure("x")) == TrialStatus.STOPPED
    assert sh.is_done() and sh.next_job() is None


def test_brackets_option_validation():
    with pytest.raises(ValueError, match=r"brackets must be an integer in \[1, 3\]"):
        SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, brackets=4)
    with pytest.raises(ValueError, match="n_iterations"):
        SynchronousHyperband(ScriptedSearcher(), 1, 9, eta=3, n_iterations=0)


def test_fifo_runs_every_trial_to_the_full_budget():
    searcher = ScriptedSearcher()
    fifo = FIFOScheduler(searcher, 1, 27, max_trials=3)
    jobs = [fifo.next_job() for _ in range(3)]
    assert [(j.trial_id, j.resource, j.previous_resource) for j in jobs] == [(0, 27, 0), (1, 27, 0), (2, 27, 0)]
    assert fifo.next_job() is None and not fifo.is_done()
    assert fifo.on_result(jobs[0], Evaluation(0.1, 1.0)) == TrialStatus.COMPLETED
    assert fifo.on_failure(jobs[1], Failure("x")) == TrialStatus.STOPPED
    assert not fifo.is_done()
    fifo.on_result(jobs[2], Evaluation(math.pi, 1.0))
    assert fifo.is_done()
    assert ("failure", 1, 27) in searcher.calls and ("pending", 2, 27) in searcher.calls
    with pytest.raises(ValueError, match="max_trials"):
        FIFOScheduler(searcher, 1, 27, max_trials=0)
