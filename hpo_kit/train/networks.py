"""Networks described as lists of layer dicts: validated, shaped and built.

Architecture-search papers (and TRL-HPO in particular) treat a network as a sequence of layer
descriptions. Keeping that description as plain dicts makes it easy to store in results, to put in
a search space and to check *before* allocating weights, so an invalid proposal costs nothing.

Layer dicts (keys other than ``type`` are optional unless marked required):

``{"type": "conv", "filters": int (required), "kernel": int (required), "stride": 1,
   "padding": 0 | int | "same", "activation": "relu"}``
    2-D convolution followed by its activation. ``padding`` defaults to 0 ("valid"), so shapes
    shrink unless ``"same"`` is asked for; ``"same"`` keeps height and width and, as in torch,
    requires ``stride == 1``.
``{"type": "pool", "kernel": int (required), "stride": kernel, "padding": 0}``
    Max-pooling. torch requires ``padding <= kernel // 2``.
``{"type": "fc", "units": int (required), "bias": True, "activation": "relu", "dropout": 0.0}``
    Fully connected layer, its activation, then dropout with probability ``dropout`` (if > 0).
    A flatten is inserted automatically before the first fc layer.
``{"type": "dropout", "p": float (required)}``
    Dropout anywhere (element-wise on feature maps, on features after flattening).
``{"type": "batchnorm"}``
    BatchNorm2d on feature maps, BatchNorm1d after flattening.

A final ``Linear(..., n_classes)`` producing logits is always appended, so ``[]`` is logistic
regression and a list of fc layers is an MLP.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from hpo_kit.train.rng import GLOBAL_RNG_LOCK, TrialDropout

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "none": nn.Identity,
}

# Every key a layer type accepts, with its default (None = required). Unknown keys are an error so a
# typo such as "filter" for "filters" cannot silently fall back to a default.
LAYER_KEYS: dict[str, dict[str, Any]] = {
    "conv": {"filters": None, "kernel": None, "stride": 1, "padding": 0, "activation": "relu"},
    "pool": {"kernel": None, "stride": None, "padding": 0},  # stride None -> equal to kernel
    "fc": {"units": None, "bias": True, "activation": "relu", "dropout": 0.0},
    "dropout": {"p": None},
    "batchnorm": {},
}


class InvalidNetwork(ValueError):
    """A layer list that cannot be built (the message names the layer and the reason)."""


def _fill_defaults(index: int, layer: dict[str, Any]) -> dict[str, Any]:
    """Return ``layer`` with defaults filled in, after checking its type and keys."""
    if not isinstance(layer, dict):
        raise InvalidNetwork(f"layer {index} must be a dict, got {type(layer).__name__}")
    kind = layer.get("type")
    if kind not in LAYER_KEYS:
        raise InvalidNetwork(f"layer {index} has unknown type {kind!r}; allowed: {sorted(LAYER_KEYS)}")
    allowed = LAYER_KEYS[kind]
    unknown = sorted(set(layer) - set(allowed) - {"type"})
    if unknown:
        raise InvalidNetwork(f"layer {index} ({kind}) has unknown keys {unknown}; allowed: {sorted(allowed)}")
    filled = {"type": kind}
    for key, default in allowed.items():
        if key in layer:
            filled[key] = layer[key]
        elif default is None and not (kind == "pool" and key == "stride"):
            raise InvalidNetwork(f"layer {index} ({kind}) is missing required key {key!r}")
        else:
            filled[key] = default
    if kind == "pool" and filled["stride"] is None:
        filled["stride"] = filled["kernel"]
    return filled


def _positive_int(index: int, kind: str, key: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidNetwork(f"layer {index} ({kind}) {key} must be an integer >= {minimum}, got {value!r}")
    return value


def _probability(index: int, kind: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise InvalidNetwork(f"layer {index} ({kind}) {key} must be a number in [0, 1), got {value!r}")
    return float(value)


def _activation(index: int, kind: str, value: Any) -> str:
    if value not in ACTIVATIONS:
        raise InvalidNetwork(f"layer {index} ({kind}) has unknown activation {value!r}; allowed: {list(ACTIVATIONS)}")
    return value


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape[-2:]) if len(shape) == 3 else str(shape)


def _normalise(layers: list[dict[str, Any]],
               input_shape: tuple[int, ...]) -> tuple[list[dict[str, Any]], list[tuple[int, ...]]]:
    """Fill defaults, validate every value and compute the output shape after each layer."""
    if not isinstance(layers, (list, tuple)):
        raise InvalidNetwork(f"layers must be a list of dicts, got {type(layers).__name__}")
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise InvalidNetwork(f"input_shape must be (channels, height, width) with positive sizes, got {input_shape}")
    shape: tuple[int, ...] = input_shape
    filled_layers, shapes = [], []
    for i, raw in enumerate(layers):
        layer = _fill_defaults(i, raw)
        kind = layer["type"]
        spatial = len(shape) == 3
        if kind in ("conv", "pool"):
            if not spatial:
                raise InvalidNetwork(f"layer {i} ({kind}) comes after an fc layer; conv and pool layers "
                                     "must come before the first fc layer")
            channels, height, width = shape
            kernel = _positive_int(i, kind, "kernel", layer["kernel"])
            stride = _positive_int(i, kind, "stride", layer["stride"])
            padding = layer["padding"]
            if kind == "conv":
                filters = _positive_int(i, kind, "filters", layer["filters"])
                _activation(i, kind, layer["activation"])
                if padding == "same":
                    if stride != 1:
                        raise InvalidNetwork(f"layer {i} (conv) padding 'same' needs stride 1, got stride {stride}")
                    shape = (filters, height, width)
                else:
                    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
                        raise InvalidNetwork(f"layer {i} (conv) padding must be an integer >= 0 or 'same', "
                                             f"got {padding!r}")
                    shape = (filters, *(_out_size(s, kernel, stride, padding) for s in (height, width)))
            else:
                padding = _positive_int(i, kind, "padding", padding, minimum=0)
                if padding > kernel // 2:
                    raise InvalidNetwork(f"layer {i} (pool kernel {kernel}) padding {padding} is larger than "
                                         f"kernel // 2 = {kernel // 2}, which torch does not allow")
                shape = (channels, *(_out_size(s, kernel, stride, padding) for s in (height, width)))
            if min(shape[1:]) < 1:
                what = f"{kind} kernel {kernel}, stride {stride}, padding {padding}"
                raise InvalidNetwork(f"layer {i} ({what}) shrinks the {height}x{width} input to "
                                     f"{max(shape[1], 0)}x{max(shape[2], 0)}")
        elif kind == "fc":
            _positive_int(i, kind, "units", layer["units"])
            _activation(i, kind, layer["activation"])
            _probability(i, kind, "dropout", layer["dropout"])
            if not isinstance(layer["bias"], bool):
                raise InvalidNetwork(f"layer {i} (fc) bias must be True or False, got {layer['bias']!r}")
            shape = (layer["units"],)
        elif kind == "dropout":
            _probability(i, kind, "p", layer["p"])
        # batchnorm keeps the shape
        filled_layers.append(layer)
        shapes.append(shape)
    return filled_layers, shapes


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution or pooling along one axis (floor mode, as torch)."""
    return math.floor((size + 2 * padding - kernel) / stride) + 1


