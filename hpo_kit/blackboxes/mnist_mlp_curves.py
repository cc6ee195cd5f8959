"""A learning-curve benchmark measured by the kit itself: two-hidden-layer MLPs on MNIST.

Why this exists: the A-BOHB paper (Klein et al. 2020) compares schedulers on tabulated
benchmarks (FCNet, NAS-Bench-201) where every configuration's validation error after every
epoch is known, so a simulator can replay an HPO run of hours in seconds. This module builds such a
table from scratch, with the kit's own deterministic trainer, on an FCNet-like space:

=================  =====================  =====  ===================================
hyperparameter     range                  scale  meaning
=================  =====================  =====  ===================================
``n_units_1``      16 .. 512 (integer)    log    width of the first hidden layer
``n_units_2``      16 .. 512 (integer)    log    width of the second hidden layer
``dropout_1``      0.0 .. 0.6             lin    dropout after the first hidden layer
``dropout_2``      0.0 .. 0.6             lin    dropout after the second hidden layer
``activation``     relu, tanh             cat    activation of both hidden layers
``batch_size``     32 .. 512 (integer)    log    training mini-batch size
``lr``             1e-4 .. 1e-1           log    initial Adam learning rate
``lr_schedule``    constant, cosine       cat    schedule over the full ``max_epochs`` horizon
``weight_decay``   1e-6 .. 1e-2           log    Adam L2 penalty
=================  =====================  =====  ===================================

Table layout (``.npz``, the layout of :class:`hpo_kit.objectives.tabular.LearningCurveTable`):

* ``names`` (d,) str, ``lower``/``upper`` (d,) float, ``log`` (d,) bool — the hyperparameters.
* ``X`` (n_configs, d) float — every configuration on its original scale. Integers are stored as
  whole numbers; a categorical hyperparameter is stored as the *index* of its choice
  (``activation``: 0 = relu, 1 = tanh; ``lr_schedule``: 0 = constant, 1 = cosine) with
  ``lower = 0``, ``upper = k - 1``, ``log = False``; the choices are in the metadata.
* ``val_error``, ``test_error`` (n_configs, n_epochs) — error after epoch 1 .. n_epochs.
* ``epoch_time`` (n_configs, n_epochs) — wall-clock seconds of that epoch's *training only*
  (batch permutation, forward, backward, update). Evaluation is excluded because a real HPO run
  would evaluate only the validation set, and only when a scheduler asks; it is recorded
  separately in ``eval_time`` (validation + test evaluation of that epoch, seconds).
* ``epoch_cpu_time`` (n_configs, n_epochs) — CPU seconds of the same training (one thread), a
  contention-robust twin of ``epoch_time`` (the machine was shared while measuring).
* ``metadata`` 0-d str array — JSON provenance: data source and sizes, seeds, torch version,
  CPU model, date, command, space description.

Every configuration ``i`` is trained with seed ``trial_seed(train_seed, i)`` (initial weights,
batch order, dropout) through the same code path as :func:`hpo_kit.train.train`, so a row equals,
epoch by epoch, what ``train`` gives for that configuration, seed and data (tested).

As an objective (:class:`hpo_kit.objectives.tabular.TabularObjective`) every column is searched as
a number in ``[lower, upper]`` and a proposal is answered by the nearest row; for a categorical
that means its index in ``[0, k - 1]``. For live training the same configurations map to networks
through :func:`config_to_training` on the categorical space :func:`mnist_mlp_space`.

Regenerate (resumable: progress is appended to ``<out>.partial.jsonl``; rerun the same command
after an interruption, or add ``--max-minutes`` and rerun until done; ``--finalize-only`` writes
the table from whatever prefix of the design is finished)::

    HPO_KIT_DATA=/path/to/mnist python -m hpo_kit.blackboxes.mnist_mlp_curves \\
        --out hpo_kit/blackboxes/data/mnist_mlp_curves.npz

The default 512 configurations x 81 epochs take about 40 CPU-minutes on one thread (the training
CPU time is stored in the table); on a shared machine the wall time is longer.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Where the shipped table lives.
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_TABLE = DATA_DIR / "mnist_mlp_curves.npz"


@dataclass(frozen=True)
class Hyperparameter:
    """One dimension of the space, on its original scale."""

    name: str
    lower: float  # smallest value (a categorical: 0, the first choice's index)
    upper: float  # largest value (a categorical: k - 1)
    log: bool = False  # sample uniformly in log space
    integer: bool = False  # round to whole numbers
    choices: tuple[str, ...] = ()  # non-empty for a categorical: the value is an index into it
    default: Any = None  # default value (original scale; a choice string for a categorical)

    @property
    def is_categorical(self) -> bool:
        return len(self.choices) > 0


#: The FCNet-like space of the table (order = column order of ``X``).
HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    Hyperparameter("n_units_1", 16, 512, log=True, integer=True, default=128),
    Hyperparameter("n_units_2", 16, 512, log=True, integer=True, default=128),
    Hyperparameter("dropout_1", 0.0, 0.6, default=0.1),
    Hyperparameter("dropout_2", 0.0, 0.6, default=0.1),
    Hyperparameter("activation", 0, 1, choices=("relu", "tanh"), default="relu"),
    Hyperparameter("batch_size", 32, 512, log=True, integer=True, default=128),
    Hyperparameter("lr", 1e-4, 1e-1, log=True, default=1e-3),
    Hyperparameter("lr_schedule", 0, 1, choices=("constant", "cosine"), default="cosine"),
    Hyperparameter("weight_decay", 1e-6, 1e-2, log=True, default=1e-5),
)
NAMES: tuple[str, ...] = tuple(hp.name for hp in HYPERPARAMETERS)


@dataclass(frozen=True)
class MeasurementSettings:
    """What is measured: the design, the data and the training horizon (all recorded in metadata)."""

    n_configs: int = 512  # configurations in the Sobol design (a power of two keeps it balanced)
    max_epochs: int = 81  # epochs per configuration (81 = 3^4: rungs 1, 3, 9, 27, 81 for eta = 3)
    n_train: int = 2000  # MNIST training images (stratified subset of the official training set)
    n_val: int = 1000  # validation images (also from the official training set, disjoint)
    n_test: int = 1000  # test images (from the official test set)
    data_seed: int = 0  # seed of the stratified subset
    design_seed: int = 0  # seed of the scrambled Sobol design
    train_seed: int = 0  # run seed; configuration i trains with trial_seed(train_seed, i)
    eval_batch_size: int = 1000  # evaluation batch size (memory only, does not change results)

    def validate(self) -> None:
        checks = {"n_configs": 1, "max_epochs": 1, "n_train": 1, "n_val": 1, "n_test": 1,
                  "data_seed": 0, "design_seed": 0, "train_seed": 0, "eval_batch_size": 1}
        for name, minimum in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


# --------------------------------------------------------------------------------------------
# The space: unit cube <-> original scale <-> configuration dicts
# --------------------------------------------------------------------------------------------

def decode_unit(U: np.ndarray) -> np.ndarray:
    """Map points of ``[0, 1]^d`` to ``X`` rows on the original scale (categoricals as indices).

    Integers use the widened interval ``[lower - 0.5, upper + 0.5]`` (log-widened on a log scale)
    so each integer gets an equal share; a categorical with ``k`` choices takes ``floor(u * k)``.
    """
    U = np.atleast_2d(np.asarray(U, dtype=float))
    if U.shape[1] != len(HYPERPARAMETERS):
        raise ValueError(f"U must have {len(HYPERPARAMETERS)} columns (one per hyperparameter), got {U.shape[1]}")
    U = np.clip(U, 0.0, 1.0)
    X = np.empty_like(U)
    for j, hp in enumerate(HYPERPARAMETERS):
        u = U[:, j]
        if hp.is_categorical:
            X[:, j] = np.minimum(np.floor(u * len(hp.choices)), len(hp.choices) - 1)
            continue
        lo, hi = float(hp.lower), float(hp.upper)
        if hp.integer:
            lo, hi = lo - 0.5, hi + 0.5
        if hp.log:
            value = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        else:
            value = lo + u * (hi - lo)
        if hp.integer:
            value = np.clip(np.rint(value), hp.lower, hp.upper)
        X[:, j] = value
    return X


def sobol_design(n_configs: int, seed: int) -> np.ndarray:
    """``n_configs`` configurations (``X`` rows) from a scrambled Sobol sequence seeded by ``seed``."""
    from scipy.stats import qmc

    if isinstance(n_configs, bool) or not isinstance(n_configs, (int, np.integer)) or n_configs < 1:
        raise ValueError(f"n_configs must be an integer >= 1, got {n_configs!r}")
    sampler = qmc.Sobol(d=len(HYPERPARAMETERS), scramble=True, seed=np.random.default_rng(seed))
    m = math.ceil(math.log2(n_configs))
    U = sampler.random_base2(m)[:n_configs]  # draw a power of two (balanced), keep the prefix
    return decode_unit(U)


def row_to_config(x: np.ndarray) -> dict[str, Any]:
    """One ``X`` row as a configuration dict (integers as int, categoricals as their choice)."""
    x = np.asarray(x, dtype=float)
    if x.shape != (len(HYPERPARAMETERS),):
        raise ValueError(f"x must have shape ({len(HYPERPARAMETERS)},), got {x.shape}")
    config: dict[str, Any] = {}
    for value, hp in zip(x, HYPERPARAMETERS):
        if hp.is_categorical:
            config[hp.name] = hp.choices[int(round(value))]
        elif hp.integer:
            config[hp.name] = int(round(value))
        else:
            config[hp.name] = float(value)
    return config


def config_to_row(config: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`row_to_config` (missing or unknown keys raise ``ValueError``)."""
    missing = [n for n in NAMES if n not in config]
    if missing:
        raise ValueError(f"config is missing hyperparameters {missing}; expected {list(NAMES)}")
    row = np.empty(len(HYPERPARAMETERS))
    for j, hp in enumerate(HYPERPARAMETERS):
        value = config[hp.name]
        if hp.is_categorical:
            if value not in hp.choices:
                raise ValueError(f"{hp.name} must be one of {list(hp.choices)}, got {value!r}")
            row[j] = hp.choices.index(value)
        else:
            row[j] = float(value)
    return row


