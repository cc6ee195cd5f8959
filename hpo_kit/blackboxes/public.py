"""Loaders for public learning-curve benchmarks, read from the files their authors distribute.

Nothing here downloads: a user fetches the file once (:func:`download_hint` says from where) and
passes its path. Each loader returns a :class:`hpo_kit.objectives.tabular.LearningCurveTable`
(one curve per configuration: ``val_error`` per epoch, ``epoch_time`` the seconds of each epoch).
A missing or malformed file is an error naming the file and what was expected.

FCNet (Klein & Hutter 2019, "Tabular benchmarks for joint architecture and hyperparameter
optimization"): ``fcnet_<dataset>_data.hdf5`` from ``fcnet_tabular_benchmarks.tar.gz`` (the files
HPOBench's and nas_benchmarks' FCNet benchmarks read). One HDF5 group per configuration, named by
the configuration as JSON with sorted keys, holding ``valid_mse`` and ``train_mse`` (4 repetitions
x 100 epochs), ``runtime`` (4: seconds of each repetition's whole 100-epoch training),
``final_test_error`` and ``n_params``. The table takes one repetition (``seed`` 0..3): its
``valid_mse`` curve as the loss and ``runtime / 100`` as every epoch's cost (the readers of these
files charge the same). The test error exists only after the last epoch, so ``test_error`` is left out.
Reading is one HDF5 lookup per configuration: a full file (62,208 groups) takes a minute or more. The space is 6 x 6 x 3 x 3 x 2 x 2 x 6 x 2 x 4 = 62,208 configurations.

LCBench (Zimmer, Lindauer & Hutter 2021): ``data_2k.json`` (or the lighter ``data_2k_lw.json``)
from the LCBench figshare project: ``{dataset: {config_id: {"config": {...}, "log": {...},
"results": {...}}}}``, 2,000 configurations per OpenML dataset. ``val_error`` is
``1 - Train/val_accuracy / 100``, ``test_error`` ``1 - Train/test_result / 100`` (accuracies in
percent), ``epoch_time`` the increments of the cumulative ``time`` log. Each log holds one entry
before training, one per epoch and a final one (52 = 1 + 50 + 1, the epochs being the config's
``cosine_annealing_T_max``); the first and the last are dropped (as Syne Tune's converter does), so
column ``e - 1`` is the state after epoch ``e``, and the pre-training evaluation's time is not charged.
The table's columns are the seven hyperparameters LCBench varies.

NAS-Bench-201 (Dong & Yang 2020): HPOBench's per-dataset export
``NAS-Bench-201-v1_1-096897_<cifar10-valid|cifar100|ImageNet16-120>.json`` (in
``nasbench_201_data_v1.3.zip`` on automl.org): ``{seed: {arch: {"train_acc1es": {epoch: ...},
"train_times": {epoch: seconds}, "eval_acc1es": {"<split>@<epoch>": ...}, "eval_times",
"eval_losses", "train_losses"}}}`` for seeds 777, 888, 999 and 200 epochs (0-indexed keys).
Chosen because it is plain JSON that a user gets in one download, with per-epoch validation
accuracy and per-epoch training time for every one of the 15,625 cells; the original
``NAS-Bench-201-v1_*.pth`` is a pickled object graph that needs ``nas_201_api`` (and torch) to
unpickle, which is out of scope; YAHPO's NAS-Bench-201 is a surrogate model, not a table. The
validation split per epoch is the one HPOBench uses: ``x-valid`` for cifar10-valid, ``ori-test``
(validation + test images) for cifar100 and ImageNet16-120, where only those splits are recorded
at every epoch. Only the final epoch has a separate test split, so ``test_error`` is left out.
Columns are the six edges ``1<-0 .. 3<-2`` with the operation's index in :data:`NB201_OPS`.

Categorical and ordinal columns follow the kit's convention (see
:mod:`hpo_kit.blackboxes.mnist_mlp_curves`): a categorical is stored as the index of its choice,
an ordinal numeric hyperparameter by its value (log scale where the values are spaced so).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

# ------------------------------------------------------------------------------------ FCNet
#: (name, values, log scale); activation and schedule are categoricals stored by index
FCNET_SPACE: tuple[tuple[str, tuple, bool], ...] = (
    ("n_units_1", (16, 32, 64, 128, 256, 512), True),
    ("n_units_2", (16, 32, 64, 128, 256, 512), True),
    ("dropout_1", (0.0, 0.3, 0.6), False),
    ("dropout_2", (0.0, 0.3, 0.6), False),
    ("activation_fn_1", ("tanh", "relu"), False),
    ("activation_fn_2", ("tanh", "relu"), False),
    ("init_lr", (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1), True),
    ("lr_schedule", ("cosine", "const"), False),
    ("batch_size", (8, 16, 32, 64), True),
)
FCNET_EPOCHS = 100
FCNET_FILE = "fcnet_{dataset}_data.hdf5"

# ------------------------------------------------------------------------------------ LCBench
#: (name, lower, upper, log) of the hyperparameters LCBench varies (its README's ranges)
LCBENCH_SPACE: tuple[tuple[str, float, float, bool], ...] = (
    ("batch_size", 16, 512, True),
    ("learning_rate", 1e-4, 1e-1, True),
    ("momentum", 0.1, 0.99, False),
    ("weight_decay", 1e-5, 1e-1, False),
    ("num_layers", 1, 5, False),
    ("max_units", 64, 1024, True),
    ("max_dropout", 0.0, 1.0, False),
)

# ------------------------------------------------------------------------------------ NAS-Bench-201
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_EDGES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")
NB201_EPOCHS = 200
NB201_SEEDS = (777, 888, 999)
#: registry dataset name -> (HPOBench file's dataset name, per-epoch validation split)
NB201_FILES = {"cifar10_valid": ("cifar10-valid", "x-valid"), "cifar100": ("cifar100", "ori-test"),
               "imagenet16_120": ("ImageNet16-120", "ori-test")}
NB201_FILE = "NAS-Bench-201-v1_1-096897_{dataset}.json"

_WHERE = {
    "fcnet": ("fcnet_tabular_benchmarks.tar.gz (http://ml4aad.org/wp-content/uploads/2019/01/"
              "fcnet_tabular_benchmarks.tar.gz, linked from github.com/automl/nas_benchmarks); unpack it and pass "
              "the .hdf5 file"),
    "lcbench": ("data_2k.json or data_2k_lw.json from the LCBench figshare project "
                "(https://figshare.com/projects/LCBench/74151, linked from github.com/automl/LCBench)"),
    "nb201": ("nasbench_201_data_v1.3.zip (https://www.automl.org/wp-content/uploads/2020/08/"
              "nasbench_201_data_v1.3.zip, the data of HPOBench's NAS-Bench-201 benchmark); unzip it and pass "
              "the .json file of the dataset"),
}


def download_hint(name: str) -> str:
    """Where a user gets the file of blackbox ``name`` (a sentence)."""
    family = name.split("_", 1)[0]
    if family not in _WHERE:
        return ""
    expected = {"fcnet": FCNET_FILE.format(dataset=name.split("_", 1)[-1]),
                "lcbench": "data_2k.json",
                "nb201": NB201_FILE.format(dataset=NB201_FILES.get(name.split("_", 1)[-1], ("<dataset>",))[0])}[family]
    return f"Expected file: {expected}, from {_WHERE[family]}."


def _resolve(path: Path | str | None, expected_name: str, family: str) -> Path:
    """``path`` as a file (a folder means ``folder / expected_name``); FileNotFoundError saying what is expected."""
    if path is None:
        raise ValueError(f"pass path=<{expected_name}>; get it from {_WHERE[family]}")
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / expected_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; expected {expected_name} from {_WHERE[family]}")
    return path


def _subset(n: int, max_rows: int | None) -> np.ndarray:
    """Rows kept for ``max_rows``: a fixed random subset (seed 0), because the files list configurations
    in a sorted order, whose prefix would not be representative; ascending order keeps it deterministic."""
    if max_rows is not None and max_rows > n:
        # silently using all rows would make the run another one than asked for
        raise ValueError(f"max_rows = {max_rows} is larger than the {n} rows of this table; allowed: 1..{n}, "
                         "or None for all rows")
    if max_rows is None or max_rows == n:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).permutation(n)[:max_rows])


def _table(names, lower, upper, log, X, val_error, epoch_time, test_error=None):
    from hpo_kit.objectives.tabular import LearningCurveTable

    return LearningCurveTable(np.array(names), np.array(lower, dtype=float), np.array(upper, dtype=float),
                              np.array(log, dtype=bool), np.asarray(X, dtype=float), val_error, epoch_time,
                              test_error)


def _check_seed(seed: Any, allowed: tuple[int, ...]) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) not in allowed:
        raise ValueError(f"seed must be one of {list(allowed)}, got {seed!r}")
    return int(seed)


# ------------------------------------------------------------------------------------ FCNet
def _fcnet_row(config: dict[str, Any], key: str, path: Path) -> list[float]:
    names = [name for name, _, _ in FCNET_SPACE]
    if sorted(config) != sorted(names):
        raise ValueError(f"{path}: group {key!r} does not name FCNet's hyperparameters {names}")
    row = []
    for name, values, _ in FCNET_SPACE:
        value = config[name]
        if isinstance(values[0], str):
            if value not in values:
                raise ValueError(f"{path}: group {key!r} has {name}={value!r}; expected one of {list(values)}")
            row.append(float(values.index(value)))
        else:
            if not any(math.isclose(float(value), v) for v in values):
                raise ValueError(f"{path}: group {key!r} has {name}={value!r}; expected one of {list(values)}")
            row.append(float(value))
    return row


def load_fcnet(path: Path | str | None, dataset: str = "protein_structure", max_rows: int | None = None,
               seed: int = 0):
    """FCNet's table for one dataset and one repetition ``seed`` (0..3); see the module docstring."""
    import h5py

    expected = FCNET_FILE.format(dataset=dataset)
    path = _resolve(path, expected, "fcnet")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"{path} is not a readable HDF5 file ({error}); expected {expected}, "
                         f"one group per configuration (JSON key) with valid_mse and runtime") from error
    with handle:
        keys = sorted(handle.keys())
        if not keys:
            raise ValueError(f"{path} holds no configurations; expected one group per configuration (JSON key)")
        n_repeats = None
        keep = _subset(len(keys), max_rows)
        X, val, cost = [], [], []
        for i in keep:
            key = keys[i]
            try:
                config = json.loads(key)
            except json.JSONDecodeError:
                raise ValueError(f"{path}: group name {key!r} is not a configuration in JSON; expected "
                                 "keys like json.dumps(config, sort_keys=True)") from None
            group = handle[key]
            found = {n: group.get(n) for n in ("valid_mse", "runtime")}  # get: one lookup per name
            missing = [n for n, v in found.items() if v is None]
            if missing:
                raise ValueError(f"{path}: group {key!r} lacks {missing}; an FCNet group holds valid_mse "
                                 "(repetitions x epochs), train_mse, runtime (repetitions), final_test_error")
            curves, runtime = np.asarray(found["valid_mse"], float), np.asarray(found["runtime"], float)
            if curves.ndim != 2 or runtime.shape != (curves.shape[0],):
                raise ValueError(f"{path}: group {key!r} has valid_mse {curves.shape} and runtime {runtime.shape}; "
                                 f"expected (repetitions, epochs) and (repetitions,), e.g. (4, {FCNET_EPOCHS}) and (4,)")
            if n_repeats is None:
                n_repeats, n_epochs = curves.shape
                seed = _check_seed(seed, tuple(range(n_repeats)))
            elif curves.shape != (n_repeats, n_epochs):
                raise ValueError(f"{path}: group {key!r} has valid_mse {curves.shape}, others {(n_repeats, n_epochs)}")
            X.append(_fcnet_row(config, key, path))
            val.append(curves[seed])
            cost.append(np.full(n_epochs, runtime[seed] / n_epochs))  # the readers' runtime / 100 per epoch
    names = [name for name, _, _ in FCNET_SPACE]
    lower = [0.0 if isinstance(v[0], str) else min(v) for _, v, _ in FCNET_SPACE]
    upper = [float(len(v) - 1) if isinstance(v[0], str) else max(v) for _, v, _ in FCNET_SPACE]
    log = [lg for _, _, lg in FCNET_SPACE]
    return _table(names, lower, upper, log, X, np.array(val), np.array(cost))


