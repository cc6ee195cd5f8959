"""Cheap multi-fidelity test functions implementing the :class:`Objective` protocol.

They let schedulers and searchers be tested (and the simulator backend be exercised) in
milliseconds. Each maps a configuration and a resource ``r`` in ``[min_resource, max_resource]`` to a
loss; with ``z = r / max_resource`` the *fidelity*:

* the loss at ``z = 1`` is the classic test function (known optimum, see each class);
* at ``z < 1`` it carries a bias that shrinks as ``z`` grows (an x-dependent distortion of the
  function, like the multi-fidelity Branin/Hartmann of Kandasamy et al. 2017, plus a shared
  learning-curve offset ``curve_scale * (1 - z)``), so low resources are informative but
  misleading - the regime where Hyperband-style methods help;
* optional Gaussian noise ``noise_std``: one draw per resource level from a generator seeded with
  ``seed``, so the same (seed, config) gives the same curve whether a trial is run in one go or
  continued;
* ``cost`` (the simulated seconds) is ``unit_time * unit_cost(config) * (r - previous_resource)``:
  it differs between configurations (so a simulator sees varied durations) and a continued
  evaluation pays only for the extra resource. ``curve`` holds the loss at every resource 1..r.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    Integer,
    OrdinalHyperparameter,
)

from hpo_kit.trial import Evaluation


class SyntheticObjective:
    """Common machinery; subclasses define ``space``, ``_loss`` and ``_unit_cost``."""

    #: best loss at ``max_resource`` (without noise) and one configuration attaining it
    optimum_loss: float
    optimum_config: dict[str, Any]

    def __init__(
        self,
        max_resource: int = 81,
        min_resource: int = 1,
        noise_std: float = 0.0,
        unit_time: float = 1.0,
        curve_scale: float = 1.0,
    ):
        if isinstance(max_resource, bool) or not isinstance(max_resource, numbers.Integral) or max_resource < 1:
            raise ValueError(f"max_resource must be an integer >= 1, got {max_resource!r}")
        if isinstance(min_resource, bool) or not isinstance(min_resource, numbers.Integral) \
                or not 1 <= min_resource <= max_resource:
            raise ValueError(
                f"min_resource must be an integer in [1, max_resource={max_resource}], got {min_resource!r}"
            )
        for name, value in (("noise_std", noise_std), ("curve_scale", curve_scale)):
            if isinstance(value, bool) or not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0 (finite), got {value!r}")
        if isinstance(unit_time, bool) or not (isinstance(unit_time, numbers.Real) and math.isfinite(unit_time)
                                               and unit_time > 0):
            raise ValueError(f"unit_time must be a number > 0 (finite), got {unit_time!r}")
        self.max_resource = int(max_resource)
        self.min_resource = int(min_resource)
        self.noise_std = float(noise_std)
        self.unit_time = float(unit_time)
        self.curve_scale = float(curve_scale)
        self.space = self._make_space()

    # subclasses ---------------------------------------------------------------------------
    def _make_space(self) -> ConfigurationSpace:
        raise NotImplementedError

    def _loss(self, config: dict[str, Any], z: np.ndarray) -> np.ndarray:
        """Noise-free loss at fidelities ``z`` (array in (0, 1]), without the curve offset."""
        raise NotImplementedError

    def _unit_cost(self, config: dict[str, Any]) -> float:
        """Relative cost of one unit of resource for ``config`` (about 0.5 .. 2)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The settings the run log's header records (everything that decides a loss or a cost)."""
        return {"name": type(self).__name__, "min_resource": self.min_resource, "max_resource": self.max_resource,
                "noise_std": self.noise_std, "unit_time": self.unit_time, "curve_scale": self.curve_scale}

    # protocol -----------------------------------------------------------------------------
    def curve(self, config: dict[str, Any], resource: int, seed: int = 0) -> np.ndarray:
        """Losses at resources ``1..resource`` (noise included when ``noise_std > 0``)."""
        z = np.arange(1, resource + 1) / self.max_resource
        losses = self._loss(config, z) + self.curve_scale * (1.0 - z)
        if self.noise_std > 0:
            noise = np.random.default_rng(int(seed)).standard_normal(self.max_resource)
            losses = losses + self.noise_std * noise[:resource]
        return losses

    def evaluate(
        self,
        config: dict[str, Any],
        resource: int,
        seed: int,
        *,
        trial_id: int | None = None,
        previous_resource: int = 0,
    ) -> Evaluation:
        if not isinstance(resource, (int, np.integer)) or not (
            self.min_resource <= resource <= self.max_resource
        ):
            raise ValueError(
                f"resource must be an integer in [{self.min_resource}, {self.max_resource}], "
                f"got {resource!r}"
            )
        if not 0 <= previous_resource < resource:
            raise ValueError(
                f"previous_resource must be in [0, resource={resource}), got {previous_resource!r}"
            )
        Configuration(self.space, values=dict(config))  # a clear error for an invalid config
        losses = self.curve(config, int(resource), seed)
        cost = self.unit_time * self._unit_cost(config) * (resource - previous_resource)
        return Evaluation(
            loss=float(losses[-1]),
            cost=float(cost),
            curve=tuple(float(v) for v in losses),
            info={"fidelity": resource / self.max_resource},
        )


