"""TRL-HPO's action space: four numbers in [0, 1] become one hidden layer of a CNN.

``a[0]`` picks the layer type, ``a[1:4]`` that type's three hyperparameters::

    a[0] < 0.33 -> convolution  (filters, kernel, stride)
    a[0] < 0.67 -> fully connected (units, bias, activation)
    otherwise   -> max-pool     (kernel, stride, padding)

Two structural rules hold in every mode: the first layer is always a convolution, and after a
fully connected layer only fully connected layers follow (a flattened vector has no image left).

How a number in [0, 1] becomes an index into a list of choices is where the two modes differ:

* ``"fixed"``: ``min(floor(a * n), n - 1)`` -- each of the ``n`` choices owns an equal slice of
  [0, 1], and both ends are ordinary values (0 -> first choice, 1 -> last choice).
* ``"faithful"``: the authors' formulas (``functions.py`` of Western-OC2-Lab/TRL-HPO), reproduced
  with their edge cases:

  - conv kernel/stride, fc units/bias/activation: ``int(a * (n - 1))``, so the last choice is
    reached only by ``a == 1.0`` exactly -- e.g. the fc layer has no bias and no activation only at
    exactly 1.0. Exploration noise is clipped to [0, 1], so exact 1.0 is in fact common.
  - conv filters: ``min(int(a * (n - 1 - lo)) + lo + 1, n - 1)`` with ``lo`` the index of the
    incoming channel count: filters strictly grow from conv to conv (until 120) and the first conv
    can never have 8 filters.
  - fc units after an fc layer: ``min(int(a * (hi + 1)), n - 1)`` with ``hi`` the index of the
    previous layer's units: a layer is at most as wide as the one before, except at ``a == 1.0``
    (one step wider).
  - max-pool: ``int(a * n) - 1`` (the truncation comes *before* the ``- 1``). Every
    ``a in [0, 1/n)`` gives index -1, which Python wraps to the *last* choice, and so does
    ``a == 1.0`` (index ``n - 1``); choice ``k < n - 1`` owns ``[(k + 1)/n, (k + 2)/n)``. The last
    choice thus gets ``1/n`` of the range plus the point 1.0, the others ``1/n`` each, but a small
    ``a`` picks the largest pool: ``a = 0.05`` gives kernel 7, stride 3 and padding 3.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

MODES = ("fixed", "faithful")
LAYER_KINDS = ("conv", "fc", "pool")

# The choice lists of the paper (identical in both modes).
CONV_FILTERS: tuple[int, ...] = tuple(range(8, 121, 8))  # 8, 16, ..., 120 (15 choices)
CONV_KERNELS: tuple[int, ...] = (3, 5, 7)
CONV_STRIDES: tuple[int, ...] = (1, 2, 3)
FC_UNITS: tuple[int, ...] = tuple(range(16, 505, 8))  # 16, 24, ..., 504 (62 choices)
FC_BIAS: tuple[bool, ...] = (True, False)
FC_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "none")
POOL_KERNELS: tuple[int, ...] = (2, 3, 4, 5, 6, 7)
POOL_STRIDES: tuple[int, ...] = (1, 2, 3)
POOL_PADDINGS: tuple[int, ...] = (0, 1, 2, 3)

#: For each layer kind, the names and choice lists of its three hyperparameters (a[1], a[2], a[3]).
CHOICES: dict[str, tuple[tuple[str, tuple[Any, ...]], ...]] = {
    "conv": (("filters", CONV_FILTERS), ("kernel", CONV_KERNELS), ("stride", CONV_STRIDES)),
    "fc": (("units", FC_UNITS), ("bias", FC_BIAS), ("activation", FC_ACTIVATIONS)),
    "pool": (("kernel", POOL_KERNELS), ("stride", POOL_STRIDES), ("padding", POOL_PADDINGS)),
}

CONV_THRESHOLD = 0.33  # a[0] below this: convolution
FC_THRESHOLD = 0.67  # a[0] below this (and not conv): fully connected; otherwise max-pool


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


def conv_activation(mode: str) -> str:
    """Activation after a convolution: the original applies none (its convolutions are linear)."""
    return "none" if check_mode(mode) == "faithful" else "relu"


def allowed_kinds(previous: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """Layer kinds that may follow ``previous`` (the layers built so far)."""
    if not previous:
        return ("conv",)
    if previous[-1]["type"] == "fc":
        return ("fc",)
    return LAYER_KINDS


def requested_kind(a0: float) -> str:
    """The layer kind ``a[0]`` asks for, before the structural rules are applied."""
    if a0 < CONV_THRESHOLD:
        return "conv"
    if a0 < FC_THRESHOLD:
        return "fc"
    return "pool"


def layer_kind(a0: float, previous: Sequence[dict[str, Any]]) -> str:
    """The kind of the next layer: ``a[0]``'s request, overruled by the structural rules."""
    allowed = allowed_kinds(previous)
    return allowed[0] if len(allowed) == 1 else requested_kind(a0)


def uniform_index(a: float, n: int) -> int:
    """Fixed mode: the choice whose equal-width slice of [0, 1] contains ``a`` (1.0 -> last)."""
    return min(int(math.floor(a * n)), n - 1)


