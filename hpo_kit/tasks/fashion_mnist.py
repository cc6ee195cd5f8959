"""Fashion-MNIST (Xiao et al. 2017) with MNIST's conventions: same four IDX file names, MD5 check,
mirrors, atomic download (:func:`hpo_kit.data.download.download_file` via
:func:`hpo_kit.data.mnist.load_mnist`), into ``hpo_kit.paths.data_dir("fashion_mnist")`` (the user
cache, or ``$HPO_KIT_DATA_ROOT/fashion_mnist``). There is no offline fallback: when the files are
missing and cannot be downloaded, :func:`fashion_task_error` says which files to put where.

``load_fashion_mnist(data_dir=None, *, download=True, mirrors=None, checksums=None, timeout=30.0)
-> MnistArrays`` whose ``source`` names the files by MD5 (never by path).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from hpo_kit import paths

FASHION_MD5: dict[str, str] = {  # the official release (github.com/zalandoresearch/fashion-mnist)
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)


def fashion_dir() -> Path:
    return paths.data_dir("fashion_mnist")


def load_fashion_mnist(data_dir: str | Path | None = None, *, download: bool = True,
                       mirrors: Sequence[str] | None = None, checksums: Mapping[str, str] | None = None,
                       timeout: float = 30.0):
    """The four Fashion-MNIST files as :class:`hpo_kit.data.mnist.MnistArrays` (no fallback)."""
    from hpo_kit.data.mnist import load_mnist

    checksums = dict(checksums or FASHION_MD5)
    folder = Path(data_dir).expanduser() if data_dir is not None else fashion_dir()
    arrays = load_mnist(folder, download=download, allow_fallback=False, mirrors=tuple(mirrors or FASHION_MIRRORS),
                        checksums=checksums, timeout=timeout)
    official = checksums == FASHION_MD5
    files = ", ".join(f"{name.split('-')[0]}-{name.split('-')[1]} {md5[:8]}" for name, md5 in checksums.items())
    source = (f"Fashion-MNIST, {'official' if official else 'NON-official (test or custom)'} IDX files "
              f"(MD5 {files}): {len(arrays.train_labels):,} training + {len(arrays.test_labels):,} test images")
    return dataclasses.replace(arrays, source=source)


def fashion_identity(arrays) -> str:
    return arrays.source


def fashion_task_error(task: str, error: BaseException) -> OSError:
    """The error a Fashion-MNIST task raises when its files are missing or corrupt."""
    names = ", ".join(FASHION_MD5)
    return FileNotFoundError(
        f"task {task!r} needs Fashion-MNIST, which is not available: {error}\n"
        f"Provide it by putting the four files ({names}) from "
        f"https://github.com/zalandoresearch/fashion-mnist (data/fashion) into {fashion_dir()} "
        f"(or a folder 'fashion_mnist' under $HPO_KIT_DATA_ROOT), or run once with network access "
        f"(download=True), or choose an offline task such as 'cnn_mnist'.")