def mnist_mlp_space(seed: int | None = None):
    """The table's space as a ``ConfigSpace.ConfigurationSpace`` (categoricals by choice name)."""
    from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

    space = ConfigurationSpace(name="mnist_mlp_curves", seed=seed)
    hps = []
    for hp in HYPERPARAMETERS:
        if hp.is_categorical:
            hps.append(Categorical(hp.name, list(hp.choices), default=hp.default))
        elif hp.integer:
            hps.append(Integer(hp.name, (int(hp.lower), int(hp.upper)), default=int(hp.default), log=hp.log))
        else:
            hps.append(Float(hp.name, (float(hp.lower), float(hp.upper)), default=float(hp.default), log=hp.log))
    space.add(hps)
    return space


def config_to_training(config: dict[str, Any], max_epochs: int = 81) -> tuple[list[dict[str, Any]], Any]:
    """Layers and Adam ``TrainSettings`` of a configuration (the mapping the table was measured with).

    Usable as the live objective's config mapping, so live runs train exactly the tabulated models.
    """
    from hpo_kit.train.trainer import TrainSettings

    row_to_config(config_to_row(config))  # validates names and categorical values
    layers = [
        {"type": "fc", "units": int(config["n_units_1"]), "activation": config["activation"],
         "dropout": float(config["dropout_1"])},
        {"type": "fc", "units": int(config["n_units_2"]), "activation": config["activation"],
         "dropout": float(config["dropout_2"])},
    ]
    settings = TrainSettings(optimizer="adam", lr=float(config["lr"]), weight_decay=float(config["weight_decay"]),
                             batch_size=int(config["batch_size"]), lr_schedule=config["lr_schedule"],
                             max_epochs=int(max_epochs))
    return layers, settings


