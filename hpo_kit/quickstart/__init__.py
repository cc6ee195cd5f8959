"""Notebook 00 (quickstart): a default CNN against a small random search, and the kit's claims rule on them."""
from hpo_kit.quickstart.experiment import (SeedComparison, TrainedModel, compare_on_seed, comparisons_frame,
                                           curves_frame, train_and_predict)

__all__ = ["SeedComparison", "TrainedModel", "compare_on_seed", "comparisons_frame", "curves_frame",
           "train_and_predict"]
