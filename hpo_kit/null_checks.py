"""End-to-end null checks: does a verdict come from the method's effect, or from how the experiment was built?

A claim function's calibration test (``tests/test_claims_*.py``) feeds it clean simulated data, so it
cannot see a defect upstream of the rule: arms that share evaluations, a target one arm reaches by
definition, a sample selected on the quantity tested, a margin wider than the benchmark's spread, two
ablations that cannot differ. Each of those fixes a verdict before anything is measured.

An end-to-end null check runs **the notebook's own experiment and analysis code** (the same runner, the
same frames, the same claim function) with the compared factor removed by construction: both arms the
same method under different seeds, or an objective on which the factor cannot matter. Then every
verdict the claim gives is false in a known direction, and we count how often it comes out:

* ``false holds``: the claim "holds" although the factor was removed;
* ``false does not hold``: it "does not hold" although, with the factor removed, nothing favours the
  other side either (a symmetric null: the boundary is the truth, so a calibrated rule says "does not
  hold" at most ``alpha`` of the time too). Cases for which this verdict is correct leave it out of
  ``false_verdicts``.

**The bar**: each counted rate's one-sided upper 95 % Clopper-Pearson bound is at most
``alpha + 0.025``. A rule that is exactly at ``alpha`` needs roughly 1,000 replicates to pass it
reliably; conservative rules pass with fewer.

Each paper package lists its cases in ``hpo_kit/<paper>/null_checks.py`` (function ``cases()``);
:func:`all_cases` gathers them, ``bench/calibration_e2e.py`` prints one row per case and
``tests/test_null_checks_*.py`` run the fast ones (``slow=False``) in ``make test``. A claim with no
null that the kit's code can produce says so in its claim function's docstring.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from scipy import stats as sps
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED, ClaimRow
from hpo_kit.progress import progress

#: the bar's slack over alpha, in rate units (2.5 points)
BAR_SLACK = 0.025
#: the bound the bar is read from: one-sided upper Clopper-Pearson bound at this confidence
BAR_CONFIDENCE = 0.95
DESIGNS = ("smoke", "workshop", "reference", "paper")
#: the paper packages that may define cases, in notebook order
PACKAGES = ("quickstart", "trl_hpo", "mbrl_hpo", "nas", "abohb", "gen_vae")


@dataclass(frozen=True)
class NullCase:
    """One claim, one design, the compared factor removed: how often is the verdict false?

    ``replicate(r)`` runs replicate ``r`` (every random source seeded from ``r``) of the notebook's own
    experiment and analysis with the factor removed, and returns the decided :class:`ClaimRow`.
    """

    notebook: str                 # "04_abohb_stopping_vs_promotion"
    claim: str                    # the claim, in words (as in the claims table, or a short unique form)
    design: str                   # workshop | paper (the profile whose design the replicate follows)
    removed: str                  # what was removed, and how ("both arms ASHA promotion, other seeds")
    replicate: Callable[[int], ClaimRow]
    false_verdicts: tuple[str, ...] = (HOLDS, FAILS)
    slow: bool = False            # too long for make test: bench/calibration_e2e.py (and pytest -m long) only
    n_replicates: int = 400
    alpha: float = 0.05
    note: str = ""                # anything the reader needs (e.g. "stand-in objective: ...")

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {DESIGNS}, got {self.design!r}")
        bad = [v for v in self.false_verdicts if v not in (HOLDS, FAILS, INCONCLUSIVE, UNMEASURED)]
        if bad or not self.false_verdicts:
            raise ValueError(f"false_verdicts must be a non-empty subset of the four verdicts, got {self.false_verdicts!r}")
        if self.n_replicates < 1:
            raise ValueError(f"n_replicates must be >= 1, got {self.n_replicates!r}")

    @property
    def key(self) -> str:
        return f"{self.notebook} | {self.claim} | {self.design}"


def lower_bound(k: int, n: int, confidence: float = BAR_CONFIDENCE) -> float:
    """One-sided lower Clopper-Pearson bound of a rate observed as ``k`` of ``n``."""
    if n <= 0 or k <= 0:
        return 0.0
    return float(sps.beta.ppf(1 - confidence, k, n - k + 1))


def upper_bound(k: int, n: int, confidence: float = BAR_CONFIDENCE) -> float:
    """One-sided upper Clopper-Pearson bound of a rate observed as ``k`` of ``n``."""
    if n <= 0:
        return 1.0
    return 1.0 if k >= n else float(sps.beta.ppf(confidence, k + 1, n - k))


@dataclass
class NullResult:
    """The verdicts a case gave over its replicates, and whether the false ones stay within the bar."""

    case: NullCase
    verdicts: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.verdicts)

    def count(self, verdict: str) -> int:
        return sum(v == verdict for v in self.verdicts)

    def rate(self, verdict: str) -> float:
        return self.count(verdict) / self.n if self.n else math.nan

    def bound(self, verdict: str) -> float:
        return upper_bound(self.count(verdict), self.n)

    @property
    def limit(self) -> float:
        return self.case.alpha + BAR_SLACK

    @property
    def within_bar(self) -> bool:
        return self.n > 0 and all(self.bound(v) <= self.limit for v in self.case.false_verdicts)

    @property
    def outside_bar(self) -> bool:
        """Shown to be outside the bar: a counted rate's lower 95 % bound is above the limit (more
        replicates cannot bring it back)."""
        return self.n > 0 and any(lower_bound(self.count(v), self.n) > self.limit for v in self.case.false_verdicts)

    @property
    def status(self) -> str:
        """"within", "outside", or "open" (neither shown yet: fewer replicates than needed)."""
        return "within" if self.within_bar else "outside" if self.outside_bar else "open"

    def summary(self) -> str:
        parts = []
        for v in (HOLDS, FAILS):
            mark = "" if v in self.case.false_verdicts else " (not false here)"
            parts.append(f"{v}: {self.count(v)}/{self.n} = {self.rate(v):.1%} (upper 95 % {self.bound(v):.1%}){mark}")
        return (f"{self.case.key}: " + "; ".join(parts)
                + f"; inconclusive {self.count(INCONCLUSIVE)}, not measured {self.count(UNMEASURED)}; "
                + ("within" if self.within_bar else "OUTSIDE") + f" the bar ({self.limit:.1%})")

    def as_row(self) -> dict:
        return {"notebook": self.case.notebook, "claim": self.case.claim, "design": self.case.design,
                "removed": self.case.removed, "replicates": self.n,
                "false_holds": self.rate(HOLDS), "false_holds_upper95": self.bound(HOLDS),
                "does_not_hold": self.rate(FAILS), "does_not_hold_upper95": self.bound(FAILS),
                "does_not_hold_counted": FAILS in self.case.false_verdicts,
                "holds_counted": HOLDS in self.case.false_verdicts,
                "inconclusive": self.rate(INCONCLUSIVE), "not_measured": self.rate(UNMEASURED),
                "bar": self.limit, "within_bar": self.within_bar, "status": self.status,
                "planned_replicates": self.case.n_replicates, "slow": self.case.slow, "note": self.case.note}


# ------------------------------------------------------------------ resumable measurements
def package_of(case: NullCase) -> str:
    """The paper package whose ``null_checks`` module defines ``case`` ("" for a case defined elsewhere)."""
    parts = getattr(case.replicate, "__module__", "").split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "hpo_kit" and parts[1] in PACKAGES else ""


def _hpo_kit_imports(path: Path, root: Path) -> set[Path]:
    """The kit's source files that ``path`` imports (anywhere in it, function-local imports included)."""
    import ast

    found: set[Path] = set()

    def add(dotted: str) -> None:
        parts = dotted.split(".")
        if parts[0] != "hpo_kit":
            return
        for n in range(len(parts), 1, -1):  # "hpo_kit.a.b" may name a module, a package or a name in one
            base = root.joinpath(*parts[1:n])
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    found.add(candidate)
                    return
        found.add(root / "__init__.py")

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                pkg = path.parent.relative_to(root.parent).parts
                module = ".".join(pkg[:len(pkg) - node.level + 1] + ((node.module,) if node.module else ()))
            else:
                module = node.module or ""
            add(module)
            for alias in node.names:  # "from hpo_kit.x import y" where y is a module
                add(f"{module}.{alias.name}")
    return found