# --------------------------------------------------------------------------------------------
# Measuring one configuration
# --------------------------------------------------------------------------------------------

@dataclass
class Curves:
    """Per-epoch measurements of one configuration."""

    val_error: list[float] = field(default_factory=list)
    test_error: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)  # wall seconds of training only
    epoch_cpu_time: list[float] = field(default_factory=list)  # CPU seconds of training only
    eval_time: list[float] = field(default_factory=list)  # wall seconds of val + test evaluation


def measure_config(config: dict[str, Any], splits, max_epochs: int, seed: int,
                   eval_batch_size: int = 1000) -> Curves:
    """Train ``config`` for ``max_epochs`` epochs and record errors and times after every epoch.

    Uses the trainer's own epoch function, optimizer and seeding, so the validation curve equals
    ``train(build_network(layers, seed=seed), splits, settings, max_epochs, seed).val_errors``.
    """
    from hpo_kit.train.networks import build_network
    from hpo_kit.train.threads import ensure_threads_limited
    from hpo_kit.train.trainer import evaluate_error, make_optimizer, train_one_epoch

    ensure_threads_limited()
    layers, settings = config_to_training(config, max_epochs)
    model = build_network(layers, input_shape=splits.input_shape, n_classes=splits.n_classes, seed=seed)
    optimizer = make_optimizer(model, settings)
    curves = Curves()
    for epoch in range(max_epochs):
        wall, cpu = time.perf_counter(), time.process_time()
        train_one_epoch(model, optimizer, splits.train_x, splits.train_y, settings, seed, epoch)
        curves.epoch_time.append(time.perf_counter() - wall)
        curves.epoch_cpu_time.append(time.process_time() - cpu)
        started = time.perf_counter()
        # rounded: the trainer's float32 mean would otherwise store 0.41800001 for 418 / 1000
        curves.val_error.append(round(evaluate_error(model, splits.val_x, splits.val_y, eval_batch_size), 7))
        curves.test_error.append(round(evaluate_error(model, splits.test_x, splits.test_y, eval_batch_size), 7))
        curves.eval_time.append(time.perf_counter() - started)
    return curves


