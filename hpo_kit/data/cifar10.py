"""CIFAR-10 as in-memory tensors, from files the user provides (downloading is an explicit opt-in).

Where the files are looked for: the ``data_dir`` argument, else ``hpo_kit.paths.data_dir("cifar10")``
(``$HPO_KIT_DATA_ROOT/cifar10``, else ``~/.cache/hpo_kit/cifar10``). Either of these is accepted:

* the python-version archive ``cifar-10-python.tar.gz`` (read directly, no need to extract), or
* its extracted batches ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, in the folder
  itself or in its sub-folder ``cifar-10-batches-py/``.

Every file is checked against its MD5 before it is read. The batches are Python pickles; they are
read with an unpickler that only accepts plain numpy arrays, lists and strings, so a foreign file
cannot run code. :func:`download_cifar10` fetches the archive from the official site when asked.
"""
from __future__ import annotations

import io
import numbers
import pickle
import tarfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpo_kit import paths
from hpo_kit.data.download import download_file, verify_md5
from hpo_kit.data.splits import Splits
from hpo_kit.data.stratify import train_val_test_indices

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_FOLDER = "cifar-10-batches-py"  # the folder inside the archive
TRAIN_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
TEST_BATCH = "test_batch"
#: MD5 of each extracted batch of the official archive.
CIFAR10_BATCH_MD5: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
#: Per-channel pixel mean and standard deviation of the 50,000 training images (pixels in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
FULL_TRAIN_SIZE = 50_000
FULL_TEST_SIZE = 10_000


@dataclass(frozen=True)
class Cifar10Arrays:
    """Raw CIFAR-10 as read from disk (read-only arrays, shared by an in-process cache)."""

    train_images: np.ndarray  # uint8, N x 3 x 32 x 32 (RGB planes)
    train_labels: np.ndarray  # int64, N, classes 0..9 (see CLASSES)
    test_images: np.ndarray  # uint8, M x 3 x 32 x 32
    test_labels: np.ndarray  # int64, M
    source: str  # in words: which files were read


_CACHE: dict[tuple, Cifar10Arrays] = {}
_CACHE_LOCK = threading.Lock()


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR-10 batches contain: dicts, lists, bytes/str and numpy arrays."""

    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR-10 batch refers to {module}.{name}, which a data file never needs")


def _parse_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 N x 3 x 32 x 32) and labels (int64 N) of one pickled batch."""
    try:
        batch = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as err:
        raise ValueError(f"{name} is not a CIFAR-10 python batch: {err}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{name} is not a CIFAR-10 python batch (expected a dict, got {type(batch).__name__})")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{name} lacks the 'data' or 'labels' entry of a CIFAR-10 batch")
    images = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{name}: expected uint8 data of shape N x 3072, got {images.dtype} {images.shape}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"{name}: {images.shape[0]} images but {labels.shape[0]} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{name}: labels must be classes 0..9")
    return images.reshape(-1, 3, 32, 32), labels


def _how_to_provide(folder: Path) -> str:
    return (f"Put {CIFAR10_ARCHIVE} (the python version, from {CIFAR10_URL}), or its extracted "
            f"{', '.join(TRAIN_BATCHES)} and {TEST_BATCH}, in {folder} (or set HPO_KIT_DATA_ROOT, or pass "
            f"data_dir=...); or call hpo_kit.data.cifar10.download_cifar10() to fetch the archive (about 170 MB).")


def _find_extracted(folder: Path) -> Path | None:
    for candidate in (folder, folder / CIFAR10_FOLDER):
        if all((candidate / name).is_file() for name in (*TRAIN_BATCHES, TEST_BATCH)):
            return candidate
    return None


def _read_archive(archive: Path, archive_md5: str) -> dict[str, bytes]:
    verify_md5(archive, archive_md5, advice="Delete it and provide the official archive again.")
    wanted = {f"{CIFAR10_FOLDER}/{name}": name for name in (*TRAIN_BATCHES, TEST_BATCH)}
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    contents[wanted[member.name]] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ValueError(f"{archive} is not a readable .tar.gz archive: {err}") from None
    missing = [name for name in wanted.values() if name not in contents]
    if missing:
        raise ValueError(f"{archive} lacks {', '.join(f'{CIFAR10_FOLDER}/{m}' for m in missing)}")
    return contents


