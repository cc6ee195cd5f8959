"""Batch augmentations used inside the training loop: mixup and cutout.

Both take an explicit ``torch.Generator`` so a training run is reproducible from its seed and the
caller's global RNG is left alone.
"""
from __future__ import annotations

import numpy as np
import torch


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float,
          generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Mix each example with a random partner (Zhang et al., 2018).

    Returns ``(x_mixed, y_a, y_b, lam)`` with ``x_mixed = lam * x + (1 - lam) * x[perm]``,
    ``y_a = y``, ``y_b = y[perm]`` and ``lam ~ Beta(alpha, alpha)``; the loss is then
    ``lam * CE(out, y_a) + (1 - lam) * CE(out, y_b)`` (see :func:`mixup_loss`).
    """
    if not alpha > 0:
        raise ValueError(f"mixup alpha must be > 0, got {alpha!r}")
    # torch has no Beta sampler that takes a Generator, so a numpy generator seeded from the torch
    # one draws lam: still one seeded stream.
    sub_seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
    lam = float(np.random.default_rng(sub_seed).beta(alpha, alpha))
    perm = torch.randperm(x.shape[0], generator=generator)
    mixed = lam * x + (1.0 - lam) * x[perm]
    return mixed, y, y[perm], lam


def mixup_loss(logits: torch.Tensor, y_a: torch.Tensor, y_b: torch.Tensor, lam: float) -> torch.Tensor:
    """Cross-entropy of a mixed batch: ``lam * CE(y_a) + (1 - lam) * CE(y_b)``."""
    ce = torch.nn.functional.cross_entropy
    return lam * ce(logits, y_a) + (1.0 - lam) * ce(logits, y_b)


def cutout(x: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Zero one ``length x length`` square per image (DeVries & Taylor, 2017), returning a new tensor.

    The square's centre is uniform over the image, so squares near the border are clipped (as in the
    paper). Zero is the mean pixel of normalised images.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"cutout length must be an integer >= 1, got {length!r}")
    if x.dim() != 4:
        raise ValueError(f"cutout expects images N x C x H x W, got shape {tuple(x.shape)}")
    n, _, height, width = x.shape
    cy = torch.randint(0, height, (n, 1), generator=generator)
    cx = torch.randint(0, width, (n, 1), generator=generator)
    top, left = cy - length // 2, cx - length // 2
    rows = torch.arange(height).unsqueeze(0)
    cols = torch.arange(width).unsqueeze(0)
    in_rows = (rows >= top) & (rows < top + length)  # n x H
    in_cols = (cols >= left) & (cols < left + length)  # n x W
    square = in_rows.unsqueeze(2) & in_cols.unsqueeze(1)  # n x H x W
    return x.masked_fill(square.unsqueeze(1).to(x.device), 0.0)