# --------------------------------------------------------------------------------------------
# The resumable measurement and the table file
# --------------------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _space_description() -> list[dict[str, Any]]:
    return [{"name": hp.name, "lower": hp.lower, "upper": hp.upper, "log": hp.log, "integer": hp.integer,
             "choices": list(hp.choices), "default": hp.default} for hp in HYPERPARAMETERS]


def _header(settings: MeasurementSettings) -> dict[str, Any]:
    """What a partial file must agree with to be resumed (settings and space)."""
    return {"kind": "header", "settings": asdict(settings), "space": _space_description()}


def read_partial(path: Path) -> tuple[dict[str, Any] | None, dict[int, dict[str, Any]]]:
    """Header and finished rows (by configuration index) of a partial file; a torn last line is skipped."""
    header, rows = None, {}
    if not path.exists():
        return header, rows
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interruption: that configuration is measured again
        if record.get("kind") == "header":
            header = record
        elif record.get("kind") == "row":
            rows[int(record["index"])] = record
    return header, rows


def regenerate_command(settings: MeasurementSettings, out: Path | str = "hpo_kit/blackboxes/data/mnist_mlp_curves.npz",
                       max_minutes: float | None = None) -> str:
    """The shell command that measures a table with ``settings`` (resumable: rerun it until done)."""
    defaults = asdict(MeasurementSettings())
    flags = [f"--{k.replace('_', '-')} {v}" for k, v in asdict(settings).items() if v != defaults[k] or k in
             ("n_configs", "max_epochs", "n_train", "n_val", "n_test")]
    if max_minutes is not None:
        flags.append(f"--max-minutes {max_minutes:g}")
    return ("HPO_KIT_DATA=<folder with the four MNIST .gz files> python -m hpo_kit.blackboxes.mnist_mlp_curves "
            f"--out {out} " + " ".join(flags))


def measure(settings: MeasurementSettings, partial_path: Path, splits=None, max_minutes: float | None = None,
            show_progress: bool = True, command: str = "") -> dict[int, dict[str, Any]]:
    """Measure the design's configurations in order, appending each finished one to ``partial_path``.

    Configurations already in the partial file are skipped (resume). ``max_minutes`` stops after the
    configuration during which the time ran out. ``splits=None`` loads MNIST with the settings' sizes.
    Returns all finished rows by index.
    """
    from hpo_kit.train.threads import ensure_threads_limited
    from hpo_kit.trial import trial_seed

    settings.validate()
    ensure_threads_limited()  # before the header records the thread count
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be None or a number > 0, got {max_minutes!r}")
    partial_path = Path(partial_path)
    header, rows = read_partial(partial_path)
    expected = json.loads(json.dumps(_header(settings)))  # tuples -> lists, as read back from JSON
    if header is not None and {k: header[k] for k in ("settings", "space")} != {k: expected[k] for k in ("settings", "space")}:
        raise ValueError(f"{partial_path} was measured with other settings or another space; delete it "
                         f"or pass the same settings. In the file: {header['settings']}")
    if splits is None:
        from hpo_kit.data import mnist_splits

        splits = mnist_splits(settings.n_train, settings.n_val, settings.n_test, settings.data_seed)
    X = sobol_design(settings.n_configs, settings.design_seed)
    partial_path.parent.mkdir(parents=True, exist_ok=True)
    with partial_path.open("a") as out:
        if header is None:
            started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            import torch

            out.write(json.dumps({**_header(settings), "data_source": splits.source, "command": command,
                                  "started_at": started_at, "torch_threads": torch.get_num_threads()}) + "\n")
            out.flush()
        todo = [i for i in range(settings.n_configs) if i not in rows]
        started = time.perf_counter()
        iterator: Any = todo
        if show_progress:
            from hpo_kit.progress import progress

            iterator = progress(todo, desc="mnist_mlp_curves", total=len(todo), unit="config")
        for i in iterator:
            curves = measure_config(row_to_config(X[i]), splits, settings.max_epochs,
                                    trial_seed(settings.train_seed, i), settings.eval_batch_size)
            record = {"kind": "row", "index": i, "x": X[i].tolist(), **asdict(curves)}
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())
            rows[i] = record
            if max_minutes is not None and time.perf_counter() - started >= 60.0 * max_minutes:
                break
    return rows