def load_cifar10(data_dir: str | Path | None = None, *, archive_md5: str = CIFAR10_ARCHIVE_MD5,
                 batch_md5: Mapping[str, str] = CIFAR10_BATCH_MD5) -> Cifar10Arrays:
    """Raw CIFAR-10 arrays from extracted batches or the archive in ``data_dir`` (see module doc).

    Extracted batches are preferred when both are present. ``archive_md5`` and ``batch_md5`` exist
    so tests can use small fake files. Raises ``FileNotFoundError`` saying where to put the files,
    ``hpo_kit.data.download.ChecksumError`` for a file with the wrong MD5.
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else paths.data_dir("cifar10")
    missing_md5 = [name for name in (*TRAIN_BATCHES, TEST_BATCH) if name not in batch_md5]
    if missing_md5:
        raise ValueError(f"batch_md5 must give an MD5 for every batch; missing: {missing_md5}")
    extracted = _find_extracted(folder)
    archive = folder / CIFAR10_ARCHIVE
    if extracted is not None:
        files = [extracted / name for name in (*TRAIN_BATCHES, TEST_BATCH)]
        key: tuple = ("batches", *((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files),
                      tuple(sorted(batch_md5.items())))
        described = "the 6 extracted batches of the official archive, each MD5 verified"
    elif archive.is_file():
        stat = archive.stat()
        key = ("archive", str(archive.resolve()), stat.st_size, stat.st_mtime_ns, archive_md5)
        described = f"the official archive {CIFAR10_ARCHIVE}, MD5 {archive_md5}"
    else:
        raise FileNotFoundError(f"CIFAR-10 not found in {folder}. {_how_to_provide(folder)}")

    with _CACHE_LOCK:
        if key not in _CACHE:
            if extracted is not None:
                contents = {}
                for name in (*TRAIN_BATCHES, TEST_BATCH):
                    path = extracted / name
                    verify_md5(path, batch_md5[name], advice="Replace it with the file from the official archive.")
                    contents[name] = path.read_bytes()
            else:
                contents = _read_archive(archive, archive_md5)
            parts = [_parse_batch(contents[name], name) for name in TRAIN_BATCHES]
            train_images = np.concatenate([p[0] for p in parts])
            train_labels = np.concatenate([p[1] for p in parts])
            test_images, test_labels = _parse_batch(contents[TEST_BATCH], TEST_BATCH)
            for array in (train_images, train_labels, test_images, test_labels):
                array.flags.writeable = False
            # data named by what it is and its checksums, never by a folder of this machine
            source = (f"CIFAR-10 ({len(train_labels):,} training + {len(test_labels):,} test images) "
                      f"from {described}")
            _CACHE[key] = Cifar10Arrays(train_images, train_labels, test_images, test_labels, source)
        return _CACHE[key]


def normalise_images(images: np.ndarray) -> torch.Tensor:
    """uint8 N x 3 x 32 x 32 -> float32, scaled to [0, 1] and standardised per channel."""
    mean = np.asarray(CIFAR10_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(CIFAR10_STD, dtype=np.float32).reshape(1, 3, 1, 1)
    return torch.from_numpy((images.astype(np.float32) / np.float32(255.0) - mean) / std)


def _check_size(name: str, value: object, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= maximum:
        raise ValueError(f"{name} must be an integer in [1, {maximum:,}], got {value!r}")
    return int(value)


def cifar10_splits(n_train: int, n_val: int, n_test: int, seed: int, *, data_dir: str | Path | None = None,
                   archive_md5: str = CIFAR10_ARCHIVE_MD5,
                   batch_md5: Mapping[str, str] = CIFAR10_BATCH_MD5) -> Splits:
    """Stratified, disjoint train/validation/test tensors of the requested sizes, fixed by ``seed``.

    Train and validation come from the 50,000 training images, test from the 10,000 test images.
    Images are float32 ``N x 3 x 32 x 32``, standardised with the training set's channel statistics.
    """
    n_train = _check_size("n_train", n_train, FULL_TRAIN_SIZE)
    n_val = _check_size("n_val", n_val, FULL_TRAIN_SIZE)
    n_test = _check_size("n_test", n_test, FULL_TEST_SIZE)
    if n_train + n_val > FULL_TRAIN_SIZE:
        raise ValueError(f"n_train + n_val must be <= {FULL_TRAIN_SIZE:,} (the CIFAR-10 training set), "
                         f"got {n_train} + {n_val} = {n_train + n_val}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    data = load_cifar10(data_dir, archive_md5=archive_md5, batch_md5=batch_md5)
    index = train_val_test_indices(data.train_labels, data.test_labels, n_train, n_val, n_test, seed, data.source)
    source = (f"{data.source}; stratified split (seed {seed}): train {n_train:,} + validation {n_val:,} from "
              f"the training batches, test {n_test:,} from the test batch")
    return Splits(
        train_x=normalise_images(data.train_images[index["train"]]),
        train_y=torch.from_numpy(data.train_labels[index["train"]].copy()),
        val_x=normalise_images(data.train_images[index["val"]]),
        val_y=torch.from_numpy(data.train_labels[index["val"]].copy()),
        test_x=normalise_images(data.test_images[index["test"]]),
        test_y=torch.from_numpy(data.test_labels[index["test"]].copy()),
        source=source,
        n_classes=10,
    )


def download_cifar10(data_dir: str | Path | None = None, *, url: str = CIFAR10_URL,
                     archive_md5: str = CIFAR10_ARCHIVE_MD5, timeout: float = 60.0, retries: int = 2) -> Path:
    """Fetch the python-version archive into ``data_dir`` (explicit opt-in; about 170 MB) and return its path.

    Nothing happens if an archive with the right MD5 is already there; a corrupt one raises
    :class:`hpo_kit.data.download.ChecksumError` instead of being silently replaced.
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else paths.data_dir("cifar10")
    target = folder / CIFAR10_ARCHIVE
    if target.is_file():
        verify_md5(target, archive_md5, advice="Delete it and call download_cifar10() again.")
        return target
    base, filename = url.rsplit("/", 1)
    if filename != CIFAR10_ARCHIVE:
        raise ValueError(f"url must end in /{CIFAR10_ARCHIVE}, got {url!r}")
    download_file(CIFAR10_ARCHIVE, archive_md5, folder, [base + "/"], timeout=timeout, retries=retries)
    return target


__all__ = [
    "CIFAR10_ARCHIVE", "CIFAR10_ARCHIVE_MD5", "CIFAR10_BATCH_MD5", "CIFAR10_MEAN", "CIFAR10_STD", "CIFAR10_URL",
    "CLASSES", "Cifar10Arrays", "cifar10_splits", "download_cifar10", "load_cifar10", "normalise_images",
]
