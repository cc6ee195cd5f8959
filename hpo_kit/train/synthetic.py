"""Small learnable random data with the shape of MNIST, for tests and offline smoke runs.

Each class has a random prototype image; an example is its class prototype plus Gaussian noise.
A model can learn it (errors drop within an epoch or two), which is what trainer tests need, and it
costs nothing to make.
"""
from __future__ import annotations

import torch

from hpo_kit.data.splits import Splits


def synthetic_splits(n_train: int, n_val: int, n_test: int, seed: int = 0,
                     input_shape: tuple[int, ...] = (1, 28, 28), n_classes: int = 10,
                     noise: float = 2.0) -> Splits:
    """Random ``Splits`` of the given sizes: class prototype + ``noise`` * N(0, 1) per pixel."""
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if n_train < 1:
        raise ValueError(f"n_train must be >= 1, got {n_train}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    g = torch.Generator().manual_seed(seed)
    prototypes = torch.randn((n_classes, *input_shape), generator=g)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, n_classes, (n,), generator=g)
        x = prototypes[y] + noise * torch.randn((n, *input_shape), generator=g)
        return x.float(), y.long()

    train_x, train_y = draw(n_train)
    val_x, val_y = draw(n_val)
    test_x, test_y = draw(n_test)
    return Splits(train_x, train_y, val_x, val_y, test_x, test_y,
                  source=f"synthetic prototypes+noise (noise={noise}, seed={seed})", n_classes=n_classes)
