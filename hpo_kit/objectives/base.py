"""What an objective is: something that evaluates a configuration at a resource."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ConfigSpace import ConfigurationSpace

from hpo_kit.trial import Evaluation


@runtime_checkable
class Objective(Protocol):
    """A multi-fidelity objective.

    ``space`` is the search space; resources are integers in ``[min_resource, max_resource]``
    (epochs for the MNIST objectives). ``evaluate`` must be picklable-callable in a worker process.
    ``trial_id`` and ``previous_resource`` let an objective continue a trial instead of starting
    again (live training reloads its checkpoint; a table charges only the extra epochs).
    """

    space: ConfigurationSpace
    min_resource: int
    max_resource: int

    def evaluate(
        self,
        config: dict[str, Any],
        resource: int,
        seed: int,
        *,
        trial_id: int | None = None,
        previous_resource: int = 0,
    ) -> Evaluation: ...
