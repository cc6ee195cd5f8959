"""The kit's larger learning-curve benchmark: 4,096 MNIST MLPs x 81 epochs, measured in shards.

Why this size (the budget arithmetic; see :mod:`hpo_kit.blackboxes.sizing`). In a simulated run the
cost of an epoch is its measured training time ``c`` (CPU seconds, one thread). An asynchronous
successive-halving run with eta = 3 over 1..81 epochs spends a share ``f`` of its ``W * H`` worker
seconds on rung 1 (one epoch per new configuration): 0.27 in theory, 0.21-0.22 measured with the
kit's ASHA; 0.25 is used. So it tries about ``f * W * H / c`` configurations, and a table of ``n``
rows runs out unless ``n >= f * W * H / c``. Measuring ``n`` rows costs ``n * 81 * c`` (plus
evaluation), i.e. at least ``81 * f * W * H`` ~ ``20 * W * H`` CPU seconds *whatever* ``c`` is. For
the paper profile of notebook 04 at 8 workers and 180 s that is about 29,000 CPU seconds (8 CPU
hours) of training, plus about 25 % for evaluating 3,000 images after every epoch.

Measured since (the table in :mod:`hpo_kit.blackboxes.sizing`): ``c`` is 0.165-0.18 s (it depends on
the host's load while a shard was measured), not 0.1 s, and A-BOHB with *stopping* tries rows about
two to three times as fast as ASHA once the table's good rows are used up (share up to 0.63 over
30 seeds). Counting it, the whole design supports 4 workers for about 190 simulated seconds and 8
workers for about 95 s, with 20 % of the rows to spare (all 64 shards, measured 1-2 December 2026:
0.163 CPU s per epoch on average, best final validation error 0.0485).

The design spends that on 4,096 configurations of the shipped table's FCNet-like space
(:data:`hpo_kit.blackboxes.mnist_mlp_curves.HYPERPARAMETERS`) trained on twice its data: 4,000
training images (so ``c`` ~ 0.1 s, twice the shipped table's), 2,000 validation images (halves
the error's resolution step to 0.0005 and shrinks its sampling noise, which decides how "near the
best" a target can be) and 1,000 test images. Doubling the training set rather than the number of
rows keeps the number of trials in a simulated run (and so the cost of model-based searchers, which
grows with their observations) at half of what an 8,192-row table with the shipped sizes would
need, at the same measurement CPU, and halves the evaluation overhead per training second.

Shards: the design's rows ``k * shard_size .. (k + 1) * shard_size - 1`` form shard ``k``, written
(atomically, compressed) to ``<folder>/shard_<k>.npz`` only when all its rows are finished; the
folder's ``manifest.json`` holds the settings, the space, the data's identity (file names and MD5s,
split sizes and seed, a SHA-256 of the split tensors), seeds and library versions. A measurement
resumes from the shards present and refuses other settings, naming the field. The loader uses the
longest run of finished shards from shard 0 (a prefix of the scrambled Sobol design; prefixes
of 2^m rows are balanced) and says how many of how many shards it found.

Errors are stored as integer counts of misclassified images (exact, and compress well) and times
as float32; :func:`load_large_table` returns errors as floats (count / images).

Regenerate or resume (``--processes 2``: two shards side by side, one torch thread each; low priority;
the lead commits finished shards)::

    HPO_KIT_DATA=<folder with the four MNIST .gz files> nohup setsid nice -n 10 \\
        python -m hpo_kit.blackboxes.mnist_mlp_large --processes 2 >> mnist_mlp_4k.log 2>&1 &
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpo_kit.blackboxes import mnist_mlp_curves as mc

NAME = "mnist_mlp_4k"
DEFAULT_FOLDER = mc.DATA_DIR / NAME
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
#: the per-epoch arrays of a shard
CURVE_ARRAYS = ("val_wrong", "test_wrong", "epoch_time", "epoch_cpu_time", "eval_time")


class IncompleteBlackboxWarning(UserWarning):
    """The loaded table is a finished prefix of a measurement still under way."""


@dataclass(frozen=True)
class ShardSettings:
    """What the measurement is (all of it recorded in the manifest and compared on resume)."""

    n_configs: int = 4096  # rows of the scrambled Sobol design (a power of two keeps it balanced)
    shard_size: int = 64  # rows per shard (~10 CPU minutes: little is lost to an interruption)
    max_epochs: int = 81  # 3^4: rungs 1, 3, 9, 27, 81 for eta = 3
    n_train: int = 4000  # stratified MNIST training images (official training set)
    n_val: int = 2000  # validation images (official training set, disjoint from n_train)
    n_test: int = 1000  # test images (official test set)
    data_seed: int = 0  # seed of the stratified subset
    design_seed: int = 0  # seed of the scrambled Sobol design
    train_seed: int = 0  # row i trains with hpo_kit.trial.trial_seed(train_seed, i)
    eval_batch_size: int = 1000  # memory only; does not change results

    def validate(self) -> None:
        mc.MeasurementSettings(self.n_configs, self.max_epochs, self.n_train, self.n_val, self.n_test,
                               self.data_seed, self.design_seed, self.train_seed, self.eval_batch_size).validate()
        if isinstance(self.shard_size, bool) or not isinstance(self.shard_size, (int, np.integer)) \
                or self.shard_size < 1:
            raise ValueError(f"shard_size must be an integer >= 1, got {self.shard_size!r}")
        if self.n_configs % self.shard_size:
            raise ValueError(f"n_configs ({self.n_configs}) must be a multiple of shard_size ({self.shard_size})")

    @property
    def n_shards(self) -> int:
        return self.n_configs // self.shard_size


def shard_path(folder: Path, k: int) -> Path:
    return Path(folder) / f"shard_{k:05d}.npz"


# ------------------------------------------------------------------------------------- provenance
def mnist_identity(settings: ShardSettings, splits) -> dict[str, Any]:
    """The data by identity, never by path: MNIST's files with their MD5s, the split, a digest of it."""
    from hpo_kit.data.mnist import MNIST_MD5

    return {
        "dataset": "MNIST (LeCun, Cortes & Burges), the four official IDX files, each verified by MD5 on load",
        "files_md5": dict(MNIST_MD5),
        "split": (f"stratified (hpo_kit.data.mnist.mnist_splits, seed {settings.data_seed}): train "
                  f"{settings.n_train} + validation {settings.n_val} from the official training set, "
                  f"test {settings.n_test} from the official test set"),
        "split_sha256": splits_digest(splits),
    }