class BraninMF(SyntheticObjective):
    """Multi-fidelity Branin on ``x1 in [-5, 10]``, ``x2 in [0, 15]``.

    ``f_z(x) = (x2 - b(z) x1^2 + c(z) x1 - 6)^2 + 10 (1 - t(z)) cos(x1) + 10`` with
    ``b(z) = 5.1/(4 pi^2) - 0.01 (1 - z)``, ``c(z) = 5/pi - 0.1 (1 - z)``,
    ``t(z) = 1/(8 pi) + 0.05 (1 - z)`` (Kandasamy et al. 2017), plus ``curve_scale (1 - z)``.
    Optimum at ``z = 1``: 0.397887 at ``(-pi, 12.275)``, ``(pi, 2.275)`` and ``(9.42478, 2.475)``.
    Cost per unit: ``0.5 + 1.5 (x1 + 5) / 15`` (larger ``x1``, slower).
    """

    optimum_loss = 0.397887357729738
    optimum_config = {"x1": math.pi, "x2": 2.275}

    def _make_space(self) -> ConfigurationSpace:
        space = ConfigurationSpace(name="branin_mf")
        space.add([Float("x1", (-5.0, 10.0), default=2.5), Float("x2", (0.0, 15.0), default=7.5)])
        return space

    def _loss(self, config: dict[str, Any], z: np.ndarray) -> np.ndarray:
        x1, x2 = float(config["x1"]), float(config["x2"])
        b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
        c = 5 / math.pi - 0.1 * (1 - z)
        t = 1 / (8 * math.pi) + 0.05 * (1 - z)
        return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10

    def _unit_cost(self, config: dict[str, Any]) -> float:
        return 0.5 + 1.5 * (float(config["x1"]) + 5.0) / 15.0


class Hartmann6MF(SyntheticObjective):
    """Multi-fidelity Hartmann-6 on ``[0, 1]^6``.

    ``f_z(x) = -sum_i a_i(z) exp(-sum_j A_ij (x_j - P_ij)^2)`` with the standard ``A``, ``P`` and
    ``a = (1, 1.2, 3, 3.2)``, and ``a(z) = a - 0.1 (1 - z) (1, -1, 1, -1)`` (a fidelity bias in the
    spirit of Kandasamy et al. 2017), plus ``curve_scale (1 - z)``.
    Optimum at ``z = 1``: -3.32237 at
    ``(0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)``.
    Cost per unit: ``0.5 + 1.5 * mean(x1, x2)``.
    """

    optimum_loss = -3.32236801141551
    optimum_config = {"x1": 0.20169, "x2": 0.150011, "x3": 0.476874, "x4": 0.275332,
                      "x5": 0.311652, "x6": 0.6573}
    A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
    P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
    ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
    BIAS = np.array([1.0, -1.0, 1.0, -1.0])

    def _make_space(self) -> ConfigurationSpace:
        space = ConfigurationSpace(name="hartmann6_mf")
        space.add([Float(f"x{j}", (0.0, 1.0), default=0.5) for j in range(1, 7)])
        return space

    def _loss(self, config: dict[str, Any], z: np.ndarray) -> np.ndarray:
        x = np.array([float(config[f"x{j}"]) for j in range(1, 7)])
        bumps = np.exp(-(self.A * (x - self.P) ** 2).sum(axis=1))  # (4,)
        alpha = self.ALPHA[None, :] - 0.1 * (1 - z)[:, None] * self.BIAS[None, :]
        return -(alpha * bumps[None, :]).sum(axis=1)

    def _unit_cost(self, config: dict[str, Any]) -> float:
        return 0.5 + 1.5 * 0.5 * (float(config["x1"]) + float(config["x2"]))