def _faithful_indices(kind: str, a: Sequence[float], previous: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """The original's index formulas (see the module docstring), negative indices included."""
    a1, a2, a3 = (float(x) for x in a[1:4])
    if kind == "conv":
        n = len(CONV_FILTERS)
        channels = _channels(previous)
        lo = CONV_FILTERS.index(channels) if channels in CONV_FILTERS else 0
        filters = min(int(a1 * (n - 1 - lo) + lo + 1), n - 1)
        return filters, int(a2 * (len(CONV_KERNELS) - 1)), int(a3 * (len(CONV_STRIDES) - 1))
    if kind == "fc":
        if previous and previous[-1]["type"] == "fc":
            hi = FC_UNITS.index(previous[-1]["units"])
            units = min(int(a1 * (hi + 1)), len(FC_UNITS) - 1)
        else:
            units = int(a1 * (len(FC_UNITS) - 1))
        return units, int(a2 * (len(FC_BIAS) - 1)), int(a3 * (len(FC_ACTIVATIONS) - 1))
    # The authors' int(a * n) - 1: every a < 1/n gives -1, which wraps to the last choice.
    return (int(a1 * len(POOL_KERNELS)) - 1, int(a2 * len(POOL_STRIDES)) - 1,
            int(a3 * len(POOL_PADDINGS)) - 1)


def _channels(previous: Sequence[dict[str, Any]]) -> int:
    """Channels of the feature map after ``previous`` (1 for the input image)."""
    for layer in reversed(previous):
        if layer["type"] == "conv":
            return int(layer["filters"])
    return 1


def choice_indices(action: Sequence[float], previous: Sequence[dict[str, Any]], mode: str) -> tuple[str, tuple[int, int, int]]:
    """Layer kind and the three choice indices the action selects (indices may be -1 in faithful mode)."""
    check_action(action)
    kind = layer_kind(float(action[0]), previous)
    if check_mode(mode) == "faithful":
        return kind, _faithful_indices(kind, action, previous)
    sizes = [len(choices) for _, choices in CHOICES[kind]]
    return kind, tuple(uniform_index(float(a), n) for a, n in zip(action[1:4], sizes))  # type: ignore[return-value]


def layer_from_indices(kind: str, indices: Sequence[int], mode: str = "fixed") -> dict[str, Any]:
    """The layer dict (as understood by :func:`hpo_kit.train.networks.build_network`) for a choice."""
    if kind not in LAYER_KINDS:
        raise ValueError(f"kind must be one of {LAYER_KINDS}, got {kind!r}")
    if len(indices) != 3:
        raise ValueError(f"indices must hold 3 choice indices, got {list(indices)}")
    values = {}
    for (name, choices), i in zip(CHOICES[kind], indices):
        if not -len(choices) <= int(i) < len(choices):
            raise ValueError(f"{kind} {name} index must be in [0, {len(choices) - 1}], got {i}")
        values[name] = choices[int(i)]
    if kind == "conv":
        return {"type": "conv", "filters": values["filters"], "kernel": values["kernel"],
                "stride": values["stride"], "padding": 0, "activation": conv_activation(mode)}
    if kind == "fc":
        return {"type": "fc", "units": values["units"], "bias": values["bias"],
                "activation": values["activation"], "dropout": 0.0}
    return {"type": "pool", "kernel": values["kernel"], "stride": values["stride"], "padding": values["padding"]}


def decode_action(action: Sequence[float], previous: Sequence[dict[str, Any]], mode: str = "fixed") -> dict[str, Any]:
    """The next hidden layer selected by ``action`` given the layers built so far."""
    kind, indices = choice_indices(action, previous, mode)
    return layer_from_indices(kind, indices, mode)


def check_action(action: Sequence[float]) -> None:
    values = np.asarray(action, dtype=np.float64)
    if values.shape != (4,) or not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise ValueError(f"action must be 4 finite numbers in [0, 1], got {list(np.asarray(action).ravel())}")


def describe_layer(layer: dict[str, Any]) -> str:
    """A short human-readable name, e.g. ``conv 32x5/2``, ``fc 128 relu``, ``pool 2/2 p0``."""
    kind = layer["type"]
    if kind == "conv":
        act = "" if layer.get("activation", "relu") == "relu" else f" {layer['activation']}"
        return f"conv {layer['filters']}x{layer['kernel']}/{layer['stride']}{act}"
    if kind == "fc":
        bias = "" if layer.get("bias", True) else " nobias"
        return f"fc {layer['units']} {layer.get('activation', 'relu')}{bias}"
    if kind == "pool":
        return f"pool {layer['kernel']}/{layer['stride']} p{layer.get('padding', 0)}"
    return kind


def describe_architecture(layers: Sequence[dict[str, Any]]) -> str:
    """``conv 32x3/1 -> pool 2/2 p0 -> fc 10`` (the appended output layer included)."""
    return " -> ".join([describe_layer(layer) for layer in layers] + ["fc 10 (output)"])


def choice_sizes(kind: str) -> tuple[int, int, int]:
    """Number of choices of each of ``kind``'s three hyperparameters."""
    return tuple(len(choices) for _, choices in CHOICES[kind])  # type: ignore[return-value]


def all_choices(kind: str) -> list[tuple[int, int, int]]:
    """Every index triple of ``kind`` (conv 135, fc 868, pool 72)."""
    a, b, c = choice_sizes(kind)
    return [(i, j, k) for i in range(a) for j in range(b) for k in range(c)]
