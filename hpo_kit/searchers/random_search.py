"""Random search: the baseline every model-based searcher must beat (Bergstra & Bengio, 2012)."""
from __future__ import annotations

from typing import Any

from ConfigSpace import ConfigurationSpace

from hpo_kit.searchers.base import Searcher
from hpo_kit.searchers.candidates import CandidatePool
from hpo_kit.spaces import UnitCubeEncoder


class RandomSearcher(Searcher):
    """Draws configurations uniformly from the encoded unit cube.

    Uniform in the cube means: uniform on linear scales, log-uniform on log scales, every
    categorical choice and every integer equally likely (see :mod:`hpo_kit.spaces`). Conditions
    are honoured (inactive hyperparameters are absent) and forbidden configurations are rejected.
    All randomness comes from ``self.rng`` (a numpy Generator seeded with ``seed``), so the same
    seed gives the same sequence of configurations. Results are ignored.

    With ``candidates`` (a list of configuration dicts, e.g. a table's rows) it draws uniformly
    among the candidates not suggested yet instead (see :mod:`hpo_kit.searchers.candidates`).
    """

    def __init__(self, space: ConfigurationSpace, seed: int, candidates: list[dict[str, Any]] | None = None,
                 on_exhausted: str = "repeat"):
        super().__init__(space, seed)
        self.encoder = UnitCubeEncoder(space)
        self.pool = None if candidates is None else CandidatePool(candidates, self.encoder, on_exhausted)

    def suggest(self) -> dict[str, Any]:
        if self.pool is not None:
            return self.pool.take_random(self.rng)
        x = self.encoder.sample(self.rng, 1)[0]
        return self.encoder.decode(x)