def check_network(layers: list[dict[str, Any]], input_shape: tuple[int, ...] = (1, 28, 28)) -> list[tuple[int, ...]]:
    """Shape after each layer of ``layers`` (one entry per layer, the final classifier excluded).

    Feature maps are ``(channels, height, width)``, fc outputs ``(units,)``. Nothing is allocated;
    raises :class:`InvalidNetwork` naming the first invalid layer and why.
    """
    return _normalise(layers, input_shape)[1]


def build_network(layers: list[dict[str, Any]], input_shape: tuple[int, ...] = (1, 28, 28),
                  n_classes: int = 10, seed: int | None = None) -> nn.Sequential:
    """Build the network described by ``layers`` (validated with :func:`check_network` first).

    ``seed`` makes the initial weights reproducible without touching the caller's global RNG;
    ``None`` uses torch's global RNG as usual.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise InvalidNetwork(f"n_classes must be an integer >= 2, got {n_classes!r}")
    filled, shapes = _normalise(layers, input_shape)
    if seed is None:
        return _build(filled, shapes, tuple(input_shape), n_classes)
    # the lock: two threads seeding and drawing from the global RNG at once would mix their draws
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _build(filled, shapes, tuple(input_shape), n_classes)


def _build(filled: list[dict[str, Any]], shapes: list[tuple[int, ...]], input_shape: tuple[int, ...],
           n_classes: int) -> nn.Sequential:
    modules: list[nn.Module] = []
    shape = input_shape
    for layer, out_shape in zip(filled, shapes):
        kind = layer["type"]
        if kind == "conv":
            modules.append(nn.Conv2d(shape[0], layer["filters"], layer["kernel"], stride=layer["stride"],
                                     padding=layer["padding"]))
            modules.append(ACTIVATIONS[layer["activation"]]())
        elif kind == "pool":
            modules.append(nn.MaxPool2d(layer["kernel"], stride=layer["stride"], padding=layer["padding"]))
        elif kind == "fc":
            if len(shape) == 3:
                modules.append(nn.Flatten())
            modules.append(nn.Linear(math.prod(shape), layer["units"], bias=layer["bias"]))
            modules.append(ACTIVATIONS[layer["activation"]]())
            if layer["dropout"] > 0:
                modules.append(TrialDropout(layer["dropout"]))
        elif kind == "dropout":
            modules.append(TrialDropout(layer["p"]))
        elif kind == "batchnorm":
            modules.append(nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0]))
        shape = out_shape
    if len(shape) == 3:
        modules.append(nn.Flatten())
    modules.append(nn.Linear(math.prod(shape), n_classes))
    return nn.Sequential(*modules)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable, by default) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
