"""In-memory train/validation/test tensors: what every trainer in the kit consumes."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Splits:
    """Images as float32 tensors ``N x C x H x W`` (normalised), labels as int64 tensors ``N``.

    ``source`` says in words where the images came from (shown in notebooks, stored in results).
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str
    n_classes: int = 10

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_y), "val": len(self.val_y), "test": len(self.test_y)}
