"""Progress bars that look right both in JupyterLab and in papermill logs.

Interactively we use ``tqdm.auto`` (a widget in JupyterLab). In a batch run a widget would be saved
frozen at 0 % in the executed notebook, so there we print plain-text bars that update rarely.
The runner sets ``HPO_KIT_BATCH=1``; anything else may set it too.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def is_batch() -> bool:
    """True when running headless (the kit's runner, papermill via the runner, or CI)."""
    return os.environ.get("HPO_KIT_BATCH", "") not in ("", "0") or os.environ.get("CI", "") == "true"


def progress(iterable: Iterable[T] | None = None, *, desc: str = "", total: int | float | None = None,
             leave: bool = True, disable: bool = False, unit: str = "it"):
    """A tqdm bar: ``tqdm.auto`` interactively, a sparse plain-text bar in batch runs."""
    if is_batch():
        from tqdm import tqdm as plain_tqdm

        # stdout, not stderr: papermill stores stdout in the executed notebook, where a reader
        # of the run wants to see how far each loop got. mininterval keeps logs short.
        return plain_tqdm(iterable, desc=desc, total=total, leave=leave, disable=disable, unit=unit,
                          file=sys.stdout, mininterval=10.0, ascii=True, dynamic_ncols=False, ncols=130)
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(iterable, desc=desc, total=total, leave=leave, disable=disable, unit=unit)


def show_item(bar, text: str) -> None:
    """Name the item a bar just finished (method, task, seed) after its count, total and ETA; a no-op for
    anything that is not a tqdm bar (a caller's own wrapper, or none)."""
    setter = getattr(bar, "set_postfix_str", None)
    if callable(setter):
        setter(text, refresh=False)
