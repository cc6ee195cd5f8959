"""The live MNIST objective: really trains a network for each configuration, resource = epochs.

The objective object stays small and cheap to pickle (backends ship it to worker processes): the
data is loaded lazily inside each process on first use and cached there. A trial paused by a
multi-fidelity scheduler is continued from its checkpoint, so bringing it from 1 to 3 epochs costs
2 epochs and gives exactly the curve of an uninterrupted 3-epoch run (the trainer is deterministic
and its schedule is stateless; see :mod:`hpo_kit.train.trainer`).
"""
from __future__ import annotations

import dataclasses
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace, Float, Integer
from torch import nn

from hpo_kit.data.splits import Splits
from hpo_kit.train.networks import build_network, count_parameters
from hpo_kit.train.trainer import TrainSettings, TrainState, train
from hpo_kit.trial import Evaluation

#: (config) -> (layer list for build_network, TrainSettings). max_epochs is set by the objective.
ConfigMapping = Callable[[dict[str, Any]], tuple[list[dict[str, Any]], TrainSettings]]
#: (n_train, n_val, n_test, seed) -> Splits, e.g. hpo_kit.data.mnist_splits.
SplitsFactory = Callable[[int, int, int, int], Splits]


def default_space(network: str = "mlp", seed: int | None = None) -> ConfigurationSpace:
    """A small search space for :func:`default_config_to_training`.

    ``"mlp"``: learning rate, hidden width, number of hidden layers, dropout, batch size.
    ``"cnn"``: the same plus ``filters`` (channels of the first conv block; ``depth`` then counts
    conv blocks, followed by one hidden fc layer of ``width`` units).
    """
    if network not in ("mlp", "cnn"):
        raise ValueError(f"network must be 'mlp' or 'cnn', got {network!r}")
    space = ConfigurationSpace(name=f"mnist_{network}", seed=seed)
    space.add([
        Float("lr", (1e-4, 1e-1), default=1e-3, log=True),
        Integer("width", (16, 512), default=128, log=True),
        Integer("depth", (1, 3), default=1),
        Float("dropout", (0.0, 0.5), default=0.0),
        Integer("batch_size", (16, 256), default=64, log=True),
    ])
    if network == "cnn":
        space.add(Integer("filters", (4, 64), default=16, log=True))
    return space


def default_config_to_training(config: dict[str, Any]) -> tuple[list[dict[str, Any]], TrainSettings]:
    """Map a configuration of :func:`default_space` to layers and Adam settings.

    MLP (no ``filters`` key): ``depth`` hidden fc layers of ``width`` ReLU units with dropout.
    CNN (``filters`` present): ``depth`` blocks of 3x3 "same" conv + ReLU + 2x2 max-pool, the
    filters doubling per block, then one fc layer of ``width`` units with dropout.
    """
    width, depth, dropout = int(config["width"]), int(config["depth"]), float(config["dropout"])
    if "filters" in config:
        layers: list[dict[str, Any]] = []
        for block in range(depth):
            layers.append({"type": "conv", "filters": int(config["filters"]) * 2**block, "kernel": 3,
                           "padding": "same", "activation": "relu"})
            layers.append({"type": "pool", "kernel": 2})
        layers.append({"type": "fc", "units": width, "activation": "relu", "dropout": dropout})
    else:
        layers = [{"type": "fc", "units": width, "activation": "relu", "dropout": dropout} for _ in range(depth)]
    settings = TrainSettings(optimizer="adam", lr=float(config["lr"]), batch_size=int(config["batch_size"]))
    return layers, settings


# Per-process cache of loaded data: key -> Splits. Filled lazily in whichever process evaluates.
_SPLITS_CACHE: dict[tuple[Any, ...], Splits] = {}


def clear_splits_cache() -> None:
    """Forget data loaded by MnistObjective in this process."""
    _SPLITS_CACHE.clear()


_warmed_up = False


