"""Evaluation cache and budget clock shared by every layer-wise search method.

The paper suggests caching trained prefixes so an architecture seen before is not trained again.
Each search method (and seed) gets its *own* cache file, so in a comparison no method rides on
training another method paid for. Within one method a repeated prefix is free, as in the paper.

Interrupted runs lose nothing: every result is appended to a JSON-lines file as soon as it exists.
A resumed run reads the file back; the first time it meets a stored result, the :class:`BudgetClock`
is charged the training time recorded with it (that time *was* spent, just before the interruption),
so the wall-clock comparison is the same as for an uninterrupted run. Later hits on the same prefix
in the same run are free, like any cache hit.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def stable_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value`` (sorted keys), as 64 hex digits."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CachedEvaluation:
    """One trained prefix: its 32-number performance vector and what training it cost."""

    key: str  # hash of the prefix and every training setting
    layers: list[dict[str, Any]]  # the hidden layers (the output layer is implicit)
    perf: list[float]  # accuracy of each validation batch
    train_time_s: float  # seconds the training and evaluation took when it was computed

    @property
    def accuracy(self) -> float:
        return float(sum(self.perf) / len(self.perf))


class EvaluationCache:
    """A dict from key to :class:`CachedEvaluation`, mirrored to ``<folder>/<name>.jsonl`` if a folder is given."""

    def __init__(self, folder: str | os.PathLike | None = None, name: str = "evaluations"):
        self.path: Path | None = None
        self._entries: dict[str, CachedEvaluation] = {}
        if folder is not None:
            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            self.path = folder / f"{name}.jsonl"
            self._load()

    def _load(self) -> None:
        """Read the stored results back.

        Only a cut-off last line (no newline: the process died while writing it) is expected; it is
        cut from the file so the next result starts on a fresh line, and that one result is simply
        recomputed. Any other unreadable line means the file was damaged or edited: that is an error
        naming the file and line, because skipping it would silently retrain (and re-charge) a result.
        """
        assert self.path is not None
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1  # bytes up to the last complete line
        for number, line in enumerate(data[:end].decode("utf-8", errors="replace").splitlines(), start=1):
            entry = self._parse(line, number)
            self._entries[entry.key] = entry
        if end < len(data):
            with open(self.path, "r+b") as file:
                file.truncate(end)

    def _parse(self, line: str, number: int) -> CachedEvaluation:
        where = f"{self.path}: line {number}"
        advice = "delete the file (its results are recomputed) or restore it from a copy"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where} is not valid JSON ({error}); the evaluation cache is damaged: {advice}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{where} is not an object; the evaluation cache is damaged: {advice}")
        missing = [name for name in ("key", "layers", "perf", "train_time_s") if name not in raw]
        if missing:
            raise ValueError(f"{where} lacks the field(s) {missing}; the evaluation cache is damaged: {advice}")
        try:
            perf = [float(p) for p in raw["perf"]]
            train_time_s = float(raw["train_time_s"])
        except (TypeError, ValueError):
            raise ValueError(f"{where} has perf={raw['perf']!r}, train_time_s={raw['train_time_s']!r}; expected "
                             f"numbers; the evaluation cache is damaged: {advice}") from None
        if not isinstance(raw["key"], str) or not isinstance(raw["layers"], list) or not perf \
                or not all(math.isfinite(p) for p in perf) or not math.isfinite(train_time_s):
            raise ValueError(f"{where} holds an impossible entry (key, layers, finite non-empty perf and "
                             f"train_time_s expected); the evaluation cache is damaged: {advice}")
        return CachedEvaluation(raw["key"], raw["layers"], perf, train_time_s)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CachedEvaluation | None:
        return self._entries.get(key)

    def put(self, entry: CachedEvaluation) -> None:
        if not all(math.isfinite(p) for p in entry.perf):
            raise ValueError(f"perf must be finite numbers, got {entry.perf}")
        self._entries[entry.key] = entry
        if self.path is not None:
            try:
                with self.path.open("a") as f:
                    f.write(json.dumps(asdict(entry)) + "\n")
                    f.flush()
            except OSError as error:  # e.g. the disk is full: say which file could not be written
                raise OSError(error.errno, f"could not append to the evaluation cache {self.path}: "
                                           f"{error.strerror}") from error


class BudgetClock:
    """Seconds a search has used: real time while running plus charges for resumed results.

    ``start`` and ``stop`` bracket the search (a stopped clock no longer advances; ``start`` resumes it).
    """

    def __init__(self, budget_s: float | None = None):
        if budget_s is not None and not (isinstance(budget_s, (int, float)) and budget_s > 0):
            raise ValueError(f"budget_s must be None or a number > 0, got {budget_s!r}")
        self.budget_s = budget_s
        self.charged_s = 0.0
        self._running_since: float | None = None
        self._accumulated_s = 0.0

    def start(self) -> None:
        if self._running_since is None:
            self._running_since = time.perf_counter()

    def stop(self) -> None:
        if self._running_since is not None:
            self._accumulated_s += time.perf_counter() - self._running_since
            self._running_since = None

    @property
    def running(self) -> bool:
        return self._running_since is not None

    def charge(self, seconds: float) -> None:
        """Count ``seconds`` as spent (a result computed before an interruption)."""
        self.charged_s += float(seconds)

    @property
    def elapsed(self) -> float:
        running = 0.0 if self._running_since is None else time.perf_counter() - self._running_since
        return self._accumulated_s + running + self.charged_s

    @property
    def exhausted(self) -> bool:
        return self.budget_s is not None and self.elapsed >= self.budget_s

    def fraction(self) -> float:
        """Share of the budget used (0 without a budget)."""
        return 0.0 if self.budget_s is None else min(self.elapsed / self.budget_s, 1.0)