class MixedSpaceMF(SyntheticObjective):
    """A training-like function over a mixed, conditional space (exercises the encoder).

    Hyperparameters: ``optimizer`` in {adam, sgd, rmsprop}; ``lr`` log-uniform in [1e-5, 1];
    ``momentum`` in [0, 0.99], active only when ``optimizer == "sgd"``; ``n_layers`` integer in
    [1, 5]; ``width`` ordinal in (16, 32, 64, 128, 256).

    Final loss (``z = 1``): ``0.05 + opt_penalty + 0.1 (log10 lr - log10 lr*)^2
    + 0.02 (n_layers - 3)^2 + 0.03 (log2 width - 7)^2`` with ``lr* = 1e-3`` for adam and rmsprop,
    ``1e-1`` for sgd; ``opt_penalty`` 0 for adam, 0.02 for rmsprop, ``0.01 + 0.5 (momentum - 0.9)^2``
    for sgd. At fidelity ``z`` the loss decays towards it like a learning curve:
    ``final + (1 - final) (exp(-z speed) - exp(-speed))`` (exactly ``final`` at ``z = 1``) with
    ``speed = 8 / (1 + 0.5 |log10 lr - log10 lr*|)`` (badly tuned learning rates converge
    slowly), plus ``curve_scale (1 - z)``.
    Optimum: 0.05 at ``{optimizer: adam, lr: 1e-3, n_layers: 3, width: 128}``.
    Cost per unit: ``0.5 + 1.5 * (n_layers * width) / (5 * 256)``.
    """

    optimum_loss = 0.05
    optimum_config = {"optimizer": "adam", "lr": 1e-3, "n_layers": 3, "width": 128}
    BEST_LR = {"adam": 1e-3, "rmsprop": 1e-3, "sgd": 1e-1}

    def _make_space(self) -> ConfigurationSpace:
        space = ConfigurationSpace(name="mixed_mf")
        optimizer = Categorical("optimizer", ["adam", "sgd", "rmsprop"], default="adam")
        momentum = Float("momentum", (0.0, 0.99), default=0.9)
        space.add([
            optimizer, momentum,
            Float("lr", (1e-5, 1.0), default=1e-2, log=True),
            Integer("n_layers", (1, 5), default=2),
            OrdinalHyperparameter("width", [16, 32, 64, 128, 256], default_value=64),
        ])
        space.add(EqualsCondition(momentum, optimizer, "sgd"))
        return space

    def _final_and_speed(self, config: dict[str, Any]) -> tuple[float, float]:
        opt = config["optimizer"]
        lr_gap = abs(math.log10(float(config["lr"])) - math.log10(self.BEST_LR[opt]))
        penalty = {"adam": 0.0, "rmsprop": 0.02}.get(opt)
        if penalty is None:
            penalty = 0.01 + 0.5 * (float(config["momentum"]) - 0.9) ** 2
        final = (0.05 + penalty + 0.1 * lr_gap**2 + 0.02 * (int(config["n_layers"]) - 3) ** 2
                 + 0.03 * (math.log2(int(config["width"])) - 7) ** 2)
        return final, 8.0 / (1.0 + 0.5 * lr_gap)

    def _loss(self, config: dict[str, Any], z: np.ndarray) -> np.ndarray:
        final, speed = self._final_and_speed(config)
        return final + (1.0 - final) * np.exp(-z * speed) - (1.0 - final) * math.exp(-speed)

    def _unit_cost(self, config: dict[str, Any]) -> float:
        return 0.5 + 1.5 * int(config["n_layers"]) * int(config["width"]) / (5 * 256)


