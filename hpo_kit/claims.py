"""Claims tables: what a paper says, what the kit measured, and a verdict that follows from the evidence.

One rule decides every claim in every notebook. A claim (:class:`Claim`) states its *estimand*
(what is estimated, in which units, with which sign), what it says about it, and in advance:

* ``direction="greater"`` / ``"less"``: the estimand is above / below ``threshold``;
* ``direction="equivalent"``: the estimand lies within ``+-margin`` of ``threshold`` (a "no
  difference" claim; never "the interval contains 0");
* ``alpha``: the error rate of each one-sided decision (default 0.05);
* ``min_n``: the smallest sample (seeds, steps, configurations, tasks: ``unit``) it is decided on.

The claim's paper package computes an :class:`hpo_kit.stats.Estimate` at ``claim.ci_level``
(a two-sided ``1 - 2 alpha`` interval: each side is a one-sided test at ``alpha``, and for
equivalence this is the two one-sided tests, TOST). :func:`decide` then gives one of four verdicts:

* **holds**: the interval lies entirely on the claimed side (inside the margin, for equivalence);
* **does not hold**: it lies entirely on the other side (outside the margin), boundary included;
* **inconclusive**: neither; the row says roughly what sample would decide it, from the spread
  observed;
* **not measured**: nothing could be computed, or the sample is below ``min_n``.

A claim that needs several comparisons at once (``n_comparisons`` > 1, e.g. "some hyperparameter's
importance changes") is decided at the Holm/Bonferroni level ``alpha / n_comparisons`` for the
comparison with the smallest p-value, which is Holm's first step (see :func:`hpo_kit.stats.holm`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import pandas as pd

from hpo_kit.stats import Estimate
from hpo_kit.validation import check_int

HOLDS, FAILS, INCONCLUSIVE, UNMEASURED = "holds", "does not hold", "inconclusive", "not measured"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, UNMEASURED)
DIRECTIONS = ("greater", "less", "equivalent")


def format_value(value: Any, digits: int = 4) -> str:
    """Numbers to ``digits`` significant digits; everything else as text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}g}"
    return str(value)


@dataclass(frozen=True)
class Claim:
    """A claim as the paper makes it and as the kit tests it: stated before anything is measured."""

    claim: str            # what the paper says, in words
    paper: str            # the paper's number or statement, quoted only where it can be checked
    source: str           # where it can be checked (e.g. "arXiv 2003.10865, abstract")
    estimand: str         # what is estimated: quantity, units, sign ("> 0: A-BOHB better")
    direction: str        # greater | less | equivalent
    threshold: float = 0.0
    margin: float = 0.0   # equivalence margin (direction == "equivalent")
    alpha: float = 0.05   # one-sided error rate of each decision
    min_n: int = 2        # smallest sample the claim is decided on
    unit: str = "seeds"   # what n counts
    n_comparisons: int = 1  # comparisons in the claim (Holm over them)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha must be in (0, 0.5), got {self.alpha!r}")
        if self.direction == "equivalent" and not self.margin > 0:
            raise ValueError(f"an equivalence claim needs margin > 0, got {self.margin!r}")
        if self.direction != "equivalent" and self.margin:
            raise ValueError("margin is only for direction='equivalent'; use threshold for a directional claim")
        check_int("min_n", self.min_n, 1)
        check_int("n_comparisons", self.n_comparisons, 1)
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be finite, got {self.threshold!r}")

    @property
    def ci_level(self) -> float:
        """The two-sided level of the interval the claim is decided on: 1 - 2 alpha / comparisons."""
        return 1 - 2 * self.alpha / self.n_comparisons

    def with_comparisons(self, k: int) -> "Claim":
        return replace(self, n_comparisons=max(int(k), 1))

    def rule(self) -> str:
        pct = f"{100 * self.ci_level:.4g} %"
        if self.direction == "equivalent":
            lo, hi = self.threshold - self.margin, self.threshold + self.margin
            return f"holds if the {pct} CI lies within [{format_value(lo)}, {format_value(hi)}] (TOST, alpha {self.alpha:g})"
        side = ">" if self.direction == "greater" else "<"
        extra = f", Holm over {self.n_comparisons}" if self.n_comparisons > 1 else ""
        return f"holds if the {pct} CI lies {side} {format_value(self.threshold)} (one-sided alpha {self.alpha:g}{extra})"


