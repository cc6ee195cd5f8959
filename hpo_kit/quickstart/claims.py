"""The quickstart's claims, decided by the kit's one rule (hpo_kit.claims).

* :func:`random_beats_default` -- the general claim ("random search beats the default"). Its unit is
  the **search seed**: each seed runs its own random search and trains the default and the pick with
  that seed; the claim is a paired t interval over seeds of the test-error difference. One pair of
  trained models cannot decide it: two CNNs differ by a few tenths of a point from their seeds alone,
  and a test set of thousands of images makes that difference look certain.
* :func:`pick_beats_default_here` -- the narrow statement about *this* pair and seed: the pick
  classifies this data set's test distribution better than the default, both as trained here. Paired
  over test images. It says nothing about another seed's search (its wording says so).
* :func:`longer_training_helps` -- over the configurations one search trained.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hpo_kit import stats
from hpo_kit.claims import Claim, ClaimRow, decide, require_columns

if TYPE_CHECKING:
    from hpo_kit.quickstart.experiment import TrainedModel

RANDOM_BEATS_DEFAULT = Claim(
    claim="Random search finds a configuration better than the default one",
    paper="random search finds models as good as or better than manual choices",
    source="Bergstra & Bengio 2012, JMLR 13, abstract",
    estimand="per search seed: test error of the default minus that of random search's pick (both trained with "
             "that seed), in points; mean over seeds (> 0: the pick is better)",
    direction="greater", threshold=0.0, min_n=3, unit="search seeds")

PICK_BEATS_DEFAULT_HERE = Claim(
    claim="This run's pick classifies test images better than the default (this pair and seed only)",
    paper="(the narrow version: one search, one training seed; it does not generalise to other seeds)",
    source="Bergstra & Bengio 2012, JMLR 13, abstract",
    estimand="per test image: correct(pick) minus correct(default), both trained with the first seed, in points "
             "(> 0: the pick is better on this data set's test distribution)",
    direction="greater", threshold=0.0, min_n=100, unit="test images")

LONGER_TRAINING_HELPS = Claim(
    claim="Training longer lowers validation error (what multi-fidelity HPO relies on)",
    paper="more resource (epochs) gives lower loss, on average over configurations",
    source="Li et al. 2018, JMLR 18 (Hyperband), Sec. 1 (the premise of the method)",
    estimand="validation error after 1 epoch minus after the last epoch, mean over the configurations tried, "
             "in points; > 0: longer is better",
    direction="greater", threshold=0.0, min_n=3, unit="configurations")


def random_beats_default(comparisons: pd.DataFrame, claim: Claim = RANDOM_BEATS_DEFAULT) -> ClaimRow:
    """Paired over search seeds (``comparisons``: ``seed``, ``default_test_error``, ``pick_test_error``).

    End-to-end null (hpo_kit/quickstart/null_checks.py): an objective on which no configuration is
    better in expectation, so the pick equals the default in expectation.
    """
    require_columns(comparisons, "comparisons", ("seed", "default_test_error", "pick_test_error"))
    if comparisons.seed.duplicated().any():
        raise ValueError(f"comparisons must hold one row per search seed, got seeds {comparisons.seed.tolist()}")
    d = comparisons.default_test_error.to_numpy(float)
    p = comparisons.pick_test_error.to_numpy(float)
    estimate = stats.paired_mean_ci(d, p, claim.ci_level).scaled(100)
    better = int((p < d).sum())
    ties = int((p == d).sum())
    return decide(claim, estimate, detail=f"the pick had the lower test error in {better} of {len(d)} search seeds"
                                          f" ({ties} ties); mean test error {100 * d.mean():.2f} % (default) vs "
                                          f"{100 * p.mean():.2f} % (pick)")


def pick_beats_default_here(default_correct: np.ndarray, pick_correct: np.ndarray,
                            claim: Claim = PICK_BEATS_DEFAULT_HERE) -> ClaimRow:
    """Paired over test images: the same images classified by both models (a paired t, i.e. McNemar's idea).

    A statement about one pair of trained models. No null the experiment can produce removes the
    difference between two different trained models (two trainings differ by their seed alone), so it
    has no end-to-end null; the seed-level :func:`random_beats_default` is the general claim.
    """
    a = np.asarray(default_correct, dtype=float)
    b = np.asarray(pick_correct, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"both models must be scored on the same test images, got {a.shape} and {b.shape}")
    # error(default) - error(pick) per image = correct(pick) - correct(default)
    estimate = stats.paired_mean_ci(b, a, claim.ci_level).scaled(100)
    discordant = int((a != b).sum())
    return decide(claim, estimate, detail=f"test error {100 * (1 - a.mean()):.2f} % (default) vs "
                                          f"{100 * (1 - b.mean()):.2f} % (pick); {discordant} images classified "
                                          "differently")


def longer_training_helps(curves: pd.DataFrame, claim: Claim = LONGER_TRAINING_HELPS) -> ClaimRow:
    """Paired over configurations: each configuration's first-epoch error against its last-epoch error.

    End-to-end null (hpo_kit/quickstart/null_checks.py): learning curves flat in expectation.
    """
    if curves.empty or curves["epoch"].max() < 2:
        return decide(claim, None, not_measured="needs epochs >= 2")
    first = curves[curves["epoch"] == 1].set_index("config")["val_error"]
    last = curves.sort_values("epoch").groupby("config")["val_error"].last()
    last = last.loc[first.index]
    estimate = stats.paired_mean_ci(first.to_numpy(), last.to_numpy(), claim.ci_level).scaled(100)
    improved = int((first > last).sum())
    return decide(claim, estimate, detail=f"{improved} of {len(first)} configurations improved from epoch 1 to "
                                          f"epoch {int(curves['epoch'].max())}")


def quickstart_claims(comparisons: pd.DataFrame, default: TrainedModel, pick: TrainedModel,
                      curves: pd.DataFrame) -> list[ClaimRow]:
    """The rows of the notebook's claims table (``default`` and ``pick``: the first seed's pair)."""
    return [random_beats_default(comparisons), pick_beats_default_here(default.test_correct, pick.test_correct),
            longer_training_helps(curves)]
