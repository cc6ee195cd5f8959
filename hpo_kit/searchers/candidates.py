"""A finite set of configurations a searcher must choose from, each at most once per pass.

Tabular benchmarks answer every configuration with one of their rows. A searcher free to propose
any point keeps proposing points near its incumbent, which map to the same row again and again:
each repeat costs epochs and teaches nothing. Tabular benchmark studies instead let searchers pick
among the table's configurations, without repeats. A :class:`CandidatePool` holds those
configurations (encoded once) and which of them are still untried.

When every candidate has been suggested, the pool starts a new pass with all of them available
again (``passes`` counts the passes). A run then repeats configurations only after it has tried
the whole set, instead of failing in the middle.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class CandidatePool:
    """Candidate configurations (plain dicts) and which of them have not been suggested yet."""

    def __init__(self, candidates: list[dict[str, Any]], encoder: Any):
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

    def __len__(self) -> int:
        return len(self.configs)

    @property
    def n_untried(self) -> int:
        return int(self._untried.sum())

    def untried(self, rng: np.random.Generator, max_size: int | None = None) -> np.ndarray:
        """Indices of untried candidates (all, or a seeded random subset of ``max_size``), sorted."""
        if not self._untried.any():  # every candidate tried: start a new pass (see module doc)
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
        return dict(self.configs[row])

    def take_random(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random untried candidate, marked as suggested."""
        rows = self.untried(rng)
        return self.take(int(rows[rng.integers(len(rows))]))
