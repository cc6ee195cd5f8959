"""A small, deterministic, resumable trainer for image classifiers on in-memory tensors.

Design choices, each for a reason:

* The whole split lives in memory as tensors and mini-batches are slices of an index permutation:
  for MNIST-sized models a per-sample ``DataLoader`` costs more than the forward pass.
* Epoch ``e`` draws everything random (permutation, augmentations, dropout) from seeds derived from
  ``(seed, e)`` only, and the learning rate is a pure function of the position in the schedule
  horizon ``max_epochs``. Hence ``train(..., epochs=3)`` equals ``train(..., epochs=1)`` continued
  to 3 epochs through its :class:`TrainState`, bit for bit: multi-fidelity schedulers can pause and
  resume a trial at no extra cost and without changing its result.
* One thread per process by default (see :mod:`hpo_kit.train.threads`).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hpo_kit.data.splits import Splits
from hpo_kit.train.augment import cutout, mixup, mixup_loss
from hpo_kit.train.rng import lend_generator, training_generator
from hpo_kit.train.threads import ensure_threads_limited

OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("constant", "cosine", "exponential", "step")


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides how a model is trained (the model itself is described elsewhere)."""

    optimizer: str = "adam"  # update rule: "adam", "adamw" (decoupled weight decay) or "sgd"
    lr: float = 1e-3  # initial learning rate, > 0
    momentum: float = 0.9  # SGD momentum in [0, 1); ignored by adam/adamw
    nesterov: bool = False  # Nesterov momentum for SGD (needs momentum > 0)
    weight_decay: float = 0.0  # L2 penalty (adam, sgd) or decoupled decay (adamw), >= 0
    batch_size: int = 128  # training mini-batch size, >= 1
    lr_schedule: str = "constant"  # learning-rate schedule over [0, max_epochs]: constant, cosine, exponential, step
    max_epochs: int = 10  # schedule horizon; a run may stop earlier, never go past it
    lr_final_fraction: float = 0.01  # exponential: lr reaches lr * lr_final_fraction at max_epochs, in (0, 1]
    lr_step_milestones: tuple[float, ...] = (0.5, 0.75)  # step: fractions of max_epochs where lr is multiplied
    lr_step_factor: float = 0.1  # step: factor applied at each milestone, in (0, 1]
    mixup_alpha: float = 0.0  # mixup Beta(alpha, alpha) parameter; 0 switches mixup off
    cutout_length: int = 0  # side of the square cutout erases from each training image; 0 = off
    eval_batch_size: int = 1000  # batch size for validation/test evaluation (memory only, same result)
    drop_last: bool = False  # skip the last incomplete batch of each epoch (a 1-image last batch is always skipped)
    device: str = "cpu"  # torch device to train on; data batches are moved there

    def __post_init__(self) -> None:
        if isinstance(self.lr_step_milestones, list):  # YAML gives lists; keep the dataclass hashable
            object.__setattr__(self, "lr_step_milestones", tuple(self.lr_step_milestones))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field and the allowed values."""
        def fail(name: str, allowed: str) -> None:
            raise ValueError(f"TrainSettings.{name} must be {allowed}, got {getattr(self, name)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)

        if self.optimizer not in OPTIMIZERS:
            fail("optimizer", f"one of {OPTIMIZERS}")
        if not is_num(self.lr) or self.lr <= 0:
            fail("lr", "a number > 0")
        if not is_num(self.momentum) or not 0 <= self.momentum < 1:
            fail("momentum", "a number in [0, 1)")
        if not isinstance(self.nesterov, bool):
            fail("nesterov", "True or False")
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            fail("nesterov", "False when momentum is 0 (Nesterov needs momentum > 0)")
        if not is_num(self.weight_decay) or self.weight_decay < 0:
            fail("weight_decay", "a number >= 0")
        if not is_int(self.batch_size) or self.batch_size < 1:
            fail("batch_size", "an integer >= 1")
        if self.lr_schedule not in LR_SCHEDULES:
            fail("lr_schedule", f"one of {LR_SCHEDULES}")
        if not is_int(self.max_epochs) or self.max_epochs < 1:
            fail("max_epochs", "an integer >= 1")
        if not is_num(self.lr_final_fraction) or not 0 < self.lr_final_fraction <= 1:
            fail("lr_final_fraction", "a number in (0, 1]")
        if not all(is_num(m) and 0 < m < 1 for m in self.lr_step_milestones):
            fail("lr_step_milestones", "a sequence of fractions of max_epochs in (0, 1)")
        if not is_num(self.lr_step_factor) or not 0 < self.lr_step_factor <= 1:
            fail("lr_step_factor", "a number in (0, 1]")
        if not is_num(self.mixup_alpha) or self.mixup_alpha < 0:
            fail("mixup_alpha", "a number >= 0 (0 = off)")
        if not is_int(self.cutout_length) or self.cutout_length < 0:
            fail("cutout_length", "an integer >= 0 (0 = off)")
        if not is_int(self.eval_batch_size) or self.eval_batch_size < 1:
            fail("eval_batch_size", "an integer >= 1")
        if not isinstance(self.drop_last, bool):
            fail("drop_last", "True or False")
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError):
            fail("device", "a torch device name such as 'cpu' or 'cuda'")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainSettings":
        """Build settings from a dict, rejecting unknown keys (typos) with the allowed names."""
        allowed = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ValueError(f"unknown TrainSettings fields {unknown}; allowed: {sorted(allowed)}")
        return cls(**values)

    def lr_at(self, progress_epochs: float) -> float:
        """Learning rate after ``progress_epochs`` (fractional) epochs; a pure function of the position.

        Being stateless is what makes a resumed run follow exactly the uninterrupted schedule.
        """
        p = min(max(progress_epochs / self.max_epochs, 0.0), 1.0)
        if self.lr_schedule == "constant":
            return self.lr
        if self.lr_schedule == "cosine":
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * p))
        if self.lr_schedule == "exponential":
            return self.lr * self.lr_final_fraction ** p
        passed = sum(1 for m in self.lr_step_milestones if p >= m)
        return self.lr * self.lr_step_factor ** passed


@dataclass
class TrainState:
    """Everything needed to continue a run exactly where it stopped.

    The learning-rate schedule needs no state of its own: it is a pure function of ``epochs_done``
    and the settings' ``max_epochs`` (see :meth:`TrainSettings.lr_at`).
    """

    model_state: dict[str, torch.Tensor]  # model.state_dict(), copied to CPU
    optimizer_state: dict[str, Any]  # optimizer.state_dict() (moments, step counts)
    optimizer_name: str  # which optimizer produced optimizer_state
    epochs_done: int  # epochs trained so far
    val_errors: list[float]  # validation error after each of those epochs
    settings: dict[str, Any] = field(default_factory=dict)  # TrainSettings of the last call (for the record)
    seed: int = 0  # seed of the last call (for the record)
    train_losses: list[float] = field(default_factory=list)  # mean training loss of each of those epochs
    meta: dict[str, Any] = field(default_factory=dict)  # caller's notes (e.g. the config); plain Python values only

    def save(self, path: str | os.PathLike) -> None:
        """Write with ``torch.save`` to a temporary file, then rename: a crash never leaves half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(dataclasses.asdict(self), f)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainState":
        # Saved as plain dicts/lists/tensors, so torch's safe weights_only loader suffices.
        values = torch.load(Path(path), map_location="cpu", weights_only=True)
        return cls(**values)


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    val_errors: list[float]  # validation error after every epoch done so far (earlier calls included)
    test_error: float  # test error of the final model (NaN if the split has no test images)
    train_time_s: float  # wall-clock seconds of this call only
    epochs_done: int  # total epochs trained, earlier calls included
    state: TrainState  # pass back to train() to continue
    model: nn.Module  # the trained model (the object that was passed in)
    stopped_by_budget: bool = False  # True if time_budget_s ended the call before `epochs`
    train_losses: list[float] = field(default_factory=list)  # mean training loss of every epoch done so far


