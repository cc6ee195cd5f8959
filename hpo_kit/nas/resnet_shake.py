"""A 3-stage ResNet with multi-branch shake-shake blocks and ShakeDrop (the space of Zela et al. 2018).

Architecture (shake-shake ResNet of Gastaldi 2017, generalised to k branches):

* stem: 3x3 convolution to ``initial_filters`` channels + batch norm;
* 3 stages of ``blocks_per_stage[s]`` residual blocks; stage ``s`` has
  ``round(width_{s-1} * widen_factors[s])`` channels (width_{-1} = ``initial_filters``, so widening
  compounds from stage to stage) and strides 1, 2, 2 (28 -> 28, 14, 7 for MNIST; 32 -> 32, 16, 8
  for CIFAR-10);
* a block has ``branches_per_stage[s]`` parallel branches ReLU-conv3x3-BN-ReLU-conv3x3-BN, combined
  by shake-shake, then scaled by ShakeDrop, then added to the shortcut;
* ReLU, global average pooling, linear classifier.

Regularisation, in training mode:

* **shake-shake** (:class:`ShakeShakeFunction`): the k branch outputs are combined with a random
  convex combination per sample (weights ~ Dirichlet(1, ..., 1): uniform on the simplex, which for
  k = 2 is alpha ~ U(0, 1) as in the original), and the gradient is split with *independent*
  weights drawn the same way. At evaluation every branch gets its expectation 1/k.
* **ShakeDrop** (:class:`ShakeDropFunction`, Yamada et al. 2018): with probability ``p`` (a gate
  per mini-batch, as in the reference implementation) the residual is multiplied by alpha ~ U(-1, 1)
  per sample in the forward pass and by beta ~ U(0, 1) in the backward pass; otherwise it passes
  unchanged. At evaluation the residual is multiplied by the expectation 1 - p. Block ``l`` of
  ``L`` (counted over all stages) has ``p_l = shakedrop_rate * l / L`` (the linear-decay rule).

Randomness: by default the global torch RNG, like dropout, so :func:`hpo_kit.train.trainer.train`
(which seeds it per epoch) makes training reproducible and resumable. Pass ``generator`` to draw
from your own ``torch.Generator`` instead.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Where ShakeDrop is applied: every block, or (as in the authors' code) single-branch blocks only.
SHAKEDROP_WHERE = ("all", "single_branch")
#: How the ShakeDrop rate grows with depth: linearly to the rate (Yamada et al.) or the same everywhere.
SHAKEDROP_SCHEDULES = ("linear", "constant")


def _draw_uniform(shape: Sequence[int], like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """U(0, 1) samples on ``like``'s device and dtype, from ``generator`` or the global RNG."""
    u = torch.rand(tuple(shape), generator=generator, dtype=like.dtype)
    return u.to(like.device)