@dataclass
class ClaimRow:
    """A decided claim: the claim, the evidence and the verdict that follows from it."""

    claim: Claim
    estimate: Estimate | None
    verdict: str
    reason: str = ""    # why this verdict; for "inconclusive", what sample would decide it
    detail: str = ""    # context for the reader (means of each side, counts, ...); not used by the verdict
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        c, e = self.claim, self.estimate
        evidence = e.as_dict() if e is not None else {"estimate": None, "ci_low": None, "ci_high": None,
                                                      "ci_level": c.ci_level, "n": 0, "method": "", "p_value": None}
        evidence = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in evidence.items()}
        return {"claim": c.claim, "paper": c.paper, "source": c.source, "estimand": c.estimand,
                "direction": c.direction, "threshold": c.threshold, "margin": c.margin, "alpha": c.alpha,
                "min_n": c.min_n, "unit": c.unit, "n_comparisons": c.n_comparisons, "rule": c.rule(),
                **evidence, "verdict": self.verdict, "reason": self.reason, "detail": self.detail, **self.extra}


def _units_to_decide(claim: Claim, e: Estimate) -> str:
    """Roughly the sample that would decide an inconclusive claim, from the observed spread.

    The half-width shrinks like 1/sqrt(n): n' = n * (half-width / gap)^2, where gap is the distance
    from the estimate to the boundary the interval would have to clear.
    """
    if e.n < 1 or not math.isfinite(e.half_width) or e.half_width <= 0:
        return "a larger sample would be needed"
    if claim.direction == "equivalent":
        distance = abs(e.value - claim.threshold)
        gap = abs(claim.margin - distance)
    else:
        gap = abs(e.value - claim.threshold)
    if gap <= 1e-12 * max(1.0, abs(claim.threshold)):
        return "the estimate sits on the boundary: no feasible sample would decide it"
    needed = math.ceil(e.n * (e.half_width / gap) ** 2)
    if needed > 10**6:
        return f"over a million {claim.unit} would be needed at the observed spread"
    return f"about {max(needed, e.n + 1)} {claim.unit} (now {e.n}) would decide it at the observed spread"


def decide(claim: Claim, estimate: Estimate | None, *, detail: str = "", not_measured: str = "",
           **extra: Any) -> ClaimRow:
    """The verdict of ``claim`` on ``estimate``: the one rule of the kit (see the module docstring).

    ``not_measured`` forces "not measured" with that reason (e.g. "needs dataset = cifar10").
    The estimate's interval must be at ``claim.ci_level``.
    """
    if not_measured:
        return ClaimRow(claim, estimate, UNMEASURED, not_measured, detail, extra)
    if estimate is None or not math.isfinite(estimate.value):
        return ClaimRow(claim, estimate, UNMEASURED, "nothing to estimate from", detail, extra)
    if estimate.n < claim.min_n:
        return ClaimRow(claim, estimate, UNMEASURED,
                        f"n = {estimate.n} {claim.unit}, below the claim's minimum of {claim.min_n}", detail, extra)
    if abs(estimate.level - claim.ci_level) > 1e-9:
        raise ValueError(f"claim {claim.claim!r} is decided on a {claim.ci_level:.4g} interval, "
                         f"got an estimate at level {estimate.level:.4g}: compute it with level=claim.ci_level")
    lo, hi = estimate.low, estimate.high
    if math.isnan(lo) or math.isnan(hi):
        return ClaimRow(claim, estimate, UNMEASURED, "no interval could be computed", detail, extra)
    t = claim.threshold
    if hi - lo <= 0 and _would_hold(claim, lo, hi):
        # Every unit gave the same value (ties: both arms identical, a saturated task). An interval of
        # no width says nothing about the spread, so it cannot show a difference, equivalence or
        # non-inferiority; counting on it would let a design that ties by construction decide the claim.
        why = ("every unit gave the same value (ties), so the interval has zero width: ties cannot show "
               + ("equivalence" if claim.direction == "equivalent" else "a difference")
               + f"; n = {estimate.n} {claim.unit}")
        return ClaimRow(claim, estimate, UNMEASURED, why, detail, {"zero_width": True, **extra})
    if claim.direction == "greater":
        verdict = HOLDS if lo > t else FAILS if hi <= t else INCONCLUSIVE
    elif claim.direction == "less":
        verdict = HOLDS if hi < t else FAILS if lo >= t else INCONCLUSIVE
    else:
        m = claim.margin
        verdict = (HOLDS if (t - m < lo and hi < t + m) else
                   FAILS if (lo >= t + m or hi <= t - m) else INCONCLUSIVE)
    reason = _units_to_decide(claim, estimate) if verdict == INCONCLUSIVE else ""
    return ClaimRow(claim, estimate, verdict, reason, detail, extra)