# ------------------------------------------------------------------------------------ LCBench
def _read_json(path: Path, expected: str) -> Any:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); expected {expected}") from error


def load_lcbench(path: Path | str | None, task: str | None = None, max_rows: int | None = None):
    """LCBench's table for the OpenML dataset ``task`` (e.g. ``"Fashion-MNIST"``); see the module docstring."""
    path = _resolve(path, "data_2k.json", "lcbench")
    layout = "{dataset: {config_id: {'config': {...}, 'log': {'epoch', 'time', 'Train/val_accuracy', ...}}}}"
    data = _read_json(path, f"LCBench's layout {layout}")
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path} does not have LCBench's layout {layout}")
    if task is None or task not in data:
        raise ValueError(f"task must name one of the datasets in {path.name}: {sorted(data)}; got {task!r}")
    runs = data[task]
    ids = sorted(runs, key=lambda k: (len(k), k))  # numeric ids as strings: "0", "1", ..., "10", ...
    names = [name for name, _, _, _ in LCBENCH_SPACE]
    X, val, test, cost = [], [], [], []
    n_epochs = None
    for i in _subset(len(ids), max_rows):
        cid = ids[i]
        run = runs[cid]
        where = f"{path}: dataset {task!r}, config {cid!r}"
        try:
            config, log = run["config"], run["log"]
            clock = np.asarray(log["time"], dtype=float)
            val_acc = np.asarray(log["Train/val_accuracy"], dtype=float)
            test_acc = np.asarray(log["Train/test_result"], dtype=float)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: lacks or has malformed {error}; expected 'config' and a 'log' with "
                             "'time', 'Train/val_accuracy' and 'Train/test_result' lists") from None
        if not (clock.ndim == val_acc.ndim == test_acc.ndim == 1 and len(clock) == len(val_acc) == len(test_acc)):
            raise ValueError(f"{where}: the log lists time, Train/val_accuracy, Train/test_result differ in length")
        # LCBench logs one entry before training, one per epoch and a final one (52 = 1 + 50 + 1):
        # keep the epochs; the number of epochs is the cosine schedule's length in the config
        epochs = int(config.get("cosine_annealing_T_max", len(clock) - 2)) if isinstance(config, dict) else 0
        if epochs < 1 or len(clock) < epochs + 1:
            raise ValueError(f"{where}: {len(clock)} log entries cannot hold the entry before training and "
                             f"{epochs} epochs (cosine_annealing_T_max)")
        per_epoch = np.diff(clock[: epochs + 1])  # cumulative seconds; the pre-training entry's time is not paid
        val_acc, test_acc = val_acc[1: epochs + 1], test_acc[1: epochs + 1]
        if np.any(per_epoch < 0):
            raise ValueError(f"{where}: 'time' must be cumulative seconds (non-decreasing)")
        for acc, tag in ((val_acc, "Train/val_accuracy"), (test_acc, "Train/test_result")):
            if np.any((acc < 0) | (acc > 100)):
                raise ValueError(f"{where}: {tag} must be an accuracy in percent (0..100)")
        if n_epochs is None:
            n_epochs = epochs
        elif epochs != n_epochs:
            raise ValueError(f"{where}: {epochs} epochs, other configurations {n_epochs}")
        missing = [n for n in names if n not in config]
        if missing:
            raise ValueError(f"{where}: config lacks {missing}; LCBench varies {names}")
        X.append([float(config[n]) for n in names])
        val.append(1.0 - val_acc / 100.0)
        test.append(1.0 - test_acc / 100.0)
        cost.append(per_epoch)
    X = np.array(X)
    # the documented ranges, widened to the data if a stored value lies (by rounding) just outside
    lower = np.minimum([lo for _, lo, _, _ in LCBENCH_SPACE], X.min(axis=0))
    upper = np.maximum([hi for _, _, hi, _ in LCBENCH_SPACE], X.max(axis=0))
    return _table(names, lower, upper, [lg for *_, lg in LCBENCH_SPACE], X, np.array(val), np.array(cost),
                  np.array(test))


