"""Tiny synthetic MNIST-format files, for tests that must not depend on the real download.

Each image carries its own index in its first two pixels (low byte, high byte), so a test can tell
which source images ended up in which split after normalisation.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hpo_kit.data.download import md5_of
from hpo_kit.data.idx import write_idx_gz


def fake_mnist_arrays(n: int, seed: int, *, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 28 x 28 images with ids ``offset..offset+n-1`` and imbalanced digit labels."""
    rng = np.random.default_rng(seed)
    weights = np.arange(1, 11, dtype=np.float64)  # class 9 is ten times as common as class 0
    labels = rng.choice(10, size=n, p=weights / weights.sum()).astype(np.uint8)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    ids = np.arange(offset, offset + n)
    images[:, 0, 0] = ids % 256
    images[:, 0, 1] = ids // 256
    return images, labels


def image_ids(images: np.ndarray) -> np.ndarray:
    """Recover the ids written by :func:`fake_mnist_arrays` from uint8 images ``N x 28 x 28``."""
    return images[:, 0, 0].astype(np.int64) + 256 * images[:, 0, 1].astype(np.int64)


def write_fake_mnist(folder: str | Path, n_train: int = 600, n_test: int = 200, seed: int = 0) -> dict[str, str]:
    """Write the four MNIST file names with synthetic content; returns file name -> MD5.

    Test images get ids after the training ids, so every image in the folder is unique.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = fake_mnist_arrays(n_train, seed)
    test_images, test_labels = fake_mnist_arrays(n_test, seed + 1, offset=n_train)
    contents = {
        "train-images-idx3-ubyte.gz": train_images,
        "train-labels-idx1-ubyte.gz": train_labels,
        "t10k-images-idx3-ubyte.gz": test_images,
        "t10k-labels-idx1-ubyte.gz": test_labels,
    }
    for name, array in contents.items():
        write_idx_gz(folder / name, array)
    return {name: md5_of(folder / name) for name in contents}
