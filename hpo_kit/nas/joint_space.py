"""The 17-dimensional joint architecture + hyperparameter space of Zela et al. (2018).

Ten architecture hyperparameters (blocks, widths and branches of a 3-stage shake-shake ResNet)
and seven training hyperparameters, with the ranges of the authors' code:

==================  ==================  =====  ===================================================
name                range               scale  meaning
==================  ==================  =====  ===================================================
n_blocks_1..3       integer 1 .. 16     log    residual blocks in stage 1, 2, 3
initial_filters     integer 8 .. 32     log    channels of the stem convolution
widen_factor_1      0.5 .. 8            log    stage 1 width = initial_filters * widen_factor_1
widen_factor_2..3   0.5 .. 4            log    stage s width = stage s-1 width * widen_factor_s
n_branches_1..3     integer 1 .. 5      lin    parallel residual branches per block (shake-shake)
learning_rate       0.001 .. 1          log    initial SGD learning rate (cosine-annealed to 0)
batch_size          integer 32 .. 128   log    mini-batch size
weight_decay        1e-5 .. 1e-3        log    L2 penalty
momentum            0.001 .. 0.99       lin    Nesterov momentum
mixup_alpha         0 .. 1              lin    mixup Beta(alpha, alpha); 0 = off
cutout_length       integer 0 .. 20     lin    side of the cutout square; 0 = off
shakedrop_rate      0 .. 1              lin    ShakeDrop probability of the deepest block
==================  ==================  =====  ===================================================

Training is SGD with Nesterov momentum and a cosine learning-rate schedule over ``max_epochs``.
(The authors' code restarts the cosine at the minimum budget and doubles the period; the kit's
trainer anneals once over the schedule horizon.)

Scales (:class:`JointSpaceScale`): ``"paper"`` is the space above. Laptop scales shrink the
*upper bound* of blocks (and optionally branches) in the space, and thin the built networks with a
width multiplier and a channel cap, which are not part of the space: the sampled widen factors
keep the paper's ranges, so importances remain about the same hyperparameters.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from ConfigSpace import ConfigurationSpace, Float, Integer
from ConfigSpace.hyperparameters import IntegerHyperparameter

from hpo_kit.nas.resnet_shake import ShakeResNet, ShakeResNetSpec
from hpo_kit.train.trainer import TrainSettings

#: The 17 hyperparameters, architecture first, in the order of the table above.
HYPERPARAMETER_NAMES: tuple[str, ...] = (
    "n_blocks_1", "n_blocks_2", "n_blocks_3", "initial_filters",
    "widen_factor_1", "widen_factor_2", "widen_factor_3",
    "n_branches_1", "n_branches_2", "n_branches_3",
    "learning_rate", "batch_size", "weight_decay", "momentum",
    "mixup_alpha", "cutout_length", "shakedrop_rate",
)
ARCHITECTURE_NAMES: tuple[str, ...] = HYPERPARAMETER_NAMES[:10]
TRAINING_NAMES: tuple[str, ...] = HYPERPARAMETER_NAMES[10:]


@dataclass(frozen=True)
class JointSpaceScale:
    """How big the networks of the space may get. The defaults are the paper's."""

    max_blocks: int = 16  # upper bound of n_blocks_1..3 in the space (lower bound 1), >= 2
    max_branches: int = 5  # upper bound of n_branches_1..3 in the space (lower bound 1), >= 2
    width_multiplier: float = 1.0  # multiplies every stage width when building the network, > 0
    max_channels: int | None = None  # caps every stage width when building the network; None = no cap

    def __post_init__(self) -> None:
        for name in ("max_blocks", "max_branches"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"JointSpaceScale.{name} must be an integer >= 2, got {value!r}")
        w = self.width_multiplier
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w <= 0:
            raise ValueError(f"JointSpaceScale.width_multiplier must be a number > 0, got {w!r}")
        c = self.max_channels
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 2):
            raise ValueError(f"JointSpaceScale.max_channels must be None or an integer >= 2, got {c!r}")


#: Named scales: the paper's space, a laptop (workshop) scale for MNIST, and a seconds-long smoke scale.
SCALES: dict[str, JointSpaceScale] = {
    "paper": JointSpaceScale(),
    "workshop": JointSpaceScale(max_blocks=2, width_multiplier=0.25, max_channels=32),
    "smoke": JointSpaceScale(max_blocks=2, max_branches=2, width_multiplier=0.125, max_channels=8),
}


def resolve_scale(scale: str | JointSpaceScale) -> JointSpaceScale:
    """A :class:`JointSpaceScale` from a name in :data:`SCALES` or a scale object."""
    if isinstance(scale, JointSpaceScale):
        return scale
    if isinstance(scale, str) and scale in SCALES:
        return SCALES[scale]
    raise ValueError(f"scale must be one of {sorted(SCALES)} or a JointSpaceScale, got {scale!r}")


def joint_space(scale: str | JointSpaceScale = "paper", seed: int | None = None) -> ConfigurationSpace:
    """The 17-dimensional ConfigSpace (see the module docstring); ``seed`` seeds its sampler."""
    s = resolve_scale(scale)
    space = ConfigurationSpace(name="zela2018_joint_space", seed=seed)
    space.add(
        *(Integer(f"n_blocks_{i}", (1, s.max_blocks), log=True) for i in (1, 2, 3)),
        Integer("initial_filters", (8, 32), log=True),
        Float("widen_factor_1", (0.5, 8.0), log=True),
        Float("widen_factor_2", (0.5, 4.0), log=True),
        Float("widen_factor_3", (0.5, 4.0), log=True),
        *(Integer(f"n_branches_{i}", (1, s.max_branches)) for i in (1, 2, 3)),
        Float("learning_rate", (1e-3, 1.0), log=True),
        Integer("batch_size", (32, 128), log=True),
        Float("weight_decay", (1e-5, 1e-3), log=True),
        Float("momentum", (1e-3, 0.99)),
        Float("mixup_alpha", (0.0, 1.0)),
        Integer("cutout_length", (0, 20)),
        Float("shakedrop_rate", (0.0, 1.0)),
    )
    return space


