"""Live objective for the joint architecture + hyperparameter space: trains a ShakeResNet per config.

It is :class:`hpo_kit.objectives.mnist_live.MnistObjective` with another network family: the same
per-process data cache, the same checkpoint files and the same rule for continuing a paused trial
(a trial brought from 1 to 3 epochs trains 2 epochs and ends exactly where an uninterrupted 3-epoch
run ends: the trainer is deterministic and its cosine schedule is a pure function of the epoch,
with the horizon fixed at ``max_resource``). What differs:

* a configuration of :func:`hpo_kit.nas.joint_space` becomes a ShakeResNet and SGD settings through
  :func:`hpo_kit.nas.config_to_model_and_settings` (``config_to_training`` is not used);
* ``dataset`` picks MNIST or CIFAR-10 (CIFAR-10 raises ``FileNotFoundError`` saying where to put its
  files, see :mod:`hpo_kit.data.cifar10`);
* ``downsample`` average-pools the images (laptop budgets: a quarter of the pixels costs about a
  quarter of the time). ``cutout_length`` stays in pixels of the original image, so it is divided
  by the same factor: the erased square keeps its share of the image;
* ``fixed_values`` are merged under every configuration, so a search can run on a sub-space
  (architecture only, training only) of the 17 hyperparameters;
* ``info["val_curve"]`` holds the validation error after every epoch: one evaluation at the
  largest budget gives the loss at every smaller budget as well (what a scheduler pausing the
  trial there would have seen).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from ConfigSpace import ConfigurationSpace

from hpo_kit.data.splits import Splits
from hpo_kit.nas.joint_space import (
    HYPERPARAMETER_NAMES, SCALES, JointSpaceScale, check_config, config_to_model_and_settings,
    config_to_train_settings, joint_space,
)
from hpo_kit.objectives.mnist_live import MnistObjective, _plain, default_config_to_training
from hpo_kit.train.trainer import TrainSettings

DATASETS = ("mnist", "cifar10")

# Per-process cache of downsampled splits: (data key, factor) -> Splits.
_DOWNSAMPLED: dict[tuple[Any, ...], Splits] = {}


def cifar10_splits_default_dir(n_train: int, n_val: int, n_test: int, seed: int) -> Splits:
    """:func:`hpo_kit.data.cifar10.cifar10_splits` from the default folder (a picklable splits factory)."""
    from hpo_kit.data.cifar10 import cifar10_splits

    return cifar10_splits(n_train, n_val, n_test, seed)


def mnist_splits_default_dir(n_train: int, n_val: int, n_test: int, seed: int) -> Splits:
    """:func:`hpo_kit.data.mnist_splits` with its defaults (a picklable splits factory)."""
    from hpo_kit.data import mnist_splits

    return mnist_splits(n_train, n_val, n_test, seed)


SPLITS_FACTORIES = {"mnist": mnist_splits_default_dir, "cifar10": cifar10_splits_default_dir}


def downsample_splits(splits: Splits, factor: int) -> Splits:
    """Average-pool every image by ``factor`` (1 returns ``splits`` itself); the source says so."""
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"downsample must be an integer >= 1, got {factor!r}")
    if factor == 1:
        return splits
    h, w = splits.input_shape[1:]
    if h // factor < 4 or w // factor < 4:
        raise ValueError(f"downsample={factor} would shrink {h}x{w} images below 4x4 pixels")

    def pool(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, factor) if x.shape[0] else x.new_zeros((0, x.shape[1], h // factor, w // factor))

    return dataclasses.replace(
        splits, train_x=pool(splits.train_x), val_x=pool(splits.val_x), test_x=pool(splits.test_x),
        source=f"{splits.source}; images average-pooled {factor}x{factor} to {h // factor}x{w // factor}")


@dataclass
class JointSpaceObjective(MnistObjective):
    """Train the ShakeResNet of a joint-space configuration for ``resource`` epochs; loss = validation error.

    Fields inherited from :class:`MnistObjective`: ``space`` (default: ``joint_space(scale)``),
    ``n_train``, ``n_val``, ``n_test``, ``data_seed``, ``min_resource``, ``max_resource`` (also the
    cosine schedule's horizon), ``checkpoint_dir``, ``splits_factory`` (default: the loader of
    ``dataset``). ``config_to_training`` must be left alone (see the module docstring).
    """

    space: ConfigurationSpace | None = None  # configurations searched; None = joint_space(scale)
    scale: str | JointSpaceScale = "workshop"  # size of the networks: a name in hpo_kit.nas.SCALES or a JointSpaceScale
    dataset: str = "mnist"  # "mnist" or "cifar10" (used when splits_factory is None)
    downsample: int = 1  # average-pool images by this factor (1 = full resolution); cutout shrinks with it
    fixed_values: dict[str, Any] = field(default_factory=dict)  # hyperparameters held fixed, merged under each config
    device: str = "cpu"  # torch device to train on ("cuda" for the paper's budgets)

    def __post_init__(self) -> None:
        if not (isinstance(self.scale, JointSpaceScale) or self.scale in SCALES):
            raise ValueError(f"scale must be one of {sorted(SCALES)} or a JointSpaceScale, got {self.scale!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {list(DATASETS)}, got {self.dataset!r}")
        if isinstance(self.downsample, bool) or not isinstance(self.downsample, (int, np.integer)) \
                or self.downsample < 1:
            raise ValueError(f"downsample must be an integer >= 1, got {self.downsample!r}")
        if self.config_to_training is not default_config_to_training:
            raise ValueError("JointSpaceObjective maps configurations with hpo_kit.nas.config_to_model_and_settings; "
                             "do not pass config_to_training")
        if not isinstance(self.fixed_values, dict):
            raise TypeError(f"fixed_values must be a dict of hyperparameter -> value, got {type(self.fixed_values).__name__}")
        unknown = sorted(set(self.fixed_values) - set(HYPERPARAMETER_NAMES))
        if unknown:
            raise ValueError(f"fixed_values has unknown hyperparameters {unknown}; allowed: {list(HYPERPARAMETER_NAMES)}")
        self.fixed_values = _plain(dict(self.fixed_values))
        if self.space is None:
            self.space = joint_space(self.scale)
        if self.splits_factory is None:
            self.splits_factory = SPLITS_FACTORIES[self.dataset]
        TrainSettings(device=self.device)  # a clear error for a bad device name, before any training
        super().__post_init__()
        searched = {hp.name for hp in self.space.values()}
        overlap = sorted(searched & set(self.fixed_values))
        if overlap:
            raise ValueError(f"hyperparameters {overlap} are both searched (in space) and in fixed_values")
        missing = sorted(set(HYPERPARAMETER_NAMES) - searched - set(self.fixed_values))
        if missing:
            raise ValueError(f"hyperparameters {missing} are neither in space nor in fixed_values; "
                             "every configuration needs all 17")

    # -- data ------------------------------------------------------------------------------------
    def splits(self) -> Splits:
        """The data (loaded once per process by the parent class), downsampled once per process."""
        key = (self._cache_key(), int(self.downsample))
        if key not in _DOWNSAMPLED:
            _DOWNSAMPLED[key] = downsample_splits(super().splits(), int(self.downsample))
        return _DOWNSAMPLED[key]

    # -- configurations --------------------------------------------------------------------------
    def full_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` with ``fixed_values`` filled in and checked against the space of ``scale``."""
        overlap = sorted(set(config) & set(self.fixed_values))
        if overlap:
            raise ValueError(f"config sets {overlap}, which fixed_values holds fixed")
        return check_config({**self.fixed_values, **_plain(dict(config))}, self.scale)

    def cutout_for(self, cutout_length: int) -> int:
        """Cutout side in pixels of the (downsampled) training images."""
        return int(round(cutout_length / int(self.downsample)))

    def training_for(self, config: dict[str, Any]) -> tuple[dict[str, Any], TrainSettings]:
        """(the full configuration, its TrainSettings with horizon ``max_resource`` and scaled cutout)."""
        full = self.full_config(config)
        settings = config_to_train_settings(full, int(self.max_resource), self.scale, device=self.device)
        return full, dataclasses.replace(settings, cutout_length=self.cutout_for(full["cutout_length"]))

    def build(self, config: dict[str, Any], splits: Splits, seed: int) -> tuple[torch.nn.Module, TrainSettings]:
        """The network (weights drawn from ``seed``) and settings of ``config`` for ``splits``."""
        full, settings = self.training_for(config)
        with torch.random.fork_rng(devices=[]):  # weight init draws from the global RNG: seed it, then restore
            torch.manual_seed(int(seed))
            model, _ = config_to_model_and_settings(full, splits.input_shape, splits.n_classes, int(self.max_resource),
                                                    scale=self.scale, settings_overrides={"device": self.device})
        return model, settings

    def describe_model(self, model: torch.nn.Module) -> dict[str, Any]:
        """``depth``: weighted layers on the network's longest path."""
        return {"depth": model.depth()}


def loss_at_budgets(val_curve: list[float], budgets: list[int]) -> dict[int, float]:
    """Validation error at each budget (epochs) read off a curve; NaN beyond its end."""
    return {int(b): (float(val_curve[b - 1]) if 1 <= b <= len(val_curve) else math.nan) for b in budgets}


__all__ = ["DATASETS", "SPLITS_FACTORIES", "JointSpaceObjective", "downsample_splits", "loss_at_budgets"]