def _warm_up_once() -> None:
    """One-off per-process start-up work, done before the clock of the first evaluation starts.

    torch.optim imports ``torch._dynamo`` on first use (about 2 s); charging that to whichever
    trial happens to run first in a worker would distort its cost.
    """
    global _warmed_up
    if not _warmed_up:
        import torch._dynamo  # noqa: F401

        _warmed_up = True


def _plain(value: Any) -> Any:
    """Python builtins instead of numpy scalars (ConfigSpace may give them), so checkpoints load safely."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass
class MnistObjective:
    """Train a network on MNIST (or injected splits) for ``resource`` epochs; loss = validation error."""

    space: ConfigurationSpace = field(default_factory=default_space)  # search space of configurations
    config_to_training: ConfigMapping = default_config_to_training  # config -> (layers, TrainSettings)
    n_train: int = 10_000  # training images
    n_val: int = 2_000  # validation images (the loss is the error on them)
    n_test: int = 2_000  # test images (reported in info["test_error"])
    data_seed: int = 0  # seed of the train/val/test split (fixed across trials)
    min_resource: int = 1  # smallest number of epochs a scheduler may ask for
    max_resource: int = 10  # largest number of epochs; also the learning-rate schedule horizon
    checkpoint_dir: str | Path | None = None  # where trial_<id>.pt checkpoints go; None = never continue
    splits_factory: SplitsFactory | None = None  # (n_train, n_val, n_test, seed) -> Splits; None = mnist_splits

    def __post_init__(self) -> None:
        if not isinstance(self.space, ConfigurationSpace):
            raise TypeError(f"space must be a ConfigSpace ConfigurationSpace, got {type(self.space).__name__}")
        if not callable(self.config_to_training):
            raise TypeError("config_to_training must be a function config -> (layers, TrainSettings)")
        for name in ("n_train", "n_val", "n_test", "min_resource", "max_resource"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.data_seed, bool) or not isinstance(self.data_seed, (int, np.integer)) or self.data_seed < 0:
            raise ValueError(f"data_seed must be an integer >= 0, got {self.data_seed!r}")
        if self.min_resource > self.max_resource:
            raise ValueError(f"min_resource ({self.min_resource}) must be <= max_resource ({self.max_resource})")
        if self.splits_factory is not None and not callable(self.splits_factory):
            raise TypeError("splits_factory must be None or a function (n_train, n_val, n_test, seed) -> Splits")
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = Path(self.checkpoint_dir)

    # -- data ------------------------------------------------------------------------------------
    def _cache_key(self) -> tuple[Any, ...]:
        if self.splits_factory is None:
            factory_key: Any = "mnist_splits"
        else:
            try:  # functions pickle by name, so the key is the same in every process
                factory_key = pickle.dumps(self.splits_factory)
            except Exception:  # a lambda or closure: cache within this process only
                factory_key = ("id", id(self.splits_factory))
        return (factory_key, int(self.n_train), int(self.n_val), int(self.n_test), int(self.data_seed))

    def splits(self) -> Splits:
        """The data of this objective, loaded once per process."""
        key = self._cache_key()
        if key not in _SPLITS_CACHE:
            if self.splits_factory is None:
                from hpo_kit.data import mnist_splits

                factory: SplitsFactory = mnist_splits
            else:
                factory = self.splits_factory
            _SPLITS_CACHE[key] = factory(int(self.n_train), int(self.n_val), int(self.n_test), int(self.data_seed))
        return _SPLITS_CACHE[key]

    def checkpoint_path(self, trial_id: int) -> Path:
        if self.checkpoint_dir is None:
            raise ValueError("checkpoint_dir is None, so this objective keeps no checkpoints")
        return Path(self.checkpoint_dir) / f"trial_{trial_id}.pt"

    def remove_checkpoint(self, trial_id: int) -> None:
        """Delete a trial's checkpoint (e.g. once a scheduler stopped the trial for good)."""
        if self.checkpoint_dir is not None:
            self.checkpoint_path(trial_id).unlink(missing_ok=True)

    # -- evaluation ------------------------------------------------------------------------------
    def training_for(self, config: dict[str, Any]) -> tuple[list[dict[str, Any]], TrainSettings]:
        """Layers and settings for ``config``, with the schedule horizon set to ``max_resource``."""
        layers, settings = self.config_to_training(dict(config))
        if not isinstance(settings, TrainSettings):
            raise TypeError(f"config_to_training must return (layers, TrainSettings), got {type(settings).__name__}")
        return layers, dataclasses.replace(settings, max_epochs=int(self.max_resource))

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        """Train ``config`` to ``resource`` epochs and report the validation error.

        With ``trial_id`` the state is saved to ``checkpoint_dir/trial_<id>.pt``; with
        ``previous_resource > 0`` too, training continues from that checkpoint (if it exists and
        belongs to the same config and seed, else it starts over, which gives the same result at a
        higher cost). ``cost`` is the seconds of this call, excluding the one-off data loading of a
        fresh process.
        """
        if isinstance(resource, bool) or not isinstance(resource, (int, np.integer)) \
                or not self.min_resource <= resource <= self.max_resource:
            raise ValueError(f"resource must be an integer in [{self.min_resource}, {self.max_resource}], "
                             f"got {resource!r}")
        if isinstance(previous_resource, bool) or not isinstance(previous_resource, (int, np.integer)) \
                or not 0 <= previous_resource <= resource:
            raise ValueError(f"previous_resource must be an integer in [0, resource={resource}], "
                             f"got {previous_resource!r}")
        splits = self.splits()  # loading data is per-process set-up, not part of the cost
        _warm_up_once()
        started = time.perf_counter()
        config = _plain(dict(config))
        model, settings = self.build(config, splits, int(seed))

        state = None
        use_checkpoints = trial_id is not None and self.checkpoint_dir is not None
        if use_checkpoints and previous_resource > 0:
            state = self._load_matching_state(trial_id, config, settings, int(seed), resource)
        continued_from = state.epochs_done if state is not None else 0

        result = train(model, splits, settings, epochs=int(resource), seed=int(seed), state=state)
        if use_checkpoints:
            result.state.meta = {"config": config, "trial_id": int(trial_id)}
            result.state.save(self.checkpoint_path(trial_id))
        cost = time.perf_counter() - started
        curve = [float(e) for e in result.val_errors[:resource]]
        return Evaluation(
            loss=curve[-1],
            cost=cost,
            curve=tuple(curve),
            # val_curve repeats the curve in info because the run log keeps info, not curves
            # epoch_errors: this job's epochs only (previous_resource + 1 .. resource), as the tabular
            # objective reports them (the per-epoch convention of hpo_kit.analysis.curves)
            info={"test_error": result.test_error, "val_curve": curve,
                  "epoch_errors": curve[int(previous_resource):], "continued_from": continued_from,
                  "epochs_trained": result.epochs_done - continued_from, "train_time_s": result.train_time_s,
                  "n_parameters": count_parameters(model), "data": splits.source, **self.describe_model(model)},
        )

    def build(self, config: dict[str, Any], splits: Splits, seed: int) -> tuple[nn.Module, TrainSettings]:
        """The network of ``config`` (initial weights drawn from ``seed``) and its training settings.

        Subclasses with other model families (e.g. :class:`hpo_kit.nas.objective.JointSpaceObjective`)
        override this and inherit evaluation, checkpoints and continuation unchanged.
        """
        layers, settings = self.training_for(config)
        return build_network(layers, input_shape=splits.input_shape, n_classes=splits.n_classes, seed=seed), settings

    def describe_model(self, model: nn.Module) -> dict[str, Any]:
        """Extra facts about a trained model for ``Evaluation.info`` (subclasses add their own)."""
        return {}

    def _load_matching_state(self, trial_id: int, config: dict[str, Any], settings: TrainSettings, seed: int,
                             resource: int) -> TrainState | None:
        """The trial's checkpoint if it exists and was made by the same config, settings and seed."""
        path = self.checkpoint_path(trial_id)
        if not path.exists():
            return None
        state = TrainState.load(path)
        same_run = (state.seed == seed and state.meta.get("config") == config
                    and TrainSettings.from_dict(state.settings) == settings)
        if not same_run or state.epochs_done > resource:
            return None
        return state