def build_table_arrays(settings: MeasurementSettings, rows: dict[int, dict[str, Any]], data_source: str,
                       command: str = "", extra_metadata: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """The ``.npz`` arrays from finished rows: the longest complete prefix ``0 .. n-1`` of the design.

    A prefix (rather than any finished subset) keeps the Sobol design's balance and makes the table
    a deterministic function of the settings and its size.
    """
    import torch

    n = 0
    while n in rows:
        n += 1
    if n == 0:
        raise ValueError("no finished configurations: run the measurement first")
    X = np.array([rows[i]["x"] for i in range(n)], dtype=float)

    def stack(key: str) -> np.ndarray:
        return np.array([rows[i][key] for i in range(n)], dtype=np.float64)

    metadata = {
        "benchmark": "mnist_mlp_curves",
        "description": "two-hidden-layer MLPs (Adam) on a stratified MNIST subset, errors after every epoch",
        "data_source": data_source,
        "settings": asdict(settings),
        "n_configs_measured": n,
        "space": _space_description(),
        "categorical_encoding": {hp.name: list(hp.choices) for hp in HYPERPARAMETERS if hp.is_categorical},
        "integer": [hp.name for hp in HYPERPARAMETERS if hp.integer],
        "seeds": {"data": settings.data_seed, "design": settings.design_seed, "train": settings.train_seed,
                  "per_config": "hpo_kit.trial.trial_seed(train_seed, index)"},
        "timing": ("epoch_time: wall seconds of training only; eval_time: wall seconds of validation + test "
                   "evaluation; epoch_cpu_time: CPU seconds of training; one torch thread; machine shared"),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "regenerate": regenerate_command(settings),
    }
    metadata.update(extra_metadata or {})
    return {
        "names": np.array(NAMES),
        "lower": np.array([float(hp.lower) for hp in HYPERPARAMETERS]),
        "upper": np.array([float(hp.upper) for hp in HYPERPARAMETERS]),
        "log": np.array([hp.log for hp in HYPERPARAMETERS]),
        "X": X,
        "val_error": stack("val_error"),
        "test_error": stack("test_error"),
        "epoch_time": stack("epoch_time"),
        "epoch_cpu_time": stack("epoch_cpu_time"),
        "eval_time": stack("eval_time"),
        "metadata": np.array(json.dumps(metadata)),
    }


def write_table(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write the arrays with ``np.savez_compressed`` (atomically: a temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def read_metadata(path: Path | str = DEFAULT_TABLE) -> dict[str, Any]:
    """The provenance JSON stored in a table file."""
    with np.load(Path(path), allow_pickle=False) as data:
        return json.loads(str(data["metadata"]))


COSTS = ("wall", "cpu")


def load_table(path: Path | str | None = None, cost: str = "wall", max_rows: int | None = None):
    """The table as a :class:`hpo_kit.objectives.tabular.LearningCurveTable` (default: the shipped one).

    ``cost="wall"`` keeps the measured wall-clock seconds per epoch as ``epoch_time``; ``"cpu"``
    puts the CPU seconds there instead (the table was measured on a shared machine, where wall time
    is inflated by other processes by a varying factor; with one thread, CPU time estimates the
    wall time on a dedicated core). ``max_rows`` keeps only the first rows (a smaller, still
    balanced prefix of the Sobol design).
    """
    from hpo_kit.objectives.tabular import LearningCurveTable

    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
        raise ValueError(f"max_rows must be None or an integer >= 1, got {max_rows!r}")
    path = Path(path) if path is not None else DEFAULT_TABLE
    if not path.exists():
        raise FileNotFoundError(f"no learning-curve table at {path}; regenerate it with "
                                f"`python -m hpo_kit.blackboxes.mnist_mlp_curves --out {path}`")
    table = LearningCurveTable.from_npz(path)
    if cost == "cpu":
        with np.load(path, allow_pickle=False) as data:
            if "epoch_cpu_time" not in data.files:
                raise ValueError(f"{path} has no epoch_cpu_time array; use cost='wall'")
            table.epoch_time = np.asarray(data["epoch_cpu_time"], dtype=float)
    if max_rows is not None and max_rows > table.n_configs:
        # silently using all rows would make the run another one than asked for
        raise ValueError(f"max_rows = {max_rows} is larger than the {table.n_configs} rows of {path.name}; "
                         f"allowed: 1..{table.n_configs}, or None for all rows")
    if max_rows is not None and max_rows < table.n_configs:
        table = LearningCurveTable(
            table.names, table.lower, table.upper, table.log, table.X[:max_rows], table.val_error[:max_rows],
            None if table.epoch_time is None else table.epoch_time[:max_rows],
            None if table.test_error is None else table.test_error[:max_rows])
    return table


def build_small_table(path: Path | str, splits, n_configs: int = 6, max_epochs: int = 3, seed: int = 0,
                      show_progress: bool = False) -> Path:
    """Measure a tiny table on given ``splits`` (tests and smoke runs) and write it to ``path``."""
    settings = MeasurementSettings(n_configs=n_configs, max_epochs=max_epochs, n_train=len(splits.train_y),
                                   n_val=len(splits.val_y), n_test=len(splits.test_y), data_seed=seed,
                                   design_seed=seed, train_seed=seed)
    path = Path(path)
    partial = path.with_name(path.name + ".partial.jsonl")
    rows = measure(settings, partial, splits=splits, show_progress=show_progress)
    return write_table(path, build_table_arrays(settings, rows, splits.source, command="build_small_table"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hpo_kit.blackboxes.mnist_mlp_curves",
        description="Measure the MNIST MLP learning-curve table (resumable; see the module docstring).")
    defaults = MeasurementSettings()
    parser.add_argument("--out", type=Path, default=DEFAULT_TABLE, help="table file to write (.npz)")
    parser.add_argument("--partial", type=Path, default=None,
                        help="progress file (JSON lines); default: <out>.partial.jsonl")
    for name, value in asdict(defaults).items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=value, help=f"default {value}")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop after the configuration during which this many minutes passed")
    parser.add_argument("--finalize-only", action="store_true",
                        help="write the table from the partial file without measuring more")
    args = parser.parse_args(argv)
    settings = MeasurementSettings(**{k: getattr(args, k) for k in asdict(defaults)})
    settings.validate()
    partial = args.partial or args.out.with_name(args.out.name + ".partial.jsonl")
    command = " ".join(["python -m hpo_kit.blackboxes.mnist_mlp_curves", *(argv if argv is not None else sys.argv[1:])])
    if args.finalize_only:
        header, rows = read_partial(partial)
        if header is None:
            raise SystemExit(f"no partial file with a header at {partial}")
        settings = MeasurementSettings(**header["settings"])
        source = header.get("data_source", "")
        extra = {"measurement_started_at": header.get("started_at"), "torch_threads": header.get("torch_threads"),
                 "finalized_by": command}
        command = header.get("command") or command
    else:
        from hpo_kit.data import mnist_splits
        from hpo_kit.train.threads import limit_torch_threads

        limit_torch_threads(1)
        splits = mnist_splits(settings.n_train, settings.n_val, settings.n_test, settings.data_seed)
        print(f"data: {splits.source}", flush=True)
        rows = measure(settings, partial, splits=splits, max_minutes=args.max_minutes, command=command)
        header, _ = read_partial(partial)
        source = splits.source
        extra = {"measurement_started_at": (header or {}).get("started_at"),
                 "torch_threads": (header or {}).get("torch_threads")}
        command = (header or {}).get("command") or command
    arrays = build_table_arrays(settings, rows, source, command=command, extra_metadata=extra)
    write_table(args.out, arrays)
    n = arrays["X"].shape[0]
    print(f"wrote {args.out} ({n} configurations x {arrays['val_error'].shape[1]} epochs, "
          f"{args.out.stat().st_size / 1e6:.2f} MB); best final validation error "
          f"{arrays['val_error'][:, -1].min():.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
