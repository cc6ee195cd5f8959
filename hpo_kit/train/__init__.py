"""Training image classifiers for the kit: networks from layer lists, a deterministic resumable trainer."""
from hpo_kit.train.augment import cutout, mixup, mixup_loss
from hpo_kit.train.networks import InvalidNetwork, build_network, check_network, count_parameters
from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.train.threads import limit_torch_threads
from hpo_kit.train.trainer import (
    TrainResult,
    TrainSettings,
    TrainState,
    batch_accuracies,
    evaluate_error,
    train,
)

__all__ = [
    "InvalidNetwork", "TrainResult", "TrainSettings", "TrainState", "batch_accuracies", "build_network",
    "check_network", "count_parameters", "cutout", "evaluate_error", "limit_torch_threads", "mixup",
    "mixup_loss", "synthetic_splits", "train",
]
