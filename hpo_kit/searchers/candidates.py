"""A finite set of configurations a searcher must choose from, each at most once per pass.

Tabular benchmarks answer every configuration with one of their rows. A searcher free to propose
any point keeps proposing points near its incumbent, which map to the same row again and again:
each repeat costs epochs and teaches nothing. Tabular benchmark studies instead let searchers pick
among the table's configurations, without repeats. A :class:`CandidatePool` holds those
configurations (encoded once) and which of them are still untried.

What happens when every candidate has been suggested is the user's choice, ``on_exhausted``:

* ``"repeat"`` (default): the pool starts a new pass with all of them available again (``passes``
  counts the passes). A run then repeats configurations only after it has tried the whole set.
* ``"stop"``: the pool is :attr:`~CandidatePool.exhausted`; the schedulers start no new trials
  (running and paused trials still finish and get promoted), so the run ends once nothing is left to
  do, as Syne Tune does when its restricted configuration list is used up.

Either way the pool records a notice the moment the last untried candidate is taken; the tuner
writes it to the run log as an ``exhausted`` event with the (simulated) time, warns once, and
:class:`~hpo_kit.tuner.HPOResult` reports it as ``exhausted_at``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from hpo_kit.validation import check_choice

ON_EXHAUSTED = ("repeat", "stop")


def check_on_exhausted(value: Any) -> str:
    return check_choice("on_exhausted", value, ON_EXHAUSTED, "what a run does once every candidate has been tried")


class CandidatesExhausted(RuntimeError):
    """A suggestion was asked of a pool that has used up its candidates with ``on_exhausted="stop"``."""


class CandidatePool:
    """Candidate configurations (plain dicts) and which of them have not been suggested yet."""

    def __init__(self, candidates: list[dict[str, Any]], encoder: Any, on_exhausted: str = "repeat"):
        self.on_exhausted = check_on_exhausted(on_exhausted)
        if not isinstance(candidates, (list, tuple)) or len(candidates) == 0:
            raise ValueError("candidates must be a non-empty list of configuration dicts (or None for no "
                             f"restriction), got {type(candidates).__name__} of length "
                             f"{len(candidates) if hasattr(candidates, '__len__') else '?'}")
        bad = [i for i, c in enumerate(candidates) if not isinstance(c, dict)]
        if bad:
            raise TypeError(f"candidates must be configuration dicts; entry {bad[0]} is "
                            f"{type(candidates[bad[0]]).__name__}")
        self.configs = [dict(c) for c in candidates]
        self.X = encoder.encode_many(self.configs)  # (n, d), NaN where inactive
        self._untried = np.ones(len(self.configs), dtype=bool)
        self.passes = 1
        self.n_exhaustions = 0          # times the last untried candidate was taken
        self._notices: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.configs)

    @property
    def n_untried(self) -> int:
        return int(self._untried.sum())

    @property
    def exhausted(self) -> bool:
        """True once every candidate was suggested and ``on_exhausted == "stop"``."""
        return self.on_exhausted == "stop" and not self._untried.any()

    def pop_notices(self) -> list[dict[str, Any]]:
        notices, self._notices = self._notices, []
        return notices

    def untried(self, rng: np.random.Generator, max_size: int | None = None) -> np.ndarray:
        """Indices of untried candidates (all, or a seeded random subset of ``max_size``), sorted."""
        if not self._untried.any():  # every candidate tried: start a new pass (see module doc)
            if self.on_exhausted == "stop":
                raise CandidatesExhausted(
                    f"all {len(self)} candidates have been suggested and on_exhausted='stop'; the scheduler "
                    "should have checked searcher.exhausted() before asking for a new configuration")
            self._untried[:] = True
            self.passes += 1
        rows = np.flatnonzero(self._untried)
        if max_size is not None and len(rows) > max_size:
            rows = np.sort(rng.choice(rows, max_size, replace=False))
        return rows

    def take(self, row: int) -> dict[str, Any]:
        """Mark candidate ``row`` as suggested and return (a copy of) its configuration."""
        if not self._untried[row]:
            raise ValueError(f"candidate {row} has already been suggested in this pass")
        self._untried[row] = False
        if not self._untried.any():
            self.n_exhaustions += 1
            self._notices.append({"candidates": len(self), "pass": self.passes, "on_exhausted": self.on_exhausted})
        return dict(self.configs[row])

    def take_random(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random untried candidate, marked as suggested."""
        rows = self.untried(rng)
        return self.take(int(rows[rng.integers(len(rows))]))
