"""One call that seeds every global random source a notebook may touch."""
from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's legacy global generator and torch (CPU).

    Library code in the kit never relies on these globals — it takes explicit seeds and builds its
    own ``numpy.random.Generator`` / ``torch.Generator`` — but notebook cells and third-party code may.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