def _would_hold(claim: Claim, lo: float, hi: float) -> bool:
    t = claim.threshold
    if claim.direction == "greater":
        return lo > t
    if claim.direction == "less":
        return hi < t
    return t - claim.margin < lo and hi < t + claim.margin


def decide_all(claim: Claim, estimates_at: Callable[[float], Sequence[Estimate | None]], labels: Sequence[str], *,
               detail: str = "", **extra: Any) -> ClaimRow:
    """A claim that *every* one of several comparisons is on the claimed side (intersection-union).

    ``estimates_at(level)`` computes each comparison's estimate at a two-sided ``level``. The claim

    * **holds** if every comparison holds at ``claim.ci_level`` (an intersection-union test needs no
      correction: it is wrong only if the comparison that is in truth off the claimed side holds);
    * **does not hold** only if some comparison does not hold at Holm's level ``1 - 2 alpha / k``
      (k comparisons; ``2k`` for equivalence, which can fail on either side of its margin): "any of k
      fails" at the unadjusted level would be wrong in up to k alpha of the experiments where the
      claim is true at its boundary;
    * is **inconclusive** otherwise, and **not measured** if some comparison could not be estimated.

    The row shows the comparison that decided it (the least favourable one when all hold).
    """
    k = len(labels)
    if k == 0:
        return decide(claim, None, not_measured="no comparison could be made", detail=detail, **extra)
    at_claim = list(estimates_at(claim.ci_level))
    if len(at_claim) != k:
        raise ValueError(f"estimates_at gave {len(at_claim)} estimates for {k} labels")
    rows = [decide(claim, e) for e in at_claim]
    # An equivalence comparison can fail on either side of its margin, so its "does not hold" is
    # decided at alpha / (2k) per side: with the truth inside the margin and a wide interval, the two
    # sides together would otherwise give up to 2 alpha of false "does not hold".
    family = claim.with_comparisons(2 * k if claim.direction == "equivalent" else k)
    at_holm = list(estimates_at(family.ci_level)) if family.n_comparisons > 1 else at_claim
    fails = [decide(family, e).verdict == FAILS for e in at_holm]
    each = "; ".join(f"{lab}: {e.text() if e is not None else 'n/a'} ({r.verdict})"
                     for lab, e, r in zip(labels, at_claim, rows))
    text = f"{each}; {detail}" if detail else each
    verdicts = [r.verdict for r in rows]
    if UNMEASURED in verdicts:
        i, verdict = verdicts.index(UNMEASURED), UNMEASURED
    elif any(fails):
        i, verdict = fails.index(True), FAILS
    elif all(v == HOLDS for v in verdicts):
        if claim.direction == "equivalent":
            i = int(max(range(k), key=lambda j: abs(at_claim[j].value - claim.threshold) + at_claim[j].half_width))
        else:
            i = int(max(range(k), key=lambda j: at_claim[j].p_value if math.isfinite(at_claim[j].p_value) else 1.0))
        verdict = HOLDS
    else:
        i, verdict = next(j for j, v in enumerate(verdicts) if v != HOLDS), INCONCLUSIVE
    if verdict == FAILS:
        estimate, reason = at_holm[i], f"does not hold at Holm's level over {family.n_comparisons} comparisons"
        shown = family
    else:
        estimate, reason, shown = at_claim[i], rows[i].reason, claim
    return ClaimRow(shown, estimate, verdict, reason, f"decided by {labels[i]}; {text}",
                    {"decided_by": labels[i], **extra})


