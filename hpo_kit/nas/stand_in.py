"""A cheap stand-in for notebook 03's objective, with a truth chosen in advance (end-to-end null checks).

:class:`StandInObjective` is a :class:`~hpo_kit.nas.objective.JointSpaceObjective` whose ``evaluate``
computes a synthetic loss instead of training a ShakeResNet, so the notebook's own experiment code
(:func:`hpo_kit.nas.experiments.run_search`, ``separate_search``, ``random_sample_at_budgets``) runs on it
unchanged, in milliseconds per evaluation. Each configuration gets, from a hash of its values (and of
``replicate``), its own standard-normal draws: that makes the objective a fixed function of the
configuration (evaluating it twice gives the same answer) whose values over random configurations are
independent draws with exactly the distribution set below. At the rung budgets ``b_0 < ... < b_k``
(Hyperband's, from ``min_resource``, ``max_resource``, ``eta``):

    validation error at b_i = 0.5 + 0.05 * (sum_j weights[j] * u_j + noise_sd[i] * z_i)

where ``u_j`` is hyperparameter ``j``'s position in its range (on the log scale where the space has
one) and ``z`` is normal with correlation ``budget_corr`` between budgets; the curve is constant
between rungs (an epoch before ``b_0`` takes ``b_0``'s value). The test error is
``0.5 + 0.05 * (test_weight * sum_j weights[j] * u_j + t)`` with ``t`` a draw of its own: with
``test_weight = 0`` it does not depend on the configuration at all, so no search can find a
configuration with a better test error than another search does.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_kit.nas.joint_space import HYPERPARAMETER_NAMES, joint_space
from hpo_kit.nas.objective import JointSpaceObjective
from hpo_kit.schedulers.hyperband import hyperband_brackets
from hpo_kit.trial import Evaluation


def pearson_for_spearman(rho: float) -> float:
    """Pearson correlation of a bivariate normal whose Spearman correlation is ``rho``: 2 sin(pi rho / 6)."""
    if not -1 <= rho <= 1:
        raise ValueError(f"rho must be in [-1, 1], got {rho!r}")
    return 2 * math.sin(math.pi * rho / 6)


def decaying_corr(k: int, far_spearman: float) -> np.ndarray:
    """k x k correlation that decays with distance (AR(1)) so that budgets 0 and k-1 have ``far_spearman``."""
    r = pearson_for_spearman(far_spearman)
    if r <= 0:
        raise ValueError(f"far_spearman must be > 0 for a decaying correlation, got {far_spearman!r}")
    step = r ** (1 / (k - 1))
    idx = np.arange(k)
    return step ** np.abs(idx[:, None] - idx[None, :])


def equal_corr(k: int, spearman: float) -> np.ndarray:
    """k x k correlation with the same Spearman ``spearman`` between every pair of budgets."""
    r = pearson_for_spearman(spearman)
    return np.full((k, k), r) + (1 - r) * np.eye(k)


@dataclass
class StandInObjective(JointSpaceObjective):
    """Synthetic losses over the joint space (see the module docstring); ``replicate`` seeds the function."""

    budget_corr: Any = None  # k x k correlation of the noise between the rung budgets; None = independent
    noise_sd: tuple[float, ...] = ()  # per rung budget; () = 1 at every budget
    weights: dict[str, float] = field(default_factory=dict)  # loss per unit of a hyperparameter's range
    test_weight: float = 0.0  # how much of the signal the test error shares (0: independent of the config)
    eta: int = 3  # rung budgets are Hyperband's for (min_resource, max_resource, eta)
    replicate: int = 0  # seeds the pseudo-random function

    def __post_init__(self) -> None:
        super().__post_init__()
        self._budgets = [int(b) for b in hyperband_brackets(int(self.min_resource), int(self.max_resource),
                                                              int(self.eta))[0].r]
        k = len(self._budgets)
        corr = np.eye(k) if self.budget_corr is None else np.asarray(self.budget_corr, dtype=float)
        if corr.shape != (k, k):
            raise ValueError(f"budget_corr must be {k} x {k} (rung budgets {self._budgets}), got shape {corr.shape}")
        self._chol = np.linalg.cholesky(corr)
        sd = tuple(self.noise_sd) or (1.0,) * k
        if len(sd) != k or any(not s >= 0 for s in sd):
            raise ValueError(f"noise_sd must give {k} non-negative values (rung budgets {self._budgets}), got {sd!r}")
        self._sd = np.asarray(sd, dtype=float)
        unknown = sorted(set(self.weights) - set(HYPERPARAMETER_NAMES))
        if unknown:
            raise ValueError(f"weights has unknown hyperparameters {unknown}; allowed: {list(HYPERPARAMETER_NAMES)}")
        space = joint_space(self.scale)
        self._ranges = {n: (float(space[n].lower), float(space[n].upper), bool(space[n].log)) for n in self.weights}

    @property
    def budgets(self) -> list[int]:
        return list(self._budgets)

    def _draws(self, config: dict[str, Any]) -> np.ndarray:
        """The configuration's own standard-normal draws: k correlated ones, then the test error's."""
        text = repr((int(self.replicate), sorted((k, round(float(v), 12)) for k, v in config.items())))
        entropy = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "little")
        e = np.random.default_rng(entropy).standard_normal(len(self._budgets) + 1)
        return np.concatenate([self._chol @ e[:-1], e[-1:]])

    def signal(self, config: dict[str, Any]) -> float:
        total = 0.0
        for name, w in self.weights.items():
            lo, hi, log = self._ranges[name]
            x = float(config[name])
            total += w * ((math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo)) if log else (x - lo) / (hi - lo))
        return total

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        if not self.min_resource <= resource <= self.max_resource:
            raise ValueError(f"resource must be in [{self.min_resource}, {self.max_resource}], got {resource!r}")
        full = {**self.fixed_values, **dict(config)}
        draws = self._draws(full)
        signal = self.signal(full)
        at_rung = 0.5 + 0.05 * (signal + self._sd * draws[:-1])
        rung_of_epoch = np.searchsorted(self._budgets, np.arange(1, int(resource) + 1), side="right") - 1
        curve = [float(at_rung[max(i, 0)]) for i in rung_of_epoch]
        test_error = 0.5 + 0.05 * (self.test_weight * signal + float(draws[-1]))
        return Evaluation(loss=curve[-1], cost=float(resource - previous_resource), curve=tuple(curve),
                          info={"test_error": test_error, "val_curve": curve})


__all__ = ["StandInObjective", "decaying_corr", "equal_corr", "pearson_for_spearman"]