#: kit modules that only show progress: they cannot change a verdict, so editing them keeps measurements
PRESENTATION_ONLY = ("progress.py",)


def code_files(package: str = "") -> list[Path]:
    """The kit's source files a case of ``package`` depends on: this module and the package's
    ``null_checks`` module, and every kit module they import, directly or through other kit modules (read
    from the import statements; importing a module runs its package's ``__init__``, so that counts too)."""
    root = Path(__file__).resolve().parent
    start = [Path(__file__).resolve()] + ([root / package / "null_checks.py"] if package else [])
    seen: set[Path] = set()
    todo = [p for p in start if p.is_file()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(_hpo_kit_imports(path, root) - seen)
        init = path.parent / "__init__.py"
        if path.name != "__init__.py" and init.is_file() and init not in seen:
            todo.append(init)
    return sorted(seen)


def code_digest(package: str = "") -> str:
    """A digest of :func:`code_files` but this module: a change to one notebook's code, or to a module no
    case uses (the runner, the report), does not invalidate another notebook's measurements; a change that
    can matter does."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in code_files(package):
        if path == Path(__file__).resolve() or path.relative_to(root).as_posix() in PRESENTATION_ONLY:
            continue  # counts, stores or shows verdicts; computes none (their imports still count)
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120]


class VerdictStore:
    """One case's replicate verdicts on disk (JSON lines), so a long measurement resumes where it stopped.

    The first line records what the verdicts depend on (the case's key, what was removed, alpha and the
    :func:`code_digest`); each further line is one finished replicate ``{"r": index, "verdict": ...}``.
    A shard written by other code or another case definition is never resumed into: it is moved aside
    (suffix ``.stale``) and the measurement starts again.
    """

    def __init__(self, root: str | Path, case: NullCase):
        self.case = case
        self.path = Path(root) / case.design / f"{case.notebook[:2]}-{_slug(case.claim)}.jsonl"
        self.header = {"key": case.key, "removed": case.removed, "alpha": case.alpha,
                       "false_verdicts": list(case.false_verdicts), "code": code_digest(package_of(case))}
        self.stale: Path | None = None

    def read(self) -> tuple[dict, dict[int, str]]:
        """The shard's header and verdicts as written, whatever code wrote them (empty if there is none).
        A line cut short by an interrupted write is dropped: that replicate runs again."""
        if not self.path.exists():
            return {}, {}
        lines = self.path.read_text().splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            header = {}
        found: dict[int, str] = {}
        for line in lines[1:]:
            try:
                item = json.loads(line)
                found[int(item["r"])] = str(item["verdict"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
        return header, found

    def load(self, move_stale: bool = True) -> dict[int, str]:
        """The verdicts already measured under these settings (replicate index -> verdict)."""
        header, found = self.read()
        if header == self.header:
            return found
        if header and move_stale:
            self.stale = self.path.with_suffix(".jsonl.stale")
            self.path.replace(self.stale)
        return {}

    def append(self, r: int, verdict: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        with open(self.path, "a") as f:
            if new:
                f.write(json.dumps(self.header) + "\n")
            f.write(json.dumps({"r": r, "verdict": verdict}) + "\n")


def check(case: NullCase, n_replicates: int | None = None, *, start: int = 0, show_progress: bool = True,
          store: str | Path | None = None) -> NullResult:
    """Run ``case`` for ``n_replicates`` replicates (default: the case's own number) from index ``start``.

    With ``store`` (a folder), each finished replicate's verdict is written to the case's
    :class:`VerdictStore` there, and replicates already stored under the same settings are not run again.
    """
    n = case.n_replicates if n_replicates is None else int(n_replicates)
    if n < 0 or start < 0:
        raise ValueError(f"n_replicates and start must be >= 0, got {n!r} and {start!r}")
    shard = VerdictStore(store, case) if store is not None else None
    done = shard.load() if shard is not None else {}
    result = NullResult(case)
    todo = [r for r in range(start, start + n) if r not in done]
    measured: dict[int, str] = {}
    for r in progress(todo, desc=case.key[:70], disable=not show_progress or not todo, leave=False):
        row = case.replicate(r)
        if not isinstance(row, ClaimRow):
            raise TypeError(f"{case.key}: replicate must return a ClaimRow, got {type(row).__name__}")
        measured[r] = row.verdict
        if shard is not None:
            shard.append(r, row.verdict)
    result.verdicts = [done[r] if r in done else measured[r] for r in range(start, start + n)]
    return result


def stored_result(case: NullCase, store: str | Path, any_code: bool = False) -> tuple[NullResult, str]:
    """The verdicts stored for ``case`` (all of them, in replicate order) and the code digest they were
    measured under; runs nothing. By default only a shard of the current code counts; ``any_code=True``
    reads one from other code too (a record says which code measured it)."""
    shard = VerdictStore(store, case)
    header, done = shard.read()
    same_case = {k: v for k, v in header.items() if k != "code"} == {k: v for k, v in shard.header.items() if k != "code"}
    if not same_case or (header.get("code") != shard.header["code"] and not any_code):
        done = {}
    result = NullResult(case)
    result.verdicts = [done[r] for r in sorted(done)]
    return result, str(header.get("code", shard.header["code"]))


def all_cases(packages: Sequence[str] = PACKAGES) -> list[NullCase]:
    """Every paper package's cases (``hpo_kit.<package>.null_checks.cases()``), in notebook order."""
    found: list[NullCase] = []
    for name in packages:
        try:
            module = importlib.import_module(f"hpo_kit.{name}.null_checks")
        except ModuleNotFoundError as err:
            if err.name != f"hpo_kit.{name}.null_checks":
                raise
            continue
        found.extend(module.cases())
    return found


__all__ = ["BAR_SLACK", "NullCase", "NullResult", "VerdictStore", "all_cases", "check", "code_digest", "code_files", "lower_bound", "stored_result", "upper_bound"]
