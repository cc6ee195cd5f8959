"""Asynchronous Hyperband: ASHA and its stopping twin (Li et al. 2020; Klein et al. 2020, arXiv 2003.10865).

Rung levels are ``r_min * eta**k`` below ``max_resource``, plus ``max_resource`` itself
(``r_min=1, eta=3, R=27``: 1, 3, 9, 27). Bracket ``b`` starts its trials at level ``b`` (its grace
period is ``r_min * eta**b``), so bracket 0 is the most aggressive one and ``brackets=1`` is plain
ASHA. With several brackets, each new trial draws its bracket at random with probability
proportional to the number of configurations the matching synchronous Hyperband bracket starts
(``ceil(B / (B - b) * R / level_b)`` with ``B`` levels; 27 : 12 : 6 : 4 in the example above).

Decisions never wait for a rung to fill up, so no worker is ever idle:

* **stopping** (``variant="stopping"``): when a trial reports at a rung it continues to the next
  rung right away if its loss is in the top ``1/eta`` of all results recorded at that rung so far,
  itself included: with ``n`` results it continues iff fewer than ``ceil(n / eta)`` of them are
  strictly better. The ceiling matters for the first results at a rung: the first trial always
  continues (it *is* the top third of one result), which is the quantile rule of Syne Tune; a
  floor would stop the first ``eta - 1`` trials of every rung before anything is known.
* **promotion** (``variant="promotion"``, ASHA): trials pause at each rung. When a worker is free
  the scheduler looks for a paused trial among the best ``floor(n / eta)`` of its rung that was not
  promoted yet, highest rung level first (across brackets; lower bracket first on ties), and
  promotes the best such trial; if there is none it starts a new configuration. Here the floor is
  ASHA's rule: a promotion may wait, so a rung needs ``eta`` results before its first promotion.

``promotion_rule`` chooses the quantile rule of both variants:

* ``"asha_floor"`` (default): the rank rules above (promotion: top ``floor(n / eta)``, ASHA's
  rule; stopping: fewer than ``ceil(n / eta)`` strictly better).
* ``"interpolated"``: Syne Tune's rule. The cutoff is the ``1/eta`` quantile of the rung's results
  with linear interpolation (``numpy.quantile``'s default: position ``(n - 1) / eta`` between the
  sorted losses), defined from two results on; a trial at or below the cutoff is promoted (the
  best waiting one) or continues. With one result, promotion waits and stopping continues. It
  promotes earlier than the floor: with 3 results at ``eta = 3`` the floor promotes 1 trial and the
  cutoff admits the best one too, but with 2 results the floor promotes none while the cutoff
  (a third of the way from the best to the second) admits the best.

Failed trials are recorded as loss ``+inf`` at their rung: they count in ``n`` and rank last.
Ties are broken by trial id. The searcher hears about every job (``on_pending``), result and
failure, so model-based searchers (A-BOHB) can treat running jobs as pending.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from hpo_kit.schedulers.base import Scheduler, TrialStatus
from hpo_kit.schedulers.hyperband import check_resources
from hpo_kit.searchers.base import Searcher
from hpo_kit.trial import Evaluation, Failure, Job
from hpo_kit.validation import check_choice

VARIANTS = ("stopping", "promotion")
PROMOTION_RULES = ("asha_floor", "interpolated")


def interpolated_cutoff(sorted_losses: list[float], eta: int) -> float | None:
    """``numpy.quantile(losses, 1 / eta)`` (linear interpolation) of sorted losses; None below two.

    Infinite losses (failures) may sit at the top: the interpolation then stays finite unless the
    quantile position reaches them.
    """
    n = len(sorted_losses)
    if n < 2:
        return None
    position = (n - 1) / eta
    i = int(math.floor(position))
    frac = position - i
    low = sorted_losses[i]
    if frac == 0.0 or i + 1 >= n:
        return low
    high = sorted_losses[i + 1]
    if math.isinf(high):
        return math.inf
    return low + frac * (high - low)


def rung_levels(min_resource: int, max_resource: int, eta: int) -> list[int]:
    """``[r_min, r_min*eta, ...]`` (all below ``max_resource``) followed by ``max_resource``."""
    check_resources(min_resource, max_resource, eta)
    levels = []
    level = min_resource
    while level < max_resource:
        levels.append(level)
        level *= eta
    return levels + [max_resource]


def bracket_weights(levels: list[int]) -> list[int]:
    """Configurations started by the synchronous Hyperband bracket matching each async bracket.

    Bracket ``b`` has ``s = B - 1 - b`` promotions; Li et al.'s count is
    ``ceil((s_max + 1) / (s + 1) * eta**s)`` where ``eta**s = R / level_b``.
    """
    n_levels = len(levels)
    return [math.ceil(Fraction(n_levels, n_levels - b) * Fraction(levels[-1], levels[b])) for b in range(n_levels)]


@dataclass
class _Rung:
    """Results recorded at one rung level of one bracket. Keys are ``(loss, trial_id)``."""

    n: int = 0                                           # results recorded, failures included
    losses: list[float] = field(default_factory=list)    # stopping (or interpolated rule): every loss, sorted
    waiting: list[tuple[float, int]] = field(default_factory=list)   # promotion: paused, not promoted
    promoted: list[tuple[float, int]] = field(default_factory=list)  # promotion: already promoted


class AsynchronousHyperband(Scheduler):
    """Asynchronous successive halving / Hyperband in the stopping or the promotion variant."""

    def __init__(
        self,
        searcher: Searcher,
        min_resource: int,
        max_resource: int,
        eta: int = 3,
        variant: str = "promotion",
        brackets: int = 1,
        max_trials: int | None = None,
        seed: int = 0,
        promotion_rule: str = "asha_floor",
    ):
        check_resources(min_resource, max_resource, eta)
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        self.promotion_rule = check_choice("promotion_rule", promotion_rule, PROMOTION_RULES,
                                           "ASHA's floor(n/eta) or Syne Tune's interpolated quantile")
        levels = rung_levels(min_resource, max_resource, eta)
        if isinstance(brackets, bool) or not isinstance(brackets, int) or not 1 <= brackets <= len(levels):
            raise ValueError(
                f"brackets must be an integer in [1, {len(levels)}] (number of rung levels "
                f"{levels}), got {brackets!r}"
            )
        if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1):
            raise ValueError(f"max_trials must be an integer >= 1 or None (no limit), got {max_trials!r}")
        super().__init__(searcher, min_resource, max_resource)
        self.eta = eta
        self.variant = variant
        self.levels = levels
        self.n_brackets = brackets
        self.max_trials = max_trials
        self.seed = seed
        weights = np.array(bracket_weights(levels)[:brackets], dtype=float)
        self.bracket_probabilities = weights / weights.sum()
        self._cumulative = np.cumsum(self.bracket_probabilities)
        # Own stream, distinct from the searcher's (which is seeded with `seed` itself).
        self._rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        self._level_index = {level: k for k, level in enumerate(levels)}
        self._rungs = {(b, k): _Rung() for b in range(brackets) for k in range(b, len(levels))}
        self._configs: dict[int, dict[str, Any]] = {}
        self._bracket_of: dict[int, int] = {}
        self._continuations: deque[Job] = deque()
        self._n_started = 0
        self._running = 0

    # -- handing out jobs ---------------------------------------------------------------------
    def _sample_bracket(self) -> int:
        if self.n_brackets == 1:
            return 0
        u = self._rng.random()
        return int(min(np.searchsorted(self._cumulative, u, side="right"), self.n_brackets - 1))

    def _promotable(self) -> tuple[int, int] | None:
        """(bracket, level) of the rung whose best waiting trial may be promoted, or None."""
        for k in range(len(self.levels) - 2, -1, -1):      # highest non-final level first
            for b in range(min(k, self.n_brackets - 1) + 1):
                rung = self._rungs[(b, k)]
                if not rung.waiting:
                    continue
                # The best waiting trial's rank among all results of the rung = promoted trials
                # ahead of it (no waiting trial is ahead, failures rank last). If it is not in the
                # top floor(n / eta), no waiting trial is.
                if self.promotion_rule == "interpolated":
                    cutoff = interpolated_cutoff(rung.losses, self.eta)
                    if cutoff is not None and rung.waiting[0][0] <= cutoff:
                        return b, k
                    continue
                rank = bisect.bisect_left(rung.promoted, rung.waiting[0])
                if rank < rung.n // self.eta:
                    return b, k
        return None

    def _issue(self, job: Job) -> Job:
        self._running += 1
        self.searcher.on_pending(job.trial_id, job.config, job.resource)
        return job

    def next_job(self) -> Job | None:
        if self._continuations:                           # stopping variant: go on at once
            return self._issue(self._continuations.popleft())
        if self.variant == "promotion":
            found = self._promotable()
            if found is not None:
                b, k = found
                rung = self._rungs[(b, k)]
                key = rung.waiting.pop(0)
                bisect.insort(rung.promoted, key)
                trial_id = key[1]
                return self._issue(Job(trial_id, self._configs[trial_id], self.levels[k + 1],
                                       self.levels[k], bracket=b, rung=k + 1 - b))
        if (self.max_trials is not None and self._n_started >= self.max_trials) or self.searcher.exhausted():
            return None
        trial_id = self._n_started
        self._n_started += 1
        b = self._sample_bracket()
        config = self.searcher.suggest()
        self._configs[trial_id] = config
        self._bracket_of[trial_id] = b
        return self._issue(Job(trial_id, config, self.levels[b], 0, bracket=b, rung=0))

    # -- results ------------------------------------------------------------------------------
    def on_result(self, job: Job, evaluation: Evaluation) -> TrialStatus:
        self._running -= 1
        loss = float(evaluation.loss)
        self.searcher.on_result(job.trial_id, job.config, job.resource, loss)
        k = self._level_index[job.resource]
        rung = self._rungs[(job.bracket, k)]
        rung.n += 1
        if k == len(self.levels) - 1:
            return TrialStatus.COMPLETED
        if self.variant == "promotion":
            bisect.insort(rung.waiting, (loss, job.trial_id))
            if self.promotion_rule == "interpolated":
                bisect.insort(rung.losses, loss)
            return TrialStatus.PAUSED
        better = bisect.bisect_left(rung.losses, loss)  # results strictly better than this one
        bisect.insort(rung.losses, loss)
        if self.promotion_rule == "interpolated":
            cutoff = interpolated_cutoff(rung.losses, self.eta)
            go_on = cutoff is None or loss <= cutoff
        else:
            go_on = better < math.ceil(rung.n / self.eta)
        if go_on:
            self._continuations.append(Job(job.trial_id, job.config, self.levels[k + 1], job.resource,
                                           bracket=job.bracket, rung=job.rung + 1))
            return TrialStatus.CONTINUE
        return TrialStatus.STOPPED

    def on_failure(self, job: Job, failure: Failure) -> TrialStatus:
        self._running -= 1
        rung = self._rungs[(job.bracket, self._level_index[job.resource])]
        rung.n += 1
        if self.variant == "stopping" or self.promotion_rule == "interpolated":
            rung.losses.append(math.inf)  # +inf sorts last, the list stays sorted
        return super().on_failure(job, failure)

    def is_done(self) -> bool:
        no_new = (self.max_trials is not None and self._n_started >= self.max_trials) or self.searcher.exhausted()
        return (no_new and self._running == 0
                and not self._continuations and (self.variant == "stopping" or self._promotable() is None))

    def is_finite(self) -> bool:
        return self.max_trials is not None or self.searcher.stops_when_exhausted()

    def describe(self) -> dict[str, Any]:
        return {
            "name": "asynchronous_hyperband", "variant": self.variant, "min_resource": self.min_resource,
            "max_resource": self.max_resource, "eta": self.eta, "brackets": self.n_brackets,
            "max_trials": self.max_trials, "seed": self.seed, "promotion_rule": self.promotion_rule,
        }