FAULT_KINDS = ("raise", "nan", "inf", "type", "hang", "exit")
#: how each injected fault must appear in the run log (the start of the failure's ``reason``)
FAULT_REASONS = {
    "raise": "RuntimeError: injected fault", "nan": "loss is nan", "inf": "loss is inf",
    "type": "objective returned dict", "hang": "time-out", "exit": "worker process died",
}


class FaultInjector:
    """Wrap an objective and make every ``period``-th trial misbehave, for fault-injection tests.

    Trial ``t`` with ``t % period == 0`` fails in the way ``kinds[(t // period) % len(kinds)]``:
    ``raise`` an exception, return a NaN or an infinite loss, return the wrong type (a dict),
    ``hang`` (sleep ``hang_seconds``, then report ``hang_cost`` seconds: past a backend's
    time-out, on a wall clock or a virtual one) or ``exit`` (``os._exit``: the worker process
    dies; only for backends that run evaluations in other processes). Every other trial is the
    wrapped objective's answer, after sleeping ``delay`` seconds (so that a run can be killed
    part-way). Deterministic: which trial fails how depends only on its id.
    """

    def __init__(self, inner: Any, period: int = 5, kinds: tuple[str, ...] = FAULT_KINDS,
                 hang_seconds: float = 60.0, hang_cost: float = 1e6, delay: float = 0.0):
        unknown = sorted(set(kinds) - set(FAULT_KINDS))
        if unknown or not kinds:
            raise ValueError(f"kinds must be a non-empty subset of {FAULT_KINDS}, got {kinds!r}")
        if isinstance(period, bool) or not isinstance(period, numbers.Integral) or period < 1:
            raise ValueError(f"period must be an integer >= 1, got {period!r}")
        self.inner = inner
        self.period = int(period)
        self.kinds = tuple(kinds)
        self.hang_seconds = float(hang_seconds)
        self.hang_cost = float(hang_cost)
        self.delay = float(delay)
        self.space = inner.space
        self.min_resource, self.max_resource = inner.min_resource, inner.max_resource

    #: ``delay`` only slows good evaluations down (so that a run can be killed part-way): it changes
    #: no outcome, and a run killed with one delay may be resumed with another
    unrecorded_settings = ("delay",)

    def describe(self) -> dict[str, Any]:
        # hang_seconds decides whether a hang outlasts a wall-clock time-out (a failure) or not (a
        # result); hang_cost is what a hang costs on the simulator's clock: both change outcomes
        inner = self.inner.describe() if hasattr(self.inner, "describe") else type(self.inner).__name__
        return {"name": "FaultInjector", "inner": inner, "period": self.period, "kinds": list(self.kinds),
                "hang_seconds": self.hang_seconds, "hang_cost": self.hang_cost}

    @property
    def has_costs(self) -> bool:
        return getattr(self.inner, "has_costs", True)

    def fault_of(self, trial_id: int | None) -> str | None:
        """The fault trial ``trial_id`` injects, or None for a good evaluation."""
        if trial_id is None or trial_id % self.period != 0:
            return None
        return self.kinds[(trial_id // self.period) % len(self.kinds)]

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Any:
        import os
        import time

        fault = self.fault_of(trial_id)
        if fault == "exit":
            os._exit(3)
        if fault == "raise":
            raise RuntimeError("injected fault")
        if fault == "type":
            return {"loss": 0.5}
        evaluation = self.inner.evaluate(config, resource, seed, trial_id=trial_id,
                                         previous_resource=previous_resource)
        if fault in ("nan", "inf"):
            return Evaluation(loss=math.nan if fault == "nan" else math.inf, cost=evaluation.cost)
        if fault == "hang":
            time.sleep(self.hang_seconds)
            return Evaluation(loss=evaluation.loss, cost=self.hang_cost)
        if self.delay:
            time.sleep(self.delay)
        return evaluation