def splits_digest(splits) -> str:
    """SHA-256 (16 hex digits) of the split tensors: same digest, same images and labels."""
    sha = hashlib.sha256()
    for name in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y"):
        array = np.ascontiguousarray(getattr(splits, name).numpy())
        sha.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        sha.update(array.tobytes())
    return sha.hexdigest()[:16]


def _versions() -> dict[str, str]:
    import scipy
    import torch

    return {"torch": torch.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "python": platform.python_version()}


def regenerate_command(settings: ShardSettings, folder: str = f"hpo_kit/blackboxes/data/{NAME}") -> str:
    defaults = asdict(ShardSettings())
    flags = [f"--{k.replace('_', '-')} {v}" for k, v in asdict(settings).items() if v != defaults[k]]
    return ("HPO_KIT_DATA=<folder with the four MNIST .gz files> nohup setsid nice -n 10 "
            f"python -m hpo_kit.blackboxes.mnist_mlp_large --folder {folder} {' '.join(flags)}".rstrip()
            + f" > {NAME}.log 2>&1 &")


def _manifest(settings: ShardSettings, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "benchmark": NAME,
        "format_version": FORMAT_VERSION,
        "description": ("two-hidden-layer MLPs (Adam) on a stratified MNIST subset; validation and test "
                        "errors and training times after every epoch"),
        "settings": asdict(settings),
        "space": mc._space_description(),
        "categorical_encoding": {hp.name: list(hp.choices) for hp in mc.HYPERPARAMETERS if hp.is_categorical},
        "data": data,
        "seeds": {"data": settings.data_seed, "design": settings.design_seed, "train": settings.train_seed,
                  "design_rule": "scipy.stats.qmc.Sobol(d=9, scramble=True, seed=default_rng(design_seed)), "
                                 "decoded by hpo_kit.blackboxes.mnist_mlp_curves.decode_unit",
                  "per_config": "hpo_kit.trial.trial_seed(train_seed, row index)"},
        "timing": ("epoch_time: wall seconds of training only; epoch_cpu_time: CPU seconds of the same "
                   "(one torch thread); eval_time: wall seconds of validation + test evaluation"),
        "stored_as": ("val_wrong / test_wrong: misclassified images (uint16; error = count / n_val or "
                      "n_test); times float32 seconds"),
        "versions": _versions(),
        "cpu_model": mc._cpu_model(),
        "cpu_count": os.cpu_count(),
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "regenerate": regenerate_command(settings),
    }


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_manifest(folder: Path | str) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"no {MANIFEST} in {folder}: no measurement of {NAME} was started there; "
                                f"start one with `python -m hpo_kit.blackboxes.mnist_mlp_large --folder {folder}`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); restore it from version control") from error