def dirichlet_weights(k: int, n: int, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """``k x n`` weights, each column uniform on the probability simplex (Dirichlet(1, ..., 1)).

    Normalised exponential variables are Dirichlet(1) distributed; ``1 - u`` keeps log away from 0.
    """
    e = -torch.log1p(-_draw_uniform((k, n), like, generator))
    return e / e.sum(dim=0, keepdim=True)


class ShakeShakeFunction(torch.autograd.Function):
    """``sum_i alpha_i * x_i`` forward, ``beta_i * grad`` to branch ``i`` backward.

    ``alpha`` and ``beta`` are ``k x N`` (one weight per branch and sample); columns sum to 1.
    """

    @staticmethod
    def forward(ctx, alpha: torch.Tensor, beta: torch.Tensor, *branches: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(beta)
        shape = (-1,) + (1,) * (branches[0].dim() - 1)
        out = alpha[0].view(shape) * branches[0]
        for i in range(1, len(branches)):
            out = out + alpha[i].view(shape) * branches[i]
        return out

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (beta,) = ctx.saved_tensors
        shape = (-1,) + (1,) * (grad_output.dim() - 1)
        return (None, None) + tuple(beta[i].view(shape) * grad_output for i in range(beta.shape[0]))


class ShakeDropFunction(torch.autograd.Function):
    """``alpha * x`` forward, ``beta * grad`` backward (the "dropped" case of ShakeDrop).

    ``alpha`` and ``beta`` have shape ``N`` (one value per sample).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(beta)
        return alpha.view((-1,) + (1,) * (x.dim() - 1)) * x

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (beta,) = ctx.saved_tensors
        return beta.view((-1,) + (1,) * (grad_output.dim() - 1)) * grad_output, None, None


def shake_shake(branches: Sequence[torch.Tensor], training: bool, generator: torch.Generator | None = None,
                forward_shake: bool = True, backward_shake: bool = True) -> torch.Tensor:
    """Combine branch outputs: random convex weights in training, the mean 1/k at evaluation."""
    k = len(branches)
    if k == 1:
        return branches[0]
    if not training or not (forward_shake or backward_shake):
        return torch.stack(list(branches)).mean(dim=0)
    n, like = branches[0].shape[0], branches[0]
    even = torch.full((k, n), 1.0 / k, dtype=like.dtype, device=like.device)
    alpha = dirichlet_weights(k, n, like, generator) if forward_shake else even
    beta = dirichlet_weights(k, n, like, generator) if backward_shake else even
    return ShakeShakeFunction.apply(alpha, beta, *branches)


def shake_drop(x: torch.Tensor, drop_rate: float, training: bool, generator: torch.Generator | None = None) -> torch.Tensor:
    """ShakeDrop of a residual ``x`` with drop probability ``drop_rate`` (expectation 1 - p at eval)."""
    if drop_rate == 0.0:
        return x
    if not training:
        return x * (1.0 - drop_rate)
    n = x.shape[0]
    # Draw all three every time, so the random stream does not depend on the gate's outcome.
    keep = bool(_draw_uniform((1,), x, generator)[0] >= drop_rate)  # P(keep) = 1 - drop_rate
    alpha = _draw_uniform((n,), x, generator) * 2.0 - 1.0  # U(-1, 1)
    beta = _draw_uniform((n,), x, generator)  # U(0, 1)
    if keep:
        return x
    return ShakeDropFunction.apply(x, alpha, beta)


@dataclass(frozen=True)
class ShakeResNetSpec:
    """Everything that defines a network of this family."""

    blocks_per_stage: tuple[int, int, int]  # residual blocks in each of the 3 stages, each >= 1
    initial_filters: int  # channels of the stem convolution, >= 1
    widen_factors: tuple[float, float, float]  # stage s width = round(previous width * widen_factors[s]), > 0
    branches_per_stage: tuple[int, int, int]  # parallel residual branches per block in each stage, each >= 1
    shakedrop_rate: float = 0.0  # ShakeDrop probability of the deepest block, in [0, 1]; 0 switches it off
    in_channels: int = 1  # image channels: 1 for MNIST, 3 for CIFAR-10
    n_classes: int = 10  # outputs of the classifier, >= 2
    width_multiplier: float = 1.0  # scales every stage width (not the stem) to fit laptop budgets, > 0
    max_channels: int | None = None  # cap on any stage width (laptop budgets); None = no cap
    min_channels: int = 2  # floor on any stage width: the two-path shortcut needs >= 2 channels
    forward_shake: bool = True  # random branch weights in the forward pass (else 1/k)
    backward_shake: bool = True  # random, independent branch weights for the gradient (else 1/k)
    shakedrop_where: str = "all"  # "all" blocks or "single_branch" blocks only (as in the authors' code)
    shakedrop_schedule: str = "linear"  # "linear": block l of L gets rate * l / L; "constant": rate everywhere

    def __post_init__(self) -> None:
        for name in ("blocks_per_stage", "widen_factors", "branches_per_stage"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field and its allowed values."""
        def is_int(v: object) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: object) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        def fail(name: str, allowed: str) -> None:
            raise ValueError(f"ShakeResNetSpec.{name} must be {allowed}, got {getattr(self, name)!r}")

        for name in ("blocks_per_stage", "branches_per_stage"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or len(value) != 3 or not all(is_int(v) and v >= 1 for v in value):
                fail(name, "3 integers >= 1 (one per stage)")
        if not isinstance(self.widen_factors, tuple) or len(self.widen_factors) != 3 or not all(
                is_num(v) and v > 0 for v in self.widen_factors):
            fail("widen_factors", "3 numbers > 0 (one per stage)")
        if not is_int(self.initial_filters) or self.initial_filters < 1:
            fail("initial_filters", "an integer >= 1")
        if not is_num(self.shakedrop_rate) or not 0 <= self.shakedrop_rate <= 1:
            fail("shakedrop_rate", "a number in [0, 1]")
        if not is_int(self.in_channels) or self.in_channels < 1:
            fail("in_channels", "an integer >= 1")
        if not is_int(self.n_classes) or self.n_classes < 2:
            fail("n_classes", "an integer >= 2")
        if not is_num(self.width_multiplier) or self.width_multiplier <= 0:
            fail("width_multiplier", "a number > 0")
        if not is_int(self.min_channels) or self.min_channels < 2:
            fail("min_channels", "an integer >= 2")
        if self.max_channels is not None and (not is_int(self.max_channels) or self.max_channels < self.min_channels):
            fail("max_channels", f"None or an integer >= min_channels ({self.min_channels})")
        for name in ("forward_shake", "backward_shake"):
            if not isinstance(getattr(self, name), bool):
                fail(name, "True or False")
        if self.shakedrop_where not in SHAKEDROP_WHERE:
            fail("shakedrop_where", f"one of {SHAKEDROP_WHERE}")
        if self.shakedrop_schedule not in SHAKEDROP_SCHEDULES:
            fail("shakedrop_schedule", f"one of {SHAKEDROP_SCHEDULES}")

    def stage_widths(self) -> tuple[int, int, int]:
        """Channels of each stage: compounding widen factors, then multiplier, cap and floor."""
        widths = []
        width = float(self.initial_filters)
        for factor in self.widen_factors:
            width = round(width * factor)  # the nominal width compounds, as in the paper's networks
            actual = max(self.min_channels, round(width * self.width_multiplier))
            if self.max_channels is not None:
                actual = min(actual, self.max_channels)
            widths.append(actual)
            width = max(width, 1)
        return tuple(widths)  # type: ignore[return-value]

    def shakedrop_rates(self) -> list[float]:
        """ShakeDrop probability of every block, in network order."""
        total = sum(self.blocks_per_stage)
        rates = []
        layer = 0
        for stage, n_blocks in enumerate(self.blocks_per_stage):
            for _ in range(n_blocks):
                layer += 1
                rate = self.shakedrop_rate * (layer / total if self.shakedrop_schedule == "linear" else 1.0)
                if self.shakedrop_where == "single_branch" and self.branches_per_stage[stage] > 1:
                    rate = 0.0
                rates.append(rate)
        return rates


class ResidualBranch(nn.Sequential):
    """ReLU - conv3x3 (stride) - BN - ReLU - conv3x3 - BN."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__(
            nn.ReLU(inplace=False),  # the block input is also the shortcut's input: do not modify it
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )


class TwoPathShortcut(nn.Module):
    """Shortcut when width or resolution changes (as in shake-shake ResNets).

    Two 1x1 convolutions see the ReLU'd input subsampled at even and at odd pixel positions, so the
    strided shortcut does not simply discard three quarters of the pixels; outputs are concatenated
    and batch-normalised.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        half = out_channels // 2
        self.conv_even = nn.Conv2d(in_channels, half, 1, bias=False)
        self.conv_odd = nn.Conv2d(in_channels, out_channels - half, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        even = x[:, :, ::self.stride, ::self.stride]
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))  # move by one pixel, zero-fill the border
        odd = shifted[:, :, ::self.stride, ::self.stride]
        return self.bn(torch.cat([self.conv_even(even), self.conv_odd(odd)], dim=1))


class ShakeBlock(nn.Module):
    """k parallel branches combined by shake-shake, ShakeDrop on the result, plus the shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, n_branches: int, drop_rate: float,
                 spec: ShakeResNetSpec):
        super().__init__()
        self.branches = nn.ModuleList(ResidualBranch(in_channels, out_channels, stride) for _ in range(n_branches))
        self.shortcut: nn.Module = (TwoPathShortcut(in_channels, out_channels, stride)
                                    if stride != 1 or in_channels != out_channels else nn.Identity())
        self.drop_rate = float(drop_rate)
        self.forward_shake = spec.forward_shake
        self.backward_shake = spec.backward_shake
        self.generator: torch.Generator | None = None  # set through ShakeResNet.generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        generator = self.generator
        residual = shake_shake([branch(x) for branch in self.branches], self.training, generator,
                               self.forward_shake, self.backward_shake)
        residual = shake_drop(residual, self.drop_rate, self.training, generator)
        return self.shortcut(x) + residual


class ShakeResNet(nn.Module):
    """The network of a :class:`ShakeResNetSpec` (see the module docstring)."""

    def __init__(self, spec: ShakeResNetSpec, generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(spec, ShakeResNetSpec):
            raise TypeError(f"spec must be a ShakeResNetSpec, got {type(spec).__name__}")
        self.spec = spec
        self.stem = nn.Sequential(
            nn.Conv2d(spec.in_channels, spec.initial_filters, 3, padding=1, bias=False),
            nn.BatchNorm2d(spec.initial_filters),
        )
        rates = iter(spec.shakedrop_rates())
        stages = []
        in_channels = spec.initial_filters
        for stage, (n_blocks, width, n_branches) in enumerate(
                zip(spec.blocks_per_stage, spec.stage_widths(), spec.branches_per_stage)):
            blocks = []
            for b in range(n_blocks):
                stride = 2 if (stage > 0 and b == 0) else 1
                blocks.append(ShakeBlock(in_channels, width, stride, n_branches, next(rates), spec))
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.classifier = nn.Linear(in_channels, spec.n_classes)
        self._init_weights()
        self.generator = generator

    @property
    def generator(self) -> torch.Generator | None:
        """Source of the shake/drop randomness; None = the global torch RNG (seeded by the trainer)."""
        return self._generator

    @generator.setter
    def generator(self, generator: torch.Generator | None) -> None:
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be None or a torch.Generator, got {type(generator).__name__}")
        self._generator = generator
        for module in self.modules():
            if isinstance(module, ShakeBlock):
                module.generator = generator

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.spec.in_channels:
            raise ValueError(f"expected images N x {self.spec.in_channels} x H x W, got shape {tuple(x.shape)}")
        out = self.stages(self.stem(x))
        out = F.adaptive_avg_pool2d(F.relu(out), 1).flatten(1)
        return self.classifier(out)

    def depth(self) -> int:
        """Weighted layers on the longest path: stem + 2 convolutions per block + classifier."""
        return 2 + 2 * sum(self.spec.blocks_per_stage)
