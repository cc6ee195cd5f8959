"""Per-training random generators for stochastic layers (dropout, ShakeShake, ShakeDrop).

Why: ``nn.Dropout`` draws from torch's *global* RNG. Reseeding that RNG per epoch makes one
training reproducible, but two trainings running as threads of one process (Dask workers with
``processes=False``, a notebook running trials in threads) share it: their draws interleave and
parallel results differ from sequential ones. Here every training sets its own generator for the
thread that runs it (:func:`training_generator`); :class:`TrialDropout` and anything else that asks
:func:`current_generator` draws from it. With the same seed the draws are bit-identical to
``nn.Dropout`` under ``torch.manual_seed`` (the same ``bernoulli_`` on a generator in the same
state), so sequential results do not change.

Modules with a ``generator`` attribute (``hpo_kit.nas.resnet_shake.ShakeResNet``) get the
training's generator for the duration of each epoch from the trainer (:func:`lend_generator`).

:data:`GLOBAL_RNG_LOCK` serialises code that still has to seed and use the global RNG (weight
initialisation: ``nn.Linear`` has no generator argument), so that two threads doing it at once
cannot interleave their draws.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

_local = threading.local()
#: hold while seeding *and* drawing from torch's global RNG (``fork_rng`` + ``manual_seed``)
GLOBAL_RNG_LOCK = threading.RLock()


def current_generator() -> torch.Generator | None:
    """The generator of the training running in this thread, or None outside a training."""
    return getattr(_local, "generator", None)


@contextmanager
def training_generator(generator: torch.Generator | None) -> Iterator[torch.Generator | None]:
    """Make ``generator`` this thread's :func:`current_generator` inside the block."""
    previous = current_generator()
    _local.generator = generator
    try:
        yield generator
    finally:
        _local.generator = previous


@contextmanager
def lend_generator(model: nn.Module, generator: torch.Generator) -> Iterator[None]:
    """Give ``generator`` to a model with a ``generator`` attribute that has none of its own."""
    lend = hasattr(model, "generator") and getattr(model, "generator") is None
    if lend:
        model.generator = generator
    try:
        yield
    finally:
        if lend:
            model.generator = None


class TrialDropout(nn.Dropout):
    """``nn.Dropout`` that draws its mask from :func:`current_generator` when a training set one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        generator = current_generator()
        if not self.training or self.p == 0.0 or generator is None:
            return super().forward(x)
        if self.p == 1.0:
            return x * 0.0
        # the computation of torch's CPU dropout (noise = bernoulli(1 - p) / (1 - p)), on our generator
        noise = torch.empty(x.shape, dtype=x.dtype).bernoulli_(1.0 - self.p, generator=generator)
        noise.div_(1.0 - self.p)
        return x * noise.to(x.device, non_blocking=True)
