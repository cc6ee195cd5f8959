"""A searcher for scheduler tests: configurations {"x": 0}, {"x": 1}, ... and a record of every callback."""
from __future__ import annotations

from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.searchers.base import Searcher


class ScriptedSearcher(Searcher):
    def __init__(self):
        space = ConfigurationSpace()
        space.add(Float("x", (0.0, 1e6)))
        super().__init__(space, seed=0)
        self.count = 0
        self.calls: list[tuple] = []

    def suggest(self):
        self.count += 1
        return {"x": float(self.count - 1)}

    def on_pending(self, trial_id, config, resource):
        self.calls.append(("pending", trial_id, resource))

    def on_result(self, trial_id, config, resource, loss):
        self.calls.append(("result", trial_id, resource, loss))

    def on_failure(self, trial_id, config, resource):
        self.calls.append(("failure", trial_id, resource))
