"""The quickstart's two claims, decided by the kit's one rule (hpo_kit.claims)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hpo_kit import stats
from hpo_kit.claims import Claim, ClaimRow, decide

if TYPE_CHECKING:
    from hpo_kit.quickstart.experiment import TrainedModel

RANDOM_BEATS_DEFAULT = Claim(
    claim="Random search finds a configuration better than the default one",
    paper="random search finds models as good as or better than manual choices",
    source="Bergstra & Bengio 2012, JMLR 13, abstract",
    estimand="test error of the default minus that of random search's pick (both trained with the same seed), "
             "in points; > 0: the pick is better",
    direction="greater", threshold=0.0, min_n=100, unit="test images")

LONGER_TRAINING_HELPS = Claim(
    claim="Training longer lowers validation error (what multi-fidelity HPO relies on)",
    paper="more resource (epochs) gives lower loss, on average over configurations",
    source="Li et al. 2018, JMLR 18 (Hyperband), Sec. 1 (the premise of the method)",
    estimand="validation error after 1 epoch minus after the last epoch, mean over the configurations tried, "
             "in points; > 0: longer is better",
    direction="greater", threshold=0.0, min_n=3, unit="configurations")


def random_beats_default(default_correct: np.ndarray, pick_correct: np.ndarray,
                         claim: Claim = RANDOM_BEATS_DEFAULT) -> ClaimRow:
    """Paired over test images: the same images classified by both models (a paired t, i.e. McNemar's idea)."""
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
    """Paired over configurations: each configuration's first-epoch error against its last-epoch error."""
    if curves.empty or curves["epoch"].max() < 2:
        return decide(claim, None, not_measured="needs epochs >= 2")
    first = curves[curves["epoch"] == 1].set_index("config")["val_error"]
    last = curves.sort_values("epoch").groupby("config")["val_error"].last()
    last = last.loc[first.index]
    estimate = stats.paired_mean_ci(first.to_numpy(), last.to_numpy(), claim.ci_level).scaled(100)
    improved = int((first > last).sum())
    return decide(claim, estimate, detail=f"{improved} of {len(first)} configurations improved from epoch 1 to "
                                          f"epoch {int(curves['epoch'].max())}")


def quickstart_claims(default: TrainedModel, pick: TrainedModel, curves: pd.DataFrame) -> list[ClaimRow]:
    """Both rows of the notebook's claims table."""
    return [random_beats_default(default.test_correct, pick.test_correct), longer_training_helps(curves)]