# ------------------------------------------------------------------------------------ NAS-Bench-201
def parse_nb201_arch(arch: str) -> list[int]:
    """``'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'`` -> the operation index of each edge in :data:`NB201_EDGES`."""
    nodes = arch.split("+")
    row: list[int] = []
    if len(nodes) != 3:
        raise ValueError(f"architecture {arch!r} is not a NAS-Bench-201 cell string '|op~0|+|op~0|op~1|+|...|'")
    for i, node in enumerate(nodes, start=1):
        parts = [p for p in node.strip("|").split("|")]
        if len(parts) != i:
            raise ValueError(f"architecture {arch!r}: node {i} must have {i} inputs")
        for j, part in enumerate(parts):
            op, _, source = part.partition("~")
            if op not in NB201_OPS or source != str(j):
                raise ValueError(f"architecture {arch!r}: {part!r} is not '<op>~{j}' with op in {list(NB201_OPS)}")
            row.append(NB201_OPS.index(op))
    return row


def load_nb201(path: Path | str | None, dataset: str = "cifar10_valid", max_rows: int | None = None,
               seed: int = 777):
    """NAS-Bench-201's table for ``dataset`` and training seed ``seed`` (777, 888, 999); see the module docstring."""
    if dataset not in NB201_FILES:
        raise ValueError(f"dataset must be one of {list(NB201_FILES)}, got {dataset!r}")
    file_dataset, split = NB201_FILES[dataset]
    expected = NB201_FILE.format(dataset=file_dataset)
    path = _resolve(path, expected, "nb201")
    layout = ("{seed: {arch: {'train_times': {epoch: s}, 'eval_acc1es': {'" + split + "@<epoch>': %}, ...}}} "
              "(HPOBench's NAS-Bench-201 export)")
    data = _read_json(path, layout)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path} does not have the layout {layout}")
    seeds = tuple(int(s) for s in data if str(s).isdigit())
    seed = _check_seed(seed, seeds)
    archs = data[str(seed)]
    if not isinstance(archs, dict) or not archs:
        raise ValueError(f"{path}: seed {seed} holds no architectures; expected {layout}")
    keys = sorted(archs)
    X, val, cost = [], [], []
    for i in _subset(len(keys), max_rows):
        arch = keys[i]
        record = archs[arch]
        where = f"{path}: seed {seed}, architecture {arch!r}"
        try:
            X.append(parse_nb201_arch(arch))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        try:
            accs, times = record["eval_acc1es"], record["train_times"]
            n = len(times)
            val.append([1.0 - float(accs[f"{split}@{e}"]) / 100.0 for e in range(n)])
            cost.append([float(times[str(e)]) for e in range(n)])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: lacks or has malformed {error}; expected 'train_times' keyed '0'..'199' and "
                             f"'eval_acc1es' keyed '{split}@0'..'{split}@199'") from None
        if len(val[-1]) != len(val[0]):
            raise ValueError(f"{where}: {len(val[-1])} epochs, other architectures {len(val[0])}")
    val_error = np.array(val)
    if np.any((val_error < 0) | (val_error > 1)):
        raise ValueError(f"{path}: eval_acc1es must be accuracies in percent (0..100)")
    d = len(NB201_EDGES)
    return _table(list(NB201_EDGES), [0.0] * d, [float(len(NB201_OPS) - 1)] * d, [False] * d, X, val_error,
                  np.array(cost))