def _epoch_seeds(seed: int, epoch: int) -> tuple[int, int]:
    """Two independent 63-bit seeds for epoch ``epoch`` of a run seeded with ``seed``.

    The first drives the batch permutation and augmentations, the second the global RNG (dropout).
    """
    a, b = np.random.SeedSequence([seed, epoch]).generate_state(2, dtype=np.uint64)
    return int(a) >> 1, int(b) >> 1


def make_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if settings.optimizer == "sgd":
        return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum,
                               nesterov=settings.nesterov, weight_decay=settings.weight_decay)
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    return torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)


def _apply_hyperparameters(optimizer: torch.optim.Optimizer, settings: TrainSettings) -> None:
    """Make the optimizer use ``settings`` even after loading an older state (which restores old ones).

    This lets a continued run change hyperparameters (population-based training does).
    """
    for group in optimizer.param_groups:
        group["weight_decay"] = settings.weight_decay
        if settings.optimizer == "sgd":
            group["momentum"] = settings.momentum
            group["nesterov"] = settings.nesterov


def _check_splits(splits: Splits) -> None:
    for part in ("train", "val", "test"):
        x, y = getattr(splits, f"{part}_x"), getattr(splits, f"{part}_y")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"splits.{part}_x has {x.shape[0]} images but splits.{part}_y {y.shape[0]} labels")
    if splits.train_y.shape[0] == 0:
        raise ValueError("splits has no training images")