def _differences(expected: dict[str, Any], found: dict[str, Any], prefix: str) -> list[str]:
    out = []
    for key in sorted(set(expected) | set(found)):
        if expected.get(key) != found.get(key):
            out.append(f"{prefix}{key}: the folder has {found.get(key)!r}, this run has {expected.get(key)!r}")
    return out


def check_manifest(manifest: dict[str, Any], settings: ShardSettings, data: dict[str, Any] | None,
                   folder: Path) -> None:
    """ValueError naming every field in which ``folder``'s measurement differs from this one."""
    problems = _differences(asdict(settings), manifest.get("settings", {}), "settings.")
    if manifest.get("space") != json.loads(json.dumps(mc._space_description())):
        problems.append("space: the folder's hyperparameter space differs from mnist_mlp_curves.HYPERPARAMETERS")
    if data is not None:
        problems += _differences(data, manifest.get("data", {}), "data.")
    if problems:
        raise ValueError(f"{folder} holds a measurement with other settings; resume it with its own settings "
                         f"or use another folder. Differences: " + "; ".join(problems))


# ------------------------------------------------------------------------------------- measurement
def _write_shard(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays, metadata=np.array(json.dumps(meta)))
    os.replace(tmp, path)  # atomic: a shard file is either absent or complete


def measure_shard(settings: ShardSettings, k: int, splits, X: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
    """Measure the rows of shard ``k``; returns its arrays and metadata."""
    from hpo_kit.trial import trial_seed

    rows = range(k * settings.shard_size, (k + 1) * settings.shard_size)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    reference_before = reference_cpu_seconds(splits)
    cpu0 = time.process_time()
    curves = [mc.measure_config(mc.row_to_config(X[i]), splits, settings.max_epochs,
                                trial_seed(settings.train_seed, i), settings.eval_batch_size) for i in rows]
    n_val, n_test = len(splits.val_y), len(splits.test_y)
    arrays = {
        "rows": np.array(list(rows), dtype=np.int64),
        "X": X[list(rows)],
        # counts are exact: error * n is an integer up to float rounding of the trainer's mean
        "val_wrong": np.rint(np.array([c.val_error for c in curves]) * n_val).astype(np.uint16),
        "test_wrong": np.rint(np.array([c.test_error for c in curves]) * n_test).astype(np.uint16),
        "epoch_time": np.array([c.epoch_time for c in curves], dtype=np.float32),
        "epoch_cpu_time": np.array([c.epoch_cpu_time for c in curves], dtype=np.float32),
        "eval_time": np.array([c.eval_time for c in curves], dtype=np.float32),
    }
    meta = {"shard": k, "rows": [rows.start, rows.stop - 1], "settings": asdict(settings),
            "started_at": started,
            "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "process_cpu_seconds": time.process_time() - cpu0, "versions": _versions(),
            # CPU seconds of one fixed epoch before and after the shard: on a shared machine CPU time is
            # inflated by contention (caches, SMT) by a factor that varies from shard to shard; this
            # reference lets a later analysis rescale each shard's times to a common load
            "reference_cpu_seconds": [reference_before, reference_cpu_seconds(splits)],
            "cpu_model": mc._cpu_model(), "host_load_average": list(os.getloadavg())}
    return arrays, meta


REFERENCE_CONFIG = {"n_units_1": 128, "n_units_2": 128, "dropout_1": 0.1, "dropout_2": 0.1, "activation": "relu",
                    "batch_size": 128, "lr": 1e-3, "lr_schedule": "constant", "weight_decay": 1e-5}


def reference_cpu_seconds(splits, repeats: int = 3) -> float:
    """Median training CPU seconds of one epoch of :data:`REFERENCE_CONFIG` on ``splits`` (a load probe)."""
    times = [mc.measure_config(REFERENCE_CONFIG, splits, 1, seed=0).epoch_cpu_time[0] for _ in range(repeats)]
    return float(np.median(times))


def finished_shards(folder: Path | str, settings: ShardSettings) -> list[int]:
    """Indices of the shard files present and readable (a damaged one is reported and measured again)."""
    done, damaged = _scan_shards(folder, settings)
    for k, error in damaged.items():
        warnings.warn(f"{error}; it will be measured again", stacklevel=2)
    return done


def _scan_shards(folder: Path | str, settings: ShardSettings) -> tuple[list[int], dict[int, str]]:
    """(readable shard indices, {index: why} of shard files present but unreadable)."""
    done, damaged = [], {}
    for k in range(settings.n_shards):
        path = shard_path(Path(folder), k)
        if not path.exists():
            continue
        try:
            _read_shard(path, settings)
        except ValueError as error:
            damaged[k] = str(error)
            continue
        done.append(k)
    return done, damaged


def measure_shards(settings: ShardSettings, folder: Path | str, splits=None, data: dict[str, Any] | None = None,
                   max_shards: int | None = None, max_minutes: float | None = None,
                   log=print, n_processes: int = 1) -> list[int]:
    """Measure the missing shards in order (resume: finished shards are never redone).

    ``splits=None`` loads full MNIST (no fallback sample) with the settings' sizes; ``data`` is the
    data's identity for the manifest (default: :func:`mnist_identity`). Stops after ``max_shards``
    new shards or after the shard during which ``max_minutes`` passed. Returns the shards written.
    ``n_processes > 1`` measures that many shards side by side, one thread per process; this process
    keeps the folder's lock and writes every shard, so a shard file is still either absent or complete.
    """
    from hpo_kit.train.threads import ensure_threads_limited

    settings.validate()
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be None or a number > 0, got {max_minutes!r}")
    if max_shards is not None and (isinstance(max_shards, bool) or not isinstance(max_shards, int) or max_shards < 1):
        raise ValueError(f"max_shards must be None or an integer >= 1, got {max_shards!r}")
    if isinstance(n_processes, bool) or not isinstance(n_processes, int) or n_processes < 1:
        raise ValueError(f"n_processes must be an integer >= 1, got {n_processes!r}")
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if manifest_path.exists():  # refuse other settings before loading any data
        check_manifest(read_manifest(folder), settings, None, folder)
    ensure_threads_limited()
    if splits is None:
        from hpo_kit.data import mnist_splits

        splits = mnist_splits(settings.n_train, settings.n_val, settings.n_test, settings.data_seed,
                              allow_fallback=False)
    if (len(splits.train_y), len(splits.val_y), len(splits.test_y)) != (settings.n_train, settings.n_val, settings.n_test):
        raise ValueError(f"splits have {len(splits.train_y)}/{len(splits.val_y)}/{len(splits.test_y)} images, "
                         f"settings say {settings.n_train}/{settings.n_val}/{settings.n_test}")
    data = data if data is not None else mnist_identity(settings, splits)
    folder.mkdir(parents=True, exist_ok=True)
    if manifest_path.exists():
        check_manifest(read_manifest(folder), settings, data, folder)
    else:
        _atomic_write_text(manifest_path, json.dumps(_manifest(settings, data), indent=1) + "\n")
    lock = _lock(manifest_path)  # held until this function returns (one measurement per folder)
    X = mc.sobol_design(settings.n_configs, settings.design_seed)
    done = set(finished_shards(folder, settings))
    todo = [k for k in range(settings.n_shards) if k not in done]
    log(f"{NAME}: {len(done)} of {settings.n_shards} shards present in {folder.name}/, {len(todo)} to measure")
    written: list[int] = []
    started = time.perf_counter()

    def finish(k: int, arrays: dict[str, np.ndarray], meta: dict, wall: float) -> bool:
        """Write shard ``k``; True when the run should stop starting new shards."""
        _write_shard(shard_path(folder, k), arrays, meta)
        written.append(k)
        log(f"{NAME}: shard {k} written ({len(done) + len(written)} of {settings.n_shards}); "
            f"{wall:.0f} s wall, {meta['process_cpu_seconds']:.0f} s CPU, "
            f"training CPU {float(arrays['epoch_cpu_time'].sum()):.0f} s; best final validation error "
            f"{arrays['val_wrong'][:, -1].min() / settings.n_val:.4f}")
        return ((max_shards is not None and len(written) >= max_shards)
                or (max_minutes is not None and time.perf_counter() - started >= 60.0 * max_minutes))

    try:
        if n_processes == 1:
            for k in todo:
                t0 = time.perf_counter()
                arrays, meta = measure_shard(settings, k, splits, X)
                if finish(k, arrays, meta, time.perf_counter() - t0):
                    break
        else:
            _measure_in_parallel(settings, todo, splits, X, n_processes, finish, max_shards)
    finally:
        lock.close()
    return written


def _measure_in_parallel(settings, todo, splits, X, n_processes, finish, max_shards) -> None:
    """Keep ``n_processes`` shards in flight; write each as it finishes (in any order: the loader reads
    the finished prefix, and a later run fills the gaps)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from hpo_kit.parallel import process_pool

    queue = list(todo)
    if max_shards is not None:
        queue = queue[:max_shards]
    with process_pool(min(n_processes, max(len(queue), 1))) as pool:
        running = {}
        stop = False
        try:
            while queue or running:
                while queue and not stop and len(running) < n_processes:
                    k = queue.pop(0)
                    running[pool.submit(measure_shard, settings, k, splits, X)] = (k, time.perf_counter())
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    k, t0 = running.pop(future)
                    arrays, meta = future.result()
                    stop = finish(k, arrays, meta, time.perf_counter() - t0) or stop
        except BaseException:
            for future in running:
                future.cancel()
            raise


def _lock(manifest_path: Path):
    """An exclusive advisory lock on the manifest: a second process on the same folder stops at once
    instead of measuring the same shards twice (the lock goes with the process; no file is left)."""
    handle = manifest_path.open("rb")
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # pragma: no cover - not POSIX: no protection, as before
        pass
    except OSError:
        handle.close()
        raise RuntimeError(f"another process is measuring into {manifest_path.parent} (it holds the lock on "
                           f"{manifest_path.name}); let it finish or stop it first") from None
    return handle


# ------------------------------------------------------------------------------------- loading
def _read_shard(path: Path, settings: ShardSettings) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as error:  # zip, zlib, EOF, ... : any damage means "not finished"
        raise ValueError(f"cannot read shard {path.name}: {type(error).__name__}: {error}") from error
    k = int(path.stem.split("_")[1])
    expected_rows = np.arange(k * settings.shard_size, (k + 1) * settings.shard_size)
    shape = (settings.shard_size, settings.max_epochs)
    missing = [n for n in ("rows", "X", *CURVE_ARRAYS, "metadata") if n not in arrays]
    if missing:
        raise ValueError(f"shard {path.name} lacks the arrays {missing}")
    if not np.array_equal(arrays["rows"], expected_rows) or any(arrays[n].shape != shape for n in CURVE_ARRAYS):
        raise ValueError(f"shard {path.name} does not hold rows {expected_rows[0]}..{expected_rows[-1]} x "
                         f"{settings.max_epochs} epochs")
    if json.loads(str(arrays["metadata"])).get("settings") != asdict(settings):
        raise ValueError(f"shard {path.name} was measured with other settings than {MANIFEST}")
    return arrays


@dataclass(frozen=True)
class ShardStatus:
    n_shards: int  # shards of the full design
    present: tuple[int, ...]  # shard files present and readable
    prefix: int  # finished shards 0 .. prefix - 1 (what the loader uses)
    n_configs: int  # rows the loader returns (prefix * shard_size)
    n_configs_total: int
    damaged: tuple[tuple[int, str], ...] = ()  # (index, why) of shard files present but unreadable

    def describe(self) -> str:
        return (f"{NAME}: {self.prefix} of {self.n_shards} shards ({self.n_configs} of {self.n_configs_total} "
                f"configurations) loaded" + ("" if len(self.present) == self.prefix else
                                             f"; {len(self.present) - self.prefix} later shards wait for a gap"))


def shard_status(folder: Path | str | None = None) -> ShardStatus:
    folder = Path(folder) if folder is not None else DEFAULT_FOLDER
    settings = ShardSettings(**read_manifest(folder)["settings"])
    present, damaged = _scan_shards(folder, settings)
    prefix = 0
    while prefix in present:
        prefix += 1
    return ShardStatus(settings.n_shards, tuple(present), prefix, prefix * settings.shard_size, settings.n_configs,
                       tuple(sorted(damaged.items())))


def load_large_table(path: Path | str | None = None, cost: str = "cpu", max_rows: int | None = None,
                     min_shards: int | None = None):
    """The finished prefix of the measurement as a :class:`~hpo_kit.objectives.tabular.LearningCurveTable`.

    ``path`` is the shard folder (default: the shipped one). ``cost`` ``"cpu"`` or ``"wall"`` as in
    :func:`hpo_kit.blackboxes.mnist_mlp_curves.load_table`. Warns with
    :class:`IncompleteBlackboxWarning` (saying how many of how many shards) unless every shard is there;
    ``min_shards`` makes fewer finished shards an error.
    """
    from hpo_kit.objectives.tabular import LearningCurveTable

    if cost not in mc.COSTS:
        raise ValueError(f"cost must be one of {mc.COSTS}, got {cost!r}")
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
        raise ValueError(f"max_rows must be None or an integer >= 1, got {max_rows!r}")
    folder = Path(path) if path is not None else DEFAULT_FOLDER
    manifest = read_manifest(folder)
    settings = ShardSettings(**manifest["settings"])
    status = shard_status(folder)
    if status.damaged:
        # A damaged file is not a measurement under way: loading the prefix before it would shrink
        # the table silently (to 192 of 4,096 rows for shard 3), and every later check would blame
        # something else (notebook 04 blamed horizon_s).
        which = "; ".join(why for _, why in status.damaged)
        raise ValueError(f"{NAME} in {folder}: {len(status.damaged)} shard file(s) are damaged ({which}). Restore "
                         "them from version control (git checkout -- <file>), or delete them and measure them "
                         f"again with: {manifest.get('regenerate', '')}")
    if status.prefix == 0:
        raise ValueError(f"{NAME} in {folder}: no finished shard yet (0 of {status.n_shards}); "
                         f"the measurement is resumed with: {manifest.get('regenerate', '')}")
    if min_shards is not None and status.prefix < min_shards:
        raise ValueError(f"{status.describe()}; min_shards={min_shards} asked for more")
    if status.prefix < status.n_shards:
        warnings.warn(status.describe() + " — the measurement is not finished", IncompleteBlackboxWarning,
                      stacklevel=2)
    shards = [_read_shard(shard_path(folder, k), settings) for k in range(status.prefix)]

    def stack(name: str) -> np.ndarray:
        return np.concatenate([s[name] for s in shards]).astype(np.float64)

    X = np.concatenate([s["X"] for s in shards])
    time_name = "epoch_cpu_time" if cost == "cpu" else "epoch_time"
    hps = mc.HYPERPARAMETERS
    table = LearningCurveTable(
        np.array(mc.NAMES), np.array([float(h.lower) for h in hps]), np.array([float(h.upper) for h in hps]),
        np.array([h.log for h in hps]), X, stack("val_wrong") / settings.n_val, stack(time_name),
        stack("test_wrong") / settings.n_test)
    if max_rows is not None and max_rows > table.n_configs:
        raise ValueError(f"max_rows = {max_rows} is larger than the {table.n_configs} rows of {NAME} "
                         f"({status.describe()}); allowed: 1..{table.n_configs}, or None for all rows")
    if max_rows is not None and max_rows < table.n_configs:
        table = LearningCurveTable(table.names, table.lower, table.upper, table.log, table.X[:max_rows],
                                   table.val_error[:max_rows], table.epoch_time[:max_rows],
                                   table.test_error[:max_rows])
    return table


# ------------------------------------------------------------------------------------- sizing
from hpo_kit.blackboxes.sizing import SHARES, WORST_SHARE, supported_horizon  # noqa: E402  (the design's arithmetic)


def report(folder: Path | str | None = None, n_workers: tuple[int, ...] = (4, 8), horizons: tuple[float, ...] = (60, 150, 180)) -> str:
    """A plain-text summary of the finished prefix: measurement rate, per-epoch cost, how hard the quantile
    targets are (:func:`hpo_kit.blackboxes.sizing.target_report`) and the horizons the full design supports."""
    from hpo_kit.blackboxes.sizing import target_report

    folder = Path(folder) if folder is not None else DEFAULT_FOLDER
    status = shard_status(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteBlackboxWarning)
        table = load_large_table(folder)
    settings = ShardSettings(**read_manifest(folder)["settings"])
    cpu = []
    for k in range(status.prefix):
        with np.load(shard_path(folder, k), allow_pickle=False) as data:
            cpu.append(json.loads(str(data["metadata"]))["process_cpu_seconds"])
    c = float(table.epoch_time.mean())
    per_config = sum(cpu) / table.n_configs
    lines = [status.describe(),
             f"distinct rows: {np.unique(table.X, axis=0).shape[0]} of {table.n_configs}",
             f"mean per-epoch training CPU c = {c:.4f} s; measurement CPU per configuration {per_config:.1f} s "
             f"(training + evaluation) -> all {settings.n_configs}: {per_config * settings.n_configs / 3600:.1f} CPU h, "
             f"{per_config * (settings.n_configs - table.n_configs) / 3600:.1f} CPU h to go",
             f"best final validation error {np.nanmin(table.val_error[:, -1]):.4f}, median {np.nanmedian(table.val_error[:, -1]):.4f}",
             "targets (quantiles of the final errors) and the share of rows at or below them after e epochs:"]
    for row in target_report(table):
        shares = ", ".join(f"e={k.split('_')[-1]}: {v:.3f}" for k, v in row.items() if k.startswith("share_at_"))
        lines.append(f"  q={row['quantile']:<6g} target {row['target']:.4f} (best + {row['gap_to_best']:.4f}); {shares}")
    fastest = max(SHARES, key=SHARES.get)
    for w in n_workers:
        tried = ", ".join(f"{h:g} s: {WORST_SHARE * w * h / c:.0f}" for h in horizons)
        lines.append(f"{w} workers: rows tried by {fastest} (share {WORST_SHARE}) at {tried}; supported horizon "
                     f"(80 % of rows) {supported_horizon(settings.n_configs, c, w):.0f} s with all "
                     f"{settings.n_configs} rows, {supported_horizon(table.n_configs, c, w):.0f} s with the "
                     f"{table.n_configs} present")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpo_kit.blackboxes.mnist_mlp_large",
                                     description=f"Measure (or resume) the {NAME} shards; see the module docstring.")
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="shard folder (committed)")
    for name, value in asdict(ShardSettings()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=value, help=f"default {value}")
    parser.add_argument("--max-shards", type=int, default=None, help="stop after this many new shards")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after the shard during which "
                                                                         "this many minutes passed")
    parser.add_argument("--processes", type=int, default=1,
                        help="shards measured side by side, one thread each (default 1; at most the cores)")
    parser.add_argument("--status", action="store_true", help="print how many shards are finished and exit")
    parser.add_argument("--report", action="store_true",
                        help="print the finished prefix's costs, targets and supported horizons, and exit")
    args = parser.parse_args(argv)
    if args.status:
        print(shard_status(args.folder).describe())
        return 0
    if args.report:
        print(report(args.folder))
        return 0
    settings = ShardSettings(**{k: getattr(args, k) for k in asdict(ShardSettings())})
    from hpo_kit.train.threads import limit_torch_threads

    limit_torch_threads(1)
    measure_shards(settings, args.folder, max_shards=args.max_shards, max_minutes=args.max_minutes,
                   n_processes=args.processes,
                   log=lambda m: print(f"[{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M:%S}] {m}", flush=True))
    print(shard_status(args.folder).describe(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
