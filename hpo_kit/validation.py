"""Checks of arguments shared across the kit, so that every error reads the same way."""
from __future__ import annotations

from typing import Any

import numpy as np


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int (numpy integers accepted), refusing bools, floats and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(name: str, value: Any, allowed: tuple | list, meaning: str = "") -> Any:
    """``value`` if it is one of ``allowed``; else an error naming the parameter, the choices and what they mean."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}{f' ({meaning})' if meaning else ''}, got {value!r}")
    return value
