"""The layer-wise CNN environment of TRL-HPO: one hidden layer per step, each prefix trained from scratch.

An episode starts from an empty network. Each step appends one hidden layer (decoded from a
4-number action, see :mod:`hpo_kit.trl_hpo.actions`), the prefix plus a ``Linear -> 10`` output layer
is trained from scratch and evaluated on ``n_perf`` validation batches. That *performance vector*
and the action form the step's state token.

Rewards (the paper's): the mean accuracy gain over the previous prefix (so the first layer earns its
accuracy); an invalid network earns ``invalid_reward`` (-1) and ends the episode. The episode also
ends when the gain is below ``gain_threshold`` or the accuracy below ``accuracy_threshold``, or when
``max_layers`` layers are built. Because rewards are gains and there is no discount, an episode's
return is the accuracy of its last valid prefix (minus 1 if it ended invalid).

Validity is checked on shapes before anything is trained (:func:`hpo_kit.train.networks.check_network`),
so an impossible proposal costs nothing. An optional compute cap (``max_macs``, off by default)
rejects networks too expensive to train at laptop scale in the same way. Trained prefixes go through an :class:`EvaluationCache`.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpo_kit.data.splits import Splits
from hpo_kit.train.networks import InvalidNetwork, build_network, check_network
from hpo_kit.train.threads import ensure_threads_limited
from hpo_kit.train.trainer import TrainSettings, batch_accuracies, make_optimizer, train_one_epoch
from hpo_kit.trial import trial_seed
from hpo_kit.trl_hpo.actions import check_mode, decode_action
from hpo_kit.trl_hpo.cache import BudgetClock, CachedEvaluation, EvaluationCache, stable_hash


@dataclass(frozen=True)
class EnvConfig:
    """Everything that defines the environment (the paper's values as defaults)."""

    mode: str = "fixed"  # "fixed" or "faithful" (the original's quirks; see actions.py and the notebook)
    max_layers: int = 6  # hidden layers per episode at most (= state tokens)
    epochs: int = 5  # epochs each prefix is trained for, from scratch
    batch_size: int = 16  # training mini-batch size
    lr: float = 1e-3  # Adam learning rate for prefix training
    n_perf: int = 32  # length of the performance vector (validation batches)
    perf_batch_size: int = 16  # faithful mode: images per validation batch (the original scores 32 x 16 images)
    gain_threshold: float = 1e-4  # episode ends when the mean accuracy gain is below this
    accuracy_threshold: float = 0.6  # episode ends when the mean accuracy is below this
    invalid_reward: float = -1.0  # reward of a network that cannot be built (ends the episode)
    max_macs: int = 0  # compute cap: networks above this many multiply-adds per image count as invalid (0 = no cap)
    device: str = "cpu"  # torch device prefixes are trained on ("cuda" for the paper profile)

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if isinstance(self.max_macs, bool) or not isinstance(self.max_macs, int) or self.max_macs < 0:
            raise ValueError(f"EnvConfig.max_macs must be an integer >= 0 (0 = no cap), got {self.max_macs!r}")
        for name in ("max_layers", "epochs", "batch_size", "n_perf", "perf_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"EnvConfig.{name} must be an integer >= 1, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"EnvConfig.lr must be > 0, got {self.lr!r}")
        if not 0 <= self.accuracy_threshold <= 1:
            raise ValueError(f"EnvConfig.accuracy_threshold must be in [0, 1], got {self.accuracy_threshold!r}")

    def train_settings(self, lr: float | None = None) -> TrainSettings:
        return TrainSettings(optimizer="adam", lr=self.lr if lr is None else lr, batch_size=self.batch_size,
                             max_epochs=self.epochs, device=self.device)


@dataclass
class Step:
    """What one environment step did."""

    slot: int  # index of the layer just proposed (0-based)
    layer: dict[str, Any]  # the proposed hidden layer
    valid: bool  # False if the network could not be built (nothing was trained)
    reward: float  # mean accuracy gain, or invalid_reward
    accuracy: float  # mean accuracy of the new prefix (NaN if invalid)
    perf: np.ndarray  # the performance vector stored in the state token
    done: bool  # the episode has ended
    reason: str  # why it ended: "invalid", "too_large", "no_gain", "low_accuracy", "max_layers" or ""
    cached: bool  # the prefix's result came from the cache


@dataclass
class PrefixResult:
    perf: np.ndarray  # accuracy of each validation batch
    train_time_s: float  # seconds its training took (when it was trained)
    cached: bool  # True if no training happened in this call

    @property
    def accuracy(self) -> float:
        return float(self.perf.mean())


@dataclass
class EnvState:
    """The raw contents of the state: one (action, performance vector) pair per filled slot."""

    actions: np.ndarray  # max_layers x 4, rows of empty slots are -1
    perfs: np.ndarray  # max_layers x n_perf, rows of empty slots are -1
    n_filled: int  # number of filled slots


class LayerwiseCNNEnv:
    """One search method's environment: data, settings, its own cache, clock and logs.

    ``history`` lists every prefix evaluation with the time it completed (for best-vs-time curves);
    ``episodes`` lists the steps of every episode (for the layer-pair and attention analyses).
    """

    def __init__(self, splits: Splits, config: EnvConfig = EnvConfig(), seed: int = 0,
                 cache_dir: str | Path | None = None, name: str = "search",
                 time_budget_s: float | None = None):
        if not isinstance(config, EnvConfig):
            raise TypeError(f"config must be an EnvConfig, got {type(config).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.splits = splits
        self.config = config
        self.seed = seed
        self.name = name
        self.cache = EvaluationCache(cache_dir, name=f"{name}_seed{seed}")
        self.clock = BudgetClock(time_budget_s)
        self.val_x, self.val_y = self._perf_split(splits)
        self._data_id = {"source": splits.source, "sizes": splits.sizes(), "perf_images": int(self.val_y.shape[0])}
        self._paid: set[str] = set()  # keys trained or charged in this run (later hits are free)
        self.history: list[dict[str, Any]] = []
        self.episodes: list[list[dict[str, Any]]] = []
        self.n_trained = 0
        self.reset()

    def _perf_split(self, splits: Splits) -> tuple[torch.Tensor, torch.Tensor]:
        """Validation images scored in the performance vector."""
        c = self.config
        n_val = int(splits.val_y.shape[0])
        if n_val < c.n_perf:
            raise ValueError(f"the validation split has {n_val} images, fewer than n_perf={c.n_perf} batches")
        if c.mode == "faithful":
            # The original scores 32 batches of 16 images (a fixed slice of its shuffled loader).
            n = min(n_val, c.n_perf * c.perf_batch_size)
            return splits.val_x[:n], splits.val_y[:n]
        return splits.val_x, splits.val_y

    # ------------------------------------------------------------------ episodes
    def reset(self) -> EnvState:
        """Start a new episode with an empty network."""
        c = self.config
        self.layers: list[dict[str, Any]] = []
        self.actions = -np.ones((c.max_layers, 4), dtype=np.float32)
        self.perfs = -np.ones((c.max_layers, c.n_perf), dtype=np.float32)
        self.n_filled = 0
        self.prev_perf = np.zeros(c.n_perf, dtype=np.float32)
        self.done = False
        if not self.episodes or self.episodes[-1]:  # an unused empty episode is reused
            self.episodes.append([])
        return self.state()

    def state(self) -> EnvState:
        return EnvState(self.actions.copy(), self.perfs.copy(), self.n_filled)

    @property
    def out_of_time(self) -> bool:
        return self.clock.exhausted

    def step(self, action: np.ndarray | list[float]) -> Step:
        """Append the layer ``action`` decodes to (in this environment's mode) and train the prefix."""
        layer = decode_action(action, self.layers, self.config.mode)
        return self.step_layer(layer, action)

    def step_layer(self, layer: dict[str, Any], action: np.ndarray | list[float] | None = None) -> Step:
        """Append ``layer`` (methods that choose layers directly skip the action decoding)."""
        c = self.config
        if self.done:
            raise RuntimeError("the episode has ended; call reset() first")
        self.clock.start()
        slot = len(self.layers)
        candidate = self.layers + [layer]
        problem = self.problem(candidate)
        valid = problem == ""
        cached = False
        if not valid:
            # As in the original: the token keeps the previous performance vector.
            reward, accuracy, perf, reason = c.invalid_reward, float("nan"), self.prev_perf.copy(), problem
        else:
            result = self.evaluate(candidate, source="step")
            cached = result.cached
            perf = result.perf.astype(np.float32)
            accuracy = float(perf.mean())
            reward = float(accuracy - self.prev_perf.mean())
            reason = ""
            if reward < c.gain_threshold:
                reason = "no_gain"
            elif accuracy < c.accuracy_threshold:
                reason = "low_accuracy"
            elif slot + 1 == c.max_layers:
                reason = "max_layers"
            self.layers = candidate
            self.prev_perf = perf
        self.actions[slot] = -1 if action is None else np.asarray(action, dtype=np.float32)
        self.perfs[slot] = perf
        self.n_filled = slot + 1
        self.done = bool(reason)
        step = Step(slot, layer, valid, float(reward), accuracy, perf.copy(), self.done, reason, cached)
        self.episodes[-1].append({
            "episode": len(self.episodes) - 1, "slot": slot, "kind": layer["type"], "layer": dict(layer),
            "valid": valid, "reward": float(reward), "accuracy": accuracy, "done": self.done, "reason": reason,
            "cached": cached, "elapsed_s": self.clock.elapsed,
            "previous_kind": self.layers[slot - 1]["type"] if slot > 0 else "input",
        })
        return step

    # ------------------------------------------------------------------ training prefixes
    def prefix_key(self, layers: list[dict[str, Any]], lr: float | None = None) -> str:
        settings = self.config.train_settings(lr).to_dict()
        return stable_hash({"layers": layers, "settings": settings, "epochs": self.config.epochs,
                            "n_perf": self.config.n_perf, "data": self._data_id, "seed": self.seed})

    def problem(self, layers: list[dict[str, Any]]) -> str:
        """Why ``layers`` cannot be trained: "invalid" (shapes), "too_large" (over max_macs) or ""."""
        try:
            macs = network_macs(layers, self.splits.input_shape, self.splits.n_classes)
        except InvalidNetwork:
            return "invalid"
        if self.config.max_macs and macs > self.config.max_macs:
            return "too_large"
        return ""

    def is_valid(self, layers: list[dict[str, Any]]) -> bool:
        return self.problem(layers) == ""

    def evaluate(self, layers: list[dict[str, Any]], lr: float | None = None, source: str = "step") -> PrefixResult:
        """Performance vector of ``layers`` trained from scratch (from the cache when possible).

        ``lr`` other than the environment's marks a side evaluation (the faithful lookahead trains
        at 1e-4); such results are not counted as found architectures in ``history``.
        """
        key = self.prefix_key(layers, lr)
        entry = self.cache.get(key)
        cached = entry is not None
        if entry is None:
            entry = self._train_prefix(key, layers, lr)
            self.cache.put(entry)
            self.n_trained += 1
        elif key not in self._paid:
            self.clock.charge(entry.train_time_s)  # computed before an interruption: it cost this much
        self._paid.add(key)
        counts = lr is None or lr == self.config.lr
        self.history.append({"elapsed_s": self.clock.elapsed, "accuracy": entry.accuracy, "layers": layers,
                             "cached": cached, "source": source, "counts": counts,
                             "episode": len(self.episodes) - 1})
        return PrefixResult(np.asarray(entry.perf, dtype=np.float32), entry.train_time_s, cached)

    def _train_prefix(self, key: str, layers: list[dict[str, Any]], lr: float | None) -> CachedEvaluation:
        ensure_threads_limited()
        started = time.perf_counter()
        seed = trial_seed(self.seed, int(stable_hash(layers)[:7], 16))  # same prefix, same initial weights
        settings = self.config.train_settings(lr)
        model = build_network(layers, self.splits.input_shape, self.splits.n_classes, seed=seed).to(settings.device)
        optimizer = make_optimizer(model, settings)
        for epoch in range(self.config.epochs):
            train_one_epoch(model, optimizer, self.splits.train_x, self.splits.train_y, settings, seed, epoch)
        perf = batch_accuracies(model, self.val_x, self.val_y, self.config.n_perf)
        return CachedEvaluation(key, [dict(layer) for layer in layers], perf, time.perf_counter() - started)

    # ------------------------------------------------------------------ results
    def best(self) -> dict[str, Any] | None:
        """The best counted evaluation so far (highest mean validation accuracy)."""
        counted = [h for h in self.history if h["counts"]]
        return max(counted, key=lambda h: h["accuracy"]) if counted else None

    def summary(self) -> dict[str, Any]:
        best = self.best()
        return {"name": self.name, "seed": self.seed, "config": asdict(self.config),
                "elapsed_s": self.clock.elapsed, "n_episodes": sum(1 for e in self.episodes if e),
                "n_evaluations": len(self.history), "n_trained": self.n_trained,
                "best_accuracy": None if best is None else best["accuracy"],
                "best_layers": None if best is None else best["layers"]}


def network_macs(layers: list[dict[str, Any]], input_shape: tuple[int, ...] = (1, 28, 28),
                 n_classes: int = 10) -> int:
    """Multiply-adds per image of the network (output layer included); raises InvalidNetwork.

    Convolutions count ``out_h * out_w * filters * in_channels * kernel^2``, fully connected layers
    ``inputs * units``; pooling and activations are not counted.
    """
    shapes = check_network(layers, input_shape)
    macs, shape = 0, tuple(input_shape)
    for layer, out in zip(layers, shapes):
        if layer["type"] == "conv":
            macs += out[1] * out[2] * out[0] * shape[0] * layer["kernel"] ** 2
        elif layer["type"] == "fc":
            macs += int(np.prod(shape)) * layer["units"]
        shape = out
    return macs + int(np.prod(shape)) * n_classes