def decide_family(claim: Claim, estimates: Sequence[Estimate], labels: Sequence[str], *,
                  detail: str = "", **extra: Any) -> ClaimRow:
    """A claim that at least one of several comparisons is on the claimed side (Holm's first step).

    ``estimates`` must be at level ``claim.with_comparisons(len(estimates)).ci_level``; the one with
    the smallest p-value decides. Rows whose interval lies on the other side for *every* comparison
    do not hold; otherwise the claim is inconclusive.
    """
    if len(estimates) != len(labels):
        raise ValueError("estimates and labels need the same length")
    family = claim.with_comparisons(len(estimates))
    usable = [(e, lab) for e, lab in zip(estimates, labels) if e is not None and e.is_finite]
    if not usable:
        return decide(family, None, detail=detail, **extra)
    rows = [(decide(family, e), e, lab) for e, lab in usable]
    holding = [r for r in rows if r[0].verdict == HOLDS]
    if holding:
        best = min(holding, key=lambda r: (r[1].p_value if math.isfinite(r[1].p_value) else 1.0))
    elif all(r[0].verdict == FAILS for r in rows):
        best = max(rows, key=lambda r: r[1].value if claim.direction == "greater" else -r[1].value)
    else:
        pending = [r for r in rows if r[0].verdict != FAILS] or rows
        best = min(pending, key=lambda r: (r[1].p_value if math.isfinite(r[1].p_value) else 1.0))
    row, estimate, label = best
    text = f"{label}; {detail}" if detail else label
    return ClaimRow(family, estimate, row.verdict, row.reason, text, {"decided_by": label, **extra})


def require_columns(frame: Any, name: str, columns: Sequence[str]) -> None:
    """Claim functions take measurement frames: refuse one that is not a DataFrame or lacks a column."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; it needs {list(columns)}, has {list(frame.columns)}")


# ------------------------------------------------------------------------------ tables
def _rows(claims: Sequence[ClaimRow] | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c.as_dict() if isinstance(c, ClaimRow) else c for c in claims]


def verdict_counts(claims: Sequence[ClaimRow] | Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many claims got each of the four verdicts."""
    counts = {v: 0 for v in VERDICTS}
    for row in _rows(claims):
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return counts


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)


def _evidence_text(row: dict[str, Any]) -> str:
    if row.get("estimate") is None:
        return "—"
    level = row.get("ci_level")
    low, high = row.get("ci_low"), row.get("ci_high")
    if (low is None) != (high is None):
        # a one-sided interval: JSON has no infinity, so results.json stores the open end as null
        low, high = (-math.inf if low is None else low), (math.inf if high is None else high)
    ci = f" [{format_value(low, 3)}, {format_value(high, 3)}]" if low is not None else ""
    pct = f" {100 * level:.4g} % CI" if ci and level else ""
    return f"{format_value(row['estimate'], 3)}{ci}{pct}, n = {row.get('n')} {row.get('unit', '')}".strip()


def claims_frame(claims: Sequence[ClaimRow] | Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The claims table as a DataFrame (ClaimRow objects or their ``as_dict`` form)."""
    rows = _rows(claims)
    frame = pd.DataFrame([{"claim": r["claim"], "paper": r["paper"], "source": r["source"], "estimand": r["estimand"],
                           "measured": _evidence_text(r), "rule": r["rule"], "verdict": r["verdict"],
                           "note": "; ".join(x for x in (r.get("reason", ""), r.get("detail", "")) if x)}
                          for r in rows],
                         columns=["claim", "paper", "source", "estimand", "measured", "rule", "verdict", "note"])
    return frame


def claims_markdown(claims: Sequence[ClaimRow] | Sequence[dict[str, Any]]) -> str:
    """The claims table as Markdown (used in notebooks and REPORT.md), with the four counts."""
    frame = claims_frame(claims)
    if frame.empty:
        return "_No claims recorded._"

    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    header = ("| claim | paper (source) | estimand | measured | rule | verdict | note |\n"
              "|---|---|---|---|---|---|---|\n")
    body = "".join(f"| {cell(r.claim)} | {cell(r.paper)} ({cell(r.source)}) | {cell(r.estimand)} | {cell(r.measured)} "
                   f"| {cell(r.rule)} | **{r.verdict}** | {cell(r.note)} |\n" for r in frame.itertuples())
    return header + body + f"\n{counts_text(verdict_counts(claims))}.\n"