def train(model: nn.Module, splits: Splits, settings: TrainSettings, epochs: int, seed: int,
          state: TrainState | None = None, progress: bool = False, time_budget_s: float | None = None,
          limit_threads: bool = True) -> TrainResult:
    """Train ``model`` until it has ``epochs`` epochs in total and report validation/test error.

    With ``state`` (from an earlier result) the model and optimizer are restored and only epochs
    ``state.epochs_done + 1 .. epochs`` are trained. ``time_budget_s`` stops after the epoch during
    which the budget ran out. ``limit_threads`` limits torch to one thread unless this process
    already chose a thread count.
    """
    if not isinstance(settings, TrainSettings):
        raise TypeError(f"settings must be a TrainSettings, got {type(settings).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    if epochs > settings.max_epochs:
        raise ValueError(f"epochs ({epochs}) must be <= settings.max_epochs ({settings.max_epochs}), "
                         "the horizon of the learning-rate schedule")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if state is not None and state.epochs_done > epochs:
        raise ValueError(f"state already has {state.epochs_done} epochs, more than epochs={epochs}")
    if time_budget_s is not None and not time_budget_s > 0:
        raise ValueError(f"time_budget_s must be None or a number > 0, got {time_budget_s!r}")
    _check_splits(splits)
    n_train = splits.train_y.shape[0]
    if settings.drop_last and n_train < settings.batch_size:
        raise ValueError(f"batch_size ({settings.batch_size}) is larger than the {n_train} training images "
                         "and drop_last=True would train on nothing")
    if limit_threads:
        ensure_threads_limited()

    started = time.perf_counter()
    device = torch.device(settings.device)
    model.to(device)
    optimizer = make_optimizer(model, settings)
    val_errors: list[float] = []
    train_losses: list[float] = []
    first_epoch = 0
    if state is not None:
        model.load_state_dict(state.model_state)
        # A different optimizer cannot use the old moments; it starts fresh (documented behaviour).
        if state.optimizer_name == settings.optimizer:
            optimizer.load_state_dict(state.optimizer_state)
            _apply_hyperparameters(optimizer, settings)
        val_errors = list(state.val_errors)
        train_losses = list(state.train_losses)
        first_epoch = state.epochs_done

    epoch_range: Any = range(first_epoch, epochs)
    if progress:
        from hpo_kit.progress import progress as progress_bar

        epoch_range = progress_bar(epoch_range, desc="train", total=epochs - first_epoch, unit="epoch")
    stopped_by_budget = False
    epochs_done = first_epoch
    for epoch in epoch_range:
        train_losses.append(train_one_epoch(model, optimizer, splits.train_x, splits.train_y, settings, seed, epoch))
        val_errors.append(evaluate_error(model, splits.val_x, splits.val_y, settings.eval_batch_size))
        epochs_done = epoch + 1
        if progress and hasattr(epoch_range, "set_postfix"):
            epoch_range.set_postfix(val_error=f"{val_errors[-1]:.4f}")
        over_budget = time_budget_s is not None and time.perf_counter() - started >= time_budget_s
        if over_budget and epoch + 1 < epochs:
            stopped_by_budget = True
            break
    if progress and hasattr(epoch_range, "close"):
        epoch_range.close()
    test_error = evaluate_error(model, splits.test_x, splits.test_y, settings.eval_batch_size)

    new_state = TrainState(
        model_state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
        optimizer_state=_to_cpu(copy.deepcopy(optimizer.state_dict())),
        optimizer_name=settings.optimizer,
        epochs_done=epochs_done,
        val_errors=list(val_errors),
        train_losses=list(train_losses),
        settings=settings.to_dict(),
        seed=int(seed),
        meta=dict(state.meta) if state is not None else {},
    )
    return TrainResult(val_errors=list(val_errors), test_error=test_error,
                       train_time_s=time.perf_counter() - started, epochs_done=epochs_done,
                       state=new_state, model=model, stopped_by_budget=stopped_by_budget,
                       train_losses=list(train_losses))


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to("cpu")
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    return obj


def train_one_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                    settings: TrainSettings, seed: int, epoch: int) -> float:
    """Train one epoch (number ``epoch``, counted from 0) and return the mean training loss.

    All randomness comes from ``(seed, epoch)``; the caller's global RNG state is restored afterwards.
    """
    batch_seed, global_seed = _epoch_seeds(int(seed), int(epoch))
    generator = torch.Generator().manual_seed(batch_seed)
    device = next(model.parameters()).device
    n = y.shape[0]
    bs = settings.batch_size
    n_batches = n // bs if settings.drop_last else math.ceil(n / bs)
    if n % bs == 1 and n_batches > 1:
        # A trailing one-image batch is skipped: BatchNorm cannot train on it (torch raises), and
        # without this an HPO run would crash only for the batch sizes where n % batch_size == 1.
        n_batches -= 1
    model.train()
    total_loss = torch.zeros((), device=device)  # summed on the device: no sync per batch on a GPU
    current_lr = None
    # Stochastic layers draw from this training's own generator (TrialDropout, models with a
    # `generator` such as ShakeResNet), so trainings in threads of one process do not mix draws; it
    # starts where the global RNG used to (same seed), so results equal those of the global RNG.
    # The global RNG is still seeded (and restored) for layers that know no generator.
    layer_generator = torch.Generator().manual_seed(global_seed)
    with torch.random.fork_rng(devices=[]), training_generator(layer_generator), \
            lend_generator(model, layer_generator):
        torch.manual_seed(global_seed)
        perm = torch.randperm(n, generator=generator)
        for b in range(n_batches):
            idx = perm[b * bs:(b + 1) * bs]
            xb, yb = x[idx], y[idx]
            if settings.cutout_length > 0:
                xb = cutout(xb, settings.cutout_length, generator)
            if settings.mixup_alpha > 0:
                xb, y_a, y_b, lam = mixup(xb, yb, settings.mixup_alpha, generator)
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            lr = settings.lr_at(epoch + b / n_batches)
            if lr != current_lr:  # constant schedules set it once
                for group in optimizer.param_groups:
                    group["lr"] = lr
                current_lr = lr
            logits = model(xb)
            if settings.mixup_alpha > 0:
                loss = mixup_loss(logits, y_a.to(device), y_b.to(device), lam)
            else:
                loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.detach()
    return float(total_loss) / max(n_batches, 1)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted classes of ``x`` in eval mode (the model's previous mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        preds = [model(x[i:i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, x.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def evaluate_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of misclassified images (NaN for an empty set)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if y.shape[0] == 0:
        return float("nan")
    return int((predict(model, x, batch_size) != y.cpu()).sum()) / y.shape[0]


def batch_accuracies(model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_batches: int,
                     batch_size: int = 1000) -> list[float]:
    """Accuracy on each of ``n_batches`` consecutive, (almost) equal parts of ``(x, y)``.

    Parts differ in size by at most one image when ``len(y)`` is not a multiple of ``n_batches``;
    every image is used. TRL-HPO uses 32 such validation accuracies as its performance vector.
    """
    if isinstance(n_batches, bool) or not isinstance(n_batches, int) or not 1 <= n_batches <= y.shape[0]:
        raise ValueError(f"n_batches must be an integer in [1, {y.shape[0]}] (the number of images), got {n_batches!r}")
    correct = predict(model, x, batch_size) == y.cpu()
    return [int(part.sum()) / part.shape[0] for part in torch.tensor_split(correct, n_batches)]
