"""Deterministic stratified subsets of a labelled data set (any data set: MNIST, CIFAR-10, ...).

How the split works: shuffle each class with the seed, give the k-th member of a class of size n_c
the key (k + 0.5) / n_c, and sort all samples by key (random tie-break between classes). In this
order every class is spread evenly, so *any* run of consecutive samples holds each class in
proportion to its frequency (within about one sample). Cutting the order into consecutive pieces of
the requested sizes therefore gives disjoint subsets that are all stratified, for any sizes that fit.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np


def _check_size(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"size {name!r} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"size {name!r} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def stratified_order(labels: np.ndarray, seed: int) -> np.ndarray:
    """A permutation of ``range(len(labels))`` in which every class is spread evenly (see module doc)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D array, got shape {labels.shape}")
    rng = np.random.default_rng(_check_seed(seed))
    keys = np.empty(len(labels), dtype=np.float64)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        keys[members] = (np.arange(counts[c]) + 0.5) / counts[c]
    tie_break = rng.random(len(labels))
    return np.lexsort((tie_break, keys))  # sorts by keys, ties by the random tie_break


def stratified_split(labels: np.ndarray, sizes: Mapping[str, int], seed: int) -> dict[str, np.ndarray]:
    """Disjoint, stratified index arrays of the requested sizes, deterministic in ``seed``.

    ``sizes`` maps a subset name to its size, e.g. ``{"train": 1000, "val": 200}``; the sizes may
    add up to at most ``len(labels)``. Each returned index array is in random (seeded) order.
    """
    labels = np.asarray(labels)
    checked = {name: _check_size(name, value, minimum=0) for name, value in sizes.items()}
    total = sum(checked.values())
    if total > len(labels):
        raise ValueError(
            f"sizes {checked} add up to {total}, more than the {len(labels)} labelled samples available"
        )
    order = stratified_order(labels, seed)
    # A second generator (seeded differently) shuffles inside each subset, so that consecutive
    # samples of a subset do not cycle through the classes in the stratified order.
    shuffle_rng = np.random.default_rng([_check_seed(seed), 1])
    subsets: dict[str, np.ndarray] = {}
    start = 0
    for name, size in checked.items():
        subsets[name] = shuffle_rng.permutation(order[start:start + size])
        start += size
    return subsets


def train_val_test_indices(train_labels: np.ndarray, test_labels: np.ndarray, n_train: int, n_val: int,
                           n_test: int, seed: int, where: str) -> dict[str, np.ndarray]:
    """Indices of a dataset with an official train/test division: stratified train and validation
    subsets of the official training set, a stratified test subset of the official test set.

    ``where`` names the files in errors (sizes beyond what they hold only happen with non-standard
    files, e.g. small files written by tests).
    """
    if n_train + n_val > len(train_labels):
        raise ValueError(f"n_train + n_val = {n_train + n_val} exceeds the {len(train_labels)} training "
                         f"images in {where}")
    if n_test > len(test_labels):
        raise ValueError(f"n_test = {n_test} exceeds the {len(test_labels)} test images in {where}")
    index = stratified_split(train_labels, {"train": n_train, "val": n_val}, seed)
    index.update(stratified_split(test_labels, {"test": n_test}, seed))
    return index


def scale_sizes(sizes: Mapping[str, int], available: int) -> dict[str, int]:
    """Shrink ``sizes`` proportionally so they add up to ``available`` (unchanged if they fit).

    Rounding uses largest remainders, so the result adds up exactly to ``available``; every
    subset keeps at least one sample when ``available`` allows it.
    """
    checked = {name: _check_size(name, value, minimum=0) for name, value in sizes.items()}
    total = sum(checked.values())
    if total <= available:
        return checked
    shares = {name: value * available / total for name, value in checked.items()}
    scaled = {name: int(np.floor(share)) for name, share in shares.items()}
    leftover = available - sum(scaled.values())
    for name in sorted(shares, key=lambda n: shares[n] - scaled[n], reverse=True)[:leftover]:
        scaled[name] += 1
    # Do not let a small requested subset vanish: take a sample from the largest one instead.
    for name, value in checked.items():
        if value > 0 and scaled[name] == 0:
            donor = max(scaled, key=scaled.get)
            if scaled[donor] > 1:
                scaled[donor] -= 1
                scaled[name] = 1
    return scaled