def check_config(config: Mapping[str, Any], scale: str | JointSpaceScale = "paper") -> dict[str, Any]:
    """Validate ``config`` against the space of ``scale``; return it with plain int/float values.

    Raises ``ValueError`` naming missing or unknown hyperparameters and values outside their range.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping of hyperparameter names to values, got {type(config).__name__}")
    space = joint_space(scale)
    missing = [name for name in HYPERPARAMETER_NAMES if name not in config]
    unknown = sorted(set(config) - set(HYPERPARAMETER_NAMES))
    if missing or unknown:
        raise ValueError(f"config must have exactly the 17 hyperparameters of the joint space; "
                         f"missing {missing}, unknown {unknown}")
    clean: dict[str, Any] = {}
    for name in HYPERPARAMETER_NAMES:
        hp, value = space[name], config[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if isinstance(hp, IntegerHyperparameter):
            if float(value) != round(float(value)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            value = int(round(float(value)))
        else:
            value = float(value)
        if not hp.lower <= value <= hp.upper:
            raise ValueError(f"{name} must be in [{hp.lower}, {hp.upper}] at this scale, got {value!r}")
        clean[name] = value
    return clean


def config_to_spec(config: Mapping[str, Any], input_shape: tuple[int, ...], n_classes: int,
                   scale: str | JointSpaceScale = "paper", **spec_options: Any) -> ShakeResNetSpec:
    """The network described by a configuration, for images of ``input_shape`` (C x H x W).

    ``spec_options`` pass further :class:`ShakeResNetSpec` fields (e.g. ``shakedrop_where=
    "single_branch"`` to apply ShakeDrop only to single-branch blocks, as the authors' code does).
    """
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape)):
        raise ValueError(f"input_shape must be 3 positive integers (channels, height, width), got {input_shape!r}")
    s = resolve_scale(scale)
    c = check_config(config, s)
    return ShakeResNetSpec(
        blocks_per_stage=(c["n_blocks_1"], c["n_blocks_2"], c["n_blocks_3"]),
        initial_filters=c["initial_filters"],
        widen_factors=(c["widen_factor_1"], c["widen_factor_2"], c["widen_factor_3"]),
        branches_per_stage=(c["n_branches_1"], c["n_branches_2"], c["n_branches_3"]),
        shakedrop_rate=c["shakedrop_rate"],
        in_channels=int(input_shape[0]),
        n_classes=n_classes,
        width_multiplier=float(s.width_multiplier),
        max_channels=s.max_channels,
        **spec_options,
    )


def config_to_train_settings(config: Mapping[str, Any], max_epochs: int, scale: str | JointSpaceScale = "paper",
                             **overrides: Any) -> TrainSettings:
    """SGD + Nesterov + cosine schedule over ``max_epochs`` with the configuration's training values.

    ``overrides`` set other :class:`TrainSettings` fields (``eval_batch_size``, ``device``, ...);
    they may not override the seven searched hyperparameters or the optimiser.
    """
    c = check_config(config, scale)
    fixed = {"optimizer", "nesterov", "lr_schedule", "lr", "batch_size", "weight_decay", "momentum",
             "mixup_alpha", "cutout_length", "max_epochs"}
    clash = sorted(fixed & set(overrides))
    if clash:
        raise ValueError(f"overrides may not set {clash}: they come from the configuration or define the method")
    return TrainSettings(
        optimizer="sgd", nesterov=True, lr_schedule="cosine", max_epochs=max_epochs,
        lr=c["learning_rate"], batch_size=c["batch_size"], weight_decay=c["weight_decay"],
        momentum=c["momentum"], mixup_alpha=c["mixup_alpha"], cutout_length=c["cutout_length"],
        **overrides,
    )


def config_to_model_and_settings(config: Mapping[str, Any], input_shape: tuple[int, ...], n_classes: int,
                                 max_epochs: int, *, scale: str | JointSpaceScale = "paper",
                                 generator: torch.Generator | None = None,
                                 spec_options: Mapping[str, Any] | None = None,
                                 settings_overrides: Mapping[str, Any] | None = None
                                 ) -> tuple[ShakeResNet, TrainSettings]:
    """Build the network and the training settings of one configuration of the joint space.

    The settings are checked first, so a bad configuration fails before any weights are allocated.
    ``generator`` is the network's source of shake-shake/ShakeDrop randomness (None: the global
    torch RNG, which :func:`hpo_kit.train.trainer.train` seeds every epoch).
    """
    settings = config_to_train_settings(config, max_epochs, scale, **dict(settings_overrides or {}))
    spec = config_to_spec(config, input_shape, n_classes, scale, **dict(spec_options or {}))
    return ShakeResNet(spec, generator=generator), settings


def with_scale(scale: str | JointSpaceScale, **changes: Any) -> JointSpaceScale:
    """A copy of a (named) scale with some fields changed, e.g. ``with_scale("workshop", max_blocks=4)``."""
    return dataclasses.replace(resolve_scale(scale), **changes)
