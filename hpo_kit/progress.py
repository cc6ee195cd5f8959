"""Progress bars that look right both in JupyterLab and in papermill logs.

Interactively we use ``tqdm.auto`` (a widget in JupyterLab). In a batch run a widget would be saved
frozen at 0 % in the executed notebook, so there we print plain-text bars that update rarely.
The runner sets ``HPO_KIT_BATCH=1``; anything else may set it too.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

# The run a caller is inside (its name, and its planned total where the bar's own is unknown): the engine's
# bar is opened deep in run_hpo, which knows neither the method nor the seed it runs.
_RUN_NAME: ContextVar[tuple[str, int | float | None] | None] = ContextVar("hpo_kit_run_name", default=None)


@contextmanager
def naming(label: str, total: int | float | None = None) -> Iterator[None]:
    """Name every bar opened inside this block (``with naming("bohb, seed 3", total=72): run_hpo(...)``).

    The bar's description becomes "<its own>: <label>"; ``total`` is used by a bar that has no total of
    its own (a Hyperband run stops when its brackets are done, which the engine cannot count).
    """
    token = _RUN_NAME.set((str(label), total))
    try:
        yield
    finally:
        _RUN_NAME.reset(token)


def is_batch() -> bool:
    """True when running headless (the kit's runner, papermill via the runner, or CI)."""
    return os.environ.get("HPO_KIT_BATCH", "") not in ("", "0") or os.environ.get("CI", "") == "true"


def progress(iterable: Iterable[T] | None = None, *, desc: str = "", total: int | float | None = None,
             leave: bool = True, disable: bool = False, unit: str = "it", label: Callable[[T], str] | None = None):
    """A tqdm bar: ``tqdm.auto`` interactively, a sparse plain-text bar in batch runs.

    ``label``: a function of an item that names it (``lambda s_m: f"{s_m[1]}, seed {s_m[0]}"``); the bar
    then shows "now: <label>" for the item being run, after its count, total and ETA.
    """
    named = _RUN_NAME.get()
    if named is not None:
        desc = f"{desc}: {named[0]}" if desc else named[0]
        total = named[1] if total is None else total
    if is_batch():
        from tqdm import tqdm as plain_tqdm

        # stdout, not stderr: papermill stores stdout in the executed notebook, where a reader
        # of the run wants to see how far each loop got. mininterval keeps logs short.
        bar = plain_tqdm(iterable, desc=desc, total=total, leave=leave, disable=disable, unit=unit,
                         file=sys.stdout, mininterval=10.0, ascii=True, dynamic_ncols=False, ncols=130)
    else:
        from tqdm.auto import tqdm as auto_tqdm

        bar = auto_tqdm(iterable, desc=desc, total=total, leave=leave, disable=disable, unit=unit)
    return bar if label is None or iterable is None else _Labelled(bar, label)


class _Labelled:
    """Iterates a tqdm bar, naming each item (``label(item)``) on the bar before the item runs."""

    def __init__(self, bar, label: Callable[[T], str]):
        self.bar, self.label = bar, label

    def __iter__(self):
        for item in self.bar:
            show_item(self.bar, f"now: {self.label(item)}")
            yield item

    def __len__(self) -> int:
        return len(self.bar)

    def __getattr__(self, name: str):  # close(), set_postfix_str(), n, ...: the bar's own
        return getattr(self.bar, name)


def show_item(bar, text: str) -> None:
    """Name the item a bar just finished (method, task, seed) after its count, total and ETA; a no-op for
    anything that is not a tqdm bar (a caller's own wrapper, or none)."""
    setter = getattr(bar, "set_postfix_str", None)
    if callable(setter):
        setter(text, refresh=False)
