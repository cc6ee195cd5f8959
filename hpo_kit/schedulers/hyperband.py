"""Synchronous successive halving and Hyperband (Li et al., JMLR 2018; HpBandSter's variant).

Bracket arithmetic, with ``R = max_resource`` and ``eta`` the reduction factor::

    s_max = floor(log_eta(R / r_min))                 # largest s with r_min * eta**s <= R
    bracket s (s = s_max, ..., 0):
        n = ceil((s_max + 1) / (s + 1) * eta**s)       # bracket_rule="li" (Li et al., Algorithm 1)
        n = floor((s_max + 1) / (s + 1)) * eta**s      # bracket_rule="hpbandster" (BOHB's code)
        rung i = 0..s:  n_i = floor(n * eta**-i)  configurations  at  r_i = R * eta**(i - s)

The two rules agree on the most aggressive and the most conservative bracket and differ between:
HpBandSter (the implementation behind BOHB, Falkner et al. 2018) floors the ratio before
multiplying, so its middle brackets start fewer configurations. Hand-worked for ``r_min=1, eta=3``:

=========  ==========================  ==========================
R          li (n per bracket)          hpbandster
=========  ==========================  ==========================
9          9, 5, 3                     9, 3, 3
27         27, 12, 6, 4                27, 9, 6, 4
81         81, 34, 15, 8, 5            81, 27, 9, 6, 5
=========  ==========================  ==========================

Example ``R=27, r_min=1, eta=3``, rule "li"::

    s=3: 27@1, 9@3, 3@9, 1@27     s=2: 12@3, 4@9, 1@27     s=1: 6@9, 2@27     s=0: 4@27

Resources are whole epochs, so ``r_i`` is rounded to the nearest integer when ``R / r_min`` is not
a power of ``eta`` (e.g. ``R=100, eta=3``: 1, 4, 11, 33, 100). Rounding never goes below
``r_min`` and keeps the rungs strictly increasing.

*Synchronous* means: the ``n_{i+1}`` best trials of rung ``i`` are promoted only once **all**
``n_i`` results of that rung are in. With ``overlap_brackets=True`` (the default, as in HpBandSter,
whose master starts the next iteration whenever no job of the running ones can be scheduled, and
Syne Tune's synchronous Hyperband) a worker that would otherwise idle while a rung waits for its
last results starts the next bracket instead; no worker idles while any bracket could hand out a
job. ``overlap_brackets=False`` is the textbook algorithm: one bracket at a time, free workers sit
idle until the rung is complete. That idle time is what the asynchronous variants (ASHA, A-BOHB;
Klein et al. 2020) remove; keeping it would bias a comparison toward them.

Failed trials rank as loss ``+inf`` at their rung: they are never promoted, and when a rung has
fewer successful trials than promotion slots, fewer trials are promoted. When the searcher has no
configuration left (a restricted searcher that used up its candidates with
``on_exhausted="stop"``), rung 0 of a bracket starts fewer trials and the bracket goes on with
those it has.

Brackets are numbered like the asynchronous scheduler's: ``Job.bracket = s_max - s`` (0 is the
most aggressive bracket, which starts at ``r_min``); ``Job.rung = i``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from hpo_kit.schedulers.base import Scheduler, TrialStatus
from hpo_kit.searchers.base import Searcher
from hpo_kit.trial import Evaluation, Failure, Job
from hpo_kit.validation import check_choice


def check_resources(min_resource: Any, max_resource: Any, eta: Any = 2) -> None:
    """Raise a clear error unless ``1 <= min_resource <= max_resource`` (integers) and ``eta >= 2``."""
    for name, value in (("min_resource", min_resource), ("max_resource", max_resource)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1 (epochs), got {value!r}")
    if min_resource > max_resource:
        raise ValueError(
            f"min_resource must be <= max_resource, got min_resource={min_resource} > "
            f"max_resource={max_resource}"
        )
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise ValueError(f"eta must be an integer >= 2, got {eta!r}")


def max_bracket_index(min_resource: int, max_resource: int, eta: int) -> int:
    """``s_max = floor(log_eta(R / r_min))``, computed with integers (no floating-point log)."""
    s = 0
    while min_resource * eta ** (s + 1) <= max_resource:
        s += 1
    return s


@dataclass(frozen=True)
class Bracket:
    """One successive-halving bracket: ``n[i]`` configurations run to ``r[i]`` at rung ``i``."""

    s: int                 # Li et al.'s index: the bracket has s + 1 rungs
    n: tuple[int, ...]     # configurations per rung
    r: tuple[int, ...]     # resource (epochs) per rung; r[-1] == max_resource


BRACKET_RULES = ("li", "hpbandster")


def check_bracket_rule(rule: str) -> str:
    return check_choice("bracket_rule", rule, BRACKET_RULES,
                        "Li et al.'s ceiling or HpBandSter's floor, see hpo_kit.schedulers.hyperband")


def hyperband_brackets(min_resource: int, max_resource: int, eta: int = 3, rule: str = "li") -> list[Bracket]:
    """All brackets of one Hyperband iteration, most aggressive first (s = s_max, ..., 0).

    ``rule``: "li" (Li et al.'s ``ceil``) or "hpbandster" (HpBandSter's ``floor``); see the module doc.
    """
    check_resources(min_resource, max_resource, eta)
    check_bracket_rule(rule)
    s_max = max_bracket_index(min_resource, max_resource, eta)
    brackets = []
    for s in range(s_max, -1, -1):
        if rule == "li":
            n0 = -(-(s_max + 1) * eta**s // (s + 1))  # exact integer ceil
        else:
            n0 = ((s_max + 1) // (s + 1)) * eta**s
        n = tuple(n0 // eta**i for i in range(s + 1))
        # r_i = R * eta^(i-s), rounded half up with exact fractions
        r = tuple(math.floor(Fraction(max_resource, eta ** (s - i)) + Fraction(1, 2)) for i in range(s + 1))
        brackets.append(Bracket(s=s, n=n, r=r))
    return brackets


@dataclass
class _BracketRun:
    """The live state of one bracket: which rung it is on and what that rung still needs."""

    bracket: Bracket
    index: int                                   # Job.bracket (= s_max - s)
    rung: int = 0
    new_to_start: int = 0                        # rung 0: configurations still to draw
    promotions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # rung > 0: waiting jobs
    running: set[int] = field(default_factory=set)
    losses: dict[int, float] = field(default_factory=dict)                     # results at this rung
    configs: dict[int, dict[str, Any]] = field(default_factory=dict)

    def rung_complete(self) -> bool:
        return not self.running and not self.promotions and self.new_to_start == 0


class SynchronousHyperband(Scheduler):
    """Hyperband over brackets ``s_max..0``, repeated; ``brackets=1`` is successive halving.

    ``next_job`` returns ``None`` while the current rung waits for its last results (see the module
    docstring). After a result the trial is PAUSED (waiting for its rung to finish) or COMPLETED
    (top rung); trials that lose when a rung is resolved are reported through
    :meth:`pop_decisions` as STOPPED so the tuner can log them.
    """

    def __init__(
        self,
        searcher: Searcher,
        min_resource: int,
        max_resource: int,
        eta: int = 3,
        brackets: int | None = None,
        n_iterations: int | None = None,
        overlap_brackets: bool = True,
        bracket_rule: str = "li",
    ):
        check_resources(min_resource, max_resource, eta)
        if not isinstance(overlap_brackets, (bool, np.bool_)):
            raise ValueError(f"overlap_brackets must be True or False, got {overlap_brackets!r}")
        super().__init__(searcher, min_resource, max_resource)
        all_brackets = hyperband_brackets(min_resource, max_resource, eta, check_bracket_rule(bracket_rule))
        self.bracket_rule = bracket_rule
        if brackets is None:
            brackets = len(all_brackets)
        if isinstance(brackets, bool) or not isinstance(brackets, int) or not 1 <= brackets <= len(all_brackets):
            raise ValueError(
                f"brackets must be an integer in [1, {len(all_brackets)}] (s_max + 1 for these "
                f"resources and eta) or None for all, got {brackets!r}"
            )
        if n_iterations is not None and (isinstance(n_iterations, bool) or not isinstance(n_iterations, int)
                                         or n_iterations < 1):
            raise ValueError(f"n_iterations must be an integer >= 1 or None (repeat until stopped), got {n_iterations!r}")
        self.eta = eta
        self.s_max = len(all_brackets) - 1
        self.brackets = all_brackets[:brackets]   # the most aggressive ones
        self.n_iterations = n_iterations
        self.overlap_brackets = bool(overlap_brackets)
        self._n_opened = 0                          # brackets opened so far (across iterations)
        self._active: list[_BracketRun] = []
        self._run_of_trial: dict[int, _BracketRun] = {}
        self._next_trial_id = 0
        self._decisions: list[tuple[int, TrialStatus]] = []

    # -- the schedule ---------------------------------------------------------------------------
    def _schedule_exhausted(self) -> bool:
        # a searcher whose candidates ran out (on_exhausted="stop") opens no more brackets either
        return ((self.n_iterations is not None and self._n_opened >= self.n_iterations * len(self.brackets))
                or self.searcher.exhausted())

    def _open_bracket(self) -> _BracketRun:
        bracket = self.brackets[self._n_opened % len(self.brackets)]
        self._n_opened += 1
        run = _BracketRun(bracket=bracket, index=self.s_max - bracket.s, new_to_start=bracket.n[0])
        self._active.append(run)
        return run

    def _job_from(self, run: _BracketRun) -> Job | None:
        b = run.bracket
        if run.rung == 0 and run.new_to_start > 0 and self.searcher.exhausted():
            run.new_to_start = 0          # no configuration left: the bracket goes on with what it has
            if run.rung_complete():
                self._resolve_rung(run, -1, TrialStatus.PAUSED)
            return self._job_from(run) if run in self._active else None
        if run.rung == 0 and run.new_to_start > 0:
            run.new_to_start -= 1
            trial_id = self._next_trial_id
            self._next_trial_id += 1
            config = self.searcher.suggest()
            job = Job(trial_id, config, b.r[0], 0, bracket=run.index, rung=0)
        elif run.promotions:
            trial_id, config = run.promotions.pop(0)
            job = Job(trial_id, config, b.r[run.rung], b.r[run.rung - 1], bracket=run.index, rung=run.rung)
        else:
            return None
        run.running.add(trial_id)
        run.configs[trial_id] = job.config
        self._run_of_trial[trial_id] = run
        self.searcher.on_pending(trial_id, job.config, job.resource)
        return job

    def next_job(self) -> Job | None:
        for run in list(self._active):   # a copy: an exhausted searcher can end a bracket here
            job = self._job_from(run)
            if job is not None:
                return job
        # Nothing ready: open a new bracket only when allowed (see overlap_brackets)
        if self._schedule_exhausted() or (self._active and not self.overlap_brackets) or self.searcher.exhausted():
            return None
        return self._job_from(self._open_bracket())

    # -- results ----------------------------------------------------------------------------------
    def _record(self, job: Job, loss: float) -> TrialStatus:
        run = self._run_of_trial[job.trial_id]
        run.running.discard(job.trial_id)
        run.losses[job.trial_id] = loss
        last_rung = run.rung == len(run.bracket.r) - 1
        if math.isinf(loss):
            status = TrialStatus.STOPPED
        else:
            status = TrialStatus.COMPLETED if last_rung else TrialStatus.PAUSED
        if run.rung_complete():
            status = self._resolve_rung(run, job.trial_id, status)
        return status

    def _resolve_rung(self, run: _BracketRun, current: int, status: TrialStatus) -> TrialStatus:
        """All results of the rung are in: promote the best ``n_{i+1}``, stop the rest."""
        b = run.bracket
        if run.rung == len(b.r) - 1:
            self._active.remove(run)
            return status
        # Ties broken by trial id, so the decision does not depend on arrival order.
        ranked = sorted(run.losses.items(), key=lambda item: (item[1], item[0]))
        n_promote = b.n[run.rung + 1]
        winners = [t for t, loss in ranked[:n_promote] if math.isfinite(loss)]
        losers = [t for t, loss in ranked if t not in winners and math.isfinite(loss)]
        for trial_id in losers:
            if trial_id == current:
                status = TrialStatus.STOPPED
            else:
                self._decisions.append((trial_id, TrialStatus.STOPPED))
        run.rung += 1
        run.promotions = [(t, run.configs[t]) for t in winners]
        run.losses = {}
        if not winners:  # every trial of the rung failed: the bracket ends here
            self._active.remove(run)
        return status

    def on_result(self, job: Job, evaluation: Evaluation) -> TrialStatus:
        self.searcher.on_result(job.trial_id, job.config, job.resource, evaluation.loss)
        return self._record(job, float(evaluation.loss))

    def on_failure(self, job: Job, failure: Failure) -> TrialStatus:
        self.searcher.on_failure(job.trial_id, job.config, job.resource)
        self._record(job, math.inf)
        return TrialStatus.STOPPED

    def pop_decisions(self) -> list[tuple[int, TrialStatus]]:
        """Decisions about *other* trials taken while handling the last result (rung losers)."""
        decisions, self._decisions = self._decisions, []
        return decisions

    def is_done(self) -> bool:
        return self._schedule_exhausted() and not self._active

    def is_finite(self) -> bool:
        """True when the scheduler ends by itself (``n_iterations`` set, or a candidate list that stops)."""
        return self.n_iterations is not None or self.searcher.stops_when_exhausted()

    def describe(self) -> dict[str, Any]:
        return {
            "name": "synchronous_hyperband", "min_resource": self.min_resource,
            "max_resource": self.max_resource, "eta": self.eta, "brackets": len(self.brackets),
            "n_iterations": self.n_iterations, "overlap_brackets": self.overlap_brackets,
            "bracket_rule": self.bracket_rule,
        }
